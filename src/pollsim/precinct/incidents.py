"""Opening the polls and the day's incidents, as SimPy processes acting on a :class:`Room`.

At 7:00 (§23-15-541) every unit prints its zero tape and the lines open. A scripted incident
(scenario ``incidents``, hardware.md) takes a unit out of service at its time, after the voter
using it finishes, until it is repaired: by the poll managers in the scenario's minutes, by a
technician who first has to drive there (within 30 minutes, MS SOS 2016), or, for an electronic
pollbook, by checking voters in from the paper roster meanwhile. A power loss runs the unit on its
battery first; silent faults (misrecording, calibration drift) keep the unit casting, wrongly.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from pollsim.devices import DRE
from pollsim.devices.firmware import clock_text
from pollsim.precinct.room import Room
from pollsim.scenario.models import Incident, clock_minutes, parse_device_id

Process = Generator[simpy.Event, object, None]


def open_polls(room: Room) -> Process:
    """At the opening time every unit prints its zero tape, then the lines start moving."""
    yield room.env.timeout(room.t_ready - room.t_start)  # 07:00, or later if the opening procedures ran late (staff)
    for d in room.device_list:
        room.zero_tapes[d.device_id] = d.open_polls(room.t_ready)
    for pool in room.pools.values():
        pool.open()


def incident(room: Room, inc: Incident) -> Process:
    """A scripted incident: at its time the unit goes out of service (after its voter)."""
    env = room.env
    pool_name, unit = parse_device_id(inc.device)
    yield env.timeout(max(0.0, clock_minutes(inc.at) - room.t_start))  # before the first voter: at once
    minutes = inc.minutes
    if inc.kind in ("misrecording", "calibration_drift"):  # silent: the unit keeps casting, wrongly
        device = room.devices[pool_name][unit]
        params = {"share": inc.share} | ({"contest": inc.contest} if inc.contest else {}) | ({"to": inc.to} if inc.to else {})
        start = env.now
        device.fail(start, inc.kind, **params)
        yield env.timeout(minutes)
        device.repair(env.now, inc.kind)
        room.incident_log.append({"at": inc.at, "device": inc.device, "kind": inc.kind, "out_from": start, "back_at": start})
        return
    if inc.response == "technician":
        minutes += room.technician_travel.pop() if room.technician_travel else 30.0
    elif inc.response == "paper_pollbook":
        switch = min(5.0, minutes)  # fetch the paper roster and the receipt book
        yield from out_of_service(room, pool_name, unit, inc.kind, switch, scripted=inc.at)
        room.paper_mode.add(unit)
        if room.pollbook.log is not None:
            room.pollbook.log.append(env.now, "paper-pollbook-in-use", details=f"station={unit + 1}")
        yield env.timeout(minutes - switch)
        room.paper_mode.discard(unit)
        if room.pollbook.log is not None:
            room.pollbook.log.append(env.now, "electronic-pollbook-restored", details=f"station={unit + 1}")
        return
    if inc.kind == "power_loss" and inc.battery_minutes > 0:
        device = room.devices[pool_name][unit] if pool_name in room.devices else None
        if device is not None:
            device.log.append(env.now, "ac-power-lost", details=f"battery={inc.battery_minutes:g}min")
        if inc.battery_minutes >= minutes:  # the battery outlasts the outage: nobody waits
            yield env.timeout(minutes)
            if device is not None:
                device.log.append(env.now, "ac-power-restored")
            room.incident_log.append({"at": inc.at, "device": inc.device, "kind": "power_loss", "out_from": env.now, "back_at": env.now})
            return
        power_back = env.now + minutes
        yield env.timeout(inc.battery_minutes)
        # dark from when the battery is flat (or its voter finishes) until the power comes back
        yield from out_of_service(room, pool_name, unit, inc.kind, 0.0, scripted=inc.at, until=power_back)
        return
    yield from out_of_service(room, pool_name, unit, inc.kind, minutes, scripted=inc.at)


def out_of_service(
    room: Room, pool_name: str, unit: int, kind: str, minutes: float,
    scripted: str | None = None, after: simpy.Event | None = None, until: float | None = None,
) -> Process:  # fmt: skip
    """Take a unit out (now if idle or polls not open; else when its voter leaves), repair, put back.

    ``after``: the voter at the unit has already registered its release as this event.
    ``until``: the unit is back at this clock time (at once if it is already past), not ``minutes`` later.
    """
    env = room.env
    pool = room.pools[pool_name]
    device = room.devices[pool_name][unit] if pool_name in room.devices else None
    if after is None and unit in pool.idle:
        pool.idle.remove(unit)
        pool.out.add(unit)
    elif after is None and env.now < room.t_ready:
        pool.out.add(unit)
    else:
        if after is None:
            after = pool.down_after_use[unit] = env.event()
        yield after
    start = env.now
    if device is not None and kind not in device.faults:
        device.fail(start, kind)
    elif device is None and room.pollbook.log is not None:
        room.pollbook.log.append(start, "fault", "failure", kind)
    yield env.timeout(max(0.0, until - start) if until is not None else minutes)
    if device is not None:
        if kind == "paper_out" and isinstance(device, DRE):
            device.replace_paper(env.now)
        else:
            device.repair(env.now, kind)
    pool.out.discard(unit)
    if env.now >= room.t_ready:  # before opening, the unit simply joins the others when they open
        pool.put_back(unit)
    room.incident_log.append(
        {"at": scripted or clock_text(start)[:5], "device": f"{pool_name}-{unit + 1}", "kind": kind, "out_from": start, "back_at": env.now}
    )
