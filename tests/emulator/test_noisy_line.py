"""A noisy serial line, both ways: bytes are corrupted or lost, yet every cast vote record, paper
record and log entry reaches the reader exactly once (CRC-32C catches the damage, the link
retransmits, cuts its frames smaller and grows them back), and a line too bad to read ends by
its deadline with one line saying why."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from pollsim.emulator.pty import PtyPort
from pollsim.emulator.read import ReadError, check_readout, read_device
from pollsim.emulator.serve import Emulator, EmulatorSettings
from pollsim.protocol import LineFaults
from tests.emulator.conftest import KEY, TRAINING, model_ballots, run_read, start_serve, wait_until_final


@pytest.fixture
def sealed_test_deck():
    """A DRE in test mode holding KEY and 40 test ballots."""
    emulator = Emulator(EmulatorSettings("dre", key=KEY))
    rng = np.random.default_rng(8)
    for _ in range(40):
        emulator.service.cast((rng.random(emulator.election.width) < 0.3).astype(np.uint8), as_is=False)
    yield emulator
    emulator.close()


def test_a_sealed_readout_crosses_one_percent_corrupt_and_one_percent_lost_bytes_both_ways(sealed_test_deck) -> None:
    service = sealed_test_deck.service
    with PtyPort(faults=LineFaults(corrupt=0.01, drop=0.01, seed=4)) as port:
        sealed_test_deck.start(port)
        readout = read_device(port.path, key=KEY, deadline=120)
        sealed_test_deck.stop()
        line = port.faults
    check_readout(readout)  # seals, chain, tally, accounting
    np.testing.assert_array_equal(readout.cvrs, service.cvrs())
    np.testing.assert_array_equal(readout.paper, service.paper_records())
    assert readout.events == list(service.event_log())  # every entry, once, in order
    assert line.to_host.corrupted and line.to_host.dropped and line.to_device.corrupted and line.to_device.dropped
    assert readout.corrupt_frames > 20  # frames the reader rejected, each repaired by the link


def test_a_line_too_bad_to_read_ends_by_the_deadline_with_one_line(sealed_test_deck) -> None:
    with PtyPort(faults=LineFaults(corrupt=0.3, drop=0.3, seed=4)) as port:
        sealed_test_deck.start(port)
        start = time.monotonic()
        with pytest.raises(ReadError) as failed:
            read_device(port.path, key=KEY, deadline=3)
        elapsed = time.monotonic() - start
        sealed_test_deck.stop()
    assert elapsed < 3 + 1.5
    message = str(failed.value)
    assert message.startswith(port.path) and "\n" not in message
    assert "deadline of 3 s" in message or "no answer to IDENTIFY" in message


def test_pollsim_read_checks_everything_through_a_slightly_noisy_line(tmp_path) -> None:
    link = tmp_path / "dre"
    served = start_serve("dre", "--scenario", TRAINING, "--link", link, "--key", KEY.hex(),
                         "--corrupt", 0.001, "--drop", 0.001, "--seed", 1)  # fmt: skip
    try:
        wait_until_final(str(link))
        readout = run_read(link, tmp_path / "R", "--key", KEY.hex(), "--chunk", 2, "--ack-timeout", 0.2)
    finally:
        assert served.stop() == 0
    assert readout.returncode == 0, readout.stderr
    verification = json.loads((tmp_path / "R" / "verification.json").read_text())
    assert verification["corrupt_frames"] > 0 and verification["log_chain"] == "verified"
    assert verification["counts"]["cvrs"] == len(model_ballots(TRAINING, "DRE-1", seed=1))


def test_line_faults_hit_the_share_of_bytes_asked_for_both_ways_and_repeat_with_the_seed() -> None:
    data = bytes(range(256)) * 400
    line = LineFaults(corrupt=0.01, drop=0.02, seed=9)
    first = line.to_host.apply(data)
    assert first == LineFaults(corrupt=0.01, drop=0.02, seed=9).to_host.apply(data)
    noise = line.to_host
    assert abs(noise.dropped / len(data) - 0.02) < 0.003
    assert abs(noise.corrupted / len(data) - 0.01 * 0.98) < 0.003
    assert len(first) == len(data) - noise.dropped
    assert line.to_device.apply(data) != first  # the other wire has its own stream
    assert LineFaults().to_host.apply(data) == data
