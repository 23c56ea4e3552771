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

import hashlib
from datetime import UTC, datetime

import numpy as np

from pollsim.devices.eventlog import Disposition, EventLog
from pollsim.devices.states import PollState
from pollsim.devices.store import MemoryFull, MemoryStore, SQLiteStore
from pollsim.election.definition import Election
from pollsim.errors import DeviceError
from pollsim.tabulate.tally import tally_votes

_ALLOWED = {
    PollState.PRE_ELECTION: {PollState.TEST_MODE, PollState.READY},
    PollState.TEST_MODE: {PollState.READY},
    PollState.READY: {PollState.POLLS_OPEN, PollState.TEST_MODE},
    PollState.POLLS_OPEN: {PollState.SUSPENDED, PollState.POLLS_CLOSED},
    PollState.SUSPENDED: {PollState.POLLS_OPEN, PollState.POLLS_CLOSED},
    PollState.POLLS_CLOSED: {PollState.RESULTS_EXPORTED},
    PollState.RESULTS_EXPORTED: set(),
}
_TEST_MODE, _POLLS_OPEN = PollState.TEST_MODE, PollState.POLLS_OPEN

#: Faults that stop a device from casting until repaired (hardware.md).
BLOCKING_FAULTS = frozenset({
    "paper_out", "paper_jam", "printer_cover_open", "scanner_jam", "power_loss", "machine_failure",
    "memory_full", "memory_unreadable", "pollbook_down",
})  # fmt: skip
#: Faults that let the device go on casting, wrongly: they act between the ballot's layers.
SILENT_FAULTS = frozenset({"calibration_drift", "misrecording"})
#: Faults that spoil one scanner feed and clear themselves: the ballot comes back unread.
ONE_SHOT_FAULTS = frozenset({"misfeed", "double_pick"})


def ballot_fraction(*key) -> float:
    """A deterministic number in [0, 1) for one ballot: which ballots a share-based fault hits.

    Hashing (device, ballot number, fault) instead of drawing from a generator keeps the
    simulator and the emulator in step and makes a restarted device behave as before.
    """
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class IllegalTransition(DeviceError):
    """The device was asked to move to a state it cannot reach from where it is."""


class BallotRefused(DeviceError):
    """The device would not cast a ballot (polls not open, a fault, memory full)."""


