"""Power loss at any instant: a device killed with SIGKILL while ballots are being cast keeps
every ballot whole (counter, CVR, paper record and log entry together, or none of them), and a
restarted device goes on where it stopped, so that no ballot is lost or cast twice."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import serial

from pollsim.protocol import Client, LinkError
from pollsim.scenario import build_election, load_scenario
from tests.emulator.conftest import KEY, TRAINING, check_memory, model_ballots, start_serve, wait_until_final

ELECTION_KILLS = 12
TEST_MODE_KILLS = 10


def kill_while_voting(state: Path, rng: np.random.Generator, kills: int) -> list[int]:
    """Kill ``pollsim serve`` (living the training day at 4000x) at random instants; check the
    memory after each kill; return the ballots held after each."""
    held = []
    for _ in range(kills):
        served = start_serve("dre", "--scenario", TRAINING, "--state", state, "--speed", 4000, "--key", KEY.hex())
        time.sleep(rng.uniform(0.05, 0.6))
        served.kill()
        held.append(check_memory(state, TRAINING, test=False))
    return held


def test_killed_at_random_instants_on_election_day_a_dre_keeps_every_ballot_whole(tmp_path) -> None:
    state, link = tmp_path / "dre.db", tmp_path / "dre"
    expected = model_ballots(TRAINING, "DRE-1", seed=1)
    held = kill_while_voting(state, np.random.default_rng(20261103), ELECTION_KILLS)
    assert held == sorted(held) and held[0] < held[-1] < len(expected)  # killed while voting went on
    served = start_serve("dre", "--scenario", TRAINING, "--state", state, "--link", link, "--key", KEY.hex())
    try:
        wait_until_final(str(link))
        with serial.Serial(str(link), timeout=0.01) as port:
            client = Client(port)
            assert client.identify().sealed
            counters = client.counters()
            cvrs, paper = client.read_all_cvrs(), client.paper_records()
    finally:
        assert served.stop() == 0
    np.testing.assert_array_equal(cvrs, expected)  # none lost, none twice, in order
    np.testing.assert_array_equal(paper, expected)
    assert counters.public == counters.protective == len(expected)
    assert check_memory(state, TRAINING, test=False) == len(expected)


def test_killed_at_random_instants_during_logic_and_accuracy_testing_a_dre_keeps_every_test_ballot_whole(tmp_path) -> None:
    state, link = tmp_path / "dre.db", tmp_path / "dre"
    rng = np.random.default_rng(1103)
    width = build_election(load_scenario(TRAINING).election).width
    held = []
    for _ in range(TEST_MODE_KILLS):
        served = start_serve("dre", "--election", TRAINING, "--test-mode", "--state", state, "--link", link)
        killer = threading.Timer(rng.uniform(0.05, 0.4), served.kill)
        with serial.Serial(str(link), timeout=0.01) as port:
            client = Client(port, ack_timeout=0.2, retries=2)
            killer.start()
            try:
                while True:
                    client.cast_test_ballot((rng.random(width) < 0.3).astype(np.uint8))
            except (serial.SerialException, LinkError, OSError):
                pass  # the device lost power under the reader
        killer.join()
        served.process.wait()
        held.append(check_memory(state, TRAINING, test=True))
    assert held == sorted(held) and held[0] > 0 and held[-1] > held[0]
