"""The ``pollsim://`` pyserial URL handler: any pyserial user opens an emulated device in-process,
as with pyserial's own ``loop://``."""

from __future__ import annotations

import time

import numpy as np
import pytest
import serial

import pollsim  # noqa: F401  (registers the handler)
from pollsim.emulator.read import check_readout, read_device
from pollsim.protocol import Client, ErrorCode, RequestRefused
from pollsim.urlhandler.protocol_pollsim import Serial as PollsimSerial
from tests.emulator.conftest import KEY, TRAINING, TRAINING_PAPER, model_ballots, model_cards, wait_until_final


def test_importing_pollsim_registers_its_url_handler_package() -> None:
    assert "pollsim.urlhandler" in serial.protocol_handler_packages


def test_serial_for_url_gives_a_dre_that_lives_the_scenarios_day() -> None:
    url = f"pollsim://dre?scenario={TRAINING}&seed=1"
    with serial.serial_for_url(url, timeout=0.01) as port:
        assert isinstance(port, PollsimSerial)
        wait_until_final(port)
        client = Client(port)
        assert client.identify().kind == "dre"
        np.testing.assert_array_equal(client.read_all_cvrs(), model_ballots(TRAINING, "DRE-1", seed=1))


@pytest.mark.parametrize(("kind", "unit"), [("scanner", "SCAN-1"), ("bmd", "BMD-1")])
def test_a_scanner_and_a_bmd_replay_their_units_ballots_and_the_reader_checks_them(kind: str, unit: str) -> None:
    url = f"pollsim://{kind}?scenario={TRAINING_PAPER}&seed=6&key={KEY.hex()}"
    readout = read_device(url, key=KEY)
    checks = check_readout(readout)
    assert checks["log_chain"] == "verified" and readout.verified_counter
    assert readout.status.polls == "final"
    if kind == "scanner":
        np.testing.assert_array_equal(readout.cvrs, model_ballots(TRAINING_PAPER, unit, seed=6))
    else:
        assert readout.counters.public == len(readout.cvrs) == model_cards(TRAINING_PAPER, seed=6) > 0


def test_a_pollbook_counts_the_days_check_ins_and_holds_no_ballots() -> None:
    readout = read_device(f"pollsim://pollbook?scenario={TRAINING}")
    check_readout(readout)
    assert readout.identity.kind == "electronic-poll-book"
    assert readout.cvrs is None and readout.tally is None
    assert 0 < readout.counters.public <= readout.counters.protective
    assert sum(e.event_id == "voter-checked-in" for e in readout.events) == readout.counters.public


def test_reads_honour_the_ports_timeout() -> None:
    with serial.serial_for_url("pollsim://bmd", timeout=0.2) as port:
        start = time.monotonic()
        assert port.read(10) == b""
        assert 0.15 < time.monotonic() - start < 1.0
        port.timeout = 0
        assert port.read(10) == b""


def test_a_device_without_a_scenario_waits_in_test_mode_for_its_test_deck() -> None:
    url = f"pollsim://dre?key={KEY.hex()}&election={TRAINING}"
    with serial.serial_for_url(url, timeout=0.01) as port:
        client = Client(port)
        client.identify()
        status = client.status()
        assert (status.polls, status.test_mode) == ("closed", True)  # the key went in in test mode
        assert len(client.read_all_cvrs()) == 0
        ballot = np.zeros(19, np.uint8)  # the training election's 19 choices
        ballot[[0, 3]] = 1
        for _ in range(3):
            counters = client.cast_test_ballot(ballot)
        assert (counters.public, counters.protective) == (0, 3)
        assert len(client.read_all_cvrs()) == 3  # in test mode the records are the test ballots
        with pytest.raises(RequestRefused) as wrong:
            client.open_polls("not-the-code")
        assert wrong.value.code is ErrorCode.AUTH_FAILED
        identity = client.identify()
        assert client.open_polls(identity.definition_hash[:8]).polls == "open"
        assert client.counters().public == 0 and len(client.read_all_cvrs()) == 0
        with pytest.raises(RequestRefused) as refused:
            client.cast_test_ballot(ballot)
        assert refused.value.code is ErrorCode.NOT_IN_TEST_MODE


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("pollsim://toaster", "device kind 'toaster'"),
        ("pollsim://dre?colour=red", "unknown option(s) colour"),
        ("pollsim://dre?corrupt=2", "corrupt rate 2.0"),
        ("pollsim://dre?scenario=/no/such.yaml", "no/such.yaml"),
    ],
)
def test_a_bad_url_is_refused_when_the_port_opens(url: str, message: str) -> None:
    with pytest.raises(serial.SerialException, match="pollsim://") as refused:
        serial.serial_for_url(url)
    assert message in str(refused.value)


def test_a_device_with_a_memory_file_comes_back_as_it_was_at_the_next_open(tmp_path) -> None:
    url = f"pollsim://scanner?state={tmp_path / 'scan.db'}&test-mode=1"
    ballot = np.zeros(9, np.uint8)
    ballot[0] = 1
    for expected in (1, 2):
        with serial.serial_for_url(url, timeout=0.01) as port:
            counters = Client(port).cast_test_ballot(ballot)
        assert counters.protective == expected


def test_a_device_past_test_mode_refuses_another_results_key(tmp_path) -> None:
    state = tmp_path / "dre.db"
    with serial.serial_for_url(f"pollsim://dre?scenario={TRAINING}&state={state}&key={KEY.hex()}", timeout=0.01) as port:
        wait_until_final(port)
    other = "ff" * 32
    with pytest.raises(serial.SerialException, match="key can be loaded only in test mode"):
        serial.serial_for_url(f"pollsim://dre?scenario={TRAINING}&state={state}&key={other}")
    with serial.serial_for_url(f"pollsim://dre?state={state}&election={TRAINING}", timeout=0.01) as port:
        assert Client(port).identify().sealed  # it kept its key