def clock_text(t: float) -> str:
    """Minutes after midnight as HH:MM:SS (the simulator's clock on tapes and logs); a Unix
    time (the emulator's clock, any time past ten days) as a UTC date and time."""
    if t >= 10 * 24 * 60:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
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

    def __init__(self, device_id: str, election: Election, store: MemoryStore | SQLiteStore | None = None, *, precinct: str = "", t: float = 0.0):
        self.device_id = device_id
        self.election = election
        self.precinct = precinct
        self.store = store if store is not None else MemoryStore(election.width)
        persistent = not isinstance(self.store, MemoryStore)
        self._in_memory = type(self.store) is MemoryStore  # nothing to commit: no transaction per ballot
        restored = self.store.saved_log() if persistent else None
        self.log = EventLog(device_id, election.definition_hash, persist=self.store.save_log if persistent else None, restored=restored)
        self.faults: set[str] = set()
        self.misrecording: tuple[str, float, str | None] | None = None  # (contest, share, to choice)
        self.calibration_drift = 0.0  # share of touches that land on the neighbouring choice
        self.state = PollState(self.store.state) if self.store.state else PollState.PRE_ELECTION
        if not self.log.entries:
            self.log.append(t, "election-definition-loaded", details=f"sha256={election.definition_hash}")
        else:
            self.log.append(t, "power-on", details=f"state={self.state.value}")
            if self.state is PollState.POLLS_OPEN:  # came back from a power loss: polls stay suspended
                self._move(t, PollState.SUSPENDED)

    # ---------------------------------------------------------------- states
    def _move(self, t: float, new: PollState) -> None:
        if new not in _ALLOWED[self.state]:
            self.log.append(t, "illegal-transition", Disposition.FAILURE, f"{self.state.value}->{new.value}")
            raise IllegalTransition(f"{self.device_id}: cannot go from {self.state.value} to {new.value}")
        with self.store.transaction():
            self.log.append(t, f"state-{new.value}", details=f"from={self.state.value}")
            self.store.save_state(new.value)
        self.state = new

    def enter_test_mode(self, t: float) -> None:
        self._move(t, PollState.TEST_MODE)

    def set_for_election(self, t: float) -> None:
        """Leave test mode (or pre-election) ready for the polls: test ballots are cleared."""
        with self.store.transaction():
            self._move(t, PollState.READY)
            self.store.clear_test_ballots()
            self.store.public = 0
            self.store.save_counters()

    def open_polls(self, t: float) -> str:
        """Open the polls and return the zero tape (refused unless the public counter is 0)."""
        if self.store.public != 0:
            self.log.append(t, "polls-open-refused", Disposition.FAILURE, f"public counter {self.store.public}")
            raise IllegalTransition(f"{self.device_id}: public counter is {self.store.public}, not zero")
        with self.store.transaction():  # the state and its tape's log entry: both or neither, whenever a kill comes
            self._move(t, PollState.POLLS_OPEN)
            return self.zero_tape(t)

    def suspend(self, t: float) -> None:
        self._move(t, PollState.SUSPENDED)

    def resume(self, t: float) -> None:
        self._move(t, PollState.POLLS_OPEN)

    def close_polls(self, t: float) -> str:
        """Close the polls and return the results tape."""
        with self.store.transaction():  # as open_polls: the state change and the tape's log entry commit together
            self._move(t, PollState.POLLS_CLOSED)
            return self.results_tape(t)

    def export_results(self, t: float) -> None:
        self._move(t, PollState.RESULTS_EXPORTED)

    # ---------------------------------------------------------------- faults
    def fail(self, t: float, fault: str, **params) -> None:
        """A fault starts. Blocking faults stop casting; silent ones alter what is recorded.

        ``misrecording`` takes ``contest``, ``share`` and optionally ``to`` (a choice id):
        that share of ballots has the contest's electronic record changed to ``to`` (or to the
        next choice) while the paper keeps the voter's choice. ``calibration_drift`` takes
        ``share``: that share of ballots has each contest's touch land on the next choice, on
        screen, on paper and in memory alike.
        """
        if fault not in BLOCKING_FAULTS | SILENT_FAULTS | ONE_SHOT_FAULTS:
            raise DeviceError(f"{self.device_id}: unknown fault {fault!r}")
        if fault == "misrecording":
            contest = params["contest"]
            if contest not in self.election.contest_slices:
                raise DeviceError(f"{self.device_id}: misrecording names unknown contest {contest!r}")
            self.misrecording = (contest, float(params.get("share", 1.0)), params.get("to"))
        elif fault == "calibration_drift":
            self.calibration_drift = float(params.get("share", 1.0))
        self.faults.add(fault)
        detail = fault + "".join(f" {k}={v}" for k, v in sorted(params.items()))
        self.log.append(t, "fault", Disposition.FAILURE, detail)

    def repair(self, t: float, fault: str) -> None:
        self.faults.discard(fault)
        if fault == "misrecording":
            self.misrecording = None
        elif fault == "calibration_drift":
            self.calibration_drift = 0.0
        self.log.append(t, "fault-cleared", details=fault)

    @property
    def blocked_by(self) -> list[str]:
        return sorted(self.faults & BLOCKING_FAULTS)

    def _shift(self, row: np.ndarray, contest: str, to: str | None) -> None:
        """Move a contest's marks in ``row`` (in place) to choice ``to``, or each to the next choice."""
        sl = self.election.contest_slices[contest]
        block = row[sl]
        if not block.any():
            return
        if to is not None:
            moved = np.zeros_like(block)
            moved[self.election.column_of(contest, to) - sl.start] = 1
        else:
            moved = np.roll(block, 1)
        row[sl] = moved

    def _apply_silent_faults(self, selections) -> tuple[np.ndarray, np.ndarray]:
        """(paper row, electronic row) of a ballot after calibration drift and misrecording."""
        paper = np.array(selections, np.uint8)
        n = self.store.protective
        if self.calibration_drift:
            for contest in self.election.contest_slices:
                if ballot_fraction(self.device_id, n, "drift", contest) < self.calibration_drift:
                    self._shift(paper, contest, None)
        electronic = paper
        if self.misrecording is not None:
            contest, share, to = self.misrecording
            if ballot_fraction(self.device_id, n, "misrecord") < share:
                electronic = paper.copy()
                self._shift(electronic, contest, to)
        return paper, electronic

    # ---------------------------------------------------------------- ballots
    def _record(self, t: float, cvr_row, paper_row) -> int:
        """Store a cast ballot (live or test by the state) and log it, never how it was voted.

        Ballot, counters and log entry are one transaction of the store: all or nothing (a
        :class:`MemoryStore` refuses a ballot before it changes anything, so needs none).
        """
        state = self.state
        test = state is _TEST_MODE
        if not test and state is not _POLLS_OPEN:
            self.log.append(t, "ballot-refused", Disposition.FAILURE, f"state={state.value}")
            raise BallotRefused(f"{self.device_id}: polls are not open ({state.value})")
        if self.faults:
            if self.blocked_by:
                self.log.append(t, "ballot-refused", Disposition.FAILURE, "fault=" + ",".join(self.blocked_by))
                raise BallotRefused(f"{self.device_id}: out of service ({', '.join(self.blocked_by)})")
            paper_row, cvr_row = self._apply_silent_faults(paper_row)
        store = self.store
        try:
            if self._in_memory:
                i = store.record_ballot(t, cvr_row, paper_row, test)
                self.log.append(t, "test-ballot-cast" if test else "ballot-cast")
            else:
                with store.transaction():
                    i = store.record_ballot(t, cvr_row, paper_row, test)
                    self.log.append(t, "test-ballot-cast" if test else "ballot-cast")
        except MemoryFull:
            self.faults.add("memory_full")
            self.log.append(t, "ballot-refused", Disposition.FAILURE, "fault=memory_full")
            raise
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
