"""The Mississippi 2024 statewide day (~1.2 million voters) on 1 and 2 worker processes.

Targets (issue #7): <= 60 s wall with 2 workers, peak memory <= 4 GB, parallel efficiency
(time on 1 worker / (2 x time on 2 workers)) >= 85 %. Both runs happen in the same session so
the ratio holds on a noisy machine. Run (about 4 minutes):

    .venv/bin/pytest benchmarks/test_scale_bench.py --benchmark-only -s
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from pollsim.precinct.election_day import run_election_day
from pollsim.scale import executor
from pollsim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "ms-2024-general.yaml"
TIMES: dict[int, float] = {}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.mark.parametrize("workers", [1, 2])
def test_statewide_day(benchmark, scenario, workers):
    def run():
        with executor(workers) as ex:
            return run_election_day(scenario, 3, executor=ex)

    result = benchmark.pedantic(run, rounds=1, warmup_rounds=0)
    TIMES[workers] = benchmark.stats.stats.min
    voters = sum(len(p.voters) for p in result.precincts)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\n{workers} worker(s): {voters:,} voters in {TIMES[workers]:.1f} s; peak RSS parent {peak_self:.0f} MB, largest child {peak_children:.0f} MB")
    if workers == 2 and 1 in TIMES:
        eff = TIMES[1] / (2 * TIMES[2])
        print(f"parallel efficiency 1 -> 2 workers: {eff:.0%}")
