"""Fixtures for the protocol tests: a fake device served over an in-memory cable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from pollsim.protocol import Client, DeviceServer, LineFaults, Link, serial_pair
from tests.protocol.fake_device import FakeScanner


@pytest.fixture
def ballots() -> np.ndarray:
    """1000 ballots of 40 choices, about one choice in five marked."""
    return (np.random.default_rng(11).random((1000, 40)) < 0.2).astype(np.uint8)


@pytest.fixture
def scanner(ballots: np.ndarray) -> FakeScanner:
    return FakeScanner(ballots)


@pytest.fixture
def served(scanner: FakeScanner) -> Iterator[tuple[Client, DeviceServer]]:
    """A client talking to ``scanner`` through a clean in-memory cable."""
    with serving(scanner) as pair:
        yield pair


@contextmanager
def serving(
    handler: FakeScanner,
    faults: LineFaults | None = None,
    ack_timeout: float = 0.05,
) -> Iterator[tuple[Client, DeviceServer]]:
    """A DeviceServer for ``handler`` in a thread, and a Client on the other end of the cable."""
    host, device = serial_pair(faults)
    link = Link(device, device_id=handler.device_id, ack_timeout=ack_timeout)
    server = DeviceServer(link, handler)
    with server.in_background():
        yield Client(host, ack_timeout=ack_timeout), server
