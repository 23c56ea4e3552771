"""Reading precincts' devices over real ptys (``pollsim run --serial K``): the same bytes as the
in-process records, and a read that must not be accepted is refused. Real ptys, real pyserial."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from pollsim import cli
from pollsim.night import readin
from pollsim.night.readin import ReadinError, compare_readin, emulated_device, read_over_serial, serial_readin
from pollsim.precinct.election_day import run_election_day
from pollsim.scenario import Scenario
from tests.conftest import SCENARIOS, scenario_from

KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))
POLLSIM = [sys.executable, "-m", "pollsim.cli"]


def issaquena() -> dict:
    """Mississippi 2020 in one county: Issaquena, 5 precincts on DREs."""
    d = yaml.safe_load((SCENARIOS / "ms-2020-general.yaml").read_text())
    d["mississippi"]["counties"] = ["Issaquena"]
    return d


@pytest.fixture(scope="module")
def issaquena_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "issaquena.yaml"
    path.write_text(yaml.safe_dump(issaquena(), sort_keys=False))
    return path


@pytest.fixture(scope="module")
def county_run():
    return run_election_day(Scenario.model_validate(issaquena()), seed=3)


def in_process(run, pi: int, device_id: str) -> tuple[np.ndarray, np.ndarray]:
    p = run.precincts[pi]
    rows = p.ballot_device == [d.device_id for d in p.devices].index(device_id)
    return p.cvr[rows], p.paper[rows]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_the_serial_path_returns_exactly_the_in_process_matrices(county_run):
    fds, threads = open_fds(), threading.active_count()
    got = read_over_serial(county_run, [0, 1, 2], KEY)
    expected = [(pi, d.device_id) for pi in range(3) for d in county_run.precincts[pi].devices]
    assert list(got) == expected  # every DRE (the accessible unit too), in precinct then device order
    for (pi, device_id), (cvr, paper) in got.items():
        day_cvr, day_paper = in_process(county_run, pi, device_id)
        assert cvr.dtype == paper.dtype == np.uint8
        assert np.array_equal(cvr, day_cvr) and np.array_equal(paper, day_paper)
    assert sum(len(cvr) for cvr, _ in got.values()) == sum(county_run.precincts[pi].ballots_cast for pi in range(3))
    compare_readin(county_run, got)
    assert (open_fds(), threading.active_count()) == (fds, threads)  # every pty and thread closed


def test_the_emulated_unit_holds_the_days_ballots_with_matching_counters_and_log(county_run):
    p = county_run.precincts[0]
    service = emulated_device(county_run, 0, 0, KEY)
    cvr, paper, _ = service.device.store.ballots()
    assert np.array_equal(cvr, in_process(county_run, 0, "DRE-1")[0])
    counters = service.counters()
    assert counters.public == counters.protective == p.devices[0].public_count == len(cvr)
    assert [e.type for e in service.device.log.entries].count("ballot-cast") == len(cvr)
    assert service.status().polls == "final" and "RESULTS TAPE" in service.results_tape


def test_a_misrecording_unit_and_a_scanner_are_read_layer_by_layer(training_dict, training_paper):
    incidents = [{"at": "06:00", "device": "DRE-1", "kind": "misrecording", "contest": "us-senate", "to": "pruitt",
                  "share": 1.0, "minutes": 24 * 60 - 1}]  # fmt: skip
    run = run_election_day(scenario_from(training_dict, incidents=incidents), seed=3)
    got = read_over_serial(run, [0], KEY)
    cvr, paper = got[(0, "DRE-1")]
    assert not np.array_equal(cvr, paper)  # the CVRs were changed, the VVPAT kept the votes
    assert np.array_equal(cvr, in_process(run, 0, "DRE-1")[0]) and np.array_equal(paper, in_process(run, 0, "DRE-1")[1])
    paper_run = run_election_day(training_paper, seed=3)
    got = read_over_serial(paper_run, [0], KEY)
    assert list(got) == [(0, "SCAN-1")]  # the BMD's cards were cast by the scanner: no card of its own
    assert np.array_equal(got[(0, "SCAN-1")][0], paper_run.precincts[0].cvr)


def test_a_reader_with_the_wrong_key_refuses_the_results_and_cleans_up(county_run):
    fds, threads = open_fds(), threading.active_count()
    with pytest.raises(ReadinError, match=r"precinct 28055-001 DRE-1 refused: /dev/pts/\d+: IDENTIFY reply is forged") as error:
        read_over_serial(county_run, [0, 1], KEY, reader_key=OTHER_KEY)
    assert "\n" not in str(error.value)
    assert (open_fds(), threading.active_count()) == (fds, threads)


def test_a_device_whose_memory_disagrees_with_the_day_is_named(county_run):
    def altered(run, pi, k, key):  # a sealed, genuine readout of a card that holds other votes
        service = emulated_device(run, pi, k, key)
        if (pi, k) == (1, 0):
            service.device.store.cvr[4] = 1 - service.device.store.cvr[4]
        return service

    got = read_over_serial(county_run, [0, 1], KEY, device=altered)
    with pytest.raises(ReadinError, match="precinct 28055-002 DRE-1: CVRs read over serial differ .* row 4"):
        compare_readin(county_run, got)


def test_serial_readin_summarises_what_was_read(county_run):
    section = serial_readin(county_run, 2)
    width = county_run.election.width
    ballots = sum(county_run.precincts[pi].ballots_cast for pi in range(2))
    devices = sum(len(county_run.precincts[pi].devices) for pi in range(2))
    assert section == {"precincts": 2, "devices": devices, "bytes": ballots * width, "identical": True}
    assert serial_readin(county_run, 99)["precincts"] == len(county_run.precincts)  # all of them
    with pytest.raises(ReadinError):
        serial_readin(county_run, -1)


def run_cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([*POLLSIM, "run", *map(str, args), "--quiet"], capture_output=True, text=True, timeout=120)


def test_pollsim_run_serial_writes_the_same_run_plus_its_readin_section(issaquena_file, tmp_path):
    plain, serial = tmp_path / "plain", tmp_path / "serial"
    for out, extra in ((plain, ()), (serial, ("--serial", 2))):
        done = run_cli(issaquena_file, "--seed", 3, "--out", out, *extra)
        assert done.returncode == 0, done.stderr
    summary = json.loads((serial / "summary.json").read_text())
    section = summary.pop("serial_readin")
    assert (json.dumps(summary, indent=2) + "\n").encode() == (plain / "summary.json").read_bytes()
    assert section["precincts"] == 2 and section["identical"] is True and section["bytes"] > 0
    for name in ("ballots.npz", "devices.csv", "eventlog.npz", "precincts.csv", "reporting.csv"):
        assert (serial / name).read_bytes() == (plain / name).read_bytes(), name


def test_pollsim_run_refuses_a_tampered_read_with_exit_status_2(issaquena_file, tmp_path, monkeypatch, capsys):
    real = readin.read_over_serial
    monkeypatch.setattr(readin, "read_over_serial", lambda run, indices, key: real(run, indices, key, reader_key=OTHER_KEY))
    out = tmp_path / "run"
    assert cli.main(["run", str(issaquena_file), "--seed", "3", "--out", str(out), "--serial", "1", "--quiet"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("pollsim: serial read-in of precinct 28055-001 DRE-1 refused: /dev/pts/")
    assert "forged" in line
    assert not out.exists()  # nothing written


def test_pollsim_run_refuses_a_device_that_disagrees_and_a_negative_count(issaquena_file, tmp_path, monkeypatch, capsys):
    def altered(run, pi, k, key):
        service = emulated_device(run, pi, k, key)
        if (pi, k) == (0, 0):
            service.device.store.paper[0] = 1 - service.device.store.paper[0]
        return service

    real = readin.read_over_serial
    monkeypatch.setattr(readin, "read_over_serial", lambda run, indices, key: real(run, indices, key, device=altered))
    out = tmp_path / "run"
    assert cli.main(["run", str(issaquena_file), "--seed", "3", "--out", str(out), "--serial", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "precinct 28055-001 DRE-1: paper records read over serial differ" in err and not out.exists()
    assert cli.main(["run", str(issaquena_file), "--out", str(out), "--serial", "-1", "--quiet"]) == 2
    assert "--serial -1" in capsys.readouterr().err
