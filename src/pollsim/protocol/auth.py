"""Signed results: how the county knows a tally came from the device, unaltered, and only once.

At the county office a results file arrives from each precinct. Three things can be wrong with
it: someone without the device's key made it up (forged), someone changed its numbers on the way
(altered), or someone sent an old genuine result again (replayed). The device therefore seals
each result with HMAC-SHA-256 under a key it shares with the county, and numbers each seal with
a counter that only goes up; the county remembers the last counter it accepted per device.

The envelope (all big-endian), 80 bytes then the payload:

    offset  0  4   magic "PSR1"
    offset  4  8   counter (u64), strictly increasing per device and key
    offset 12  4   payload length (u32)
    offset 16  32  SHA-256 of the payload
    offset 48  32  HMAC-SHA-256(key, bytes 0..47)
    offset 80  ..  payload

The MAC covers the header, including the payload's digest, not the payload itself, so the
reader can tell the three faults apart, in this order:

1. the MAC does not verify (or the envelope is malformed): :class:`ForgedResult`;
2. the MAC verifies but the payload does not match its length or digest: :class:`AlteredResult`;
3. both verify but the counter is not above the last accepted: :class:`ReplayedResult`.

On the wire (docs/protocol.md section 8) a device holding a key seals every TALLY, COUNTERS,
CVRS and PAPER_RECORDS reply with a :class:`ResultSeal`; the reader opens them with a
:class:`ResultVerifier`, which remembers the last counter it accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable

from pollsim.errors import PollsimError

__all__ = [
    "AlteredResult",
    "ForgedResult",
    "ReplayedResult",
    "ResultAuthError",
    "ResultSeal",
    "ResultVerifier",
    "counter_of",
    "key_fingerprint",
    "sign",
    "unseal",
    "verify",
]

MAGIC = b"PSR1"
_HEADER = struct.Struct(">4sQI32s")
_MAC_SIZE = 32
ENVELOPE_SIZE = _HEADER.size + _MAC_SIZE
"""Bytes the envelope adds in front of the payload (80)."""


class ResultAuthError(PollsimError):
    """A signed result that must not be accepted."""

    what = "unacceptable"
    """One word for the check that failed, as a reader reports it."""


class ForgedResult(ResultAuthError):
    """Not sealed with the shared key (or not an envelope at all)."""

    what = "forged"


class AlteredResult(ResultAuthError):
    """Genuinely sealed, but the payload was changed after sealing."""

    what = "altered"


class ReplayedResult(ResultAuthError):
    """Genuine and intact, but its counter is not above the last one accepted."""

    what = "replayed"


def sign(key: bytes, counter: int, payload: bytes) -> bytes:
    """Seal ``payload`` with ``key`` and ``counter`` (which the caller must never reuse)."""
    header = _HEADER.pack(MAGIC, counter, len(payload), hashlib.sha256(payload).digest())
    return header + hmac.digest(key, header, "sha256") + payload


def verify(key: bytes, last_counter: int, signed: bytes) -> bytes:
    """Return the payload of ``signed`` if genuine, intact and newer than ``last_counter``."""
    if len(signed) < ENVELOPE_SIZE or not signed.startswith(MAGIC):
        raise ForgedResult(f"not a signed result ({len(signed)} bytes, no {MAGIC.decode()} header)")
    header, mac = signed[: _HEADER.size], signed[_HEADER.size : ENVELOPE_SIZE]
    if not hmac.compare_digest(mac, hmac.digest(key, header, "sha256")):
        raise ForgedResult("the seal does not verify with this key")
    _, counter, length, digest = _HEADER.unpack(header)
    payload = signed[ENVELOPE_SIZE:]
    if len(payload) != length or hashlib.sha256(payload).digest() != digest:
        raise AlteredResult(f"payload of result {counter} changed after sealing")
    if counter <= last_counter:
        raise ReplayedResult(f"result counter {counter} is not above {last_counter}")
    return payload


def counter_of(signed: bytes) -> int:
    """The counter of an envelope that :func:`verify` accepted, to remember as the last one."""
    counter: int = _HEADER.unpack_from(signed)[1]
    return counter


def unseal(signed: bytes) -> bytes:
    """The payload of an envelope, for a reader without the key: checks the layout and the
    digest (so a damaged payload is :class:`AlteredResult`) but cannot tell a forgery."""
    if len(signed) < ENVELOPE_SIZE or not signed.startswith(MAGIC):
        raise ForgedResult(f"not a signed result ({len(signed)} bytes, no {MAGIC.decode()} header)")
    _, counter, length, digest = _HEADER.unpack_from(signed)
    payload = signed[ENVELOPE_SIZE:]
    if len(payload) != length or hashlib.sha256(payload).digest() != digest:
        raise AlteredResult(f"payload of result {counter} does not match its seal")
    return payload


def key_fingerprint(key: bytes) -> str:
    """A short public name for a key (first 16 hex digits of its SHA-256), for logs and tapes."""
    return hashlib.sha256(key).hexdigest()[:16]


class ResultSeal:
    """The device's sealing press: ``key`` and a source of counters that never repeat.

    ``next_counter`` returns a new counter at each call; a device that must survive power loss
    stores the counter before it uses it (see pollsim.emulator.service).
    """

    def __init__(self, key: bytes, next_counter: Callable[[], int]):
        self.key = key
        self.next_counter = next_counter

    def seal(self, payload: bytes) -> bytes:
        return sign(self.key, self.next_counter(), payload)


class ResultVerifier:
    """The county's side: opens sealed results with ``key``, remembering the last counter."""

    def __init__(self, key: bytes, last_counter: int = 0):
        self.key = key
        self.last_counter = last_counter
        """The counter of the last result accepted (0: none yet)."""

    def open(self, signed: bytes) -> bytes:
        """The payload, if genuine, intact and newer than every result accepted before."""
        payload = verify(self.key, self.last_counter, signed)
        self.last_counter = counter_of(signed)
        return payload
