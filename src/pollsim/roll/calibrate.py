"""Calibration: the November 2020 roll of every county equal to the EAVS 2020 figures.

The population flows and the law are left as they are; the calibration adjusts three things per
county, and nothing else:

1. **Notice practice**: the share of notice triggers the county acts on. Counties differ widely
   (EAVS 2020: 7 inactive voters of 7,953 in Kemper, 36 % in Tunica). Two quick passes over a
   fifth of the people (the same people both times) give the five groups of every county a
   different practice (x0.25 to x4 around a first guess, then x0.6 to x1.6 around the fit); a line through log
   inactive share against log practice (one slope for the state, fitted across the groups) gives
   the practice that meets the county's EAVS inactive share.
2. **The size of its roll on the first day** (1 January 2018, when the roll is built clean, every
   registrant active and living where registered): scaled by the ratio of the EAVS total to the
   quick passes' November 2020 total.
3. **Records of people who left the state and are still on the roll**, added at the count to make
   it exact: active ones who voted in the 2019 governor's election and left unreported, inactive
   ones sent a notice in December 2016 who never answered. Nothing would have happened to such a
   record before November 2020 (the no-vote rule and the removal clock cannot reach it sooner, and
   the person does not vote), so adding k of them raises the count by exactly k. Every roll
   carries deadwood of this kind; this is the gap between what the rates produce and what the
   county reported.

For the added records never to be negative, the full run aims low: by three standard deviations
of the quick passes' estimate (a fifth of the people: 2.2 times the relative error of the full run),
at least 5 % of the inactive voters (the noise there is half again a count's: the practice is fitted
on it) and 0.3 % of the roll, plus three times the inactive margin on
the total (inactive voters short of their aim are active voters over theirs). When chance still
leaves a county above its target, that county is aimed lower and the roll drawn again (at most four
attempts; one is the rule). The count compared is the pollbook of the 3 November 2020 general
(active and inactive records registered by the 5 October deadline), before any vote is cast.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pollsim.errors import PollsimError
from pollsim.roll.calendar import Election, day
from pollsim.roll.engine import Plan, Simulation
from pollsim.roll.geography import Geography
from pollsim.roll.rates import Law, Rates
from pollsim.roll.table import Status

NOVEMBER_2020 = day("2020-11-03")


class _Counted(Exception):
    pass


class _Over(Exception):
    """A county's roll came out above its target: args are the active and inactive counts."""


@dataclass
class Calibration:
    """What the calibration chose and what it reached, per county."""

    target_active: np.ndarray
    target_inactive: np.ndarray
    simulated_active: np.ndarray  # before the added records
    simulated_inactive: np.ndarray
    added_active: np.ndarray
    added_inactive: np.ndarray
    practice: np.ndarray
    sizes: np.ndarray
    attempts: int

    def rows(self, names: tuple[str, ...]) -> list[dict[str, object]]:
        out = []
        for c, name in enumerate(names):
            out.append({"county": name, "eavs_active": int(self.target_active[c]), "eavs_inactive": int(self.target_inactive[c]),
                        "rates_active": int(self.simulated_active[c]), "rates_inactive": int(self.simulated_inactive[c]),
                        "added_active": int(self.added_active[c]), "added_inactive": int(self.added_inactive[c]),
                        "practice": round(float(self.practice[c]), 6), "roll_2018": int(self.sizes[c])})  # fmt: skip
        return out


