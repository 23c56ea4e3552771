"""Messages: what the county's reader and a voting device say to each other, byte for byte.

After the polls close, an election official plugs a reader into a precinct scanner's service
port. The reader asks and the device answers: who are you (IDENTIFY), what state are you in
(STATUS), what do your counters say (COUNTERS), hand over your cast vote records (CVRS, in
chunks), print the results tape (PRINT_RESULTS_TAPE). Before election day, during logic and
accuracy testing, the same port casts test ballots and injects faults, but only in test mode.

Every request has one reply: the request's type with the high bit set (IDENTIFY 0x10 is answered
by 0x90), or ERROR (0xFF) carrying an :class:`ErrorCode` and a sentence. ACK and NAK belong to
the reliable link (pollsim.protocol.link), not to the conversation.

Payloads come in two kinds. Small structured ones are compact UTF-8 JSON objects (unknown keys
are ignored, so a device may say more than a reader knows). Bulk data is binary, big-endian:
cast vote records are rows of one byte per choice (0 = not marked, 1 = marked), sent in chunks
that the reader requests by offset, so an interrupted readout resumes where it stopped.
docs/protocol.md gives every layout.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import IntEnum, StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from pollsim.errors import PollsimError

__all__ = [
    "REPLY",
    "ChunkRequest",
    "ClockSetting",
    "Counters",
    "ErrorCode",
    "FaultInjection",
    "Identity",
    "LogChunk",
    "LogEvent",
    "MarksChunk",
    "MessageType",
    "PayloadError",
    "PollState",
    "PollsOpening",
    "RequestRefused",
    "Status",
    "decode_ballot",
    "decode_tally",
    "encode_ballot",
    "encode_tally",
    "reply_type",
]


class MessageType(IntEnum):
    """Message type codes (header byte 3). A reply is its request's code with :data:`REPLY` set."""

    ACK = 0x01
    NAK = 0x02
    IDENTIFY = 0x10
    STATUS = 0x11
    SET_CLOCK = 0x12
    OPEN_POLLS = 0x13
    CLOSE_POLLS = 0x14
    COUNTERS = 0x15
    TALLY = 0x16
    CVRS = 0x17
    PAPER_RECORDS = 0x18
    EVENT_LOG = 0x19
    PRINT_ZERO_TAPE = 0x1A
    PRINT_RESULTS_TAPE = 0x1B
    CAST_TEST_BALLOT = 0x1C
    INJECT_FAULT = 0x1D
    ERROR = 0xFF


REPLY = 0x80
"""The bit that turns a request type into its reply type."""


def reply_type(request: MessageType) -> int:
    """The message type of a successful reply to ``request``."""
    return request | REPLY


class ErrorCode(IntEnum):
    """Why a device refused a request (first two bytes of an ERROR payload)."""

    UNKNOWN_MESSAGE = 1
    """The message type is not one this protocol defines."""
    UNSUPPORTED = 2
    """Defined, but this device does not do it (a scanner has no VVPAT paper records)."""
    BAD_REQUEST = 3
    """The request's payload does not follow its layout."""
    BAD_STATE = 4
    """Not allowed in the device's present state (opening polls that are already open)."""
    NOT_IN_TEST_MODE = 5
    """A test-mode-only request (CAST_TEST_BALLOT, INJECT_FAULT) outside test mode."""
    AUTH_FAILED = 6
    """A wrong election code or credential."""
    OUT_OF_RANGE = 7
    """A chunk offset past the end of the records."""
    DEVICE_FAULT = 8
    """The device cannot do it now: paper out, printer jam, memory fault, reply too large."""


class PayloadError(PollsimError):
    """A payload that does not follow the layout of its message type."""


class RequestRefused(PollsimError):
    """A device refused a request: raised by device handlers, and by the client on ERROR replies."""

    _LAYOUT = struct.Struct(">H")

    def __init__(self, code: ErrorCode | int, detail: str = ""):
        self.code = code
        """The error code the device sent (a plain int for codes newer than this reader)."""
        self.detail = detail
        """The device's explanation, one sentence."""
        name = code.name if isinstance(code, ErrorCode) else f"error code {code}"
        super().__init__(f"{name}: {detail}" if detail else name)

    def to_payload(self) -> bytes:
        """ERROR payload: code (u16), then the detail in UTF-8."""
        return self._LAYOUT.pack(self.code) + self.detail.encode()

    @classmethod
    def from_payload(cls, payload: bytes) -> RequestRefused:
        if len(payload) < 2:
            raise PayloadError(f"ERROR payload of {len(payload)} bytes, need at least 2")
        (code,) = cls._LAYOUT.unpack_from(payload)
        try:
            detail = payload[2:].decode()
        except UnicodeDecodeError as error:
            raise PayloadError(f"ERROR payload: {error}") from None
        try:
            return cls(ErrorCode(code), detail)
        except ValueError:  # a code newer than this reader: still a refusal
            return cls(code, detail)


