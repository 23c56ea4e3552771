"""Compact pieces on a noisy line (docs/protocol.md section 4, L15-L18): negotiated in the SYNC
exchange (a reader that does not offer them gets version 1 frames), a codec that round-trips and
rejects every damaged piece, an end-to-end CRC-32C that catches the pieces a CRC-16 lets through
(no corrupted byte is ever delivered), and a sealed readout across 1 % corrupted + 1 % lost
bytes both ways with every record exactly once."""

from __future__ import annotations

import itertools
import re
import threading
from pathlib import Path

import numpy as np
from crc32c import crc32c

from pollsim.protocol import Client, DeviceServer, Frame, FrameDecoder, LineFaults, Link, LogEvent, MessageType, ResultSeal, ResultVerifier, cobs, serial_pair
from pollsim.protocol.compact import HEAD, Piece, PieceAck, crc16, decode_compact
from pollsim.protocol.line import PortEnd
from pollsim.protocol.link import FEATURE_FRAGMENTS, FEATURE_PIECES
from pollsim.protocol.pieces import PieceJoiner, PieceSender, PieceSize
from tests.protocol.fake_device import FakeScanner

PROTOCOL_DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
KEY = b"c" * 32


class Tap:
    """A device's port end that keeps a copy of every byte the device writes (before the noise),
    and may tamper with the pieces in it."""

    def __init__(self, end: PortEnd, tamper=None):
        self.end, self.tamper, self.written = end, tamper, bytearray()

    def __getattr__(self, name):
        return getattr(self.end, name)

    def __setattr__(self, name, value):
        if name == "timeout":
            self.end.timeout = value
        else:
            object.__setattr__(self, name, value)

    def write(self, data: bytes) -> int:
        data = bytes(data)
        if self.tamper is not None:
            data = b"\x00".join(self.tamper(run) for run in data.split(b"\x00"))
        self.written += data
        return self.end.write(data)

    def kinds(self) -> list[type]:
        return [type(item) for item in FrameDecoder().feed_any(bytes(self.written))]


def exchange(host_features: int, device_features: int, faults: LineFaults) -> tuple[Link, Link, Tap, bytes]:
    """A host asks for a 6000-byte reply over ``faults``; the links, the device's tap, the reply."""
    host_end, device_end = serial_pair(faults)
    tap = Tap(device_end)
    device = Link(tap, device_id=7, ack_timeout=0.02, role="device", features=device_features)  # type: ignore[arg-type]
    payload = np.random.default_rng(6).integers(0, 256, 6000, dtype=np.uint8).tobytes()

    def serve() -> None:
        for _ in range(2):  # a short reply first: the device learns the line is noisy
            request = device.receive(5.0)
            assert request is not None
            device.send(0x97, payload if request.msg_type == 0x17 else b"short")

    thread = threading.Thread(target=serve)
    thread.start()
    host = Link(host_end, ack_timeout=0.02, features=host_features)
    assert host.request(0x11, b"", timeout=60).payload == b"short"
    reply = host.request(0x17, b"", timeout=60)
    thread.join()
    return host, device, tap, reply.payload


def test_a_reader_that_does_not_offer_compact_pieces_gets_version_1_frames_even_on_a_noisy_line() -> None:
    host, device, tap, reply = exchange(FEATURE_FRAGMENTS, FEATURE_FRAGMENTS | FEATURE_PIECES, LineFaults(0.01, 0.01, seed=3))
    assert reply == np.random.default_rng(6).integers(0, 256, 6000, dtype=np.uint8).tobytes()
    assert device.stats.retransmissions > 0 and not device.pieces
    assert set(tap.kinds()) == {Frame}  # not one compact frame on the wire
    sync_ack = next(f for f in FrameDecoder().feed(bytes(tap.written)) if isinstance(f, Frame) and f.msg_type == MessageType.SYNC_ACK)
    assert sync_ack.payload[-1] == FEATURE_FRAGMENTS  # the device does not announce what was not asked for


def test_a_device_that_does_not_offer_them_sends_version_1_frames_to_a_reader_that_does() -> None:
    host, device, tap, reply = exchange(FEATURE_FRAGMENTS | FEATURE_PIECES, FEATURE_FRAGMENTS, LineFaults(0.01, 0.01, seed=3))
    assert len(reply) == 6000 and set(tap.kinds()) == {Frame} and host.stats.pieces == 0


