"""One precinct's election day, as a poll manager sees the room.

Voters line up at the door (some before 7:00). At the pollbook table a poll manager finds each
voter (paper roster or electronic pollbook) and marks them VOTED, or, when the voter is inactive,
not on the roll, in the wrong precinct, without photo ID or newly registered, hands over an
affidavit ballot and envelope (§23-15-573). Then, by equipment generation:

- **DRE precinct**: the voter walks to a free DRE unit (or the accessible unit with audio and
  keypad), votes, reviews the VVPAT record if they choose, and casts (§23-15-531.1). Affidavit
  voters mark a paper ballot in a privacy booth and seal it in the envelope.
- **Paper precinct**: the voter marks a paper ballot in a booth (or on the BMD, which prints a
  ballot card), then feeds it to the precinct scanner. An overvoted ballot comes back: the voter
  spoils it and re-marks a replacement, or casts it as is.

The polls close at 19:00 (§23-15-581); arrivals stop, everyone already in line votes, and the
devices close and print their results tapes after the last voter.

The day runs on a SimPy clock in the event-scheduling style: each voter is a chain of SimPy
events whose callbacks move the voter on (arrive, check in, walk, vote, scan...), one event per
step and no SimPy process per voter; every voter's arrival is put on the clock at the start, after
the opening and the incidents (:mod:`pollsim.precinct.incidents`, which are SimPy processes). Two
things at the same minute are settled in the order they were scheduled, as SimPy does. What the
scanner's reader makes of each ballot is computed for all voters at once before the day.
Cyclic garbage collection is paused during a day (the day's objects are freed by reference counts).
"""

from __future__ import annotations

import gc
from collections.abc import Generator

import numpy as np
import simpy

from pollsim.devices import ScanOutcome
from pollsim.devices.firmware import clock_text
from pollsim.election.definition import Election
from pollsim.election.roll import VoterNeed
from pollsim.precinct.closing import collect_result, inject_errors
from pollsim.precinct.giving_up import CheckInLine
from pollsim.precinct.incidents import incident, open_polls, out_of_service
from pollsim.precinct.result import Outcome, PrecinctResult
from pollsim.precinct.room import Room
from pollsim.precinct.staffing import start_staffing
from pollsim.precinct.stations import StationPool
from pollsim.precinct.straight import plain, run_straight
from pollsim.scenario.models import PrecinctSpec, Scenario

_REGULAR, _AFFIDAVIT, _LOST = int(Outcome.REGULAR), int(Outcome.AFFIDAVIT), int(Outcome.BALLOT_LOST)  # plain ints: enum lookups are slow
_CAST, _MISFEED, _OVERVOTE = ScanOutcome.CAST, ScanOutcome.RETURNED_MISFEED, ScanOutcome.RETURNED_OVERVOTE


