"""A run made with ``--roll`` carries the roll's tables, and its report shows them (issue 17, items 4 and 5).

Adams County's roll 2020-2028 under both suffrage laws (``--compare``, written once with the 2024
bill's pollbooks and once with the earlier law's), and the Adams scenario run on the pollbooks of
the November 2028 general: the run directory holds the roll's tables for that election as the roll
directory has them, hash-checked; the day's affidavit ballots by reason follow the roll's law; the
report's "Voter roll" section shows the two laws side by side.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from pollsim.cli import main
from pollsim.election.roll import RollStatus
from pollsim.precinct.result import Outcome
from pollsim.report import build_report
from pollsim.rundir import RunDir
from tests.conftest import SCENARIOS

ELECTION = "2028-11-07"
ADAMS = str(SCENARIOS / "ms-2020-adams.yaml")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """{law: (roll directory, run directory)}: the same population, each law's pollbooks, the same day seed."""
    base = tmp_path_factory.mktemp("rollrun")
    out = {}
    for law in ("2024", "pre2024"):
        roll, run = base / f"roll-{law}", base / f"run-{law}"
        assert main(["roll", "simulate", "--counties", "Adams", "--compare", "--law", law, "--out", str(roll), "--quiet"]) == 0
        proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "run", ADAMS, "--roll", str(roll), "--election", ELECTION, "--out", str(run), "--quiet"],
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        build_report(run)
        out[law] = (roll, run)
    return out


def test_the_run_names_its_roll_and_holds_its_tables_hash_checked(made):
    roll, run = made["2024"]
    rd = RunDir(run)
    assert rd.check_files() == []
    s = rd.summary["roll"]
    assert s["roll_json_sha256"] == hashlib.sha256((roll / "roll.json").read_bytes()).hexdigest()
    assert (s["election"], s["deadline"], s["law"], s["counties"], s["compared"]) == (ELECTION, "2028-10-09", "2024", ["Adams"], True)
    assert {"roll_counts.csv", "roll_policy.csv"} <= set(rd.files)
    for name in ("roll_counts.csv", "roll_policy.csv"):
        assert rd.files[name] == hashlib.sha256((run / name).read_bytes()).hexdigest()
    # the tables are the roll directory's rows for that election, Adams and the total (= Adams)
    theirs = [r for r in _rows((roll / "counts.csv").read_text()) if r["election"] == ELECTION and r["county"] == "Adams"]
    ours = _rows((run / "roll_counts.csv").read_text())
    assert [r["county"] for r in ours] == ["Adams", "total"]
    assert ours[0] == theirs[0] and {k: v for k, v in ours[1].items() if k != "county"} == {k: v for k, v in theirs[0].items() if k != "county"}
    policy = {(r["county"], r["measure"]): r for r in _rows((run / "roll_policy.csv").read_text())}
    source = {r["measure"]: r for r in _rows((roll / "policy.csv").read_text()) if r["election"] == ELECTION and r["county"] == "Adams"}
    assert all(policy["total", m] == {**source[m], "county": "total"} for m in source)


def test_the_days_affidavit_ballots_by_reason_are_counted_from_its_voters(made):
    _, run = made["2024"]
    s = json.loads((run / "summary.json").read_text())["roll"]
    with np.load(run / "voters.npz") as z:
        status, outcome = z["status"], z["outcome"]
    aff = outcome == Outcome.AFFIDAVIT
    for name, n in s["affidavit_by_reason"].items():
        assert n == int((status[aff] == RollStatus[name.upper()]).sum()), name
    assert sum(s["affidavit_by_reason"].values()) == json.loads((run / "summary.json").read_text())["affidavit_ballots"]
    assert s["waits"]["affidavit_voters"] == int(aff.sum())


def test_the_earlier_law_gives_more_affidavit_ballots_off_the_roll_at_the_polls_and_in_the_table(made):
    """Same people, same day seed: under the earlier law people whose sentence is complete are not on the roll."""
    s = {law: json.loads((run / "summary.json").read_text())["roll"] for law, (_, run) in made.items()}
    assert s["pre2024"]["pollbook"]["restored"] == 0 < s["2024"]["pollbook"]["restored"]
    assert s["pre2024"]["roll_arrivals"]["not_on_roll"] > s["2024"]["roll_arrivals"]["not_on_roll"]
    assert s["pre2024"]["affidavit_by_reason"]["not_on_roll"] > s["2024"]["affidavit_by_reason"]["not_on_roll"]
    policy = {r["measure"]: r for r in _rows((made["2024"][1] / "roll_policy.csv").read_text()) if r["county"] == "total"}
    assert int(policy["affidavit_completed_sentence"]["pre2024"]) > int(policy["affidavit_completed_sentence"]["2024"])
    # both rolls hold the same comparison: the same population
    other = {r["measure"]: r for r in _rows((made["pre2024"][1] / "roll_policy.csv").read_text()) if r["county"] == "total"}
    assert other == policy


def test_the_report_shows_the_roll_section_with_the_runs_tables(made):
    _, run = made["2024"]
    html = (run / "report.html").read_text(encoding="utf-8")
    assert '<section id="roll"' in html and ">Voter roll<" in html
    counts = _rows((run / "roll_counts.csv").read_text())[-1]
    for key in ("active", "inactive", "restored", "notices", "removed_felony"):
        assert f'data-key="roll_{key}" data-value="{int(counts[key])}"' in html, key
    policy = {r["measure"]: r for r in _rows((run / "roll_policy.csv").read_text()) if r["county"] == "total"}
    row = policy["affidavit_completed_sentence"]
    table = html[html.index('id="roll-policy"') :]
    assert f'<td class="text">affidavit completed sentence</td><td>{int(row["pre2024"]):,}</td><td>{int(row["2024"]):,}</td>' in table


def test_a_changed_roll_table_is_named_and_no_report_is_made(made, tmp_path):
    import shutil

    _, run = made["2024"]
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "roll_policy.csv").write_text((copy / "roll_policy.csv").read_text() + f"{ELECTION},total,active,0,0,0\n")
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "report", str(copy)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "roll_policy.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
