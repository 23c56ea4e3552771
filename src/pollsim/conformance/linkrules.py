"""Conformance checks of docs/protocol.md section 4, rules L1-L7: sessions and receiving.

Issue 14's fault is the one these checks were written around: a reader that sent IDENTIFY and
vanished left the device holding the reply, and the next reader's first request, numbered as
the first one was, got the old reply. The checks play that reader (and a repeated SYNC, a
damaged frame, a frame for another device on a shared line, a frame sent twice) and watch what
the device does, byte for byte.
"""

from __future__ import annotations

import secrets

from pollsim.conformance.framing import faulty, raw_wire
from pollsim.conformance.probe import FEATURE_FRAGMENTS, SYNC, CheckFailed, NotApplicable, Run
from pollsim.conformance.suite import Context, rule
from pollsim.protocol.frame import BROADCAST_ID
from pollsim.protocol.messages import MessageType

__all__: list[str] = []


def _is(kind: MessageType, ack: int | None = None):
    def match(run: Run) -> bool:
        frame = run.frame
        return frame is not None and frame.msg_type == kind and (ack is None or frame.ack == ack)

    return match


@rule("L1", "SYNC answered by SYNC_ACK echoing its nonce; a repeated SYNC answered again")
def sync_answered(ctx: Context) -> str:
    ident, probe = ctx.device(), ctx.probe
    nonce = secrets.randbits(32)
    wire = probe.frame(MessageType.SYNC, SYNC.pack(nonce, FEATURE_FRAGMENTS))
    answers = []
    for _ in range(2):  # the second as if the first SYNC_ACK had been lost
        probe.write(wire)
        run = probe.wait("SYNC_ACK", _is(MessageType.SYNC_ACK), 2.0)
        assert run.frame is not None
        frame = run.frame
        if len(frame.payload) != SYNC.size or SYNC.unpack(frame.payload)[0] != nonce:
            raise CheckFailed(f"SYNC_ACK payload {frame.payload.hex()} does not echo the nonce {nonce:08x}")
        if (frame.seq, frame.ack, frame.device_id) != (0, 0, ident.device_id):
            raise CheckFailed(f"SYNC_ACK with seq {frame.seq}, ack {frame.ack}, device {frame.device_id}")
        answers.append(frame.payload[4])
    probe.next_seq, probe.last_rx = 1, 0
    return f"nonce echoed twice; features {answers[0]:02x}"


