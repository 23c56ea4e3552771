"""Calibration: the November 2020 roll of every county equal to the EAVS 2020 figures.

The population flows and the law are left as they are; the calibration adjusts three things per
county, and nothing else:

1. **Notice practice**: the share of notice triggers the county acts on. Counties differ widely
   (EAVS 2020: 7 inactive voters of 7,953 in Kemper, 36 % in the most); a county's practice starts
   at its EAVS inactive share over ``Rates.full_practice_inactive_share`` (capped at 1).
2. **The size of its roll on the first day** (1 January 2017, when the roll is built clean).
   A quick pass at a quarter of the population measures what the years to November 2020 do to
   each county's roll; the sizes and practices are scaled by the ratio of target to result, aiming a
   little low (0.4 % of the roll, or 3 standard deviations of chance, whichever is more; 5 % for
   inactive voters).
3. **Records of people who left the state before 2017 and are still on the roll**, added to make
   the count exact: active ones who last voted in the 2016 general, inactive ones sent a notice
   just before 2017. Nothing happens to such a record before November 2020 (the no-vote rule
   and the removal clock cannot reach it sooner, and the person does not vote), so adding k of
   them raises the count by exactly k. Every roll carries deadwood of this kind; this is the gap
   between what the rates produce and what the county reported.

The count compared is the pollbook of the 3 November 2020 general (active and inactive records
registered by the 5 October deadline), before any vote is cast. When the quick pass leaves a
county above its target (a chance excess), that county's size or practice is lowered and the
roll drawn again (at most three times).
"""

from __future__ import annotations

from dataclasses import dataclass

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
                        "practice": round(float(self.practice[c]), 6), "roll_2017": int(self.sizes[c])})  # fmt: skip
        return out


def _count(sim: Simulation, e: Election) -> tuple[np.ndarray, np.ndarray]:
    r = sim.roll
    listed = r.listed(e.deadline)
    nc = sim.geo.n_counties
    a = np.bincount(r.county[listed & (r.status == Status.ACTIVE)], minlength=nc)
    i = np.bincount(r.county[listed & (r.status == Status.INACTIVE)], minlength=nc)
    return a.astype(np.int64), i.astype(np.int64)


def _measure(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    sim = Simulation(plan)
    box: list[tuple[np.ndarray, np.ndarray]] = []

    def hook(s: Simulation, e: Election) -> None:
        if e.date == NOVEMBER_2020:
            box.append(_count(s, e))
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


def _margin(target: np.ndarray, share: float) -> np.ndarray:
    return np.maximum(share * target, 3 * np.sqrt(target))


def _update(sizes: np.ndarray, practice: np.ndarray, a: np.ndarray, i: np.ndarray, ta: np.ndarray, ti: np.ndarray,
            slack: float, elasticity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Scale each county's size by target over result, and its practice by that ratio to the power 1/elasticity
    (inactive voters grow slower than the practice: a trigger missed once comes again), aiming ``slack`` margins low."""
    total = ta + ti
    aim_inactive = np.maximum(ti - slack * _margin(ti, 0.05), 0)
    aim_total = total - slack * (_margin(total, 0.004) + ti - aim_inactive)  # inactive voters short are active ones over
    sizes = np.round(sizes * aim_total / np.maximum(a + i, 1)).astype(np.int64)
    ratio = np.maximum(aim_inactive, 0.5) / np.maximum(i, 0.5)
    practice = np.clip(practice * ratio ** (1 / elasticity), 0.0, 1.0)
    return sizes, practice


def _elasticity(p0: np.ndarray, i0: np.ndarray, p1: np.ndarray, i1: np.ndarray) -> np.ndarray:
    """How inactive voters respond to practice, measured between two passes (0.5 where it cannot be)."""
    ok = (p0 > 0) & (p1 > 0) & (i0 > 0) & (i1 > 0) & (np.abs(np.log(np.maximum(p1, 1e-12) / np.maximum(p0, 1e-12))) > 0.05)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.log(np.maximum(i1, 1) / np.maximum(i0, 1)) / np.log(np.maximum(p1, 1e-12) / np.maximum(p0, 1e-12))
    return np.where(ok, np.clip(e, 0.2, 1.0), 0.5)


def calibrated(geo: Geography, rates: Rates, law: Law, seed: int, scale: float, first: int, last: int) -> tuple[Simulation, Calibration]:
    """A simulation whose November 2020 roll equals EAVS 2020 per county, run to ``last``."""
    last = max(last, NOVEMBER_2020 + 31)
    ta = np.round(geo.active_2020 * scale).astype(np.int64)
    ti = np.round(geo.inactive_2020 * scale).astype(np.int64)
    practice = np.clip(ti / np.maximum(ta + ti, 1) / rates.full_practice_inactive_share, 0.0, 1.0)
    quick = min(scale, 0.25)
    qa, qi = np.round(ta * quick / scale).astype(np.int64), np.round(ti * quick / scale).astype(np.int64)
    sizes = qa + qi
    elasticity = np.full(len(ti), 0.5)
    before: tuple[np.ndarray, np.ndarray] | None = None
    for _ in range(QUICK_PASSES):  # a quarter of the people, to find the sizes and practices
        a, i = _measure(Plan(geo, rates, law, seed, quick, NOVEMBER_2020 + 31, sizes, practice, NEVER_RECORD, NEVER_RECORD))
        if before is not None:
            elasticity = _elasticity(before[0], before[1], practice, i)
        before = (practice, i)
        sizes, practice = _update(sizes, practice, a, i, qa, qi, 0.0, elasticity)
    slack = 1.0  # the full run aims one margin low, so chance leaves the counts under their targets
    low = np.maximum(ti - slack * _margin(ti, 0.05), 0)
    sizes = np.round(sizes * scale / quick * (ta + ti - slack * (_margin(ta + ti, 0.004) + ti - low)) / np.maximum(ta + ti, 1)).astype(np.int64)
    practice = np.clip(practice * (np.maximum(low, 0.5) / np.maximum(ti, 0.5)) ** (1 / elasticity), 0.0, 1.0)
    for attempt in range(1, ATTEMPTS + 1):
        sim = Simulation(Plan(geo, rates, law, seed, scale, last, np.maximum(sizes, 0), practice, first, last))
        try:
            da, di = _count_and_fill(sim, ta, ti)
        except _Over as over:
            da, di = over.args
            slack += 1.0
            over_any = (da > ta) | (di > ti)
            new_sizes, new_practice = _update(sizes, practice, da, di, ta, ti, slack, elasticity)
            sizes = np.where(over_any, new_sizes, sizes)
            practice = np.where(over_any, new_practice, practice)
            continue
        return sim, Calibration(ta, ti, da, di, ta - da, ti - di, practice, sizes, attempt)
    raise PollsimError(f"calibration to EAVS 2020 failed: a county's roll stayed above its November 2020 count after {ATTEMPTS} attempts")


QUICK_PASSES = 3
ATTEMPTS = 6
NEVER_RECORD = day("2100-01-01")
