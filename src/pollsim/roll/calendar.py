"""The election calendar the roll lives by: election days, book closing, holidays and the 90-day freeze.

A circuit clerk keeps the roll between elections. Four dates rule that work, and this module
computes each of them from the law, never from a table of dates:

- **Election days.** Federal general elections on the Tuesday after the first Monday in November
  of even years (2 U.S.C. §7), presidential in years divisible by 4; the state (governor's) general
  election on the same Tuesday in the year before a presidential year (2019, 2023, 2027). Primaries
  (Miss. Code §23-15-1031): with the presidential preference primary on the second Tuesday in March
  of presidential years (§23-15-1081), on the first Tuesday after the first Monday in June in other
  even years, and on the first Tuesday after the first Monday in August before the state general.
  Runoffs and special elections are not scheduled (pass extra dates to :func:`scheduled_elections`).
- **Book closing.** Only voters registered at least 30 days before an election are in its
  pollbook; when the 30th day is a Sunday or a legal holiday, the next business day counts
  (law.md, "Pollbooks and who votes a regular ballot"). A Saturday 30th day stands.
- **Legal holidays** (Miss. Code §3-3-7): 1 January; the third Mondays of January and February;
  the last Mondays of April and May; 4 July; the first Monday of September; 11 November; the
  fourth Thursday of November; 25 December. A holiday falling on a Sunday is kept on the Monday.
- **The 90-day freeze.** No systematic list maintenance in the 90 days before a federal election
  (52 U.S.C. §20507(c)(2)(A)): a program must be complete by the 90th day before, so day ``e - 90``
  is allowed and days ``e - 89`` to ``e`` are not. Removals for death, conviction or at the
  voter's request are outside the freeze (§20507(c)(2)(B)).

Dates are whole days since 1970-01-01 (``int``, or ``int32`` arrays), as numpy's ``datetime64[D]``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np

NEVER = np.int32(np.iinfo(np.int32).max)
"""A date that never comes (an event that does not happen)."""
NO_DATE = np.int32(np.iinfo(np.int32).min + 1)
"""A date long past (a voter who never voted)."""
EPOCH = dt.date(1970, 1, 1)


def day(value: str | dt.date) -> int:
    """Days since 1970-01-01 of an ISO date string (``2020-11-03``) or a date."""
    d = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return (d - EPOCH).days


def iso(d: int) -> str:
    """The ISO date of a day number."""
    return (EPOCH + dt.timedelta(days=int(d))).isoformat()


def _date(d: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(d))


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th ``weekday`` (Monday 0) of a month; n = -1: the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


@cache
def legal_holidays(year: int) -> frozenset[int]:
    """Mississippi's legal holidays in ``year`` (§3-3-7), as day numbers, Sunday holidays kept on Monday."""
    fixed = [dt.date(year, 1, 1), dt.date(year, 7, 4), dt.date(year, 11, 11), dt.date(year, 12, 25)]
    moving = [
        _nth_weekday(year, 1, 0, 3),  # Robert E. Lee's and Dr. Martin Luther King Jr.'s birthdays
        _nth_weekday(year, 2, 0, 3),  # Washington's birthday
        _nth_weekday(year, 4, 0, -1),  # Confederate Memorial Day
        _nth_weekday(year, 5, 0, -1),  # National Memorial Day and Jefferson Davis's birthday
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    ]
    days = {day(d) for d in fixed + moving}
    days |= {day(d) + 1 for d in fixed if d.weekday() == 6}
    return frozenset(days)


def is_holiday(d: int) -> bool:
    return d in legal_holidays(_date(d).year)


def is_business_day(d: int) -> bool:
    return _date(d).weekday() < 5 and not is_holiday(d)


def registration_deadline(election: int) -> int:
    """The last day a registration counts for ``election``'s pollbook: 30 days before, or the next business day."""
    d = election - 30
    if _date(d).weekday() == 6 or is_holiday(d):
        d += 1
        while not is_business_day(d):
            d += 1
    return d


def tuesday_after_first_monday(year: int, month: int) -> int:
    return day(_nth_weekday(year, month, 0, 1) + dt.timedelta(days=1))


