"""A plain DRE precinct's day worked out line by line equals the day on the SimPy clock (issue 12).

:mod:`pollsim.precinct.straight` works out a DRE precinct with nothing but voters without the
event calendar. Here the same precinct with the same seed runs both ways and every record must be
the same to the last bit: each voter's times, stations, waits and outcome; every ballot's layers,
voter and device, in cast order; every unit's counters, VVPAT records, official calls, memory,
event log and tapes; the pollbook's counts and log; the accounting and the utilisation. Days it
must not work out (ties, a roll that runs out, incidents, staffing, voters giving up, a line with
no unit) run on the clock, with the clock's records.
"""

from __future__ import annotations

import numpy as np
import pytest

import pollsim.precinct.day as day_module
from pollsim.precinct.day import PrecinctDay
from pollsim.precinct.election_day import precinct_seed
from pollsim.precinct.straight import Tie, serve
from pollsim.scenario import build_election
from tests.conftest import scenario_from
from tests.precinct.test_day import busy_precinct


def both_ways(scenario, seed: int, monkeypatch) -> tuple:
    """(worked out, on the clock, whether the first was worked out) for the scenario's first precinct."""
    election = build_election(scenario.election)
    taken: list[bool] = []
    real = day_module.run_straight
    monkeypatch.setattr(day_module, "run_straight", lambda day: taken.append(real(day)) or taken[-1])
    straight_day = PrecinctDay(scenario, election, scenario.precincts[0], precinct_seed(seed, 0))
    straight = straight_day.run()
    clock_day = PrecinctDay(scenario, election, scenario.precincts[0], precinct_seed(seed, 0))
    clock_day.straight = False
    clock = clock_day.run()
    return (straight, straight_day), (clock, clock_day), bool(taken and taken[0])


def assert_same_day(a, b) -> None:
    (ra, da), (rb, db) = a, b
    assert ra.voters.tobytes() == rb.voters.tobytes()
    for name in ("intent", "paper", "cvr", "ballot_voter", "ballot_device", "affidavit"):
        x, y = getattr(ra, name), getattr(rb, name)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name
    assert ra.devices == rb.devices and ra.accounting == rb.accounting and ra.utilisation == rb.utilisation
    assert ra.zero_tapes == rb.zero_tapes and ra.results_tapes == rb.results_tapes
    assert ra.incidents == rb.incidents and ra.polls_closed == rb.polls_closed and ra.staffing == rb.staffing
    assert ra.logs.keys() == rb.logs.keys()
    for k in ra.logs:
        ca, cb = ra.logs[k].columns(), rb.logs[k].columns()
        assert all(np.array_equal(x, y) for x, y in zip(ca[:3], cb[:3], strict=True)) and ca[3] == cb[3], k
        assert ra.logs[k].head == rb.logs[k].head
    for dev_a, dev_b in zip(da.device_list, db.device_list, strict=True):
        assert dev_a.state is dev_b.state and dev_a.faults == dev_b.faults == set()
        if hasattr(dev_a, "printer"):
            assert vars(dev_a.printer) == vars(dev_b.printer) and dev_a.official_calls == dev_b.official_calls
        sa, sb = dev_a.store, dev_b.store
        assert (sa.n, sa.public, sa.protective) == (sb.n, sb.public, sb.protective)
        assert all(np.array_equal(x, y) for x, y in zip(sa.ballots(), sb.ballots(), strict=True))
    pa, pb = da.pollbook, db.pollbook
    assert (pa.marked_voted, pa.receipt_signatures, pa.affidavit_register, pa.by_status) == (pb.marked_voted, pb.receipt_signatures, pb.affidavit_register, pb.by_status)
    for name, pool in da.pools.items():
        assert pool.busy_minutes == db.pools[name].busy_minutes, name


def _busy(training_dict, **changes):
    contests = [dict(c, overvote_attempt_rate=0.05) for c in training_dict["election"]["contests"]]
    election = dict(training_dict["election"], contests=contests)
    behaviour = {"vvpat_reject_share": 0.3, "vvpat_review_share": 0.9}
    p = busy_precinct(training_dict, "dre", **changes.pop("precinct", {}))
    incidents = changes.pop("incidents_", [])
    return scenario_from(training_dict, election=election, behaviour=behaviour, precincts=[p], incidents=incidents, **changes)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("pollbook", ["paper", "electronic"])
