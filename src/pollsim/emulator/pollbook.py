"""An electronic pollbook on its service port: check-ins instead of ballots.

At the check-in table a poll manager marks each voter VOTED in the electronic pollbook, or
issues an affidavit ballot (Miss. Code §23-15-573) when the voter is not on the roll; at the
close its counts go on the §23-15-615 ballot accounting form next to the voting machines'
public counters. :class:`PollbookService` serves such a pollbook on the same serial protocol as
the voting devices (docs/protocol.md section 11): its counters are the voters marked VOTED
and every check-in, it keeps a hash-chained event log, and it seals what a reader decides on.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from pollsim.devices import BallotRefused, Pollbook
from pollsim.devices.eventlog import EventLog
from pollsim.devices.states import PollState
from pollsim.emulator.service import ServicePort, default_election_code
from pollsim.errors import DeviceError
from pollsim.protocol import Counters, ErrorCode, RequestRefused, Status

__all__ = ["PollbookService"]


class PollbookService(ServicePort):
    """An electronic pollbook on its service port: check-ins instead of ballots.

    Its counters are the voters marked VOTED (public) and every check-in, affidavit voters
    included (protective); it holds no ballots, so TALLY, CVRS and PAPER_RECORDS are refused
    as UNSUPPORTED. Polls: closed -> open -> final (the firmware states READY, POLLS_OPEN,
    POLLS_CLOSED). It takes a results key before its polls open, and then seals its IDENTIFY,
    STATUS and COUNTERS replies like any device. Its memory does not survive a restart.
    """

    kind = "electronic-poll-book"

    def __init__(self, pollbook: Pollbook, *, number: int, election_code: str | None = None, definition_hash: str, date: str):
        if pollbook.log is None:
            raise DeviceError(f"{pollbook.device_id}: a paper pollbook has no service port")
        super().__init__(number, election_code or default_election_code(definition_hash), definition_hash, None)
        self.pollbook = pollbook
        self._election_date = date
        self.state = PollState.READY

    @property
    def log(self) -> EventLog:
        assert self.pollbook.log is not None
        return self.pollbook.log

    def check_in(self, status: int) -> bool:
        """A voter at the table: True if marked VOTED, False for an affidavit ballot."""
        with self.lock:
            if self.state is not PollState.POLLS_OPEN:
                raise BallotRefused(f"{self.pollbook.device_id}: polls are {self.state.polls}")
            return self.pollbook.check_in(self.clock.now(), status)

    @property
    def _in_test_mode(self) -> bool:
        return self.state is PollState.READY  # a pollbook takes its key before the polls open

    _key_rule = "only before the polls open"

    def status(self) -> Status:
        return Status.of(self.state, int(self.clock.now()))

    def open_polls(self, election_code: str) -> Status:
        with self.lock:
            self._check_code(election_code)
            if self.state is PollState.POLLS_CLOSED:
                raise DeviceError("polls are final")
            if self.state is not PollState.POLLS_OPEN:
                self.state = PollState.POLLS_OPEN
                self.log.append(self.clock.now(), "state-polls-open")
            return self.status()

    def close_polls(self) -> Status:
        with self.lock:
            if self.state is not PollState.POLLS_OPEN:
                raise DeviceError(f"polls are {self.state.polls}, not open")
            self.state = PollState.POLLS_CLOSED
            self.log.append(self.clock.now(), "state-polls-closed")
            return self.status()

    def counters(self) -> Counters:
        with self.lock:
            book = self.pollbook
            return Counters(book.marked_voted, sum(book.by_status), len(self.log), self.log.head)

    def _no_ballots(self) -> RequestRefused:
        return RequestRefused(ErrorCode.UNSUPPORTED, "a pollbook holds no ballots")

    def tally(self) -> npt.NDArray[np.integer]:
        raise self._no_ballots()

    def cvrs(self) -> npt.NDArray[np.uint8]:
        raise self._no_ballots()

    def paper_records(self) -> npt.NDArray[np.uint8]:
        raise self._no_ballots()

    def _tape(self, title: str) -> str:
        book = self.pollbook
        lines = [title, f"DEVICE     {book.device_id}", f"DEFINITION sha256:{self.definition_hash[:16]}",
                 f"MARKED VOTED      {book.marked_voted:>8}", f"RECEIPT BOOK      {book.receipt_signatures:>8}",
                 f"AFFIDAVIT         {book.affidavit_register:>8}", ""]  # fmt: skip
        return "\n".join(lines)

    def print_zero_tape(self) -> str:
        with self.lock:
            return self._tape("POLLBOOK ZERO REPORT")

    def print_results_tape(self) -> str:
        with self.lock:
            return self._tape("POLLBOOK CLOSING REPORT")

    def cast_test_ballot(self, marks: npt.NDArray[np.uint8]) -> Counters:
        raise self._no_ballots()

    def inject_fault(self, fault: str, params: Mapping[str, int | float | str | bool]) -> Status:
        raise RequestRefused(ErrorCode.UNSUPPORTED, "the pollbook emulator has no faults to inject")
