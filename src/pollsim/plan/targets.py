"""Service targets, as an election official states them, and the day's measures they are checked on.

A target is ``MEASURE<=LIMIT``: ``p95<=30`` (the 95th percentile of the waits of the day's voters
at most 30 minutes; any ``pNN``), ``mean<=10``, ``max<=60``, or ``lost<=1%`` (at most 1 % of the
voters who came gave up: :mod:`pollsim.precinct.giving_up`). The Presidential Commission on
Election Administration (2014) recommended that no voter wait more than 30 minutes, hence the
default ``p95<=30``. Waits are those of the voters who went on to vote, in minutes, from arrival
(a line before 7:00 counts), as ``pollsim run`` reports them (summary.json's ``wait_minutes``).

A configuration meets its targets when every target holds on at least ``meet`` of the simulated
days (19 of 20 by default): its *score* for a target is the ``meet``-th best day's measure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pollsim.errors import PollsimError

_TARGET = re.compile(r"^\s*(p(\d{1,2}(?:\.\d+)?)|mean|max|lost)\s*<=\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


class TargetError(PollsimError):
    """A target that cannot be read."""


@dataclass(frozen=True)
class Target:
    """``measure <= limit``; ``measure`` is ``p95``-style, ``mean``, ``max`` or ``lost`` (a share)."""

    measure: str
    limit: float

    @property
    def text(self) -> str:
        return f"lost<={100 * self.limit:g}%" if self.measure == "lost" else f"{self.measure}<={self.limit:g}"

    @property
    def on_waits(self) -> bool:
        return self.measure != "lost"

    def day_values(self, waits: np.ndarray, lost: np.ndarray, voters: np.ndarray) -> np.ndarray:
        """The measure of each lane's day: ``waits`` ``float[lanes, voters]`` (NaN: no wait to count),
        ``lost``/``voters`` ``int[lanes]``."""
        if self.measure == "lost":
            return lost / np.maximum(voters, 1)
        counted = np.isfinite(waits).any(axis=1)
        out = np.zeros(len(waits))
        if not counted.any():
            return out
        w = waits[counted]
        if self.measure == "mean":
            out[counted] = np.nanmean(w, axis=1)
        elif self.measure == "max":
            out[counted] = np.nanmax(w, axis=1)
        else:
            out[counted] = row_percentile(w, float(self.measure[1:]))
        return out


def row_percentile(values: np.ndarray, q: float) -> np.ndarray:
    """``np.nanpercentile(values, q, axis=1)`` (linear interpolation, numpy's own arithmetic), for
    rows with at least one number, without numpy's row-by-row loop."""
    s = np.sort(values, axis=1)  # NaN last
    k = np.isfinite(values).sum(axis=1)
    virtual = (k - 1) * (q / 100)
    lo = np.floor(virtual).astype(np.int64)
    hi = np.minimum(lo + 1, k - 1)
    t = virtual - lo
    rows = np.arange(len(s))
    a, b = s[rows, lo], s[rows, hi]
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def parse_target(text: str) -> Target:
    """``"p95<=30"`` -> Target("p95", 30.0); ``"lost<=1%"`` -> Target("lost", 0.01)."""
    m = _TARGET.match(text)
    if m is None:
        raise TargetError(f"target {text!r}: expected MEASURE<=LIMIT with MEASURE p50..p99, mean, max or lost, e.g. \"p95<=30\" or \"lost<=1%\"")
    measure, pct, value, percent = m.group(1), m.group(2), float(m.group(3)), m.group(4)
    if pct is not None and not 0 < float(pct) < 100:
        raise TargetError(f"target {text!r}: a percentile between p1 and p99")
    if measure == "lost":
        limit = value / 100 if percent else value
        if not 0 <= limit <= 1:
            raise TargetError(f"target {text!r}: the share of voters lost is between 0 and 100 %")
        return Target("lost", limit)
    if percent:
        raise TargetError(f"target {text!r}: waits are in minutes, not %")
    return Target(measure, value)


def score(values: np.ndarray, meet: int) -> np.ndarray:
    """The ``meet``-th best (smallest) of each row's day measures: the value the target must not exceed."""
    return np.sort(values, axis=-1)[..., meet - 1]
