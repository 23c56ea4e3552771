"""The Mississippi 2024 statewide day (~1.2 million voters) on 1 and 2 worker processes.

Targets (issue #7): <= 60 s wall with 2 workers, peak memory <= 4 GB, parallel efficiency
(time on 1 worker / (2 x time on 2 workers)) >= 85 %. Both runs happen in the same session so
the ratio holds on a noisy machine. Then the same day on a Dask LocalCluster (processes, one
thread per worker; needs the extra ``pollsim[dask]``) of 1, 2 and 4 workers: efficiency
T1 / (n Tn); on a 2-core machine 4 workers oversubscribe it. Run (about 6 minutes):

    .venv/bin/pytest benchmarks/test_scale_bench.py --benchmark-only -s

(``POLLSIM_BENCH_PRECINCTS=K``: only the first K precincts.) ``benchmarks/statewide.py`` (``make bench-statewide``) measures the whole ``pollsim run`` and
prints the same curves as markdown tables.
"""

from __future__ import annotations

import importlib
import os
import resource
from pathlib import Path

import pytest

from pollsim.precinct.election_day import run_election_day
from pollsim.scale import executor
from pollsim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "ms-2024-general.yaml"
TIMES: dict[int, float] = {}
DASK_TIMES: dict[int, float] = {}


@pytest.fixture(scope="module")
def scenario():
    s = load_scenario(SCENARIO)
    k = int(os.environ.get("POLLSIM_BENCH_PRECINCTS", "0"))  # a quick look: only the first K precincts
    return s.model_copy(update={"precincts": s.precincts[:k]}) if k else s


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


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_statewide_day_dask(benchmark, scenario, workers):
    pytest.importorskip("distributed")
    with executor(workers, "dask") as ex:  # the cluster's start-up and pollsim's import on the workers are not timed
        ex._client.run(importlib.import_module, "pollsim.precinct.election_day")
        result = benchmark.pedantic(lambda: run_election_day(scenario, 3, executor=ex), rounds=1, warmup_rounds=0)
    DASK_TIMES[workers] = benchmark.stats.stats.min
    cores = os.cpu_count() or 1
    note = f" (oversubscribed: {workers} workers on {cores} cores)" if workers > cores else ""
    print(f"\nDask LocalCluster, {workers} worker(s): {len(result.precincts):,} precincts in {DASK_TIMES[workers]:.1f} s{note}")
    if 1 in DASK_TIMES:
        print(f"efficiency T1 / ({workers} x T{workers}): {DASK_TIMES[1] / (workers * DASK_TIMES[workers]):.0%}")
