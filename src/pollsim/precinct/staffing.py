"""Stations closed for want of staff, and polls opened late: the day's staffing as SimPy processes.

With a ``staff`` section the precinct's :class:`~pollsim.staff.StaffDay` says when the opening
procedures are done (the units open then, at 07:00 at the earliest, §23-15-541) and when each
check-in station or scanner has nobody at it (:mod:`pollsim.staff.roster`). A station closes at its
time if idle, else when its voter leaves, and opens again when a poll manager is back; the closures
are logged on the room (``staff_log``) and kept in the day's result. The planner's lines close the
same units at the same clock times (:mod:`pollsim.precinct.lanes`).
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from pollsim.precinct.room import Room

Process = Generator[simpy.Event, object, None]


def close_station(room: Room, pool_name: str, unit: int, start: float, end: float) -> Process:
    """Close a unit from ``start`` (after its voter, if busy) until ``end``."""
    env, pool = room.env, room.pools[pool_name]
    yield env.timeout(max(0.0, start - room.t_start))  # as lines.clock() reckons it
    if unit in pool.idle:
        pool.idle.remove(unit)
        pool.out.add(unit)
    elif env.now < room.t_ready:  # before the units open: it stays shut when they do
        pool.out.add(unit)
    else:  # busy: it closes when its voter leaves
        pool.down_after_use[unit] = env.event()
    closed_at = env.now
    yield env.timeout(end - env.now)
    pool.down_after_use.pop(unit, None)  # the voter was there all along: it never closed
    if unit in pool.out:
        pool.out.discard(unit)
        if env.now >= room.t_ready:
            pool.put_back(unit)
    room.staff_log.append({"station": f"{pool_name}-{unit + 1}", "closed_from": closed_at, "open_at": env.now})


def start_staffing(room: Room) -> None:
    """Schedule every closure of the room's staff day (none without a ``staff`` section)."""
    if room.staffing is None:
        return
    for pool_name, units in room.staffing.closed.items():
        for unit, spans in enumerate(units):
            for a, b in spans:
                room.env.process(close_station(room, pool_name, unit, a, b))