@dataclass(frozen=True)
class Election:
    """One scheduled statewide election."""

    date: int
    """Election day (day number)."""
    label: str
    """What it is, e.g. ``2020 general (presidential)``."""
    federal: bool
    """A federal office is on the ballot (starts the 90-day freeze)."""
    federal_general: bool
    """A federal general election (the removal and retention clocks count these)."""
    governor: bool
    """The state general election at which the governor is chosen (the 2-year non-voting rule)."""

    @property
    def iso(self) -> str:
        return iso(self.date)

    @property
    def deadline(self) -> int:
        return registration_deadline(self.date)


def scheduled_elections(first_year: int, last_year: int, extra: tuple[Election, ...] = ()) -> tuple[Election, ...]:
    """Statewide primaries and general elections from ``first_year`` to ``last_year``, in date order."""
    out = list(extra)
    for y in range(first_year, last_year + 1):
        nov = tuesday_after_first_monday(y, 11)
        if y % 4 == 0:
            out.append(Election(day(_nth_weekday(y, 3, 1, 2)), f"{y} presidential preference and congressional primaries", True, False, False))
            out.append(Election(nov, f"{y} general (presidential)", True, True, False))
        elif y % 2 == 0:
            out.append(Election(tuesday_after_first_monday(y, 6), f"{y} congressional primaries", True, False, False))
            out.append(Election(nov, f"{y} general (congressional)", True, True, False))
        elif y % 4 == 3:
            out.append(Election(tuesday_after_first_monday(y, 8), f"{y} state primaries", False, False, False))
            out.append(Election(nov, f"{y} state general (governor)", False, False, True))
    return tuple(sorted(out, key=lambda e: e.date))


class Calendar:
    """The elections the roll lives through, with fast questions about them."""

    def __init__(self, elections: tuple[Election, ...]):
        self.elections = elections
        self.federal = np.array([e.date for e in elections if e.federal], dtype=np.int64)
        self.generals = np.array([e.date for e in elections if e.federal_general], dtype=np.int64)
        self.governors = np.array([e.date for e in elections if e.governor], dtype=np.int64)

    def frozen(self, t: int) -> bool:
        """Inside the 90 days before a federal election: ``e - 90 < t <= e`` (no systematic maintenance)."""
        k = int(np.searchsorted(self.federal, t, side="left"))
        return k < len(self.federal) and self.federal[k] - 90 < t

    def generals_before(self, t: int) -> tuple[int, int]:
        """The two most recent federal general elections strictly before ``t`` (latest first; NO_DATE if none)."""
        k = int(np.searchsorted(self.generals, t, side="left"))
        last = int(self.generals[k - 1]) if k >= 1 else int(NO_DATE)
        second = int(self.generals[k - 2]) if k >= 2 else int(NO_DATE)
        return last, second

    def count_between(self, kind: np.ndarray, after: np.ndarray, until: int) -> np.ndarray:
        """How many of the dates ``kind`` fall in ``(after, until]``, per element of ``after``."""
        return np.searchsorted(kind, until, side="right") - np.searchsorted(kind, after, side="right")


_TABLE_FROM, _TABLE_TO = day("1900-01-01"), day("2110-01-01")


@cache
def _plus_years_table(years: int) -> np.ndarray:
    d = np.arange(_TABLE_FROM, _TABLE_TO, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.timedelta64(12 * years, "M")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return (target.astype("datetime64[D]").astype(np.int64) + np.minimum(dom, length - 1)).astype(np.int32)


@cache
def latest_plus_years_at_most(t: int, years: int) -> int:
    """The latest day ``d`` with ``plus_years(d, years) <= t``: for every day before 2110 (and NO_DATE),
    ``plus_years(d, years) <= t`` exactly when ``d <=`` this day (the rule is one comparison, not a lookup per row)."""
    table = _plus_years_table(years)  # never decreasing: a later day is never mapped earlier
    k = int(np.searchsorted(table, t, side="right"))
    if k == 0:  # only days before the table, which stay as they are
        return min(t, _TABLE_FROM - 1)
    return _TABLE_FROM + k - 1 if k < len(table) else t


def plus_years(d: np.ndarray, years: int) -> np.ndarray:
    """The same month and day ``years`` later (29 February goes to 28 February), for an array of day numbers.

    NO_DATE and NEVER stay as they are (so "no vote ever" is always long enough ago).
    """
    dd = np.asarray(d, dtype=np.int64)
    table = _plus_years_table(years)
    inside = (dd >= _TABLE_FROM) & (dd < _TABLE_TO)
    return np.where(inside, table[np.clip(dd - _TABLE_FROM, 0, len(table) - 1)], dd)
