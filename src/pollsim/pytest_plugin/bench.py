"""The test bench behind pollsim's pytest fixtures: emulated devices a test starts, and stops.

A county's test team puts a device on the bench, plugs its reader into the service port, lives
(part of) an election day on it, and unplugs everything when the test is over. :class:`Bench`
does this for a pytest test: :meth:`Bench.start` builds an emulated DRE, scanner, BMD or
pollbook (:class:`~pollsim.emulator.serve.Emulator`, the firmware and service port of ``pollsim
serve``), serves it on a real pseudo-terminal (:class:`~pollsim.emulator.pty.PtyPort`, reached
through a stable symlink) and, through :func:`pollsim.urlhandler.protocol_pollsim.attach`, on a
``pollsim://KIND?attach=NAME`` URL, and returns a :class:`DeviceHandle`. Both ports cross one
:class:`SwitchableLine`, pollsim's per-byte line fault model (:class:`~pollsim.protocol.line.LineFaults`)
whose rates a test changes mid-test. :meth:`Bench.close` powers every device off at teardown:
threads joined, pty closed, symlink removed, memory file closed. The protocol is docs/protocol.md;
the results read feed the §23-15-615 ballot accounting.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import numpy as np
from serial import SerialException

from pollsim.emulator.keyfile import parse_key_text
from pollsim.emulator.pty import PtyPort
from pollsim.emulator.serve import KINDS, ElectionDay, Emulator, EmulatorSettings
from pollsim.errors import PollsimError
from pollsim.protocol.line import LineFaults, Noise, PortEnd, serial_pair
from pollsim.pytest_plugin.controller import Controller, cast_day_ballots
from pollsim.urlhandler.protocol_pollsim import attach

__all__ = ["Bench", "DeviceHandle", "SwitchableLine"]

_NAMES = itertools.count(1)


class _Forward(Noise):
    """One wire's noise that follows whatever the line is set to now, and counts all of it."""

    def __init__(self) -> None:
        super().__init__(0.0, 0.0, np.random.default_rng(0))
        self.target: Noise | None = None

    def apply(self, data: bytes) -> bytes:
        target = self.target
        self.bytes += len(data)
        if target is None:
            return data
        corrupted, dropped = target.corrupted, target.dropped
        out = target.apply(data)
        self.corrupted += target.corrupted - corrupted
        self.dropped += target.dropped - dropped
        return out


class SwitchableLine(LineFaults):
    """A line whose noise a test sets and clears while readers use it (both directions)."""

    def __init__(self, seed: int | None) -> None:
        super().__init__(0.0, 0.0, seed)
        self.seed = seed
        self.to_device: _Forward = _Forward()
        self.to_host: _Forward = _Forward()

    def set(self, corrupt: float, drop: float, seed: int | None) -> None:
        """From now on, each byte either way is lost with probability ``drop``, else has a bit
        flipped with probability ``corrupt``; drawn from ``seed`` (same seed, same fates)."""
        line = LineFaults(corrupt, drop, self.seed if seed is None else seed)  # ValueError on a bad rate
        clean = not line
        self.corrupt, self.drop = corrupt, drop
        self.to_device.target = None if clean else line.to_device
        self.to_host.target = None if clean else line.to_host


