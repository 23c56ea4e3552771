"""The roll's array shortcuts give the same numbers, bit for bit, as the plain formulas they replace.

The statewide roll must run in seconds (docs/performance.md, issue 17), so an election counts, looks
up and draws with integer tricks over whole columns. Each is checked here against the literal
formula it stands for (``np.where``, a lookup table, a float64 sum, ``np.unique``, a 2-D lookup):
the simulated roll, pollbooks and counts are the same to the last bit.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pollsim.election.roll import RollStatus
from pollsim.roll.calendar import NEVER, day
from pollsim.roll.engine import History
from pollsim.roll.geography import LOOKUP, _lookup, geography, pick_precincts
from pollsim.roll.population import _first_report
from pollsim.roll.rates import Rates, Source
from pollsim.roll.table import unique_rows
from pollsim.roll.vote import ACTIVE, BINS, LISTED, ON, RESTORED, RIGHT, _arrival_codes, _attempt, _attempts, _exact

from .conftest import Clerk

RNG = np.random.default_rng(17)


@pytest.mark.parametrize("unlisted", [0.0, 0.04, 0.3, 0.5, 1.0])
def test_who_comes_is_the_lookup_table(unlisted):
    can, on = RNG.random(10_000) < 0.7, RNG.random(10_000) < 0.6
    table = np.array([0.0, 0.0, unlisted, 1.0], dtype=np.float32)
    assert np.array_equal(_attempt(can, on, unlisted).view(np.uint32), table[can * 2 + on].view(np.uint32))


@pytest.mark.parametrize("unlisted, ineligible", [(0.04, 0.03), (0.1, 0.7), (1e-30, 0.03)])
def test_the_turnout_histogram_from_counts_is_the_float_sum(unlisted, ineligible):
    # the per-county turnout shift is solved on this histogram: it must be the same float64 numbers as the
    # sum of every row's weight (the exact path), or be that sum (the guard's fallback, e.g. for 1e-30)
    n, nc = 300_000, 5
    county = np.where(RNG.random(n) < 0.05, 255, RNG.integers(0, nc, n)).astype(np.intp)  # GONE rows too
    cell = county * BINS + RNG.integers(0, BINS, n)
    can = (RNG.random(n) < 0.7) & (county != 255)
    on = RNG.random(n) < 0.6
    p = _attempt(can, on, unlisted)
    probation = np.flatnonzero(can & (RNG.random(n) < 0.01))
    p[probation] = ineligible
    sim = SimpleNamespace(geo=SimpleNamespace(n_counties=nc), rates=Rates(unlisted_attempt=unlisted, ineligible_attempt=ineligible), roll=SimpleNamespace(n=n))
    expected = np.bincount(cell, weights=p, minlength=256 * BINS)[: nc * BINS].reshape(nc, BINS)
    assert np.array_equal(_attempts(sim, cell, can, on, p, probation), expected)  # type: ignore[arg-type]


def test_the_exactness_guard():
    assert _exact(3_100_000, (0.04, 0.03))  # the statewide roll: float32 0.04 is a multiple of 2**-27
    assert not _exact(20_000_000, (0.03,))  # 2**-29 steps: 20 million rows could lose a bit
    assert not _exact(10, (1e-30,))


def test_how_the_poll_manager_finds_a_voter():
    codes = _arrival_codes()
    for f in range(32):
        listed, on, active, restored, right = (bool(f & b) for b in (LISTED, ON, ACTIVE, RESTORED, RIGHT))
        want = RollStatus.NOT_ON_ROLL  # the rules in the order the poll manager applies them
        if on and not listed:
            want = RollStatus.NEW_REGISTRANT
        if listed and not right:
            want = RollStatus.WRONG_PRECINCT
        if listed and right and not active:
            want = RollStatus.INACTIVE
        if listed and right and active:
            want = RollStatus.RESTORED if restored else RollStatus.ACTIVE
        assert codes[f] == want, f
    assert codes[LISTED | ON | ACTIVE | RIGHT] == RollStatus.ACTIVE and codes[LISTED | ON | RIGHT] == RollStatus.INACTIVE


@pytest.mark.parametrize("rows", [np.zeros(0, np.int64), np.array([7]), np.array([5, 5, 5]), RNG.integers(0, 3_000_000, 60_000), RNG.integers(0, 50, 1000).astype(np.int32)])
def test_unique_rows_is_np_unique(rows):
    got = unique_rows(rows)
    assert np.array_equal(got, np.unique(rows)) and got.dtype == np.unique(rows).dtype


def test_history_spreads_a_shared_date_status_and_reason_over_its_rows():
    h = History()
    h.log(np.array([3, 1]), day("2020-04-01"), 2, 0, np.array([4, 4]))
    h.log(np.zeros(0, np.int64), day("2020-05-01"), 3, 1, np.zeros(0, np.uint8))  # nothing logged
    h.log(np.array([9, 8, 7]), np.array([day("2020-06-01"), day("2020-06-02"), day("2020-06-03")]), 3, 5, np.array([1, 2, 3]))
    a = h.arrays()
    assert a["row"].tolist() == [3, 1, 9, 8, 7] and a["row"].dtype == np.int32
    assert a["date"].tolist() == [day("2020-04-01")] * 2 + [day("2020-06-01"), day("2020-06-02"), day("2020-06-03")] and a["date"].dtype == np.int32
    assert a["status"].tolist() == [2, 2, 3, 3, 3] and a["reason"].tolist() == [0, 0, 5, 5, 5] and a["status"].dtype == np.uint8
    assert a["county"].tolist() == [4, 4, 1, 2, 3] and a["county"].dtype == np.uint8


def test_the_agenda_gives_each_tick_its_rows_in_order():
    sim = Clerk(last="2024-12-31").sim
    rows = RNG.permutation(5000)
    dates = RNG.integers(sim.now - 100, sim.last + 100, len(rows))
    dates[::50] = NEVER
    sim.schedule("apply", rows, dates)
    for k, tick in enumerate(sim.ticks):
        prev = sim.ticks[k - 1] if k else sim.now - 1
        want = rows[(dates > prev) & (dates <= tick) & (dates >= sim.now)]  # the first tick on or after the date
        got = sim.take("apply", k)
        assert got.tolist() == want.tolist() and got.dtype == np.intp
    assert not any(sim.agenda["apply"].get(k) for k in range(len(sim.ticks)))


def test_precincts_are_drawn_from_the_county_table():
    geo = geography(())
    county, u = RNG.integers(0, geo.n_counties, 100_000).astype(np.uint8), RNG.random(100_000)
    u[:3] = (0.0, 1.0 - 2**-53, 0.5)
    assert np.array_equal(pick_precincts(geo, county, u), _lookup(geo)[county, np.minimum((u * LOOKUP).astype(np.intp), LOOKUP - 1)])


def test_the_first_source_to_report_and_when():
    when = RNG.integers(day("2018-01-01"), day("2028-01-01"), 50_000)
    sources = [(4, Source(miss=0.3, delay_days=40.0)), (5, Source(miss=0.5, delay_days=20.0)), (6, Source(miss=0.9, delay_days=5.0))]
    got_at, got_who = _first_report(np.random.default_rng(3), when, sources)
    rng = np.random.default_rng(3)  # the same draws through the plain formula
    best, who = np.full(len(when), NEVER, dtype=np.int64), np.zeros(len(when), dtype=np.uint8)
    for code, src in sources:
        hit = rng.random(len(when), dtype=np.float32) >= np.float32(src.miss)
        at = when + np.ceil(rng.standard_exponential(len(when), dtype=np.float32) * np.float32(src.delay_days)).astype(np.int64)
        better = hit & (at < best)
        best, who = np.where(better, at, best), np.where(better, code, who)
    assert np.array_equal(got_at, np.minimum(best, NEVER).astype(np.int32)) and np.array_equal(got_who, who)
