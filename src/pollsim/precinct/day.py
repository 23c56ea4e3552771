"""One precinct's election day, as a poll manager sees the room.

Voters line up at the door (some before 7:00). At the pollbook table a poll manager finds each
voter (paper roster or electronic pollbook) and marks them VOTED, or, when the voter is inactive,
not on the roll, in the wrong precinct, without photo ID or newly registered, hands over an
affidavit ballot and envelope. Then, by equipment generation:

- **DRE precinct**: the voter walks to a free DRE unit (or the accessible unit with audio and
  keypad), votes, reviews the VVPAT record if they choose, and casts. Affidavit voters mark a
  paper ballot in a privacy booth and seal it in the envelope.
- **Paper precinct**: the voter marks a paper ballot in a booth (or on the BMD, which prints a
  ballot card), then feeds it to the precinct scanner. An overvoted ballot comes back: the voter
  spoils it and re-marks a replacement, or casts it as is.

The polls close at 19:00 (§23-15-581); arrivals stop, everyone already in line votes, and the
devices close and print their results tapes after the last voter. Each pool of stations is a
:class:`StationPool` of numbered units, so a voter knows which unit served them and an incident can
take a unit out of service (after the voter using it finishes) until a technician has fixed it.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import simpy

from pollsim.devices import BMD, DRE, Pollbook, PrecinctScanner, ScanOutcome
from pollsim.devices.dre import records_per_roll
from pollsim.devices.firmware import clock_text
from pollsim.election.definition import Election
from pollsim.election.roll import VoterNeed
from pollsim.precinct.draws import VoterDraws, draw_voters, sample_times
from pollsim.precinct.result import Outcome, PrecinctResult, collect_result
from pollsim.scenario.models import Incident, PrecinctSpec, Scenario, clock_minutes, parse_device_id


_REGULAR, _AFFIDAVIT, _LOST = int(Outcome.REGULAR), int(Outcome.AFFIDAVIT), int(Outcome.BALLOT_LOST)  # plain ints: enum lookups are slow


class StationPool:
    """Identical stations in one line (pollbook tables, DREs, booths, scanners...), first come first served.

    ``idle`` lists the numbers of the free units, longest idle first; ``waiting`` holds the
    voters' requests in arrival order. A voter who finds a unit free takes it at once (no SimPy
    event); otherwise :meth:`wait` gives an event that fires with the unit when one is released.
    A unit taken out of service is kept out of ``idle`` until it is put back.
    """

    def __init__(self, env: simpy.Environment, name: str, units: int):
        self.env = env
        self.name = name
        self.units = units
        self.idle: list[int] = []
        self.waiting: deque[simpy.Event] = deque()
        self.down_after_use: dict[int, simpy.Event] = {}
        self.out: set[int] = set()
        self.busy_minutes = [0.0] * units

    def open(self) -> None:
        for unit in range(self.units):
            if unit not in self.out:
                self.put_back(unit)

    def wait(self) -> simpy.Event:
        """An event that fires with a unit number once a unit is free for this voter."""
        event = simpy.Event(self.env)
        self.waiting.append(event)
        return event

    def put_back(self, unit: int) -> None:
        if self.waiting:
            self.waiting.popleft().succeed(unit)
        else:
            self.idle.append(unit)

    def release(self, unit: int) -> None:
        """The voter leaves the unit: it serves the next in line, or goes out of service if due."""
        if self.down_after_use and unit in self.down_after_use:
            self.out.add(unit)
            self.down_after_use.pop(unit).succeed()
            return
        self.put_back(unit)


class PrecinctDay:
    """Builds and runs one precinct's SimPy model; :meth:`run` returns a :class:`PrecinctResult`."""

    def __init__(self, scenario: Scenario, election: Election, precinct: PrecinctSpec, seed: np.random.SeedSequence):
        self.scenario = scenario
        self.election = election
        self.spec = precinct
        self.rng = np.random.default_rng(seed)
        self.draws: VoterDraws = draw_voters(self.rng, scenario, election, precinct)
        d = self.draws
        # Python lists of Python numbers: SimPy schedules faster with floats than numpy scalars.
        self.arrival, self.checkin, self.affidavit = d.arrival.tolist(), d.checkin.tolist(), d.affidavit.tolist()
        self.walk, self.vote, self.remark = d.walk.tolist(), d.vote.tolist(), d.remark.tolist()
        self.spoil_replace, self.scan = d.spoil_replace.tolist(), d.scan.tolist()
        self.paper_replace = d.paper_replace.tolist()
        self.status = d.status.tolist()
        self.audio = (d.need == VoterNeed.AUDIO).tolist()
        self.vvpat_reject = d.vvpat_reject.tolist()
        self.spoil_on_return, self.spoil_mistake = d.spoil_on_return.tolist(), d.spoil_mistake.tolist()
        self.misfeed = d.misfeed.tolist()
        # responses to incidents, drawn from a child generator so they change no voter's draws
        extra = self.rng.spawn(1)[0]
        self.technician_travel = extra.uniform(0.0, 30.0, 64).tolist()  # MS SOS 2016: within 30 minutes
        self.checkin_paper = sample_times(extra, scenario.service_times.checkin_paper, d.n).tolist()
        self.paper_mode: set[int] = set()  # e-pollbook stations checking voters in from the paper roster
        self.t_open = clock_minutes(scenario.polls.open)
        self.t_close = clock_minutes(scenario.polls.close)
        self.incidents = [i for i in scenario.incidents if i.precinct in (None, precinct.id)]

    # ----------------------------------------------------------------- set-up
    def _build(self) -> None:
        eq, el, pid = self.spec.equipment, self.election, self.spec.id
        t0 = float(min(self.draws.arrival[0], self.t_open) if self.draws.n else self.t_open)
        self.t_start = t0 - 1.0
        self.env = env = simpy.Environment(initial_time=self.t_start)
        dre = eq.kind == "dre"
        self.pools = {name: StationPool(env, name, eq.units(name)) for name in ("PB", "DRE", "ADA", "BOOTH", "SCAN", "BMD")}
        rej = self.scenario.behaviour.vvpat_rejections_before_official
        contests = len(el.ballot_style(self.spec.ballot_style).contests)
        roll = records_per_roll(contests, eq.vvpat_roll_feet) if eq.vvpat_roll_feet else None
        dre_opts = {"precinct": pid, "t": self.t_start, "rejections_before_official": rej, "roll_records": roll}
        self.devices = {
            "DRE": [DRE(f"DRE-{u + 1}", el, **dre_opts) for u in range(self.pools["DRE"].units)],
            "ADA": [DRE(f"ADA-{u + 1}", el, accessible=True, **dre_opts) for u in range(self.pools["ADA"].units)],
            "SCAN": [PrecinctScanner(f"SCAN-{u + 1}", el, precinct=pid, t=self.t_start) for u in range(self.pools["SCAN"].units)],
            "BMD": [BMD(f"BMD-{u + 1}", el, precinct=pid, t=self.t_start) for u in range(self.pools["BMD"].units)],
        }
        self.device_list = [d for pool in ("DRE", "ADA", "SCAN", "BMD") for d in self.devices[pool]]
        for d in self.device_list:
            d.set_for_election(self.t_start)
        index = {id(d): i for i, d in enumerate(self.device_list)}
        self.device_index = {pool: [index[id(d)] for d in devs] for pool, devs in self.devices.items()}
        self.pollbook = Pollbook("PB", el, electronic=eq.pollbook == "electronic")
        n = self.draws.n
        self.rec = {k: [np.nan] * n for k in ("checkin_start", "checkin_end", "vote_start", "vote_end", "exit", "wait")}
        self.rec_station = {k: [-1] * n for k in ("checkin_station", "voting_station")}
        self.checkin_start, self.checkin_end = self.rec["checkin_start"], self.rec["checkin_end"]
        self.vote_start, self.vote_end, self.exit = self.rec["vote_start"], self.rec["vote_end"], self.rec["exit"]
        self.waits = self.rec["wait"]
        self.checkin_station, self.voting_station = self.rec_station["checkin_station"], self.rec_station["voting_station"]
        self.outcome = [Outcome.REGULAR] * n
        self.cast_voter: list[int] = []
        self.cast_device: list[int] = []
        self.affidavit_voters: list[int] = []
        self.spoiled = 0
        self.spoiled_unrecorded = 0  # injected errors (scenario ``errors``)
        self.stock_recorded_extra = 0
        lost = sum(e.count for e in self.scenario.errors if e.precinct == self.spec.id and e.kind == "lost_paper_ballot")
        candidates = [i for i in range(n) if self.status[i] <= 1 and not self.audio[i]]  # regular, hand-marked
        self.lost_voters = set(candidates[len(candidates) - lost :]) if lost else set()
        self.incident_log: list[dict] = []
        self.zero_tapes: dict[str, str] = {}
        self.results_tapes: dict[str, str] = {}
        self.dre = dre

    def _open_polls(self):
        yield self.env.timeout(self.t_open - self.t_start)
        for d in self.device_list:
            self.zero_tapes[d.device_id] = d.open_polls(self.t_open)
        for pool in self.pools.values():
            pool.open()

    def _incident(self, inc: Incident):
        """A scripted incident: at its time the unit goes out of service (after its voter)."""
        pool_name, unit = parse_device_id(inc.device)
        yield self.env.timeout(max(0.0, clock_minutes(inc.at) - self.t_start))  # before the first voter: at once
        minutes = inc.minutes
        if inc.kind in ("misrecording", "calibration_drift"):  # silent: the unit keeps casting, wrongly
            device = self.devices[pool_name][unit]
            params = {"share": inc.share} | ({"contest": inc.contest} if inc.contest else {}) | ({"to": inc.to} if inc.to else {})
            start = self.env.now
            device.fail(start, inc.kind, **params)
            yield self.env.timeout(minutes)
            device.repair(self.env.now, inc.kind)
            self.incident_log.append({"at": inc.at, "device": inc.device, "kind": inc.kind, "out_from": start, "back_at": start})
            return
        if inc.response == "technician":
            minutes += self.technician_travel.pop() if self.technician_travel else 30.0
        elif inc.response == "paper_pollbook":
            switch = min(5.0, minutes)  # fetch the paper roster and the receipt book
            yield from self._out_of_service(pool_name, unit, inc.kind, switch, scripted=inc.at)
            self.paper_mode.add(unit)
            if self.pollbook.log is not None:
                self.pollbook.log.append(self.env.now, "paper-pollbook-in-use", details=f"station={unit + 1}")
            yield self.env.timeout(minutes - switch)
            self.paper_mode.discard(unit)
            if self.pollbook.log is not None:
                self.pollbook.log.append(self.env.now, "electronic-pollbook-restored", details=f"station={unit + 1}")
            return
        if inc.kind == "power_loss" and inc.battery_minutes > 0:
            device = self.devices[pool_name][unit] if pool_name in self.devices else None
            if device is not None:
                device.log.append(self.env.now, "ac-power-lost", details=f"battery={inc.battery_minutes:g}min")
            if inc.battery_minutes >= minutes:  # the battery outlasts the outage: nobody waits
                yield self.env.timeout(minutes)
                if device is not None:
                    device.log.append(self.env.now, "ac-power-restored")
                self.incident_log.append({"at": inc.at, "device": inc.device, "kind": "power_loss", "out_from": self.env.now, "back_at": self.env.now})
                return
            power_back = self.env.now + minutes
            yield self.env.timeout(inc.battery_minutes)
            # dark from when the battery is flat (or its voter finishes) until the power comes back
            yield from self._out_of_service(pool_name, unit, inc.kind, 0.0, scripted=inc.at, until=power_back)
            return
        yield from self._out_of_service(pool_name, unit, inc.kind, minutes, scripted=inc.at)

    def _out_of_service(
        self, pool_name: str, unit: int, kind: str, minutes: float, scripted: str | None = None, after: simpy.Event | None = None, until: float | None = None
    ):
        """Take a unit out (now if idle or polls not open; else when its voter leaves), repair, put back.

        ``after``: the voter at the unit has already registered its release as this event.
        ``until``: the unit is back at this clock time (at once if it is already past), not ``minutes`` later.
        """
        pool = self.pools[pool_name]
        device = self.devices[pool_name][unit] if pool_name in self.devices else None
        if after is None and unit in pool.idle:
            pool.idle.remove(unit)
            pool.out.add(unit)
        elif after is None and self.env.now < self.t_open:
            pool.out.add(unit)
        else:
            if after is None:
                after = pool.down_after_use[unit] = self.env.event()
            yield after
        start = self.env.now
        if device is not None and kind not in device.faults:
            device.fail(start, kind)
        elif device is None and self.pollbook.log is not None:
            self.pollbook.log.append(start, "fault", "failure", kind)
        yield self.env.timeout(max(0.0, until - start) if until is not None else minutes)
        if device is not None:
            if kind == "paper_out" and isinstance(device, DRE):
                device.replace_paper(self.env.now)
            else:
                device.repair(self.env.now, kind)
        pool.out.discard(unit)
        if self.env.now >= self.t_open:  # before opening, the unit simply joins the others at 7:00
            pool.put_back(unit)
        self.incident_log.append(
            {"at": scripted or clock_text(start)[:5], "device": f"{pool_name}-{unit + 1}", "kind": kind, "out_from": start, "back_at": self.env.now}
        )

    # ----------------------------------------------------------------- voters
    def _checkin(self, i: int):
        """The pollbook step, shared by every voter; yields SimPy events, returns (regular?, wait)."""
        env, pb = self.env, self.pools["PB"]
        t_req = env.now
        station = pb.idle.pop(0) if pb.idle else (yield pb.wait())
        t = env.now
        self.checkin_start[i] = t
        self.checkin_station[i] = station
        regular = self.pollbook.check_in(t, self.status[i])
        service = self.checkin_paper[i] if self.paper_mode and station in self.paper_mode else self.checkin[i]
        if not regular:
            service += self.affidavit[i]
        yield env.timeout(service)
        pb.busy_minutes[station] += service
        pb.release(station)
        self.checkin_end[i] = env.now
        return regular, t - t_req

    def _use(self, pool: StationPool, minutes: float):
        """Queue for a unit of ``pool`` and hold it ``minutes``; returns (unit, wait, start)."""
        env = self.env
        t_req = env.now
        unit = pool.idle.pop(0) if pool.idle else (yield pool.wait())
        start = env.now
        yield env.timeout(minutes)
        pool.busy_minutes[unit] += minutes
        return unit, start - t_req, start

    def _affidavit_ballot(self, i: int, wait: float):
        """Mark a paper affidavit ballot in a booth; it goes into its sealed envelope, not a scanner."""
        minutes = self.remark[i] if self.dre else self.vote[i]
        yield self.env.timeout(self.walk[i])
        unit, w, start = yield from self._use(self.pools["BOOTH"], minutes)
        self.pools["BOOTH"].release(unit)
        self._finish(i, start, unit, wait + w, _AFFIDAVIT)
        self.affidavit_voters.append(i)

    def _finish(self, i: int, vote_start: float, unit: int, wait: float, outcome: int) -> None:
        now = self.env.now
        self.vote_start[i] = vote_start
        self.vote_end[i] = now
        self.exit[i] = now
        self.waits[i] = wait
        self.voting_station[i] = unit
        self.outcome[i] = outcome

    def _dre_voter(self, i: int):
        env = self.env
        yield env.timeout(self.arrival[i] - self.t_start)
        regular, wait = yield from self._checkin(i)
        if not regular:
            yield from self._affidavit_ballot(i, wait)
            return
        yield env.timeout(self.walk[i])
        pool_name = "ADA" if self.audio[i] else "DRE"
        pool = self.pools[pool_name]
        t_req = env.now
        unit = pool.idle.pop(0) if pool.idle else (yield pool.wait())
        start = env.now
        yield env.timeout(self.vote[i])
        pool.busy_minutes[unit] += env.now - start
        dre = self.devices[pool_name][unit]
        if self.vvpat_reject[i]:
            dre.reject_record(env.now)
        dre.cast(env.now, self.draws.intent[i])
        self.cast_voter.append(i)
        self.cast_device.append(self.device_index[pool_name][unit])
        if dre.faults and "paper_out" in dre.faults:  # the roll ran out with this record: a poll manager replaces it
            minutes = self.paper_replace.pop() if self.paper_replace else 5.0
            released = pool.down_after_use[unit] = env.event()
            env.process(self._out_of_service(pool_name, unit, "paper_out", minutes, after=released))
        pool.release(unit)
        self._finish(i, start, unit, wait + start - t_req, _REGULAR)

    def _paper_voter(self, i: int):
        env, d = self.env, self.draws
        yield env.timeout(self.arrival[i] - self.t_start)
        regular, wait = yield from self._checkin(i)
        if not regular:
            yield from self._affidavit_ballot(i, wait)
            return
        yield env.timeout(self.walk[i])
        audio = self.audio[i]
        mark_pool = self.pools["BMD" if audio else "BOOTH"]
        unit, w, vote_start = yield from self._use(mark_pool, self.vote[i])
        wait += w
        if audio:
            self.devices["BMD"][unit].print_card(env.now, d.intent[i])
            ballot = d.intent[i]  # a BMD never overvotes
        else:
            ballot = d.intent[i] | d.overmarks[i]
        mark_pool.release(unit)
        if self.lost_voters and i in self.lost_voters:  # the ballot goes missing before the scanner
            self._finish(i, vote_start, unit, wait, _LOST)
            return
        if not audio and self.spoil_mistake[i]:
            self.spoiled += 1
            yield env.timeout(self.spoil_replace[i])
            unit, w, _ = yield from self._use(mark_pool, self.remark[i])
            wait += w
            mark_pool.release(unit)
        scan_pool = self.pools["SCAN"]
        unit, w, _ = yield from self._use(scan_pool, self.scan[i])
        wait += w
        scanner = self.devices["SCAN"][unit]
        if self.misfeed[i]:
            scanner.fail(env.now, "misfeed")
        while (outcome := scanner.scan(env.now, ballot)) != ScanOutcome.CAST:
            if outcome == ScanOutcome.RETURNED_MISFEED:  # straighten the sheet and feed it again
                yield env.timeout(self.scan[i])
                continue
            if outcome == ScanOutcome.RETURNED_OVERVOTE and self.spoil_on_return[i]:
                scan_pool.release(unit)  # back to the table for a replacement, then re-mark and re-feed
                self.spoiled += 1
                yield env.timeout(self.spoil_replace[i])
                booth, w, _ = yield from self._use(mark_pool, self.remark[i])
                wait += w
                mark_pool.release(booth)
                ballot = d.intent[i]
                unit, w, _ = yield from self._use(scan_pool, self.scan[i])
                wait += w
                scanner = self.devices["SCAN"][unit]
            else:  # "cast as is": the overvoted contest counts for no one; a blank ballot is cast blank
                yield env.timeout(self.scan[i])
                scanner.scan(env.now, ballot, override=True)
                break
        self.cast_voter.append(i)
        self.cast_device.append(self.device_index["SCAN"][unit])
        scan_pool.release(unit)
        self._finish(i, vote_start, unit, wait, _REGULAR)

    # ----------------------------------------------------------------- run
    def run(self) -> PrecinctResult:
        self._build()
        env = self.env
        env.process(self._open_polls())
        for inc in self.incidents:
            env.process(self._incident(inc))
        voter = self._dre_voter if self.dre else self._paper_voter
        for i in range(self.draws.n):
            env.process(voter(i))
        env.run()
        t_end = max(self.t_close, max((x for x in self.rec["exit"] if x == x), default=self.t_close))
        for dev in self.device_list:
            if dev.faults:
                for fault in sorted(dev.faults):
                    dev.repair(t_end, fault)
            self.results_tapes[dev.device_id] = dev.close_polls(t_end)
        self._inject_errors()
        return collect_result(self, t_end)

    def _inject_errors(self) -> None:
        """Poll-worker and device errors (scenario ``errors``): the records, not the voters, go wrong."""
        for err in self.scenario.errors:
            if err.precinct != self.spec.id:
                continue
            if err.kind == "pollbook_not_marked":
                self.pollbook.marked_voted -= min(err.count, self.pollbook.marked_voted)
            elif err.kind == "receipt_not_signed":
                self.pollbook.receipt_signatures -= min(err.count, self.pollbook.receipt_signatures)
            elif err.kind == "ballot_stock_miscounted":
                self.stock_recorded_extra += err.count
            elif err.kind == "spoiled_not_recorded":
                self.spoiled_unrecorded += min(err.count, self.spoiled)
            elif err.kind == "dre_counter_glitch":
                self.devices["DRE"][0].store.public += err.count
            # lost_paper_ballot is planned before the day (see _build): those voters' ballots never reach the scanner


def simulate_precinct(scenario: Scenario, election: Election, precinct: PrecinctSpec, seed: np.random.SeedSequence) -> PrecinctResult:
    """Simulate one precinct's election day."""
    return PrecinctDay(scenario, election, precinct, seed).run()


__all__ = ["PrecinctDay", "StationPool", "simulate_precinct"]
