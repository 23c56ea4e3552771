"""A tap on the serial cable: someone between the device and the county's reader.

The tap opens the device's port as a host would, offers the reader a new pty of its own, and
relays frames both ways, rewriting them as it likes before passing them on with a fresh CRC-32C
(the CRC guards against noise, not against people). By default it also strips the fragments
feature from the reader's SYNC, so that every reply crosses it as one frame it can rewrite
whole. Only the seals of docs/protocol.md section 8 protect the results from it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable

import serial

from pollsim.protocol import Frame, FrameDecoder, MessageType
from pollsim.protocol.auth import ENVELOPE_SIZE
from pollsim.protocol.testing import PseudoTerminal

Rewrite = Callable[[Frame], Frame]


def no_fragments(frame: Frame) -> Frame:
    """The reader's SYNC, offering no fragments (a downgrade the seals do not care about)."""
    if frame.msg_type == MessageType.SYNC and len(frame.payload) == 5:
        return dataclasses.replace(frame, payload=frame.payload[:4] + b"\x00")
    return frame


class CableTap:
    """Relays between the device on ``device_path`` and a reader on :attr:`path`; every intact
    frame from the device goes through ``rewrite`` first, every one from the reader through
    ``upstream``."""

    def __init__(self, device_path: str, rewrite: Rewrite, upstream: Rewrite = no_fragments):
        self.rewrite = rewrite
        self.upstream = upstream
        self._device = serial.Serial(device_path, timeout=0.01)
        self._reader = PseudoTerminal()
        self._reader.timeout = 0.01
        self.path = self._reader.path
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._relay, args=(self._reader, self._device, self._up), daemon=True),
            threading.Thread(target=self._relay, args=(self._device, self._reader, self._down), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _up(self, frame: Frame) -> Frame:
        return self.upstream(frame)

    def _down(self, frame: Frame) -> Frame:
        return self.rewrite(frame)

    def _relay(self, source, sink, rewrite: Rewrite) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            data = source.read(max(source.in_waiting, 1))
            for item in decoder.feed(data):
                if isinstance(item, Frame):
                    sink.write(rewrite(item).encode())

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._device.close()
        self._reader.close()


def change_payload(frame: Frame, payload: bytes) -> Frame:
    return dataclasses.replace(frame, payload=payload)


def change_identity(frame: Frame, **changes: object) -> Frame:
    """An IDENTIFY reply with fields changed (and the seal's payload length and digest left as
    the device wrote them: a tap does not have the key)."""
    if frame.msg_type != MessageType.IDENTIFY | 0x80:
        return frame
    envelope, identity = frame.payload[:ENVELOPE_SIZE], json.loads(frame.payload[ENVELOPE_SIZE:])
    for key, value in changes.items():
        if value is None:
            identity.pop(key, None)
        else:
            identity[key] = value
    return change_payload(frame, envelope + json.dumps(identity, separators=(",", ":")).encode())
