"""§23-15-615 reconciliation of all 1,765 Mississippi precincts, vectorized vs a per-precinct loop.

Target (issue #5): < 20 ms for the state. Run:

    .venv/bin/pytest benchmarks/test_reconcile_bench.py --benchmark-only -s
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pollsim.reconcile import CHECKS, reconcile
from pollsim.reconcile.totals import PrecinctCounts

N = 1765
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def counts() -> PrecinctCounts:
    rng = np.random.default_rng(0)
    voted = rng.integers(0, 5000, N)
    stock = voted + rng.integers(0, 500, N)
    spoiled = rng.integers(0, 20, N)
    return PrecinctCounts(
        pollbook_voted=voted, receipt_signatures=voted - rng.integers(0, 3, N), absentee=rng.integers(0, 300, N),
        ballots_received=stock, paper_voted=voted, paper_unused=stock - voted - spoiled, paper_spoiled=spoiled,
        dre_public=voted, scanner_public=np.zeros(N, np.int64), tabulated=voted - rng.integers(0, 2, N),
    )  # fmt: skip


def loop_reconcile(c: PrecinctCounts) -> list[dict]:
    """The same report, one precinct at a time in plain Python (the baseline)."""
    out = []
    for i in range(N):
        a, ab = int(c.pollbook_voted[i]), int(c.absentee[i])
        b = int(c.receipt_signatures[i]) + ab
        cc = int(c.ballots_received[i])
        d = int(c.paper_voted[i] + c.paper_unused[i] + c.paper_spoiled[i])
        e = int(c.dre_public[i])
        f = int(c.tabulated[i]) + ab
        v = f
        limit = 1 if v <= 20 else 2 if v <= 40 else 3 if v <= 60 else 4 if v <= 80 else math.ceil(3 * v / 100) if v <= 500 else 15
        diffs = {"pollbook_vs_receipt_book": a + ab - b, "ballots_received_vs_accounted": cc - d, "voters_vs_ballots": a + ab - f, "ballots_vs_counters": f - ab - e - int(c.scanner_public[i]), "absentee_receipts_vs_counted": 0}
        out.append({k: abs(x) >= limit for k, x in diffs.items()})
    return out


def test_loop(benchmark, counts):
    benchmark(loop_reconcile, counts)
    TIMES["loop"] = benchmark.stats.stats.min


def test_vectorized(benchmark, counts):
    rec = benchmark(reconcile, counts)
    TIMES["vector"] = benchmark.stats.stats.min
    flags = loop_reconcile(counts)
    for k in CHECKS:
        assert rec.flags[k].tolist() == [f[k] for f in flags]
    print(f"\n1,765 precincts: vectorized {TIMES['vector'] * 1000:.2f} ms, loop {TIMES['loop'] * 1000:.2f} ms, {TIMES['loop'] / TIMES['vector']:.1f}x")
    assert TIMES["vector"] < 0.020
