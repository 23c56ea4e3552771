"""The canvass stage's front door: from election night to each county's certification (§23-15-603).

:func:`run_canvass` takes the day, the absentee stage's record and the night, and returns a
:class:`~pollsim.canvass.record.CanvassResult`:

1. every sealed affidavit ballot is ruled on (:mod:`.affidavit`, §23-15-573): the commissioners
   start on them on business day ``canvass.affidavit_start_day`` after election day and work
   through the county's envelopes during the office's hours (``canvass.affidavit_minutes``
   each); a no-ID voter's ballot waits for the five business days to show the ID (§23-15-563);
2. the accepted ones are counted in batches on the county's absentee scanner. A replay
   precinct's accepted affidavit ballots are ruled on but not tabulated: the replayed regular
   votes already stand for every ballot 2020 counted at that polling place, and the day model
   draws affidavit voters on top of them (pollsim.precinct.draws), so counting them would count
   2020's affidavit voters twice;
3. every count that changes the unofficial results is an event in time: the precincts' cards on
   election night, each absentee batch (election night and the days after: late mail, cured
   signatures), each affidavit batch; the reporting curve runs on past election night, with a
   publication at the close of each working day, to the last certification;
4. each county certifies ``canvass.certify_minutes`` of working time after its last count; the
   returns are due at the end of day ``canvass.deadline_days`` after the election (§23-15-603).

Seed: ``SeedSequence(root, spawn_key=(4 << 30,))``; draws in a fixed order, one process.
"""

from __future__ import annotations

import numpy as np

from pollsim.absentee.calendar import DAY, WorkHours, minutes
from pollsim.absentee.record import AbsenteeRun
from pollsim.canvass.affidavit import rule
from pollsim.canvass.record import COUNT_DTYPE, CanvassResult, Group
from pollsim.election.roll import RollStatus
from pollsim.night import NightResult
from pollsim.precinct.draws import sample_times
from pollsim.precinct.election_day import ElectionDayRun
from pollsim.precinct.result import Outcome
from pollsim.scenario.absentee_spec import ResolutionBoard
from pollsim.scenario.models import clock_minutes

CANVASS_KEY = 4 << 30
ID_DAYS = 5
"""Business days a voter without photo ID has to show it (§23-15-563)."""


def _affidavits(day: ElectionDayRun) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precinct, status, known absentee outcome) of every affidavit ballot, in the day's order."""
    pre, status, known = [], [], []
    for i, (p, spec) in enumerate(zip(day.precincts, day.scenario.precincts, strict=True)):
        rows = p.voters["outcome"] == int(Outcome.AFFIDAVIT)
        st = p.voters["status"][rows]
        k = np.full(len(st), -1, np.int8)
        arrival = p.voters["arrival"][rows]
        for v in spec.scripted_voters:
            if v.status == "voted_ab":
                hit = (arrival == clock_minutes(v.at)) & (st == RollStatus.VOTED_AB)
                k[hit] = 1 if v.absentee_ballot == "accepted" else 0
        pre.append(np.full(len(st), i, np.int32))
        status.append(st)
        known.append(k)
    cat = lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)  # noqa: E731
    return cat(pre, np.int32), cat(status, np.int8), cat(known, np.int8)


