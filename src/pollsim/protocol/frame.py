"""Frames: the envelopes every message travels in over the serial line.

Think of a clerk at the county office reading a precinct scanner over a cable. Every message,
in either direction, is sealed in an envelope: a fixed ten-byte label on the front (protocol
version, which device, what kind of message, a sequence number and the number of the last
envelope received), the contents, and a CRC-32C seal over both. The envelope is then COBS
encoded so it holds no zero byte, and a zero byte is put before and after it:

    00 | COBS( header[10] | payload[0..65535] | CRC-32C[4] ) | 00

A zero always ends a frame, so a reader that lost its place in line noise finds it again at
the next zero. A run whose first decoded byte has its top bit set is a compact frame
(:mod:`pollsim.protocol.compact`, rules L15-L18), which :meth:`FrameDecoder.feed_any` returns
too. Header layout (all big-endian; see docs/protocol.md):

    offset 0  u8   version         always 1
    offset 1  u16  device id       0xFFFF = "whichever device is on this line"
    offset 3  u8   message type    see pollsim.protocol.messages.MessageType
    offset 4  u16  sequence        1..65535 for data frames (then wraps to 1); 0 on ACK/NAK
    offset 6  u16  acknowledgement last sequence received from the peer; 0 if none
    offset 8  u16  payload length  0..65535

:class:`FrameDecoder` does the reading: it takes bytes in whatever pieces the port hands out
and returns whole frames, or a :class:`FrameError` for each run of bytes that is not a frame.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import crc32c

from pollsim.protocol import cobs
from pollsim.protocol.cobs import FrameError, FrameFault
from pollsim.protocol.compact import Piece, PieceAck, decode_compact

__all__ = [
    "BROADCAST_ID",
    "HEADER_SIZE",
    "MAX_PAYLOAD",
    "VERSION",
    "Frame",
    "FrameDecoder",
    "decode_frame",
]

VERSION = 1
"""The protocol version this module speaks (header byte 0)."""
BROADCAST_ID = 0xFFFF
"""Device id meaning "any device": a host that has not yet asked the device who it is uses it."""
MAX_PAYLOAD = 0xFFFF
"""Largest payload in bytes: what the u16 length field can say. Bulk replies are cut into
chunks of at most this size; on slow lines readers ask for smaller chunks (docs/protocol.md)."""

_HEADER = struct.Struct(">BHBHHH")
HEADER_SIZE = _HEADER.size
_CRC = struct.Struct(">I")
_MAX_RAW = HEADER_SIZE + MAX_PAYLOAD + _CRC.size
_MAX_ENCODED = _MAX_RAW + _MAX_RAW // 254 + 1  # COBS adds one byte per 254 at most


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: the header fields and the payload (version is always :data:`VERSION`)."""

    msg_type: int
    """Message type code (u8), usually a :class:`~pollsim.protocol.messages.MessageType`."""
    payload: bytes = b""
    """The message body, at most :data:`MAX_PAYLOAD` bytes."""
    device_id: int = BROADCAST_ID
    """The device this frame comes from or goes to (u16)."""
    seq: int = 0
    """Sequence number (u16); 0 on frames that are not acknowledged (ACK, NAK)."""
    ack: int = 0
    """Acknowledgement: the last sequence number received from the peer (u16), 0 if none."""

    def __post_init__(self) -> None:
        if len(self.payload) > MAX_PAYLOAD:
            raise FrameError(
                FrameFault.OVERSIZE, f"payload of {len(self.payload)} bytes > {MAX_PAYLOAD}"
            )
        for name, value, top in (
            ("msg_type", self.msg_type, 0xFF),
            ("device_id", self.device_id, 0xFFFF),
            ("seq", self.seq, 0xFFFF),
            ("ack", self.ack, 0xFFFF),
        ):
            if not 0 <= value <= top:
                raise ValueError(f"{name}={value} outside 0..{top}")

    def encode(self) -> bytes:
        """The bytes on the wire: 00, COBS(header + payload + CRC-32C), 00."""
        header = _HEADER.pack(
            VERSION, self.device_id, self.msg_type, self.seq, self.ack, len(self.payload)
        )
        body = header + self.payload
        return b"\x00" + cobs.encode(body + _CRC.pack(crc32c.crc32c(body))) + b"\x00"


def decode_frame(encoded: bytes) -> Frame:
    """Decode the bytes between two delimiters into a :class:`Frame`, or raise :class:`FrameError`.

    Checks in order: size, COBS, minimum length, CRC, version, payload length.
    """
    if len(encoded) > _MAX_ENCODED:
        raise FrameError(FrameFault.OVERSIZE, f"{len(encoded)} bytes between delimiters")
    return _check(cobs.decode(encoded))


