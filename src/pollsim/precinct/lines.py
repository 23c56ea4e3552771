"""The lines of a polling place without the devices: when each voter is called, for many rooms at once.

A line of identical stations served first come, first served (check-in tables, DREs, booths,
scanners: :mod:`pollsim.precinct.stations`) needs no event calendar: taking the requests in the
order they come, each voter is called at the later of their request and the moment the first unit
comes free (Kiefer & Wolfowitz 1955). The planner asks the same question of the same voters in
many rooms, one per candidate configuration and simulated day (a *lane*), so each step here works
on every lane at once as numpy rows: a lane's requests are sorted by time, absent requests are
``inf`` and sort last, and a unit a lane lacks is never free.

The room's rules are kept exactly, so that a lane gives every voter the same times as the SimPy
day (:mod:`pollsim.precinct.day`; tests/precinct/test_lines.py compares them voter by voter):
the units open at the opening time (§23-15-541); the longest-idle unit serves next; a DRE whose
VVPAT roll ran out goes out of service after its voter until a poll manager has loaded a new one
(:mod:`pollsim.devices.dre`); a station without its poll manager is closed for the times given
(:mod:`pollsim.staff`); and at the check-in line voters may give up
(:mod:`pollsim.precinct.giving_up`), which is done lane by lane, because whether a voter stays
depends on how many are waiting when they come.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: An unknown time not yet worked out (requests the planner's iteration places after every known one).
LATER = 1e12


@dataclass(frozen=True)
class Closures:
    """Times each unit of a line is closed: ``start``/``end`` ``float[lanes, units, k]`` (``inf`` pads),
    sorted and apart within a unit. A unit serving a voter when its closure starts closes after the voter."""

    start: np.ndarray
    end: np.ndarray

    def available(self, t: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the first time each unit can start a voter at or after ``t``, the time it has stood idle
        since, which orders free units: the longest idle serves first), ``float[lanes, units]`` each;
        ``free``: when each unit's last voter left it."""
        idle = free
        for k in range(self.start.shape[2]):
            a, b = self.start[:, :, k], self.end[:, :, k]
            t = np.where((t >= a) & (t < b), b, t)
            idle = np.where((b > idle) & (b <= t), b, idle)  # back from a closure that ended after its last voter
        return t, idle


@dataclass
class Rolls:
    """The VVPAT rolls of a line of DREs: ``capacity`` records a roll; ``rejects[lane, request]``: 1
    when the voter rejects their first record (a VOID record before the cast); ``minutes[lane, m]``:
    the minutes the poll managers take to load the m-th new roll (in the order :func:`serve` meets
    them). A VOID record that fills the roll makes its voter wait while a new roll is loaded, then
    cast; a cast that fills it stops the unit after its voter until a new roll is in
    (:mod:`pollsim.devices.dre`). :func:`serve` sets ``ends[lane, m]``: when the m-th roll ran out."""

    capacity: int
    rejects: np.ndarray
    minutes: np.ndarray
    ends: np.ndarray | None = None


def clock(t_start: float, start: float, end: float) -> tuple[float, float]:
    """A closure's (start, end) as the day's SimPy clock reaches them from ``t_start`` (a timeout to
    the start, then one to the end: :func:`pollsim.precinct.staffing.close_station`)."""
    a = t_start + max(0.0, start - t_start)
    return a, a + (end - a)


def serve(times: np.ndarray, service: np.ndarray, units: np.ndarray, t_open: np.ndarray | float,
          closures: Closures | None = None, rolls: Rolls | None = None, more: Sequence[np.ndarray] = ()) -> np.ndarray:  # fmt: skip
    """When each request of each lane is served: ``float[lanes, requests]`` (``inf`` for absent ones).

    ``times``/``service``: ``float[lanes, requests]``, any order (``inf``: no request); ``units``:
    ``int[lanes]``; ``t_open``: when the units open (per lane, or one for all). ``more``: further minutes at the unit, each added in turn as the day adds its
    steps (a sheet fed again, a ballot cast as is); ``rolls``: a DRE stops after the voter whose
    records fill its roll, for the roll's replacement minutes.
    """
    lanes, width = times.shape
    order = np.argsort(times, axis=1, kind="stable")
    r = np.take_along_axis(times, order, 1).T.copy()
    s = np.take_along_axis(service, order, 1).T.copy()
    extra = [np.take_along_axis(m, order, 1).T.copy() for m in more]
    steps = int(np.isfinite(r).sum(axis=0).max()) if width and lanes else 0
    cmax = max(1, int(units.max())) if lanes else 1
    free = np.empty((lanes, cmax))
    free[:] = np.asarray(t_open, float).reshape(-1, 1) if np.ndim(t_open) else t_open
    free[np.arange(cmax)[None, :] >= units[:, None]] = np.inf
    rows = np.arange(lanes)
    flat, base = free.reshape(-1), rows * cmax  # free[rows, j] is flat[base + j]
    start = np.full((width, lanes), np.inf)
    if rolls is not None:
        real = np.isfinite(r).astype(np.int64)  # no record for no request
        void = np.take_along_axis(rolls.rejects, order, 1).T * real
        on_roll = np.zeros((lanes, cmax), np.int64)
        out = np.zeros(lanes, np.int64)
        stock = rolls.minutes.shape[1]
        ends = rolls.ends = np.full((lanes, stock), np.inf)
    for k in range(steps):
        if closures is None:
            j = free.argmin(axis=1)
            at = base + j
            t = np.maximum(r[k], flat[at])
        else:
            avail, idle = closures.available(np.maximum(r[k][:, None], free), free)
            t = avail.min(axis=1)
            j = np.where(avail == t[:, None], idle, np.inf).argmin(axis=1)
            at = base + j
        start[k] = t
        end = t + s[k]
        for m in extra:
            end = end + m[k]
        if rolls is not None:
            n = on_roll.reshape(-1)[at] + void[k]
            for filled in ((void[k] > 0) & (n >= rolls.capacity), None):  # the VOID record, then the cast
                if filled is None:
                    n = n + real[k]
                    filled = n >= rolls.capacity
                if filled.any():
                    m = np.minimum(out, stock - 1)
                    ends[rows[filled], m[filled]] = end[filled]
                    end = np.where(filled, end + rolls.minutes[rows, m], end)
                    out += filled
                    n = np.where(filled, 0, n)
            on_roll.reshape(-1)[at] = n
        flat[at] = end
    result = np.empty_like(start.T)
    np.put_along_axis(result, order, start.T, 1)
    return result


