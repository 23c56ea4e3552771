"""Consistent Overhead Byte Stuffing: how a frame keeps the zero byte for itself.

Picture a serial cable as a conveyor belt of bytes with no gaps. To show where one parcel ends and
the next begins, the protocol reserves one byte value, 0x00, as the divider, so a parcel may
not contain it. COBS (Cheshire and Baker, 1999) repacks any byte string so that it has no zeros:
the data is cut at every zero into runs, and each run gets a one-byte label, the *code*,
that gives the distance to the next cut. A code of 0xFF marks a run of 254 non-zero bytes that
ended without a zero. Encoding adds one byte per 254 bytes at most, whatever the data.

    data     11 22 00 33          ->  encoded  03 11 22 02 33
    data     00                   ->  encoded  01 01
    data     (empty)              ->  encoded  01

The encoding is the canonical one (as on Wikipedia and in the C stub in firmware_stubs/): a
trailing run of exactly 254 non-zero bytes is encoded as 0xFF and its 254 bytes, with no
closing 01.

Speed matters here: a precinct's cast vote records are mostly zero bytes (a choice not marked),
and a loop over every zero in Python would manage a few MB/s. So both directions have a loop
for short or zero-poor data and a numpy path that does the work in a few array operations for
long, zero-dense data. Both paths give the same bytes; the tests hold them to it.

This module also defines :class:`FrameError`, the error for bytes that cannot be a frame,
because COBS is the first layer to reject them.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from pollsim.errors import PollsimError

__all__ = ["FrameError", "FrameFault", "decode", "encode"]


class FrameFault(StrEnum):
    """Why a run of bytes between two delimiters is not a frame."""

    BAD_COBS = "bad COBS encoding"
    TOO_SHORT = "too short for a header and CRC"
    BAD_CRC = "CRC-32C mismatch"
    BAD_VERSION = "unknown protocol version"
    LENGTH_MISMATCH = "payload length field disagrees with the frame"
    OVERSIZE = "larger than the largest frame"


class FrameError(PollsimError):
    """Bytes received that are not a valid frame; ``reason`` says which check failed."""

    def __init__(self, reason: FrameFault, detail: str = "", size: int = 0):
        self.reason = reason
        """The check that failed (a :class:`FrameFault`)."""
        self.size = size
        """Bytes in the run between the delimiters (0: not known)."""
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


_RUN = 254  # data bytes a single code can cover
_SHORT = 256  # inputs shorter than this are encoded by the loop: numpy's overhead would dominate
_LOOP_RUNS = 32  # the decoding loop gives up on numpy once it has seen this many runs ...
_LOOP_MEAN_RUN = 32  # ... averaging fewer bytes than this: too many runs for a Python loop


def encode(data: bytes) -> bytes:
    """Return the COBS encoding of ``data``: no zero bytes, at most ``len//254 + 1`` longer."""
    return _encode_runs(data) if len(data) < _SHORT else _encode_array(data)


def decode(encoded: bytes) -> bytes:
    """Return the data whose COBS encoding is ``encoded``; raise :class:`FrameError` if none is."""
    if 0 in encoded:
        raise FrameError(FrameFault.BAD_COBS, f"zero byte at offset {encoded.index(0)}")
    if not encoded:
        raise FrameError(FrameFault.BAD_COBS, "empty input")
    decoded = _decode_runs(encoded)
    return decoded if decoded is not None else _decode_array(encoded)


def _encode_runs(data: bytes) -> bytes:
    """Encode with a loop over the zero-separated runs."""
    out = bytearray()
    runs = data.split(b"\x00")
    for run in runs:
        start = 0
        while len(run) - start >= _RUN:
            out.append(0xFF)
            out += run[start : start + _RUN]
            start += _RUN
        out.append(len(run) - start + 1)
        out += run[start:]
    if runs[-1] and len(runs[-1]) % _RUN == 0:
        del out[-1]  # canonical form: no 01 after a final full run
    return bytes(out)


