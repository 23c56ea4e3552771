"""The reliable link: over a line that loses and damages bytes both ways, every message arrives
exactly once and in order, or the sender says plainly which frame on which port failed."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from pollsim.protocol import BROADCAST_ID, Frame, FrameDecoder, LineFaults, Link, LinkError, MessageType, serial_pair
from pollsim.protocol.line import PortEnd


def frames_written_to(end: PortEnd) -> list[Frame]:
    return [f for f in FrameDecoder().feed(end.read(end.in_waiting)) if isinstance(f, Frame)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_message_arrives_exactly_once_and_in_order_over_a_bad_line(seed: int) -> None:
    rng = np.random.default_rng(seed)
    messages = [
        rng.integers(0, 3, rng.integers(0, 3000), dtype=np.uint8).tobytes() for _ in range(60)
    ]
    host_end, device_end = serial_pair(LineFaults(corrupt=0.005, drop=0.005, seed=seed))
    host = Link(host_end, ack_timeout=0.03)
    device = Link(device_end, device_id=7, ack_timeout=0.03, role="device")
    received: list[bytes] = []
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            frame = device.receive(timeout=0.01)
            if frame is not None:
                received.append(frame.payload)

    listener = threading.Thread(target=listen)
    listener.start()
    try:
        host.sync()
        for message in messages:
            host.send(0x40, message)
        time.sleep(0.1)  # let the last acknowledgements settle
    finally:
        done.set()
        listener.join()
    assert received == messages
    assert host.stats.retransmissions > 0
    assert device.stats.corrupt > 0 and device.stats.duplicates > 0


def test_a_retransmission_whose_ack_was_lost_is_acknowledged_again_but_delivered_once() -> None:
    host_end, device_end = serial_pair()
    device = Link(device_end, device_id=7)
    wire = Frame(0x40, b"cast", 7, seq=1, ack=0).encode()
    host_end.write(wire)
    host_end.write(wire)
    assert device.receive(timeout=0.05) == Frame(0x40, b"cast", 7, 1, 0)
    assert device.receive(timeout=0.05) is None
    acks = [(f.msg_type, f.ack) for f in frames_written_to(host_end)]
    assert acks == [(MessageType.ACK, 1), (MessageType.ACK, 1)]
    assert device.stats.duplicates == 1


def test_after_ten_retransmissions_the_link_error_names_the_port_and_the_frame() -> None:
    host_end, _ = serial_pair()  # nobody at the other end
    link = Link(host_end, ack_timeout=0.002, name="/dev/ttyUSB0")
    with pytest.raises(LinkError) as caught:
        link.send(MessageType.IDENTIFY)
    assert (caught.value.port, caught.value.seq) == ("/dev/ttyUSB0", 1)
    assert str(caught.value).startswith("/dev/ttyUSB0: frame seq 1:")
    assert link.stats.retransmissions == 10 and link.stats.abandoned == 1
    assert link.stats.timeouts == 11  # the eleventh ends it


def test_a_nak_brings_the_retransmission_at_once_not_after_the_timeout() -> None:
    host_end, device_end = serial_pair()
    device_end.timeout = 1.0
    link = Link(host_end, ack_timeout=30.0)
    sender = threading.Thread(target=link.send, args=(0x40, b"tally"))
    started = time.monotonic()
    sender.start()
    first = device_end.read(len(Frame(0x40, b"tally").encode()))
    device_end.write(Frame(MessageType.NAK).encode())
    again = device_end.read(len(first))
    device_end.write(Frame(MessageType.ACK, ack=1).encode())
    sender.join(timeout=5)
    assert again == first and not sender.is_alive()
    assert time.monotonic() - started < 5 and link.stats.retransmissions == 1


def test_a_run_of_bytes_that_is_no_frame_is_answered_with_a_nak_unless_it_is_short() -> None:
    host_end, device_end = serial_pair()
    device = Link(device_end, device_id=7)
    host_end.write(b"\x00a damaged ACK\x00")  # 14 bytes: a NAK for it could start a storm of NAKs (L5)
    assert device.receive(timeout=0.05) is None
    assert frames_written_to(host_end) == [] and device.stats.corrupt == 1
    host_end.write(b"\x00line noise as long as a damaged reply\x00")
    assert device.receive(timeout=0.05) is None
    # the line is noisy now: control frames go three times, so that losing one costs no timeout (L8)
    assert [f.msg_type for f in frames_written_to(host_end)] == [MessageType.NAK] * 3
    assert device.stats.corrupt == 2


def test_a_device_ignores_frames_for_other_devices_but_hears_broadcasts() -> None:
    host_end, device_end = serial_pair()
    device = Link(device_end, device_id=7)
    host_end.write(Frame(0x40, b"for 8", 8, seq=1).encode())
    host_end.write(Frame(0x40, b"for all", BROADCAST_ID, seq=2).encode())
    assert device.receive(timeout=0.05) == Frame(0x40, b"for all", BROADCAST_ID, 2, 0)
    assert device.stats.ignored == 1
    assert [f.ack for f in frames_written_to(host_end)] == [2]


def test_a_data_frame_that_names_our_frame_acknowledges_it() -> None:
    host_end, device_end = serial_pair()
    device_end.timeout = 1.0
    link = Link(host_end, ack_timeout=30.0)
    sender = threading.Thread(target=link.send, args=(0x11, b""))
    sender.start()
    request = FrameDecoder().feed(device_end.read(len(Frame(0x11).encode())))[0]
    device_end.write(Frame(0x91, b"reply", 7, seq=1, ack=request.seq).encode())  # ACK lost
    sender.join(timeout=5)
    assert not sender.is_alive() and link.stats.retransmissions == 0
    assert link.receive(timeout=0.05) == Frame(0x91, b"reply", 7, 1, 1)
