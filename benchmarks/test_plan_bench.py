"""How fast ``pollsim plan`` is, against the SimPy day it reproduces (issue 18, item 5).

- **The training precinct**: the whole plan (search, today's room, one unit fewer, what-if curves,
  20 days each) against the same configurations' days simulated one by one with
  :func:`pollsim.precinct.simulate_precinct` (the planner's lines give the same waits: tests/
  precinct/test_lines.py), timed in alternation in one process. Target: under 10 s.
- **How the cost grows**: plans of the first 10, 20 and 40 Mississippi 2024 precincts at 20
  replications, and of 20 precincts at 5, 10 and 20 replications; the exponents of a log-log fit.
- **The 2024 statewide plan** (1,736 precincts, 20 replications per configuration) on a pool of two
  worker processes, against one statewide election day (the SimPy model) on the same pool in the
  same run. Target: under 10 minutes.

Run: ``.venv/bin/pytest benchmarks/test_plan_bench.py --benchmark-only -s -p no:randomly``
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from pollsim.plan import plan_scenario, settings_for
from pollsim.plan.run import planning_scenario
from pollsim.precinct import simulate_precinct
from pollsim.precinct.election_day import precinct_seed, run_election_day
from pollsim.scale import executor
from pollsim.scenario import build_election, load_scenario

ROOT = Path(__file__).resolve().parents[1] / "scenarios"


def _simpy_days(scenario, configs, seed: int, days: int) -> None:
    """The configurations' days on the SimPy day, one by one (the baseline)."""
    election = build_election(scenario.election)
    spec = scenario.precincts[0]
    fields = ("pollbook_stations", "dre_units")
    for config in configs:
        eq = spec.equipment.model_copy(update=dict(zip(fields, config, strict=False)))
        one = spec.model_copy(update={"equipment": eq})
        for r in range(days):
            simulate_precinct(scenario, election, one, precinct_seed(seed + r, 0))


def test_the_training_precinct_plan_against_the_simpy_day(benchmark):
    scenario = load_scenario(ROOT / "training-precinct.yaml")
    settings = settings_for(scenario)
    result = plan_scenario(scenario, settings)
    tried = sorted({f.config for p in result.precincts for f in (p.search.today, p.search.recommended, *p.search.one_fewer.values(),
                                                               *(g for c in p.whatif.values() for g in c))})  # fmt: skip
    sc = planning_scenario(scenario, settings)
    times: dict[str, list[float]] = {"plan": [], "simpy": []}
    for _ in range(3):
        t = time.perf_counter()
        plan_scenario(scenario, settings)
        times["plan"].append(time.perf_counter() - t)
        t = time.perf_counter()
        _simpy_days(sc, tried, settings.seed, settings.replications)
        times["simpy"].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}
    benchmark.pedantic(plan_scenario, args=(scenario, settings), rounds=1, iterations=1)
    configs = result.precincts[0].search.tried
    print(f"\ntraining precinct plan: {best['plan']:.2f} s ({configs} configurations x 20 days, what-if curves included); "
          f"the reported {len(tried)} configurations' 20 days on the SimPy day: {best['simpy']:.2f} s; "
          f"planner / SimPy = {best['plan'] / best['simpy']:.2f} for {configs / len(tried):.1f}x the configurations")  # fmt: skip
    assert best["plan"] < 10.0


def _plan_time(scenario, precincts: int, replications: int) -> float:
    part = scenario.model_copy(update={"precincts": scenario.precincts[:precincts]})
    t = time.perf_counter()
    plan_scenario(part, settings_for(part, replications=replications), whatif=0)
    return time.perf_counter() - t


def _exponent(xs: list[int], ts: list[float]) -> float:
    return float(np.polyfit(np.log(xs), np.log(ts), 1)[0])


def test_how_the_cost_grows_with_precincts_and_replications(benchmark):
    scenario = load_scenario(ROOT / "ms-2024-general.yaml")
    by_precincts = {n: _plan_time(scenario, n, 20) for n in (10, 20, 40)}
    by_reps = {r: _plan_time(scenario, 20, r) for r in (5, 10, 20)}
    benchmark.pedantic(_plan_time, args=(scenario, 10, 20), rounds=1, iterations=1)
    a = _exponent(list(by_precincts), list(by_precincts.values()))
    b = _exponent(list(by_reps), list(by_reps.values()))
    print("\nplan time (one process): " + ", ".join(f"{n} precincts {t:.1f} s" for n, t in by_precincts.items())
          + f" (x{20}); 20 precincts: " + ", ".join(f"{r} replications {t:.1f} s" for r, t in by_reps.items()))  # fmt: skip
    print(f"cost ~ precincts^{a:.2f} x replications^{b:.2f}")
    assert 0.6 < a < 1.4  # about linear in precincts: each is planned on its own


@pytest.mark.skipif(__name__ == "__main__", reason="run with pytest")
def test_the_2024_statewide_plan_on_two_cores(benchmark):
    scenario = load_scenario(ROOT / "ms-2024-general.yaml")
    settings = settings_for(scenario)
    with executor(2, "process", None) as ex:
        t = time.perf_counter()
        run_election_day(scenario, scenario.seed, executor=ex)
        day = time.perf_counter() - t
        t = time.perf_counter()
        result = plan_scenario(scenario, settings, executor=ex)
        plan = time.perf_counter() - t
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    tried = sum(p.search.tried for p in result.precincts)
    voters = sum(float(p.search.today.voters.mean()) for p in result.precincts)
    days = tried * settings.replications
    print(f"\n2024 statewide plan, {len(result.precincts):,} precincts, {settings.replications} replications, 2 workers: {plan:.0f} s "
          f"({tried:,} configurations, {days:,} precinct-days, {voters * days / len(result.precincts) / plan:,.0f} voter-days/s); "
          f"one statewide SimPy day on the same pool: {day:.0f} s; the plan costs {plan / day:.1f} SimPy days for "
          f"{days / len(result.precincts):.0f} days of each precinct")  # fmt: skip
    assert plan < 600 and math.isfinite(plan)
