"""A county's devices at once (issue 14 item 6): ``pollsim serve --county`` serves every DRE and
scanner of the county on its own real pty and writes the manifest; ``pollsim read --manifest``
reads them all with a few ports and the tallies are the day's. No mocks: subprocesses, real ptys,
pyserial."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import serial

from pollsim.cli import main
from pollsim.emulator.afterday import FIRMWARE
from pollsim.emulator.manifest import COLUMNS, read_manifest
from pollsim.precinct.election_day import run_election_day
from pollsim.protocol import Client
from pollsim.scenario import load_scenario
from pollsim.tabulate.tally import tally_votes
from tests.emulator.conftest import KEY, POLLSIM, ROOT, TRAINING, start_serve, wait_until_final

ADAMS = ROOT / "scenarios" / "ms-2020-adams.yaml"
STATEWIDE = ROOT / "scenarios" / "ms-2020-general.yaml"


@dataclass
class County:
    """A ``pollsim serve --county`` process and the manifest it wrote."""

    process: subprocess.Popen
    manifest: Path

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def serve_county(manifest: Path, *args: object) -> County:
    """Start ``pollsim serve ARGS --manifest MANIFEST``; wait for its first line (the manifest)."""
    process = subprocess.Popen([*POLLSIM, "serve", *map(str, args), "--manifest", str(manifest)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 180)
    line = process.stdout.readline().decode().strip() if ready else ""
    if line != str(manifest):
        process.kill()
        process.wait()
        raise AssertionError(f"pollsim serve printed {line!r} first (exit status {process.returncode})")
    return County(process, manifest)


def read_manifest_cli(manifest: Path, out: Path, *args: object) -> subprocess.CompletedProcess:
    command = [*POLLSIM, "read", "--manifest", str(manifest), "--out", str(out), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def adams_day():
    """Adams County's day as ``pollsim run`` simulates it (seed 1, no absentee section)."""
    scenario = load_scenario(ADAMS)
    assert scenario.absentee is None
    return run_election_day(scenario, seed=1)


@pytest.fixture(scope="module")
def adams(tmp_path_factory):
    manifest = tmp_path_factory.mktemp("county") / "adams.csv"
    county = serve_county(manifest, "--scenario", ADAMS, "--county", "Adams", "--seed", 1, "--key", KEY.hex())
    yield county
    assert county.stop() == 0
    assert not manifest.exists()  # its ports are gone: no stale manifest left to mislead a reader


def day_rows(day, precincts=None) -> list[dict]:
    """What summary.json must say per precinct: the day's ballots and the tally of its CVRs."""
    rows = []
    for p in day.precincts:
        if precincts is not None and p.precinct not in precincts:
            continue
        units = sum(d.kind in FIRMWARE for d in p.devices)
        rows.append({"precinct": p.precinct, "county": p.county, "devices": units, "read": units,
                     "ballots": p.ballots_cast, "tally": tally_votes(day.election, p.cvr).tolist()})  # fmt: skip
    return rows


