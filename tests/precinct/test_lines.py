"""The planner's lines against the SimPy day: every voter's wait the same, to the last bit.

:mod:`pollsim.precinct.lanes` works the day's lines out without an event calendar, for many
configurations at once. Here the same seeds go through :func:`pollsim.precinct.simulate_precinct`
and through the lanes, and every voter's wait and fate must agree exactly: on the training
precincts, on busy precincts with every unusual case (affidavit and audio voters, VVPAT records
rejected and rolls running out, spoiled and overvoted ballots coming back to the booths, misfed
sheets), with voters giving up and coming back, and on Mississippi 2024 precincts.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from pollsim.precinct import Outcome, simulate_precinct
from pollsim.precinct.election_day import precinct_seed
from pollsim.precinct.lanes import DayDraws, Lanes
from pollsim.precinct.lines import Closures, serve
from pollsim.scenario import Scenario, build_election
from pollsim.staff import staff_day
from tests.conftest import scenario_from
from tests.precinct.test_day import busy_precinct

POOLS = ("PB", "DRE", "ADA", "BOOTH", "SCAN", "BMD")


def lanes_against_day(scenario: Scenario, index: int = 0, seeds=(1, 2)) -> tuple[int, int]:
    """Assert that lanes and day agree; return (voters compared, voters who gave up)."""
    election = build_election(scenario.election)
    spec = scenario.precincts[index]
    days = [DayDraws.from_seed(scenario, election, spec, precinct_seed(s, index)) for s in seeds]
    units = {pool: np.full(len(seeds), spec.equipment.units(pool)) for pool in POOLS}
    staff = [staff_day(scenario, spec)] * len(seeds) if scenario.staff is not None else None
    got = Lanes(scenario, spec, days, np.arange(len(seeds)), units, staff=staff).run()
    voters = lost = 0
    for k, seed in enumerate(seeds):
        v = simulate_precinct(scenario, election, spec, precinct_seed(seed, index)).voters
        n = len(v)
        assert got.valid[k].sum() == n and not got.valid[k, n:].any()
        gave_up = v["outcome"] >= Outcome.BALKED
        assert np.array_equal(got.outcome[k, :n], np.where(gave_up, v["outcome"], 0))
        assert np.array_equal(np.isnan(got.wait[k, :n]), np.isnan(v["wait"]))
        assert np.array_equal(got.wait[k, :n][~gave_up], v["wait"][~gave_up]), f"seed {seed}"
        voters, lost = voters + n, lost + int(gave_up.sum())
    return voters, lost


def test_the_training_precincts(training, training_paper):
    assert lanes_against_day(training)[0] > 1000
    assert lanes_against_day(training_paper)[0] > 1000


@pytest.fixture(scope="module")
def busy(training_dict):
    def make(kind: str, **sections) -> Scenario:
        d = copy.deepcopy(training_dict)
        contests = [dict(c, overvote_attempt_rate=0.05) for c in d["election"]["contests"]]
        p = busy_precinct(d, kind)
        if kind == "dre":
            p["equipment"]["vvpat_roll_feet"] = 60.0  # 80 records a roll: rolls run out all day
        behaviour = {"vvpat_reject_share": 0.2, "paper_spoil_share": 0.02, "scanner_misfeed_rate": 0.01}
        return scenario_from(d, election=dict(d["election"], contests=contests), behaviour=behaviour, precincts=[p], **sections)

    return make


@pytest.mark.parametrize("kind", ["dre", "paper"])
def test_busy_precincts_with_every_unusual_case(busy, kind):
    scenario = busy(kind)
    voters, lost = lanes_against_day(scenario, seeds=(1, 2, 3))
    assert voters > 5000 and lost == 0


@pytest.mark.parametrize("kind", ["dre", "paper"])
def test_voters_who_give_up_and_come_back(busy, kind):
    scenario = busy(kind, giving_up={"enabled": True, "come_back_share": 0.4})
    voters, lost = lanes_against_day(scenario, seeds=(1, 2))
    assert lost > 20, "lines long enough for voters to leave, or the check proves little"


def test_voters_with_exponential_patience_who_do_not_balk(busy):
    scenario = busy("dre", giving_up={"enabled": True, "balking": False, "patience": {"distribution": "exponential", "mean": 15}})
    assert lanes_against_day(scenario, seeds=(4,))[1] > 50


@pytest.mark.parametrize("kind", ["dre", "paper"])
def test_stations_closed_for_want_of_staff_and_a_late_opening(busy, kind):
    session = [{"date": "2026-10-01", "hours": 4}]
    people = [
        {"name": "A", "certified": True, "training": session, "breaks": [{"at": "09:00", "minutes": 45}, {"at": "16:00", "minutes": 30}]},
        {"name": "B", "arrives": "06:10", "breaks": [{"at": "11:00", "minutes": 60}]},
        {"name": "C", "role": "clerk", "arrives": "07:40", "leaves": "15:00"},
        {"name": "D", "role": "clerk", "arrives": "06:30", "breaks": [{"at": "12:00", "minutes": 30}]},
        {"name": "E", "arrives": "08:00", "breaks": [{"at": "10:30", "minutes": 30}]},
    ]
    scenario = busy(kind, staff={"rosters": [{"precinct": "training-1", "people": people}]}, giving_up={"enabled": True})
    sd = staff_day(scenario, scenario.precincts[0])
    assert sd.opens > 7 * 60 and sum(len(u) for u in sd.closed["PB"]) >= 4  # a late opening, stations closed
    lanes_against_day(scenario, seeds=(1, 2))


def test_mississippi_2024_precincts(ms_2024):
    for index in (0, 400, 1200):
        assert lanes_against_day(ms_2024, index, seeds=(1,))[0] > 50


@pytest.fixture(scope="module")
def ms_2024():
    from pollsim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    return load_scenario(SCENARIOS / "ms-2024-general.yaml")


def test_many_configurations_at_once_are_each_their_own_day(training):
    """A lane's answer does not depend on the other lanes it is run with."""
    election = build_election(training.election)
    spec = training.precincts[0]
    days = [DayDraws.from_seed(training, election, spec, precinct_seed(s, 0)) for s in (1, 2)]
    units = {pool: np.full(6, spec.equipment.units(pool)) for pool in POOLS}
    units["PB"] = np.array([1, 2, 3, 1, 2, 3])
    units["DRE"] = np.array([2, 4, 8, 2, 4, 8])
    together = Lanes(training, spec, days, np.array([0, 0, 0, 1, 1, 1]), units).run()
    for lane in range(6):
        alone = Lanes(training, spec, days, np.array([lane // 3]), {p: u[lane : lane + 1] for p, u in units.items()}).run()
        n = alone.valid.sum()
        assert np.array_equal(together.wait[lane, :n], alone.wait[0, :n], equal_nan=True)
    # more units, shorter waits, on the same voters
    assert np.nanmean(together.wait[0]) > np.nanmean(together.wait[1]) > np.nanmean(together.wait[2])


def test_a_line_is_first_come_first_served_on_the_longest_idle_unit():
    times = np.array([[0.0, 0.5, 1.0, 1.2, np.inf], [3.0, 0.0, np.inf, np.inf, np.inf]])
    service = np.array([[2.0, 2.0, 2.0, 1.0, 9.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    start = serve(times, service, np.array([2, 1]), 0.0)
    # lane 0: two units; 0 -> unit A until 2, 0.5 -> unit B until 2.5, 1.0 waits for A (2), 1.2 waits for B (2.5)
    assert start[0].tolist() == [0.0, 0.5, 2.0, 2.5, np.inf]
    # lane 1: one unit, requests out of order are served in time order
    assert start[1].tolist() == [3.0, 0.0, np.inf, np.inf, np.inf]
    # a unit closed 0.2-4.0 (no poll manager): the voter at 1.0 waits for the other unit
    closed = Closures(np.array([[[0.2], [np.inf]]]), np.array([[[4.0], [np.inf]]]))
    start = serve(times[:1], service[:1], np.array([2]), 0.0, closures=closed)
    assert start[0].tolist() == [0.0, 0.5, 2.5, 4.0, np.inf]
