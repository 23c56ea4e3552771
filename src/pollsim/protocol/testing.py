"""Test benches for the protocol: a bad cable in memory, and a pseudo-terminal to plug into.

:func:`lossy_pair` is a serial cable with a loose connector, in memory: two port ends that
pass bytes between threads, losing, duplicating, corrupting and delaying whole writes as a
seeded numpy Generator decides. The fate of the n-th write in each direction depends only on
the seed, never on the clock, so a failing run can be repeated. Bytes keep their order, as on a
real line. No socket is involved: voting devices are air-gapped.

:class:`PseudoTerminal` is the device end of a Linux pty: serve a device on it, and open
``path`` with pyserial from the host side, exactly as a reader would open a real serial port.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import termios
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass

import numpy as np

__all__ = ["ChannelEnd", "Impairments", "PseudoTerminal", "lossy_pair"]


@dataclass(frozen=True, slots=True)
class Impairments:
    """How badly a channel treats each write (each probability applies independently)."""

    loss: float = 0.0
    """Probability that a write never arrives."""
    duplication: float = 0.0
    """Probability that a write arrives twice."""
    corruption: float = 0.0
    """Probability that one bit of a write (of each copy) is flipped."""
    max_delay: float = 0.0
    """Each write is held back for a uniform random 0..max_delay seconds (order is kept)."""


class _Direction:
    """Bytes in flight one way: chunks with the time each may be read."""

    def __init__(self, rng: np.random.Generator, impairments: Impairments):
        self._rng = rng
        self._impairments = impairments
        self._chunks: deque[tuple[float, bytes]] = deque()
        self._ready = threading.Condition()
        self._last_release = 0.0

    def put(self, data: bytes) -> None:
        """Pass one write on; every write makes the same draws, whatever befalls it."""
        imp = self._impairments
        with self._ready:
            lost, doubled, *corrupted = self._rng.random(4) < (
                imp.loss,
                imp.duplication,
                imp.corruption,
                imp.corruption,
            )
            bits = self._rng.integers(0, 8 * max(len(data), 1), size=2)
            delays = self._rng.uniform(0.0, imp.max_delay, size=2)
            if lost or not data:
                return
            for copy in range(2 if doubled else 1):
                chunk = _flip(data, int(bits[copy])) if corrupted[copy] else data
                release = max(self._last_release, time.monotonic() + delays[copy])
                self._chunks.append((release, chunk))
                self._last_release = release
            self._ready.notify_all()

    def available(self) -> int:
        now = time.monotonic()
        with self._ready:
            return sum(len(chunk) for release, chunk in self._chunks if release <= now)

    def take(self, size: int, timeout: float | None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        out = bytearray()
        with self._ready:
            while len(out) < size:
                now = time.monotonic()
                if self._chunks and self._chunks[0][0] <= now:
                    release, chunk = self._chunks.popleft()
                    wanted = size - len(out)
                    out += chunk[:wanted]
                    if len(chunk) > wanted:
                        self._chunks.appendleft((release, chunk[wanted:]))
                    continue
                if deadline is not None and now >= deadline:
                    break
                wake = self._chunks[0][0] if self._chunks else None
                if deadline is not None:
                    wake = deadline if wake is None else min(wake, deadline)
                self._ready.wait(None if wake is None else max(wake - now, 0.0))
        return bytes(out)


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


class ChannelEnd:
    """One end of a :func:`lossy_pair`: the part of ``serial.Serial`` that a Link uses."""

    def __init__(self, name: str, incoming: _Direction, outgoing: _Direction):
        self.name = name
        self.timeout: float | None = None
        self._incoming = incoming
        self._outgoing = outgoing

    @property
    def in_waiting(self) -> int:
        return self._incoming.available()

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: blocks until that many arrived or ``timeout`` passed."""
        return self._incoming.take(size, self.timeout)

    def write(self, data: bytes) -> int:
        self._outgoing.put(bytes(data))
        return len(data)


def lossy_pair(
    seed: int, impairments: Impairments = Impairments(), name: str = "lossy"
) -> tuple[ChannelEnd, ChannelEnd]:
    """Two connected port ends, ``(host, device)``; each direction has its own random stream."""
    to_device, to_host = (
        _Direction(np.random.default_rng(child), impairments)
        for child in np.random.SeedSequence(seed).spawn(2)
    )
    return (
        ChannelEnd(f"{name}:host", incoming=to_host, outgoing=to_device),
        ChannelEnd(f"{name}:device", incoming=to_device, outgoing=to_host),
    )


class PseudoTerminal:
    """The device (master) end of a new pty in raw mode; the host opens :attr:`path`.

    The pty's other end is held open too, so the device end keeps working (no EIO) while no
    host has the port open, as a real device's port would.
    """

    def __init__(self) -> None:
        self._fd, self._held = os.openpty()
        tty.setraw(self._held)
        self.path = os.ttyname(self._held)
        """Device path for the host, such as /dev/pts/7."""
        self.name = self.path
        self.timeout: float | None = None

    @property
    def in_waiting(self) -> int:
        count: int = struct.unpack("i", fcntl.ioctl(self._fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        return count

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: blocks until that many arrived or ``timeout`` passed."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        out = bytearray()
        while len(out) < size:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not select.select([self._fd], [], [], left)[0]:
                break
            out += os.read(self._fd, size - len(out))
        return bytes(out)

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        return len(data)

    def close(self) -> None:
        os.close(self._fd)
        os.close(self._held)

    def __enter__(self) -> PseudoTerminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
