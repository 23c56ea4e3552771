"""An emulated device living through election day while it answers on its serial port.

Picture the training room at the county office: a DRE on a table, a serial cable from its service
port to a test team's laptop. The DRE was loaded with the election and its results key, tested,
set for the election; on the day its polls open at 7:00, the precinct's voters cast their ballots
on it, and at closing it prints its results tape. Meanwhile the test team's reader may ask it, at
any moment, for its status, counters or records, as the county's reader will on election night.

:class:`Emulator` is that device: its firmware (pollsim.devices), its service port
(:class:`~pollsim.emulator.service.DeviceService` behind a
:class:`~pollsim.protocol.server.DeviceServer`), and, given a scenario, its election day: the
precinct's day is simulated (pollsim.precinct, the same seed gives the same day) and the ballots
cast on the first unit of this kind (DRE-1, SCAN-1 or BMD-1; for a pollbook, every check-in) are
replayed on the emulated device at ``speed`` times real time, between opening and closing the
polls. Two threads share the device under its lock: one serves the port, one lives the day.

With a memory file (``state``) the device survives being killed at any instant: each ballot is
one transaction, a device that comes back finds its polls suspended (power loss), resumes them,
and goes on with the ballots its memory does not yet hold (the public counter says how many).
"""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pollsim.devices import BMD, DRE, BallotRefused, Pollbook, PrecinctScanner
from pollsim.devices.states import PollState as Firmware
from pollsim.devices.store import MemoryStore, SQLiteStore
from pollsim.election.definition import Election
from pollsim.emulator.pollbook import PollbookService
from pollsim.emulator.pty import LineFaults, PtyPort
from pollsim.emulator.service import DeviceClock, DeviceService
from pollsim.errors import PollsimError
from pollsim.protocol import DeviceServer, Link, LinkError

__all__ = ["KINDS", "TEST_ELECTION", "ElectionDay", "Emulator", "EmulatorSettings", "plan_election_day", "serve"]

KINDS = {"dre": ("DRE", DRE), "scanner": ("SCAN", PrecinctScanner), "bmd": ("BMD", BMD), "pollbook": ("PB", Pollbook)}
"""Command-line kind -> (the model's station pool, firmware class)."""

TEST_ELECTION = Election.from_dict({
    "id": "pollsim-test-deck", "name": "Logic and Accuracy Test Election", "date": "2026-11-03",
    "contests": [
        {"id": "governor", "title": "Governor", "kind": "candidate", "vote_for": 1, "choices": [
            {"id": "avery", "name": "Jordan Avery", "party": "REP"},
            {"id": "bell", "name": "Casey Bell", "party": "DEM"},
            {"id": "write-in", "name": "Write-in"}]},
        {"id": "council", "title": "City Council (vote for two)", "kind": "candidate", "vote_for": 2, "choices": [
            {"id": "cole", "name": "Robin Cole"}, {"id": "diaz", "name": "Sam Diaz"},
            {"id": "eaton", "name": "Lee Eaton"}, {"id": "ford", "name": "Pat Ford"}]},
        {"id": "measure-1", "title": "Measure 1", "kind": "measure", "vote_for": 1, "choices": [
            {"id": "yes", "name": "Yes"}, {"id": "no", "name": "No"}]},
    ],
    "ballot_styles": [{"id": "style-1", "contests": ["governor", "council", "measure-1"]}],
})  # fmt: skip
"""The election a device is loaded with when given neither a scenario nor an election file."""


@dataclass(frozen=True)
class EmulatorSettings:
    """How to build an emulated device (the ``pollsim serve`` options, less the port's)."""

    kind: str
    """``dre``, ``scanner``, ``bmd`` or ``pollbook``."""
    scenario: Path | None = None
    """Live the first precinct's day of this scenario (and load its election)."""
    election: Path | None = None
    """Load the election of this scenario file, without living its day."""
    seed: int | None = None
    """Root seed of the simulated day (default: the scenario's)."""
    speed: float | None = None
    """Replay at this many times real time (None: as fast as the device can)."""
    state: Path | None = None
    """The device's memory file (SQLite); None: memory that dies with the process."""
    key: bytes | None = None
    """The per-election results key to load (in test mode)."""
    number: int = 1
    """Device id on the wire, 1..65534."""
    election_code: str | None = None
    """The code OPEN_POLLS needs (default: first 8 hex digits of the definition's SHA-256)."""
    test_mode: bool = False
    """Put a device that is before the election into test mode."""
    ack_timeout: float = 0.25
    """The device's acknowledgement timeout, seconds."""