def test_a_busy_dre_precinct_is_the_same_worked_out_or_on_the_clock(training_dict, monkeypatch, seed, pollbook):
    p = {"equipment": {"kind": "dre", "pollbook": pollbook, "pollbook_stations": 4, "dre_units": 10, "accessible_units": 1, "marking_booths": 2}}
    straight, clock, taken = both_ways(_busy(training_dict, precinct=p), seed, monkeypatch)
    assert taken, "the day should have been worked out line by line"
    r = straight[0]
    assert (r.voters["wait"] > 5).sum() > 100, "lines should form, or the comparison proves little"
    assert r.accounting.affidavit_ballots > 20 and sum(d.vvpat_records_rejected for d in r.devices) > 50
    assert any(d.official_calls for d in straight[1].device_list)
    assert np.isfinite(r.voters["exit"]).all()
    assert_same_day(straight, clock)


def test_the_training_day_and_scripted_voters_are_the_same_both_ways(training_dict, monkeypatch):
    p = dict(training_dict["precincts"][0])
    p["scripted_voters"] = [{"at": "06:59", "status": "inactive"}, {"at": "09:15", "status": "restored"}, {"at": "11:00", "vvpat_reject": True}]
    for scenario in (scenario_from(training_dict, incidents=[]), scenario_from(training_dict, precincts=[p], incidents=[])):
        for seed in (1, 9):
            straight, clock, taken = both_ways(scenario, seed, monkeypatch)
            assert taken
            assert_same_day(straight, clock)


def test_ties_make_the_day_run_on_the_clock(training_dict, monkeypatch):
    constant = {name: {"distribution": "constant", "mean": m} for name, m in (("checkin_paper", 2.0), ("dre_vote", 3.0), ("walk", 0.5))}
    scenario = _busy(training_dict, service_times=dict(training_dict.get("service_times", {}), **constant))
    straight, clock, taken = both_ways(scenario, 4, monkeypatch)
    assert not taken  # with every step the same length, things coincide: the clock decides their order
    assert_same_day(straight, clock)


@pytest.mark.parametrize("change", ["roll", "incident", "giving_up"])
def test_days_it_does_not_work_out_run_on_the_clock(training_dict, monkeypatch, change):
    eq = {"kind": "dre", "pollbook_stations": 6, "dre_units": 12, "accessible_units": 1, "vvpat_roll_feet": 30}
    changes: dict = {"precinct": {"equipment": eq}}
    if change == "incident":
        changes["precinct"] = {"equipment": dict(eq, vvpat_roll_feet=None)}
    elif change == "giving_up":
        changes["precinct"] = {"equipment": dict(eq, vvpat_roll_feet=None, pollbook_stations=3)}
        changes["giving_up"] = {"enabled": True}
    scenario = _busy(training_dict, **changes) if change != "incident" else None
    if change == "incident":
        incident = {"at": "10:30", "device": "DRE-2", "kind": "machine_failure", "minutes": 20, "response": "technician"}
        scenario = _busy(training_dict, incidents_=[incident], **changes)
    straight, clock, taken = both_ways(scenario, 5, monkeypatch)
    assert not taken
    assert_same_day(straight, clock)


def test_a_line_serves_first_come_first_served_on_the_longest_idle_unit():
    # two units open at 10 to three voters who came early, in their order; later ones wait for a release
    start, unit = serve(2, 10.0, [5.0, 6.0, 7.0, 12.0, 13.5], [3.0, 1.0, 4.0, 1.0, 1.5])
    assert start == [10.0, 10.0, 11.0, 13.0, 14.0] and unit == [0, 1, 1, 0, 0]
    # unit 1 idle since the opening, unit 0 since 10.75: the one idle longest (unit 1) serves the next voter
    start, unit = serve(2, 10.0, [10.5, 20.0, 21.0], [0.25, 30.0, 1.0])
    assert unit == [0, 1, 0] and start == [10.5, 20.0, 21.0]
    with pytest.raises(Tie):
        serve(1, 10.0, [11.0, 11.0], [1.0, 1.0])  # two requests at once
    with pytest.raises(Tie):
        serve(1, 10.0, [11.0, 12.0], [1.0, 1.0])  # a release and a request at once
    with pytest.raises(Tie):
        serve(2, 10.0, [11.0, 11.5, 12.0], [2.0, 1.5, 1.0])  # two units released at once (13.0)
    with pytest.raises(Tie):
        serve(1, 10.0, [9.0, 10.0], [1.0, 1.0])  # a request as the units open
    with pytest.raises(Tie):
        serve(0, 10.0, [11.0], [1.0])  # nobody serves the voter
