"""``tabulate.tally`` against a plain column sum of the same ballots, measured in the same run.

Target (issue 12): counting a statewide ballot matrix by the vote-for-N rules (overvoted contests
count for no one, undervotes and overvotes counted) within 1.5x of ``ballots.sum(axis=0)``, which
counts marks and applies no rule at all. The ballots: 1,313,759 rows (the Mississippi 2020 count)
of the statewide scenario's 14 columns, marked at random with a few overvotes and blanks.
The two are timed in alternating rounds, so both see the same machine load. Run:

    .venv/bin/pytest benchmarks/test_tally_bench.py --benchmark-only -s
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from pollsim.scenario import build_election, load_scenario
from pollsim.tabulate import tally, tally_votes

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "ms-2020-general.yaml"
BALLOTS = 1_313_759


@pytest.fixture(scope="module")
def statewide():
    election = build_election(load_scenario(SCENARIO).election)
    rng = np.random.default_rng(12)
    ballots = np.zeros((BALLOTS, election.width), np.uint8)
    for c in election.contests:
        sl = election.contest_slices[c.id]
        k = sl.stop - sl.start
        pick = rng.integers(0, k + 1, BALLOTS)  # k: left blank
        rows = np.flatnonzero(pick < k)
        ballots[rows, sl.start + pick[rows]] = 1
        over = rng.random(BALLOTS) < 0.002  # one more mark on the first choice
        ballots[over, sl.start] = 1
    return election, ballots


def best_interleaved(fns, rounds: int = 9) -> list[float]:
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def test_tally_within_one_and_a_half_column_sums(benchmark, statewide):
    election, ballots = statewide
    plain, full, votes = best_interleaved([lambda: ballots.sum(axis=0), lambda: tally(election, ballots), lambda: tally_votes(election, ballots)])
    counted = benchmark.pedantic(tally, args=(election, ballots), rounds=3, warmup_rounds=0)
    assert sum(t.ballots for t in counted.values()) == BALLOTS * len(election.contests)
    benchmark.extra_info.update(plain_seconds=plain, tally_seconds=full, ratio=full / plain)
    print(f"\n{BALLOTS:,} ballots x {election.width}: column sum {plain * 1000:.0f} ms, tally {full * 1000:.0f} ms "
          f"({full / plain:.2f}x), tally_votes {votes * 1000:.0f} ms ({votes / plain:.2f}x)")  # fmt: skip
    assert full <= 1.5 * plain