class DeviceHandle:
    """One emulated device on the bench (what the ``pollsim_device`` fixture returns)."""

    def __init__(self, settings: EmulatorSettings, *, folder: Path, until: int | None, baud: int | None):
        self.name = f"pytest-{next(_NAMES)}"
        """The device's name on this bench (its URL's ``attach``)."""
        self.kind = settings.kind
        self.settings = settings
        self.port = str(folder / f"{self.kind}-{self.name}")
        """The serial port to open: a symlink to the pty, the same across power cycles."""
        self.url = f"pollsim://{self.kind}?attach={self.name}"
        """A ``pollsim://`` URL for the same device (pyserial's ``serial_for_url``), in this process."""
        self.memory = settings.state
        """The device's memory file (SQLite), or None (memory dies with the power)."""
        self.key = settings.key
        self.baud = baud
        self.line = SwitchableLine(settings.seed if settings.seed is not None else 0)
        self.until = until
        self.emulator: Emulator | None = None
        self._pty: PtyPort | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._cables: list[PortEnd] = []
        self._power = threading.RLock()
        self._booted = False
        self.controller = Controller(self)
        """Faults, the line, the power, the day's ballots, and the ground truth."""
        self.power_on()
        emulator = self.running()
        self.election = emulator.election
        """The election definition loaded (names of contests and choices, ``width``)."""
        self.day: ElectionDay | None = emulator.day
        """The scenario's day for this unit (``day.ballots``: what its voters chose), or None."""
        self.election_code = emulator.service.election_code
        """The code OPEN_POLLS needs."""
        attach(self.name, self._connect)

    # -- power ------------------------------------------------------------------------------------
    def running(self) -> Emulator:
        """The emulated device; raises if it is powered off."""
        if self.emulator is None:
            raise PollsimError(f"{self.port}: the device is powered off")
        return self.emulator

    @property
    def pty(self) -> str:
        """The pty's own path now (/dev/pts/N); a new one after each power cycle."""
        if self._pty is None:
            raise PollsimError(f"{self.port}: the device is powered off")
        return self._pty.path

    @property
    def powered(self) -> bool:
        return self.emulator is not None

    def power_on(self) -> None:
        """Switch on: the firmware boots from its memory (a device whose polls were open comes
        back paused), its port appears, and a day being lived goes on."""
        with self._power:
            if self.emulator is not None:
                return
            emulator = Emulator(self.settings)
            try:
                self._live(emulator, first=not self._booted)
            except BaseException:
                emulator.close()
                raise
            self._booted = True
            self.emulator, self._stop = emulator, threading.Event()
            self._pty = PtyPort(link=self.port, baud=self.baud)
            self._pty.faults = self.line  # set after: a clean line is falsy, and PtyPort would take its own
            self._spawn(emulator.serve, self._pty)
            if emulator.day is not None and self.settings.speed is not None:
                self._spawn(emulator.live_election_day)

    def _live(self, emulator: Emulator, first: bool) -> None:
        """Before the port appears: live the whole day (no ``until``, no ``speed``), or open the
        polls and cast the first ``until`` ballots (only at the first power-on)."""
        if emulator.day is None or self.settings.speed is not None:
            return
        if self.until is None:
            emulator.live_election_day(threading.Event())
        elif first:
            service = emulator.service
            service.open_polls(service.election_code)
            cast = cast_day_ballots(emulator, self.until)
            if cast < min(self.until, len(emulator.day.times)):
                raise PollsimError(f"{self.port}: the device took {cast} of the first {self.until} ballots")

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=(*args, self._stop), name=f"{self.name} {target.__name__}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _connect(self, url: str) -> PortEnd:
        """A reader opens the URL: a new cable to the device, served until power off."""
        with self._power:
            emulator = self.emulator
            if emulator is None:
                raise SerialException(f"{url}: the device is powered off")
            host, device = serial_pair(self.line, baud=self.baud, name=url)
            self._cables += [host, device]
            self._spawn(emulator.serve, device)
            return host

    def power_off(self) -> None:
        """Cut the power: the port vanishes under the reader (as a USB unplug), cables to URL
        readers go dead, what the firmware did not commit is gone; the memory file stays."""
        with self._power:
            if self.emulator is None:
                return
            self._stop.set()
            for thread in self._threads:
                thread.join()
            self._threads = []
            for end in self._cables:
                end.close()
            self._cables = []
            if self._pty is not None:
                self._pty.close()
                self._pty = None
            self.emulator.close()
            self.emulator = None

    def stop(self) -> None:
        """Power off for good (the bench does this at teardown)."""
        self.power_off()
        attach(self.name, None)

    def __repr__(self) -> str:
        return f"<pollsim {self.kind} on {self.port} ({'on' if self.powered else 'off'})>"


class Bench:
    """The devices one test started; :meth:`close` at teardown stops them all."""

    def __init__(self, folder: Path, *, scenario: Path | None = None, seed: int | None = None):
        self.folder = folder
        self.scenario = scenario
        self.seed = seed
        self.devices: list[DeviceHandle] = []

    def start(self, kind: str = "dre", *, scenario: Path | str | None | bool = True, election: Path | str | None = None,
              seed: int | None = None, key: bytes | str | None = None, test_mode: bool = False,
              until: int | None = None, speed: float | None = None, memory: bool = True, baud: int | None = None,
              corrupt: float = 0.0, drop: float = 0.0, device_id: int = 1, election_code: str | None = None,
              ack_timeout: float = 0.25) -> DeviceHandle:  # fmt: skip
        """Start a device and return its handle (the ``pollsim_device`` fixture; the guide
        docs/guides/test-your-reader-with-pytest.md explains each argument)."""
        if kind not in KINDS:
            raise PollsimError(f"unknown device kind {kind!r}; one of {', '.join(KINDS)}")
        if scenario is True:
            scenario = self.scenario
        if scenario is False:
            scenario = None
        if until is not None and (speed is not None or scenario is None or until < 0):
            raise PollsimError("until= needs a scenario, no speed=, and a number of ballots >= 0")
        number = len(self.devices) + 1
        state = self.folder / f"{kind}-{number}.sqlite" if memory and kind != "pollbook" else None
        settings = EmulatorSettings(
            kind=kind, scenario=Path(scenario) if scenario else None, election=Path(election) if election else None,
            seed=self.seed if seed is None else seed, speed=speed, state=state,
            key=parse_key_text(key, "pollsim_device key=") if isinstance(key, str) else key, number=device_id,
            election_code=election_code, test_mode=test_mode, ack_timeout=ack_timeout,
        )  # fmt: skip
        handle = DeviceHandle(settings, folder=self.folder, until=until, baud=baud)
        self.devices.append(handle)
        if corrupt or drop:
            handle.controller.line_noise(corrupt=corrupt, drop=drop)
        return handle

    def close(self) -> None:
        for handle in self.devices:
            handle.stop()
        self.devices = []