@rule("L2", "SYNC abandons the reply awaiting acknowledgement and restarts the numbers")
def sync_abandons(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    seq, _ = probe.send(MessageType.IDENTIFY)
    old = probe.reply(seq)  # never acknowledged
    probe.sync()
    late = [run for run in probe.listen(1.5) if run.data]
    if late:
        assert late[0].frame is not None
        raise CheckFailed(f"after SYNC_ACK the device sent a data frame (type 0x{late[0].frame.msg_type:02x}, "
                          f"seq {late[0].frame.seq}): the reply of the session before")  # fmt: skip
    frame = probe.request(MessageType.STATUS)
    if frame.seq != 1:
        raise CheckFailed(f"the first reply after SYNC has sequence {frame.seq}, not 1")
    return f"reply seq {old.seq} dropped on SYNC; next reply numbered 1"


@rule("L3", "a new session's first request is not taken for a retransmission, nor answered stale")
def no_stale_reply(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    seq, _ = probe.send(MessageType.IDENTIFY)  # seq 1, ack 0
    probe.reply(seq)  # the reader vanishes without acknowledging it
    probe.sync()  # the next reader
    seq, _ = probe.send(MessageType.COUNTERS)  # seq 1, ack 0 again
    frame = probe.reply(seq)
    probe.ack(frame.seq)
    if frame.msg_type != MessageType.COUNTERS | 0x80 and frame.msg_type != MessageType.ERROR:
        raise CheckFailed(f"the new session's COUNTERS (seq 1, ack 0) got a type 0x{frame.msg_type:02x} reply: "
                          "the last session's reply (issue 14)")  # fmt: skip
    return "COUNTERS answered as COUNTERS after the reader before left a reply unacknowledged"


@rule("L4", "bytes before the first delimiter after opening dropped without NAK", required=False)
def port_opening(ctx: Context) -> str:
    raise NotApplicable("a receiver's rule when it opens its port: the device opened its port before the suite did")


@rule("L5", "a damaged run is NAKed, unless 16 bytes or fewer or while a reply awaits its ACK")
def damaged_nak(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    damaged = faulty(probe, 1)["bad_crc"]
    probe.write(damaged)
    probe.wait(f"NAK for a damaged {len(damaged) - 2}-byte run", _is(MessageType.NAK), 2.0)
    probe.listen(0.3)  # its copies (L8)
    probe.write(raw_wire(MessageType.ACK, b"", probe.device_id, 0, 1, crc_flip=1))  # a damaged ACK: 15 bytes
    if any(_is(MessageType.NAK)(run) for run in probe.listen(0.6)):
        raise CheckFailed("a damaged 15-byte run (an ACK) was NAKed: NAKs for NAKs storm on a noisy line")
    seq, _ = probe.send(MessageType.STATUS)
    frame = probe.reply(seq)
    probe.write(damaged)  # while the reply awaits its ACK
    naks = [run for run in probe.listen(0.6) if _is(MessageType.NAK)(run)]
    probe.ack(frame.seq)
    if naks:
        raise CheckFailed("a damaged run was NAKed while the device's reply awaited its ACK")
    return "NAK for a damaged frame; none for a damaged ACK, none while awaiting an ACK"


@rule("L6", "a frame for another device id is ignored; FFFF is accepted")
def other_device(ctx: Context) -> str:
    ident, probe = ctx.device(), ctx.probe
    ctx.session()
    other = 2 if ident.device_id == 1 else 1
    probe.write(probe.frame(MessageType.STATUS, b"", 1, 0, device=other))
    heard = [run for run in probe.listen(1.0) if run.data or _is(MessageType.ACK)(run) or _is(MessageType.NAK)(run)]
    if heard:
        assert heard[0].frame is not None
        raise CheckFailed(f"a frame for device {other} got a type 0x{heard[0].frame.msg_type:02x} frame back")
    probe.write(probe.frame(MessageType.STATUS, b"", 1, 0, device=BROADCAST_ID))
    frame = probe.reply(1)
    probe.ack(frame.seq)
    return f"frame for device {other} ignored; one for FFFF answered"


@rule("L7", "every data frame ACKed; a retransmission ACKed again, not delivered twice")
def ack_every_frame(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    seq, wire = probe.send(MessageType.COUNTERS)
    probe.wait(f"ACK naming sequence {seq}", _is(MessageType.ACK, seq), 2.0)
    first = probe.reply(seq)
    probe.ack(first.seq)
    probe.listen(0.2)
    probe.write(wire)  # the same frame again, as if its ACK had been lost
    probe.wait("ACK of the repeated frame", _is(MessageType.ACK, seq), 2.0)
    again = probe.poll(lambda run: run.data and run.frame is not None and run.frame.ack == seq, 2.0)
    if again is not None and again.frame is not None:
        probe.ack(again.frame.seq)
        probe.last_rx = again.frame.seq
        if again.frame.payload != first.payload:
            raise CheckFailed("the repeated request was delivered a second time: a different reply came")
    probe.listen(0.2)
    # same sequence, other acknowledgement: a new frame, to be delivered
    probe.write(probe.frame(MessageType.STATUS, b"", seq, probe.last_rx))
    frame = probe.reply(seq)
    probe.ack(frame.seq)
    if frame.msg_type not in (MessageType.STATUS | 0x80, MessageType.ERROR):
        raise CheckFailed(f"a frame with the same sequence but another acknowledgement got type 0x{frame.msg_type:02x}: not delivered")
    return "ACK for each data frame; the repeat not delivered again; a new (seq, ack) pair delivered"
