"""How fast a precinct's day runs, against a bare SimPy queue with the same station discipline.

The bare model has the same voters (arrival, check-in, walk and voting times drawn with numpy up
front, by pollsim's own draws) going through the same stations in the same order: a pollbook
station (first come, first served among ``pollbook_stations``), the walk, then a DRE unit (the
voters who need audio at the accessible unit, everyone else at the ``dre_units``), as
``simpy.Resource`` requests: no devices, no ballots, no records, no incidents. The two are timed
in alternation in one process (:func:`test_full_model_against_bare_simpy_interleaved`), so load
on the machine hits both alike and their ratio means something. Targets (issue #2): the full
model at >= 60 % of the bare model's voters per second, and a 1,000-voter precinct day in < 0.1 s.
Run:

    .venv/bin/pytest benchmarks/test_precinct_day_bench.py --benchmark-only -s
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import simpy

from pollsim.precinct import simulate_precinct
from pollsim.precinct.draws import draw_voters
from pollsim.precinct.election_day import precinct_seed, run_election_day
from pollsim.scenario import build_election, load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "training-precinct.yaml"
RESULTS: dict[str, float] = {}


def bare_same_discipline(arrival, checkin, walk, vote, audio, stations: int, units: int, accessible: int) -> None:
    env = simpy.Environment(initial_time=min(arrival[0], 420.0) - 1)
    pollbook = simpy.Resource(env, stations)
    dres = simpy.Resource(env, units)
    ada = simpy.Resource(env, max(accessible, 1))

    def voter(i):
        yield env.timeout(arrival[i] - env.now)
        with pollbook.request() as req:
            yield req
            yield env.timeout(checkin[i])
        yield env.timeout(walk[i])
        with (ada if audio[i] else dres).request() as req:
            yield req
            yield env.timeout(vote[i])

    for i in range(len(arrival)):
        env.process(voter(i))
    env.run()


def _bare_args(scenario, election, p):
    from pollsim.election.roll import VoterNeed

    d = draw_voters(np.random.default_rng(precinct_seed(1, 0)), scenario, election, p)
    eq = p.equipment
    audio = (d.need == int(VoterNeed.AUDIO)).tolist()
    return (d.arrival.tolist(), d.checkin.tolist(), d.walk.tolist(), d.vote.tolist(), audio, eq.pollbook_stations, eq.dre_units, eq.accessible_units)


@pytest.fixture(scope="module")
def thousand_voter_precinct():
    scenario = load_scenario(SCENARIO)
    p = scenario.precincts[0]
    big = p.model_copy(update={"registered_voters": 1820, "equipment": p.equipment.model_copy(update={"dre_units": 8, "pollbook_stations": 4})})
    election = build_election(scenario.election)
    n = len(simulate_precinct(scenario, election, big, precinct_seed(1, 0)).voters)
    assert 950 <= n <= 1100
    return scenario, election, big, n


def test_full_model_against_bare_simpy_interleaved(benchmark, thousand_voter_precinct):
    """Bare and full model timed in alternation (15 pairs): the ratio of their best times."""
    scenario, election, p, n = thousand_voter_precinct
    args = _bare_args(scenario, election, p)
    times: dict[str, list[float]] = {"bare": [], "full": []}

    def pair() -> None:
        t0 = time.perf_counter()
        bare_same_discipline(*args)
        t1 = time.perf_counter()
        simulate_precinct(scenario, election, p, precinct_seed(1, 0))
        t2 = time.perf_counter()
        times["bare"].append(t1 - t0)
        times["full"].append(t2 - t1)

    benchmark.pedantic(pair, rounds=15, warmup_rounds=2)
    bare, full = min(times["bare"]), min(times["full"])
    ratios = [b / f for b, f in zip(times["bare"], times["full"], strict=True)]
    benchmark.extra_info.update(bare_voters_per_second=n / bare, full_voters_per_second=n / full, ratio_of_best=bare / full, ratio_median=float(np.median(ratios)))
    print(f"\n1,000-voter day: full {full * 1000:.1f} ms, bare (same discipline) {bare * 1000:.1f} ms; full at {bare / full:.2f} of bare's voters/s "
          f"(median of pairs {np.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f})")
    assert full < 0.1
    assert bare / full >= 0.6


def test_training_precinct_day(benchmark):
    scenario = load_scenario(SCENARIO)
    run = benchmark.pedantic(run_election_day, args=(scenario, 1), rounds=10, warmup_rounds=1)
    n = len(run.precincts[0].voters)
    benchmark.extra_info["voters_per_second"] = n / benchmark.stats.stats.min
    print(f"\ntraining precinct: {n} voters, {benchmark.stats.stats.min * 1000:.1f} ms, {n / benchmark.stats.stats.min:,.0f} voters/s")


def test_hundred_precinct_county(benchmark):
    scenario = load_scenario(SCENARIO)
    base = scenario.precincts[0]
    county = scenario.model_copy(update={"precincts": [base.model_copy(update={"id": f"p{k:03d}"}) for k in range(100)]})
    run = benchmark.pedantic(run_election_day, args=(county, 1), rounds=3, warmup_rounds=0)
    n = sum(len(p.voters) for p in run.precincts)
    rate = n / benchmark.stats.stats.min
    benchmark.extra_info["voters_per_second"] = rate
    print(f"\n100-precinct county: {n:,} voters, {benchmark.stats.stats.min:.2f} s, {rate:,.0f} voters/s")
