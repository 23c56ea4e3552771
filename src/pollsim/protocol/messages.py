"""Messages: what the county's reader and a voting device say to each other, byte for byte.

After the polls close, an election official plugs a reader into a precinct scanner's service
port. The reader asks and the device answers: who are you (IDENTIFY), what state are you in
(STATUS), what do your counters say (COUNTERS), hand over your cast vote records (CVRS, in
chunks), print the results tape (PRINT_RESULTS_TAPE). Before election day, during logic and
accuracy testing, the same port casts test ballots and injects faults, but only in test mode.
What the reader takes home is what the county's §23-15-615 ballot accounting starts from.

Every request has one reply: the request's type with the high bit set (IDENTIFY 0x10 is answered
by 0x90), or ERROR (0xFF) carrying an :class:`ErrorCode` and a sentence. ACK, NAK, SYNC,
SYNC_ACK and FRAGMENT belong to the reliable link (pollsim.protocol.link), not to the
conversation.

This module holds the message types, the error codes and the small structured payloads, which
are compact UTF-8 JSON objects (unknown keys are ignored, so a device may say more than a reader
knows). The bulk, binary payloads (chunks of records, the event log, tallies) are in
:mod:`pollsim.protocol.records`. docs/protocol.md gives every layout.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any

from pollsim.devices.states import WIRE_POLLS, PollState
from pollsim.errors import PollsimError

__all__ = [
    "REPLY",
    "ClockSetting",
    "Counters",
    "ErrorCode",
    "FaultInjection",
    "Identity",
    "MessageType",
    "PayloadError",
    "PollsOpening",
    "RequestRefused",
    "Status",
    "reply_type",
]


class MessageType(IntEnum):
    """Message type codes (header byte 3). A reply is its request's code with :data:`REPLY` set."""

    ACK = 0x01
    NAK = 0x02
    SYNC = 0x03
    SYNC_ACK = 0x04
    FRAGMENT = 0x05
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


