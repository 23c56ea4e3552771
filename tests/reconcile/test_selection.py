"""§615 county audit selection: once per four years, never twice within four, reproducible."""

import datetime as dt

from pollsim.reconcile import deadlines, rotation, select_audits
from pollsim.scenario.mississippi import counties

NAMES = [c.name for c in counties()]


def test_every_county_is_audited_once_in_any_four_consecutive_years():
    for start in (2024, 2025, 2027):
        years = [select_audits(NAMES, y, "published-seed-1") for y in range(start, start + 4)]
        audited = [s.county for year in years for s in year]
        assert sorted(audited) == sorted(NAMES)


def test_no_county_is_audited_twice_within_four_years_unless_triggered():
    seen: dict[str, int] = {}
    for y in range(2024, 2040):
        for s in select_audits(NAMES, y, "seed"):
            if s.county in seen:
                assert y - seen[s.county] >= 4
            seen[s.county] = y


def test_a_discrepancy_adds_a_county_out_of_turn():
    slots = rotation(NAMES, "seed")
    off_turn = next(c for c in NAMES if slots[c] != 2027 % 4)
    sel = select_audits(NAMES, 2027, "seed", triggered={off_turn})
    assert (off_turn, "discrepancy") in {(s.county, s.reason) for s in sel}


def test_the_selection_is_reproducible_from_the_seed_and_changes_with_it():
    a = select_audits(NAMES, 2026, "12345")
    assert a == select_audits(NAMES, 2026, "12345")
    assert {s.county for s in a} != {s.county for s in select_audits(NAMES, 2026, "54321")}


def test_contested_precincts_are_never_picked():
    precincts = {"Adams": ["p1", "p2", "p3"]}
    slots = rotation(["Adams"], "s")
    year = 2024 + (slots["Adams"] - 2024 % 4) % 4
    for seed_year in range(year, year + 40, 4):
        [sel] = select_audits(["Adams"], seed_year, "s", precincts=precincts, contested={"p1", "p2"})
        assert sel.precincts == ("p3",)


def test_deadlines_follow_the_election_date():
    d = deadlines(dt.date(2026, 11, 3))
    assert d.report_due == dt.date(2026, 11, 13)
    assert d.audit_window == (dt.date(2026, 10, 4), dt.date(2027, 2, 1))
    assert d.public_report_due == dt.date(2027, 3, 3) and d.analysis_due == dt.date(2027, 4, 2)
