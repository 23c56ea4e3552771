"""The lines of a polling place: identical stations served first come, first served, on a day clock.

Pollbook tables, DREs, privacy booths, scanners and BMDs each form one line (hardware.md; the
room a poll manager lays out under §23-15-231 and §23-15-541). A :class:`StationPool` keeps its
free units (longest idle first) and the voters waiting, in arrival order. A voter who finds a unit
free takes it at once; otherwise the voter waits, and when a unit is released it is handed to
the first voter in line by an event of the clock at that instant (the order in which two things
happening at the same minute are settled is SimPy's: the earlier scheduled goes first).
A unit can be taken out of service (after the voter using it finishes) until it is repaired.

The clock is :class:`DayClock`, a SimPy environment: the opening, incidents and staffing are SimPy
processes on it. A voter's next step (:meth:`DayClock.after`) and a handover
(:meth:`DayClock.hand_over`) are bare entries of SimPy's own event queue, ``(time, priority, id,
then, voter[, unit])``, numbered from SimPy's own counter, so they are settled in exactly the order
SimPy settles its events (time, priority, order of scheduling); :meth:`DayClock.run` calls
``then(voter)`` or ``then(voter, unit)`` for them and runs every other event as SimPy's ``step``
does. A voter step costs a tuple and a heap push instead of an event object.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heapify, heappop, heappush

import simpy
from simpy.core import EmptySchedule
from simpy.events import NORMAL

#: What a voter does on getting a unit: ``then(voter, unit)``.
Then = Callable[[int, int], None]
#: A voter's next step: ``then(voter)``.
Next = Callable[[int], None]


class DayClock(simpy.Environment):
    """A SimPy environment whose queue also holds voters' steps as bare entries (module docstring)."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._entries: list[tuple] = self._queue  # the same list: SimPy's entries and the bare ones

    def after(self, delay: float, voter: int, then: Next) -> None:
        """``then(voter)`` runs ``delay`` minutes from now (a SimPy timeout of normal priority)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        heappush(self._entries, (self._now + delay, NORMAL, next(self._eid), then, voter))

    def after_each(self, delays: list[float], then: Next) -> None:
        """``then(k)`` runs ``delays[k]`` minutes from now, for every ``k``: :meth:`after` for each
        in turn (the same entries), put on the queue in one go."""
        if any(d < 0 for d in delays):
            raise ValueError(f"Negative delay {min(delays)}")
        now, eid = self._now, self._eid
        self._entries.extend([(now + d, NORMAL, next(eid), then, k) for k, d in enumerate(delays)])
        heapify(self._entries)

    def hand_over(self, voter: int, unit: int, then: Then) -> None:
        """``then(voter, unit)`` runs at this instant, after what is already due now."""
        heappush(self._entries, (self._now, NORMAL, next(self._eid), then, voter, unit))

    def step(self) -> None:
        """Process the next entry of the queue (a voter's step, a handover, or a SimPy event)."""
        try:
            item = heappop(self._entries)
        except IndexError:
            raise EmptySchedule from None
        self._run_one(item)

    def _run_one(self, item: tuple) -> None:
        self._now = item[0]
        if len(item) == 5:
            item[3](item[4])
        elif len(item) == 6:
            item[3](item[4], item[5])
        else:
            _simpy_step(item[3])

    def run(self, until: simpy.Event | float | None = None) -> object:
        """Run until nothing is left to do (with ``until``: as SimPy does, one step at a time)."""
        if until is not None:
            return super().run(until)
        queue = self._entries
        pop = heappop
        while queue:
            item: tuple = pop(queue)
            self._now = item[0]
            k = len(item)
            if k == 5:
                item[3](item[4])
            elif k == 6:
                item[3](item[4], item[5])
            else:
                _simpy_step(item[3])
        return None


def _simpy_step(event: simpy.Event) -> None:
    """What ``simpy.Environment.step`` does with an event once popped (the day never stops early)."""
    callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
    for callback in callbacks:
        callback(event)
    if not event._ok and not hasattr(event, "_defused"):
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


class StationPool:
    """Identical stations in one line, first come first served.

    ``idle`` lists the numbers of the free units, longest idle first; ``waiting`` holds the
    waiting voters in arrival order. A unit taken out of service is kept out of ``idle`` until it
    is put back; ``down_after_use`` maps a busy unit to the event that fires when its voter leaves
    it (the unit then goes out of service instead of serving the next voter).
    """

    def __init__(self, env: DayClock, name: str, units: int):
        self.env = env
        self.name = name
        self.units = units
        self.idle: list[int] = []
        self.waiting: deque[tuple[int, Then]] = deque()
        self.down_after_use: dict[int, simpy.Event] = {}
        self.out: set[int] = set()
        self.busy_minutes = [0.0] * units

    def open(self) -> None:
        for unit in range(self.units):
            if unit not in self.out:
                self.put_back(unit)

    def request(self, voter: int, then: Then) -> None:
        """Voter ``voter`` asks for a unit: ``then(voter, unit)`` runs now if one is free, else
        when one is handed over."""
        if self.idle:
            then(voter, self.idle.pop(0))
        else:
            self.waiting.append((voter, then))

    def put_back(self, unit: int) -> None:
        if self.waiting:
            voter, then = self.waiting.popleft()
            self.env.hand_over(voter, unit, then)
        else:
            self.idle.append(unit)

    def release(self, unit: int) -> None:
        """The voter leaves the unit: it serves the next in line, or goes out of service if due."""
        if self.down_after_use and unit in self.down_after_use:
            self.out.add(unit)
            self.down_after_use.pop(unit).succeed()
            return
        if self.waiting:  # put_back(unit), once per voter
            voter, then = self.waiting.popleft()
            self.env.hand_over(voter, unit, then)
        else:
            self.idle.append(unit)
