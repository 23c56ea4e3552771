"""The polling place on election morning: the clock, the lines, the devices, the books, the records.

A :class:`Room` is everything a precinct's day acts on, set up before the first voter: the draws
of :mod:`pollsim.precinct.draws` (as Python lists, which SimPy schedules faster than numpy
scalars), a SimPy clock starting a minute before the first arrival or the opening, one
:class:`~pollsim.precinct.stations.StationPool` per kind of station (pollbook tables, DREs, the
accessible unit, booths, scanners, BMDs), the units' firmware loaded and set for the election
(hardware.md; the polls open at 7:00 and close at 19:00, §23-15-541 and §23-15-581), the
pollbook, and the per-voter records the day fills in. The voters' flow lives in
:mod:`pollsim.precinct.day`, the incidents in :mod:`pollsim.precinct.incidents`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pollsim.devices import BMD, DRE, Pollbook, PrecinctScanner, VotingDevice
from pollsim.devices.dre import records_per_roll
from pollsim.election.definition import Election
from pollsim.election.roll import VoterNeed
from pollsim.precinct.draws import VoterDraws, draw_voters, sample_times
from pollsim.precinct.giving_up import draw_patience
from pollsim.precinct.result import Outcome
from pollsim.precinct.stations import DayClock, StationPool
from pollsim.scenario.models import Incident, PrecinctSpec, Scenario, clock_minutes
from pollsim.staff.roster import staff_day

POOLS = ("PB", "DRE", "ADA", "BOOTH", "SCAN", "BMD")
DEVICE_POOLS = ("DRE", "ADA", "SCAN", "BMD")
REGULAR = int(Outcome.REGULAR)  # plain int: enum lookups are slow


class Room:
    """One precinct's polling place, ready for the day (see the module docstring)."""

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
        # voters who may give up on the check-in line (scenario ``giving_up``): their own child generator
        self.giving_up = scenario.giving_up.enabled is True
        if self.giving_up:
            patience, come_back, after = draw_patience(self.rng.spawn(1)[0], scenario.giving_up, d.n)
            self.patience, self.come_back, self.come_back_after = patience.tolist(), come_back.tolist(), after.tolist()
        self.t_open = clock_minutes(scenario.polls.open)
        self.t_close = clock_minutes(scenario.polls.close)
        # poll managers (scenario ``staff``): the units open when the opening procedures are done
        self.staffing = staff_day(scenario, precinct) if scenario.staff is not None else None
        self.t_ready = self.staffing.opens if self.staffing is not None else self.t_open
        self.staff_log: list[dict] = []
        self.incidents: list[Incident] = [i for i in scenario.incidents if i.precinct in (None, precinct.id)]
        self._set_up()

    def _set_up(self) -> None:
        eq, el, pid = self.spec.equipment, self.election, self.spec.id
        t0 = float(min(self.draws.arrival[0], self.t_open) if self.draws.n else self.t_open)
        self.t_start = t0 - 1.0
        self.env = env = DayClock(initial_time=self.t_start)
        self.dre = eq.kind == "dre"
        self.pools = {name: StationPool(env, name, eq.units(name)) for name in POOLS}
        rej = self.scenario.behaviour.vvpat_rejections_before_official
        contests = len(el.ballot_style(self.spec.ballot_style).contests)
        roll = records_per_roll(contests, eq.vvpat_roll_feet) if eq.vvpat_roll_feet else None
        dre_opts: dict[str, Any] = {"precinct": pid, "t": self.t_start, "rejections_before_official": rej, "roll_records": roll}
        self.devices: dict[str, list[Any]] = {
            "DRE": [DRE(f"DRE-{u + 1}", el, **dre_opts) for u in range(self.pools["DRE"].units)],
            "ADA": [DRE(f"ADA-{u + 1}", el, accessible=True, **dre_opts) for u in range(self.pools["ADA"].units)],
            "SCAN": [PrecinctScanner(f"SCAN-{u + 1}", el, precinct=pid, t=self.t_start) for u in range(self.pools["SCAN"].units)],
            "BMD": [BMD(f"BMD-{u + 1}", el, precinct=pid, t=self.t_start) for u in range(self.pools["BMD"].units)],
        }
        self.device_list: list[VotingDevice] = [dev for pool in DEVICE_POOLS for dev in self.devices[pool]]
        for dev in self.device_list:
            dev.set_for_election(self.t_start)
        index = {id(dev): k for k, dev in enumerate(self.device_list)}
        self.device_index = {pool: [index[id(dev)] for dev in devs] for pool, devs in self.devices.items()}
        self.pollbook = Pollbook("PB", el, electronic=eq.pollbook == "electronic")
        n = self.draws.n
        self.rec = {k: [np.nan] * n for k in ("checkin_start", "checkin_end", "vote_start", "vote_end", "exit", "wait", "mark_end", "scan_start")}
        self.rec_station = {k: [-1] * n for k in ("checkin_station", "voting_station", "marking_station")}
        self.mark_end, self.scan_start, self.marking_station = self.rec["mark_end"], self.rec["scan_start"], self.rec_station["marking_station"]
        self.checkin_start, self.checkin_end = self.rec["checkin_start"], self.rec["checkin_end"]
        self.vote_start, self.vote_end, self.exit = self.rec["vote_start"], self.rec["vote_end"], self.rec["exit"]
        self.waits = self.rec["wait"]
        self.checkin_station, self.voting_station = self.rec_station["checkin_station"], self.rec_station["voting_station"]
        self.outcome = [REGULAR] * n
        self.cast_voter: list[int] = []
        self.cast_device: list[int] = []
        self.affidavit_voters: list[int] = []
        self.spoiled = 0
        self.spoiled_unrecorded = 0  # injected errors (scenario ``errors``)
        self.stock_recorded_extra = 0
        lost = sum(e.count for e in self.scenario.errors if e.precinct == self.spec.id and e.kind == "lost_paper_ballot")
        # the last ``lost`` regular, hand-marked ballots go missing before the scanner
        self.lost_voters: set[int] = set()
        if lost:
            candidates = np.flatnonzero((self.draws.status <= 1) & (self.draws.need != VoterNeed.AUDIO))
            self.lost_voters = set(candidates[len(candidates) - lost :].tolist())
        self.incident_log: list[dict] = []
        self.zero_tapes: dict[str, str] = {}
        self.results_tapes: dict[str, str] = {}