def json_bytes(data: object) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json(payload: bytes, record: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise PayloadError(f"{record}: not UTF-8 JSON ({error})") from None


def _check(record: str, key: str, value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PayloadError(f"{record}: field {key!r} must be {kind.__name__}, got {value!r}")
    return value


def fields(obj: Any, record: str, schema: Mapping[str, type]) -> dict[str, Any]:
    """Check that ``obj`` is a JSON object with each key of ``schema``, of that type."""
    if not isinstance(obj, dict):
        raise PayloadError(f"{record}: expected a JSON object")
    return {key: _check(record, key, obj.get(key), kind) for key, kind in schema.items()}


def optional(obj: dict[str, Any], record: str, schema: Mapping[str, type]) -> dict[str, Any]:
    """The keys of ``schema`` that ``obj`` has, each checked for its type (a newer device may
    send keys an older one does not)."""
    return {key: _check(record, key, obj[key], kind) for key, kind in schema.items() if key in obj}


def without_defaults(record: Any, **defaults: object) -> dict[str, Any]:
    """The record as a dict, leaving out the optional keys that hold their default value, so
    that a device which does not use them sends exactly the version 1 payload."""
    return {k: v for k, v in asdict(record).items() if k not in defaults or v != defaults[k]}


@dataclass(frozen=True, slots=True)
class Identity:
    """IDENTIFY reply: which device this is. With a key, the whole reply is sealed
    (docs/protocol.md section 8), so none of it can be changed on the way."""

    device_id: int
    """The device's id on the wire, 1..65534."""
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
    memory_card: str = ""
    """Id of the memory card (the device's memory) the results are on; sent only if known."""
    contests: tuple[tuple[int, int], ...] = ()
    """The ballot's layout, in CVR column order: (choices, vote for) of each contest; with it a
    reader can count TALLY from the CVRs (docs/protocol.md section 5). Sent only if known."""

    def __post_init__(self) -> None:
        if not 1 <= self.device_id <= 0xFFFE:
            raise PayloadError(f"IDENTIFY reply: device_id {self.device_id} is not in 1..65534")

    @property
    def scope(self) -> str:
        """What a seal counter counts within: ``serial|definition_hash|memory_card``. A new
        memory card or a new election starts a new count (docs/protocol.md section 8)."""
        return f"{self.serial}|{self.definition_hash}|{self.memory_card}"

    def to_payload(self) -> bytes:
        record = without_defaults(self, sealed=False, definition_hash="", memory_card="", contests=())
        if self.contests:
            record["contests"] = [list(contest) for contest in self.contests]
        return json_bytes(record)

    @classmethod
    def from_payload(cls, payload: bytes) -> Identity:
        schema = {"device_id": int, "kind": str, "model": str, "serial": str, "firmware": str}
        obj = parse_json(payload, "IDENTIFY reply")
        found = fields(obj, "IDENTIFY reply", schema)
        extra = optional(obj, "IDENTIFY reply", {"sealed": bool, "definition_hash": str, "memory_card": str})
        layout = optional(obj, "IDENTIFY reply", {"contests": list}).get("contests", [])
        contests = tuple(_contest(item) for item in layout)
        return cls(**found, **extra, contests=contests)


def _contest(item: Any) -> tuple[int, int]:
    if (
        not isinstance(item, list)
        or len(item) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        or not 1 <= item[1] <= item[0]
    ):
        raise PayloadError(f"IDENTIFY reply: a contest is [choices, vote_for], got {item!r}")
    return item[0], item[1]


@dataclass(frozen=True, slots=True)
class Status:
    """STATUS reply, also the reply to requests that change the device's state."""

    polls: str
    """The polls as the protocol tells them: one of :data:`~pollsim.devices.states.WIRE_POLLS`
    (closed, open, paused, final); :attr:`PollState.polls` projects a device's state on them."""
    test_mode: bool
    clock: int
    """The device clock, in Unix seconds (UTC)."""
    faults: tuple[str, ...] = ()
    """Conditions now active, by name ("paper_out", "printer_cover_open", ...)."""

    def __post_init__(self) -> None:
        if self.polls not in WIRE_POLLS:
            raise PayloadError(f"STATUS reply: unknown polls state {self.polls!r}")

    @classmethod
    def of(cls, state: PollState, clock: int, faults: tuple[str, ...] = ()) -> Status:
        """The STATUS a device in ``state`` sends: the state's wire projection."""
        return cls(state.polls, state.test_mode, clock, faults)

    def to_payload(self) -> bytes:
        return json_bytes(asdict(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> Status:
        schema = {"polls": str, "test_mode": bool, "clock": int, "faults": list}
        found = fields(parse_json(payload, "STATUS reply"), "STATUS reply", schema)
        if not all(isinstance(fault, str) for fault in found["faults"]):
            raise PayloadError("STATUS reply: faults must be strings")
        return cls(found["polls"], found["test_mode"], found["clock"], tuple(found["faults"]))


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
    """Chain hash of the last of those entries (the definition hash if there is none): inside
    a sealed COUNTERS reply it vouches for the event log read over the wire (section 8)."""

    def to_payload(self) -> bytes:
        return json_bytes(without_defaults(self, log_entries=None, log_head=None))

    @classmethod
    def from_payload(cls, payload: bytes) -> Counters:
        schema = {"public": int, "protective": int}
        obj = parse_json(payload, "COUNTERS reply")
        found = fields(obj, "COUNTERS reply", schema)
        extra = optional(obj, "COUNTERS reply", {"log_entries": int, "log_head": str})
        return cls(**found, **extra)


@dataclass(frozen=True, slots=True)
class ClockSetting:
    """SET_CLOCK request: the time to set, in Unix seconds (UTC)."""

    clock: int

    def to_payload(self) -> bytes:
        return json_bytes(asdict(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> ClockSetting:
        obj = parse_json(payload, "SET_CLOCK request")
        return cls(**fields(obj, "SET_CLOCK request", {"clock": int}))


@dataclass(frozen=True, slots=True)
class PollsOpening:
    """OPEN_POLLS request: the election code that authorises opening."""

    election_code: str

    def to_payload(self) -> bytes:
        return json_bytes(asdict(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> PollsOpening:
        obj = parse_json(payload, "OPEN_POLLS request")
        return cls(**fields(obj, "OPEN_POLLS request", {"election_code": str}))


@dataclass(frozen=True, slots=True)
class FaultInjection:
    """INJECT_FAULT request: a fault by name and its parameters (test mode only)."""

    fault: str
    params: Mapping[str, int | float | str | bool]

    def to_payload(self) -> bytes:
        return json_bytes({"fault": self.fault, "params": dict(self.params)})

    @classmethod
    def from_payload(cls, payload: bytes) -> FaultInjection:
        obj = parse_json(payload, "INJECT_FAULT request")
        found = fields(obj, "INJECT_FAULT request", {"fault": str, "params": dict})
        if not all(isinstance(v, int | float | str | bool) for v in found["params"].values()):
            raise PayloadError("INJECT_FAULT request: params must be numbers, strings or booleans")
        return cls(found["fault"], found["params"])
