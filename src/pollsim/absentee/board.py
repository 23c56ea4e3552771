"""The resolution board at work: envelopes checked, accepted ballots batched and counted (§23-15-639).

From the opening of the polls on election day the county's resolution board (§23-15-523) opens
the sealed boxes and checks each envelope in the order received; later envelopes (mail received in
the five business days after, §23-15-637(1)(a)) are checked on the day they come, during the
office's hours. Accepted ballots go into batches of ``batch_size`` (one line each of the ballot
manifest) and are fed through the county's absentee scanner (hand-fed AccuVote OS or DS200, or a
batch-fed central scanner), not before the polls close (county officials tabulate from the
closing of the polls; MS SOS, 1 Nov 2020). A ballot whose voter cured a signature mismatch is
counted on the day of the cure.

Time is working time: :class:`~pollsim.absentee.calendar.WorkHours` turns the team-minutes of
the envelopes (``board.envelope`` each, shared by ``board.teams`` teams) into moments of the run's
clock, and the scanner (one per county) works the same hours. Labour is reported as team-minutes
and scanner minutes, and the per diem as members x teams x the days the county worked, at the
election-day rate on election day (§23-15-153).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollsim.absentee.calendar import DAY, WorkHours
from pollsim.absentee.record import BATCH_DTYPE, Status
from pollsim.precinct.draws import sample_times
from pollsim.scenario.absentee_spec import ResolutionBoard


@dataclass
class CountyWork:
    """One county's board and scanner: the batches (rows of :data:`BATCH_DTYPE`, county field unset),
    the ballots in batch order (indexes into the county's envelopes), and the labour."""

    batches: np.ndarray
    ballot_rows: np.ndarray  # int64: envelope rows (of the county's envelopes) in batch order
    ballot_batch: np.ndarray  # int64: each ballot's batch (row of ``batches``)
    board_minutes: float
    scan_minutes: float
    board_days: int
    per_diem: float


def work_county(
    rng: np.random.Generator, board: ResolutionBoard, hours: WorkHours, env: np.ndarray, count_day: np.ndarray, ballot_minutes: float, polls_close: float
) -> CountyWork:
    """Check a county's envelopes and count its accepted ballots; fills ``env['processed']`` and ``env['counted']`` in place."""
    opened = env["status"] != Status.LATE
    # Processing groups: everything received by election day waits for the opening of the polls;
    # later mail is checked on the day it arrives.
    day = np.where(env["received"] < DAY, 0, hours.day_of(env["received"]))
    service = sample_times(rng, board.envelope, len(env)) / board.teams
    order = np.lexsort((np.arange(len(env)), env["received"], day))
    order = order[opened[order]]
    done = 0.0
    for d in np.unique(day[order]).tolist():
        rows = order[day[order] == d]
        start = max(done, hours.work_at(float(hours.start[d])))
        work = start + np.cumsum(service[rows])
        env["processed"][rows] = hours.clock(work)
        done = float(work[-1])
    board_minutes = float(service[opened].sum() * board.teams)

    # Accepted ballots: ready when checked, on their counting day (the cure's day for a cure).
    acc = np.flatnonzero((env["status"] == Status.ACCEPTED) & (count_day >= 0))
    ready = np.maximum(env["processed"][acc], hours.start[count_day[acc]])
    acc_order = acc[np.lexsort((acc, ready, count_day[acc]))]
    batches: list[tuple[int, int, int, int, float, float]] = []
    ballot_batch: list[np.ndarray] = []
    scan_minutes = 0.0
    scanner_free = hours.work_at(polls_close)
    for d in np.unique(count_day[acc_order]).tolist():
        rows = acc_order[count_day[acc_order] == d]
        for start in range(0, len(rows), board.batch_size):
            members = rows[start : start + board.batch_size]
            last_ready = float(np.maximum(env["processed"][members], hours.start[d]).max())
            minutes = len(members) * ballot_minutes + float(sample_times(rng, board.batch, 1)[0])
            begin = max(scanner_free, hours.work_at(last_ready))
            scanner_free = begin + minutes
            counted = float(hours.clock(scanner_free)[0])
            env["counted"][members] = counted
            scan_minutes += minutes
            ballot_batch.append(np.full(len(members), len(batches), np.int64))
            batches.append((0, len(batches) + 1, len(members), d, last_ready, counted))
    worked = np.unique(hours.day_of(np.concatenate([env["processed"][opened], env["counted"][acc]])))
    members_paid = board.members * board.teams
    per_diem = sum(members_paid * (board.per_diem_election_day if w == 0 else board.per_diem) for w in worked.tolist())
    return CountyWork(
        batches=np.array(batches, BATCH_DTYPE),
        ballot_rows=acc_order,
        ballot_batch=np.concatenate(ballot_batch) if ballot_batch else np.zeros(0, np.int64),
        board_minutes=board_minutes,
        scan_minutes=scan_minutes,
        board_days=int(len(worked)),
        per_diem=float(per_diem),
    )
