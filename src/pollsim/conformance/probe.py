"""The conformance suite's hands on the wire: a host that sends exactly the bytes a rule needs.

A conformance check is a test technician at the county's bench with a serial analyser: they
send a device frames a correct reader would never send (a damaged CRC, a request for another
device, a request repeated, a NAK, a SYNC in the middle of a reply), watch every byte that comes
back, and time it. :class:`Probe` is that bench. It builds frames with the protocol's own
:mod:`~pollsim.protocol.frame` and :mod:`~pollsim.protocol.cobs` modules, keeps every run it
reads (each decoded, or the fault that rejected it, with the zeros that followed it: docs/protocol.md
sections 2-4, L8), and never waits past the deadline of the check it serves: a silent or
babbling device fails the check with one line (:class:`CheckFailed`), and the suite goes on.
"""

from __future__ import annotations

import secrets
import struct
import time
from dataclasses import dataclass, field

from pollsim.protocol.cobs import FrameError, FrameFault
from pollsim.protocol.frame import BROADCAST_ID, Frame, decode_frame
from pollsim.protocol.link import FEATURE_FRAGMENTS, SerialPort
from pollsim.protocol.messages import MessageType

__all__ = ["FEATURE_FRAGMENTS", "CheckFailed", "NotApplicable", "Probe", "Run"]

SYNC = struct.Struct(">IB")
FRAGMENT = struct.Struct(">BHHH")
_MAX_RUN = 65_810
CONTROL = frozenset({MessageType.ACK, MessageType.NAK, MessageType.SYNC, MessageType.SYNC_ACK})


class CheckFailed(Exception):
    """The device broke the rule under check; the message is the one line the table shows."""


class NotApplicable(Exception):
    """The rule does not apply to this device (or cannot be checked without a key)."""


@dataclass
class Run:
    """One run of bytes the device sent between two zeros."""

    wire: bytes
    """The bytes between the delimiters."""
    frame: Frame | None
    """The frame it decodes to (None: rejected, see ``error``)."""
    error: FrameError | None
    at: float
    """When its closing zero arrived (monotonic seconds)."""
    zeros: int = 1
    """Zeros that followed it before the next run (1: just its delimiter)."""

    @property
    def data(self) -> bool:
        return self.frame is not None and self.frame.msg_type not in CONTROL