@dataclass(frozen=True)
class ElectionDay:
    """What one device lives through on a simulated election day.

    ``times`` are minutes after midnight. For a ballot device, ``ballots`` is ``uint8[n,
    width]``, the selections (paper layer) of each ballot cast on the unit, in cast order; for a
    pollbook, ``int8[n]``, each voter's roll status in check-in order.
    """

    unit: str
    precinct: str
    opens: float
    closes: float
    times: np.ndarray
    ballots: np.ndarray


def plan_election_day(scenario, election: Election, seed: int, kind: str) -> ElectionDay:
    """Simulate the scenario's first precinct (precinct seed as ``pollsim run`` uses it) and
    take out what the first unit of ``kind`` did."""
    from pollsim.precinct.day import PrecinctDay
    from pollsim.precinct.election_day import precinct_seed

    spec = scenario.precincts[0]
    day = PrecinctDay(scenario, election, spec, precinct_seed(seed, 0))
    result = day.run()
    pool = KINDS[kind][0]
    if kind == "pollbook":
        voters = result.voters[np.argsort(result.voters["checkin_start"], kind="stable")]
        return ElectionDay("PB", spec.id, day.t_open, result.polls_closed, voters["checkin_start"].copy(),
                           voters["status"].astype(np.int8))  # fmt: skip
    units = day.devices.get(pool, [])
    if not units:
        raise PollsimError(f"precinct {spec.id} has no {pool}-1 ({spec.equipment.kind} equipment)")
    _, paper, times = units[0].store.ballots()
    return ElectionDay(units[0].device_id, spec.id, day.t_open, result.polls_closed, times.copy(), paper.copy())


