"""The reliable link: every message across a bad serial line exactly once, or a plain error.

Picture two officials passing sealed envelopes through a hatch, one at a time, on a windy day.
The sender numbers each envelope and waits for a receipt (ACK) naming that number before passing
the next. No receipt in time, or a note saying "that one arrived torn" (NAK): the sender passes
a copy of the same envelope again. The receiver gives a receipt for every intact envelope, even
a copy of one it already has (its receipt may have blown away), but files each number only
once. When the wind gets up they pass smaller envelopes; when it calms, bigger ones. A new
official at the hatch first says "let us start afresh" (SYNC) and waits to hear it back
(SYNC_ACK), so nothing left over from the last conversation is mistaken for this one. Nothing
here is prescribed by statute: it carries the results the county's §23-15-615 accounting uses.

The rules, numbered as in docs/protocol.md section 4 (L1-L18), are implemented here: the
session (L1-L3: SYNC with a random nonce and the features offered, SYNC_ACK echoing it, data
from before it ignored); receiving (L4-L8: a damaged run NAKed, every valid data frame ACKed and
delivered unless it repeats the last one); sending (L9-L12: acknowledged by an ACK or by a data
frame naming it, a retransmission timer that follows the round trip as in RFC 6298 and doubles
after each timeout, a NAK answered at once, a deadline on every wait); FRAGMENT frames whose size
halves whenever one fails and doubles after four clean ones, as ZMODEM's subpackets (L13); a
device's duties (L14: a new request abandons the reply, a repeated one brings it again); and, on
a noisy line, a device's long replies in compact pieces with selective repeat, if its host
offered them (L15-L18, :mod:`~pollsim.protocol.pieces`).

:meth:`Link.request` is the host's side (SYNC once, then request and reply under one deadline,
asking again after a silence); :meth:`Link.receive` and :meth:`Link.send` are the device's.
"""

from __future__ import annotations

import contextlib
import secrets
import struct
import time
from collections import deque

from pollsim.protocol.cobs import FrameError
from pollsim.protocol.frame import BROADCAST_ID, MAX_PAYLOAD, Frame, FrameDecoder
from pollsim.protocol.linkstate import LinkError, LinkStats, RoundTrip, SerialPort
from pollsim.protocol.messages import MessageType
from pollsim.protocol.pieces import PieceJoiner, PieceSender, PieceSize, observe, on_compact, send_pieces

__all__ = ["FEATURE_FRAGMENTS", "FEATURE_PIECES", "Link", "LinkError", "LinkStats", "SerialPort"]

FEATURE_FRAGMENTS = 0x01
"""SYNC feature bit: this end joins FRAGMENT frames (and may send them)."""
FEATURE_PIECES = 0x02
"""SYNC feature bit: a host joins compact pieces; a device sends its replies in them on a noisy line (L15)."""
_SYNC = struct.Struct(">IB")  # nonce u32, features u8
_FRAGMENT = struct.Struct(">BHHH")  # message type u8, message number u16, length u16, offset u16
_GROW_AFTER = 4
_MIN_FRAGMENT = 24
_CONTROL_RUN = 16  # runs this short (an encoded ACK or NAK is 15 bytes) are not NAKed (L5)
_CONTROL = frozenset({MessageType.ACK, MessageType.NAK, MessageType.SYNC, MessageType.SYNC_ACK})