def test_both_offering_them_a_noisy_line_carries_the_reply_in_compact_pieces() -> None:
    host, device, tap, reply = exchange(FEATURE_FRAGMENTS | FEATURE_PIECES, FEATURE_FRAGMENTS | FEATURE_PIECES, LineFaults(0.01, 0.01, seed=3))
    assert reply == np.random.default_rng(6).integers(0, 256, 6000, dtype=np.uint8).tobytes()
    assert device.pieces and Piece in tap.kinds() and host.stats.pieces > 6000 // 240
    assert host.stats.corrupt > 0 and device.stats.piece_acks > 0


def test_on_a_clean_line_the_reply_stays_in_version_1_frames() -> None:
    host, device, tap, reply = exchange(FEATURE_FRAGMENTS | FEATURE_PIECES, FEATURE_FRAGMENTS | FEATURE_PIECES, LineFaults())
    assert device.pieces and len(reply) == 6000 and set(tap.kinds()) == {Frame}


def test_compact_frames_round_trip_and_every_single_bit_error_or_lost_byte_is_rejected() -> None:
    assert crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value
    frames = [Piece(5, 0, HEAD.pack(0x97, 20, 3, 16, 0xDEADBEEF)), Piece(63, 2, bytes(range(16))), Piece(0, 65535, b"\x00"),
              PieceAck(5, False, 3, 0b1011), PieceAck(63, True, 65535, 0xFFFFFFFF)]  # fmt: skip
    for frame in frames:
        wire = frame.encode()
        wire = wire if wire[0] == 0 else b"\x00" + wire
        assert FrameDecoder().feed_any(wire) == [frame]
        assert decode_compact(cobs.decode(wire[1:-1])) == frame
        run = wire[1:-1]
        for i, bit in itertools.product(range(len(run)), range(8)):
            damaged = bytearray(run)
            damaged[i] ^= 1 << bit
            assert FrameDecoder().feed_any(b"\x00" + bytes(damaged) + b"\x00") != [frame]
        for i in range(len(run)):
            assert FrameDecoder().feed_any(b"\x00" + run[:i] + run[i + 1 :] + b"\x00") != [frame]
    assert FrameDecoder().feed(frames[1].encode()) != [frames[1]]  # a version 1 reader rejects them


def joiner_message(tag: int, payload: bytes, size: int = 16) -> list[Piece]:
    sender = PieceSender(0x97, payload, tag, 4, size)
    return [decode_compact(cobs.decode(wire[:-1])) for wire in sender.wires]  # type: ignore[misc]


