"""Conformance checks of docs/protocol.md sections 2 and 3: COBS framing and the frame layout.

A reader at the county trusts nothing that is not a whole, intact frame. These checks send a
device frames with extra delimiters and frames that break each check of section 3 (a flipped
CRC bit, an unknown version, a lying length field, bad COBS, a run too short, a run longer than
any frame), and hold every byte it sends back to the layout: canonical COBS, version 1, its own
device id on everything, control frames numbered 0. F1-F3 are numbers of this suite (the
specification numbers only its link and sealing rules).
"""

from __future__ import annotations

import struct

import crc32c

from pollsim.conformance.probe import CheckFailed, Probe
from pollsim.conformance.suite import Context, rule
from pollsim.protocol import cobs
from pollsim.protocol.messages import ErrorCode, MessageType, RequestRefused
from pollsim.protocol.records import ChunkRequest

__all__ = ["faulty", "raw_wire"]

_HEADER = struct.Struct(">BHBHHH")


def raw_wire(kind: int, payload: bytes, device: int, seq: int, ack: int, *, version: int = 1,
             length: int | None = None, crc_flip: int = 0) -> bytes:  # fmt: skip
    """A frame's wire bytes with any header field (or the CRC) as given, right or wrong."""
    body = _HEADER.pack(version, device, kind, seq, ack, len(payload) if length is None else length) + payload
    crc = crc32c.crc32c(body) ^ crc_flip
    return b"\x00" + cobs.encode(body + crc.to_bytes(4, "big")) + b"\x00"


def faulty(probe: Probe, seq: int) -> dict[str, bytes]:
    """One run for each fault of section 3, each a STATUS or CVRS request numbered ``seq + i``
    that a device which failed to reject it would answer."""
    chunk = ChunkRequest(0, 1).to_payload()
    dev, ack = probe.device_id, probe.last_rx
    return {
        "bad_crc": raw_wire(MessageType.CVRS, chunk, dev, seq, ack, crc_flip=1),
        "bad_version": raw_wire(MessageType.CVRS, chunk, dev, seq + 1, ack, version=2),
        "length_mismatch": raw_wire(MessageType.CVRS, chunk, dev, seq + 2, ack, length=5),
        "bad_cobs": b"\x00\x05\x01\x02\x00",
        "too_short": b"\x00\x06\x01\x02\x03\x04\x05\x00",
        "oversize": b"\x00" + b"\x11" * 70_000 + b"\x00",
    }


@rule("F1", "framing: COBS runs between zeros, canonical, empty runs ignored")
def cobs_framing(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    probe.write(b"\x00\x00\x00")  # empty runs: no error, nothing to answer
    ctx.ask(MessageType.IDENTIFY)
    try:  # a long reply: COBS blocks of 254 bytes
        ctx.ask(MessageType.EVENT_LOG, ChunkRequest(0, 50).to_payload())
    except RequestRefused as refusal:
        if refusal.code != ErrorCode.UNSUPPORTED:
            raise
    for run in probe.runs:
        if run.error is not None:
            raise CheckFailed(f"the device sent a run that is no frame ({run.error})")
        if cobs.encode(cobs.decode(run.wire)) != run.wire:
            raise CheckFailed(f"a {len(run.wire)}-byte run is not the canonical COBS encoding")
    return f"{len(probe.runs)} runs, all frames in canonical COBS"


@rule("F2", "frame layout: version 1, the device's own id on every frame, control frames numbered 0")
def frame_layout(ctx: Context) -> str:
    ident = ctx.device()
    ctx.session()
    probe = ctx.probe
    seq, _ = probe.send(MessageType.STATUS)
    probe.reply(seq)
    probe.ack(probe.last_rx)
    probe.listen(0.2)
    for run in probe.runs:
        frame = run.frame
        if frame is None:
            raise CheckFailed(f"the device sent a run that is no frame ({run.error})")
        if frame.device_id != ident.device_id:
            raise CheckFailed(f"type 0x{frame.msg_type:02x} frame stamped with device id {frame.device_id}, IDENTIFY said {ident.device_id}")
        control = not run.data
        if control and frame.seq != 0:
            raise CheckFailed(f"control frame type 0x{frame.msg_type:02x} carries sequence {frame.seq}, not 0")
        if not control and frame.seq == 0:
            raise CheckFailed(f"data frame type 0x{frame.msg_type:02x} carries sequence 0")
        if frame.msg_type == MessageType.ACK and frame.ack != seq:
            raise CheckFailed(f"ACK names sequence {frame.ack}, the only data frame sent was {seq}")
    return f"{len(probe.runs)} frames: version 1, device id {ident.device_id}, control frames seq 0"


@rule("F3", "faulty runs rejected: bad CRC, version, length, COBS, too short, oversize")
def faults_rejected(ctx: Context) -> str:
    ctx.session()
    probe = ctx.probe
    runs = faulty(probe, 1)
    for wire in runs.values():
        probe.write(wire)
    probe.listen(0.5)
    answered = [run.frame.ack for run in probe.runs if run.data and run.frame is not None]
    names = list(runs)
    if answered:
        which = names[answered[0] - 1] if 1 <= answered[0] <= 3 else f"ack {answered[0]}"
        raise CheckFailed(f"the device answered a faulty frame ({which})")
    probe.next_seq = 4
    ctx.ask(MessageType.STATUS)  # and still answers a good one
    return "all six faults rejected; the next request answered"
