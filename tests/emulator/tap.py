"""A tap on the serial cable: someone between the device and the county's reader.

The tap opens the device's port as a host would, offers the reader a new pty of its own, and
relays bytes both ways, rewriting the device's frames as it likes before passing them on with a
fresh CRC-32C (the CRC guards against noise, not against people). Only the seals of
docs/protocol.md section 8 protect the results from it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import serial

from pollsim.protocol import Frame, FrameDecoder
from pollsim.protocol.testing import PseudoTerminal


class CableTap:
    """Relays between the device on ``device_path`` and a reader on :attr:`path`; every intact
    frame from the device goes through ``rewrite`` first."""

    def __init__(self, device_path: str, rewrite: Callable[[Frame], Frame]):
        self.rewrite = rewrite
        self._device = serial.Serial(device_path, timeout=0.01)
        self._reader = PseudoTerminal()
        self._reader.timeout = 0.01
        self.path = self._reader.path
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._upstream, daemon=True),
            threading.Thread(target=self._downstream, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _upstream(self) -> None:
        while not self._stop.is_set():
            data = self._reader.read(4096)
            if data:
                self._device.write(data)

    def _downstream(self) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            data = self._device.read(max(self._device.in_waiting, 1))
            for item in decoder.feed(data):
                if isinstance(item, Frame):
                    self._reader.write(self.rewrite(item).encode())

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._device.close()
        self._reader.close()


def change_payload(frame: Frame, payload: bytes) -> Frame:
    return dataclasses.replace(frame, payload=payload)
