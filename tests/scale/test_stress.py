"""pollsim stress: whole nights with faults; wrong outcomes are counted and caught; any worker count."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.conftest import SCENARIOS

FLIP = {  # misrecording firmware on every DRE of the training precinct moves the Senate votes to the loser
    "incidents": [
        {"at": "06:00", "device": d, "kind": "misrecording", "contest": "us-senate", "to": "pruitt", "share": 1.0, "minutes": 1400}
        for d in ("DRE-1", "DRE-2", "DRE-3", "DRE-4", "ADA-1")
    ],
    "night": {"missing_card_rate": 0.0},
}


def stress(tmp_path, name, *extra):
    out = tmp_path / name
    proc = subprocess.run(
        [sys.executable, "-m", "pollsim.cli", "stress", str(SCENARIOS / "training-precinct.yaml"), "--out", str(out), "--quiet", "--contest", "us-senate", *extra],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "stress.json").read_text()), (out / "stress.csv").read_text()


def test_a_wrong_outcome_every_night_is_counted_and_caught_by_the_audit(tmp_path):
    faults = tmp_path / "flip.yaml"
    faults.write_text(yaml.safe_dump(FLIP))
    dist, _ = stress(tmp_path, "S", "--nights", "3", "--faults", str(faults))
    assert dist["wrong_outcomes"] == 3
    assert dist["wrong_outcomes_caught"] + dist["wrong_outcomes_missed"] == 3
    # each wrong outcome escapes a 5 % risk-limit audit with probability <= 0.05 (Ville's inequality)
    assert dist["wrong_outcomes_caught"] >= 2 and dist["audits_escalated"] >= dist["wrong_outcomes_caught"]


def test_clean_nights_have_no_wrong_outcomes_and_the_same_bytes_on_two_workers(tmp_path):
    one, csv1 = stress(tmp_path, "A", "--nights", "4")
    two, csv2 = stress(tmp_path, "B", "--nights", "4", "--workers", "2")
    assert one["wrong_outcomes"] == 0 and one["nights"] == 4
    assert one == two and csv1 == csv2
    assert one["last_voter_out_minutes"]["n"] == 4 and one["last_voter_out_minutes"]["p50"] >= 19 * 60


def test_a_faults_file_that_does_not_fit_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("night:\n  missing_card_rate: 7\n")
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "stress", str(SCENARIOS / "training-precinct.yaml"), "--nights", "1", "--faults", str(bad), "--out", str(tmp_path / "X")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and str(bad) in proc.stderr and "Traceback" not in proc.stderr
