"""The audit command line: sample sizes, draws, an audit of a run, and verifying its package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from tests.conftest import SCENARIOS

SEED = "12345678901234567890abcdefghijklmnopqrstuvwxyz😊"


def pollsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pollsim.cli", *args], capture_output=True, text=True, timeout=300)


def test_sample_size_prints_the_published_bravo_number():
    proc = pollsim("audit", "sample-size", "--method", "polling", "--margin", "0.02", "--risk-limit", "0.10", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["sample_size"] == 11562 and set(doc["quantiles"]) == {"50", "90", "99"}


def test_draw_reproduces_the_arlo_check_vector(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("Batch Name,Number of Ballots\n" + "".join(f"pct {k},25\n" for k in range(1, 5)))
    proc = pollsim("audit", "draw", "--manifest", str(manifest), "--seed", SEED, "--count", "20", "--with-replacement", "--json")
    assert proc.returncode == 0, proc.stderr
    draws = json.loads(proc.stdout)
    assert len(draws) == 20
    assert [(d["batch"], d["position"]) for d in draws[:3]] == [("pct 2", 3), ("pct 3", 24), ("pct 1", 25)]
    assert draws[0]["ticket"] == "0.000617786129909912" or float(draws[0]["ticket"]) == 0.000617786129909912


def test_a_malformed_manifest_is_refused_naming_the_row(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("Batch Name,Number of Ballots\npct 1,25\npct 1,3\n")
    proc = pollsim("audit", "draw", "--manifest", str(manifest), "--seed", "1", "--count", "2")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and str(manifest) in proc.stderr


def test_an_audit_of_a_run_writes_a_package_that_verifies_and_tampering_is_caught(tmp_path):
    run = tmp_path / "R"
    assert pollsim("run", str(SCENARIOS / "training-precinct.yaml"), "--out", str(run), "--quiet").returncode == 0
    proc = pollsim("audit", str(run), "--contest", "us-senate", "--risk-limit", "0.10", "--seed", "12345678901234567890")
    assert proc.returncode == 0, proc.stderr
    assert "round 1" in proc.stdout and "§23-15-617.4" in proc.stdout
    ok = pollsim("audit", "verify", str(run / "audit"))
    assert ok.returncode == 0 and "verified" in ok.stdout
    bad = tmp_path / "bad"
    shutil.copytree(run / "audit", bad)
    doc = json.loads((bad / "audit.json").read_text())
    doc["risk_limit"] = 0.5
    (bad / "audit.json").write_text(json.dumps(doc))
    tampered = pollsim("audit", "verify", str(bad))
    assert tampered.returncode == 1 and "does NOT verify" in tampered.stdout
