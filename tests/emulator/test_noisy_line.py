"""A noisy serial line: bytes the device sends are corrupted or lost, yet every cast vote record
reaches the reader exactly once (CRC-32C catches the damage, the link retransmits, the reader
resumes chunked readouts where it stopped)."""

from __future__ import annotations

import json

import numpy as np
import serial

from pollsim.protocol import LineFaults
from pollsim.protocol import Client, LinkError
from tests.emulator.conftest import KEY, TRAINING, model_ballots, run_read, start_serve, wait_until_final


def read_every_cvr(client: Client) -> np.ndarray:
    """Every CVR, one per chunk (short frames get through a bad line), resuming after link errors."""
    rows: list[np.ndarray] = []
    while True:
        try:
            for chunk in client.cvrs(offset=sum(len(r) for r in rows)):
                rows.append(chunk.marks)
            return np.concatenate(rows)
        except LinkError:
            continue


def test_every_cvr_crosses_a_line_with_one_percent_corrupt_and_one_percent_lost_bytes_exactly_once(tmp_path) -> None:
    link = tmp_path / "dre"
    served = start_serve("dre", "--scenario", TRAINING, "--seed", 3, "--link", link,
                         "--corrupt", 0.01, "--drop", 0.01)  # fmt: skip
    try:
        with serial.Serial(str(link), timeout=0.01) as port:
            client = Client(port, ack_timeout=0.1, max_chunk=1)
            while True:  # the day is over when the polls are final
                try:
                    if client.status().polls.value == "final":
                        break
                except LinkError:
                    pass
            cvrs = read_every_cvr(client)
            stats = client.link.stats
    finally:
        assert served.stop() == 0
    np.testing.assert_array_equal(cvrs, model_ballots(TRAINING, "DRE-1", seed=3))
    assert stats.corrupt > 20  # the line did damage frames, and the link repaired every one
    assert stats.retransmissions + stats.duplicates > 0


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
