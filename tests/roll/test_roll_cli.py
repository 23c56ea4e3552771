"""``pollsim roll simulate`` and ``pollsim roll pollbook``: files, determinism, errors, the printed pollbook."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from pollsim.cli import main
from pollsim.election.roll import RollStatus
from pollsim.roll import RollDir, precinct_pollbook
from pollsim.roll.calendar import day

ARGS = ["roll", "simulate", "--counties", "Issaquena,Sharkey", "--seed", "4", "--start", "2023-01-01", "--end", "2024-12-31", "--quiet"]


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def roll_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("roll") / "ROLL"
    assert main([*ARGS, "--out", str(out), "--compare"]) == 0
    return out


def test_writes_each_scheduled_election_from_start_to_end(roll_dir):
    doc = json.loads((roll_dir / "roll.json").read_text())
    assert [e["date"] for e in doc["elections"]] == ["2023-08-08", "2023-11-07", "2024-03-12", "2024-11-05"]
    assert doc["elections"][3]["deadline"] == "2024-10-07"
    assert {"counts.csv", "persons.npz", "history.npz", "policy.csv", "elections/2024-11-05.npz"} <= set(doc["files"])
    policy = (roll_dir / "policy.csv").read_text().splitlines()
    assert policy[0] == "election,county,measure,pre2024,2024,difference"


def test_same_seed_same_bytes(roll_dir, tmp_path):
    again = tmp_path / "again"
    assert main([*ARGS, "--out", str(again), "--compare"]) == 0
    assert _digests(again) == _digests(roll_dir)
    other = tmp_path / "other"
    assert main([*ARGS, "--out", str(other), "--seed", "5"]) == 0
    assert _digests(other)["persons.npz"] != _digests(roll_dir)["persons.npz"]


def test_pollbook_prints_the_section_23_15_125_columns(roll_dir, capsys):
    assert main(["roll", "pollbook", str(roll_dir), "--election", "2024-11-05", "--precinct", "28055-001"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("REG DATE"))
    assert header.split("  ")[0] == "REG DATE" and "REG NO" in header and "NAME" in header and "DATE OF BIRTH" in header
    assert "2024-03-12" in header and "2024-11-05" in header  # a column per election of the year
    assert "SYNTHETIC" in out and "Issaquena County" in out


def test_pollbook_csv_lists_only_registrations_by_the_deadline_in_name_order(roll_dir, capsys):
    assert main(["roll", "pollbook", str(roll_dir), "--election", "2024-11-05", "--precinct", "28125-001", "--csv"]) == 0
    header, *body = csv.reader(io.StringIO(capsys.readouterr().out))
    assert header == ["REG DATE", "REG NO", "NAME", "DATE OF BIRTH", "2024-03-12", "2024-11-05", "NOTE"]
    assert body and all(day(r[0]) <= day("2024-10-07") for r in body)
    names = [r[2] for r in body]
    assert names == sorted(names)
    book = precinct_pollbook(roll_dir, "2024-11-05", "28125-001")
    assert len(body) == book.registered
    assert sum(r[5] == "VOTED AB" for r in body) == book.voted_absentee > 0
    assert {r[5] for r in body} <= {"", "VOTED AB"}  # before the polls open only absentee voters are marked
    assert {r[4] for r in body} <= {"", "VOTED", "VOTED AB", "AFFIDAVIT"} and "VOTED" in {r[4] for r in body}
    assert sum(r[6].startswith("INACTIVE") for r in body) == book.inactive


def test_precinct_pollbook_gives_the_scenarios_roll_shares(roll_dir):
    rd = RollDir(roll_dir)
    _, a = rd.election("2024-11-05")
    k = rd.precinct_index("28125-001")
    book = precinct_pollbook(rd, "2024-11-05", "28125-001")
    mix = book.roll_mix()
    came = a["arrivals"][k]
    total = came.sum()
    assert total > 0
    assert mix.inactive == pytest.approx(came[RollStatus.INACTIVE] / total * (1 - mix.no_photo_id))
    assert mix.restored == pytest.approx(came[RollStatus.RESTORED] / total * (1 - mix.no_photo_id))
    assert mix.no_photo_id == 0.002  # not a roll matter: the scenario's default stays
    assert np.array_equal(a["precinct_start"][k + 1] - a["precinct_start"][k], book.registered)


def test_errors_are_one_line_and_exit_2(roll_dir, tmp_path, capsys):
    cases = [
        ["roll", "pollbook", str(roll_dir), "--election", "2024-11-06", "--precinct", "28125-001"],
        ["roll", "pollbook", str(roll_dir), "--election", "2024-11-05", "--precinct", "99999-001"],
        ["roll", "pollbook", str(tmp_path), "--election", "2024-11-05", "--precinct", "28125-001"],
        ["roll", "simulate", "--out", str(tmp_path / "x"), "--start", "2016-05-01"],
        ["roll", "simulate", "--out", str(tmp_path / "x"), "--counties", "Atlantis"],
        ["roll", "simulate", "--out", str(tmp_path / "x"), "--scale", "0"],
        ["roll", "simulate", "--out", str(tmp_path / "x"), "--start", "2020-13-01"],
        ["roll", "simulate", "--out", str(tmp_path / "x"), "--end", "2020-11-02"],  # before the calibration's pollbook
        [*ARGS, "--out", str(roll_dir)],  # holds a roll: needs --force
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("pollsim: ") and "Traceback" not in err, err


def test_a_changed_file_is_named(roll_dir, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(roll_dir, copy)
    target = copy / "elections" / "2024-11-05.npz"
    target.write_bytes(target.read_bytes()[:-10])
    assert main(["roll", "pollbook", str(copy), "--election", "2024-11-05", "--precinct", "28125-001"]) == 2
    err = capsys.readouterr().err
    assert "2024-11-05.npz" in err and "SHA-256" in err and err.count("\n") == 1


def test_a_roll_may_end_on_the_calibrations_election_day_and_writes_it(tmp_path):
    """--end 2020-11-03 (the pollbook the roll is calibrated to): that election is written and read back;
    an election after --end never is (the roll used to run on to 2020-12-04 and record what fell there)."""
    out = tmp_path / "R"
    assert main(["roll", "simulate", "--counties", "Issaquena", "--end", "2020-11-03", "--out", str(out), "--quiet"]) == 0
    rd = RollDir(out)
    assert rd.doc["end"] == "2020-11-03"
    assert [e["date"] for e in rd.elections] == ["2020-03-10", "2020-11-03"]
    _, a = rd.election("2020-11-03")
    assert a["precinct_start"][-1] == len(a["row"]) > 0
    history = rd.arrays("history.npz")
    assert history["date"].max() <= day("2020-11-03")  # nothing happens after the last day
