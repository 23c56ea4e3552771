"""A county's devices at once: every unit of its precincts on its own port, as on election night.

Election-night counting is stressed by many units arriving at the county office together, not by
one. ``pollsim serve --scenario S --county NAME`` (or ``--precincts K``) simulates those
precincts' election day (the same seed gives the same days as ``pollsim run``: each precinct
keeps its scenario index's seed), builds every DRE and precinct scanner after its day
(:func:`pollsim.emulator.afterday.device_after_day`), serves each on its own pty
(:class:`~pollsim.emulator.pty.PtyPort`) at its paced baud with its own line faults (seeded per
device from the root seed and the device's place), and writes the manifest
(:mod:`pollsim.emulator.manifest`) the county's read station works through (``pollsim read
--manifest``); the results feed the §23-15-615 ballot accounting.

Hundreds of ports cost no thread while nobody reads them: one switchboard thread polls every idle
port's master at once (a pty's master polls POLLHUP until a reader opens it) and hands a port
that a reader has opened to a thread of its own, which answers that reader until it closes the
port (:func:`pollsim.emulator.afterday.serve_session`); each port's paced transmitter thread
sleeps until there is something to send. Device ids on the wire run 1..N in manifest order, so
every unit has its own serial number.
"""

from __future__ import annotations

import select
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pollsim.emulator.afterday import FIRMWARE, device_after_day, serve_session
from pollsim.emulator.manifest import ManifestEntry, write_manifest
from pollsim.emulator.pty import LineFaults, PtyPort
from pollsim.emulator.service import DeviceService
from pollsim.errors import PollsimError

__all__ = ["CountyDevice", "Switchboard", "choose_precincts", "county_day", "open_county", "serve_county"]

POLL = 0.02
"""Seconds between two looks at the idle ports (how long a reader's first bytes may wait)."""


@dataclass
class CountyDevice:
    """One unit of the county on its port."""

    entry: ManifestEntry
    port: PtyPort
    service: DeviceService


def choose_precincts(scenario, county: str | None, precincts: int | None) -> list[int]:
    """Scenario indices of the precincts of ``county`` (any case), or of the first ``precincts``
    (all of them if there are fewer)."""
    if county is not None:
        chosen = [i for i, p in enumerate(scenario.precincts) if p.county.casefold() == county.strip().casefold()]
        if not chosen:
            counties = sorted({p.county for p in scenario.precincts if p.county})
            shown = ", ".join(counties[:8]) + (f" and {len(counties) - 8} more" if len(counties) > 8 else "")
            raise PollsimError(f"--county {county}: scenario {scenario.scenario} has no precinct in that county "
                               f"(its counties: {shown or 'none named'})")  # fmt: skip
        return chosen
    if precincts is None or precincts < 1:
        raise PollsimError(f"--precincts {precincts}: the number of precincts to serve must be 1 or more")
    return list(range(min(precincts, len(scenario.precincts))))


def county_day(scenario, seed: int, indices: list[int]):
    """The election day of the chosen precincts only, each with the seed ``pollsim run`` gives
    its scenario index: an :class:`~pollsim.precinct.election_day.ElectionDayRun` of them."""
    from pollsim.precinct import simulate_precinct
    from pollsim.precinct.election_day import ElectionDayRun, precinct_seed
    from pollsim.scenario import build_election

    election = build_election(scenario.election)
    results = [simulate_precinct(scenario, election, scenario.precincts[i], precinct_seed(seed, i)) for i in indices]
    part = scenario.model_copy(update={"precincts": [scenario.precincts[i] for i in indices]})
    return ElectionDayRun(part, election, seed, results)


def _line_seed(seed: int, precinct: int, device: int) -> int:
    """The line-fault seed of one device: from the root seed and its place, nothing else."""
    return int(np.random.SeedSequence(seed, spawn_key=(0x5E41, precinct, device)).generate_state(1)[0])


def open_county(run, indices: list[int], *, key: bytes | None, baud: int | None, corrupt: float,
                drop: float, seed: int) -> list[CountyDevice]:  # fmt: skip
    """Build every DRE and scanner of ``run`` after its day and open its port; ``indices`` are
    the precincts' scenario indices (for the line seeds). On any error every port opened so far
    is closed."""
    devices: list[CountyDevice] = []
    try:
        for pi, p in enumerate(run.precincts):
            for k, record in enumerate(p.devices):
                if record.kind not in FIRMWARE:
                    continue
                number = len(devices) + 1
                if number > 65534:
                    raise PollsimError("more than 65,534 devices: serve fewer precincts at once")
                service = device_after_day(run, pi, k, key, number=number)
                faults = LineFaults(corrupt, drop, _line_seed(seed, indices[pi], k))
                port = PtyPort(baud=baud, faults=faults)
                ident = service.identify()
                entry = ManifestEntry(port.path, ident.kind, ident.serial, number, record.device_id, p.precinct, p.county)
                devices.append(CountyDevice(entry, port, service))
    except BaseException:
        for device in devices:
            device.port.close()
        raise
    return devices


