"""A device's ground truth: what its firmware holds, read straight from its memory, not over the wire.

A test team's reader is judged against this. On the bench it is what the technician would see by
opening the unit: the firmware's state, its faults, its public and protective counters, the cast
vote records and paper records it keeps (a DRE's VVPAT, a scanner's ballot box, a BMD's cards),
the tally of those CVRs under the vote-for-N rules (docs/protocol.md section 5, TALLY), its
hash-chained event log and its tapes: the numbers the county's §23-15-615 ballot accounting
starts from. :func:`ground_truth` takes one snapshot under the device's lock, so the counters,
records and log agree with each other even while a reader or the election day is at work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollsim.election.definition import Election
from pollsim.emulator.pollbook import PollbookService
from pollsim.emulator.service import DeviceService
from pollsim.protocol import LogEvent
from pollsim.tabulate.tally import tally_dict

__all__ = ["GroundTruth", "ground_truth"]


@dataclass(frozen=True)
class GroundTruth:
    """One snapshot of what the device holds (in test mode: its test ballots, as on the wire)."""

    kind: str
    """The kind IDENTIFY sends: ``dre``, ``scan-single``, ``bmd`` or ``electronic-poll-book``."""
    unit: str
    """The firmware's own name, as in its log (``DRE-1``)."""
    state: str
    """The firmware's state: ``pre-election``, ``test-mode``, ``ready``, ``polls-open``,
    ``suspended``, ``polls-closed`` or ``results-exported``."""
    polls: str
    """The state as STATUS tells it: ``closed``, ``open``, ``paused`` or ``final``."""
    test_mode: bool
    faults: tuple[str, ...]
    """Faults now active, sorted (STATUS's ``faults``)."""
    public: int
    """Public counter (a pollbook: voters marked VOTED)."""
    protective: int
    """Protective counter (a pollbook: every check-in)."""
    cvrs: np.ndarray | None
    """``uint8[n, width]``: the electronic records, in cast order (None: a pollbook)."""
    paper: np.ndarray | None
    """``uint8[n, width]``: the paper records; row i is the paper of CVR row i."""
    tally: np.ndarray | None
    """``int64[width]``: votes per choice counted from :attr:`cvrs` (an overvoted contest
    counts for no one), what TALLY answers."""
    events: tuple[LogEvent, ...]
    """The event log, entry by entry, as EVENT_LOG hands it out (with chain hashes)."""
    log_head: str
    """Chain hash of the last log entry (COUNTERS' ``log_head``)."""
    zero_tape: str
    results_tape: str
    """The results tape printed when the polls closed ("" before)."""
    election: Election
    """The election definition loaded (choice names, contest layout)."""

    def totals(self) -> dict[str, dict[str, int]]:
        """``{contest id: {choice id: votes}}`` from the CVRs (a pollbook: empty)."""
        if self.cvrs is None:
            return {}
        return tally_dict(self.election, self.cvrs)

    def misrecorded(self) -> np.ndarray:
        """Indices of the ballots whose CVR differs from their paper record."""
        if self.cvrs is None or self.paper is None:
            return np.zeros(0, np.int64)
        return np.flatnonzero((self.cvrs != self.paper).any(axis=1))

    def event_ids(self) -> list[str]:
        """The log's event ids in order (``ballot-cast``, ``fault``, ``power-on`` ...)."""
        return [event.event_id for event in self.events]


def ground_truth(service: DeviceService | PollbookService, election: Election) -> GroundTruth:
    """Snapshot the device behind ``service`` under its lock."""
    with service.lock:
        status, counters, events = service.status(), service.counters(), tuple(service.event_log())
        if isinstance(service, PollbookService):
            return GroundTruth(
                kind=service.kind, unit=service.pollbook.device_id, state=service.state.value, polls=status.polls,
                test_mode=False, faults=status.faults, public=counters.public, protective=counters.protective,
                cvrs=None, paper=None, tally=None, events=events, log_head=str(counters.log_head), zero_tape="",
                results_tape="", election=election,
            )  # fmt: skip
        device = service.device
        return GroundTruth(
            kind=service.kind, unit=device.device_id, state=device.state.value, polls=status.polls,
            test_mode=status.test_mode, faults=status.faults, public=counters.public, protective=counters.protective,
            cvrs=service.cvrs().copy(), paper=service.paper_records().copy(), tally=np.asarray(service.tally(), np.int64),
            events=events, log_head=str(counters.log_head), zero_tape=service.zero_tape,
            results_tape=service.results_tape, election=election,
        )  # fmt: skip
