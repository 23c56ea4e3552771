"""The reconcile and audit-schedule commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SCENARIOS


def pollsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pollsim.cli", *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(("votes", "printed"), [("20", "1"), ("21", "2"), ("80", "4"), ("81", "3"), ("500", "15"), ("501", "15")])
def test_reconcile_threshold_prints_the_statutory_threshold(votes, printed):
    proc = pollsim("reconcile", "threshold", votes)
    assert proc.returncode == 0 and proc.stdout.strip() == printed


def test_reconcile_threshold_refuses_nonsense():
    proc = pollsim("reconcile", "threshold", "lots")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "lots" in proc.stderr


def test_reconcile_writes_json_and_csv_and_flags_the_injected_precinct(tmp_path):
    text = (SCENARIOS / "training-precinct.yaml").read_text() + "errors:\n  - {precinct: training-1, kind: receipt_not_signed, count: 30}\n"
    scen = tmp_path / "s.yaml"
    scen.write_text(text)
    assert pollsim("run", str(scen), "--out", str(tmp_path / "R"), "--quiet").returncode == 0
    proc = pollsim("reconcile", str(tmp_path / "R"), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    [row] = doc["precincts"]
    assert row["flag_pollbook_vs_receipt_book"] and row["diff_pollbook_vs_receipt_book"] == 30
    assert doc["counties"] == {"Training": True}
    assert (tmp_path / "R" / "reconciliation.csv").read_text().startswith("precinct,county,a_pollbook_voted")
    assert json.loads((tmp_path / "R" / "reconciliation.json").read_text()) == doc


def test_reconcile_of_a_missing_run_dir_is_a_clear_error(tmp_path):
    proc = pollsim("reconcile", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "not a pollsim run directory" in proc.stderr and "Traceback" not in proc.stderr


def test_audit_schedule_prints_a_quarter_of_the_counties_reproducibly():
    args = ("audit-schedule", "--counties", str(ROOT / "src/pollsim/data/ms_counties.csv"), "--year", "2026", "--seed", "12345")
    a, b = pollsim(*args), pollsim(*args)
    assert a.returncode == 0 and a.stdout == b.stdout
    assert len(a.stdout.splitlines()) in (20, 21)
