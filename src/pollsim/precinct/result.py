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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from pollsim.devices.eventlog import EventLog

if TYPE_CHECKING:
    from pollsim.precinct.day import PrecinctDay


class Outcome(IntEnum):
    """How each arriving voter's visit ended: exactly one of these."""

    REGULAR = 0  # a regular ballot cast on a DRE or the scanner
    AFFIDAVIT = 1  # an affidavit ballot sealed in its envelope
    BALLOT_LOST = 2  # checked in and marked a paper ballot that was lost before counting (injected error)


VOTER_DTYPE = np.dtype(
    [
        ("arrival", "f8"),  # minutes after midnight
        ("checkin_start", "f8"),
        ("checkin_end", "f8"),
        ("vote_start", "f8"),  # took a DRE, booth or BMD
        ("vote_end", "f8"),  # ballot cast (or affidavit envelope sealed)
        ("exit", "f8"),
        ("wait", "f8"),  # minutes spent in lines (from arrival, so before-opening time counts)
        ("checkin_station", "i2"),  # pollbook station number, 0-based
        ("voting_station", "i2"),  # unit number in its pool (DRE/ADA/BOOTH/SCAN), 0-based
        ("status", "i1"),  # RollStatus
        ("need", "i1"),  # VoterNeed
        ("outcome", "i1"),  # Outcome
    ]
)


@dataclass(frozen=True)
class DeviceRecord:
    """A device's counters and log at the close of polls."""

    device_id: str
    kind: str
    public_count: int
    protective_count: int
    log_entries: int
    log_head: str  # hash of the last log entry
    vvpat_records_printed: int = 0
    vvpat_records_rejected: int = 0
    ballots_returned: int = 0
    overrides: int = 0


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

    @property
    def ballots_cast(self) -> int:
        return len(self.cvr)

    @property
    def last_voter_out(self) -> float:
        exits = self.voters["exit"]
        return float(exits.max()) if len(exits) else float("nan")


def _device_record(dev) -> DeviceRecord:
    printer = getattr(dev, "printer", None)
    return DeviceRecord(
        device_id=dev.device_id,
        kind=dev.kind,
        public_count=dev.public_count,
        protective_count=dev.protective_count,
        log_entries=len(dev.log),
        log_head=dev.log.head,
        vvpat_records_printed=printer.records_printed if printer else 0,
        vvpat_records_rejected=printer.records_rejected if printer else 0,
        ballots_returned=getattr(dev, "returned", 0),
        overrides=getattr(dev, "overrides", 0),
    )


def collect_result(day: PrecinctDay, t_end: float) -> PrecinctResult:
    """Assemble the day's records from the model and its devices (cast order kept)."""
    d = day.draws
    n = d.n
    voters = np.zeros(n, VOTER_DTYPE)
    voters["arrival"] = d.arrival
    for k, values in day.rec.items():
        voters[k] = values
    for k, values in day.rec_station.items():
        voters[k] = values
    voters["status"] = d.status
    voters["need"] = d.need
    voters["outcome"] = day.outcome

    ballot_voter = np.array(day.cast_voter, np.int32)
    ballot_device = np.array(day.cast_device, np.int16)
    width = day.election.width
    cvr = np.zeros((len(ballot_voter), width), np.uint8)
    paper = np.zeros_like(cvr)
    for k, dev in enumerate(day.device_list):
        if dev.kind == "bmd":
            continue  # its cards are cast (and recorded) by the scanner
        rows = ballot_device == k
        dev_cvr, dev_paper, _ = dev.store.ballots()
        cvr[rows] = dev_cvr
        paper[rows] = dev_paper
    affidavit_voter = np.array(sorted(day.affidavit_voters), np.int32)

    eq = day.spec.equipment
    stock = eq.ballot_stock if eq.ballot_stock is not None else (
        day.spec.registered_voters if eq.kind == "paper" else -(-day.spec.registered_voters // 10)
    )
    dres = [dev for dev in day.device_list if dev.kind == "dre"]
    scanned = sum(dev.public_count for dev in day.device_list if dev.kind == "scan-single")
    bmd_cards = sum(dev.public_count for dev in day.device_list if dev.kind == "bmd")
    n_aff = len(affidavit_voter)
    paper_voted = scanned - bmd_cards + n_aff
    accounting = BallotAccounting(
        voters_arrived=n,
        pollbook_marked_voted=day.pollbook.marked_voted,
        receipt_book_signatures=day.pollbook.receipt_signatures,
        ballots_received=stock + day.stock_recorded_extra,
        paper_ballots_voted=paper_voted,
        paper_ballots_unused=stock - paper_voted - day.spoiled - len(day.lost_voters),
        paper_ballots_spoiled=day.spoiled - day.spoiled_unrecorded,
        bmd_cards_cast=bmd_cards,
        electronic_ballots_cast=sum(dev.public_count for dev in dres),
        affidavit_ballots=n_aff,
        regular_ballots_cast=len(ballot_voter),
        total_ballots_cast=len(ballot_voter) + n_aff,
    )
    open_minutes = max(t_end - day.t_open, 1e-9)
    utilisation = {
        name: sum(pool.busy_minutes) / (pool.units * open_minutes) for name, pool in day.pools.items() if pool.units
    }
    return PrecinctResult(
        precinct=day.spec.id,
        county=day.spec.county,
        kind=eq.kind,
        registered_voters=day.spec.registered_voters,
        voters=voters,
        intent=d.intent[ballot_voter],
        paper=paper,
        cvr=cvr,
        ballot_voter=ballot_voter,
        ballot_device=ballot_device,
        affidavit=d.intent[affidavit_voter],
        devices=[_device_record(dev) for dev in day.device_list],
        accounting=accounting,
        polls_closed=t_end,
        zero_tapes=day.zero_tapes,
        results_tapes=day.results_tapes,
        incidents=sorted(day.incident_log, key=lambda x: (x["out_from"], x["device"])),
        utilisation=utilisation,
        logs={dev.device_id: dev.log for dev in day.device_list}
        | ({day.pollbook.device_id: day.pollbook.log} if day.pollbook.log is not None else {}),
    )
