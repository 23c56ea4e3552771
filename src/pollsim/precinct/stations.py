"""The lines of a polling place: identical stations served first come, first served.

Pollbook tables, DREs, privacy booths, scanners and BMDs each form one line (hardware.md; the
room a poll manager lays out under §23-15-231 and §23-15-541). A :class:`StationPool` keeps its
free units (longest idle first) and the voters waiting, in arrival order. A voter who finds a unit
free takes it at once; otherwise the voter waits, and when a unit is released it is handed to
the first voter in line by an event of the SimPy clock at that instant (the order in which two
things happening at the same minute are settled is SimPy's: the earlier scheduled goes first).
A unit can be taken out of service (after the voter using it finishes) until it is repaired.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import NORMAL, Timeout

#: What a voter does on getting a unit: ``then(voter, unit)``.
Then = Callable[[int, int], None]


class Step(Timeout):
    """A voter's next step: a timeout ``delay`` minutes from now whose one callback is ``then``
    (what the voter does then); ``voter`` is the voter, ``unit`` the unit handed over, if any."""

    def __init__(self, env: simpy.Environment, delay: float, voter: int, then: Callable[[Any], None], unit: int = -1):
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        # as Timeout.__init__, with the callback in place
        self.env = env
        self.callbacks = [then]
        self._value = voter
        self._delay = delay
        self._ok = True
        self.voter = voter
        self.unit = unit
        env.schedule(self, NORMAL, delay)


class _Handover(Step):
    """A unit handed to the first voter in line, at the instant it is released."""

    def __init__(self, env: simpy.Environment, voter: int, unit: int, then: Then):
        self.granted = then
        super().__init__(env, 0.0, voter, _handed_over, unit)


def _handed_over(event: _Handover) -> None:
    event.granted(event.voter, event.unit)


class StationPool:
    """Identical stations in one line, first come first served.

    ``idle`` lists the numbers of the free units, longest idle first; ``waiting`` holds the
    waiting voters in arrival order. A unit taken out of service is kept out of ``idle`` until it
    is put back; ``down_after_use`` maps a busy unit to the event that fires when its voter leaves
    it (the unit then goes out of service instead of serving the next voter).
    """

    def __init__(self, env: simpy.Environment, name: str, units: int):
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
            _Handover(self.env, voter, unit, then)
        else:
            self.idle.append(unit)

    def release(self, unit: int) -> None:
        """The voter leaves the unit: it serves the next in line, or goes out of service if due."""
        if self.down_after_use and unit in self.down_after_use:
            self.out.add(unit)
            self.down_after_use.pop(unit).succeed()
            return
        self.put_back(unit)
