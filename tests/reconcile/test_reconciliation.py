"""Reconciliation flags exactly the precincts and checks where errors were injected, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from pollsim.precinct.election_day import run_election_day
from pollsim.reconcile import CHECKS, reconcile
from pollsim.reconcile.totals import counts_from_results
from pollsim.scenario import Scenario
from tests.conftest import SCENARIOS

# (kind, the checks it must trip)
ERRORS = {
    "pollbook_not_marked": {"pollbook_vs_receipt_book", "voters_vs_ballots"},
    "receipt_not_signed": {"pollbook_vs_receipt_book"},
    "ballot_stock_miscounted": {"ballots_received_vs_accounted"},
    "spoiled_not_recorded": {"ballots_received_vs_accounted"},
    "dre_counter_glitch": {"ballots_vs_counters"},
    "lost_paper_ballot": {"ballots_received_vs_accounted", "voters_vs_ballots"},
}


def county(equipment: int, errors=()) -> Scenario:
    d = yaml.safe_load((SCENARIOS / "ms-2020-general.yaml").read_text())
    d["mississippi"].update(counties=["Adams", "Amite"], equipment=equipment)
    d["errors"] = list(errors)
    d["behaviour"] = {"paper_spoil_share": 0.05}  # enough spoiled ballots to leave some off the form
    return Scenario.model_validate(d)


@pytest.mark.parametrize("equipment", [2020, 2025])
def test_a_clean_election_flags_nothing(equipment):
    run = run_election_day(county(equipment), seed=9)
    rec = reconcile(counts_from_results(run.precincts))
    assert not rec.flagged.any()
    for check in CHECKS:
        assert (rec.differences[check] == 0).all(), check


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_an_injected_error_is_flagged_in_its_precinct_and_checks_only(kind):
    equipment = 2025 if kind in ("lost_paper_ballot", "spoiled_not_recorded") else 2020
    base = county(equipment)
    kinds = {p.id: p.equipment.kind for p in base.precincts}
    want = "paper" if kind in ("lost_paper_ballot", "spoiled_not_recorded") else "dre" if kind == "dre_counter_glitch" else None
    target = next(pid for pid, k in kinds.items() if want is None or k == want)
    count = 16  # over any threshold (at most 15)
    run = run_election_day(county(equipment, [{"precinct": target, "kind": kind, "count": count}]), seed=9)
    rec = reconcile(counts_from_results(run.precincts))
    ids = [p.precinct for p in run.precincts]
    assert [ids[i] for i in np.flatnonzero(rec.flagged)] == [target]
    t = ids.index(target)
    assert {c for c in CHECKS if rec.flags[c][t]} == ERRORS[kind]
    for c in ERRORS[kind]:
        assert abs(rec.differences[c][t]) == count


def test_live_reconciliation_updated_precinct_by_precinct_equals_the_batch_report():
    from dataclasses import fields

    from pollsim.reconcile.report import LiveReconciliation
    from pollsim.reconcile.totals import PrecinctCounts

    run = run_election_day(county(2020, [{"precinct": county(2020).precincts[3].id, "kind": "receipt_not_signed", "count": 20}]), seed=9)
    counts = counts_from_results(run.precincts)
    batch = reconcile(counts)
    live = LiveReconciliation(len(run.precincts))
    order = np.random.default_rng(0).permutation(len(run.precincts))
    for chunk in np.array_split(order, 7):
        live.report(chunk, PrecinctCounts(**{f.name: getattr(counts, f.name)[chunk] for f in fields(PrecinctCounts)}))
    assert live.reported.all()
    assert np.array_equal(live.result.flagged, batch.flagged) and live.result.flagged.sum() == 1
    for k in batch.differences:
        assert np.array_equal(live.result.differences[k], batch.differences[k])
