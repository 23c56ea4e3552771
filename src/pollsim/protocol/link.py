"""The reliable link: stop-and-wait delivery of frames over a serial port that may drop bytes.

Picture two officials passing sealed envelopes through a hatch, one at a time. The sender
numbers each envelope and waits for a receipt (ACK) naming that number before passing the next.
No receipt within the timeout, or a note saying "that one arrived torn" (NAK): the sender passes
a copy of the same envelope again, up to ten times, then reports the line dead
(:class:`LinkError`). The receiver gives a receipt for every intact envelope, even a copy of one
it already has (its receipt may have been lost), but files each number only once.

Rules (docs/protocol.md, "Reliable link"):

* Data frames carry sequence numbers 1..65535 (wrapping to 1); ACK and NAK carry 0.
* Every intact data frame is answered with ACK(ack = its sequence). It is delivered unless it
  repeats the sequence and acknowledgement numbers of the frame delivered last (a
  retransmission whose ACK was lost): then it is only acknowledged again. A data frame with
  acknowledgement 0 after the peer had acknowledged one of ours comes from a restarted peer
  and is always delivered.
* Every non-empty run of bytes that is not a valid frame is answered with NAK.
* A frame is acknowledged by an ACK naming it, or by a data frame from the peer whose
  acknowledgement field names it (the peer's reply implies the request arrived).
* No acknowledgement within ``ack_timeout`` seconds, or a NAK: retransmit; after ``retries``
  retransmissions, :class:`LinkError`.
* A link with a specific device id ignores frames addressed to other ids (other devices on a
  shared line); a link with :data:`~pollsim.protocol.frame.BROADCAST_ID` accepts any.

The same :class:`Link` serves the host, which sends requests with :meth:`Link.request`, and the
device, which :meth:`Link.receive`-s requests and :meth:`Link.send`-s replies.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from pollsim.errors import PollsimError
from pollsim.protocol.cobs import FrameError
from pollsim.protocol.frame import BROADCAST_ID, Frame, FrameDecoder
from pollsim.protocol.messages import MessageType

__all__ = ["Link", "LinkError", "LinkStats", "SerialPort"]


class SerialPort(Protocol):
    """What the link needs of a port: the part of ``serial.Serial`` it uses."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...


class LinkError(PollsimError):
    """The peer stopped answering: names the port and the frame that went unacknowledged."""

    def __init__(self, port: str, seq: int, detail: str):
        self.port = port
        """The port's name (its device path for a serial port)."""
        self.seq = seq
        """Sequence number of the frame in question."""
        super().__init__(f"{port}: frame seq {seq}: {detail}")


@dataclass(slots=True)
class LinkStats:
    """Running counts of what the link has seen, for reports and tests."""

    sent: int = 0
    """Data frames sent (not counting retransmissions)."""
    delivered: int = 0
    """Data frames delivered to the caller."""
    retransmissions: int = 0
    duplicates: int = 0
    """Data frames received again and only acknowledged."""
    corrupt: int = 0
    """Runs of bytes rejected as frames (each answered with NAK)."""
    ignored: int = 0
    """Intact frames addressed to another device."""
    abandoned: int = 0
    """Data frames given up on after every retransmission (each raised :class:`LinkError`)."""
    stale: int = 0
    """Data frames dropped while waiting for a reply because they answer an earlier request."""


