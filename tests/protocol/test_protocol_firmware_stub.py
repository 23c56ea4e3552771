"""The C reference firmware: its codec passes the shared vectors, a Python reader on a real pty,
through pyserial, reads exactly the fixture's device and ballots from pollsim-stub, and
``pollsim read`` reads it whole with its seals, log chain and tally checked. The C compiler is
required (CI installs one): these tests never skip."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import serial

from pollsim.protocol import Client, ErrorCode, Frame, MessageType, RequestRefused, ResultVerifier

STUBS = Path(__file__).resolve().parents[2] / "firmware_stubs"
FIXTURE = STUBS / "fixtures" / "precinct-7.txt"
KEY = bytes(range(32))


@pytest.fixture(scope="module")
def built() -> Path:
    subprocess.run(["make", "-s", "-C", str(STUBS)], check=True, capture_output=True)
    return STUBS / "build"


@pytest.fixture(params=["unsealed", "sealed"])
def stub_port(built: Path, request) -> Iterator[str]:
    """Start pollsim-stub on the fixture (with KEY, sealed); yield the path of its pty."""
    key = [KEY.hex()] if request.param == "sealed" else []
    stub = subprocess.Popen(
        [str(built / "pollsim-stub"), str(FIXTURE), *key], stdout=subprocess.PIPE, text=True
    )
    try:
        assert stub.stdout is not None
        yield stub.stdout.readline().strip()
    finally:
        stub.terminate()
        stub.wait(timeout=5)


def fixture_rows() -> np.ndarray:
    rows = [line for line in FIXTURE.read_text().splitlines() if line[:1] in ("0", "1")]
    return np.array([[int(c) for c in row] for row in rows], np.uint8)


def test_the_c_codec_passes_every_shared_vector(built: Path) -> None:
    result = subprocess.run(
        ["make", "-s", "-C", str(STUBS), "check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "0 failures" in result.stdout


def test_a_python_reader_reads_identity_counters_and_every_cvr_from_the_stub(
    stub_port: str,
) -> None:
    with serial.Serial(stub_port, timeout=0.01) as port:
        reader = Client(port, max_chunk=4)  # six ballots: two chunks
        identity = reader.identify()
        assert (identity.device_id, identity.serial, identity.model) == (
            7,
            "STUB-0007",
            "pollsim-stub",
        )
        assert reader.status().polls == "final"
        counters = reader.counters()
        assert (counters.public, counters.protective) == (7, 1206)
        assert [chunk.offset for chunk in reader.cvrs()] == [0, 4]
        np.testing.assert_array_equal(reader.read_all_cvrs(), fixture_rows())
        with pytest.raises(RequestRefused) as caught:
            reader.print_results_tape()
        assert caught.value.code is ErrorCode.UNSUPPORTED
        assert reader.link.stats.corrupt == reader.link.stats.retransmissions == 0


def test_the_stub_survives_line_noise_and_oversize_runs_then_still_answers(stub_port: str) -> None:
    rng = np.random.default_rng(3)
    with serial.Serial(stub_port, timeout=0.01) as port:
        for run in (65_000, 65_548, 65_700, 65_808, 65_809, 70_000):  # around the largest frame
            port.write(rng.integers(0, 256, int(rng.integers(1, 3000)), dtype=np.uint8).tobytes())
            port.write(rng.integers(1, 256, run, dtype=np.uint8).tobytes() + b"\x00")
        reader = Client(port)
        assert reader.identify().device_id == 7
        np.testing.assert_array_equal(reader.read_all_cvrs(), fixture_rows())


def test_the_stub_answers_a_second_reader_session_and_naks_line_noise(stub_port: str) -> None:
    with serial.Serial(stub_port, timeout=0.01) as port:
        assert Client(port).identify().device_id == 7
    with serial.Serial(stub_port, timeout=0.01) as port:
        port.write(b"\x00not a frame\x00")
        reader = Client(port)
        assert reader.counters().public == 7  # its NAK for the noise costs one retransmission at most


def test_a_reader_that_vanished_mid_reply_leaves_nothing_for_the_next_session(stub_port: str) -> None:
    """Issue 14: a reader sends IDENTIFY (seq 1, ack 0) and leaves without acknowledging the
    reply; the next reader's first request, also seq 1 ack 0, used to be answered with the old
    IDENTIFY reply. Its SYNC now starts a session that nothing before it can be confused with."""
    with serial.Serial(stub_port, timeout=0.01) as port:
        port.write(Frame(MessageType.IDENTIFY, b"", 0xFFFF, seq=1, ack=0).encode())
        port.read(200)  # the reply arrives; no ACK is sent
    with serial.Serial(stub_port, timeout=0.01) as port:
        reader = Client(port)
        assert reader.counters().public == 7  # a COUNTERS reply, not the stale IDENTIFY one
        assert reader.link.stats.syncs == 1


def test_pollsim_read_reads_the_stub_whole_with_seals_chain_and_tally_checked(stub_port: str, tmp_path, request) -> None:
    sealed = ["--key", KEY.hex()] if request.node.callspec.params["stub_port"] == "sealed" else []
    command = [sys.executable, "-m", "pollsim.cli", "read", stub_port, "--out", str(tmp_path / "R"), *sealed]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    verification = json.loads((tmp_path / "R" / "verification.json").read_text())
    assert verification["log_chain"] == "verified" and verification["tally"] == "equals the CVRs' count"
    assert verification["seals"]["verified"] is bool(sealed)
    assert verification["counts"] == {"public": 7, "protective": 1206, "log_entries": 10, "cvrs": 7, "paper_records": None}
    tally = (tmp_path / "R" / "tally.csv").read_text().splitlines()[1:]
    assert [int(line.split(",")[1]) for line in tally[:4]] == [2, 2, 1, 1]  # the overvote counts for no one
    with serial.Serial(stub_port, timeout=0.01) as port:
        reader = Client(port, verifier=ResultVerifier(KEY) if sealed else None)
        np.testing.assert_array_equal(reader.read_all_cvrs(), fixture_rows())
