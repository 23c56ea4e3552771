"""Faults injected mid-test through the plugin's controller, in inner pytest sessions (pytester):
paper out and jams make the device refuse as docs/protocol.md says, misrecording splits the CVRs
from the paper, line noise still gives a complete readout (pyserial and pollsim's Client, over
the pty and the pollsim:// URL), and a power loss takes the port away and brings it back paused."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "scenarios" / "training-precinct.yaml"
PAPER = ROOT / "scenarios" / "training-precinct-paper.yaml"

HEADER = """
import numpy as np, pytest, serial
from pollsim.errors import PollsimError
from pollsim.protocol import Client, ErrorCode, LinkError, RequestRefused

def client(port):
    return Client(serial.Serial(port, timeout=0.01))
"""


def run_inner(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=HEADER + source)
    return pytester.runpytest("-p", "no:cacheprovider", "--pollsim-scenario", str(TRAINING), "--pollsim-seed", "1")


def test_paper_out_and_jams_make_the_device_refuse_as_documented(pytester) -> None:
    result = run_inner(pytester, f"""
def test_paper_out_mid_day(pollsim_device):
    device = pollsim_device("dre", until=20)
    control, reader = device.controller, client(device.port)
    assert reader.status().polls == "open" and reader.counters().public == 20
    assert control.paper_out().faults == ("paper_out",)
    assert reader.status().faults == ("paper_out",)          # STATUS tells the reader
    with pytest.raises(RequestRefused) as refused:             # no tape without paper
        reader.print_zero_tape()
    assert refused.value.code == ErrorCode.DEVICE_FAULT
    assert control.vote(5) == 0                                # every voter refused
    truth = control.truth()
    assert truth.public == 20 and truth.event_ids()[-1] == "ballot-refused"
    control.clear()                                            # a new roll
    assert reader.status().faults == ()
    assert control.vote(5) == 5 and reader.counters().public == 25
    assert control.finish_day() == len(device.day.ballots) - 25
    assert reader.status().polls == "final" and "fault-cleared" in control.truth().event_ids()

def test_a_jammed_scanner(pollsim_device):
    device = pollsim_device("scanner", scenario={str(PAPER)!r}, until=5)
    assert device.controller.jam().faults == ("scanner_jam",)
    assert device.controller.vote(1) == 0
    with pytest.raises(PollsimError, match="refused ballot 6"):
        device.controller.finish_day()
    device.controller.clear("scanner_jam")
    device.controller.finish_day()
    assert client(device.port).counters().public == len(device.day.ballots)

def test_unknown_faults_and_kinds_are_one_line_errors(pollsim_device):
    device = pollsim_device("dre", scenario=None)
    with pytest.raises(PollsimError, match="unknown fault 'toner_low'"):
        device.controller.fault("toner_low")
    with pytest.raises(PollsimError, match="unknown device kind 'toaster'"):
        pollsim_device("toaster")
    with pytest.raises(PollsimError, match="no faults to inject"):
        pollsim_device("pollbook").controller.paper_out()
""")
    result.assert_outcomes(passed=3)


def test_misrecording_splits_the_cvrs_from_the_paper(pytester) -> None:
    result = run_inner(pytester, """
def test_misrecord(pollsim_device):
    device = pollsim_device("dre", until=10)
    device.controller.misrecord("us-senate", share=1.0, to="odom")
    device.controller.finish_day()
    reader = client(device.port)
    cvrs, paper = reader.read_all_cvrs(), reader.paper_records()
    truth = device.controller.truth()
    np.testing.assert_array_equal(cvrs, truth.cvrs)
    np.testing.assert_array_equal(paper, device.day.ballots)   # the paper keeps what voters chose
    moved = (cvrs != paper).any(axis=1)
    assert not moved[:10].any() and moved[10:].sum() > 0        # only ballots after the fault
    assert list(np.flatnonzero(moved)) == list(truth.misrecorded())
    odom = device.election.column_of("us-senate", "odom")
    assert truth.totals()["us-senate"]["odom"] == int(cvrs[:, odom].sum()) > int(paper[:, odom].sum())
""")
    result.assert_outcomes(passed=1)


def test_line_noise_mid_test_still_gives_a_complete_readout(pytester) -> None:
    result = run_inner(pytester, """
