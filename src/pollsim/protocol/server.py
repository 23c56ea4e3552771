"""The device side of the conversation: a service port that answers the county's reader.

A real voting device has a small piece of firmware behind its service port: it waits for a
request, checks it is well formed and allowed, asks the rest of the machine (counters, memory,
printer) for the answer, and sends it back. :class:`DeviceServer` is that piece. The machine
behind it is any object with the methods of :class:`DeviceHandler`: the device models of
pollsim.devices are meant to provide one, and the tests use a small fake.

The server, not the handler, enforces the protocol's own rules, so no device can forget them:
test-mode-only requests are refused outside test mode, chunked readouts are cut to fit a frame,
and a malformed request is answered with BAD_REQUEST. A handler refuses a request by raising
:class:`~pollsim.protocol.messages.RequestRefused` with an error code, or
:class:`pollsim.errors.DeviceError`, which is sent as BAD_STATE.

Given a :class:`~pollsim.protocol.auth.ResultSeal`, the server also seals every reply that a
county's reader decides anything on (IDENTIFY, STATUS, TALLY, COUNTERS, CVRS and PAPER_RECORDS;
docs/protocol.md section 8), each bound to the device's identity (its scope), and says so in its
IDENTIFY reply; chunks are cut smaller by the envelope's 112 bytes to still fit a message. What
the reader takes from it feeds the county's §23-15-615 ballot accounting.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Protocol

import numpy as np
import numpy.typing as npt

from pollsim.errors import DeviceError
from pollsim.protocol.auth import ENVELOPE_SIZE, ResultSeal, scope_digest
from pollsim.protocol.frame import MAX_PAYLOAD, Frame
from pollsim.protocol.link import Link, LinkError
from pollsim.protocol.messages import (
    ClockSetting,
    Counters,
    ErrorCode,
    FaultInjection,
    Identity,
    MessageType,
    PayloadError,
    PollsOpening,
    RequestRefused,
    Status,
    reply_type,
)
from pollsim.protocol.records import ChunkRequest, LogChunk, LogEvent, MarksChunk, decode_ballot, encode_tally

__all__ = ["SEALED", "DeviceHandler", "DeviceServer"]


class DeviceHandler(Protocol):
    """What a device must provide to be served on a port. Each method answers one request.

    Any method may raise :class:`RequestRefused` (for example ``UNSUPPORTED`` for a device with
    no paper records) or :class:`pollsim.errors.DeviceError` (sent as ``BAD_STATE``).
    """

    def identify(self) -> Identity: ...

    def status(self) -> Status: ...

    def set_clock(self, clock: int) -> Status:
        """Set the device clock to ``clock`` Unix seconds."""
        ...

    def open_polls(self, election_code: str) -> Status:
        """Open the polls; refuse with ``AUTH_FAILED`` if the election code is wrong."""
        ...

    def close_polls(self) -> Status: ...

    def counters(self) -> Counters: ...

    def tally(self) -> npt.NDArray[np.integer]:
        """Per-choice totals (one per column of the CVR matrix), counted by the vote-for-N
        rules of docs/protocol.md section 5 (an overvoted contest counts for no one)."""
        ...

    def cvrs(self) -> npt.NDArray[np.uint8]:
        """All cast vote records: one row per ballot, one 0/1 column per choice."""
        ...

    def paper_records(self) -> npt.NDArray[np.uint8]:
        """The paper records (VVPAT), as rows of marks like :meth:`cvrs`."""
        ...

    def event_log(self) -> Sequence[LogEvent]: ...

    def print_zero_tape(self) -> str:
        """Print the zero tape; return its text."""
        ...

    def print_results_tape(self) -> str:
        """Print the results tape; return its text."""
        ...

    def cast_test_ballot(self, marks: npt.NDArray[np.uint8]) -> Counters:
        """Cast a test ballot (only ever called in test mode)."""
        ...

    def inject_fault(self, fault: str, params: Mapping[str, int | float | str | bool]) -> Status:
        """Make a fault happen (only ever called in test mode)."""
        ...


_TEST_MODE_ONLY = frozenset({MessageType.CAST_TEST_BALLOT, MessageType.INJECT_FAULT})

SEALED = frozenset({
    MessageType.IDENTIFY, MessageType.STATUS, MessageType.TALLY, MessageType.COUNTERS,
    MessageType.CVRS, MessageType.PAPER_RECORDS,
})  # fmt: skip
"""Requests whose replies a reader decides on, sealed by a device that holds a key."""


class DeviceServer:
    """Answers requests arriving on ``link`` by asking ``handler``; seals results with
    ``signer`` if one is given."""

    def __init__(self, link: Link, handler: DeviceHandler, signer: ResultSeal | None = None):
        self.link = link
        link.role = "device"
        self.handler = handler
        self.signer = signer
        self._reserve = ENVELOPE_SIZE if signer is not None else 0
        self._answers: dict[int, Callable[[bytes], bytes]] = {
            MessageType.IDENTIFY: self._identify,
            MessageType.STATUS: self._status,
            MessageType.SET_CLOCK: self._set_clock,
            MessageType.OPEN_POLLS: self._open_polls,
            MessageType.CLOSE_POLLS: self._close_polls,
            MessageType.COUNTERS: self._counters,
            MessageType.TALLY: self._tally,
            MessageType.CVRS: self._cvrs,
            MessageType.PAPER_RECORDS: self._paper_records,
            MessageType.EVENT_LOG: self._event_log,
            MessageType.PRINT_ZERO_TAPE: self._print_zero_tape,
            MessageType.PRINT_RESULTS_TAPE: self._print_results_tape,
            MessageType.CAST_TEST_BALLOT: self._cast_test_ballot,
            MessageType.INJECT_FAULT: self._inject_fault,
        }

    def answer(self, request: Frame) -> tuple[int, bytes]:
        """The reply (message type, payload) to one request; no input or output."""
        try:
            answer = self._answers.get(request.msg_type)
            if answer is None:
                raise RequestRefused(ErrorCode.UNKNOWN_MESSAGE, f"type 0x{request.msg_type:02x}")
            kind = MessageType(request.msg_type)
            if kind in _TEST_MODE_ONLY and not self.handler.status().test_mode:
                raise RequestRefused(ErrorCode.NOT_IN_TEST_MODE, kind.name)
            payload = answer(request.payload)
            if self.signer is not None and kind in SEALED:
                payload = self.signer.seal(payload, scope_digest(self.handler.identify().scope))
            if len(payload) > MAX_PAYLOAD:
                raise RequestRefused(ErrorCode.DEVICE_FAULT, f"reply of {len(payload)} bytes")
            return reply_type(kind), payload
        except RequestRefused as refusal:
            return MessageType.ERROR, refusal.to_payload()
        except PayloadError as error:
            return MessageType.ERROR, RequestRefused(ErrorCode.BAD_REQUEST, str(error)).to_payload()
        except DeviceError as error:
            return MessageType.ERROR, RequestRefused(ErrorCode.BAD_STATE, str(error)).to_payload()

    def serve_one(self, timeout: float | None = None) -> bool:
        """Answer the next request if one arrives within ``timeout`` s; tell whether one did.

        A reply the host never acknowledges is abandoned (counted in ``link.stats``), as a
        real device would: the host may have been unplugged, and may come back.
        """
        request = self.link.receive(timeout)
        if request is None:
            return False
        with contextlib.suppress(LinkError):  # the link counts it as abandoned
            self.link.send(*self.answer(request))
        return True

    def serve_forever(self, stop: threading.Event, poll: float = 0.05) -> None:
        """Answer requests until ``stop`` is set (checked every ``poll`` seconds)."""
        while not stop.is_set():
            self.serve_one(poll)

    @contextmanager
    def in_background(self, poll: float = 0.01) -> Iterator[DeviceServer]:
        """Serve in a thread for the duration of a ``with`` block (test benches, benchmarks)."""
        stop = threading.Event()
        thread = threading.Thread(target=self.serve_forever, args=(stop, poll), name="device server")
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()

    def _identify(self, payload: bytes) -> bytes:
        _no_payload(payload)
        identity = self.handler.identify()
        if self.signer is not None:
            identity = dataclasses.replace(identity, sealed=True)
        return identity.to_payload()

    def _status(self, payload: bytes) -> bytes:
        _no_payload(payload)
        return self.handler.status().to_payload()

    def _set_clock(self, payload: bytes) -> bytes:
        return self.handler.set_clock(ClockSetting.from_payload(payload).clock).to_payload()

    def _open_polls(self, payload: bytes) -> bytes:
        code = PollsOpening.from_payload(payload).election_code
        return self.handler.open_polls(code).to_payload()

    def _close_polls(self, payload: bytes) -> bytes:
        _no_payload(payload)
        return self.handler.close_polls().to_payload()

    def _counters(self, payload: bytes) -> bytes:
        _no_payload(payload)
        return self.handler.counters().to_payload()

    def _tally(self, payload: bytes) -> bytes:
        _no_payload(payload)
        return encode_tally(self.handler.tally())

    def _cvrs(self, payload: bytes) -> bytes:
        request = ChunkRequest.from_payload(payload)
        return _marks_chunk(request, self.handler.cvrs(), self._reserve)

    def _paper_records(self, payload: bytes) -> bytes:
        request = ChunkRequest.from_payload(payload)
        return _marks_chunk(request, self.handler.paper_records(), self._reserve)

    def _event_log(self, payload: bytes) -> bytes:
        return _log_chunk(ChunkRequest.from_payload(payload), self.handler.event_log())

    def _print_zero_tape(self, payload: bytes) -> bytes:
        _no_payload(payload)
        return self.handler.print_zero_tape().encode()

    def _print_results_tape(self, payload: bytes) -> bytes:
        _no_payload(payload)
        return self.handler.print_results_tape().encode()

    def _cast_test_ballot(self, payload: bytes) -> bytes:
        return self.handler.cast_test_ballot(decode_ballot(payload)).to_payload()

    def _inject_fault(self, payload: bytes) -> bytes:
        request = FaultInjection.from_payload(payload)
        return self.handler.inject_fault(request.fault, request.params).to_payload()


def _no_payload(payload: bytes) -> None:
    if payload:
        raise PayloadError(f"this request takes no payload, got {len(payload)} bytes")


def _marks_chunk(
    request: ChunkRequest, records: npt.NDArray[np.uint8], reserve: int = 0
) -> bytes:
    """As many rows from the requested offset as asked for and as fit in one frame, leaving
    ``reserve`` bytes free (for a seal)."""
    total, width = records.shape
    if request.offset > total:
        raise RequestRefused(ErrorCode.OUT_OF_RANGE, f"offset {request.offset} > {total} records")
    fits = (MAX_PAYLOAD - reserve - MarksChunk.HEADER.size) // max(width, 1)
    count = min(request.max_count, total - request.offset, fits, 0xFFFF)
    rows = np.ascontiguousarray(records[request.offset : request.offset + count], np.uint8)
    return MarksChunk(request.offset, total, rows).to_payload()


def _log_chunk(request: ChunkRequest, events: Sequence[LogEvent]) -> bytes:
    """As many entries from the requested offset as asked for and as fit (at least one)."""
    total = len(events)
    if request.offset > total:
        raise RequestRefused(ErrorCode.OUT_OF_RANGE, f"offset {request.offset} > {total} events")
    room = MAX_PAYLOAD - LogChunk.HEADER.size - 1  # "[" and "]", less one "," never written
    chunk: list[LogEvent] = []
    for event in events[request.offset : request.offset + request.max_count]:
        room -= len(event.to_json()) + 1
        if room < 0 and chunk:
            break
        chunk.append(event)
    return LogChunk(request.offset, total, tuple(chunk)).to_payload()