def test_a_flood_of_damaged_pieces_that_pass_the_crc16_never_delivers_a_corrupted_message() -> None:
    """Pieces forged past the short check (right tag, right index, bytes changed): the joiner may
    lose time, never deliver a wrong byte; the genuine message, sent again, arrives whole."""
    rng = np.random.default_rng(14)
    payload = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    genuine = joiner_message(9, payload)
    joiner, delivered = PieceJoiner(), []
    for _ in range(300):  # rounds of the genuine pieces, each with forged ones mixed in
        for piece in genuine:
            for forged in range(rng.integers(0, 3)):
                data = bytearray(rng.integers(0, 256, len(piece.data), dtype=np.uint8).tobytes() if forged else piece.data)
                data[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
                target = Piece(9, piece.index if rng.random() < 0.8 else int(rng.integers(0, len(genuine) + 3)), bytes(data))
                if (whole := joiner.take(target)) is not None:
                    delivered.append(whole)
            if (whole := joiner.take(piece)) is not None:
                delivered.append(whole)
    assert joiner.rejected > 10  # the CRC-32C caught forged pieces again and again ...
    assert all(whole == (0x97, payload, 4) for whole in delivered)  # ... and nothing wrong got through
    for piece in genuine:  # the line clears: the message sent again arrives whole
        if (whole := joiner.take(piece)) is not None:
            delivered.append(whole)
    assert delivered and all(whole == (0x97, payload, 4) for whole in delivered)


def test_a_piece_that_fools_the_crc16_on_the_line_is_caught_end_to_end_and_the_reply_sent_again() -> None:
    """The device's line changes a byte of three pieces and mends their CRC-16: the reader's
    CRC-32C over the message refuses it, the device sends it again, and the reply is exact."""
    fooled = []

    def tamper(run: bytes) -> bytes:
        raw = cobs.decode(run) if run else b""
        if len(fooled) >= 3 or not raw or raw[0] & 0xC0 != 0x80 or raw[1:3] == b"\x00\x00":
            return run
        body = bytearray(raw[:-2])
        body[-1] ^= 0x10
        fooled.append(bytes(body))
        return cobs.encode(bytes(body) + crc16(bytes(body)).to_bytes(2, "big"))

    host_end, device_end = serial_pair(LineFaults(0.005, 0.005, seed=8))
    device = Link(Tap(device_end, tamper), device_id=7, ack_timeout=0.02, role="device")  # type: ignore[arg-type]
    device._noisy = 32  # as if it had seen the line damage frames: pieces from the first reply
    payload = np.random.default_rng(7).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    thread = threading.Thread(target=lambda: (device.receive(5.0), device.send(0x97, payload)))
    thread.start()
    host = Link(host_end, ack_timeout=0.02)
    reply = host.request(0x17, b"", timeout=60)
    thread.join()
    assert len(fooled) == 3 and host.stats.rejected >= 1
    assert reply.payload == payload and host.stats.delivered == 1


def test_the_piece_size_follows_the_losses_measured() -> None:
    sizes = {}
    for loss in (0.0, 0.02, 0.3, 0.9):
        estimate = PieceSize(loss, 23)
        sizes[loss] = estimate.best()
    assert sizes[0.0] == 240 and sizes[0.02] > sizes[0.3] > sizes[0.9] >= 4
    assert 12 <= sizes[0.3] <= 20  # 1 % + 1 % of 23 bytes: about 14 bytes of data a piece


def test_a_sealed_readout_across_one_percent_corrupt_and_lost_bytes_both_ways_comes_in_pieces_exactly_once() -> None:
    ballots = (np.random.default_rng(12).random((600, 30)) < 0.25).astype(np.uint8)
    scanner = FakeScanner(ballots)
    scanner.log = [LogEvent(i, f"2024-11-05T07:{i % 60:02d}:00-06:00", f"E{i:04d}", "success", f"event {i} " * 3)
                   for i in range(1, 301)]  # fmt: skip
    host_end, device_end = serial_pair(LineFaults(0.01, 0.01, seed=21))
    counter = itertools.count(1)
    server = DeviceServer(Link(device_end, device_id=7, ack_timeout=0.05), scanner, ResultSeal(KEY, counter.__next__))
    with server.in_background():
        client = Client(host_end, ack_timeout=0.05, verifier=ResultVerifier(KEY), deadline=120)
        assert client.identify().device_id == 7
        cvrs, paper, events = client.read_all_cvrs(), client.paper_records(), client.event_log()
        counters = client.counters()
    np.testing.assert_array_equal(cvrs, ballots)
    np.testing.assert_array_equal(paper, ballots)
    assert events == scanner.log and counters.public == len(ballots)
    stats = client.link.stats
    assert stats.pieces > 1000 and stats.corrupt > 50 and server.link.stats.retransmissions > 50


def doc_compact_examples() -> dict[str, tuple[str, bytes]]:
    """The ```text compact example blocks of docs/protocol.md: name -> (fields line, wire)."""
    examples = {}
    for block in re.findall(r"```text\ncompact example: (.*?)```", PROTOCOL_DOC.read_text(), re.S):
        name, fields, *lines = block.strip().splitlines()
        wire_at = next(i for i, line in enumerate(lines) if line.startswith("wire ("))
        wire = bytes.fromhex(" ".join(lines[wire_at + 1 :]))
        assert int(lines[wire_at].split("(")[1].split()[0]) == len(wire), name
        examples[name.strip()] = (fields, wire)
    return examples


def test_the_compact_examples_in_the_protocol_doc_are_what_the_codec_writes() -> None:
    examples = doc_compact_examples()
    payload = bytes.fromhex("00 00 00 00 00 00 00 03 00 02 00 04 01 00 00 01 00 01 00 01")
    expected = {
        "head": Piece(1, 0, HEAD.pack(0x97, 20, 3, 12, crc32c(payload))).encode(),
        "piece": Piece(1, 2, payload[12:]).encode(),
        "piece-ack": PieceAck(1, False, 1, 0b1).encode(),
        "piece-ack-delivered": PieceAck(1, True, 3, 0).encode(),
    }
    assert examples.keys() == expected.keys()
    for name, wire in expected.items():
        assert examples[name][1] == (wire if wire[0] == 0 else b"\x00" + wire), name
