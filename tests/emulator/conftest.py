"""Helpers for the emulator tests: ``pollsim serve`` as a subprocess on a real pty, the SimPy
model's ballots to compare with, and a reader. No mocks: real ptys, real pyserial."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import serial

from pollsim.devices.eventlog import verify_chain
from pollsim.devices.store import SQLiteStore
from pollsim.precinct import simulate_precinct
from pollsim.precinct.election_day import precinct_seed
from pollsim.protocol import Client
from pollsim.scenario import build_election, load_scenario

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "scenarios" / "training-precinct.yaml"
TRAINING_PAPER = ROOT / "scenarios" / "training-precinct-paper.yaml"
POLLSIM = [sys.executable, "-m", "pollsim.cli"]
KEY = bytes(range(32))
"""The county's results key in these tests."""
OTHER_KEY = bytes(range(100, 132))


@dataclass
class Served:
    """A ``pollsim serve`` process and the port it printed."""

    process: subprocess.Popen
    path: str

    def stop(self) -> int:
        """SIGTERM, as an operator's Ctrl-C; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def kill(self) -> None:
        """kill -9: the device loses power at this very instant."""
        self.process.kill()
        self.process.wait(timeout=20)


def start_serve(*args: object, stderr: Path | None = None) -> Served:
    """Start ``pollsim serve ARGS`` and wait for the first line of its output: the pty's path."""
    err = open(stderr, "ab") if stderr is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen([*POLLSIM, "serve", *map(str, args)], stdout=subprocess.PIPE, stderr=err)
    if stderr is not None:
        err.close()
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("/dev/"):
        process.kill()
        process.wait()
        raise AssertionError(f"pollsim serve printed {line!r} first (exit status {process.returncode})")
    return Served(process, line)


def run_read(port: object, out: Path, *args: object) -> subprocess.CompletedProcess:
    """``pollsim read PORT --out OUT ARGS`` as a subprocess."""
    command = [*POLLSIM, "read", str(port), "--out", str(out), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def model_ballots(scenario: Path, unit: str, seed: int = 1) -> np.ndarray:
    """The electronic records the SimPy model stored for ``unit`` (e.g. DRE-1), in cast order,
    with the precinct seed ``pollsim run`` uses."""
    spec = load_scenario(scenario)
    election = build_election(spec.election)
    result = simulate_precinct(spec, election, spec.precincts[0], precinct_seed(seed, 0))
    index = [device.device_id for device in result.devices].index(unit)
    return result.cvr[result.ballot_device == index]


def model_cards(scenario: Path, seed: int = 1) -> int:
    """How many ballot cards BMD-1 printed in the model (its public counter)."""
    spec = load_scenario(scenario)
    election = build_election(spec.election)
    result = simulate_precinct(spec, election, spec.precincts[0], precinct_seed(seed, 0))
    return next(d.public_count for d in result.devices if d.device_id == "BMD-1")


def wait_until_final(port: serial.SerialBase | str, timeout: float = 60.0) -> None:
    """Ask the device's status until its polls are final (its day is over)."""
    own = isinstance(port, str)
    handle = serial.Serial(port, timeout=0.01) if own else port
    try:
        client = Client(handle)
        deadline = time.monotonic() + timeout
        while client.status().polls != "final":
            assert time.monotonic() < deadline, "the device's polls never closed"
            time.sleep(0.05)
    finally:
        if own:
            handle.close()


def check_memory(path: Path, scenario: Path, *, test: bool) -> int:
    """The invariants a killed device's memory must keep: the counter (public; protective in
    test mode) equals the number of CVRs and of paper records, and the log's chain verifies.
    Returns that number."""
    election = build_election(load_scenario(scenario).election)
    store = SQLiteStore(path, election.width, election.definition_hash)
    try:
        cvr, paper, _ = store.ballots(test=test)
        counter = store.protective if test else store.public
        assert counter == len(cvr) == len(paper), (counter, len(cvr), len(paper))
        entries, hashes = store.saved_log()
        assert verify_chain(election.definition_hash, entries, hashes) is None
        cast = sum(e.type == ("test-ballot-cast" if test else "ballot-cast") for e in entries)
        assert cast == counter
        return counter
    finally:
        store.close()


def read_csv_marks(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.uint8, ndmin=2)
