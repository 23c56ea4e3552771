"""``pollsim://KIND?option=value&...``: an emulated voting device inside the reader's own process.

Like pyserial's ``loop://``, there is no port to open: the bytes the host writes go to an
emulated device (:class:`pollsim.emulator.serve.Emulator`) served by a
:class:`~pollsim.protocol.server.DeviceServer` in a thread of this process, and its replies come
back through :meth:`Serial.read`. A test team's reader that takes a pyserial URL talks to it
unchanged::

    import pollsim, serial

    port = serial.serial_for_url(
        "pollsim://dre?scenario=scenarios/training-precinct.yaml&seed=1&corrupt=0.01", timeout=0.1)

``KIND`` is ``dre``, ``scanner``, ``bmd`` or ``pollbook``. Options, as for ``pollsim serve``:
``scenario``, ``election`` (paths), ``seed``, ``speed``, ``state`` (memory file), ``key`` (hex or
a file), ``device-id``, ``election-code``, ``test-mode`` (1/0), and for the line: ``corrupt``,
``drop`` (shares of the bytes the device sends), ``baud`` (pace the device's output; without it
bytes move at memory speed, whatever the port's ``baudrate``). Closing the port powers the device
off (a device with a ``state`` file comes back as it was at the next open). With a ``scenario``
and no ``speed`` the device lives its whole day while the port opens, so a reader always finds
the polls closed and the results final; with a ``speed`` it lives the day in real (scaled) time.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from pathlib import Path

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from pollsim.errors import PollsimError
from pollsim.emulator.keyfile import read_key
from pollsim.emulator.pty import LineFaults, PortStats
from pollsim.emulator.serve import KINDS, Emulator, EmulatorSettings

__all__ = ["Serial"]


class _Pipe:
    """Bytes in flight one way along the in-process cable."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ready = threading.Condition()
        self.closed = False

    def put(self, data: bytes) -> None:
        with self._ready:
            self._data += data
            self._ready.notify_all()

    def available(self) -> int:
        return len(self._data)

    def take(self, size: int, timeout: float | None) -> bytes:
        """Up to ``size`` bytes, waiting until that many are there or ``timeout`` passed."""
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


class _DeviceEnd:
    """The device's connector on the in-process cable: what a Link needs of a port."""

    sessions = 1

    def __init__(self, incoming: _Pipe, outgoing: _Pipe, faults: LineFaults, baud: int | None, name: str):
        self.name = name
        self.timeout: float | None = None
        self.faults = faults
        self.stats = PortStats()
        self._incoming, self._outgoing = incoming, outgoing
        self._rate = baud / 10 if baud else None

    @property
    def in_waiting(self) -> int:
        return self._incoming.available()

    def read(self, size: int = 1) -> bytes:
        return self._incoming.take(size, self.timeout)

    def write(self, data: bytes) -> int:
        self.stats.sent += len(data)
        if self._rate is not None:
            time.sleep(len(data) / self._rate)  # the bytes take the line's time to leave
        self._outgoing.put(self.faults.apply(bytes(data), self.stats))
        return len(data)

    def wait_for_host(self, timeout: float) -> bool:
        if self._incoming.closed:
            time.sleep(timeout)
            return False
        return True


_OPTIONS = {"scenario", "election", "seed", "speed", "state", "key", "device-id", "election-code",
            "test-mode", "corrupt", "drop", "baud", "ack-timeout"}  # fmt: skip


def settings_from_url(url: str) -> tuple[EmulatorSettings, dict[str, float | int | None]]:
    """(device settings, line settings) from a ``pollsim://`` URL; raises ValueError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "pollsim":
        raise ValueError(f"not a pollsim:// URL: {url!r}")
    kind = parts.netloc or parts.path.lstrip("/")
    if kind not in KINDS:
        raise ValueError(f"device kind {kind!r} is not one of {', '.join(KINDS)}")
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(query) - _OPTIONS)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(_OPTIONS))}")
    path = lambda k: Path(query[k]) if k in query else None  # noqa: E731
    number = lambda k, f: f(query[k]) if k in query else None  # noqa: E731
    settings = EmulatorSettings(
        kind=kind, scenario=path("scenario"), election=path("election"), seed=number("seed", int),
        speed=number("speed", float), state=path("state"),
        key=read_key(query["key"]) if "key" in query else None,
        number=number("device-id", int) or 1, election_code=query.get("election-code"),
        test_mode=query.get("test-mode", "0").lower() in ("1", "true", "yes"),
        ack_timeout=number("ack-timeout", float) or 0.25,
    )  # fmt: skip
    line = {"corrupt": number("corrupt", float) or 0.0, "drop": number("drop", float) or 0.0,
            "baud": number("baud", int), "seed": settings.seed}  # fmt: skip
    return settings, line


class Serial(SerialBase):
    """A pyserial port whose far end is an emulated pollsim device in this process."""

    def __init__(self, *args, **kwargs):
        self._emulator: Emulator | None = None
        self._to_device = _Pipe()
        self._to_host = _Pipe()
        self.device_end: _DeviceEnd | None = None
        """The device's end of the cable (its ``stats`` count what the line did)."""
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        try:
            settings, line = settings_from_url(self.portstr)
            faults = LineFaults(line["corrupt"], line["drop"], line["seed"])
            self._emulator = Emulator(settings)
        except (ValueError, PollsimError) as error:
            raise SerialException(f"{self.portstr}: {error}") from None
        self._to_device, self._to_host = _Pipe(), _Pipe()
        self.device_end = _DeviceEnd(self._to_device, self._to_host, faults, line["baud"], self.portstr)
        if settings.speed is None and self._emulator.day is not None:
            # "as fast as it can", in process: the day is over (polls closed) before the port opens,
            # so what a reader sees does not depend on thread scheduling
            self._emulator.live_election_day(threading.Event())
        self._emulator.start(self.device_end)
        self.is_open = True

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            self._to_device.close()
            self._to_host.close()
            if self._emulator is not None:
                self._emulator.close()
                self._emulator = None
        super().close()

    def _reconfigure_port(self, *args, **kwargs) -> None:
        """Line settings mean nothing in memory (pace with the ``baud`` option instead)."""

    @property
    def in_waiting(self) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        return self._to_host.available()

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: waits for that many, or ``timeout`` (None: for ever)."""
        if not self.is_open:
            raise PortNotOpenError()
        return self._to_host.take(size, self._timeout)

    def write(self, data) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        data = bytes(data)
        self._to_device.put(data)
        return len(data)

    def reset_input_buffer(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        self._to_host.clear()

    def reset_output_buffer(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()

    @property
    def out_waiting(self) -> int:
        return 0

    def _update_break_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True
