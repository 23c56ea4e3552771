"""The training drills (scenarios/drills/): each validates, and each run shows what its notice claims.

Every drill is the training precinct (DRE or paper) plus one incident or one scripted voter, run
in-process at seed 1. Comparisons are with the plain training precinct at the same seed: scripted
voters are drawn from their own generator, so the other voters are the same people.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pollsim.election.roll import RollStatus, VoterNeed
from pollsim.precinct import Outcome, PrecinctResult
from pollsim.precinct.election_day import ElectionDayRun, run_election_day
from pollsim.precinct.procedures import accounting_form
from pollsim.rundir import audit_run_dir, hhmm, reconcile_run_dir, summary, write_run
from pollsim.scenario import Scenario, build_election, load_scenario
from pollsim.scenario.models import clock_minutes
from pollsim.tabulate import tally_dict

ROOT = Path(__file__).resolve().parents[1]
DRILLS = ROOT / "scenarios" / "drills"
SEED = 1
AUDIT_SEED = "80194273650192837465"

ALL = sorted(f.stem for f in DRILLS.glob("*.yaml"))
"""Every drill in scenarios/drills/, the bundled ones and any a trainer adds: each gets the checks
every drill gets (below), with no change to this file."""
EXPECTED = {
    "vvpat-paper-out", "vvpat-paper-jam", "vvpat-printer-cover-open", "scanner-jam", "power-loss-on-battery",
    "power-loss-battery-runs-out", "machine-failure-technician", "epollbook-down", "memory-full",
    "inactive-voter-affidavit", "restored-voter", "scanner-overvote", "spoiled-ballot", "vvpat-rejection",
    "opening-line", "misrecording-audit",
}  # fmt: skip

_runs: dict[str, ElectionDayRun] = {}


def scenario(name: str) -> Scenario:
    if name in ("training-precinct", "training-precinct-paper"):
        return load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return load_scenario(DRILLS / f"{name}.yaml")


def run_of(name: str, sc: Scenario | None = None) -> ElectionDayRun:
    """The drill's (or a variant's) election day at seed 1, run once per test session."""
    if name not in _runs:
        _runs[name] = run_election_day(sc if sc is not None else scenario(name), SEED)
    return _runs[name]


def day(name: str) -> PrecinctResult:
    return run_of(name).precincts[0]


def plain(kind: str = "dre") -> PrecinctResult:
    return day("training-precinct" if kind == "dre" else "training-precinct-paper")


def variant(name: str, tag: str, **equipment) -> PrecinctResult:
    """The drill with its precinct's equipment changed (the trainee's "what to try")."""
    sc = scenario(name)
    p = sc.precincts[0]
    p = p.model_copy(update={"equipment": p.equipment.model_copy(update=equipment)})
    return run_of(f"{name}+{tag}", sc.model_copy(update={"precincts": [p]})).precincts[0]


# ----------------------------------------------------------------------------- helpers
def incident(p: PrecinctResult, device: str, kind: str) -> dict:
    [inc] = [i for i in p.incidents if i["device"] == device and i["kind"] == kind]
    return inc


def casts(p: PrecinctResult, device: str) -> np.ndarray:
    return np.array([e.time for e in p.logs[device].entries if e.type == "ballot-cast"])


def cast_between(p: PrecinctResult, device: str, start: float, end: float) -> int:
    t = casts(p, device)
    return int(((t > start) & (t < end)).sum())


def log_has(p: PrecinctResult, device: str, type_: str, details: str, time: float) -> bool:
    return any(e.type == type_ and e.details.startswith(details) and e.time == pytest.approx(time) for e in p.logs[device].entries)


def device(p: PrecinctResult, device_id: str):
    [d] = [d for d in p.devices if d.device_id == device_id]
    return d


def tape_ballots(p: PrecinctResult, device_id: str) -> int:
    [line] = [x for x in p.results_tapes[device_id].splitlines() if x.startswith("BALLOTS CAST")]
    return int(line.split()[-1])


def form(p: PrecinctResult) -> str:
    return accounting_form(p, "General Election (training)", SEED, hhmm)


def assert_out_and_back(p: PrecinctResult, device_id: str, kind: str, at: str, minutes: tuple[float, float]) -> dict:
    """The unit went out no earlier than ``at``, was out for ``minutes`` (a range), cast nothing meanwhile, logged it."""
    inc = incident(p, device_id, kind)
    assert inc["at"] == at
    assert inc["out_from"] >= clock_minutes(at)
    assert minutes[0] - 1e-9 <= inc["back_at"] - inc["out_from"] <= minutes[1] + 1e-9
    assert cast_between(p, device_id, inc["out_from"], inc["back_at"]) == 0
    assert log_has(p, device_id, "fault", kind, inc["out_from"])
    assert log_has(p, device_id, "fault-cleared", kind, inc["back_at"])
    assert casts(p, device_id).size > 0 and casts(p, device_id).max() > inc["back_at"]  # back in service afterwards
    return inc


def assert_books_balance(p: PrecinctResult) -> None:
    """Counters = pollbook VOTED = regular ballots; each unit's tape = its counter; paper stock balances."""
    a = p.accounting
    counters = sum(d.public_count for d in p.devices if d.kind in ("dre", "scan-single"))
    assert counters == a.pollbook_marked_voted == a.receipt_book_signatures == a.regular_ballots_cast
    for d in p.devices:
        if d.kind in ("dre", "scan-single"):
            assert tape_ballots(p, d.device_id) == d.public_count
    assert a.ballots_received == a.paper_ballots_voted + a.paper_ballots_unused + a.paper_ballots_spoiled
    assert "difference ....................................       0" in form(p)


