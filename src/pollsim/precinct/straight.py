"""A plain DRE precinct's day worked out line by line, without the event calendar (issue 12).

At a DRE precinct where nothing happens but voters (no scripted incident, no station closed for
want of staff, nobody giving up on the line, no VVPAT roll running out), the day is three lines
of identical stations, each first come first served (:mod:`pollsim.precinct.stations`): the
pollbook tables, then the DREs (the accessible unit for audio voters; §23-15-531.1) or, for an
affidavit voter, a privacy booth (§23-15-573). A line needs no event calendar: taking its requests
and the units' releases in time order, a voter takes the longest-idle free unit at once, or waits
and takes the first unit released after them (Kiefer & Wolfowitz 1955). The units open at 7:00
(§23-15-541), the voters who came early being served in their order of arrival; everyone in line
when the polls close votes (§23-15-581). Then each unit's firmware records its voters' VVPAT
rejections and casts in the order the day casts them, through the same methods the SimPy day calls.

Every time is computed with the same floating-point operations as on the SimPy clock (``now +
delay``), so the records are the same to the last bit. The SimPy day settles things happening at
the same instant in the order they were scheduled; here no two requests or releases of one line,
and no two casts, may coincide (with service times drawn from continuous distributions they do
not): if any do, or a line a voter needs has no unit, :func:`run_straight` leaves the day
untouched and says so, and the day runs on the clock (:meth:`pollsim.precinct.day.PrecinctDay.run`).
tests/precinct/test_straight.py compares the two, record by record.
"""

from __future__ import annotations

import operator
from heapq import heapreplace
from typing import TYPE_CHECKING

import numpy as np

from pollsim.election.roll import RollStatus, VoterNeed
from pollsim.precinct.result import Outcome

if TYPE_CHECKING:
    from pollsim.precinct.day import PrecinctDay

_LAST_REGULAR = int(RollStatus.RESTORED)  # as the pollbook decides (pollsim.devices.pollbook)
_REGULAR, _AFFIDAVIT = int(Outcome.REGULAR), int(Outcome.AFFIDAVIT)


class Tie(Exception):
    """Two things of one line at the same instant: the order the SimPy clock would pick matters."""


def plain(day: PrecinctDay) -> bool:
    """Whether the day is one this module works out: a DRE precinct with nothing but voters."""
    return day.dre and not day.incidents and day.staffing is None and not day.giving_up


def serve(units: int, t_open: float, times: list[float], service: list[float]) -> tuple[list[float], list[int]]:
    """One line: when each request is served and on which unit.

    ``times``: when each request is made, increasing; ``service``: the minutes each holds its
    unit. The units open at ``t_open`` in their order; a request takes the unit idle longest (the
    first released, or the first in order since the opening), at once, or when it is released if
    every unit is busy: requests are served in their order (first come, first served), so this
    unit is the one released first. Raises :class:`Tie` when two requests, two releases, a
    request and the release of the unit it gets or a request and the opening fall at one
    instant, a step takes no time, or a request is never served.
    """
    n = len(times)
    if n and not units:
        raise Tie  # a voter nobody serves: the clock's day leaves them in line
    if not all(map(operator.lt, times, times[1:])) or t_open in times:
        raise Tie
    start, unit_of = [0.0] * n, [0] * n
    free = [(t_open, u) for u in range(units)]  # (released, unit), a heap: the opening's order, then release order
    for k, t in enumerate(times):
        r, u = free[0]
        if t > r:
            start[k] = t
        elif t < r:
            start[k] = t = r
        else:
            raise Tie
        unit_of[k] = u
        heapreplace(free, (t + service[k], u))
    ends = list(map(operator.add, start, service))
    if not all(map(operator.lt, start, ends)) or len(set(ends)) != n:
        raise Tie  # a step of no time, or two units released at once: which serves next is the clock's choice
    return start, unit_of


def run_straight(day: PrecinctDay) -> bool:
    """Work out the day of a :func:`plain` precinct on ``day`` (its records, pools and devices);
    False, with nothing changed, when it has to run on the clock instead (module docstring)."""
    try:
        plan = _plan(day)
    except Tie:
        return False
    if plan is None:
        return False
    _apply(day, *plan)
    return True


