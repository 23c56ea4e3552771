"""Records: the bulk of what a device hands the county, in chunks, and its event log.

On election night the county's reader takes a device's cast vote records, its paper (VVPAT)
records and its event log, which can run to tens of thousands of rows: the records the county's
§23-15-615 ballot accounting and, later, its §23-15-617 audit rest on. They travel as chunks that
the reader asks for by offset (:class:`ChunkRequest`), so that an interrupted readout resumes
where it stopped. Cast vote records are binary, big-endian rows of one byte per choice (0 = not
marked, 1 = marked, :class:`MarksChunk`); the event log is a binary header and a JSON array of
entries with the fields NIST SP 1500-101 requires (:class:`LogChunk`, :class:`LogEvent`), each
with its hash-chain link. TALLY's totals and CAST_TEST_BALLOT's marks are binary too.

:func:`timestamp` writes a log entry's time as the devices send it (docs/protocol.md section 5,
EVENT_LOG): the emulator's Unix clock in UTC with milliseconds (``2026-11-03T13:00:00.236Z``),
the simulator's minutes of election day in Mississippi's Central time (``-06:00``).
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pollsim.protocol.messages import PayloadError, fields, json_bytes, optional, parse_json, without_defaults

__all__ = [
    "CENTRAL",
    "ChunkRequest",
    "LogChunk",
    "LogEvent",
    "MarksChunk",
    "decode_ballot",
    "decode_tally",
    "encode_ballot",
    "encode_tally",
    "timestamp",
]

CENTRAL = dt.timezone(dt.timedelta(hours=-6))
"""Mississippi's time in November (Central Standard Time)."""
_SIM_CLOCK_LIMIT = 10 * 24 * 60  # a time below this is minutes of election day, above it Unix seconds


def timestamp(t: float, election_date: str) -> str:
    """A log entry's time as ISO 8601: minutes of election day (the simulator's clock) as local
    Central time on ``election_date``; Unix seconds (the emulator's clock) as UTC, with
    milliseconds and ``Z``."""
    if t < _SIM_CLOCK_LIMIT:
        day = dt.datetime.fromisoformat(election_date).replace(tzinfo=CENTRAL)
        return (day + dt.timedelta(minutes=t)).isoformat(timespec="seconds")
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One event-log entry, with the fields NIST SP 1500-101 requires."""

    sequence: int
    timestamp: str
    """ISO 8601 with a UTC offset or ``Z`` (see :func:`timestamp`)."""
    event_id: str
    """The device's name for the event, e.g. ``state-polls-open`` or ``ballot-cast``."""
    disposition: str
    """"success", "failure", "na" or "other"."""
    description: str
    hash: str = ""
    """The entry's chain hash (hex SHA-256 of the previous hash and ``canonical``); sent if known."""
    canonical: str = ""
    """The exact text the chain hashed for this entry, so a reader can recompute ``hash``."""

    def to_json(self) -> bytes:
        """The entry as a compact JSON object, as it appears in an EVENT_LOG chunk."""
        return json_bytes(without_defaults(self, hash="", canonical=""))


_LOG_EVENT = {
    "sequence": int,
    "timestamp": str,
    "event_id": str,
    "disposition": str,
    "description": str,
}


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
        entries = parse_json(payload[cls.HEADER.size :], "event log chunk")
        if not isinstance(entries, list) or len(entries) != count:
            raise PayloadError(f"event log chunk: expected a JSON array of {count} events")
        if offset + count > total:
            raise PayloadError(
                f"event log chunk: entries {offset}..{offset + count} beyond total {total}"
            )
        events = tuple(
            LogEvent(
                **fields(entry, "event", _LOG_EVENT),
                **optional(entry, "event", {"hash": str, "canonical": str}),
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
