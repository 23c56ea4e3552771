"""What a precinct's day leaves behind: the records that cross into election night.

:class:`PrecinctResult` is the typed record at the boundary between the precinct model and
everything after it (tabulation, reconciliation, audits, exports). Bulk data are numpy arrays:

- ``intent``, ``paper``, ``cvr``: ``uint8[n_cast, width]``, one row per regular ballot cast, in
  cast order, columns as :attr:`Election.columns`. Row *i* of the three is the same ballot: what
  the voter meant, the paper record they verified (VVPAT record or the paper ballot), and the
  electronic record the device stored (the three layers of design.md).
- ``ballot_voter``: ``int32[n_cast]``, the voter (row of ``voters``) who cast each ballot;
  ``ballot_device``: ``int16[n_cast]``, the index in ``devices`` of the device that cast it.
- ``affidavit``: ``uint8[n_affidavit, width]``: affidavit ballots, sealed and not counted on
  election day (examined later by the commissioners, §23-15-573).
- ``voters``: a structured array, one row per arriving voter (see :data:`VOTER_DTYPE`).

A result handed to a sink while the day runs (``run_election_day(sink=...)``, e.g. a run directory
being written) comes back slimmed (:class:`Streamed`): the per-voter and per-ballot arrays only
the run directory needs went to the sink, and ``voters`` keeps only the voters who did not cast a
regular ballot (affidavit, lost, gave up: the canvass and the lost-voter counts read them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from pollsim.devices.eventlog import EventLog


class Outcome(IntEnum):
    """How each arriving voter's visit ended: exactly one of these."""

    REGULAR = 0  # a regular ballot cast on a DRE or the scanner
    AFFIDAVIT = 1  # an affidavit ballot sealed in its envelope
    BALLOT_LOST = 2  # checked in and marked a paper ballot that was lost before counting (injected error)
    BALKED = 3  # saw the check-in line and left without voting (scenario ``giving_up``)
    RENEGED = 4  # left the check-in line after waiting longer than they would (scenario ``giving_up``)


VOTER_DTYPE = np.dtype(
    [
        ("arrival", "f8"),  # minutes after midnight
        ("checkin_start", "f8"),
        ("checkin_end", "f8"),
        ("vote_start", "f8"),  # took a DRE, booth or BMD
        ("vote_end", "f8"),  # ballot cast (or affidavit envelope sealed)
        ("exit", "f8"),
        ("wait", "f8"),  # minutes spent in lines (from arrival, so before-opening time counts); NaN for a voter who gave up
        ("checkin_station", "i2"),  # pollbook station number, 0-based
        ("voting_station", "i2"),  # unit number in its pool (DRE/ADA/BOOTH/SCAN), 0-based
        ("mark_end", "f8"),  # paper precinct: left the booth or BMD with the marked ballot (the last time)
        ("scan_start", "f8"),  # paper precinct: began feeding the scanner (the last time)
        ("marking_station", "i2"),  # paper precinct: the booth or BMD (by need) the voter marked at, 0-based
        ("status", "i1"),  # RollStatus
        ("need", "i1"),  # VoterNeed
        ("outcome", "i1"),  # Outcome
    ]
)


class _LogHead:
    """``DeviceRecord.log_head``: given as the hash, or as ``(log, entries)``, the device's log and
    its length at the close, hashed when first read (a stress night never reads it) or when the
    record is pickled or its result drops its logs; the same hash either way."""

    def __get__(self, record: DeviceRecord | None, owner: type | None = None) -> str:
        if record is None:
            raise AttributeError("log_head")  # no default: the field is required
        head = record.__dict__["_log_head"]
        if not isinstance(head, str):
            log, n = head
            head = log.head if len(log) == n else (log.hashes()[n - 1] if n else log.genesis)
            record.__dict__["_log_head"] = head
        return head

    def __set__(self, record: DeviceRecord, value: str | tuple[EventLog, int]) -> None:
        record.__dict__["_log_head"] = value


@dataclass(frozen=True)
class DeviceRecord:
    """A device's counters and log at the close of polls."""

    device_id: str
    kind: str
    public_count: int
    protective_count: int
    log_entries: int
    log_head: str = _LogHead()  # type: ignore[assignment]  # hash of the last log entry
    vvpat_records_printed: int = 0
    vvpat_records_rejected: int = 0
    ballots_returned: int = 0
    overrides: int = 0

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_log_head": self.log_head}  # the hash, not the log, crosses to another process


@dataclass(frozen=True)
class BallotAccounting:
    """The counts poll managers report on the ballot accounting form (§23-15-615(1)).

    Paper stock covers hand-marked and affidavit ballots; BMD cards are separate card stock.
    """

    voters_arrived: int
    pollbook_marked_voted: int  # (a)
    receipt_book_signatures: int  # (b), absentee not included
    ballots_received: int  # (c) paper ballots received by the poll managers
    paper_ballots_voted: int  # scanned hand-marked ballots + affidavit ballots
    paper_ballots_unused: int
    paper_ballots_spoiled: int
    bmd_cards_cast: int
    electronic_ballots_cast: int  # (e) ballots cast on DREs (public counters)
    affidavit_ballots: int
    regular_ballots_cast: int
    total_ballots_cast: int  # regular + affidavit (the §615 report's (f) leaves affidavit ballots out: docs/reconciliation.md)


@dataclass(frozen=True)
class Streamed:
    """What a slimmed :class:`PrecinctResult` keeps of what went to the sink.

    ``intent``, ``ballot_voter`` (empty now), ``logs`` and the tapes (empty now) are in the sink;
    ``voters`` holds only the rows with ``outcome != REGULAR``, in their order.
    """

    voters_arrived: int  # rows of the full ``voters``
    last_voter_out: float
    wait: dict[str, float]  # the precinct's wait statistics, as the sink computed them from every voter


@dataclass
class PrecinctResult:
    precinct: str
    county: str
    kind: str  # "dre" or "paper"
    registered_voters: int
    voters: np.ndarray
    intent: np.ndarray
    paper: np.ndarray
    cvr: np.ndarray
    ballot_voter: np.ndarray
    ballot_device: np.ndarray
    affidavit: np.ndarray
    devices: list[DeviceRecord]
    accounting: BallotAccounting
    polls_closed: float
    zero_tapes: dict[str, str] = field(default_factory=dict)
    results_tapes: dict[str, str] = field(default_factory=dict)
    incidents: list[dict] = field(default_factory=list)
    utilisation: dict[str, float] = field(default_factory=dict)
    logs: dict[str, EventLog] = field(default_factory=dict)  # device id -> its event log (electronic pollbook included)
    staffing: dict = field(default_factory=dict)  # with a ``staff`` section: {"opened", "late_minutes", "closures"} (pollsim.precinct.staffing)
    streamed: Streamed | None = None  # set when the bulk went to a sink (module docstring)

    def __post_init__(self) -> None:
        if not self.logs:  # without its logs (slimmed for a sink): the records keep the hashes, not the logs
            for d in self.devices:
                d.log_head  # noqa: B018

    @property
    def ballots_cast(self) -> int:
        return len(self.cvr)

    @property
    def last_voter_out(self) -> float:
        if self.streamed is not None:
            return self.streamed.last_voter_out
        exits = self.voters["exit"]
        return float(exits.max()) if len(exits) else float("nan")
