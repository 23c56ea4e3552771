"""Sending and joining compact pieces: selective repeat over a noisy line (L15-L18).

The clerk of :mod:`pollsim.protocol.compact` dictating a long tally over a crackling telephone:
:class:`PieceSender` is the clerk (which groups to read next, which to repeat), :func:`send_pieces`
the dictation itself on a :class:`~pollsim.protocol.link.Link`, :class:`PieceJoiner` the listener
who files each group once and adds the whole up at the end, :class:`PieceSize` the judgement of
how many figures to read at a time on this line. docs/protocol.md section 4, rules L15-L18.
Nothing here is prescribed by statute: it carries the results the county's §23-15-615 accounting
uses.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import crc32c

from pollsim.protocol.cobs import FrameError
from pollsim.protocol.compact import HEAD, MAX_PIECE, OVERHEAD, WINDOW, Piece, PieceAck
from pollsim.protocol.frame import Frame
from pollsim.protocol.linkstate import LinkError

if TYPE_CHECKING:
    from pollsim.protocol.link import Link

__all__ = ["PieceJoiner", "PieceSender", "PieceSize", "observe", "on_compact", "on_piece", "on_piece_ack", "send_pieces"]

_BURST = 128
"""Bytes written at once: the line stays busy while the acknowledgements are read."""


class PieceSize:
    """The piece size that carries the most data on the line measured: from the share of pieces
    lost, the chance ``1 - exp(-rate)`` that a byte is damaged, and from it the data size
    ``d`` that maximises ``d / (d + 7) * exp(-rate * (d + 7))`` (L16)."""

    def __init__(self, loss: float = 0.3, size: float = 23.0):
        self.loss = loss
        """Share of piece transmissions lost lately (an average over about 16)."""
        self.wire = size
        """Their average size on the wire."""

    def outcome(self, lost: bool, wire: int) -> None:
        self.loss += (float(lost) - self.loss) / 16
        self.wire += (wire - self.wire) / 16

    @property
    def rate(self) -> float:
        """Damaged bytes per byte sent (the exponent, per byte, of the line's survival)."""
        return -math.log(1.0 - min(self.loss, 0.95)) / self.wire

    def best(self) -> int:
        rate = self.rate
        if rate <= 1e-6:
            return MAX_PIECE
        best = (OVERHEAD + math.sqrt(OVERHEAD * OVERHEAD + 4 * OVERHEAD / rate)) / 2 - OVERHEAD
        return max(4, min(MAX_PIECE, round(best)))


class PieceSender:
    """One message in pieces, sent with selective repeat (L16): which to send next, and what
    each acknowledgement settles."""

    def __init__(self, msg_type: int, payload: bytes, tag: int, ack: int, size: int):
        head = HEAD.pack(msg_type, len(payload), ack, size, crc32c.crc32c(payload))
        parts = [head] + [payload[i : i + size] for i in range(0, len(payload), size)]
        self.tag, self.size, self.ack = tag, size, ack
        self.wires = [Piece(tag, i, part).encode() for i, part in enumerate(parts)]
        count = len(self.wires)
        self.held = [False] * count
        self.sent_at = [0.0] * count
        self.sent_no = [0] * count
        """The transmission number of each piece's last sending (0: never sent)."""
        self.tries = [0] * count
        self.lost: list[int] = []
        """Pieces known lost (a later one arrived), to send again first."""
        self.next_new = 0
        self.known = 0
        """Pieces the receiver holds in order, as it last said."""
        self.delivered = False
        self._count = 0

    def burst(self, now: float, rto: float) -> tuple[list[int], int]:
        """Pieces to send now, up to :data:`_BURST` bytes: the lost, those unacknowledged for
        ``rto``, then new ones within the window; and how many of them timed out."""
        out: list[int] = []
        size = timed_out = 0
        for i in self.lost:
            if not self.held[i] and i not in out:
                out.append(i)
                size += len(self.wires[i])
        self.lost = []
        for i in range(self.known, self.next_new):
            if size >= _BURST:
                break
            if not self.held[i] and i not in out and now - self.sent_at[i] >= rto:
                out.append(i)
                size += len(self.wires[i])
                timed_out += 1
        while size < _BURST and self.next_new < min(len(self.wires), self.known + 1 + WINDOW):
            out.append(self.next_new)
            size += len(self.wires[self.next_new])
            self.next_new += 1
        return out, timed_out

    def sent(self, pieces: list[int], at: float) -> None:
        for i in pieces:
            self._count += 1
            self.sent_at[i], self.sent_no[i] = at, self._count
            self.tries[i] += 1

    def acknowledged(self, ack: PieceAck) -> list[int]:
        """Take the receiver's report; return the pieces it newly confirms. Pieces it no longer
        holds (it found the message damaged, L17) are to be sent again."""
        if ack.tag != self.tag:
            return []
        if ack.delivered:
            self.delivered = True
            return [i for i in range(len(self.wires)) if not self.held[i]]
        newly, high = [], 0
        for i in range(min(self.known, ack.held), min(self.next_new, ack.held + 1 + WINDOW)):  # below: held already
            has = i < ack.held or (i > ack.held and bool(ack.bitmap >> (i - ack.held - 1) & 1))
            if has and not self.held[i]:
                newly.append(i)
                high = max(high, self.sent_no[i])
            elif self.held[i] and not has:
                self.lost.append(i)  # dropped by the receiver: the message failed its check
            self.held[i] = has
        self.known = ack.held
        self.lost += [i for i in range(ack.held, self.next_new) if not self.held[i] and 0 < self.sent_no[i] < high]
        return newly


class PieceJoiner:
    """The receiving end: joins the pieces of one message at a time and checks it whole (L17)."""

    def __init__(self) -> None:
        self.tag: int | None = None
        self.head: tuple[int, int, int, int, int] | None = None
        """(type, length, acknowledgement, piece size, CRC-32C) from piece 0."""
        self.pieces: dict[int, bytes] = {}
        self.held = 0
        self.done: tuple[int, int] | None = None
        """(tag, pieces) of the message delivered last."""
        self.last: int | None = None
        """The tag to report on next."""
        self.rejected = 0

    @property
    def joining(self) -> bool:
        """Whether a message is partly here."""
        return self.tag is not None and bool(self.pieces or self.head)

    def take(self, piece: Piece) -> tuple[int, bytes, int] | None:
        """File one intact piece; the message (type, payload, acknowledgement) once it is whole
        and its CRC-32C agrees, else None."""
        self.last = piece.tag
        if self.done is not None and piece.tag == self.done[0] and piece.tag != self.tag:
            return None  # a piece of the message delivered last, sent again: acknowledged only
        if piece.tag != self.tag:
            self.tag, self.head, self.pieces, self.held = piece.tag, None, {}, 0
        if piece.index == 0:
            if len(piece.data) != HEAD.size or piece.data[5] == 0:
                return None
            head = HEAD.unpack(piece.data)
            if self.head is not None and head != self.head:
                self.pieces, self.held = {}, 0  # another head for this tag: start again with it
            self.head = head
            self.pieces = {i: p for i, p in self.pieces.items() if self._fits(i, p)}
            self.pieces[0] = piece.data
        elif (self.head is None and piece.index <= self.held + 2 * WINDOW) or self._fits(piece.index, piece.data):
            self.pieces[piece.index] = piece.data
        while self.held in self.pieces:
            self.held += 1
        return self._whole()

    def _fits(self, index: int, data: bytes) -> bool:
        """Whether piece ``index`` has the size the head says it must (1..count)."""
        if self.head is None:
            return True
        length, size = self.head[1], self.head[3]
        count = -(-length // size)
        return 1 <= index <= count and len(data) == min(size, length - (index - 1) * size)

    def _whole(self) -> tuple[int, bytes, int] | None:
        if self.head is None or self.tag is None:
            return None
        msg_type, length, ack, size, crc = self.head
        count = -(-length // size) + 1
        if self.held < count:
            return None
        payload = b"".join(self.pieces[i] for i in range(1, count))
        if crc32c.crc32c(payload) != crc:
            self.rejected += 1  # a piece fooled the CRC-16: drop everything, ask for it all again
            self.head, self.pieces, self.held = None, {}, 0
            return None
        self.done, self.tag, self.head, self.pieces, self.held = (self.tag, count), None, None, {}, 0
        return msg_type, payload, ack

    def report(self) -> PieceAck | None:
        """The acknowledgement to send for the last piece taken (None: none taken)."""
        if self.last is None:
            return None
        if self.done is not None and self.last == self.done[0] and self.last != self.tag:
            return PieceAck(self.last, True, self.done[1], 0)
        bitmap = sum(1 << k for k in range(WINDOW) if self.held + 1 + k in self.pieces)
        return PieceAck(self.last, False, self.held, bitmap)


def send_pieces(link: Link, msg_type: int, payload: bytes, tag: int, deadline: float | None,
                retries: int | None) -> None:  # fmt: skip
    """Send one message as pieces on ``link`` until the receiver says it has it whole (L16);
    :class:`LinkError` when the peer moves on, at ``deadline``, or after ``retries`` timeouts in
    a row that brought no acknowledgement."""
    tx, restarts = PieceSender(msg_type, payload, tag, link._last_delivered, link.piece_size.best()), 0
    link.fragment = max(24, min(link.fragment, len(tx.wires[-1]) + 16))  # the frame size is small now
    link.piece_tx, link._superseded, silent = tx, False, 0
    heard = link.stats.piece_acks + link.stats.corrupt  # an acknowledgement, or a damaged one: the host is there
    wait = link.timer.rto
    try:
        while not tx.delivered:
            now = time.monotonic()
            if link._superseded:
                raise LinkError(link.name, 0, "abandoned: the peer moved on to a new request or session")
            if deadline is not None and now >= deadline:
                raise LinkError(link.name, 0, f"pieces of type 0x{msg_type:02x} not acknowledged by the deadline")
            best = link.piece_size.best()
            if (tx.size > 2 * best and tx.next_new < len(tx.wires) and 4 * sum(tx.held) < len(tx.wires)
                    and tx.sent_no[tx.next_new - 1] > 2 * WINDOW and restarts < 3):  # fmt: skip
                link._msg_id = link._msg_id % 0xFFFF + 1  # far too long for this line: the message anew, cut shorter
                tx, restarts = PieceSender(msg_type, payload, link._msg_id & 0x3F, tx.ack, best), restarts + 1
                link.piece_tx = tx
            pieces, timed_out = tx.burst(now, wait)
            if pieces:
                if timed_out and link.stats.piece_acks + link.stats.corrupt == heard:
                    silent += 1
                    if retries is not None and silent > retries:
                        raise LinkError(link.name, 0, f"pieces of type 0x{msg_type:02x} not acknowledged "
                                                      f"after {retries} retransmissions")  # fmt: skip
                    wait = min(2 * wait, 8 * link.ack_timeout)
                again = [i for i in pieces if tx.tries[i]]
                for i in again:
                    link.piece_size.outcome(True, len(tx.wires[i]))
                link.stats.sent += len(pieces) - len(again)
                link.stats.retransmissions += len(again)
                link.stats.timeouts += timed_out
                if again:
                    link._noisy = 32
                link.port.write(b"\x00" + b"".join(tx.wires[i] for i in pieces))
                tx.sent(pieces, time.monotonic())
            if link.port.in_waiting or not pieces:
                link._pump()
            if link.stats.piece_acks + link.stats.corrupt != heard:
                heard, silent, wait = link.stats.piece_acks + link.stats.corrupt, 0, link.timer.rto
    finally:
        link.piece_tx = None


def observe(link: Link, item: Frame | Piece | PieceAck | FrameError) -> None:
    """What the line does to the frames a device receives, before it sends pieces: its best
    guess of what the line will do to them (L16)."""
    if link.role == "device" and link.piece_tx is None:
        if isinstance(item, FrameError):
            link.piece_size.outcome(True, max(item.size + 1, 8))
        elif isinstance(item, Frame):
            link.piece_size.outcome(False, len(item.payload) + 17)


def on_compact(link: Link, item: Piece | PieceAck) -> None:
    """An intact compact frame: a piece for a host, an acknowledgement for a device."""
    if isinstance(item, Piece):
        on_piece(link, item)
    else:
        link._noisy = max(link._noisy - 1, 0)
        on_piece_ack(link, item)


def on_piece(link: Link, piece: Piece) -> None:
    """A compact piece: only a host that offered them takes it (L15, L17)."""
    if link.role != "host" or not link.features & 0x02 or link._nonce is not None:
        return
    joiner = link._joiner
    link.stats.pieces += 1
    rejected = joiner.rejected
    whole = joiner.take(piece)
    link.stats.rejected += joiner.rejected - rejected
    if piece.index == 0 and joiner.head is not None:
        link._acknowledged(joiner.head[2])  # the reply implies that the request arrived (L7)
    if whole is not None:
        link.stats.delivered += 1
        link._inbox.append(Frame(whole[0], whole[1], link.device_id, 0, whole[2]))


def on_piece_ack(link: Link, ack: PieceAck) -> None:
    """An intact acknowledgement of pieces: settle what it confirms, learn the round trip."""
    link.stats.piece_acks += 1
    tx = link.piece_tx
    if tx is None:
        return
    now = time.monotonic()
    for i in tx.acknowledged(ack):
        link.piece_size.outcome(False, len(tx.wires[i]))
        if tx.tries[i] == 1:
            link.timer.sample(now - tx.sent_at[i])