def _encode_array(data: bytes) -> bytes:
    """Encode with numpy: shift the data right by one; every zero then sits where a code goes.

    Prefixing a zero and appending a virtual one, the code for each run is the distance from its
    zero to the next zero. Runs of 254 or more non-zero bytes need extra 0xFF-led codes inserted.
    """
    size = len(data)
    out = np.empty(size + 1, np.uint8)
    out[0] = 0
    out[1:] = np.frombuffer(data, np.uint8)
    starts = np.flatnonzero(out == 0)
    lengths = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=lengths[:-1])
    lengths[-1] = size + 1 - starts[-1]
    lengths -= 1
    long_runs = np.flatnonzero(lengths >= _RUN)
    if long_runs.size == 0:
        out[starts] = (lengths + 1).astype(np.uint8)
        return out.tobytes()
    out[starts] = np.minimum(lengths + 1, 0xFF).astype(np.uint8)
    extra = lengths[long_runs] // _RUN
    if lengths[-1] >= _RUN and lengths[-1] % _RUN == 0:
        extra[-1] -= 1  # a final full run closes without a code
    step = np.arange(1, int(extra.sum()) + 1) - np.repeat(np.cumsum(extra) - extra, extra)
    where = np.repeat(starts[long_runs] + 1, extra) + _RUN * step
    left = np.repeat(lengths[long_runs], extra) - _RUN * step
    codes = (np.minimum(left, _RUN) + 1).astype(np.uint8)
    return np.insert(out, where, codes).tobytes()


def _decode_runs(encoded: bytes) -> bytes | None:
    """Decode by following the codes in Python; None if the runs prove too many for a loop."""
    out = bytearray()
    size = len(encoded)
    pos = runs = 0
    while pos < size:
        runs += 1
        if runs > _LOOP_RUNS and pos < _LOOP_MEAN_RUN * runs:
            return None
        code = encoded[pos]
        end = pos + code
        if end > size:
            raise FrameError(FrameFault.BAD_COBS, f"code {code} at offset {pos} overruns the end")
        out += encoded[pos + 1 : end]
        if code < 0xFF and end < size:
            out.append(0)
        pos = end
    return bytes(out)


def _decode_array(encoded: bytes) -> bytes:
    """Decode with numpy: find every code's offset, turn codes into zeros, drop the 0xFF ones."""
    data = np.frombuffer(encoded, np.uint8)
    is_code = _code_mask(data, encoded)
    out = np.where(is_code, np.uint8(0), data)
    if 0xFF in encoded:  # a zero follows every run except a full one (code 0xFF): drop those
        after_full = np.flatnonzero(is_code & (data == 0xFF)) + 0xFF
        after_full = after_full[after_full < data.size]
        if after_full.size:
            out = np.delete(out, after_full)
    return out[1:].tobytes()


def _code_mask(data: np.ndarray, encoded: bytes) -> np.ndarray:
    """Which offsets hold codes: the chain 0 -> 0 + data[0] -> ... up to the end.

    An offset that no earlier byte's run reaches over, reading every byte as if it were a
    code, is surely a code; a prefix maximum finds them all at once. The chain may also pass
    through offsets that some data byte only seems to reach over; those are found by following
    the chain from the sure codes in Python, a few steps for data of small values such as 0/1
    marks, where only the header bytes mislead.
    """
    size = data.size
    offsets = np.arange(size)  # intp: numpy's accumulate and indexing are fastest on it
    ends = offsets + data
    sure = np.empty(size + 0x100, bool)  # room for every end, overruns included
    sure[0] = True
    np.less_equal(np.maximum.accumulate(ends)[:-1], offsets[1:], out=sure[1:size])
    sure[size] = True  # the chain may end here
    sure[size + 1 :] = False
    stuck = np.flatnonzero(sure[:size] & ~sure[ends])
    if stuck.size == 0:
        return sure[:size]
    found = bytearray(sure[:size].view(np.uint8))
    for code_at in stuck.tolist():
        pos = code_at + encoded[code_at]
        while pos < size and not found[pos]:
            found[pos] = 1
            code_at, pos = pos, pos + encoded[pos]
        if pos > size:
            raise FrameError(FrameFault.BAD_COBS, f"code at offset {code_at} overruns the end")
    return np.frombuffer(found, bool)
