"""Protocol benchmarks: how much of a pty's raw speed a county reader gets as cast vote records.

Run with ``.venv/bin/pytest benchmarks/test_protocol_bench.py --benchmark-only``. Both
benchmarks serve a device from a DeviceServer thread on the device end of a real pty and read it
with the Client through pyserial, the way a reader opens a serial port.

* goodput: CVR bytes delivered per second by the protocol (framing, CRC, COBS, ACKs,
  stop-and-wait chunks) against raw bulk bytes per second through a fresh pty, measured
  before each timed round so that both see the same load on the machine; best against best;
  target: at least 25 %.
* 10,000 CVRs of 40 choices, read unpaced: target under one second.
"""

from __future__ import annotations

import os
import threading
import time
import tty
from collections.abc import Iterator
from typing import cast

import numpy as np
import pytest
import serial

from pollsim.protocol import Client, DeviceHandler, DeviceServer, Identity, Link
from pollsim.protocol.testing import PseudoTerminal

WIDTH = 40  # choices per ballot: the columns of the CVR matrix
RAW_BYTES = 16 * 2**20


def marks(rows: int, seed: int) -> np.ndarray:
    """Cast vote records with about one choice in five marked (most bytes are zero)."""
    return (np.random.default_rng(seed).random((rows, WIDTH)) < 0.2).astype(np.uint8)


def raw_pty_throughput(total: int = RAW_BYTES) -> float:
    """Bytes per second of bulk writes through a new pty to a reader thread."""
    block = bytes(range(256)) * 256
    master, slave = os.openpty()
    tty.setraw(slave)

    def write() -> None:
        sent = 0
        while sent < total:
            sent += os.write(master, block)

    writer = threading.Thread(target=write)
    start = time.perf_counter()
    writer.start()
    received = 0
    while received < total:
        received += len(os.read(slave, 1 << 20))
    elapsed = time.perf_counter() - start
    writer.join()
    os.close(master)
    os.close(slave)
    return total / elapsed


class Scanner:
    """Just the part of a device these benchmarks ask for: who it is and its records."""

    def __init__(self) -> None:
        self.records = marks(0, seed=0)

    def identify(self) -> Identity:
        return Identity(7, "scan-single", "bench", "SN7", "1.0")

    def cvrs(self) -> np.ndarray:
        return self.records


@pytest.fixture(scope="module")
def device() -> Scanner:
    return Scanner()


@pytest.fixture(scope="module")
def reader(device: Scanner) -> Iterator[Client]:
    """A Client on a pty whose other end a DeviceServer thread serves."""
    with PseudoTerminal() as pty:
        server = DeviceServer(Link(pty, device_id=7), cast(DeviceHandler, device))
        with server.in_background(poll=0.05), serial.Serial(pty.path, timeout=0.01) as port:
            client = Client(port)
            client.identify()
            yield client


def test_protocol_goodput_is_at_least_a_quarter_of_raw_pty_throughput(
    benchmark, reader: Client, device: Scanner
) -> None:
    device.records = marks(50_000, seed=1)
    raw: list[float] = []

    def measure_raw() -> None:
        """Untimed, before each round: raw and protocol runs share the machine's mood."""
        raw.append(raw_pty_throughput())

    matrix = benchmark.pedantic(reader.read_all_cvrs, setup=measure_raw, rounds=8)
    np.testing.assert_array_equal(matrix, device.records)
    goodput = device.records.nbytes / benchmark.stats.stats.min
    ratio = goodput / max(raw)
    benchmark.extra_info.update(
        raw_mb_s=round(max(raw) / 1e6, 1),
        goodput_mb_s=round(goodput / 1e6, 1),
        ratio=round(ratio, 3),
    )
    print(f"\nraw pty {max(raw) / 1e6:.1f} MB/s, goodput {goodput / 1e6:.1f} MB/s: {ratio:.0%}")
    assert ratio >= 0.25


def test_reading_ten_thousand_cvrs_takes_under_a_second(
    benchmark, reader: Client, device: Scanner
) -> None:
    device.records = marks(10_000, seed=2)
    matrix = benchmark.pedantic(reader.read_all_cvrs, rounds=10, warmup_rounds=1)
    np.testing.assert_array_equal(matrix, device.records)
    assert benchmark.stats.stats.max < 1.0
