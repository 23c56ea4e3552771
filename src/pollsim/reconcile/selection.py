"""Which counties and precincts the Secretary of State audits under §23-15-615, and by when.

Every county is randomly selected and audited once in each four-year period, and a county audited
in the last four years is not selected again unless a discrepancy triggers it. pollsim meets both
rules with a published-seed rotation: the seed shuffles the counties once, and the county in
position *i* of the shuffle is audited in the years *y* with ``y % 4 == i % 4``. So each county is
audited exactly once in any four consecutive years and never twice within four years, while which
year a county gets is random and anyone holding the seed can recompute it. Counties where a
discrepancy met the threshold are added to the year's list ("triggered").

Within a selected county the precinct(s) to audit are drawn with the same published seed (and
the year and county), leaving out precincts whose election is being contested (§§23-15-927, 951,
955). Deadlines follow from the election date: the registrar's report within 10 days; the audit
no earlier than 30 days before and no later than 90 days after the election; the report of a
completed audit posted within 120 days; the analysis to the Governor, Lieutenant Governor and
Speaker within 150 days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np


def _rng(*key) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def rotation(counties: list[str], seed: str) -> dict[str, int]:
    """Each county's slot 0..3 in the four-year rotation (its year is any ``y`` with ``y % 4 == slot``)."""
    order = _rng("pollsim-615-rotation", seed).permutation(sorted(counties))
    return {str(c): i % 4 for i, c in enumerate(order)}


@dataclass(frozen=True)
class Deadlines:
    report_due: dt.date  # registrar's report to the Secretary of State: 10 days
    audit_window: tuple[dt.date, dt.date]  # 30 days before to 90 days after the election
    public_report_due: dt.date  # 120 days
    analysis_due: dt.date  # 150 days


def deadlines(election_date: dt.date) -> Deadlines:
    d = election_date
    days = dt.timedelta
    return Deadlines(d + days(10), (d - days(30), d + days(90)), d + days(120), d + days(150))


@dataclass(frozen=True)
class CountySelection:
    county: str
    reason: str  # "rotation" or "discrepancy"
    precincts: tuple[str, ...]


def select_audits(
    counties: list[str],
    year: int,
    seed: str,
    *,
    triggered: Collection[str] = frozenset(),
    precincts: dict[str, list[str]] | None = None,
    contested: Collection[str] = frozenset(),
    per_county: int = 1,
) -> list[CountySelection]:
    """The counties audited in ``year`` (rotation plus discrepancy-triggered), with their precincts."""
    slots = rotation(counties, seed)
    chosen = [(c, "rotation") for c in sorted(counties) if slots[c] == year % 4]
    chosen += [(c, "discrepancy") for c in sorted(triggered) if slots.get(c) != year % 4]
    out = []
    for county, reason in chosen:
        pool = [p for p in (precincts or {}).get(county, []) if p not in contested]
        k = min(per_county, len(pool))
        picks: Sequence[int] | np.ndarray = _rng("pollsim-615-precincts", seed, year, county).choice(len(pool), k, replace=False) if k else []
        out.append(CountySelection(county, reason, tuple(pool[i] for i in sorted(picks))))
    return out
