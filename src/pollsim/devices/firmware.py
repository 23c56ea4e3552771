"""Voting-device firmware: the poll states, the two counters, the tapes and the event log.

Picture the back of a DRE or a precinct scanner on election morning. A poll manager turns the key:
the unit, loaded weeks ago with the election definition and put through logic-and-accuracy
testing in test mode, prints a **zero tape** showing every choice at 0 and its public counter at 0,
and the polls are open. Each cast ballot bumps the **public counter** (this election) and the
**protective counter** (every ballot since manufacture, never reset). The unit may be suspended
and resumed; at 19:00 it closes, prints a **results tape**, and its memory card goes to the county.

States (hardware.md "Poll states"; test ballots never touch the public counter)::

    PRE_ELECTION -> TEST_MODE -> READY -> POLLS_OPEN <-> SUSPENDED -> POLLS_CLOSED -> RESULTS_EXPORTED
    PRE_ELECTION -> READY  (set for election)

Any other transition is refused with :class:`IllegalTransition` and logged as a failure.
The firmware knows no clock and no disk: times are passed in, memory is a store.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from pollsim.devices.eventlog import Disposition, EventLog
from pollsim.devices.store import MemoryStore
from pollsim.election.definition import Election
from pollsim.errors import DeviceError
from pollsim.tabulate.tally import tally_votes


class PollState(Enum):
    PRE_ELECTION = "pre-election"
    TEST_MODE = "test-mode"
    READY = "ready"
    POLLS_OPEN = "polls-open"
    SUSPENDED = "suspended"
    POLLS_CLOSED = "polls-closed"
    RESULTS_EXPORTED = "results-exported"


_ALLOWED = {
    PollState.PRE_ELECTION: {PollState.TEST_MODE, PollState.READY},
    PollState.TEST_MODE: {PollState.READY},
    PollState.READY: {PollState.POLLS_OPEN, PollState.TEST_MODE},
    PollState.POLLS_OPEN: {PollState.SUSPENDED, PollState.POLLS_CLOSED},
    PollState.SUSPENDED: {PollState.POLLS_OPEN, PollState.POLLS_CLOSED},
    PollState.POLLS_CLOSED: {PollState.RESULTS_EXPORTED},
    PollState.RESULTS_EXPORTED: set(),
}


class IllegalTransition(DeviceError):
    """The device was asked to move to a state it cannot reach from where it is."""


class BallotRefused(DeviceError):
    """The device would not cast a ballot (polls not open, a fault, memory full)."""


def clock_text(t: float) -> str:
    """Minutes after midnight as HH:MM:SS (the simulator's clock on tapes and logs)."""
    s = int(round(t * 60))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class VotingDevice:
    """A ballot-handling device: the behaviour DRE, scanner and BMD firmware share.

    Attributes:
        device_id: the unit's id in the precinct (``DRE-1``, ``SCAN-1`` ...).
        kind: NIST SP 1500-101 device type (``dre``, ``scan-single``, ``bmd``).
        election: the loaded election definition; ``election.definition_hash`` is on every tape.
        state: the current :class:`PollState`.
        store: device memory (counters, ballots).
        log: the hash-chained :class:`EventLog`, whose genesis is the definition hash.
        faults: names of the faults now active (they block casting).
    """

    kind = "dre"

    def __init__(self, device_id: str, election: Election, store: MemoryStore | None = None, *, precinct: str = "", t: float = 0.0):
        self.device_id = device_id
        self.election = election
        self.precinct = precinct
        self.store = store if store is not None else MemoryStore(election.width)
        self.state = PollState.PRE_ELECTION
        self.log = EventLog(device_id, election.definition_hash)
        self.faults: set[str] = set()
        self.log.append(t, "election-definition-loaded", details=f"sha256={election.definition_hash}")

    # ---------------------------------------------------------------- states
    def _move(self, t: float, new: PollState) -> None:
        if new not in _ALLOWED[self.state]:
            self.log.append(t, "illegal-transition", Disposition.FAILURE, f"{self.state.value}->{new.value}")
            raise IllegalTransition(f"{self.device_id}: cannot go from {self.state.value} to {new.value}")
        self.log.append(t, f"state-{new.value}", details=f"from={self.state.value}")
        self.state = new

    def enter_test_mode(self, t: float) -> None:
        self._move(t, PollState.TEST_MODE)

    def set_for_election(self, t: float) -> None:
        """Leave test mode (or pre-election) ready for the polls: test ballots are cleared."""
        self._move(t, PollState.READY)
        self.store.clear_test_ballots()
        self.store.public = 0

    def open_polls(self, t: float) -> str:
        """Open the polls and return the zero tape (refused unless the public counter is 0)."""
        if self.store.public != 0:
            self.log.append(t, "polls-open-refused", Disposition.FAILURE, f"public counter {self.store.public}")
            raise IllegalTransition(f"{self.device_id}: public counter is {self.store.public}, not zero")
        self._move(t, PollState.POLLS_OPEN)
        return self.zero_tape(t)

    def suspend(self, t: float) -> None:
        self._move(t, PollState.SUSPENDED)

    def resume(self, t: float) -> None:
        self._move(t, PollState.POLLS_OPEN)

    def close_polls(self, t: float) -> str:
        """Close the polls and return the results tape."""
        self._move(t, PollState.POLLS_CLOSED)
        return self.results_tape(t)

    def export_results(self, t: float) -> None:
        self._move(t, PollState.RESULTS_EXPORTED)

    # ---------------------------------------------------------------- faults
    def fail(self, t: float, fault: str) -> None:
        self.faults.add(fault)
        self.log.append(t, "fault", Disposition.FAILURE, fault)

    def repair(self, t: float, fault: str) -> None:
        self.faults.discard(fault)
        self.log.append(t, "fault-cleared", details=fault)

    # ---------------------------------------------------------------- ballots
    def _record(self, t: float, cvr_row, paper_row) -> int:
        """Store a cast ballot (live or test by the state) and log it, never how it was voted."""
        test = self.state is PollState.TEST_MODE
        if not test and self.state is not PollState.POLLS_OPEN:
            self.log.append(t, "ballot-refused", Disposition.FAILURE, f"state={self.state.value}")
            raise BallotRefused(f"{self.device_id}: polls are not open ({self.state.value})")
        if self.faults:
            self.log.append(t, "ballot-refused", Disposition.FAILURE, "fault=" + ",".join(sorted(self.faults)))
            raise BallotRefused(f"{self.device_id}: out of service ({', '.join(sorted(self.faults))})")
        i = self.store.record_ballot(t, cvr_row, paper_row, test)
        self.log.append(t, "test-ballot-cast" if test else "ballot-cast")
        return i

    @property
    def public_count(self) -> int:
        return self.store.public

    @property
    def protective_count(self) -> int:
        return self.store.protective

    # ---------------------------------------------------------------- tapes
    def _tape_header(self, title: str, t: float) -> list[str]:
        return [
            "=" * 40,
            title.center(40),
            "=" * 40,
            f"ELECTION   {self.election.name}",
            f"DATE       {self.election.date}",
            f"PRECINCT   {self.precinct}",
            f"DEVICE     {self.device_id} ({self.kind})",
            f"DEFINITION sha256:{self.election.definition_hash[:16]}",
            f"           {self.election.definition_hash[16:]}",
            f"PRINTED    {clock_text(t)}",
            f"PUBLIC COUNT      {self.store.public:>8}",
            f"PROTECTIVE COUNT  {self.store.protective:>8}",
            "-" * 40,
        ]

    def _tape_body(self, votes: np.ndarray) -> list[str]:
        lines = []
        for contest in self.election.contests:
            lines.append(contest.title.upper()[:40])
            lines.append(f"  VOTE FOR {contest.vote_for}")
            sl = self.election.contest_slices[contest.id]
            for choice, v in zip(contest.choices, votes[sl], strict=True):
                lines.append(f"  {choice.name[:28]:<28}{int(v):>10}")
        return lines

    def zero_tape(self, t: float) -> str:
        lines = self._tape_header("ZERO TAPE", t) + self._tape_body(np.zeros(self.election.width, np.int64))
        lines += ["-" * 40, "ALL COUNTERS ZERO: POST THIS TAPE", "POLL MANAGER ____________________", ""]
        self.log.append(t, "zero-tape-printed")
        return "\n".join(lines)

    def results_tape(self, t: float) -> str:
        cvr, _, _ = self.store.ballots(test=self.state is PollState.TEST_MODE)
        lines = self._tape_header("RESULTS TAPE", t) + self._tape_body(tally_votes(self.election, cvr))
        lines += ["-" * 40, f"BALLOTS CAST      {len(cvr):>8}", "POLL MANAGERS ___________________", ""]
        self.log.append(t, "results-tape-printed")
        return "\n".join(lines)