class Switchboard:
    """Serves many ports from one watching thread: a port a reader opens gets a thread of its
    own until that reader closes it."""

    def __init__(self, devices: list[CountyDevice], ack_timeout: float = 0.25):
        self.devices = devices
        self.ack_timeout = ack_timeout
        self.sessions = 0
        """Reader sessions served so far."""
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._back: list[int] = []  # devices whose session ended, to watch again
        self._lock = threading.Lock()
        self._active: dict[int, threading.Thread] = {}
        self._watcher = threading.Thread(target=self._watch, name="switchboard", daemon=True)

    def start(self) -> None:
        self._watcher.start()

    def _session(self, n: int) -> None:
        device = self.devices[n]
        try:
            serve_session(device.port, device.service, self._stop, self.ack_timeout)
        except Exception as error:  # one unit's fault must not stop the county's other units
            with self._lock:
                self.errors.append(f"{device.entry.port} ({device.entry.precinct} {device.entry.unit}): {error}")
        finally:
            with self._lock:
                self._back.append(n)

    def _watch(self) -> None:
        poller = select.poll()
        by_fd = {device.port.fileno(): n for n, device in enumerate(self.devices)}
        for fd in by_fd:
            poller.register(fd, 0)  # POLLHUP is always reported: no reader has the port open
        while not self._stop.is_set():
            with self._lock:
                back, self._back = self._back, []
            for n in back:
                self._active.pop(n).join()
                poller.register(self.devices[n].port.fileno(), 0)
            hung = {fd for fd, events in poller.poll(0) if events & (select.POLLHUP | select.POLLERR)}
            for fd, n in by_fd.items():
                if fd not in hung and n not in self._active:
                    poller.unregister(fd)
                    thread = threading.Thread(target=self._session, args=(n,), name=f"session {self.devices[n].entry.port}", daemon=True)
                    self._active[n] = thread
                    self.sessions += 1
                    thread.start()
            self._stop.wait(POLL)

    def stop(self) -> None:
        """Stop watching and end every session (the readers see their devices go silent)."""
        self._stop.set()
        if self._watcher.is_alive():
            self._watcher.join()
        for thread in list(self._active.values()):
            thread.join(timeout=10)


def serve_county(scenario, seed: int, *, county: str | None, precincts: int | None, manifest: Path,
                 baud: int | None = None, corrupt: float = 0.0, drop: float = 0.0, key: bytes | None = None) -> int:  # fmt: skip
    """``pollsim serve --scenario S --county NAME --manifest FILE``: serve the devices of those
    precincts of ``scenario`` (as ``pollsim run`` simulates it: with absentee voting, its
    pollbooks mark VOTED AB) after their day under root seed ``seed``; print the manifest's path
    as the first line once every port is open, serve until SIGINT/SIGTERM, close every port and
    remove the manifest (its ports are gone)."""
    if baud is not None and baud <= 0:
        raise PollsimError(f"--baud {baud}: must be positive")
    try:
        LineFaults(corrupt, drop, 0)
    except ValueError as error:
        raise PollsimError(str(error)) from None
    root = seed
    indices = choose_precincts(scenario, county, precincts)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # before any port is open: a reader may stop us at once
        signal.signal(signum, lambda *_: done.set())
    run = county_day(scenario, root, indices)
    devices = open_county(run, indices, key=key, baud=baud, corrupt=corrupt, drop=drop, seed=root)
    board = Switchboard(devices)
    written = ""
    try:
        if not devices:
            raise PollsimError(f"scenario {scenario.scenario}: the chosen precincts have no DRE or precinct scanner to serve")
        write_manifest(manifest, (d.entry for d in devices))
        written = manifest.read_text(encoding="utf-8")
        board.start()
        print(manifest, flush=True)
        where = f"county {county}" if county is not None else f"the first {len(indices)} precincts"
        print(f"pollsim serve: {len(devices)} devices of {len(indices)} precincts ({where}) on their own ports; "
              f"manifest {manifest}", file=sys.stderr, flush=True)  # fmt: skip
        while not done.wait(0.5):
            pass
    finally:
        board.stop()
        for device in devices:
            device.port.close()
        if written:
            try:
                if manifest.read_text(encoding="utf-8") == written:
                    manifest.unlink()
            except OSError:
                pass
    sent = sum(d.port.stats.sent for d in devices)
    corrupted = sum(d.port.faults.to_host.corrupted for d in devices)
    dropped = sum(d.port.faults.to_host.dropped for d in devices)
    print(f"pollsim serve: {len(devices)} ports closed; {board.sessions} reader sessions; sent {sent} bytes "
          f"(corrupted {corrupted}, dropped {dropped})", file=sys.stderr)  # fmt: skip
    for problem in board.errors:
        print(f"pollsim serve: {problem}", file=sys.stderr)
    return 0