@dataclass(frozen=True)
class CheckInDraws:
    """One lane's check-in line with voters who may give up (``float`` lists, voters in arrival order)."""

    arrival: list[float]
    service: list[float]
    patience: list[float]
    come_back: list[bool]
    come_back_after: list[float]


def check_in_giving_up(line: CheckInDraws, units: int, t_open: float, t_close: float, per_voter: float,
                       balking: bool, reneging: bool, closed: list[list[tuple[float, float]]] | None = None) -> tuple[list[float], list[float], list[int]]:  # fmt: skip
    """(request time, time called, outcome) of each voter at a check-in line where voters may give up.

    Outcome 0: called to a station; 3: balked (left at the door, or came back too late); 4: reneged.
    A voter who balks may come back once (joining whatever the line); requests are taken in time
    order, so the people waiting when a voter comes are those called or gone later. ``closed``: per
    unit, its closed (start, end) times.
    """
    n = len(line.arrival)
    if closed is None and not any(line.come_back):
        return _check_in_simple(line, units, t_open, per_voter, balking, reneging)
    called, requested, outcome = [math.inf] * n, [math.inf] * n, [0] * n
    free = [(float(t_open), u) for u in range(units)]
    heapq.heapify(free)
    waiting: list[float] = []  # when each voter still in line leaves it (called, or gives up)
    returns: list[tuple[float, int]] = []
    back = [False] * n
    k = 0
    while k < n or returns:
        if returns and (k >= n or returns[0][0] < line.arrival[k]):
            t, i = heapq.heappop(returns)
        else:
            t, i = line.arrival[k], k
            k += 1
        while waiting and waiting[0] <= t:
            heapq.heappop(waiting)
        patience = line.patience[i]
        if balking and not back[i] and len(waiting) * per_voter > patience:
            if line.come_back[i] and t + line.come_back_after[i] < t_close:
                back[i] = True
                heapq.heappush(returns, (t + line.come_back_after[i], i))
            else:
                outcome[i] = 3
            continue
        requested[i] = t
        if closed is None:
            at, unit = free[0]
            at = max(t, at)
        else:
            at, _, unit = min((*_open_at(max(t, f), f, closed[u]), u) for f, u in free)
        if reneging and at - t > patience:
            outcome[i] = 4
            heapq.heappush(waiting, t + patience)
            continue
        called[i] = at
        if at > t:
            heapq.heappush(waiting, at)
        if closed is None:
            heapq.heapreplace(free, (at + line.service[i], unit))
        else:
            free = [(at + line.service[i], u) if u == unit else (f, u) for f, u in free]
    return requested, called, outcome


def _check_in_simple(line: CheckInDraws, units: int, t_open: float, per_voter: float, balking: bool, reneging: bool) -> tuple[list[float], list[float], list[int]]:
    """:func:`check_in_giving_up` when nobody comes back and no station closes (the same rule, faster)."""
    arrival, service, patience = line.arrival, line.service, line.patience
    n = len(arrival)
    called, outcome = [math.inf] * n, [0] * n
    requested = list(arrival)
    free = [float(t_open)] * units  # when each unit is next free (a heap)
    waiting: list[float] = []
    push, pop, replace = heapq.heappush, heapq.heappop, heapq.heapreplace
    for i in range(n):
        t = arrival[i]
        while waiting and waiting[0] <= t:
            pop(waiting)
        p = patience[i]
        if balking and len(waiting) * per_voter > p:
            outcome[i], requested[i] = 3, math.inf
            continue
        at = free[0]
        if at < t:
            at = t
        if reneging and at - t > p:
            outcome[i] = 4
            push(waiting, t + p)
            continue
        called[i] = at
        if at > t:
            push(waiting, at)
        replace(free, at + service[i])
    return requested, called, outcome


def _open_at(t: float, free: float, closed: list[tuple[float, float]]) -> tuple[float, float]:
    """(when a unit free since ``free`` can start a voter at or after ``t``, the time it has stood idle since)."""
    idle = free
    for a, b in closed:
        if a <= t < b:
            t = b
        if idle < b <= t:
            idle = b
    return t, idle
