"""The guide's sample suite: a county reader (reader.py) tested against pollsim's emulated devices.

Each test starts a device with the ``pollsim_device`` fixture, lets the reader read it over a
real pty (or a ``pollsim://`` URL), and compares what the reader got with the device's ground
truth (``controller.truth()``). Faults are injected mid-test through ``controller``.
"""

from __future__ import annotations

import numpy as np
import pytest
import serial
from reader import read_results

from pollsim.protocol import Client

KEY = bytes(range(32))  # the county's results key for these tests


@pytest.fixture
def paper_scenario(pollsim_scenario):
    """The same precinct voting on paper: hand-marked ballots into a scanner, and a BMD."""
    return pollsim_scenario.with_name("training-precinct-paper.yaml")


@pytest.mark.parametrize("kind", ["dre", "scanner", "bmd", "pollbook"])
def test_the_reader_gets_every_count_right(pollsim_device, paper_scenario, kind):
    # lives the scenario's day (the ini's, or the paper one): the polls are final
    device = pollsim_device(kind, key=KEY, **({"scenario": paper_scenario} if kind in ("scanner", "bmd") else {}))

    results = read_results(device.port, key=KEY)

    truth = device.controller.truth()
    assert results.polls == truth.polls == "final"
    assert results.public == truth.public > 0
    if kind != "pollbook":
        np.testing.assert_array_equal(results.cvrs, truth.cvrs)
        np.testing.assert_array_equal(results.paper, truth.paper)
        np.testing.assert_array_equal(results.tally, truth.tally)


def test_the_reader_sees_paper_out_mid_day(pollsim_device):
    device = pollsim_device("dre", until=40)  # polls open, 40 ballots cast
    control = device.controller

    control.paper_out()
    assert read_results(device.port).faults == ("paper_out",)
    assert control.vote(5) == 0  # the DRE refuses every voter until a new roll is in

    control.clear("paper_out")
    assert control.vote(5) == 5
    results = read_results(device.port)
    assert results.faults == () and results.public == control.truth().public == 45


def test_a_noisy_line_still_gives_a_complete_readout(pollsim_device):
    device = pollsim_device("dre", key=KEY)
    device.controller.line_noise(corrupt=0.005, drop=0.005)

    results = read_results(device.url, key=KEY)  # the pollsim:// URL crosses the same line

    truth = device.controller.truth()
    np.testing.assert_array_equal(results.cvrs, truth.cvrs)
    counts = device.controller.line_counts()
    assert counts["to_host_corrupted"] + counts["to_host_dropped"] > 0  # the line really was bad


def test_the_reader_flags_a_misrecording_dre(pollsim_device):
    device = pollsim_device("dre", until=0)
    device.controller.misrecord("us-senate", share=0.5)
    device.controller.finish_day()

    results = read_results(device.port)

    assert results.mismatched() == device.controller.truth().misrecorded().tolist() != []


def test_power_loss_mid_readout_and_back(pollsim_device, paper_scenario):
    device = pollsim_device("scanner", scenario=paper_scenario, until=30)
    with serial.Serial(device.port, timeout=0.01) as port:
        client = Client(port)
        assert client.counters().public == 30
        device.controller.power_loss()
        with pytest.raises(serial.SerialException):
            client.counters()

    device.controller.power_on()  # same port, a new pty behind it
    results = read_results(device.port)
    assert (results.polls, results.public) == ("paused", 30)
