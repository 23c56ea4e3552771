"""Helpers for the conformance tests: ``pollsim conformance`` as a subprocess with its JSON
results, the C stub built and started on its pty. Real ptys, real pyserial, no mocks."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.emulator.conftest import KEY, POLLSIM

STUBS = Path(__file__).resolve().parents[2] / "firmware_stubs"
FIXTURE = STUBS / "fixtures" / "precinct-7.txt"


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    results: dict[str, dict]
    """Rule number -> its JSON result (empty if no JSON was written)."""

    def failed(self) -> set[str]:
        return {n for n, r in self.results.items() if r["result"] == "fail"}

    def result(self, number: str) -> str:
        return self.results[number]["result"]


def run_conformance(port: object, tmp: Path, *args: object) -> Outcome:
    """``pollsim conformance PORT --json OUT ARGS`` as a subprocess."""
    out = tmp / "conformance.json"
    out.unlink(missing_ok=True)
    command = [*POLLSIM, "conformance", str(port), "--json", str(out), *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    results = {r["number"]: r for r in json.loads(out.read_text())["rules"]} if out.exists() else {}
    return Outcome(done.returncode, done.stdout, done.stderr, results)


@pytest.fixture(scope="session")
def stub_binary() -> Path:
    """firmware_stubs/build/pollsim-stub, built with make (CI installs cc: never skipped)."""
    subprocess.run(["make", "-s", "-C", str(STUBS)], check=True, capture_output=True)
    return STUBS / "build" / "pollsim-stub"


def start_stub(binary: Path, *key: bytes) -> tuple[subprocess.Popen, str]:
    stub = subprocess.Popen([str(binary), str(FIXTURE), *(k.hex() for k in key)], stdout=subprocess.PIPE, text=True)
    assert stub.stdout is not None
    return stub, stub.stdout.readline().strip()


@pytest.fixture
def stub(stub_binary: Path) -> Iterator[str]:
    """An unsealed pollsim-stub; the path of its pty."""
    process, path = start_stub(stub_binary)
    yield path
    process.terminate()
    process.wait(timeout=5)


@pytest.fixture
def sealed_stub(stub_binary: Path) -> Iterator[str]:
    """A pollsim-stub sealing with KEY; the path of its pty."""
    process, path = start_stub(stub_binary, KEY)
    yield path
    process.terminate()
    process.wait(timeout=5)