def _plan(day: PrecinctDay):
    """Every line's starts and units, and the casts in their order, as numpy arrays (module docstring)."""
    d, t_start = day.draws, day.t_start
    t_open = t_start + (day.t_ready - t_start)  # the opening's timeout on the clock
    arrive = t_start + (d.arrival - t_start)  # each arrival's step on the clock
    regular = d.status <= _LAST_REGULAR  # as the pollbook decides
    pb_service = np.where(regular, d.checkin, d.checkin + d.affidavit)
    start, unit = serve(day.pools["PB"].units, t_open, arrive.tolist(), pb_service.tolist())
    pb = (np.array(start), np.array(unit, np.intp), pb_service)
    request = (pb[0] + pb_service) + d.walk
    audio = d.need == VoterNeed.AUDIO
    lines = {}
    for name, mask in (("DRE", regular & ~audio), ("ADA", regular & audio), ("BOOTH", ~regular)):
        ids = np.flatnonzero(mask)
        ids = ids[np.argsort(request[ids], kind="stable")]  # the line in the order of requests (serve: no two at once)
        service = (d.remark if name == "BOOTH" else d.vote)[ids]
        served, on = serve(day.pools[name].units, t_open, request[ids].tolist(), service.tolist())
        lines[name] = (ids, request[ids], service, np.array(served), np.array(on, np.intp))
    for name in ("DRE", "ADA"):  # a roll that runs out: a poll manager replaces it during the day
        ids, _, _, _, at = lines[name]
        units = day.pools[name].units
        printed = np.bincount(at, minlength=units) + np.bincount(at, weights=d.vvpat_reject[ids], minlength=units)
        for u in range(units):
            capacity = day.devices[name][u].printer.capacity
            if capacity is not None and printed[u] >= capacity:
                return None
    dre, ada = lines["DRE"], lines["ADA"]
    end = np.concatenate([dre[3] + dre[2], ada[3] + ada[2]])
    order = np.argsort(end, kind="stable")
    if (np.diff(end[order]) == 0).any():
        raise Tie  # two casts at once: the clock's order would decide the ballots' order
    return arrive, pb, lines, order


def _apply(day: PrecinctDay, arrive: np.ndarray, pb: tuple, lines: dict, order: np.ndarray) -> None:
    for dev in day.device_list:  # the opening (pollsim.precinct.incidents.open_polls)
        day.zero_tapes[dev.device_id] = dev.open_polls(day.t_ready)
    pb_start, pb_unit, pb_service = pb
    start_list = pb_start.tolist()
    day.checkin_start[:], day.checkin_station[:] = start_list, pb_unit.tolist()  # every voter checks in
    day.checkin_end[:] = (pb_start + pb_service).tolist()
    day.pollbook.check_in_all(start_list, day.status)  # served in their order of arrival
    wait = pb_start - arrive
    _busy(day.pools["PB"].busy_minutes, pb_unit, pb_service)
    vote_start, vote_end = np.array(day.vote_start), np.array(day.vote_end)
    waits, station = np.array(day.waits), np.array(day.voting_station)
    ids, times, service, start, unit = lines["BOOTH"]  # affidavit ballots: marked in a booth, sealed
    _busy(day.pools["BOOTH"].busy_minutes, unit, service)
    vote_start[ids], vote_end[ids], station[ids] = start, start + service, unit
    waits[ids] = wait[ids] + (start - times)
    for i in ids.tolist():
        day.outcome[i] = _AFFIDAVIT
    day.affidavit_voters.extend(ids.tolist())
    voters, units, pools = [], [], []
    for k, name in enumerate(("DRE", "ADA")):  # regular ballots, cast on the DREs (outcome: REGULAR, as set up)
        ids, times, service, start, unit = lines[name]
        _busy(day.pools[name].busy_minutes, unit, (start + service) - start)
        vote_start[ids], vote_end[ids], station[ids] = start, start + service, unit
        waits[ids] = (wait[ids] + start) - times
        voters.append(ids)
        units.append(np.asarray(day.device_index[name], np.int64)[unit] if len(unit) else unit)
        pools.append(np.full(len(ids), k))
    cast_voter, cast_device, cast_pool = (np.concatenate(x)[order] for x in (voters, units, pools))
    day.cast_voter.extend(cast_voter.tolist())
    day.cast_device.extend(cast_device.tolist())
    day.vote_start[:], day.vote_end[:], day.exit[:] = vote_start.tolist(), vote_end.tolist(), vote_end.tolist()
    day.waits[:], day.voting_station[:] = waits.tolist(), station.tolist()
    for k, name in enumerate(("DRE", "ADA")):  # each unit's casts in its own order (they touch no other unit)
        mine = cast_pool == k
        for u, dre in enumerate(day.devices[name]):
            at = cast_voter[mine & (cast_device == day.device_index[name][u])]
            if len(at):
                dre.cast_all(vote_end[at].tolist(), day.draws.intent[at], day.draws.vvpat_reject[at].tolist())
    for pool in day.pools.values():  # the lines as the clock leaves them: every unit idle
        pool.idle = list(range(pool.units))


def _busy(minutes: list[float], unit: np.ndarray, service: np.ndarray) -> None:
    """Each unit's minutes in use, added voter by voter in the line's order (as the clock adds them)."""
    for u, m in zip(unit.tolist(), service.tolist(), strict=True):
        minutes[u] += m