def _check(raw: bytes) -> Frame:
    """The frame that the COBS-decoded ``raw`` is, or the first fault found."""
    if len(raw) < HEADER_SIZE + _CRC.size:
        raise FrameError(FrameFault.TOO_SHORT, f"{len(raw)} bytes")
    body, (crc,) = raw[:-4], _CRC.unpack_from(raw, len(raw) - 4)
    if crc32c.crc32c(body) != crc:
        raise FrameError(
            FrameFault.BAD_CRC, f"received {crc:08x}, computed {crc32c.crc32c(body):08x}"
        )
    version, device_id, msg_type, seq, ack, length = _HEADER.unpack_from(body)
    if version != VERSION:
        raise FrameError(FrameFault.BAD_VERSION, f"version {version}, expected {VERSION}")
    if length != len(body) - HEADER_SIZE:
        raise FrameError(
            FrameFault.LENGTH_MISMATCH,
            f"header says {length}, frame holds {len(body) - HEADER_SIZE}",
        )
    return Frame(msg_type, body[HEADER_SIZE:], device_id, seq, ack)


class FrameDecoder:
    """Turns a byte stream, fed in pieces of any size, into frames and errors.

    The result does not depend on how the stream is cut into pieces. Empty runs (two zeros in a
    row) are ignored, since every frame starts and ends with a zero. Memory stays bounded: a run
    longer than the largest possible frame is dropped as it arrives and reported once, as
    ``OVERSIZE``, when its closing zero comes.
    """

    def __init__(self, *, in_step: bool = True) -> None:
        self._partial = bytearray()
        """Bytes received since the last zero."""
        self._overflowed = 0
        """Bytes dropped from the current run because it grew too long."""
        self.in_step = in_step
        """False for a receiver that has just opened the port: the bytes before the first zero
        are the tail of a frame whose start it missed, and are dropped without an error."""
        self.skipped = 0
        """Bytes dropped that way."""

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the next zero (never more than the largest frame)."""
        return len(self._partial)

    @property
    def wanted(self) -> int:
        """How many more bytes the frame now arriving needs at the least (1 if not known).

        Once its header has arrived, a reader can ask the port for that many bytes at once
        instead of taking them piece by piece. A damaged header only makes the guess wrong.
        """
        header = _decoded_prefix(self._partial, HEADER_SIZE)
        if header is None or header[0] != VERSION:
            return 1
        length = int.from_bytes(header[-2:], "big")
        # COBS adds at least one byte; the closing zero is one more
        return max(1, HEADER_SIZE + length + _CRC.size + 2 - len(self._partial))

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        """Take the next bytes of the stream; return the frames and errors they complete (a
        compact frame is an error here: ``bad_version``)."""
        return [item if isinstance(item, Frame | FrameError) else FrameError(FrameFault.BAD_VERSION, "a compact frame")
                for item in self.feed_any(data)]  # fmt: skip

    def feed_any(self, data: bytes) -> list[Frame | Piece | PieceAck | FrameError]:
        """As :meth:`feed`, with compact frames (L15) among the frames returned."""
        if not self.in_step:
            first = data.find(0)
            if first < 0:
                self.skipped += len(data)
                return []
            self.skipped += first
            data, self.in_step = data[first:], True
        runs = data.split(b"\x00")
        self._hold(runs[0])
        if len(runs) == 1:
            return []
        found = [self._close(), *(_finish(run) for run in runs[1:-1])]
        self._hold(runs[-1])
        return [item for item in found if item is not None]

    def _hold(self, data: bytes) -> None:
        if self._overflowed or len(self._partial) + len(data) > _MAX_ENCODED:
            self._overflowed += len(self._partial) + len(data)
            self._partial.clear()
        else:
            self._partial += data

    def _close(self) -> Frame | Piece | PieceAck | FrameError | None:
        if self._overflowed:
            size, self._overflowed = self._overflowed, 0
            return FrameError(FrameFault.OVERSIZE, f"{size} bytes between delimiters", size)
        run = bytes(self._partial)
        self._partial.clear()
        return _finish(run)


def _decoded_prefix(run: bytearray, size: int) -> bytes | None:
    """The first ``size`` bytes that the start of a COBS run decodes to, if it holds that many."""
    out = bytearray()
    pos = 0
    while len(out) < size and pos < len(run):
        code = run[pos]
        out += run[pos + 1 : pos + code]
        pos += code
        if code < 0xFF and pos <= len(run):
            out.append(0)
    return bytes(out[:size]) if len(out) >= size else None


def _finish(run: bytes) -> Frame | Piece | PieceAck | FrameError | None:
    """Decode one run between zeros: nothing if it is empty, else a frame or the error."""
    if not run:
        return None
    try:
        if len(run) > _MAX_ENCODED:
            return decode_frame(run)  # raises OVERSIZE
        raw = cobs.decode(run)
        return decode_compact(raw) if raw and raw[0] & 0x80 else _check(raw)
    except FrameError as error:
        error.size = len(run)
        return error
