"""Conformance checks of docs/protocol.md section 4, rules L8-L14: noisy lines, sending,
fragments and the device's duties.

These are the rules that make a readout survive a bad RS-232 run on election night: the device
retransmits a reply whose ACK was lost (with backoff), at once on a NAK, at once when the host
repeats its request, and drops it when the host has moved on; after damage it triples its
ACKs; after a SYNC offering fragments it cuts long replies into FRAGMENT frames. Each check
withholds an ACK, sends a NAK, repeats a frame or cuts its own request, and times the answer.
"""

from __future__ import annotations

from pollsim.conformance.framing import faulty
from pollsim.conformance.probe import FEATURE_FRAGMENTS, FRAGMENT, CheckFailed, NotApplicable, Probe, Run
from pollsim.conformance.suite import Context, rule
from pollsim.protocol.frame import Frame
from pollsim.protocol.messages import MessageType
from pollsim.protocol.records import ChunkRequest

__all__: list[str] = []

AT_ONCE = 0.6
"""Seconds within which "at once" must happen (L11, L14): under the 1 s the doubling timer of
a device that ignored the NAK reaches after a few timeouts, over a loaded machine's delays."""
COMPACT = 0x02
"""SYNC feature bit: compact pieces (docs/protocol.md L15, optional)."""


def _status_reply(probe: Probe) -> tuple[int, bytes, Frame, Run]:
    """A STATUS request and its reply, not acknowledged: (the request's seq, its bytes on the wire,
    the reply, the reply's run as it came off the line)."""
    seq, wire = probe.send(MessageType.STATUS)
    frame = probe.reply(seq)
    return seq, wire, frame, next(run for run in reversed(probe.runs) if run.frame == frame)


def _copy_of(run: Run):
    return lambda other: other.data and other.wire == run.wire


def _doubled(probe: Probe, run: Run) -> bool:
    """Whether ``run`` was closed by two zeros (L8): one more than its delimiter and the next
    frame's opening zero, if a frame followed."""
    index = next(i for i, other in enumerate(probe.runs) if other is run)
    followed = index + 1 < len(probe.runs)
    return run.zeros - (1 if followed else 0) >= 2