def _count(sim: Simulation, e: Election, groups: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Active and inactive records in the pollbook of ``e``, per county (and per row group, if ``groups`` > 1)."""
    r = sim.roll
    rows = np.flatnonzero(r.listed(e.deadline))
    key = r.county[rows].astype(np.intp) * groups + rows % groups
    inactive = r.status[rows] == Status.INACTIVE
    size = sim.geo.n_counties * groups
    a = np.bincount(key[~inactive], minlength=size).reshape(-1, groups)
    i = np.bincount(key[inactive], minlength=size).reshape(-1, groups)
    return (a, i) if groups > 1 else (a[:, 0], i[:, 0])


def _measure(sim: Simulation) -> tuple[np.ndarray, np.ndarray]:
    """Run ``sim`` to the November 2020 pollbook and count it, per county and practice group."""
    box: list[tuple[np.ndarray, np.ndarray]] = []

    def hook(s: Simulation, e: Election) -> None:
        if e.date == NOVEMBER_2020:
            box.append(_count(s, e, max(1, len(s.plan.practice_spread))))
            raise _Counted

    try:
        sim.run(hook, until=NOVEMBER_2020)
    except _Counted:
        pass
    return box[0]


def _count_and_fill(sim: Simulation, ta: np.ndarray, ti: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run ``sim`` through the November 2020 pollbook, adding the records that make it exact."""
    counted: list[tuple[np.ndarray, np.ndarray]] = []

    def hook(s: Simulation, e: Election) -> None:
        if e.date == NOVEMBER_2020 and not counted:
            da, di = _count(s, e)
            counted.append((da, di))
            if (da > ta).any() or (di > ti).any():
                raise _Over(da, di)
            s.append(s.population.reserve(ta - da, ti - di))

    sim.run(hook, until=NOVEMBER_2020)
    return counted[0]


def _margin(target: np.ndarray, share: float, inflate: float = 1.0, churn: float = 1.0) -> np.ndarray:
    """How far below ``target`` to aim: ``share`` of it, or three standard deviations of a count estimated
    from ``1 / inflate`` of the people, whichever is more. ``churn``: the share of the count that is
    chance (a county's roll is mostly people who stay; only those who come and go vary)."""
    return np.maximum(share * target, 3 * np.sqrt(target * inflate * churn))


def _fit(practice: np.ndarray, spread: tuple[float, ...], a: np.ndarray, i: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, float]:
    """Per county, the practice whose inactive share is ``want``; and the share's elasticity to practice.

    The elasticity is one for the state: the slope of log share on log practice across each county's
    groups (county means removed, groups with at least 20 inactive voters). Each county's practice then
    moves from where its groups were, on average, by its share's distance from ``want`` along that slope.
    """
    p = np.minimum(practice[:, None] * np.asarray(spread)[None, :], 1.0)
    share = i / np.maximum(a + i, 1)
    ok = (i >= 20) & (p > 0)
    x, y = np.log(np.where(ok, p, 1.0)), np.log(np.where(ok, share, 1.0))
    n = np.maximum(ok.sum(axis=1), 1)
    dx = (x - ((x * ok).sum(axis=1) / n)[:, None]) * ok
    dy = (y - ((y * ok).sum(axis=1) / n)[:, None]) * ok
    slope = float(np.clip((dx * dy).sum() / max((dx * dx).sum(), 1e-9), 0.2, 1.5)) if ok.sum() >= 4 else 0.5
    mean_p = np.exp((np.log(np.maximum(p, 1e-12)) * (a + i)).sum(axis=1) / np.maximum((a + i).sum(axis=1), 1))
    got = i.sum(axis=1) / np.maximum((a + i).sum(axis=1), 1)
    ratio = np.maximum(want, 1e-12) / np.maximum(got, 0.5 / np.maximum((a + i).sum(axis=1), 1))
    fitted = mean_p * ratio ** (1 / slope)
    return np.clip(np.where(want > 0, fitted, 0.0), 0.0, 1.0), slope


def calibrated(geo: Geography, rates: Rates, law: Law, seed: int, scale: float, first: int, last: int,
               sink: Callable[[Any], None] | None = None) -> tuple[Simulation, Calibration]:  # fmt: skip
    """A simulation whose November 2020 roll equals EAVS 2020 per county, run through that election
    (:meth:`Simulation.run` it on to ``last``); ``sink`` takes each recorded election."""
    ta = np.round(geo.active_2020 * scale).astype(np.int64)
    ti = np.round(geo.inactive_2020 * scale).astype(np.int64)
    total = ta + ti
    want = ti / np.maximum(total, 1)
    practice = np.clip(want / rates.full_practice_inactive_share, 0.01, 1.0)
    quick = min(scale, QUICK)
    sizes = np.round(total * quick / scale).astype(np.int64)
    slope = 0.5
    fresh = Simulation(Plan(geo, rates, law, seed, quick, NOVEMBER_2020 + 31, sizes, practice, NEVER_RECORD, NEVER_RECORD, SPREADS[0]))
    spare = copy.deepcopy(fresh)  # the same people again for the second pass (only the practice differs)
    for spread, sim in zip(SPREADS, (fresh, spare), strict=True):  # practice varied across five groups of each county
        sim.plan = replace(sim.plan, practice=practice, practice_spread=spread)
        a, i = _measure(sim)
        practice, slope = _fit(practice, spread, a, i, want)
    del fresh, spare
    sizes = np.round(sizes * total * quick / scale / np.maximum(a.sum(axis=1) + i.sum(axis=1), 1)).astype(np.int64)
    # the full run aims low by three standard deviations of the quick passes' estimates (counts a fifth
    # the size carry 2.2 times the relative chance error), so that every count stays under its target;
    # the calibration's records make up the rest
    slack = 1.0
    low_i = np.maximum(ti - slack * _margin(ti, 0.05, scale / quick, 1.5), 0)
    low_total = total - slack * _margin(total, 0.003, scale / quick, CHURN) - 3 * (ti - low_i)  # inactive voters short are active ones over
    full = np.round(sizes * scale / quick * low_total / np.maximum(total, 1)).astype(np.int64)
    aim = np.clip(practice * (np.maximum(low_i, 0.5) / np.maximum(ti, 0.5)) ** (1 / slope), 0.0, 1.0)
    for attempt in range(1, ATTEMPTS + 1):
        sim = Simulation(Plan(geo, rates, law, seed, scale, last, full, aim, first, last))
        sim.sink = sink
        try:
            da, di = _count_and_fill(sim, ta, ti)
        except _Over as over:  # a county above its target by chance: aim it lower and draw the roll again
            da, di = over.args
            del sim, over  # before the next roll is drawn (memory)
            bad = (da > ta) | (di > ti)
            slack += 1.0
            low_i = np.maximum(ti - slack * _margin(ti, 0.05, scale / quick, 1.5), 0)
            low_total = total - slack * _margin(total, 0.003, scale / quick, CHURN) - 3 * (ti - low_i)
            full = np.where(bad, np.round(full * low_total / np.maximum(da + di, 1)), full).astype(np.int64)
            aim = np.where(bad & (di > 0), np.clip(aim * (np.maximum(low_i, 0.5) / np.maximum(di, 0.5)) ** (1 / slope), 0.0, 1.0), aim)
            continue
        return sim, Calibration(ta, ti, da, di, ta - da, ti - di, aim, full, attempt)
    raise PollsimError(f"calibration to EAVS 2020 failed: a county's roll stayed above its November 2020 count after {ATTEMPTS} attempts")


CHURN = 0.3
"""Share of a county's roll that comes or goes between 2018 and November 2020 (deaths, moves, new
registrants, notices): the part of its count that chance moves."""
QUICK = 0.2
"""Share of the people in the quick passes."""
SPREADS = ((0.25, 0.5, 1.0, 2.0, 4.0), (0.6, 0.8, 1.0, 1.25, 1.6))
"""The practice multipliers of the two quick passes: wide, then around the first fit."""
ATTEMPTS = 4
NEVER_RECORD = day("2100-01-01")