@dataclass
class Probe:
    """A host on ``port`` under a deadline per check; one :meth:`begin` per check."""

    port: SerialPort
    budget: float = 10.0
    """Seconds each check may take, at most."""
    device_id: int = BROADCAST_ID
    """Stamped on what the probe sends (the device's id once known)."""
    runs: list[Run] = field(default_factory=list)
    """Everything read in the present check, in order."""
    end: float = 0.0
    _cursor: int = 0
    _partial: bytearray = field(default_factory=bytearray)
    _in_step: bool = False
    _overflow: int = 0
    next_seq: int = 1
    last_rx: int = 0
    dead: str = ""
    """Why no session can be had (a device that never answered SYNC), for the checks after."""

    def __post_init__(self) -> None:
        self.port.timeout = 0.01  # the tick: every wait polls, so no deadline is overrun by more

    def begin(self) -> None:
        """Start a check: a fresh deadline; what the device sends from now on is the check's."""
        self.end = time.monotonic() + self.budget
        self.runs, self._cursor = [], 0

    # -- writing ----------------------------------------------------------------------------------
    def frame(self, kind: int, payload: bytes = b"", seq: int = 0, ack: int = 0, device: int | None = None) -> bytes:
        """The wire bytes of one frame (00, COBS, 00) stamped with ``device`` (default: ours)."""
        return Frame(kind, payload, self.device_id if device is None else device, seq, ack).encode()

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def send(self, kind: int, payload: bytes = b"", seq: int | None = None, ack: int | None = None) -> tuple[int, bytes]:
        """Send one data frame numbered by the session (or as given); return (seq, wire)."""
        if seq is None:
            seq, self.next_seq = self.next_seq, self.next_seq % 0xFFFF + 1
        wire = self.frame(kind, payload, seq, self.last_rx if ack is None else ack)
        self.write(wire)
        return seq, wire

    def ack(self, seq: int) -> None:
        self.write(self.frame(MessageType.ACK, ack=seq))

    def nak(self) -> None:
        self.write(self.frame(MessageType.NAK, ack=self.last_rx))

    # -- reading ----------------------------------------------------------------------------------
    def _read(self) -> bool:
        """Read what arrives (waiting one tick at most); split it into runs; tell whether any came."""
        data = self.port.read(max(1, self.port.in_waiting))
        now = time.monotonic()
        parts = data.split(b"\x00")
        for piece in parts[:-1]:
            self._close(piece, now)
        self._partial += parts[-1]
        if len(self._partial) > _MAX_RUN:  # a babbling device: keep memory bounded
            self._overflow += len(self._partial)
            self._partial.clear()
        return bool(data)

    def _close(self, piece: bytes, now: float) -> None:
        run = bytes(self._partial) + piece
        self._partial.clear()
        if not self._in_step:  # the tail of a frame begun before we opened the port (L4)
            self._in_step, self._overflow = True, 0
            return
        if self._overflow:
            size, self._overflow = self._overflow + len(run), 0
            self.runs.append(Run(b"", None, FrameError(FrameFault.OVERSIZE, f"{size} bytes"), now))
        elif not run:
            if self.runs:
                self.runs[-1].zeros += 1
        else:
            try:
                self.runs.append(Run(run, decode_frame(run), None, now))
            except FrameError as error:
                self.runs.append(Run(run, None, error, now))

    def wait(self, what: str, match, within: float = 5.0) -> Run:
        """The next run (after those already taken) that ``match`` accepts, within ``within`` s
        and the check's deadline; :class:`CheckFailed` naming ``what`` otherwise."""
        found = self.poll(match, within)
        if found is None:
            limit = "the check's deadline" if time.monotonic() >= self.end else f"{within:g} s"
            raise CheckFailed(f"no {what} within {limit}")
        return found

    def poll(self, match, within: float) -> Run | None:
        """As :meth:`wait`, but None when nothing matched in time."""
        until = min(time.monotonic() + within, self.end)
        while True:
            while self._cursor < len(self.runs):
                run = self.runs[self._cursor]
                self._cursor += 1
                if match(run):
                    return run
            if time.monotonic() >= until:
                return None
            self._read()

    def listen(self, within: float) -> list[Run]:
        """Everything not yet taken and all that arrives in the next ``within`` s (within the
        deadline)."""
        start = self._cursor
        until = min(time.monotonic() + within, self.end)
        while time.monotonic() < until:
            self._read()
        self._cursor = len(self.runs)
        return self.runs[start:]

    # -- sessions ---------------------------------------------------------------------------------
    def sync(self, features: int = 0, within: float = 2.0) -> tuple[int, Run]:
        """Start a session (L1): SYNC until the SYNC_ACK with our nonce; (its features, it)."""
        if self.dead:
            raise CheckFailed(self.dead)
        nonce = secrets.randbits(32)
        wire = self.frame(MessageType.SYNC, SYNC.pack(nonce, features))
        for _ in range(3):
            self.write(wire)
            run = self.poll(lambda r: _sync_ack(r, nonce), within / 3)
            if run is not None:
                assert run.frame is not None
                self.next_seq, self.last_rx = 1, 0
                return run.frame.payload[4], run
            if time.monotonic() >= self.end:
                break
        heard = bool(self.runs)
        self.dead = f"no SYNC_ACK to SYNC within {within:g} s ({'frames came, none a SYNC_ACK' if heard else 'silence'})"
        raise CheckFailed(self.dead)

    def reply(self, seq: int, within: float = 5.0) -> Frame:
        """The device's reply to our data frame ``seq`` (one frame, or FRAGMENTs joined; each
        acknowledged) once it arrives within ``within`` s; :class:`CheckFailed` otherwise."""
        pieces, joined = bytearray(), None
        while True:
            run = self.wait(f"reply to the request (seq {seq})", lambda r: r.data, within)
            frame = run.frame
            assert frame is not None
            if frame.msg_type != MessageType.FRAGMENT:
                if frame.ack == seq:
                    self.last_rx = frame.seq
                    return frame
                continue
            self.ack(frame.seq)
            kind, _, length, offset = FRAGMENT.unpack_from(frame.payload)
            piece = frame.payload[FRAGMENT.size :]
            if offset <= len(pieces) < offset + len(piece):
                pieces += piece[len(pieces) - offset :]
            if len(pieces) == length:
                joined = Frame(kind, bytes(pieces), frame.device_id, frame.seq, frame.ack)
                if frame.ack == seq:
                    self.last_rx = frame.seq
                    return joined
                pieces = bytearray()

    def request(self, kind: int, payload: bytes = b"", within: float = 5.0) -> Frame:
        """One exchange: send, take the reply, acknowledge it."""
        seq, _ = self.send(kind, payload)
        frame = self.reply(seq, within)
        self.ack(frame.seq)
        return frame

    def ask_twice(self, kind: int) -> tuple[Frame, Frame]:
        """Send a request, acknowledge its reply, then send the identical request frame again
        (a host that asks again, L12): (the first reply, the reply to the repeat), both acknowledged."""
        seq, wire = self.send(kind)
        first = self.reply(seq)
        self.ack(first.seq)
        self.listen(0.2)
        self.write(wire)  # the same bytes: the same seq, the same request
        again = self.reply(seq, 3.0)
        self.ack(again.seq)
        return first, again

    def settle(self) -> None:
        """End a check cleanly: acknowledge the last data frame seen, so that the device holds
        nothing for the next check (which starts with its own SYNC anyway)."""
        for run in reversed(self.runs):
            if run.data and run.frame is not None:
                self.ack(run.frame.seq)
                break


def _sync_ack(run: Run, nonce: int) -> bool:
    frame = run.frame
    return (
        frame is not None
        and frame.msg_type == MessageType.SYNC_ACK
        and len(frame.payload) == SYNC.size
        and SYNC.unpack(frame.payload)[0] == nonce
    )