class Emulator:
    """One emulated device: firmware, memory, service port and (given a scenario) its day."""

    def __init__(self, settings: EmulatorSettings):
        from pollsim.scenario import build_election, load_scenario

        if settings.kind not in KINDS:
            raise PollsimError(f"unknown device kind {settings.kind!r}; one of {', '.join(KINDS)}")
        if settings.speed is not None and settings.speed <= 0:
            raise PollsimError(f"--speed {settings.speed}: must be positive")
        self.settings = settings
        scenario = load_scenario(settings.scenario) if settings.scenario else None
        if scenario is not None:
            self.election = build_election(scenario.election)
        elif settings.election is not None:
            self.election = build_election(load_scenario(settings.election).election)
        else:
            self.election = TEST_ELECTION
        seed = settings.seed if settings.seed is not None else (scenario.seed if scenario else 0)
        self.day = plan_election_day(scenario, self.election, seed, settings.kind) if scenario else None
        """The day to live (None: wait for commands)."""
        self.store: MemoryStore | SQLiteStore | None = None
        try:
            self.service: DeviceService | PollbookService = self._build(settings)
            if settings.test_mode and isinstance(self.service, DeviceService):
                self.service.enter_test_mode()
            if settings.key is not None:
                self.service.load_key(settings.key)
        except BaseException:
            if isinstance(self.store, SQLiteStore):
                self.store.close()
            raise
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _build(self, settings: EmulatorSettings) -> DeviceService | PollbookService:
        election, pool = self.election, KINDS[settings.kind][0]
        precinct = self.day.precinct if self.day else ""
        if settings.kind == "pollbook":
            if settings.state is not None:
                raise PollsimError("the pollbook emulator keeps no memory file: drop --state")
            book = Pollbook("PB", election, electronic=True)
            return PollbookService(book, number=settings.number, election_code=settings.election_code,
                                   definition_hash=election.definition_hash, date=election.date)  # fmt: skip
        if settings.state is not None:
            self.store = SQLiteStore(settings.state, election.width, election.definition_hash)
            offset = float(self.store.meta("clock_offset") or 0.0)
        else:
            self.store, offset = MemoryStore(election.width), 0.0
        firmware = KINDS[settings.kind][1]
        unit = self.day.unit if self.day else f"{pool}-1"
        device = firmware(unit, election, self.store, precinct=precinct, t=DeviceClock(offset).now())
        return DeviceService(device, number=settings.number, election_code=settings.election_code)

    # -- the two threads -------------------------------------------------------------------------
    def serve(self, port, stop: threading.Event) -> None:
        """Answer the port until ``stop``: each time a reader opens it, a fresh link (the
        device notices the cable was plugged in); a reader who leaves ends the conversation."""
        service, session, server = self.service, -1, None
        while not stop.is_set():
            if not port.wait_for_host(0.1):
                continue
            if port.sessions != session or server is None:
                session = port.sessions
                link = Link(port, device_id=service.number, ack_timeout=self.settings.ack_timeout)
                server = DeviceServer(link, service, signer=service.seal)
            try:
                server.serve_one(0.05)
            except LinkError:  # the reader closed the port mid-conversation
                continue

    def _delay(self, minutes: float) -> float:
        speed = self.settings.speed
        return 0.0 if speed is None else max(minutes, 0.0) * 60.0 / speed

    def live_election_day(self, stop: threading.Event) -> None:
        """Open the polls, cast the day's ballots (from the first one memory lacks) at the
        scenario's pace, close the polls. A device whose polls are final has nothing to do."""
        day, service = self.day, self.service
        assert day is not None
        with service.lock:
            first = self._open_for_the_day()
        if first is None:
            return
        previous = day.times[first - 1] if first else day.opens
        for k in range(first, len(day.times)):
            if stop.wait(self._delay(day.times[k] - previous)):
                return
            previous = day.times[k]
            while (outcome := self._take(day.ballots[k])) == "refused":
                if stop.wait(0.1):
                    return
            if outcome == "final":
                return
        if stop.wait(self._delay(day.closes - previous)):
            return
        with service.lock:
            if service.status().polls in ("open", "paused"):
                service.close_polls()

    def _open_for_the_day(self) -> int | None:
        """Bring the polls open; return how many of the day's ballots memory already holds."""
        service = self.service
        if isinstance(service, PollbookService):
            if service.state.polls == "final":
                return None
            service.open_polls(service.election_code)
            return sum(service.pollbook.by_status)
        device = service.device
        if device.state in (Firmware.POLLS_CLOSED, Firmware.RESULTS_EXPORTED):
            return None
        if device.state is not Firmware.POLLS_OPEN:
            service.open_polls(service.election_code)  # sets for election, or resumes
        return device.store.public

    def _take(self, ballot: np.ndarray) -> str:
        """One voter's turn: "cast", "refused" (try again) or "final" (polls closed)."""
        service = self.service
        with service.lock:
            if service.status().polls == "final":
                return "final"
            try:
                if isinstance(service, PollbookService):
                    service.check_in(int(ballot))
                else:
                    service.cast(ballot)
            except BallotRefused:
                return "refused"
            return "cast"

    def start(self, port) -> None:
        """Serve ``port`` and live the day (if any), each in its own thread."""
        self._threads = [threading.Thread(target=self.serve, args=(port, self._stop), name="service port")]
        if self.day is not None:
            self._threads.append(threading.Thread(target=self.live_election_day, args=(self._stop,), name="election day"))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def close(self) -> None:
        """Stop, and put the memory away (a clean power-off)."""
        self.stop()
        if isinstance(self.store, SQLiteStore):
            self.store.close()


def serve(settings: EmulatorSettings, *, link: str | None = None, baud: int | None = None,
          corrupt: float = 0.0, drop: float = 0.0, seed: int | None = None) -> int:  # fmt: skip
    """``pollsim serve``: print the port's path as the first line, serve until SIGINT/SIGTERM."""
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # before the path is out: a reader may stop us at once
        signal.signal(signum, lambda *_: done.set())
    emulator = Emulator(settings)
    try:
        faults = LineFaults(corrupt, drop, seed)
    except ValueError as error:
        emulator.close()
        raise PollsimError(str(error)) from None
    port = PtyPort(link=link, baud=baud, faults=faults)
    print(port.path, flush=True)
    emulator.start(port)
    try:
        while not done.wait(0.5):
            pass
    finally:
        emulator.stop()
        port.close()
        emulator.close()
    out, back = port.faults.to_host, port.faults.to_device
    print(f"pollsim serve: {port.path} closed; sent {port.stats.sent} bytes (corrupted {out.corrupted}, dropped "
          f"{out.dropped}, overflowed {port.stats.overflowed}); received {back.bytes} (corrupted {back.corrupted}, "
          f"dropped {back.dropped})", file=sys.stderr)  # fmt: skip
    return 0