def test_every_device_of_the_county_is_served_and_read_with_two_ports(adams, adams_day, tmp_path):
    entries = read_manifest(adams.manifest)
    expected = [(p.precinct, d.device_id, d.kind) for p in adams_day.precincts for d in p.devices if d.kind in FIRMWARE]
    assert [(e.precinct, e.unit, e.kind) for e in entries] == expected
    assert len(entries) == 118 and {e.county for e in entries} == {"Adams"}
    assert len({e.port for e in entries}) == len({e.serial for e in entries}) == len(entries)
    assert all(os.path.exists(e.port) for e in entries)

    result = read_manifest_cli(adams.manifest, tmp_path / "read", "--ports", 2, "--key", KEY.hex())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "118 of 118 devices read and checked with 2 ports" in result.stdout
    summary = json.loads((tmp_path / "read" / "summary.json").read_text())
    assert summary["precincts"] == day_rows(adams_day)
    assert summary["failed"] == [] and summary["read"] == summary["devices"] == 118
    assert summary["totals"]["ballots"] == sum(p.ballots_cast for p in adams_day.precincts) == 13759
    assert summary["totals"]["tally"] == tally_votes(adams_day.election, np.concatenate([p.cvr for p in adams_day.precincts])).tolist()
    run = subprocess.run([*POLLSIM, "run", str(ADAMS), "--seed", "1", "--out", str(tmp_path / "run"), "--quiet"],
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr
    with np.load(tmp_path / "run" / "ballots.npz") as ballots:  # the tallies of pollsim run's own ballots
        assert [row["tally"] for row in summary["precincts"]] == [
            tally_votes(adams_day.election, ballots["cvr"][ballots["precinct"] == i]).tolist() for i in range(19)]  # fmt: skip
    for e in entries:  # each unit filed as pollsim read files it, seals verified
        folder = tmp_path / "read" / e.precinct / e.unit
        identity = json.loads((folder / "identity.json").read_text())
        assert (identity["serial"], identity["device_id"], identity["port"]) == (e.serial, e.device_id, e.port)
        checks = json.loads((folder / "verification.json").read_text())
        assert checks["seals"]["verified"] and checks["log_chain"] == "verified"


def _reader_has_open(pid: int, port: str) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == port for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_a_device_killed_mid_read_fails_alone(adams, adams_day, tmp_path):
    lone = start_serve("dre", "--scenario", TRAINING, "--key", KEY.hex(), "--device-id", 4000, "--baud", 2400)
    try:
        wait_until_final(lone.path)  # its day is over: the county reads it as any other unit
        entries = read_manifest(adams.manifest)
        three = {p.precinct for p in adams_day.precincts[:3]}
        lines = [",".join(COLUMNS), f"{lone.path},dre,PS-DRE-04000,4000,DRE-1,28055-001,Training"]
        lines += [f"{e.port},{e.kind},{e.serial},{e.device_id},{e.unit},{e.precinct},{e.county}" for e in entries if e.precinct in three]
        manifest = tmp_path / "manifest.csv"
        manifest.write_text("\n".join(lines) + "\n")
        out = tmp_path / "read"
        reader = subprocess.Popen([*POLLSIM, "read", "--manifest", str(manifest), "--out", str(out), "--ports", "2",
                                   "--key", KEY.hex()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while not _reader_has_open(reader.pid, lone.path):  # the station has the lone unit's port open
            assert reader.poll() is None and time.monotonic() < deadline, "the station never opened the port"
            time.sleep(0.01)
        time.sleep(0.3)  # at 2,400 baud its readout takes minutes: it is mid-read
        lone.kill()  # power lost
        stdout, stderr = reader.communicate(timeout=600)
    finally:
        lone.kill()
    assert reader.returncode == 2
    assert len(stderr.splitlines()) == 1 and stderr.startswith(f"pollsim: {lone.path}: "), stderr
    assert "Traceback" not in stderr and "IDENTIFY gives" not in stderr and "cannot open" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [(f["port"], f["unit"]) for f in summary["failed"]] == [(lone.path, "DRE-1")]
    assert summary["failed"][0]["reason"] in stderr
    assert summary["precincts"][0]["read"] == 0 and summary["precincts"][0]["tally"] is None
    assert summary["precincts"][1:] == day_rows(adams_day, three)  # the rest were read, their tallies the day's
    assert "of " in stdout and f"{summary['read']} of {summary['devices']} devices" in stdout


def test_a_unit_that_is_not_the_one_listed_is_refused_by_name(adams, tmp_path):
    entries = read_manifest(adams.manifest)[:3]
    rows = [[e.port, e.kind, e.serial, str(e.device_id), e.unit, e.precinct, e.county] for e in entries]
    rows[1][2] = "PS-DRE-99999"
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join([",".join(COLUMNS)] + [",".join(r) for r in rows]) + "\n")
    result = read_manifest_cli(manifest, tmp_path / "read", "--ports", 2, "--key", KEY.hex())
    assert result.returncode == 2
    assert result.stderr == (f"pollsim: {entries[1].port}: IDENTIFY gives serial {entries[1].serial}, "
                             f"the manifest's line 3 lists PS-DRE-99999\n")  # fmt: skip
    summary = json.loads((tmp_path / "read" / "summary.json").read_text())
    assert summary["read"] == 2 and not (tmp_path / "read" / entries[1].precinct / entries[1].unit).exists()


HEADER = ",".join(COLUMNS)
GOOD = "/dev/pts/65000,dre,PS-DRE-00001,1,DRE-1,28001-001,Adams"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "m.csv: no such manifest"),
        (f"{HEADER}\n", "m.csv: lists no device"),
        ("port,kind,device_id,unit,precinct,county\n" + GOOD, "m.csv line 1: no column 'serial' in the header"),
        (f"{HEADER}\n{GOOD}\n/dev/pts/65001,dre,PS-DRE-00002,x,DRE-2,28001-001,Adams\n", "m.csv line 3: field 'device_id': 'x' is not"),
        (f"{HEADER}\n/dev/pts/65001,toaster,PS-1,2,T-1,28001-001,Adams\n", "m.csv line 2: field 'kind': 'toaster'"),
        (f"{HEADER}\n/dev/pts/65001,dre,,2,DRE-2,28001-001,Adams\n", "m.csv line 2: field 'serial' is empty"),
        (f"{HEADER}\n{GOOD}\n{GOOD}\n", "m.csv line 3: field 'port': /dev/pts/65000 is listed already on line 2"),
        (f"{HEADER}\n{GOOD},extra\n", "m.csv line 2: 8 fields, the header has 7"),
        (f"{HEADER}\n/dev/pts/65001,dre,PS-1,70000,DRE-1,28001-001,Adams\n", "m.csv line 2: field 'device_id': '70000'"),
        (b"\xff\xfe\x00binary", "m.csv: not UTF-8 text"),
    ],
)
def test_a_bad_manifest_is_one_line_naming_file_line_and_field(tmp_path, capsys, text, expected):
    path = tmp_path / "m.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    assert main(["read", "--manifest", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pollsim: {tmp_path}/{expected}") and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()  # nothing read, nothing written


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve", "--county", "Adams", "--manifest", "m.csv"], "give a device KIND, or --scenario S with --county"),
        (["serve", "dre", "--county", "Adams", "--scenario", str(ADAMS), "--manifest", "m.csv"], "KIND: for one device"),
        (["serve", "--scenario", str(ADAMS), "--county", "Adams"], "give a device KIND, or --scenario S"),
        (["serve", "--scenario", str(ADAMS), "--county", "Hinds", "--manifest", "m.csv"], "--county Hinds: scenario ms-2020-adams has no precinct in that county (its counties: Adams)"),
        (["serve", "--scenario", str(ADAMS), "--precincts", "0", "--manifest", "m.csv"], "--precincts 0: the number of precincts"),
        (["read"], "give PORT and --out DIR (or --manifest FILE)"),
        (["read", "--manifest", "m.csv", "--ports", "0"], "--ports 0: the station needs at least one reader port"),
    ],
)
def test_wrong_combinations_are_one_line(tmp_path, capsys, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.csv").write_text(f"{HEADER}\n{GOOD}\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_over_200_devices_are_served_at_once_and_all_identify(tmp_path):
    """36 precincts of the statewide scenario: every unit on its own pty, all held open at once
    by the reader, every one answering IDENTIFY as the unit its manifest line names."""
    county = serve_county(tmp_path / "state.csv", "--scenario", STATEWIDE, "--precincts", 36)
    try:
        entries = read_manifest(county.manifest)
        assert len(entries) >= 200
        assert len({e.port for e in entries}) == len(entries)
        # Every port held open at once (one descriptor each: pyserial's select() cannot take a
        # process with more than 1,024 descriptors, and each Serial holds five), then each unit
        # asked IDENTIFY through pyserial while all the others are still connected.
        held = [os.open(e.port, os.O_RDWR | os.O_NOCTTY) for e in entries]
        try:
            for e in entries:
                with serial.Serial(e.port, timeout=0.01) as port:
                    ident = Client(port, ack_timeout=2.0).identify()
                assert (ident.kind, ident.serial, ident.device_id) == (e.kind, e.serial, e.device_id)
            status = Path(f"/proc/{county.process.pid}/status").read_text()
            threads = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))
            assert threads >= 2 * len(entries)  # each port's transmitter, and a live session per port
        finally:
            for fd in held:
                os.close(fd)
    finally:
        assert county.stop() == 0
    assert not county.manifest.exists()