def run_canvass(day: ElectionDayRun, absentee: AbsenteeRun | None, night: NightResult | None, seed: int) -> CanvassResult:
    """The canvass of a run (module docstring)."""
    scenario = day.scenario
    spec = scenario.canvass
    board = scenario.absentee.board if scenario.absentee is not None else ResolutionBoard()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CANVASS_KEY,)))
    election = scenario.election.date
    names = absentee.county_names if absentee is not None else list(dict.fromkeys(p.county for p in scenario.precincts))
    county_of = np.array([names.index(p.county) for p in scenario.precincts], np.int32)
    hours = WorkHours(election, clock_minutes(scenario.polls.open), clock_minutes(board.election_night_end), clock_minutes(board.day_start), clock_minutes(board.day_end))

    precinct, status, known = _affidavits(day)
    share = absentee.per_precinct["at_polls_accepted"][precinct] if absentee is not None else np.zeros(len(precinct))
    accepted, rejection = rule(rng, spec.affidavit, status, share, known)
    replayed = np.array([p.replay is not None for p in scenario.precincts], bool)
    counted = accepted & ~replayed[precinct]
    service = sample_times(rng, spec.affidavit_minutes, len(precinct))
    decided = np.full(len(precinct), np.nan)
    batch = np.full(len(precinct), -1, np.int32)

    events: list[tuple[float, int, int, int]] = []
    reported = night.reported_at if night is not None else np.array([p.polls_closed for p in day.precincts])
    for i, p in enumerate(day.precincts):  # a card missing on the night is re-read the next working day
        t = reported[i] if np.isfinite(reported[i]) else hours.start[1] + 60.0
        events.append((float(t), int(county_of[i]), Group.ELECTION_DAY, p.ballots_cast))
    if absentee is not None:
        for b in absentee.batches:
            events.append((float(b["counted"]), int(b["county"]), Group.ABSENTEE, int(b["ballots"])))

    ballot_minutes = {k: board.central_ballot_minutes if s == "central" else board.hand_fed_ballot_minutes for k, s in enumerate(absentee.scanner)} if absentee else {}
    start = hours.work_at(float(hours.start[spec.affidavit_start_day]))
    id_window = float(hours.start[ID_DAYS + 1])
    commissioner_minutes = np.zeros(len(names))
    per_diem = np.zeros(len(names))
    n_batches = 0
    affidavit_events: list[tuple[float, int, int, int]] = []
    for k in range(len(names)):
        mine = np.flatnonzero(county_of[precinct] == k)
        if not len(mine):
            continue
        done = hours.clock(start + np.cumsum(service[mine]))
        no_id = status[mine] == RollStatus.NO_PHOTO_ID
        decided[mine] = np.where(no_id, np.maximum(done, id_window), done)
        commissioner_minutes[k] = float(service[mine].sum()) * spec.commissioners
        worked = set(hours.day_of(decided[mine]).tolist())
        scanner_free = 0.0
        for group in (~no_id, no_id):  # one batch of the ballots ruled on at once, one of the no-ID ballots after the ID window
            rows = mine[group & counted[mine]]
            if not len(rows):
                continue
            work = ballot_minutes.get(k, board.hand_fed_ballot_minutes) * len(rows) + float(sample_times(rng, board.batch, 1)[0])
            scanner_free = max(scanner_free, hours.work_at(float(decided[rows].max()))) + work
            t = float(hours.clock(scanner_free)[0])
            batch[rows] = n_batches
            n_batches += 1
            affidavit_events.append((t, k, Group.AFFIDAVIT, len(rows)))
            worked.add(int(hours.day_of(np.array([t]))[0]))
        per_diem[k] = spec.commissioners * board.per_diem * len(worked)
    offset = len(events)
    events.extend(affidavit_events)
    order = sorted(range(len(events)), key=lambda j: (events[j][0], events[j][1], events[j][2], j))
    batches = np.array([events[j] for j in order], COUNT_DTYPE)
    row_of = np.empty(len(events), np.int32)
    row_of[order] = np.arange(len(events), dtype=np.int32)
    batch[batch >= 0] = row_of[offset + batch[batch >= 0]]

    certified = np.full(len(names), float(hours.start[0]))
    np.maximum.at(certified, batches["county"], batches["time"])
    certified = np.array([float(hours.clock(hours.work_at(t) + spec.certify_minutes)[0]) for t in certified.tolist()])
    deadline = minutes(election, election, spec.deadline_days * DAY + DAY)
    return CanvassResult(
        election_date=election,
        county_names=names,
        affidavit_precinct=precinct,
        affidavit_status=status,
        affidavit_accepted=accepted,
        affidavit_rejection=rejection,
        affidavit_counted=counted,
        affidavit_decided=decided,
        affidavit_batch=batch,
        batches=batches,
        curve=reporting_curve(batches, night, hours, float(certified.max()) if len(certified) else 0.0),
        certified_at=certified,
        commissioner_minutes=commissioner_minutes,
        per_diem=per_diem,
        deadline=deadline,
    )


def reporting_curve(batches: np.ndarray, night: NightResult | None, hours: WorkHours, last: float) -> np.ndarray:
    """(time, share of all counted ballots) at each publication: the night's, then each working day's close."""
    total = int(batches["ballots"].sum())
    times = list(night.publications[:, 0]) if night is not None else []
    times += [float(t) for t in hours.end if t <= last]
    times.append(last)
    when = np.unique(np.array(times, float))
    counted = np.cumsum(batches["ballots"])
    k = np.searchsorted(batches["time"], when, side="right")
    done = np.where(k > 0, counted[np.maximum(k - 1, 0)], 0)
    return np.column_stack([when, done / total if total else np.ones(len(when))])
