"""The day's chain of events against the textbook SimPy model of the same room.

The precinct day moves each voter by event callbacks, with no SimPy process per voter (issue 12).
Here the same voters (the same draws) go through a plain process-interaction model written the
way the SimPy documentation writes queues: one process per voter, ``simpy.Resource`` lines. Both
must give every voter the same check-in, voting and waiting times to the last bit.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest
import simpy

from pollsim.election.roll import VoterNeed
from pollsim.precinct import Outcome, simulate_precinct
from pollsim.precinct.day import PrecinctDay
from pollsim.precinct.election_day import precinct_seed
from pollsim.scenario import build_election
from tests.conftest import scenario_from
from tests.precinct.test_day import busy_precinct

TIMES = ("checkin_start", "checkin_end", "vote_start", "vote_end", "wait")


def textbook_day(day: PrecinctDay) -> dict[str, np.ndarray]:
    """A DRE precinct, process per voter: pollbook, then a DRE (or the accessible unit), or for an
    affidavit voter a booth. The polls open at ``t_open``: every line holds its units until then."""
    env = simpy.Environment(initial_time=day.t_start)
    units = {name: pool.units for name, pool in day.pools.items()}
    lines = {name: simpy.Resource(env, max(n, 1)) for name, n in units.items()}
    out = {k: np.full(day.draws.n, np.nan) for k in TIMES}
    closed = [lines[name].request() for name in ("PB", "DRE", "ADA", "BOOTH") for _ in range(units[name])]

    def opening():
        yield env.timeout(day.t_open - day.t_start)
        for req in closed:
            req.resource.release(req)

    def voter(i: int):
        yield env.timeout(day.arrival[i] - day.t_start)
        t_req = env.now
        with lines["PB"].request() as req:
            yield req
            t = out["checkin_start"][i] = env.now
            regular = day.status[i] <= 1
            yield env.timeout(day.checkin[i] + (0.0 if regular else day.affidavit[i]))
        out["checkin_end"][i] = env.now
        wait = t - t_req
        yield env.timeout(day.walk[i])
        t_req = env.now
        line = "BOOTH" if not regular else "ADA" if day.audio[i] else "DRE"
        with lines[line].request() as req:
            yield req
            start = out["vote_start"][i] = env.now
            yield env.timeout(day.vote[i] if regular else day.remark[i])
        out["vote_end"][i] = env.now
        out["wait"][i] = wait + start - t_req if regular else wait + (start - t_req)

    env.process(opening())
    for i in range(day.draws.n):
        env.process(voter(i))
    env.run()
    return out


@pytest.fixture(scope="module")
def busy_dre(training_dict):
    roll = {"inactive": 0.03, "not_on_roll": 0.01, "wrong_precinct": 0.01, "no_photo_id": 0.01, "new_registrant": 0.01, "restored": 0.02}
    p = busy_precinct(training_dict, "dre", roll=roll, needs={"audio": 0.03, "language": 0.02})
    p["equipment"] = dict(p["equipment"], vvpat_roll_feet=None)  # no roll runs out: the textbook model has no printer
    scenario = scenario_from(training_dict, precincts=[p], incidents=[])
    return scenario, build_election(scenario.election)


def test_every_voter_moves_as_in_the_process_per_voter_model(busy_dre):
    scenario, election = busy_dre
    day = PrecinctDay(scenario, election, scenario.precincts[0], precinct_seed(11, 0))
    result = day.run()
    v = result.voters
    assert (v["outcome"] == Outcome.AFFIDAVIT).sum() > 20 and (v["need"] == VoterNeed.AUDIO).sum() > 20
    assert (v["wait"] > 5).sum() > 100, "lines should form, or the comparison proves little"
    expected = textbook_day(day)
    for k in TIMES:
        assert np.array_equal(v[k], expected[k]), k


def test_the_day_leaves_garbage_collection_as_it_found_it(busy_dre):
    scenario, election = busy_dre
    assert gc.isenabled()
    simulate_precinct(scenario, election, scenario.precincts[0], precinct_seed(2, 0))
    assert gc.isenabled()
    gc.disable()
    try:
        simulate_precinct(scenario, election, scenario.precincts[0], precinct_seed(2, 0))
        assert not gc.isenabled()
    finally:
        gc.enable()