def test_a_noisy_county_is_read_whole_and_the_same_seed_serves_the_same_devices(adams, adams_day, tmp_path):
    """Each device's line flips and loses bytes both ways (its own seeded noise); the station
    still reads every record, and a second server of the same scenario and seed lists the same
    units with the same serials as the first (only the ports differ)."""
    noisy = serve_county(tmp_path / "noisy.csv", "--scenario", ADAMS, "--precincts", 2, "--seed", 1,
                         "--corrupt", 0.002, "--drop", 0.002, "--key", KEY.hex())  # fmt: skip
    try:
        entries = read_manifest(noisy.manifest)
        first = [e for e in read_manifest(adams.manifest) if e.precinct in {p.precinct for p in adams_day.precincts[:2]}]
        assert [(e.kind, e.serial, e.device_id, e.unit, e.precinct) for e in entries] == [
            (e.kind, e.serial, e.device_id, e.unit, e.precinct) for e in first]  # fmt: skip
        result = read_manifest_cli(noisy.manifest, tmp_path / "read", "--ports", 2, "--key", KEY.hex())
    finally:
        assert noisy.stop() == 0
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "read" / "summary.json").read_text())
    assert summary["precincts"] == day_rows(adams_day, {p.precinct for p in adams_day.precincts[:2]})
    damaged = [json.loads((tmp_path / "read" / e.precinct / e.unit / "verification.json").read_text())["corrupt_frames"] for e in entries]
    assert sum(damaged) > 0  # the noise was there, and was recovered from
