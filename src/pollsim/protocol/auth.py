"""Signed results: how the county knows a result came from the device, unaltered, and only once.

At the county office results arrive from each precinct's devices before the §23-15-615 ballot
accounting uses them. Four things can be wrong with one: someone without the key made it up
(forged), someone changed its numbers on the way (altered), it belongs to another device, memory
card or election (misdirected: also reported as forged), or someone sent an old genuine result
again (replayed). The device therefore seals each result with HMAC-SHA-256 under a key it
shares with the county, binds it to its own identity (the *scope*: serial number, election
definition hash and memory card id), and numbers each seal with a counter that only goes up; the
county remembers the last counter it accepted per scope.

The envelope (all big-endian), 112 bytes then the payload:

    offset   0  4   magic "PSR2"
    offset   4  8   counter (u64), strictly increasing per device and key
    offset  12  32  SHA-256 of the scope text ``serial|definition_hash|memory_card``
    offset  44  4   payload length (u32)
    offset  48  32  SHA-256 of the payload
    offset  80  32  HMAC-SHA-256(key, bytes 0..79)
    offset 112  ..  payload

The MAC covers the header, including the payload's digest, not the payload itself, so the
reader can tell the faults apart, in this order:

1. the MAC does not verify (or the envelope is malformed): :class:`ForgedResult`;
2. the scope is not the one of the identity the reader opened: :class:`ForgedResult`;
3. the MAC verifies but the payload does not match its length or digest: :class:`AlteredResult`;
4. all verify but the counter is not above the last accepted in that scope: :class:`ReplayedResult`.

On the wire (docs/protocol.md section 8) a device holding a key seals its IDENTIFY, STATUS,
TALLY, COUNTERS, CVRS and PAPER_RECORDS replies with a :class:`ResultSeal`; the reader opens
them with a :class:`ResultVerifier`, which opens the sealed identity first and then holds every
later result to its scope and counter.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable

from pollsim.errors import PollsimError
from pollsim.protocol.messages import Identity

__all__ = [
    "AlteredResult",
    "ForgedResult",
    "ReplayedResult",
    "ResultAuthError",
    "ResultSeal",
    "ResultVerifier",
    "counter_of",
    "is_sealed",
    "key_fingerprint",
    "scope_digest",
    "sign",
    "unseal",
    "verify",
]

MAGIC = b"PSR2"
_HEADER = struct.Struct(">4sQ32sI32s")
_MAC_SIZE = 32
ENVELOPE_SIZE = _HEADER.size + _MAC_SIZE
"""Bytes the envelope adds in front of the payload (112)."""
NO_SCOPE = bytes(32)
"""The scope field of a result bound to no identity (only :func:`sign`'s default)."""


def scope_digest(scope: str) -> bytes:
    """The envelope's scope field for an identity's scope text (``serial|hash|card``)."""
    return hashlib.sha256(scope.encode()).digest()


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


def sign(key: bytes, counter: int, payload: bytes, scope: bytes = NO_SCOPE) -> bytes:
    """Seal ``payload`` with ``key`` and ``counter`` (which the caller must never reuse), bound
    to ``scope`` (a :func:`scope_digest`)."""
    header = _HEADER.pack(MAGIC, counter, scope, len(payload), hashlib.sha256(payload).digest())
    return header + hmac.digest(key, header, "sha256") + payload


def _opened(signed: bytes) -> tuple[int, bytes, bytes]:
    """(counter, scope, payload) of an envelope whose layout and digest hold; else the error."""
    if len(signed) < ENVELOPE_SIZE or not signed.startswith(MAGIC):
        raise ForgedResult(f"not a signed result ({len(signed)} bytes, no {MAGIC.decode()} header)")
    _, counter, scope, length, digest = _HEADER.unpack_from(signed)
    payload = signed[ENVELOPE_SIZE:]
    if len(payload) != length or hashlib.sha256(payload).digest() != digest:
        raise AlteredResult(f"payload of result {counter} changed after sealing")
    return counter, scope, payload


def verify(key: bytes, last_counter: int, signed: bytes, scope: bytes | None = None) -> bytes:
    """Return the payload of ``signed`` if genuine, bound to ``scope`` (None: any), intact and
    newer than ``last_counter``."""
    if len(signed) < ENVELOPE_SIZE or not signed.startswith(MAGIC):
        raise ForgedResult(f"not a signed result ({len(signed)} bytes, no {MAGIC.decode()} header)")
    header, mac = signed[: _HEADER.size], signed[_HEADER.size : ENVELOPE_SIZE]
    if not hmac.compare_digest(mac, hmac.digest(key, header, "sha256")):
        raise ForgedResult("the seal does not verify with this key")
    if scope is not None and header[12:44] != scope:
        raise ForgedResult("sealed for another device, memory card or election than the one identified")
    counter, _, payload = _opened(signed)
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
    return _opened(signed)[2]


def is_sealed(payload: bytes) -> bool:
    """Whether a reply's payload is an envelope (how a reader without the key tells)."""
    return payload.startswith(MAGIC)


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

    def seal(self, payload: bytes, scope: bytes = NO_SCOPE) -> bytes:
        return sign(self.key, self.next_counter(), payload, scope)


class ResultVerifier:
    """The county's side: opens sealed results with ``key``, holding each to the scope of the
    sealed identity opened first and to the last counter accepted in that scope.

    ``seen`` (scope text -> last counter accepted) is where replay detection starts; the
    verifier updates it as it accepts results, so a caller can keep it across readouts.
    """

    def __init__(self, key: bytes, last_counter: int = 0, seen: dict[str, int] | None = None):
        self.key = key
        self.last_counter = last_counter
        """The counter of the last result accepted (0: none yet)."""
        self.seen: dict[str, int] = seen if seen is not None else {}
        self.scope: str | None = None
        """The scope text of the identity opened (None: none yet)."""

    def open_identity(self, signed: bytes) -> Identity:
        """Open a sealed IDENTIFY reply: genuine, bound to the identity it carries, and newer
        than the last result accepted from that scope. From now on every result must be in it."""
        payload = verify(self.key, 0, signed)
        identity = Identity.from_payload(payload)
        if signed[12:44] != scope_digest(identity.scope):
            raise ForgedResult("the seal's scope is not the identity it carries")
        last, counter = self.seen.get(identity.scope, 0), counter_of(signed)
        if counter <= last:
            raise ReplayedResult(f"result counter {counter} is not above {last}")
        self.scope, self.last_counter = identity.scope, counter
        self.seen[identity.scope] = counter
        return identity

    def open(self, signed: bytes) -> bytes:
        """The payload, if genuine, in the identified scope, intact and newer than every
        result accepted before."""
        scope = None if self.scope is None else scope_digest(self.scope)
        payload = verify(self.key, self.last_counter, signed, scope)
        self.last_counter = counter_of(signed)
        if self.scope is not None:
            self.seen[self.scope] = self.last_counter
        return payload