class PrecinctDay(Room):
    """Builds and runs one precinct's day; :meth:`run` returns a :class:`PrecinctResult`.

    Each step of a voter is a method: ``_name(voter)`` for a step the clock runs after a delay
    (:meth:`~pollsim.precinct.stations.DayClock.after`), ``_name(voter, unit)`` for one that starts
    when a station's unit is handed to the voter.
    """

    def __init__(self, scenario: Scenario, election: Election, precinct: PrecinctSpec, seed: np.random.SeedSequence):
        super().__init__(scenario, election, precinct, seed)
        n = self.draws.n
        self._t_req = [0.0] * n  # when the voter asked for the unit they wait for
        self._wait = [0.0] * n  # minutes in lines so far (from check-in on)
        self._unit = [0] * n  # the unit the voter holds
        self._reload_minutes: dict[int, float] = {}  # voters waiting while a new VVPAT roll is loaded
        self._service = [0.0] * n  # minutes at the pollbook table
        self._regular = [True] * n  # handed a regular ballot (else an affidavit ballot)
        self._replaced = [False] * n  # holds a replacement ballot (marked as meant)
        self._fed = [False] * n  # has fed the scanner once
        self._pb, self._booth, self._scan = self.pools["PB"], self.pools["BOOTH"], self.pools["SCAN"]
        self._dres, self._ada = self.pools["DRE"], self.pools["ADA"]
        self._dre_units, self._ada_units = self.devices["DRE"], self.devices["ADA"]
        self._dre_index, self._ada_index = self.device_index["DRE"], self.device_index["ADA"]
        self._intent = self.draws.intent
        if not self.dre and self.devices["SCAN"]:
            d, scanner = self.draws, self.devices["SCAN"][0]
            audio = (d.need == VoterNeed.AUDIO)[:, None]
            self._first = np.where(audio, d.intent, d.intent | d.overmarks)  # as first marked: a BMD card never overvotes
            self._verdict_first: list[int] = scanner.read(self._first).tolist()
            self._verdict_intent: list[int] = scanner.read(d.intent).tolist()

    # ----------------------------------------------------------------- common steps
    def _arrivals(self) -> Generator[simpy.Event, object, None]:
        """At the start, after the opening and the incidents: every voter's arrival on the clock."""
        arrive = CheckInLine(self).arrive if self.giving_up else self._arrive
        self.env.after_each([t - self.t_start for t in self.arrival], arrive)
        yield from ()

    def _arrive(self, i: int) -> None:
        self._t_req[i] = self.env._now
        self._pb.request(i, self._checkin_begin)

    def _checkin_begin(self, i: int, station: int) -> None:
        env = self.env
        t = env._now
        self.checkin_start[i] = t
        self.checkin_station[i] = station
        self._wait[i] = t - self._t_req[i]
        regular = self._regular[i] = self.pollbook.check_in(t, self.status[i])
        service = self.checkin_paper[i] if self.paper_mode and station in self.paper_mode else self.checkin[i]
        if not regular:
            service += self.affidavit[i]
        self._service[i] = service
        env.after(service, i, self._checkin_end)

    def _checkin_end(self, i: int) -> None:
        env, pb = self.env, self._pb
        station = self.checkin_station[i]
        pb.busy_minutes[station] += self._service[i]
        pb.release(station)
        self.checkin_end[i] = env._now
        if not self._regular[i]:
            env.after(self.walk[i], i, self._affidavit_walked)
        else:
            env.after(self.walk[i], i, self._dre_walked if self.dre else self._paper_walked)

    def _granted(self, i: int, unit: int) -> None:
        """The voter takes the unit: the minutes waited for it join the voter's wait."""
        self._wait[i] += self.env.now - self._t_req[i]
        self._unit[i] = unit

    def _finish(self, i: int, unit: int, wait: float, outcome: int) -> None:
        now = self.env.now
        self.vote_end[i] = now
        self.exit[i] = now
        self.waits[i] = wait
        self.voting_station[i] = unit
        self.outcome[i] = outcome

    # ----------------------------------------------------------------- affidavit ballot
    def _affidavit_walked(self, i: int) -> None:
        """Mark a paper affidavit ballot in a booth; it goes into its sealed envelope, not a scanner."""
        self._t_req[i] = self.env.now
        self._booth.request(i, self._affidavit_begin)

    def _affidavit_begin(self, i: int, unit: int) -> None:
        self.vote_start[i] = self.env.now
        self._granted(i, unit)
        self.env.after(self.remark[i] if self.dre else self.vote[i], i, self._affidavit_end)

    def _affidavit_end(self, i: int) -> None:
        unit = self._unit[i]
        self._booth.busy_minutes[unit] += self.remark[i] if self.dre else self.vote[i]
        self._booth.release(unit)
        self._finish(i, unit, self._wait[i], _AFFIDAVIT)
        self.affidavit_voters.append(i)

    # ----------------------------------------------------------------- DRE precinct
    def _dre_walked(self, i: int) -> None:
        self._t_req[i] = self.env._now
        (self._ada if self.audio[i] else self._dres).request(i, self._dre_begin)

    def _dre_begin(self, i: int, unit: int) -> None:
        env = self.env
        self.vote_start[i] = env._now
        self._unit[i] = unit
        env.after(self.vote[i], i, self._dre_end)

    def _dre_end(self, i: int) -> None:
        if self.vvpat_reject[i]:
            env, unit = self.env, self._unit[i]
            now = env._now
            pool_name = "ADA" if self.audio[i] else "DRE"
            self.pools[pool_name].busy_minutes[unit] += now - self.vote_start[i]
            dre = self.devices[pool_name][unit]
            dre.reject_record(now)
            if "paper_out" in dre.faults:  # the VOID record took the roll's last space: a new roll while the voter waits
                self._reload_minutes[i] = minutes = self.paper_replace.pop() if self.paper_replace else 5.0
                env.after(minutes, i, self._dre_reloaded)
                return
            self._dre_cast(i, pool_name, unit)
            return
        # the voter casts: as _dre_cast, with the unit's minutes, for the ballot after ballot of a day
        env, unit, start = self.env, self._unit[i], self.vote_start[i]
        now = env._now
        audio = self.audio[i]
        pool = self._ada if audio else self._dres
        pool.busy_minutes[unit] += now - start
        dre = (self._ada_units if audio else self._dre_units)[unit]
        dre.cast(now, self._intent[i])
        self.cast_voter.append(i)
        self.cast_device.append((self._ada_index if audio else self._dre_index)[unit])
        if dre.faults and "paper_out" in dre.faults:
            self._paper_out(pool, "ADA" if audio else "DRE", unit)
        pool.release(unit)
        now = env._now
        self.vote_end[i] = now
        self.exit[i] = now
        self.waits[i] = self._wait[i] + start - self._t_req[i]
        self.voting_station[i] = unit
        self.outcome[i] = _REGULAR

    def _dre_reloaded(self, i: int) -> None:
        """The poll manager has loaded a new roll (the voter waited at the unit); the ballot is cast."""
        pool_name = "ADA" if self.audio[i] else "DRE"
        unit, now, minutes = self._unit[i], self.env.now, self._reload_minutes.pop(i)
        self.pools[pool_name].busy_minutes[unit] += minutes
        self.devices[pool_name][unit].replace_paper(now)
        self.incident_log.append({"at": clock_text(now - minutes)[:5], "device": f"{pool_name}-{unit + 1}", "kind": "paper_out", "out_from": now - minutes, "back_at": now})
        self._dre_cast(i, pool_name, unit)

    def _dre_cast(self, i: int, pool_name: str, unit: int) -> None:
        start, now = self.vote_start[i], self.env.now
        pool = self.pools[pool_name]
        dre = self.devices[pool_name][unit]
        dre.cast(now, self.draws.intent[i])
        self.cast_voter.append(i)
        self.cast_device.append(self.device_index[pool_name][unit])
        if dre.faults and "paper_out" in dre.faults:
            self._paper_out(pool, pool_name, unit)
        pool.release(unit)
        self._finish(i, unit, self._wait[i] + start - self._t_req[i], _REGULAR)

    def _paper_out(self, pool: StationPool, pool_name: str, unit: int) -> None:
        """The roll ran out with this record: a poll manager replaces it once the voter has left."""
        minutes = self.paper_replace.pop() if self.paper_replace else 5.0
        released = pool.down_after_use[unit] = self.env.event()
        self.env.process(out_of_service(self, pool_name, unit, "paper_out", minutes, after=released))

    # ----------------------------------------------------------------- paper precinct
    def _mark_pool(self, i: int) -> StationPool:
        return self.pools["BMD"] if self.audio[i] else self._booth

    def _paper_walked(self, i: int) -> None:
        self._t_req[i] = self.env.now
        self._mark_pool(i).request(i, self._mark_begin)

    def _mark_begin(self, i: int, unit: int) -> None:
        self.vote_start[i] = self.env.now
        self.marking_station[i] = unit
        self._granted(i, unit)
        self.env.after(self.vote[i], i, self._marked)

    def _marked(self, i: int) -> None:
        unit, audio = self._unit[i], self.audio[i]
        mark_pool = self._mark_pool(i)
        mark_pool.busy_minutes[unit] += self.vote[i]
        self.mark_end[i] = self.env.now
        if audio:
            self.devices["BMD"][unit].print_card(self.env.now, self.draws.intent[i])
        mark_pool.release(unit)
        if self.lost_voters and i in self.lost_voters:  # the ballot goes missing before the scanner
            self._finish(i, unit, self._wait[i], _LOST)
            return
        if not audio and self.spoil_mistake[i]:
            self._spoil(i)
            return
        self._to_scanner(i)

    def _spoil(self, i: int) -> None:
        """Back to the table: the ballot is spoiled and a replacement handed over, to be marked again."""
        self.spoiled += 1
        self.env.after(self.spoil_replace[i], i, self._remark)

    def _remark(self, i: int) -> None:
        self._t_req[i] = self.env.now
        self._mark_pool(i).request(i, self._remark_begin)

    def _remark_begin(self, i: int, unit: int) -> None:
        self._granted(i, unit)
        self.env.after(self.remark[i], i, self._remarked)

    def _remarked(self, i: int) -> None:
        unit, mark_pool = self._unit[i], self._mark_pool(i)
        mark_pool.busy_minutes[unit] += self.remark[i]
        self.mark_end[i] = self.env.now
        mark_pool.release(unit)
        self._to_scanner(i)

    def _to_scanner(self, i: int) -> None:
        self._t_req[i] = self.env.now
        self._scan.request(i, self._scan_begin)

    def _scan_begin(self, i: int, unit: int) -> None:
        self.scan_start[i] = self.env.now
        self._granted(i, unit)
        self.env.after(self.scan[i], i, self._fed_in)

    def _fed_in(self, i: int) -> None:
        unit = self._unit[i]
        self._scan.busy_minutes[unit] += self.scan[i]
        if not self._fed[i]:
            self._fed[i] = True
            if self.misfeed[i]:
                self.devices["SCAN"][unit].fail(self.env.now, "misfeed")
        self._read(i)

    def _ballot(self, i: int) -> tuple[np.ndarray, int]:
        """The ballot the voter holds and what the reader makes of it."""
        if self._replaced[i]:
            return self.draws.intent[i], self._verdict_intent[i]
        return self._first[i], self._verdict_first[i]

    def _read(self, i: int) -> None:
        """The scanner reads the ballot: cast, or back to the voter (re-feed, spoil, or cast as is)."""
        unit = self._unit[i]
        ballot, verdict = self._ballot(i)
        outcome = self.devices["SCAN"][unit].scan(self.env.now, ballot, verdict=verdict)
        if outcome == _CAST:
            self._scanned(i)
        elif outcome == _MISFEED:  # straighten the sheet and feed it again
            self.env.after(self.scan[i], i, self._refeed)
        elif outcome == _OVERVOTE and self.spoil_on_return[i]:
            self._scan.release(unit)  # back to the table for a replacement, then re-mark and re-feed
            self._replaced[i] = True
            self._spoil(i)
        else:  # "cast as is": the overvoted contest counts for no one; a blank ballot is cast blank
            self.env.after(self.scan[i], i, self._cast_as_is)

    def _refeed(self, i: int) -> None:
        self._read(i)

    def _cast_as_is(self, i: int) -> None:
        ballot, verdict = self._ballot(i)
        self.devices["SCAN"][self._unit[i]].scan(self.env.now, ballot, override=True, verdict=verdict)
        self._scanned(i)

    def _scanned(self, i: int) -> None:
        unit = self._unit[i]
        self.cast_voter.append(i)
        self.cast_device.append(self.device_index["SCAN"][unit])
        self._scan.release(unit)
        self._finish(i, unit, self._wait[i], _REGULAR)

    # ----------------------------------------------------------------- run
    #: Work a plain DRE precinct's day out line by line (:mod:`pollsim.precinct.straight`): the
    #: same records as on the clock; False runs every day on the clock.
    straight = True

    def run(self) -> PrecinctResult:
        if not (self.straight and plain(self) and run_straight(self)):
            self._run_clock()
        t_end = max(self.t_close, max((x for x in self.exit if x == x), default=self.t_close))
        for dev in self.device_list:
            if dev.faults:
                for fault in sorted(dev.faults):
                    dev.repair(t_end, fault)
            self.results_tapes[dev.device_id] = dev.close_polls(t_end)
        inject_errors(self)
        return collect_result(self, t_end)


    def _run_clock(self) -> None:
        """The day on the SimPy clock: the opening, staffing, incidents and every voter's steps."""
        env = self.env
        env.process(open_polls(self))
        start_staffing(self)
        for inc in self.incidents:
            env.process(incident(self, inc))
        env.process(self._arrivals())
        collecting = gc.isenabled()
        gc.disable()  # the day makes no cycles worth collecting; scanning earlier results costs time
        try:
            env.run()
        finally:
            if collecting:
                gc.enable()


def simulate_precinct(scenario: Scenario, election: Election, precinct: PrecinctSpec, seed: np.random.SeedSequence) -> PrecinctResult:
    """Simulate one precinct's election day."""
    return PrecinctDay(scenario, election, precinct, seed).run()


__all__ = ["PrecinctDay", "StationPool", "simulate_precinct"]