def read(client):
    for _ in range(5):
        try:
            return client.read_all_cvrs(), client.paper_records(), client.event_log()
        except LinkError:
            continue
    raise AssertionError("no complete readout in 5 tries")

@pytest.mark.parametrize("via", ["port", "url"])
def test_noise(pollsim_device, via):
    device = pollsim_device("dre")
    port = serial.serial_for_url(getattr(device, via), timeout=0.01)
    reader = Client(port)
    clean = read(reader)
    assert reader.link.stats.corrupt == 0
    device.controller.line_noise(corrupt=0.01, drop=0.01)    # mid-test, on the open port
    cvrs, paper, events = read(reader)
    truth = device.controller.truth()
    np.testing.assert_array_equal(cvrs, truth.cvrs)
    np.testing.assert_array_equal(paper, truth.paper)
    assert [e.hash for e in events] == [e.hash for e in truth.events] == [e.hash for e in clean[2]]
    counts = device.controller.line_counts()
    assert counts["to_host_corrupted"] and counts["to_host_dropped"] and counts["to_device_corrupted"]
    assert reader.link.stats.corrupt > 0                       # the reader saw damaged frames
    device.controller.clean_line()
    before = device.controller.line_counts()
    np.testing.assert_array_equal(read(reader)[0], truth.cvrs)
    after = device.controller.line_counts()
    assert after["to_host"] > before["to_host"] and after["to_host_corrupted"] == before["to_host_corrupted"]
    port.close()

def test_a_bad_rate_is_refused(pollsim_device):
    with pytest.raises(PollsimError, match="corrupt rate 1.5 is not in"):
        pollsim_device("dre").controller.line_noise(corrupt=1.5)
""")
    result.assert_outcomes(passed=3)


def test_power_loss_takes_the_port_away_and_brings_the_device_back_paused(pytester) -> None:
    result = run_inner(pytester, """
def test_power(pollsim_device):
    device = pollsim_device("dre", until=15, key=bytes(range(32)))
    reader = client(device.port)
    assert reader.counters().public == 15
    device.controller.power_loss()
    with pytest.raises(serial.SerialException):                # as a USB unplug
        reader.counters()
    with pytest.raises(serial.SerialException, match="powered off"):
        serial.serial_for_url(device.url)
    device.controller.power_on()
    reader = client(device.port)                               # same path, a new pty behind it
    status = reader.status()
    assert (status.polls, reader.counters().public) == ("paused", 15)
    assert device.controller.vote(1) == 0                      # not open again until the manager opens it
    device.controller.open_polls()
    device.controller.finish_day()
    truth = device.controller.truth()
    assert truth.public == len(truth.cvrs) == len(device.day.ballots)   # no ballot lost or cast twice
    assert truth.event_ids().count("power-on") == 1 and "state-suspended" in truth.event_ids()
    np.testing.assert_array_equal(truth.paper, device.day.ballots)

def test_without_memory_a_power_loss_loses_everything(pollsim_device):
    device = pollsim_device("dre", until=15, memory=False)
    device.controller.power_loss()
    device.controller.power_on()
    truth = device.controller.truth()
    assert (truth.state, truth.public, truth.protective) == ("pre-election", 0, 0)
""")
    result.assert_outcomes(passed=2)


def test_a_day_lived_while_the_reader_reads_survives_a_power_loss(pytester) -> None:
    result = run_inner(pytester, """
import time

def wait_final(device):
    reader, deadline = client(device.port), time.monotonic() + 120
    while reader.status().polls != "final":
        assert time.monotonic() < deadline, "the polls never closed"
        time.sleep(0.05)
    reader.link.port.close()

def test_speed(pollsim_device):
    device = pollsim_device("dre", speed=20000)        # 12 simulated hours in about 2 s
    reader = client(device.port)
    while reader.counters().public == 0:
        time.sleep(0.01)
    device.controller.power_loss()                      # somewhere in the day
    device.controller.power_on()                        # resumes the polls, goes on with the day
    wait_final(device)
    truth = device.controller.truth()
    np.testing.assert_array_equal(truth.paper, device.day.ballots)   # each voter's ballot once
    assert truth.public == len(device.day.ballots) and "power-on" in truth.event_ids()
""")
    result.assert_outcomes(passed=1)