class Link:
    """Reliable delivery of messages over ``port``; one side of the conversation."""

    def __init__(
        self,
        port: SerialPort,
        *,
        device_id: int = BROADCAST_ID,
        ack_timeout: float = 0.5,
        retries: int = 10,
        tick: float = 0.01,
        name: str | None = None,
        deadline: float = 60.0,
        reply_timeout: float = 1.0,
        fragment: int = 1024,
        role: str = "host",
        features: int = FEATURE_FRAGMENTS | FEATURE_PIECES,
    ):
        """Take over ``port``; its ``timeout`` is set to ``tick``, the polling interval.

        ``device_id`` stamps outgoing frames and filters incoming ones. ``ack_timeout`` is the
        retransmission timer until a round trip has been measured. ``retries`` bounds the
        timeouts per frame of :meth:`send`; ``deadline`` (seconds) bounds every request, and
        ``reply_timeout`` is the silence after which :meth:`request` asks again. ``fragment``
        is the first frame size once fragments are agreed. ``role`` is "host" or "device"
        (a :class:`~pollsim.protocol.server.DeviceServer` sets it). ``features`` are the SYNC
        feature bits this end offers (a reader without compact pieces: ``FEATURE_FRAGMENTS``).
        """
        self.port = port
        port.timeout = tick
        self.device_id = device_id
        """Stamped on outgoing frames; the host sets it once IDENTIFY told it the device's id."""
        self.ack_timeout = ack_timeout
        self.retries = retries
        self.deadline = deadline
        self.reply_timeout = reply_timeout
        self.role = role
        self.name = name or str(getattr(port, "name", None) or getattr(port, "port", None) or port)
        """How errors name the port."""
        self.stats = LinkStats()
        self.fragment = fragment
        """The present frame size for messages that are cut into fragments."""
        self._first_fragment = fragment
        self._clean = 0
        self.timer = RoundTrip(ack_timeout)
        """The round trip measured, and the retransmission timeout that follows from it."""
        self._decoder = FrameDecoder(in_step=False)
        self._inbox: deque[Frame] = deque()
        self._partial = bytearray()
        self._last_wire = b""
        self._timeouts = 0
        self._noisy = 0
        """Frames to go before the line counts as clean again (L8: tripled ACKs and NAKs, doubled delimiters)."""
        self._nonce: int | None = None
        """The host's SYNC nonce awaiting its SYNC_ACK (None: not syncing)."""
        self.synced = self.fragmenting = self.pieces = False
        """Whether a SYNC exchange started this session; both ends agreed to fragments; this
        device may send its replies in compact pieces (L15)."""
        self.features, self.piece_size = features, PieceSize()
        """The features offered; the losses measured on pieces, and the piece size they call for (L16)."""
        self.piece_tx: PieceSender | None = None
        self._reset_session()

    def _reset_session(self) -> None:
        self._next_seq = 1
        self._last_delivered = 0
        self._last_key: tuple[int, int] | None = None
        self._awaiting = 0
        self._nak = self._superseded = self._resend = False
        self._last_message: tuple[int, bytes, int, int] | None = None
        """(type, payload, sequence it answers, message number) of the last message sent."""
        self._inbox.clear()
        self._partial.clear()
        self._msg_id = self._rx_msg = self._done_msg = 0
        self.fragment = self._first_fragment
        self._joiner = PieceJoiner()

    # -- the host's side ---------------------------------------------------------------------------
    def sync(self, deadline: float | None = None) -> None:
        """Start a session (L1): SYNC until the device's SYNC_ACK, with backoff, by ``deadline``
        (a monotonic time; default: :attr:`deadline` from now)."""
        end = time.monotonic() + self.deadline if deadline is None else deadline
        self._nonce = secrets.randbits(32)
        wire = Frame(MessageType.SYNC, _SYNC.pack(self._nonce, self.features), self.device_id).encode()
        wait, silent, start, damaged = self.ack_timeout, 0, time.monotonic(), self.stats.corrupt
        while self._nonce is not None:
            now = time.monotonic()
            if now >= end or silent > self.retries:  # noise keeps it trying; silence does not
                self._nonce, damaged = None, self.stats.corrupt - damaged
                if silent > self.retries:
                    raise LinkError(self.name, 0, "no answer to SYNC: nothing came back (is a device on this port?)")
                raise LinkError(self.name, 0, f"no answer to SYNC within {now - start:.0f} s: {damaged} damaged "
                                              "frames came back (the line is too noisy)")  # fmt: skip
            self.port.write(wire)
            timer, heard, before = min(now + wait, end), False, self.stats.corrupt
            while self._nonce is not None and time.monotonic() < timer and self.stats.corrupt == before:
                heard = self._pump() or heard
            silent = 0 if heard else silent + 1
            if self.stats.corrupt == before:  # a damaged answer: the device is there, ask at once
                wait = min(2 * wait, 8 * self.ack_timeout)

    def request(self, msg_type: int, payload: bytes = b"", timeout: float | None = None) -> Frame:
        """Send a request and return the peer's reply: its next message that acknowledges the
        request. Others are stale and dropped. The whole exchange ends by ``timeout`` seconds
        (default :attr:`deadline`) however much the peer sends; after a silence of
        :attr:`reply_timeout` with no reply the request is sent again (L12)."""
        limit = self.deadline if timeout is None else timeout
        end = time.monotonic() + limit
        if not self.synced:
            self.sync(end)
        seq = self.send(msg_type, payload, deadline=end, retries=None)
        silence, heard = self.reply_timeout, time.monotonic()
        while True:
            while self._inbox:
                reply = self._inbox.popleft()
                if reply.ack == seq:
                    return reply
                self.stats.stale += 1
            now = time.monotonic()
            if now >= end:
                self.stats.abandoned += 1
                raise LinkError(self.name, seq, f"no reply to type 0x{msg_type:02x} within {limit:g} s")
            if self._pump():
                heard = time.monotonic()
            elif now - heard >= silence:
                self.port.write(self._last_wire)
                self.stats.reasks += 1
                silence, heard = min(2 * silence, 8 * self.reply_timeout), now

    # -- both sides --------------------------------------------------------------------------------
    def send(self, msg_type: int, payload: bytes = b"", *, deadline: float | None = None,
             retries: int | None = -1) -> int:  # fmt: skip
        """Send one message and return once the peer acknowledged all of it; return the
        sequence of its last frame. Raises :class:`LinkError` after ``retries`` timeouts in a
        row (default :attr:`retries`; None: no limit), at ``deadline`` (a monotonic time), or
        when the peer moved on (L14) or started a new session."""
        self._msg_id = self._msg_id % 0xFFFF + 1
        return self._send(msg_type, payload, self._msg_id, deadline, self.retries if retries == -1 else retries)

    def _send(self, msg_type: int, payload: bytes, msg_id: int, deadline: float | None, retries: int | None) -> int:
        pos, seq = 0, 0
        self._last_message = (msg_type, payload, self._last_delivered, msg_id)
        self._timeouts = 0
        try:
            if not self.fragmenting or len(payload) <= _MIN_FRAGMENT:  # else pieces, to cut again if need be
                seq = self._transmit(msg_type, payload, deadline, retries, recut=False)
            else:
                failed = 0  # the end of the furthest fragment that failed (and may have arrived all the same)
                while pos < len(payload):
                    if self.pieces and self._noisy and failed < len(payload):  # L15: all of it in compact pieces
                        send_pieces(self, msg_type, payload, msg_id & 0x3F, deadline, retries)
                        break
                    piece = payload[pos : pos + self.fragment - _FRAGMENT.size]
                    body = _FRAGMENT.pack(msg_type, msg_id, len(payload), pos) + piece
                    seq = self._transmit(MessageType.FRAGMENT, body, deadline, retries, recut=True)
                    if seq:
                        pos, self._timeouts = pos + len(piece), 0
                    failed = failed if seq else max(failed, pos + len(piece))
        except LinkError:
            self.stats.abandoned += 1
            raise
        return seq

    def _transmit(self, kind: int, body: bytes, deadline: float | None, retries: int | None, recut: bool) -> int:
        """One frame, stop-and-wait, until acknowledged (L9-L12); 0 if it failed and is to be
        cut again smaller (``recut``, above the smallest frame size)."""
        seq = self._next_seq
        self._next_seq = seq % 0xFFFF + 1
        self._last_wire = wire = Frame(kind, body, self.device_id, seq, self._last_delivered).encode()
        if self._noisy:  # a second delimiter: a lost or damaged last byte still closes the frame
            wire += b"\x00"
        self.stats.sent += 1
        self._awaiting, self._superseded = seq, False
        wait, tries = self.timer.rto * 2**self._timeouts, 0
        while True:
            self.port.write(wire)
            tries += 1
            written = time.monotonic()
            timer, self._nak = written + min(wait, 8 * self.ack_timeout), False
            while self._awaiting and not (self._nak or self._superseded):
                now = time.monotonic()
                if now >= timer or (deadline is not None and now >= deadline):
                    break
                self._pump()
            if self._superseded:
                self._awaiting = 0
                raise LinkError(self.name, seq, "abandoned: the peer moved on to a new request or session")
            if not self._awaiting:
                self._adapt(tries == 1, time.monotonic() - written)
                return seq
            if deadline is not None and time.monotonic() >= deadline:
                self._awaiting = 0
                raise LinkError(self.name, seq, f"type 0x{kind:02x} not acknowledged by the deadline")
            self._noisy = 32
            if not self._nak:
                self._timeouts += 1
                self.stats.timeouts += 1
                if retries is not None and self._timeouts > retries:
                    self._awaiting = 0
                    raise LinkError(self.name, seq, f"type 0x{kind:02x} not acknowledged after {retries} retransmissions")
                wait *= 2
            self.stats.retransmissions += 1
            if recut and self.fragment > _MIN_FRAGMENT:
                self._adapt(False, 0.0)
                self._awaiting = 0
                return 0

    def _adapt(self, clean: bool, rtt: float) -> None:
        """After a frame got through, or failed: learn the round trip (from first tries only, as
        Karn's rule says) and move the frame size (L13)."""
        if clean:
            self.timer.sample(rtt)
            self._clean += 1
            if self._clean >= _GROW_AFTER:
                self.fragment, self._clean = min(2 * self.fragment, MAX_PAYLOAD), 0
        else:
            self.fragment, self._clean = max(self.fragment // 2, _MIN_FRAGMENT), 0

    def receive(self, timeout: float | None = None) -> Frame | None:
        """The next message from the peer, or None if the line stayed silent for ``timeout`` s.

        The wait restarts whenever bytes arrive, so a long frame on a slow line is not cut off.
        A device sends its last reply again here when the host repeats its request (L14).
        """
        heard = time.monotonic()
        while not self._inbox:
            if self._resend and self._last_message is not None and not self._awaiting:
                self._resend = False
                msg_type, payload, _, msg_id = self._last_message
                with contextlib.suppress(LinkError):
                    self._send(msg_type, payload, msg_id, None, self.retries)
                continue
            if self._pump():
                heard = time.monotonic()
            elif timeout is not None and time.monotonic() - heard >= timeout:
                return None
        return self._inbox.popleft()

    def _pump(self) -> bool:
        """Read what the port has (waiting at most one tick), act on every frame in it; tell
        whether any byte came."""
        # wait for a long frame whole (one read, not hundreds); a short one, or one on a noisy line
        # whose header may lie, is taken as it comes: a frame that never completes costs a tick
        wanted, joined = self._decoder.wanted, self.stats.pieces
        data = self.port.read(max(self.port.in_waiting, wanted if wanted > 1024 and not self._noisy else 1))
        for item in self._decoder.feed_any(data):
            observe(self, item)
            if isinstance(item, FrameError):
                self.stats.corrupt += 1
                self._noisy = 32
                # not for a short run (a damaged ACK or NAK: NAKs for NAKs would storm), nor while we await
                # an ACK (the peer sends only ACKs and NAKs then): L5; nor while pieces come or go: L16
                if item.size > _CONTROL_RUN and not (self._awaiting or self.piece_tx or self._joiner.joining):
                    self._write_control(MessageType.NAK, self._last_delivered)
            elif isinstance(item, Frame):
                self._on_frame(item)
            else:
                on_compact(self, item)
        if self.stats.pieces != joined and (report := self._joiner.report()) is not None:
            self.port.write(report.encode() * (3 if report.delivered else 1))  # one per read; three at the end (L16)
        return bool(data)

    def _on_frame(self, frame: Frame) -> None:
        kind = frame.msg_type
        self._noisy = max(self._noisy - 1, 0)
        if self.device_id != BROADCAST_ID and frame.device_id not in (self.device_id, BROADCAST_ID):
            self.stats.ignored += 1
        elif kind == MessageType.ACK:
            self._acknowledged(frame.ack)
        elif kind == MessageType.NAK:
            if self._awaiting:
                self.stats.naks += 1
                self._nak, self._noisy = True, 32
        elif kind in _CONTROL:
            self._on_sync(frame)
        elif self._nonce is not None:
            self.stats.stale += 1  # a data frame from before this session (L3)
        else:
            self._on_data(frame)

    def _on_sync(self, frame: Frame) -> None:
        if len(frame.payload) != _SYNC.size:
            return
        nonce, features = _SYNC.unpack(frame.payload)
        if frame.msg_type == MessageType.SYNC and self.role == "device":
            sending = bool(self._awaiting or self.piece_tx)
            self._reset_session()
            self._superseded = sending
            self.synced, self.fragmenting = True, bool(features & FEATURE_FRAGMENTS)
            self.pieces = self.fragmenting and bool(features & self.features & FEATURE_PIECES)
            self.stats.syncs += 1
            reply = _SYNC.pack(nonce, self.features & ~FEATURE_PIECES | self.pieces * FEATURE_PIECES)  # 02: agreed
            self.port.write(Frame(MessageType.SYNC_ACK, reply, self.device_id).encode())
        elif frame.msg_type == MessageType.SYNC_ACK and nonce == self._nonce:
            self._reset_session()
            self._nonce = None
            self.synced, self.fragmenting = True, bool(features & FEATURE_FRAGMENTS)
            self.stats.syncs += 1

    def _on_data(self, frame: Frame) -> None:
        self._write_control(MessageType.ACK, frame.seq)
        self._acknowledged(frame.ack)
        if (frame.seq, frame.ack) == self._last_key:
            self.stats.duplicates += 1
            if self.role == "device":  # the host repeats its request: it lacks our reply (L14)
                self._nak = bool(self._awaiting)
                last = self._last_message
                self._resend = not (self._awaiting or self.piece_tx) and last is not None and last[2] == frame.seq
            return
        if self.role == "device" and (self._awaiting or self.piece_tx):
            self._superseded = True  # a new request: the host has moved on (L14)
        self._last_delivered, self._last_key = frame.seq, (frame.seq, frame.ack)
        if frame.msg_type != MessageType.FRAGMENT:
            self._deliver(frame, frame.msg_type, frame.payload)
        elif len(frame.payload) >= _FRAGMENT.size:
            kind, msg_id, length, offset = _FRAGMENT.unpack_from(frame.payload)
            if msg_id == self._done_msg:
                return  # a piece of a message already delivered, sent again
            if msg_id != self._rx_msg:
                self._rx_msg, self._partial = msg_id, bytearray()
            piece, have = frame.payload[_FRAGMENT.size :], len(self._partial)
            if offset <= have < offset + len(piece) <= length:  # pieces cut again may overlap
                self._partial += piece[have - offset :]
            if len(self._partial) == length:
                self._done_msg = msg_id
                self._deliver(frame, kind, bytes(self._partial))
                self._partial = bytearray()

    def _deliver(self, last: Frame, kind: int, payload: bytes) -> None:
        self.stats.delivered += 1
        self._joiner.done = None  # the device moved past the last message in pieces: its tag may come again (L17)
        self._inbox.append(Frame(kind, payload, last.device_id, last.seq, last.ack))

    def _acknowledged(self, seq: int) -> None:
        if self._awaiting and seq == self._awaiting:
            self._awaiting = 0

    def _write_control(self, msg_type: MessageType, ack: int) -> None:
        """An ACK or NAK; three times while the line is noisy (L8), so that losing one costs no timeout."""
        wire = Frame(msg_type, b"", self.device_id, 0, ack).encode()
        self.port.write(wire + wire[1:] + wire[1:] if self._noisy else wire)

