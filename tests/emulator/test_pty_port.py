"""The device's serial connector on a real pty: paced to its baud rate, never blocked by a
reader that does not read, unplugged and plugged back in, and powered off."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import serial

from pollsim.emulator.pty import HostLeft, PtyPort
from pollsim.emulator.serve import Emulator, EmulatorSettings
from pollsim.protocol import Client, Frame, MessageType


@pytest.fixture
def test_deck_device():
    """A DRE in test mode with 600 test ballots, served on a real pty."""
    emulator = Emulator(EmulatorSettings("dre", test_mode=True))
    rng = np.random.default_rng(4)
    width = emulator.election.width
    for _ in range(600):
        emulator.service.cast((rng.random(width) < 0.3).astype(np.uint8), as_is=False)
    port = PtyPort()
    emulator.start(port)
    yield emulator, port
    emulator.close()
    port.close()


def test_the_emulator_survives_the_host_closing_and_reopening_the_port(test_deck_device) -> None:
    emulator, port = test_deck_device
    expected = emulator.service.cvrs()
    for _ in range(5):
        with serial.Serial(port.path, timeout=0.01) as host:
            assert Client(host).identify().device_id == 1
    for pause in (0.0, 0.05):  # unplugged in the middle of a readout, plugged back at once or later
        with serial.Serial(port.path, timeout=0.01) as host:
            next(Client(host, max_chunk=50).cvrs())
        time.sleep(pause)
    with serial.Serial(port.path, timeout=0.01) as host:
        np.testing.assert_array_equal(Client(host, max_chunk=50).read_all_cvrs(), expected)
    assert port.stats.hangups >= 1  # (a close and a reopen within microseconds may go unseen)


def test_a_port_nobody_has_opened_refuses_reads_and_writes_with_host_left() -> None:
    with PtyPort() as port:
        assert not port.wait_for_host(0.05)
        with pytest.raises(HostLeft):
            port.read(1)
        with pytest.raises(HostLeft):
            port.write(b"hello")
        assert port.stats.discarded == 5


def test_a_writer_never_blocks_on_a_reader_that_does_not_read() -> None:
    with PtyPort(output_limit=100_000) as port, serial.Serial(port.path, timeout=0.01):
        assert port.wait_for_host(1.0)
        start = time.monotonic()
        for _ in range(64):  # 4 MiB, 200 times what the kernel holds
            port.write(bytes(65536))
        assert time.monotonic() - start < 2.0
        assert port.stats.overflowed > 3_000_000


def test_output_is_paced_to_the_baud_rate_ten_bits_per_byte() -> None:
    baud, size = 230_400, 11_520  # half a second of line time
    with PtyPort(baud=baud) as port, serial.Serial(port.path, timeout=0.01) as host:
        assert port.wait_for_host(1.0)
        got = bytearray()
        start = time.monotonic()
        writer = threading.Thread(target=port.write, args=(bytes(range(256)) * (size // 256),))
        writer.start()
        while len(got) < size and time.monotonic() - start < 5:
            got += host.read(size - len(got))
        elapsed = time.monotonic() - start
        writer.join()
    assert len(got) == size
    assert 0.9 * size * 10 / baud < elapsed < 1.6 * size * 10 / baud  # never faster than the line


def test_closing_the_device_side_is_a_power_loss_the_reader_sees_as_an_unplug() -> None:
    port = PtyPort()
    host = serial.Serial(port.path, timeout=0.05)
    try:
        assert port.wait_for_host(1.0)
        port.write(b"\x00")
        assert host.read(1) == b"\x00"
        port.close()
        with pytest.raises(serial.SerialException):
            host.read(1)
    finally:
        host.close()


def test_the_symlink_is_replaced_atomically_and_removed_at_power_off(tmp_path) -> None:
    link = tmp_path / "pollsim-dre"
    link.symlink_to("/dev/null")  # left behind by an earlier run
    with PtyPort(link=link) as port:
        assert os.readlink(link) == port.path
        assert [p.name for p in tmp_path.iterdir()] == ["pollsim-dre"]
    assert not link.is_symlink()


def test_a_reader_that_left_mid_reply_does_not_confuse_the_next_one(test_deck_device) -> None:
    """Issue 14: a request (seq 1, ack 0) whose reply is never acknowledged used to be mistaken
    for the next reader's first request; the next reader's SYNC starts a fresh session."""
    emulator, port = test_deck_device
    with serial.Serial(port.path, timeout=0.01) as host:
        host.write(Frame(MessageType.IDENTIFY, b"", 0xFFFF, seq=1, ack=0).encode())
        host.read(400)  # part of the reply; no ACK
    with serial.Serial(port.path, timeout=0.01) as host:
        reader = Client(host)
        assert reader.counters().protective == 600  # a COUNTERS reply, not the old IDENTIFY one
        assert reader.status().test_mode