# --- JSON records -----------------------------------------------------------------------------


def _json(data: object) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _parse(payload: bytes, record: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise PayloadError(f"{record}: not UTF-8 JSON ({error})") from None


def _fields(obj: Any, record: str, schema: Mapping[str, type]) -> dict[str, Any]:
    """Check that ``obj`` is a JSON object with each key of ``schema``, of that type."""
    if not isinstance(obj, dict):
        raise PayloadError(f"{record}: expected a JSON object")
    fields = {}
    for key, kind in schema.items():
        value = obj.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise PayloadError(f"{record}: field {key!r} must be {kind.__name__}, got {value!r}")
        fields[key] = value
    return fields


def _optional(obj: dict[str, Any], record: str, schema: Mapping[str, type]) -> dict[str, Any]:
    """The keys of ``schema`` that ``obj`` has, each checked for its type (a newer device may
    send keys an older one does not)."""
    fields = {}
    for key, kind in schema.items():
        if key in obj:
            value = obj[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise PayloadError(f"{record}: field {key!r} must be {kind.__name__}, got {value!r}")
            fields[key] = value
    return fields


def _without_defaults(record: Any, **defaults: object) -> dict[str, Any]:
    """The record as a dict, leaving out the optional keys that hold their default value, so
    that a device which does not use them sends exactly the version 1 payload."""
    return {k: v for k, v in asdict(record).items() if k not in defaults or v != defaults[k]}


class PollState(StrEnum):
    """Where a device is in election day: closed -> open <-> paused -> final."""

    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"
    FINAL = "final"


@dataclass(frozen=True, slots=True)
class Identity:
    """IDENTIFY reply: which device this is."""

    device_id: int
    kind: str
    """Device kind, as in NIST SP 1500-101: "bmd", "dre", "scan-single", "electronic-poll-book"."""
    model: str
    serial: str
    firmware: str
    sealed: bool = False
    """Whether the device seals its results (section 8 of docs/protocol.md); sent only if true."""
    definition_hash: str = ""
    """SHA-256 (hex) of the loaded election definition, the genesis of the event-log hash
    chain; sent only if known."""

    def to_payload(self) -> bytes:
        return _json(_without_defaults(self, sealed=False, definition_hash=""))

    @classmethod
    def from_payload(cls, payload: bytes) -> Identity:
        schema = {"device_id": int, "kind": str, "model": str, "serial": str, "firmware": str}
        obj = _parse(payload, "IDENTIFY reply")
        fields = _fields(obj, "IDENTIFY reply", schema)
        extra = _optional(obj, "IDENTIFY reply", {"sealed": bool, "definition_hash": str})
        return cls(**fields, **extra)


@dataclass(frozen=True, slots=True)
class Status:
    """STATUS reply, also the reply to requests that change the device's state."""

    polls: PollState
    test_mode: bool
    clock: int
    """The device clock, in Unix seconds (UTC)."""
    faults: tuple[str, ...] = ()
    """Conditions now active, by name ("paper_out", "printer_cover_open", ...)."""

    def to_payload(self) -> bytes:
        return _json(asdict(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> Status:
        schema = {"polls": str, "test_mode": bool, "clock": int, "faults": list}
        fields = _fields(_parse(payload, "STATUS reply"), "STATUS reply", schema)
        if fields["polls"] not in set(PollState):
            raise PayloadError(f"STATUS reply: unknown polls state {fields['polls']!r}")
        if not all(isinstance(fault, str) for fault in fields["faults"]):
            raise PayloadError("STATUS reply: faults must be strings")
        polls, faults = PollState(fields["polls"]), tuple(fields["faults"])
        return cls(polls, fields["test_mode"], fields["clock"], faults)


@dataclass(frozen=True, slots=True)
class Counters:
    """COUNTERS reply (also the reply to CAST_TEST_BALLOT)."""

    public: int
    """Ballots cast in this election."""
    protective: int
    """Every ballot, test or real, since manufacture; never reset."""
    log_entries: int | None = None
    """Entries in the event log when the counters were read (sent only with ``log_head``)."""
    log_head: str | None = None
    """Chain hash of the last of those entries: inside a sealed COUNTERS reply it vouches for
    the event log read over the wire (docs/protocol.md section 8)."""

    def to_payload(self) -> bytes:
        return _json(_without_defaults(self, log_entries=None, log_head=None))

    @classmethod
    def from_payload(cls, payload: bytes) -> Counters:
        schema = {"public": int, "protective": int}
        obj = _parse(payload, "COUNTERS reply")
        fields = _fields(obj, "COUNTERS reply", schema)
        extra = _optional(obj, "COUNTERS reply", {"log_entries": int, "log_head": str})
        return cls(**fields, **extra)


@dataclass(frozen=True, slots=True)
class ClockSetting:
    """SET_CLOCK request: the time to set, in Unix seconds (UTC)."""

    clock: int

    def to_payload(self) -> bytes:
        return _json(asdict(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> ClockSetting:
        obj = _parse(payload, "SET_CLOCK request")
        return cls(**_fields(obj, "SET_CLOCK request", {"clock": int}))


@dataclass(frozen=True, slots=True)
class PollsOpening:
    """OPEN_POLLS request: the election code that authorises opening."""

    election_code: str

    def to_payload(self) -> bytes:
        return _json(asdict(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> PollsOpening:
        obj = _parse(payload, "OPEN_POLLS request")
        return cls(**_fields(obj, "OPEN_POLLS request", {"election_code": str}))


@dataclass(frozen=True, slots=True)
class FaultInjection:
    """INJECT_FAULT request: a fault by name and its parameters (test mode only)."""

    fault: str
    params: Mapping[str, int | float | str | bool]

    def to_payload(self) -> bytes:
        return _json({"fault": self.fault, "params": dict(self.params)})

    @classmethod
    def from_payload(cls, payload: bytes) -> FaultInjection:
        obj = _parse(payload, "INJECT_FAULT request")
        fields = _fields(obj, "INJECT_FAULT request", {"fault": str, "params": dict})
        if not all(isinstance(v, int | float | str | bool) for v in fields["params"].values()):
            raise PayloadError("INJECT_FAULT request: params must be numbers, strings or booleans")
        return cls(fields["fault"], fields["params"])


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One event-log entry, with the fields NIST SP 1500-101 requires."""

    sequence: int
    timestamp: str
    """ISO 8601 with offset, e.g. "2024-11-05T07:00:00-06:00"."""
    event_id: str
    disposition: str
    """"success", "failure", "na" or "other"."""
    description: str
    hash: str = ""
    """The entry's chain hash (hex SHA-256 of the previous hash and ``canonical``); sent if known."""
    canonical: str = ""
    """The exact text the chain hashed for this entry, so a reader can recompute ``hash``."""

    def to_json(self) -> bytes:
        """The entry as a compact JSON object, as it appears in an EVENT_LOG chunk."""
        return _json(_without_defaults(self, hash="", canonical=""))


_LOG_EVENT = {
    "sequence": int,
    "timestamp": str,
    "event_id": str,
    "disposition": str,
    "description": str,
}


# --- binary payloads --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChunkRequest:
    """CVRS, PAPER_RECORDS and EVENT_LOG request: records from ``offset``, at most ``max_count``."""

    offset: int
    max_count: int = 0xFFFF

    _LAYOUT = struct.Struct(">IH")

    def to_payload(self) -> bytes:
        return self._LAYOUT.pack(self.offset, self.max_count)

    @classmethod
    def from_payload(cls, payload: bytes) -> ChunkRequest:
        if len(payload) != cls._LAYOUT.size:
            raise PayloadError(
                f"chunk request of {len(payload)} bytes, expected {cls._LAYOUT.size}"
            )
        return cls(*cls._LAYOUT.unpack(payload))


@dataclass(frozen=True, slots=True, eq=False)
class MarksChunk:
    """CVRS and PAPER_RECORDS reply: records ``offset .. offset+count`` of ``total``."""

    offset: int
    total: int
    marks: npt.NDArray[np.uint8]
    """count x width matrix: 0 = choice not marked, 1 = marked."""

    HEADER = struct.Struct(">IIHH")
    """offset u32, total u32, count u16, width u16."""

    def to_payload(self) -> bytes:
        count, width = self.marks.shape
        return self.HEADER.pack(self.offset, self.total, count, width) + self.marks.tobytes()

    @classmethod
    def from_payload(cls, payload: bytes) -> MarksChunk:
        if len(payload) < cls.HEADER.size:
            raise PayloadError(
                f"records chunk of {len(payload)} bytes, header needs {cls.HEADER.size}"
            )
        offset, total, count, width = cls.HEADER.unpack_from(payload)
        body = payload[cls.HEADER.size :]
        if len(body) != count * width:
            raise PayloadError(
                f"records chunk: {count} rows of {width} need {count * width} bytes, "
                f"got {len(body)}"
            )
        if offset + count > total:
            raise PayloadError(
                f"records chunk: rows {offset}..{offset + count} beyond total {total}"
            )
        return cls(offset, total, np.frombuffer(body, np.uint8).reshape(count, width))


@dataclass(frozen=True, slots=True)
class LogChunk:
    """EVENT_LOG reply: entries ``offset .. offset+len(events)`` of ``total``."""

    offset: int
    total: int
    events: tuple[LogEvent, ...]

    HEADER = struct.Struct(">IIH")
    """offset u32, total u32, count u16; then a JSON array of ``count`` event objects."""

    def to_payload(self) -> bytes:
        entries = b"[" + b",".join(event.to_json() for event in self.events) + b"]"
        return self.HEADER.pack(self.offset, self.total, len(self.events)) + entries

    @classmethod
    def from_payload(cls, payload: bytes) -> LogChunk:
        if len(payload) < cls.HEADER.size:
            raise PayloadError(
                f"event log chunk of {len(payload)} bytes, header needs {cls.HEADER.size}"
            )
        offset, total, count = cls.HEADER.unpack_from(payload)
        entries = _parse(payload[cls.HEADER.size :], "event log chunk")
        if not isinstance(entries, list) or len(entries) != count:
            raise PayloadError(f"event log chunk: expected a JSON array of {count} events")
        if offset + count > total:
            raise PayloadError(
                f"event log chunk: entries {offset}..{offset + count} beyond total {total}"
            )
        events = tuple(
            LogEvent(
                **_fields(entry, "event", _LOG_EVENT),
                **_optional(entry, "event", {"hash": str, "canonical": str}),
            )
            for entry in entries
        )
        return cls(offset, total, events)


_TALLY_COUNT = struct.Struct(">H")


def encode_tally(totals: npt.ArrayLike) -> bytes:
    """TALLY reply: number of choices (u16), then each choice's total (u32)."""
    values = np.asarray(totals)
    if (
        values.ndim != 1
        or values.size > 0xFFFF
        or (values.size and (values.min() < 0 or values.max() > 0xFFFFFFFF))
    ):
        raise PayloadError("a tally is at most 65535 totals, each 0..2**32-1")
    return _TALLY_COUNT.pack(values.size) + values.astype(">u4").tobytes()


def decode_tally(payload: bytes) -> npt.NDArray[np.int64]:
    """The per-choice totals of a TALLY reply."""
    if len(payload) < 2 or len(payload) != 2 + 4 * _TALLY_COUNT.unpack_from(payload)[0]:
        raise PayloadError(f"TALLY reply of {len(payload)} bytes does not match its count")
    return np.frombuffer(payload, ">u4", offset=2).astype(np.int64)


def encode_ballot(marks: npt.ArrayLike) -> bytes:
    """CAST_TEST_BALLOT request: one byte per choice, 0 or 1 (the payload length is the width)."""
    row = np.asarray(marks)
    if row.ndim != 1 or not np.isin(row, (0, 1)).all():
        raise PayloadError("a test ballot is one row of 0/1 marks")
    return row.astype(np.uint8).tobytes()


def decode_ballot(payload: bytes) -> npt.NDArray[np.uint8]:
    """The marks of a CAST_TEST_BALLOT request."""
    row = np.frombuffer(payload, np.uint8)
    if (row > 1).any():
        raise PayloadError("test ballot marks must be 0 or 1")
    return row
