"""A tiny device for protocol tests: a precinct scanner with a few ballots and a paper trail.

It keeps just enough state to answer every request of the protocol, so the client and the
server can be tested without the real device models of pollsim.devices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from pollsim.devices.states import PollState
from pollsim.errors import DeviceError
from pollsim.protocol import (
    Counters,
    ErrorCode,
    Identity,
    LogEvent,
    RequestRefused,
    Status,
)

ELECTION_CODE = "MS-2024-GEN"


class FakeScanner:
    """A device handler whose records are given up front (rows of 0/1 marks)."""

    def __init__(self, cvrs: npt.NDArray[np.uint8], *, device_id: int = 7, test_mode: bool = False):
        self.records = np.array(cvrs, np.uint8)
        self.device_id = device_id
        self.state = PollState.TEST_MODE if test_mode else PollState.READY
        self.clock = 1_730_800_800
        self.protective = 1000 + len(self.records)
        self.faults: list[str] = []
        self.log = [
            LogEvent(
                i, f"2024-11-05T07:{i % 60:02d}:00-06:00", f"E{i:04d}", "success", f"event {i}"
            )
            for i in range(1, 4)
        ]

    @property
    def test_mode(self) -> bool:
        return self.state is PollState.TEST_MODE

    @test_mode.setter
    def test_mode(self, on: bool) -> None:
        self.state = PollState.TEST_MODE if on else PollState.READY

    def identify(self) -> Identity:
        return Identity(
            self.device_id, "scan-single", "FakeScan 1", f"SN{self.device_id:05d}", "1.0"
        )

    def status(self) -> Status:
        return Status.of(self.state, self.clock, tuple(self.faults))

    def set_clock(self, clock: int) -> Status:
        self.clock = clock
        return self.status()

    def open_polls(self, election_code: str) -> Status:
        if election_code != ELECTION_CODE:
            raise RequestRefused(ErrorCode.AUTH_FAILED, "wrong election code")
        if self.state not in (PollState.READY, PollState.TEST_MODE):
            raise DeviceError(f"polls are {self.state.polls}")
        self.state = PollState.POLLS_OPEN
        return self.status()

    def close_polls(self) -> Status:
        self.state = PollState.POLLS_CLOSED
        return self.status()

    def counters(self) -> Counters:
        return Counters(len(self.records), self.protective)

    def tally(self) -> npt.NDArray[np.int64]:
        return self.records.sum(axis=0, dtype=np.int64)

    def cvrs(self) -> npt.NDArray[np.uint8]:
        return self.records

    def paper_records(self) -> npt.NDArray[np.uint8]:
        return self.records

    def event_log(self) -> Sequence[LogEvent]:
        return self.log

    def print_zero_tape(self) -> str:
        return f"ZERO TAPE\npublic counter 0\nprotective {self.protective}\n"

    def print_results_tape(self) -> str:
        return "RESULTS\n" + " ".join(str(t) for t in self.tally()) + "\n"

    def cast_test_ballot(self, marks: npt.NDArray[np.uint8]) -> Counters:
        if marks.size != self.records.shape[1]:
            raise RequestRefused(ErrorCode.BAD_REQUEST, f"ballot has {marks.size} marks")
        self.protective += 1
        return Counters(len(self.records), self.protective)

    def inject_fault(self, fault: str, params: Mapping[str, int | float | str | bool]) -> Status:
        self.faults.append(fault)
        return self.status()
