"""A deliberately broken cable: a relay between a device's pty and a new pty for the host that
forwards every byte as it came, except the frames one fault changes. With it a conforming device
(the emulator) becomes a non-conforming one in exactly one way, so that the conformance suite
must fail exactly the rules that fault breaks. Real ptys, no mocks."""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable

from pollsim.protocol import Frame, MessageType
from pollsim.protocol.cobs import FrameError
from pollsim.protocol.frame import decode_frame

Rewrite = Callable[[str, Frame | None, bytes], list[bytes]]
"""(direction "to_device"/"to_host", the run's frame or None, the run) -> runs to forward."""


def _frame(run: bytes) -> Frame | None:
    try:
        return decode_frame(run) if run else None
    except FrameError:
        return None


def inner(frame: Frame) -> bytes:
    """A frame's run: its wire bytes without the delimiters."""
    return frame.encode()[1:-1]


class Relay:
    """Host side: :attr:`path`. Device side: the device's pty path, opened here."""

    def __init__(self, device_path: str, rewrite: Rewrite):
        self._master, self._held = os.openpty()
        tty.setraw(self._held)
        self.path = os.ttyname(self._held)
        self._device = os.open(device_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self._device)
        self.rewrite = rewrite
        self._buffers = {"to_device": bytearray(), "to_host": bytearray()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="relay", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        ends = {self._master: ("to_device", self._device), self._device: ("to_host", self._master)}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(ends), [], [], 0.05)
            for fd in ready:
                direction, out = ends[fd]
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    continue
                buffer = self._buffers[direction]
                buffer += data
                *runs, rest = bytes(buffer).split(b"\x00")
                buffer[:] = rest
                for run in runs:
                    for piece in self.rewrite(direction, _frame(run), run):
                        os.write(out, piece + b"\x00")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for fd in (self._master, self._held, self._device):
            os.close(fd)


def stale_after_sync() -> Rewrite:
    """The issue-14 fault: the relay keeps the device's last reply the host did not
    acknowledge and, when a new session starts, slips it in right after the SYNC_ACK."""
    held: dict[str, Frame | None] = {"frame": None}
    acked: set[int] = set()

    def rewrite(direction: str, frame: Frame | None, run: bytes) -> list[bytes]:
        if frame is None:
            return [run]
        if direction == "to_device" and frame.msg_type == MessageType.ACK:
            acked.add(frame.ack)
            if held["frame"] is not None and held["frame"].seq == frame.ack:
                held["frame"] = None
        elif direction == "to_host" and frame.msg_type == MessageType.SYNC_ACK:
            stale, held["frame"] = held["frame"], None
            acked.clear()
            return [run] if stale is None else [run, inner(stale)]
        elif direction == "to_host" and frame.msg_type not in (MessageType.ACK, MessageType.NAK) and frame.seq not in acked:
            held["frame"] = frame
        return [run]

    return rewrite


def forged_counters() -> Rewrite:
    """A man in the middle who changes one byte of the MAC of every sealed COUNTERS reply."""

    def rewrite(direction: str, frame: Frame | None, run: bytes) -> list[bytes]:
        if direction == "to_host" and frame is not None and frame.msg_type == MessageType.COUNTERS | 0x80 and frame.payload.startswith(b"PSR2"):
            payload = bytearray(frame.payload)
            payload[100] ^= 0x01
            return [inner(Frame(frame.msg_type, bytes(payload), frame.device_id, frame.seq, frame.ack))]
        return [run]

    return rewrite


def no_naks() -> Rewrite:
    """A device whose NAKs never reach the host."""

    def rewrite(direction: str, frame: Frame | None, run: bytes) -> list[bytes]:
        if direction == "to_host" and frame is not None and frame.msg_type == MessageType.NAK:
            return []
        return [run]

    return rewrite


def deaf_to_naks() -> Rewrite:
    """A device that never hears the host's NAKs: it retransmits only when its timer runs out."""

    def rewrite(direction: str, frame: Frame | None, run: bytes) -> list[bytes]:
        if direction == "to_device" and frame is not None and frame.msg_type == MessageType.NAK:
            return []
        return [run]

    return rewrite
