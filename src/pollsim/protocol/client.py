"""The host side of the conversation: the county's reader plugged into a device's service port.

An official with a laptop and a serial cable asks a device, one request at a time, for its
identity, counters, records and tapes. :class:`Client` is that reader: each method sends one
request (or, for records, as many chunk requests as it takes) and turns the reply into Python
values, or raises :class:`~pollsim.protocol.messages.RequestRefused` if the device said no.

    import serial
    from pollsim.protocol import Client

    with serial.Serial("/dev/pts/7", timeout=0.01) as port:
        reader = Client(port)
        print(reader.identify(), reader.counters())
        cvrs = reader.read_all_cvrs()      # numpy uint8 matrix, one row per ballot

Given a :class:`~pollsim.protocol.auth.ResultVerifier` (the county's copy of the device's key),
the reader insists that IDENTIFY and every reply it decides on (STATUS, TALLY, COUNTERS, CVRS,
PAPER_RECORDS) is sealed, opens the sealed identity before anything else, and raises
:class:`~pollsim.protocol.auth.ForgedResult`, ``AlteredResult`` or ``ReplayedResult`` for a
reply that is not genuine, bound to that identity, intact and new. Without a verifier it still
opens every sealed reply (a payload that starts with the envelope's magic), checking only its
digest. What it reads feeds the county's §23-15-615 ballot accounting.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from pollsim.protocol.auth import ResultAuthError, ResultVerifier, is_sealed, unseal
from pollsim.protocol.link import Link, SerialPort
from pollsim.protocol.messages import (
    ClockSetting,
    Counters,
    FaultInjection,
    Identity,
    MessageType,
    PayloadError,
    PollsOpening,
    RequestRefused,
    Status,
    reply_type,
)
from pollsim.protocol.records import ChunkRequest, LogChunk, LogEvent, MarksChunk, decode_tally, encode_ballot
from pollsim.protocol.server import SEALED

__all__ = ["Client"]


class Client:
    """Asks a device on ``port`` questions; one method per request type."""

    def __init__(
        self,
        port: SerialPort,
        *,
        ack_timeout: float = 0.5,
        retries: int = 10,
        max_chunk: int = 0xFFFF,
        verifier: ResultVerifier | None = None,
        deadline: float = 60.0,
    ):
        """``max_chunk`` caps the records asked for per chunk. ``verifier`` makes the reader
        accept only genuine, intact and new sealed results of the device it identified.
        ``deadline`` bounds each request, however noisy the line or talkative the device."""
        self.link = Link(port, ack_timeout=ack_timeout, retries=retries, deadline=deadline)
        """The reliable link underneath (its ``stats`` count retransmissions and errors)."""
        self.max_chunk = max_chunk
        self.verifier = verifier
        self.identity: Identity | None = None
        """What IDENTIFY said (None: not asked yet)."""

    @property
    def sealed(self) -> bool:
        """Whether result replies come sealed: always with a verifier, else as IDENTIFY said."""
        return self.verifier is not None or (self.identity is not None and self.identity.sealed)

    def call(self, request: MessageType, payload: bytes = b"") -> bytes:
        """Send one request; return the reply's payload or raise the device's refusal.

        With a verifier, the device is identified first; a sealed reply is opened, and one that
        fails a check raises the :class:`~pollsim.protocol.auth.ResultAuthError` for it,
        naming the port and request.
        """
        if self.verifier is not None and self.identity is None and request is not MessageType.IDENTIFY:
            self.identify()
        reply = self.link.request(request, payload)
        if reply.msg_type == MessageType.ERROR:
            raise RequestRefused.from_payload(reply.payload)
        if reply.msg_type != reply_type(request):
            raise PayloadError(
                f"{self.link.name}: reply type 0x{reply.msg_type:02x} to {request.name} request"
            )
        if request in SEALED and (self.verifier is not None or is_sealed(reply.payload)):
            try:
                if self.verifier is None:
                    return unseal(reply.payload)
                if request is MessageType.IDENTIFY:
                    self.identity = self.verifier.open_identity(reply.payload)
                    return self.identity.to_payload()
                return self.verifier.open(reply.payload)
            except ResultAuthError as error:
                detail = f"{self.link.name}: {request.name} reply is {error.what}: {error}"
                raise type(error)(detail) from None
        return reply.payload

    def identify(self) -> Identity:
        """Who the device is; from now on the link talks to that device id only."""
        identity = Identity.from_payload(self.call(MessageType.IDENTIFY))
        self.link.device_id = identity.device_id
        self.identity = identity
        return identity

    def status(self) -> Status:
        return Status.from_payload(self.call(MessageType.STATUS))

    def set_clock(self, clock: int) -> Status:
        """Set the device clock to ``clock`` Unix seconds (UTC)."""
        return Status.from_payload(
            self.call(MessageType.SET_CLOCK, ClockSetting(clock).to_payload())
        )

    def open_polls(self, election_code: str) -> Status:
        payload = PollsOpening(election_code).to_payload()
        return Status.from_payload(self.call(MessageType.OPEN_POLLS, payload))

    def close_polls(self) -> Status:
        return Status.from_payload(self.call(MessageType.CLOSE_POLLS))

    def counters(self) -> Counters:
        return Counters.from_payload(self.call(MessageType.COUNTERS))

    def tally(self) -> npt.NDArray[np.int64]:
        """Per-choice totals as the device counted them."""
        return decode_tally(self.call(MessageType.TALLY))

    def cvrs(self, offset: int = 0) -> Iterator[MarksChunk]:
        """Cast vote records in chunks, from ``offset``; to resume a broken readout, pass the
        number of rows already received."""
        return self._marks_chunks(MessageType.CVRS, offset)

    def read_all_cvrs(self) -> npt.NDArray[np.uint8]:
        """Every cast vote record: one row per ballot, one 0/1 column per choice."""
        return _stack(self.cvrs())

    def paper_records(self) -> npt.NDArray[np.uint8]:
        """Every paper (VVPAT) record, as rows of marks like :meth:`read_all_cvrs`."""
        return _stack(self._marks_chunks(MessageType.PAPER_RECORDS, 0))

    def event_log(self) -> list[LogEvent]:
        """The whole event log, oldest entry first."""
        events: list[LogEvent] = []
        while True:
            request = ChunkRequest(len(events), self.max_chunk).to_payload()
            chunk = LogChunk.from_payload(self.call(MessageType.EVENT_LOG, request))
            _check_offset(chunk.offset, len(events))
            events.extend(chunk.events)
            if len(events) >= chunk.total or not chunk.events:
                return events

    def print_zero_tape(self) -> str:
        """Have the device print its zero tape; return the tape's text."""
        return self._text(self.call(MessageType.PRINT_ZERO_TAPE))

    def print_results_tape(self) -> str:
        """Have the device print its results tape; return the tape's text."""
        return self._text(self.call(MessageType.PRINT_RESULTS_TAPE))

    def cast_test_ballot(self, marks: npt.ArrayLike) -> Counters:
        """Cast a test ballot with these 0/1 marks (test mode only)."""
        return Counters.from_payload(self.call(MessageType.CAST_TEST_BALLOT, encode_ballot(marks)))

    def inject_fault(self, fault: str, **params: int | float | str | bool) -> Status:
        """Make the device suffer ``fault`` (test mode only), e.g. ``inject_fault("paper_out")``."""
        payload = FaultInjection(fault, params).to_payload()
        return Status.from_payload(self.call(MessageType.INJECT_FAULT, payload))

    def _marks_chunks(self, request: MessageType, offset: int) -> Iterator[MarksChunk]:
        while True:
            payload = ChunkRequest(offset, self.max_chunk).to_payload()
            chunk = MarksChunk.from_payload(self.call(request, payload))
            _check_offset(chunk.offset, offset)
            yield chunk
            offset += chunk.marks.shape[0]
            if offset >= chunk.total or chunk.marks.shape[0] == 0:
                return

    def _text(self, payload: bytes) -> str:
        try:
            return payload.decode()
        except UnicodeDecodeError as error:
            raise PayloadError(f"{self.link.name}: tape text is not UTF-8 ({error})") from None


def _check_offset(received: int, requested: int) -> None:
    if received != requested:
        raise PayloadError(f"asked for records from {requested}, got a chunk from {received}")


def _stack(chunks: Iterator[MarksChunk]) -> npt.NDArray[np.uint8]:
    """Join chunks into one matrix; every chunk must have the same width."""
    parts = [chunk.marks for chunk in chunks]
    widths = {part.shape[1] for part in parts}
    if len(widths) != 1:
        raise PayloadError(f"records chunks of different widths {sorted(widths)}")
    return np.concatenate(parts)
