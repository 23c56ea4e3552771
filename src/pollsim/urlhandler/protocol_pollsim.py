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
``drop`` (shares of the bytes damaged or lost, each way: pollsim's one fault model,
:class:`~pollsim.protocol.line.LineFaults`), ``baud`` (pace both ends; without it bytes move at
memory speed, whatever the port's ``baudrate``). The cable is
:func:`~pollsim.protocol.line.serial_pair`, as in the tests. Closing the port powers the device
off (a device with a ``state`` file comes back as it was at the next open). With a ``scenario``
and no ``speed`` the device lives its whole day while the port opens, so a reader always finds
the polls closed and the results final; with a ``speed`` it lives the day in real (scaled) time.

``pollsim://KIND?attach=NAME`` instead plugs a new cable into a device already running in this
process under NAME (:func:`attach`; pollsim's pytest plugin offers its devices so), which stays
on when the port closes.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from pollsim.emulator.keyfile import read_key
from pollsim.emulator.serve import KINDS, Emulator, EmulatorSettings
from pollsim.errors import PollsimError
from pollsim.protocol.line import LineFaults, PortEnd, serial_pair

__all__ = ["Serial", "attach"]

_ATTACHED: dict[str, Callable[[str], PortEnd]] = {}


def attach(name: str, connect: Callable[[str], PortEnd] | None) -> None:
    """Offer a device running in this process as ``pollsim://KIND?attach=NAME``: each open
    calls ``connect(url)`` for the host end of a new cable. ``None`` withdraws the name."""
    if connect is None:
        _ATTACHED.pop(name, None)
    else:
        _ATTACHED[name] = connect


_OPTIONS = {"scenario", "election", "seed", "speed", "state", "key", "device-id", "election-code",
            "test-mode", "corrupt", "drop", "baud", "ack-timeout"}  # fmt: skip


def settings_from_url(url: str) -> tuple[EmulatorSettings, LineFaults, int | None]:
    """(device settings, the line's faults, its baud rate) from a ``pollsim://`` URL; raises
    ValueError."""
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
    faults = LineFaults(number("corrupt", float) or 0.0, number("drop", float) or 0.0, settings.seed)
    return settings, faults, number("baud", int)


class Serial(SerialBase):
    """A pyserial port whose far end is an emulated pollsim device in this process."""

    is_open: bool

    def __init__(self, *args, **kwargs):
        self._emulator: Emulator | None = None
        self._host: PortEnd | None = None
        self.device_end: PortEnd | None = None
        """The device's end of the cable (``device_end.noise`` counts what the line did to its bytes)."""
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.portstr).query)
        if "attach" in query:
            connect = _ATTACHED.get(query["attach"][-1])
            if connect is None:
                raise SerialException(f"{self.portstr}: no device is attached as {query['attach'][-1]!r} in this process")
            self._host = connect(self.portstr)
            self.is_open = True
            return
        try:
            settings, faults, baud = settings_from_url(self.portstr)
            self._emulator = Emulator(settings)
        except (ValueError, PollsimError) as error:
            raise SerialException(f"{self.portstr}: {error}") from None
        self._host, self.device_end = serial_pair(faults, baud=baud or None, name=self.portstr)
        if settings.speed is None and self._emulator.day is not None:
            # "as fast as it can", in process: the day is over (polls closed) before the port opens,
            # so what a reader sees does not depend on thread scheduling
            self._emulator.live_election_day(threading.Event())
        self._emulator.start(self.device_end)
        self.is_open = True

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            if self._host is not None:
                self._host.close()
            if self._emulator is not None:
                self._emulator.close()
                self._emulator = None
        super().close()

    def _reconfigure_port(self, *args, **kwargs) -> None:
        """Line settings mean nothing in memory (pace with the ``baud`` option instead)."""

    def _end(self) -> PortEnd:
        if not self.is_open or self._host is None:
            raise PortNotOpenError()
        return self._host

    @property
    def in_waiting(self) -> int:
        return self._end().in_waiting

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: waits for that many, or ``timeout`` (None: for ever)."""
        end = self._end()
        end.timeout = self._timeout
        return end.read(size)

    def write(self, data) -> int:
        return self._end().write(bytes(data))

    def reset_input_buffer(self) -> None:
        self._end().reset_input_buffer()

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
