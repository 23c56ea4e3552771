"""The serial line between a county's reader and a voting device: its noise, and a cable in memory.

A service-port cable is two wires, one each way, and each can be bad: a long RS-232 run or a
cheap USB adapter loses a byte now and then (an overrun, a framing error the UART drops) or
delivers it with a bit flipped. :class:`LineFaults` is that noise, byte by byte and in both
directions, as on a real line: each byte is lost with probability ``drop``, else delivered
with one random bit flipped with probability ``corrupt``. The draws come from a seeded numpy
Generator, one stream per direction, and every byte makes the same draws whatever befalls it,
so the fate of the n-th byte each way depends only on the seed and a failing run can be
repeated. It is the one fault model of pollsim: the pty connector
(:class:`pollsim.emulator.pty.PtyPort`), the ``pollsim://`` URL handler and the tests use it.

:func:`serial_pair` is the cable in memory: two port ends, each with the part of
``serial.Serial`` that a :class:`~pollsim.protocol.link.Link` uses (``timeout``,
``in_waiting``, ``read``, ``write``), passing bytes between threads in order, through the
line's noise, optionally paced to a baud rate. No socket is involved: voting devices are
air-gapped (the county's reader is plugged into the device, docs/protocol.md section 1).

Nothing here is prescribed by statute; it is the physical layer under the results the county
reads for its §23-15-615 ballot accounting.
"""

from __future__ import annotations

import threading
import time

import numpy as np

__all__ = ["LineFaults", "Noise", "PortEnd", "serial_pair"]


class Noise:
    """The noise on one wire: what befalls each byte sent one way, and counts of it."""

    def __init__(self, corrupt: float, drop: float, rng: np.random.Generator):
        self.corrupt = corrupt
        self.drop = drop
        self.rng = rng
        self.bytes = 0
        """Bytes sent into this wire."""
        self.corrupted = 0
        """Bytes delivered with a bit flipped."""
        self.dropped = 0
        """Bytes lost."""

    def apply(self, data: bytes) -> bytes:
        """What arrives at the far end of the wire when ``data`` is sent into it."""
        self.bytes += len(data)
        if not (self.corrupt or self.drop) or not data:
            return data
        n = len(data)
        draws = self.rng.random((2, n))
        bits = self.rng.integers(0, 8, n, dtype=np.uint8)
        out = np.frombuffer(data, np.uint8).copy()
        flip = draws[0] < self.corrupt
        out[flip] ^= np.left_shift(np.uint8(1), bits[flip])
        keep = draws[1] >= self.drop
        self.corrupted += int((flip & keep).sum())
        self.dropped += n - int(keep.sum())
        return out[keep].tobytes()


class LineFaults:
    """A noisy line, both ways: each byte is lost with probability ``drop``, else has one random
    bit flipped with probability ``corrupt``. :attr:`to_device` and :attr:`to_host` are the two
    wires, each with its own random stream spawned from ``seed`` (None: fresh entropy)."""

    def __init__(self, corrupt: float = 0.0, drop: float = 0.0, seed: int | None = None):
        for name, rate in (("corrupt", corrupt), ("drop", drop)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{name} rate {rate} is not in [0, 1)")
        self.corrupt = corrupt
        self.drop = drop
        to_device, to_host = np.random.SeedSequence(seed).spawn(2)
        self.to_device = Noise(corrupt, drop, np.random.default_rng(to_device))
        """What the host sends (requests, its ACKs and NAKs)."""
        self.to_host = Noise(corrupt, drop, np.random.default_rng(to_host))
        """What the device sends (replies, its ACKs and NAKs)."""

    def __bool__(self) -> bool:
        return bool(self.corrupt or self.drop)

    def __repr__(self) -> str:
        return f"LineFaults(corrupt={self.corrupt}, drop={self.drop})"


class _Wire:
    """Bytes in flight one way along the cable in memory, in order."""

    def __init__(self, noise: Noise):
        self.noise = noise
        self._data = bytearray()
        self._ready = threading.Condition()
        self.closed = False

    def put(self, data: bytes) -> None:
        arrived = self.noise.apply(data)
        with self._ready:
            self._data += arrived
            self._ready.notify_all()

    def available(self) -> int:
        return len(self._data)

    def take(self, size: int, timeout: float | None) -> bytes:
        """Up to ``size`` bytes, waiting until that many are there, the wire closes or
        ``timeout`` passed (None: no limit)."""
        with self._ready:
            self._ready.wait_for(lambda: len(self._data) >= size or self.closed, timeout)
            out = bytes(self._data[:size])
            del self._data[:size]
            return out

    def clear(self) -> None:
        with self._ready:
            self._data.clear()

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify_all()


class PortEnd:
    """One end of a :func:`serial_pair`: what a Link (and an emulated device) needs of a port."""

    sessions = 1
    """Readers that opened the port: the cable in memory is plugged in once, for good."""

    def __init__(self, name: str, incoming: _Wire, outgoing: _Wire, baud: int | None):
        self.name = name
        self.timeout: float | None = None
        self._incoming, self._outgoing = incoming, outgoing
        self._rate = baud / 10 if baud else None  # bytes per second, 8N1

    @property
    def noise(self) -> Noise:
        """The noise on the wire this end sends into (its counts say what the line did)."""
        return self._outgoing.noise

    @property
    def in_waiting(self) -> int:
        return self._incoming.available()

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: blocks until that many arrived or ``timeout`` passed."""
        return self._incoming.take(size, self.timeout)

    def write(self, data: bytes) -> int:
        """Send ``data``; paced, it returns once the bytes took the line's time to leave."""
        if self._rate is not None:
            time.sleep(len(data) / self._rate)
        self._outgoing.put(bytes(data))
        return len(data)

    def reset_input_buffer(self) -> None:
        self._incoming.clear()

    def wait_for_host(self, timeout: float) -> bool:
        """Whether the cable is still connected (an emulated device asks before serving)."""
        if self._incoming.closed:
            time.sleep(timeout)
            return False
        return True

    def close(self) -> None:
        """Unplug the cable: both wires close and blocked readers return at once."""
        self._incoming.close()
        self._outgoing.close()


def serial_pair(
    faults: LineFaults | None = None, *, baud: int | None = None, name: str = "line"
) -> tuple[PortEnd, PortEnd]:
    """Two connected port ends, ``(host, device)``, with ``faults`` on both wires and, given
    ``baud``, each end's output paced to ``baud / 10`` bytes per second."""
    line = faults if faults is not None else LineFaults()
    to_device, to_host = _Wire(line.to_device), _Wire(line.to_host)
    return (
        PortEnd(f"{name}:host", incoming=to_host, outgoing=to_device, baud=baud),
        PortEnd(f"{name}:device", incoming=to_device, outgoing=to_host, baud=baud),
    )
