"""The link that adapts (issue 14, docs/protocol.md section 4): a session start nothing can be
confused with, a device that answers a repeated request and drops an abandoned reply, frames
that shrink on a bad line and grow back on a clean one, requests bounded by a deadline however
much a device babbles, and a reader that refuses a malformed identity with one line."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from pollsim.protocol import Client, DeviceServer, Frame, FrameDecoder, LineFaults, Link, LinkError, MessageType, serial_pair
from pollsim.protocol.line import PortEnd
from pollsim.protocol.messages import PayloadError
from tests.protocol.conftest import serving
from tests.protocol.fake_device import FakeScanner


def frames_from(end: PortEnd, wait: float = 0.2) -> list[Frame]:
    time.sleep(wait)
    return [f for f in FrameDecoder().feed(end.read(end.in_waiting)) if isinstance(f, Frame)]


def test_sync_is_answered_with_its_nonce_and_resets_the_devices_numbers() -> None:
    host_end, device_end = serial_pair()
    device = Link(device_end, device_id=7, role="device")
    host_end.write(Frame(0x11, b"", 7, seq=1, ack=0).encode())
    assert device.receive(timeout=0.1) is not None
    host_end.read(host_end.in_waiting)  # its ACK
    host_end.write(Frame(MessageType.SYNC, bytes.fromhex("cafe0001") + b"\x01", 0xFFFF).encode())
    host_end.write(Frame(0x11, b"", 7, seq=1, ack=0).encode())  # the same numbers, a new session
    assert device.receive(timeout=0.1) is not None  # delivered, not taken for a retransmission
    kinds = [(f.msg_type, f.payload) for f in frames_from(host_end, 0.0)]
    assert kinds[0] == (MessageType.SYNC_ACK, bytes.fromhex("cafe0001") + b"\x01")
    assert device.stats.duplicates == 0 and device.stats.syncs == 1


def test_data_before_the_sync_ack_is_stale_and_ignored() -> None:
    host_end, device_end = serial_pair()
    host = Link(host_end, ack_timeout=0.05)

    def device_side() -> None:
        device_end.timeout = 1.0
        sync = FrameDecoder().feed(device_end.read(len(Frame(MessageType.SYNC, bytes(5)).encode())))[0]
        device_end.write(Frame(0x90, b"old reply", 7, seq=1, ack=1).encode())  # from the last session
        device_end.write(Frame(MessageType.SYNC_ACK, sync.payload, 7).encode())

    thread = threading.Thread(target=device_side)
    thread.start()
    host.sync()
    thread.join()
    assert host.synced and host.stats.stale == 1 and not host._inbox


def test_a_repeated_request_brings_the_reply_again_and_a_new_one_drops_it() -> None:
    host_end, device_end = serial_pair()
    device = Link(device_end, device_id=7, ack_timeout=5.0, role="device")
    request = Frame(0x11, b"", 7, seq=1, ack=0).encode()
    host_end.write(request)
    assert device.receive(timeout=0.1) is not None
    with pytest.raises(LinkError, match="retransmissions"):
        device.send(0x91, b"reply", retries=0)  # nobody acknowledges: given up
    host_end.read(host_end.in_waiting)
    host_end.write(request)  # the host repeats its request: it never got the reply
    listener = threading.Thread(target=device.receive, args=(0.3,))
    listener.start()
    replies = [f for f in frames_from(host_end, 0.15) if f.msg_type == 0x91]
    assert replies and replies[0].payload == b"reply" and replies[0].ack == 1
    host_end.write(Frame(MessageType.ACK, b"", 7, 0, replies[0].seq).encode())
    listener.join()

    sender = threading.Thread(target=lambda: pytest.raises(LinkError, device.send, 0x92, b"long reply"))
    sender.start()
    time.sleep(0.05)
    host_end.write(Frame(0x15, b"", 7, seq=2, ack=0).encode())  # a new request: the host moved on
    sender.join(timeout=2)
    assert not sender.is_alive() and device.receive(timeout=0.1).msg_type == 0x15


def test_a_device_that_babbles_after_acknowledging_cannot_hold_the_reader_past_its_deadline() -> None:
    host_end, device_end = serial_pair()
    stop = threading.Event()

    def babble() -> None:
        device_end.timeout = 1.0
        sync = FrameDecoder().feed(device_end.read(len(Frame(MessageType.SYNC, bytes(5)).encode())))[0]
        device_end.write(Frame(MessageType.SYNC_ACK, sync.payload, 7).encode())
        request = FrameDecoder().feed(device_end.read(len(Frame(0x11, b"", 0xFFFF, 1).encode())))[0]
        device_end.write(Frame(MessageType.ACK, b"", 7, 0, request.seq).encode())
        while not stop.is_set():
            device_end.write(b"\x55" * 64)  # never a zero: never a frame, never silence
            time.sleep(0.005)

    thread = threading.Thread(target=babble)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(LinkError, match="no reply to type 0x11 within 1 s"):
            Link(host_end, ack_timeout=0.05, deadline=1.0).request(0x11)
    finally:
        stop.set()
        thread.join()
    assert time.monotonic() - started < 1.5


def test_frames_shrink_on_a_bad_line_and_grow_back_when_it_clears(ballots: np.ndarray) -> None:
    line = LineFaults(corrupt=0.004, drop=0.004, seed=3)
    with serving(FakeScanner(ballots), line, ack_timeout=0.03) as (client, server):
        np.testing.assert_array_equal(client.read_all_cvrs(), ballots)
        noisy = server.link.fragment
        for wire in (line.to_host, line.to_device):
            wire.corrupt = wire.drop = 0.0  # the line clears
        # the first reply after may still go in compact pieces (L15: the line was noisy within the
        # device's last 32 frames received); by the next one the device knows the line is clean
        np.testing.assert_array_equal(client.read_all_cvrs(), ballots)
        retransmitted = server.link.stats.retransmissions
        np.testing.assert_array_equal(client.read_all_cvrs(), ballots)
        clean = server.link.fragment
    assert noisy < 256 <= 1024 <= 4 * 1024 <= clean  # cut down from the first 1024, grown past it
    assert server.link.stats.retransmissions == retransmitted


def test_pieces_cut_again_after_a_lost_ack_are_joined_without_a_gap_or_a_double() -> None:
    """The device's piece arrived but its ACK did not: it cuts the same bytes again, smaller, under
    new sequence numbers; the reader keeps each byte once."""
    host_end, device_end = serial_pair(LineFaults(corrupt=0.01, drop=0.01, seed=11))
    payload = np.random.default_rng(2).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    device = Link(device_end, device_id=7, ack_timeout=0.02, role="device")
    served = threading.Thread(target=lambda: (device.receive(5.0), device.send(0x97, payload)))
    served.start()
    reply = Link(host_end, ack_timeout=0.02).request(0x17, b"", timeout=60)
    served.join()
    assert reply.payload == payload and device.stats.retransmissions > 0


@pytest.mark.parametrize("device_id", [0, 0xFFFF, 70_000, -1])
def test_an_identity_with_a_device_id_out_of_range_is_one_payload_error(device_id: int) -> None:
    host_end, device_end = serial_pair()
    payload = b'{"device_id":%d,"kind":"dre","model":"m","serial":"s","firmware":"f"}' % device_id
    server = DeviceServer(Link(device_end, device_id=7, ack_timeout=0.05), FakeScanner(np.zeros((1, 2), np.uint8)))
    server.answer = lambda request: (0x90, payload)  # type: ignore[method-assign]
    with server.in_background(), pytest.raises(PayloadError, match=f"device_id {device_id} is not in 1..65534"):
        Client(host_end, ack_timeout=0.05).identify()
