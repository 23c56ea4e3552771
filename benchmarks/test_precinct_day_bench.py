"""How fast a precinct's day runs, against a bare SimPy two-stage queue measured in the same run.

The bare model has the same voters (arrival times and service times drawn with numpy up front)
going through check-in and then a voting booth, as ``simpy.Resource`` requests: no devices,
no ballots, no records. Targets (issue #2): the full model at >= 60 % of the bare model's voters
per second, and a 1,000-voter precinct day in < 0.1 s. Run:

    .venv/bin/pytest benchmarks/test_precinct_day_bench.py --benchmark-only
"""

from __future__ import annotations

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


def bare_two_stage(arrival, checkin, vote, stations: int, units: int) -> None:
    env = simpy.Environment(initial_time=min(arrival[0], 420.0) - 1)
    pollbook = simpy.Resource(env, stations)
    booths = simpy.Resource(env, units)

    def voter(i):
        yield env.timeout(arrival[i] - env.now)
        with pollbook.request() as req:
            yield req
            yield env.timeout(checkin[i])
        with booths.request() as req:
            yield req
            yield env.timeout(vote[i])

    for i in range(len(arrival)):
        env.process(voter(i))
    env.run()


@pytest.fixture(scope="module")
def thousand_voter_precinct():
    scenario = load_scenario(SCENARIO)
    p = scenario.precincts[0]
    big = p.model_copy(update={"registered_voters": 1820, "equipment": p.equipment.model_copy(update={"dre_units": 8, "pollbook_stations": 4})})
    election = build_election(scenario.election)
    n = len(simulate_precinct(scenario, election, big, precinct_seed(1, 0)).voters)
    assert 950 <= n <= 1100
    return scenario, election, big, n


def test_bare_simpy_two_stage(benchmark, thousand_voter_precinct):
    scenario, election, p, n = thousand_voter_precinct
    d = draw_voters(np.random.default_rng(precinct_seed(1, 0)), scenario, election, p)
    args = (d.arrival.tolist(), d.checkin.tolist(), d.vote.tolist(), p.equipment.pollbook_stations, p.equipment.dre_units)
    benchmark.pedantic(bare_two_stage, args=args, rounds=15, warmup_rounds=2)
    RESULTS["bare"] = n / benchmark.stats.stats.min
    benchmark.extra_info["voters_per_second"] = RESULTS["bare"]


def test_full_precinct_day(benchmark, thousand_voter_precinct):
    scenario, election, p, n = thousand_voter_precinct
    benchmark.pedantic(simulate_precinct, args=(scenario, election, p, precinct_seed(1, 0)), rounds=15, warmup_rounds=2)
    best = benchmark.stats.stats.min
    RESULTS["full"] = n / best
    benchmark.extra_info["voters_per_second"] = RESULTS["full"]
    benchmark.extra_info["ratio_to_bare"] = RESULTS["full"] / RESULTS["bare"]
    print(f"\n1,000-voter day: {best * 1000:.1f} ms; full {RESULTS['full']:,.0f} voters/s, bare {RESULTS['bare']:,.0f} voters/s, ratio {RESULTS['full'] / RESULTS['bare']:.2f}")
    assert best < 0.1
    assert RESULTS["full"] >= 0.6 * RESULTS["bare"]


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
