"""The law's dates for absentee voting and the canvass, and the hours the county office works.

- In-person absentee voting at the registrar's office ends at 12:00 noon on the Saturday before
  the election (§23-15-637(1)(b)).
- Mail ballots must be postmarked on or before election day and received no more than five
  business days after it (§23-15-637(1)(a)); a voter without photo ID has five business days to
  show it (§23-15-563); the certified returns are due within 10 days (§23-15-603).
- Business days skip Saturdays, Sundays and the legal holidays of Miss. Code §3-3-7 (a holiday
  falling on a Sunday is kept on the Monday after); for a November election that is Veterans Day
  (11 November) and Thanksgiving.

Times in pollsim's absentee and canvass records are minutes after midnight at the start of
election day (the run's clock): negative before it, ``1440 * d + minutes`` on day ``d`` after.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np

DAY = 1440.0
"""Minutes in a day."""


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th (1-based; -1: last) ``weekday`` (Monday 0) of a month."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


@cache
def legal_holidays(year: int) -> frozenset[dt.date]:
    """Mississippi's legal holidays of ``year`` (§3-3-7); one on a Sunday is kept the Monday after."""
    days = {
        dt.date(year, 1, 1),
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King's and Robert E. Lee's birthdays
        _nth_weekday(year, 2, 0, 3),  # Washington's birthday
        _nth_weekday(year, 4, 0, -1),  # Confederate Memorial Day
        _nth_weekday(year, 5, 0, -1),  # National Memorial Day and Jefferson Davis's birthday
        dt.date(year, 7, 4),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        dt.date(year, 11, 11),  # Armistice (Veterans) Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        dt.date(year, 12, 25),
    }
    return frozenset(d + dt.timedelta(days=1) if d.weekday() == 6 else d for d in days)


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in legal_holidays(day.year)


def business_days_after(election: dt.date, n: int) -> list[dt.date]:
    """The first ``n`` business days after election day."""
    out: list[dt.date] = []
    day = election
    while len(out) < n:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            out.append(day)
    return out


def mail_deadline(election: dt.date) -> dt.date:
    """Last day a mail ballot postmarked by election day may be received: the fifth business day after (§23-15-637(1)(a))."""
    return business_days_after(election, 5)[-1]


def in_person_deadline(election: dt.date) -> dt.date:
    """The Saturday before the election, when in-person absentee voting ends at noon (§23-15-637(1)(b))."""
    return election - dt.timedelta(days=(election.weekday() - 5) % 7 or 7)


def minutes(day: dt.date, election: dt.date, clock: float = 0.0) -> float:
    """A moment as minutes after the start of election day."""
    return (day - election).days * DAY + clock


class WorkHours:
    """The hours a county office works on absentee and affidavit ballots, as windows of the run's clock.

    Election day from ``start_day0`` to ``end_day0``; then each business day after it from
    ``day_start`` to ``day_end``. Work is measured in minutes of working time; :meth:`clock` turns
    an amount of work done since the first window opened into the moment it is done.
    """

    def __init__(self, election: dt.date, start_day0: float, end_day0: float, day_start: float, day_end: float, days: int = 60):
        starts, ends = [start_day0], [end_day0]
        for d in business_days_after(election, days):
            starts.append(minutes(d, election, day_start))
            ends.append(minutes(d, election, day_end))
        self.start, self.end = np.array(starts), np.array(ends)
        self.cum_end = np.cumsum(self.end - self.start)
        self.cum_start = self.cum_end - (self.end - self.start)

    def work_at(self, t: float) -> float:
        """Working minutes available from the first window to the moment ``t``."""
        return float(np.clip(t - self.start, 0.0, self.end - self.start).sum())

    def clock(self, work: np.ndarray | float) -> np.ndarray:
        """The moment each amount of working minutes is reached (beyond the last window: after its end)."""
        w = np.atleast_1d(np.asarray(work, float))
        k = np.minimum(np.searchsorted(self.cum_end, w, side="left"), len(self.cum_end) - 1)
        return self.start[k] + (w - self.cum_start[k])

    def day_of(self, t: np.ndarray) -> np.ndarray:
        """Index of the window (0: election day, k: the k-th business day after) that holds each moment."""
        return np.minimum(np.searchsorted(self.end, np.asarray(t, float), side="left"), len(self.end) - 1)
