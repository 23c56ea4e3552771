"""Compact pieces: a long reply cut into short frames, sent without waiting, on a noisy line.

On a line that damages one byte in fifty, a frame arrives whole only if every one of its bytes
does, so a frame must be short; but a version-1 frame spends 25 bytes around its data (header,
CRC-32C, the fragment header, COBS and delimiters) and cannot be short and worth sending at the
same time. Picture instead a clerk dictating a long tally over a crackling telephone, a few
figures at a time, each group numbered and checked by a short check digit, and the listener
calling back now and then "I have everything up to group 40, and 42 and 45": the clerk goes on
dictating and repeats only the groups missing. At the end the listener adds the whole tally up
against the total read out at the start (a CRC-32C over the message), and if it does not agree
asks for everything again: a group that fooled the short check is never filed.

This module is the compact frames of docs/protocol.md section 4, rule L15: :class:`Piece` and
:class:`PieceAck`, 7 bytes of overhead on the wire besides a piece's data, checked by a
CRC-16/CCITT; :mod:`pollsim.protocol.pieces` sends and joins them (L16-L18). Nothing here is prescribed by statute: it carries
the results the county's §23-15-615 accounting uses.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass

from pollsim.protocol import cobs
from pollsim.protocol.cobs import FrameError, FrameFault

__all__ = ["HEAD", "MAX_PIECE", "OVERHEAD", "PIECE", "PIECE_ACK", "WINDOW", "Piece", "PieceAck", "crc16", "decode_compact"]

PIECE = 0x80
"""First byte of a piece: ``10tttttt``, t = the message number modulo 64 (its tag)."""
PIECE_ACK = 0xC0
"""First byte of a piece acknowledgement: ``11tttttt``."""
WINDOW = 32
"""Pieces a sender may have beyond the first one the receiver lacks (the bitmap's width)."""
OVERHEAD = 7
"""Wire bytes of a piece besides its data: kind, index (2), CRC-16 (2), a COBS code, a delimiter."""
MAX_PIECE = 240
"""Largest piece of data: a compact frame stays under one COBS block (254 bytes)."""
HEAD = struct.Struct(">BHHBI")
"""Piece 0, the head: message type, length, acknowledgement (L7), piece size, CRC-32C of the message."""
_INDEX = struct.Struct(">BH")  # kind | tag, index
_ACK = struct.Struct(">BBHI")  # kind | tag, state, held, bitmap


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial FFFF, not reflected, no final XOR."""
    return binascii.crc_hqx(data, 0xFFFF)


def _seal(body: bytes) -> bytes:
    """COBS(body | CRC-16) and the closing delimiter."""
    return cobs.encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"


@dataclass(frozen=True, slots=True)
class Piece:
    """Piece ``index`` of the message tagged ``tag``: 0 is the head, 1.. the message's bytes."""

    tag: int
    index: int
    data: bytes

    def encode(self) -> bytes:
        """The piece on the wire, closing delimiter included (the opening one is the line's)."""
        return _seal(_INDEX.pack(PIECE | self.tag, self.index) + self.data)


@dataclass(frozen=True, slots=True)
class PieceAck:
    """What the receiver holds of the message tagged ``tag``: pieces 0 .. ``held``-1, and piece
    ``held``+1+k for each bit k of ``bitmap``; ``delivered``: the whole message, checked."""

    tag: int
    delivered: bool
    held: int
    bitmap: int

    def encode(self) -> bytes:
        return b"\x00" + _seal(_ACK.pack(PIECE_ACK | self.tag, int(self.delivered), self.held, self.bitmap))


def decode_compact(raw: bytes) -> Piece | PieceAck:
    """A COBS-decoded run whose first byte has its top bit set; :class:`FrameError` if damaged."""
    if len(raw) < _INDEX.size + 2 or (raw[0] & PIECE_ACK == PIECE_ACK and len(raw) != _ACK.size + 2):
        raise FrameError(FrameFault.TOO_SHORT, f"{len(raw)} bytes for a compact frame")
    body, crc = raw[:-2], int.from_bytes(raw[-2:], "big")
    if crc16(body) != crc:
        raise FrameError(FrameFault.BAD_CRC, f"CRC-16 {crc:04x}, computed {crc16(body):04x}")
    if raw[0] & PIECE_ACK == PIECE_ACK:
        kind, state, held, bitmap = _ACK.unpack(body)
        return PieceAck(kind & 0x3F, bool(state & 1), held, bitmap)
    kind, index = _INDEX.unpack_from(body)
    return Piece(kind & 0x3F, index, body[_INDEX.size :])