def scripted_voter(p: PrecinctResult, at: str) -> int:
    [i] = np.flatnonzero(p.voters["arrival"] == clock_minutes(at))
    return int(i)


def waits(p: PrecinctResult, start: float, end: float) -> float:
    v = p.voters
    m = (v["arrival"] >= start) & (v["arrival"] < end)
    return float(np.nanmean(v["wait"][m]))


# ----------------------------------------------------------------------------- every drill
def test_the_bundled_drills_are_all_there():
    assert set(ALL) >= EXPECTED  # a trainer's own drill may join them (docs/guides/write-a-drill.md)


@pytest.mark.parametrize("name", ALL)
def test_a_drill_validates_and_is_the_training_precinct_plus_its_drill(name):
    text = (DRILLS / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Drill: ")
    sc = scenario(name)
    assert sc.scenario == f"drill-{name}" and sc.description.startswith("Drill: ") and len(sc.notice) >= 2
    base = scenario("training-precinct" if sc.precincts[0].equipment.kind == "dre" else "training-precinct-paper")
    assert build_election(sc.election).definition_hash == build_election(base.election).definition_hash
    p, q = sc.precincts[0], base.precincts[0]
    assert (p.id, p.registered_voters, p.turnout, p.roll, p.needs) == (q.id, q.registered_voters, q.turnout, q.roll, q.needs)


@pytest.mark.parametrize("name", ALL)
def test_a_drill_run_carries_its_notice_and_loses_no_ballot(name):
    run = run_of(name)
    assert summary(run)["notice"] == scenario(name).notice
    assert_books_balance(run.precincts[0])


# ----------------------------------------------------------------------------- device incidents
def test_vvpat_paper_out():
    p = day("vvpat-paper-out")
    assert_out_and_back(p, "DRE-2", "paper_out", "11:45", (10, 10))
    assert p.accounting.affidavit_ballots == plain().accounting.affidavit_ballots
    assert len(p.voters) == len(plain().voters) and p.accounting.regular_ballots_cast == plain().accounting.regular_ballots_cast


def test_vvpat_paper_jam_in_the_morning_line():
    p = day("vvpat-paper-jam")
    assert_out_and_back(p, "DRE-1", "paper_jam", "08:30", (15, 15))
    assert np.nanmax(p.voters["wait"]) > np.nanmax(plain().voters["wait"])


def test_vvpat_printer_cover_open():
    p = day("vvpat-printer-cover-open")
    assert_out_and_back(p, "DRE-3", "printer_cover_open", "14:10", (5, 5))
    assert abs(np.nanmean(p.voters["wait"]) - np.nanmean(plain().voters["wait"])) < 1.0


def test_scanner_jam():
    p = day("scanner-jam")
    inc = assert_out_and_back(p, "SCAN-1", "scanner_jam", "12:15", (10, 10))
    assert cast_between(p, "SCAN-1", inc["back_at"] - 1e-9, inc["back_at"] + 3) >= 2  # the ballots held in line go in
    a = p.accounting
    assert a.paper_ballots_voted == device(p, "SCAN-1").public_count - a.bmd_cards_cast + a.affidavit_ballots


@pytest.mark.parametrize("unit", ["DRE-1", "DRE-2", "DRE-3", "DRE-4", "ADA-1"])
def test_power_loss_shorter_than_the_battery(unit):
    p = day("power-loss-on-battery")
    assert log_has(p, unit, "ac-power-lost", "battery=30min", 13 * 60)
    assert log_has(p, unit, "ac-power-restored", "", 13 * 60 + 20)
    assert not any(e.type == "fault" for e in p.logs[unit].entries)
    inc = incident(p, unit, "power_loss")
    assert inc["out_from"] == inc["back_at"]
    assert sum(cast_between(p, d, 13 * 60, 13 * 60 + 20) for d in ("DRE-1", "DRE-2", "DRE-3", "DRE-4")) > 0


@pytest.mark.parametrize("unit", ["DRE-1", "DRE-2", "DRE-3", "DRE-4", "ADA-1"])
def test_power_loss_longer_than_the_battery(unit):
    p = day("power-loss-battery-runs-out")
    assert log_has(p, unit, "ac-power-lost", "battery=10min", 13 * 60)
    # dark from when the battery is flat (13:10, or when its voter finishes) until the power is back at 13:20
    inc = incident(p, unit, "power_loss")
    assert inc["out_from"] >= 13 * 60 + 10 and inc["back_at"] == max(13 * 60 + 20, inc["out_from"])
    assert cast_between(p, unit, inc["out_from"], inc["back_at"]) == 0
    v = p.voters  # voters ready for a DRE while the DREs were dark wait for the power
    ready = v["checkin_end"] + 0.5  # the walk to the voting area
    dark = (ready > 13 * 60 + 10) & (ready < 13 * 60 + 20) & (v["outcome"] == Outcome.REGULAR) & (v["need"] != VoterNeed.AUDIO)
    assert dark.any() and (v["vote_start"][dark] >= 13 * 60 + 20).all()


def test_machine_failure_and_the_state_technician():
    p = day("machine-failure-technician")
    assert_out_and_back(p, "DRE-2", "machine_failure", "10:30", (20, 50))  # within 30 minutes, then 20 minutes' work
    rows = p.ballot_device == [d.device_id for d in p.devices].index("DRE-2")
    assert rows.sum() == device(p, "DRE-2").public_count and np.array_equal(p.paper[rows], p.cvr[rows])


def test_e_pollbook_down_and_the_paper_pollbook():
    p = day("epollbook-down")
    for station in ("PB-1", "PB-2"):
        inc = incident(p, station, "pollbook_down")
        assert (inc["out_from"], inc["back_at"]) == (15 * 60, 15 * 60 + 5)
    v = p.voters
    assert not ((v["checkin_start"] > 15 * 60) & (v["checkin_start"] < 15 * 60 + 5)).any()
    pb = p.logs["PB"].entries
    assert [e.time for e in pb if e.type == "paper-pollbook-in-use"] == [905.0, 905.0]
    assert [e.time for e in pb if e.type == "electronic-pollbook-restored"] == [1020.0, 1020.0]
    took = v["checkin_end"] - v["checkin_start"]
    on_paper = (v["checkin_start"] >= 905) & (v["checkin_start"] < 1020) & (v["status"] <= RollStatus.RESTORED)
    electronic = (v["checkin_start"] < 900) & (v["status"] <= RollStatus.RESTORED)
    assert np.median(took[on_paper]) > 3 * np.median(took[electronic])
    # the afternoon pollbook line: against the same precinct with the e-pollbooks up all day
    sc = scenario("epollbook-down")
    up = run_of("epollbook-down+up", sc.model_copy(update={"incidents": []})).precincts[0]
    line = lambda r: np.nanmean((r.voters["checkin_start"] - r.voters["arrival"])[(r.voters["arrival"] >= 900) & (r.voters["arrival"] < 1020)])  # noqa: E731
    assert line(p) > line(up) + 1.0


def test_memory_full():
    p = day("memory-full")
    assert_out_and_back(p, "DRE-3", "memory_full", "16:00", (15, 45))
    rows = p.ballot_device == [d.device_id for d in p.devices].index("DRE-3")
    assert rows.sum() == device(p, "DRE-3").public_count and np.array_equal(p.paper[rows], p.cvr[rows])


# ----------------------------------------------------------------------------- voters
def test_an_inactive_voter_votes_by_affidavit():
    p, q = day("inactive-voter-affidavit"), plain()
    i = scripted_voter(p, "09:40")
    assert p.voters["status"][i] == RollStatus.INACTIVE and p.voters["outcome"][i] == Outcome.AFFIDAVIT
    assert i not in p.ballot_voter and np.isfinite(p.voters["vote_end"][i])  # marked a paper ballot, never cast on a DRE
    a, b = p.accounting, q.accounting
    assert (a.affidavit_ballots, a.paper_ballots_voted) == (b.affidavit_ballots + 1, b.paper_ballots_voted + 1)
    assert (a.pollbook_marked_voted, a.receipt_book_signatures, a.regular_ballots_cast) == (
        b.pollbook_marked_voted, b.receipt_book_signatures, b.regular_ballots_cast)  # (a), (b), (f) of the form
    assert len(p.affidavit) == a.affidavit_ballots
    assert "affidavit ballots (sealed, counted later) ......       9" in form(p)


def test_a_restored_voter_votes_a_regular_ballot():
    p, q = day("restored-voter"), plain()
    i = scripted_voter(p, "10:20")
    assert p.voters["status"][i] == RollStatus.RESTORED and p.voters["outcome"][i] == Outcome.REGULAR
    [row] = np.flatnonzero(p.ballot_voter == i)
    assert p.devices[p.ballot_device[row]].kind == "dre"
    a, b = p.accounting, q.accounting
    for field in ("pollbook_marked_voted", "receipt_book_signatures", "electronic_ballots_cast", "regular_ballots_cast"):  # (a) (b) (e) (f)
        assert getattr(a, field) == getattr(b, field) + 1, field
    assert a.affidavit_ballots == b.affidavit_ballots


def test_the_scanner_returns_an_overvoted_ballot():
    p = day("scanner-overvote")
    i = scripted_voter(p, "10:15")
    v = p.voters
    returned = [e for e in p.logs["SCAN-1"].entries if e.type == "ballot-returned" and e.details == "overvote"]
    assert any(v["vote_start"][i] <= e.time <= v["vote_end"][i] for e in returned)
    [row] = np.flatnonzero(p.ballot_voter == i)
    assert np.array_equal(p.cvr[row], p.intent[row]) and np.array_equal(p.paper[row], p.intent[row])
    sc = scenario("scanner-overvote")
    without = run_of("scanner-overvote-unscripted", sc.model_copy(update={"precincts": [sc.precincts[0].model_copy(update={"scripted_voters": []})]}))
    assert p.accounting.paper_ballots_spoiled == without.precincts[0].accounting.paper_ballots_spoiled + 1
    assert summary(run_of("scanner-overvote"))["spoiled_ballots"] == p.accounting.paper_ballots_spoiled


def test_a_spoiled_ballot_and_its_replacement():
    p, q = day("spoiled-ballot"), plain("paper")
    i = scripted_voter(p, "11:10")
    [row] = np.flatnonzero(p.ballot_voter == i)
    assert np.array_equal(p.cvr[row], p.intent[row])
    a, b = p.accounting, q.accounting
    assert a.paper_ballots_spoiled == b.paper_ballots_spoiled + 1
    assert a.paper_ballots_unused == b.paper_ballots_unused - 2
    assert device(p, "SCAN-1").public_count == device(q, "SCAN-1").public_count + 1  # the replacement only


def test_a_voter_rejects_the_vvpat_record():
    p, q = day("vvpat-rejection"), plain()
    i = scripted_voter(p, "14:30")
    [row] = np.flatnonzero(p.ballot_voter == i)
    unit = p.devices[p.ballot_device[row]].device_id
    t = p.voters["vote_end"][i]
    assert log_has(p, unit, "vvpat-record-rejected", "", t) and log_has(p, unit, "ballot-cast", "", t)
    assert sum(d.vvpat_records_rejected for d in p.devices) == sum(d.vvpat_records_rejected for d in q.devices) + 1
    for d in p.devices:
        assert d.vvpat_records_printed == d.public_count + d.vvpat_records_rejected


def test_a_long_line_at_opening():
    p, q = day("opening-line"), plain()
    before, mid_morning = waits(p, 0, 7 * 60), waits(p, 10 * 60, 11 * 60)
    assert before > 30 and before > 3 * mid_morning
    assert (p.voters["arrival"] < 7 * 60).sum() > 1.5 * (q.voters["arrival"] < 7 * 60).sum()
    five_dres = variant("opening-line", "dre5", dre_units=5)
    three_books = variant("opening-line", "pb3", pollbook_stations=3)
    assert waits(five_dres, 600, 660) < 0.25 * mid_morning
    assert waits(three_books, 600, 660) > 0.75 * mid_morning


# ----------------------------------------------------------------------------- the audit catches it
def test_misrecording_dres_are_caught_by_the_risk_limiting_audit(tmp_path):
    run = run_of("misrecording-audit")
    p = run.precincts[0]
    for unit in ("DRE-1", "DRE-2"):
        inc = incident(p, unit, "misrecording")
        assert inc["out_from"] == inc["back_at"]
    electronic, paper = tally_dict(run.election, p.cvr)["us-senate"], tally_dict(run.election, p.paper)["us-senate"]
    assert max(electronic, key=electronic.get) == "pruitt" and max(paper, key=paper.get) == "dawson"
    on_tapes = {name: 0 for name in ("Eleanor Dawson", "Marcus Pruitt")}
    for tape in p.results_tapes.values():
        for line in tape.splitlines():
            for name in on_tapes:
                if line.strip().startswith(name):
                    on_tapes[name] += int(line.split()[-1])
    assert on_tapes["Marcus Pruitt"] > on_tapes["Eleanor Dawson"]

    out = tmp_path / "run"
    write_run(run, out)
    assert not any(r["flagged"] for r in reconcile_run_dir(out)["precincts"])  # every count balances
    doc = audit_run_dir(out, "us-senate", 0.05, AUDIT_SEED, "kaplan-markov", echo=lambda _: None)
    assert len(doc["rounds"]) > 1  # escalated round by round
    [decision] = doc["decisions"]
    assert not decision["risk_limit_met"] and decision["full_manual_recount"]
    assert decision["official_record"] == "paper"
    assert decision["reported_winners"] == ["pruitt"] and decision["certified_winners"] == ["dawson"]
    assert decision["certified_votes"] == paper
    assert (out / "audit" / "recount.csv").exists()