class Link:
    """Stop-and-wait reliable delivery of frames over ``port``; one side of the conversation."""

    def __init__(
        self,
        port: SerialPort,
        *,
        device_id: int = BROADCAST_ID,
        ack_timeout: float = 0.5,
        retries: int = 10,
        tick: float = 0.01,
        name: str | None = None,
    ):
        """Take over ``port``; its ``timeout`` is set to ``tick``, the polling interval.

        ``device_id`` stamps outgoing frames and filters incoming ones. ``ack_timeout`` must
        exceed the time the peer needs to receive and check our largest frame: on a pty,
        milliseconds; at 115200 baud 64 KiB take 5.7 s, so on slow lines send smaller frames
        (readers ask for smaller chunks) or raise it.
        """
        self.port = port
        port.timeout = tick
        self.device_id = device_id
        """Stamped on outgoing frames; the host sets it once IDENTIFY told it the device's id."""
        self.ack_timeout = ack_timeout
        self.retries = retries
        self.name = name or str(getattr(port, "name", None) or getattr(port, "port", None) or port)
        """How errors name the port."""
        self.stats = LinkStats()
        self._decoder = FrameDecoder()
        self._inbox: deque[Frame] = deque()
        self._next_seq = 1
        self._last_delivered = 0
        """Sequence of the last data frame delivered from the peer (0: none yet)."""
        self._last_key: tuple[int, int] | None = None
        """(sequence, acknowledgement) of that frame, to recognise its retransmissions."""
        self._awaiting = 0
        """Sequence of our frame awaiting acknowledgement (0: none)."""
        self._peer_acknowledged = False
        """Whether the peer has acknowledged one of our frames (see :meth:`_is_duplicate`)."""
        self._nak = False

    def send(self, msg_type: int, payload: bytes = b"") -> int:
        """Send one data frame and return once the peer acknowledged it; return its sequence."""
        seq = self._next_seq
        self._next_seq = seq % 0xFFFF + 1
        frame = Frame(msg_type, payload, self.device_id, seq, self._last_delivered)
        wire = frame.encode()
        self.stats.sent += 1
        self._awaiting = seq
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.retransmissions += 1
            self.port.write(wire)
            self._nak = False
            deadline = time.monotonic() + self.ack_timeout
            while self._awaiting and not self._nak and time.monotonic() < deadline:
                self._pump()
            if not self._awaiting:
                return seq
        self._awaiting = 0
        self.stats.abandoned += 1
        raise LinkError(
            self.name,
            seq,
            f"type 0x{msg_type:02x} not acknowledged after {self.retries} retransmissions",
        )

    def receive(self, timeout: float | None = None) -> Frame | None:
        """The next data frame from the peer, or None if the line stayed silent for ``timeout`` s.

        The wait restarts whenever bytes arrive, so a long frame on a slow line is not cut off.
        """
        heard = time.monotonic()
        while not self._inbox:
            if self._pump():
                heard = time.monotonic()
            elif timeout is not None and time.monotonic() - heard >= timeout:
                return None
        return self._inbox.popleft()

    def request(self, msg_type: int, payload: bytes = b"", timeout: float | None = None) -> Frame:
        """Send a request and return the peer's reply: its next data frame that acknowledges
        the request. Other data frames are stale (a device still retransmitting its reply to a
        reader that closed the port and opened it again) and are dropped.

        ``timeout`` bounds the silence while waiting for the reply once the request is
        acknowledged; by default the time the peer needs to exhaust its own retransmissions.
        """
        seq = self.send(msg_type, payload)
        wait = self.ack_timeout * (self.retries + 1) if timeout is None else timeout
        while True:
            reply = self.receive(wait)
            if reply is None:
                detail = f"no reply to type 0x{msg_type:02x} within {wait:g} s"
                raise LinkError(self.name, seq, detail)
            if reply.ack == seq:
                return reply
            self.stats.stale += 1  # a reply to an earlier request, from before a reconnection

    def _pump(self) -> bool:
        """Read what the port has (waiting at most one tick), act on every frame in it; tell
        whether any byte came."""
        data = self.port.read(max(self.port.in_waiting, self._decoder.wanted))
        for item in self._decoder.feed(data):
            if isinstance(item, FrameError):
                self.stats.corrupt += 1
                self._write_control(MessageType.NAK, self._last_delivered)
            else:
                self._on_frame(item)
        return bool(data)

    def _on_frame(self, frame: Frame) -> None:
        if self.device_id != BROADCAST_ID and frame.device_id not in (self.device_id, BROADCAST_ID):
            self.stats.ignored += 1
        elif frame.msg_type == MessageType.ACK:
            self._acknowledged(frame.ack)
        elif frame.msg_type == MessageType.NAK:
            self._nak = bool(self._awaiting)
        else:
            self._write_control(MessageType.ACK, frame.seq)
            self._acknowledged(frame.ack)
            if self._is_duplicate(frame):
                self.stats.duplicates += 1
            else:
                self._last_delivered = frame.seq
                self._last_key = (frame.seq, frame.ack)
                self.stats.delivered += 1
                self._inbox.append(frame)

    def _is_duplicate(self, frame: Frame) -> bool:
        """A retransmission repeats the sequence and acknowledgement of the frame delivered last.

        A frame acknowledging nothing (ack 0) after the peer had acknowledged one of ours
        comes from a restarted peer, so it is new even if its numbers repeat (the line keeps
        bytes in order, so no stale copy can arrive after that acknowledgement).
        """
        if frame.ack == 0 and self._peer_acknowledged:
            self._peer_acknowledged = False
            return False
        return (frame.seq, frame.ack) == self._last_key

    def _acknowledged(self, seq: int) -> None:
        if self._awaiting and seq == self._awaiting:
            self._awaiting = 0
            self._peer_acknowledged = True

    def _write_control(self, msg_type: MessageType, ack: int) -> None:
        self.port.write(Frame(msg_type, b"", self.device_id, 0, ack).encode())