@rule("L8", "on a noisy line: ACKs sent three times, data frames closed by two zeros")
def noisy_line(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    probe.write(faulty(probe, 1)["bad_crc"])  # a damaged run: the line is noisy now
    probe.listen(0.3)
    start = len(probe.runs)
    seq, _, frame, run = _status_reply(probe)
    probe.ack(frame.seq)
    probe.listen(0.3)
    acks = [r for r in probe.runs[start:] if r.frame is not None and r.frame.msg_type == MessageType.ACK and r.frame.ack == seq]
    if len(acks) < 3:
        raise CheckFailed(f"after a damaged run the request was ACKed {len(acks)} time(s), not three")
    if not _doubled(probe, run):
        raise CheckFailed("after a damaged run the reply was closed by one zero, not two")
    return f"{len(acks)} ACKs; the reply closed by two zeros"


@rule("L9", "data frames numbered 1 after SYNC, then one more each; acknowledgement = last received")
def numbering(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    first = probe.request(MessageType.IDENTIFY)
    second = probe.request(MessageType.STATUS)
    if (first.seq, second.seq) != (1, 2):
        raise CheckFailed(f"replies after SYNC numbered {first.seq}, {second.seq}; expected 1, 2")
    if (first.ack, second.ack) != (1, 2):
        raise CheckFailed(f"replies acknowledge {first.ack}, {second.ack}; the requests were 1, 2")
    return "replies 1 and 2 acknowledging requests 1 and 2"


@rule("L10", "a reply whose ACK was lost is sent again, identical, with backoff")
def retransmission(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    _, _, frame, first = _status_reply(probe)
    copies = [probe.wait("retransmission of the unacknowledged reply", _copy_of(first), 8.0) for _ in range(2)]
    probe.ack(frame.seq)
    after = [run for run in probe.listen(1.0) if _copy_of(first)(run)]
    if len(after) > 1:
        raise CheckFailed(f"{len(after)} more copies after the ACK: the device does not stop retransmitting")
    gaps = [copies[0].at - first.at, copies[1].at - copies[0].at]
    return f"identical copies after {gaps[0]:.3f} s and {gaps[1]:.3f} s more; none after the ACK"


@rule("L11", "a NAK brings the awaiting frame again at once, without spending retries")
def nak_retransmits(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    _, _, frame, first = _status_reply(probe)
    for n in range(12):  # more NAKs than the 10 timeouts a sender may spend
        probe.nak()
        if probe.poll(_copy_of(first), AT_ONCE) is None:
            probe.ack(frame.seq)
            raise CheckFailed(f"no copy of the reply within {AT_ONCE} s of NAK {n + 1}")
    probe.ack(frame.seq)
    return "12 NAKs, each answered with the reply at once"


@rule("L12", "a request asked again after its reply is sent the same reply again")
def asked_again(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    first, again = probe.ask_twice(MessageType.COUNTERS)  # the host asks again: identical frame
    if (again.msg_type, again.payload) != (first.msg_type, first.payload):
        raise CheckFailed("asked again, the device sent a different reply (delivered the request twice)")
    return "the same reply again"


@rule("L13", "FRAGMENT frames only when offered; long replies cut and joined; host's pieces joined")
def fragments(ctx: Context) -> str:
    ctx.session(0)
    probe = ctx.probe
    plain = ctx.ask(MessageType.IDENTIFY)
    if any(run.frame is not None and run.frame.msg_type == MessageType.FRAGMENT for run in probe.runs):
        raise CheckFailed("FRAGMENT frames sent to a host that did not offer them")
    if not ctx.session(FEATURE_FRAGMENTS) & FEATURE_FRAGMENTS:
        return "the device does not join fragments, and sent none unoffered"
    start = len(probe.runs)
    joined = ctx.ask(MessageType.IDENTIFY)
    pieces = [run.frame for run in probe.runs[start:] if run.frame is not None and run.frame.msg_type == MessageType.FRAGMENT]
    if joined != plain:
        raise CheckFailed("the IDENTIFY reply joined from FRAGMENTs differs from the one sent whole")
    if len(plain) > 24 and not pieces:
        raise CheckFailed(f"a {len(plain)}-byte reply sent as one frame though fragments were agreed")
    for frame in pieces:
        kind, number, _, _ = FRAGMENT.unpack_from(frame.payload)
        if (kind, number) != (MessageType.IDENTIFY | 0x80, 1):
            raise CheckFailed(f"FRAGMENT header names type 0x{kind:02x}, message {number}; expected 0x90, message 1")
    request = ChunkRequest(0, 1).to_payload()  # the host's own pieces, overlapping as if cut again
    probe.send(MessageType.FRAGMENT, FRAGMENT.pack(MessageType.EVENT_LOG, 2, 6, 0) + request[:4])
    seq, _ = probe.send(MessageType.FRAGMENT, FRAGMENT.pack(MessageType.EVENT_LOG, 2, 6, 2) + request[2:])
    frame = probe.reply(seq)
    probe.ack(frame.seq)
    if frame.msg_type not in (MessageType.EVENT_LOG | 0x80, MessageType.ERROR):
        raise CheckFailed(f"an EVENT_LOG request sent in two pieces got type 0x{frame.msg_type:02x}")
    return f"IDENTIFY in {len(pieces)} FRAGMENTs, joined equal; a request in two overlapping pieces answered"


@rule("L14", "a repeated request brings the reply at once; a new request abandons it")
def device_duties(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    seq, wire, frame, first = _status_reply(probe)
    probe.write(wire)  # the host repeats its request: it lacks the reply
    if probe.poll(_copy_of(first), AT_ONCE) is None:
        raise CheckFailed(f"a repeated request did not bring the awaiting reply within {AT_ONCE} s")
    probe.last_rx = 0  # the host moved on without the reply: a new request that does not acknowledge it
    seq2, _ = probe.send(MessageType.COUNTERS, ack=0)
    new = probe.reply(seq2)
    probe.ack(new.seq)
    if new.msg_type not in (MessageType.COUNTERS | 0x80, MessageType.ERROR):
        raise CheckFailed(f"the new request got type 0x{new.msg_type:02x}")
    stale = [run for run in probe.listen(1.5) if run.data and run.frame is not None and run.frame.ack == seq]
    if stale:
        raise CheckFailed("the abandoned reply was still retransmitted after the new request was answered")
    return "repeat answered at once; the old reply dropped on a new request"


@rule("L15", "compact pieces (feature 02) agreed only when the SYNC offered both 01 and 02")
def compact_offer(ctx: Context) -> str:
    ctx.device()
    alone = ctx.probe.sync(COMPACT)[0]
    both = ctx.probe.sync(FEATURE_FRAGMENTS | COMPACT)[0]
    if alone & COMPACT:
        raise CheckFailed("SYNC_ACK says 02 (compact pieces) to a SYNC that offered 02 without 01")
    return "compact pieces offered when both were" if both & COMPACT else "the device does not send compact pieces"


def _compact(number: str, what: str) -> None:
    @rule(number, what, required=False)
    def check(ctx: Context) -> str:
        raise NotApplicable("compact pieces (optional, docs/protocol.md L15-L18) are not checked by this suite")


_compact("L16", "compact pieces: head and pieces, sent again on a PIECE_ACK gap or timeout")
_compact("L17", "compact pieces: the host joins one tag at a time, CRC-32C over the message")
_compact("L18", "compact pieces: PIECE_ACK after each read, never NAKed")
