"""The audit command line: sample sizes, draws, an audit of a run, and verifying its package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

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


# -- issue 16: batch, hybrid and ONEAudit audits of a run, simulations, the plan -----------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    from .synthetic import synthetic_run

    return synthetic_run(tmp_path_factory.mktemp("cli") / "MS", precincts=120, counties=8)


@pytest.mark.parametrize("method,extra", [("batch", []), ("alpha-batch", []), ("hybrid", ["--evidence", "scan-single=card"]), ("hybrid", []), ("oneaudit", ["--evidence", "precinct-scanner=card"])])
def test_a_batch_hybrid_or_oneaudit_audit_writes_a_package_that_verifies(mixed, tmp_path, method, extra):
    out = tmp_path / "pkg"
    proc = pollsim("audit", str(mixed), "--contest", "president", "--risk-limit", "0.05", "--seed", "80194273650192837465", "--method", method, "--out", str(out), *extra)
    assert proc.returncode == 0, proc.stderr
    assert "§23-15-617.4" in proc.stdout
    ok = pollsim("audit", "verify", str(out), "--run", str(mixed))
    assert ok.returncode == 0 and "verified" in ok.stdout, ok.stderr
    doc = json.loads((out / "audit.json").read_text())
    doc["rounds"][0]["risks"]["president"] = {k: v / 2 for k, v in doc["rounds"][0]["risks"]["president"].items()}
    (out / "audit.json").write_text(json.dumps(doc))
    bad = pollsim("audit", "verify", str(out))
    assert bad.returncode == 1 and "does NOT verify" in bad.stdout


@pytest.mark.parametrize("args", [["--method", "batch", "--contest", "president,measure-1"], ["--method", "hybrid", "--evidence", "scanner=yes"]])
def test_bad_audit_options_are_one_line_and_exit_2(mixed, args):
    base = ["audit", str(mixed), "--risk-limit", "0.05", "--seed", "1"]
    proc = pollsim(*base, *(args if "--contest" in args else [*args, "--contest", "president"]))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("method", ["batch", "hybrid", "oneaudit"])
def test_simulated_designs_confirm_a_wrong_outcome_at_most_at_the_risk_limit(method):
    proc = pollsim("audit", "simulate", "--method", method, "--audits", "400", "--risk-limit", "0.1", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outcome_wrong"] and doc["confirmed"] <= doc["allowed_confirmed"] and doc["confirmed"] + doc["escalated"] == 400


def test_the_plan_prints_a_design_per_county_and_json(mixed):
    proc = pollsim("audit", "plan", str(mixed), "--contest", "president", "--risk-limit", "0.05", "--trials", "60")
    assert proc.returncode == 0, proc.stderr
    assert "proposed (*)" in proc.stdout and all(f"County {i:02d}" in proc.stdout for i in range(8))
    for name in ("ballot polling", "batch comparison", "hybrid", "ONEAudit"):
        assert name in proc.stdout
    doc = json.loads(pollsim("audit", "plan", str(mixed), "--contest", "president", "--risk-limit", "0.05", "--trials", "60", "--json").stdout)
    assert doc["proposed"] in {x["design"] for x in doc["designs"] if x["available"]} and len(doc["county_plan"]) == 8
    bad = pollsim("audit", "plan", str(mixed), "--contest", "governor", "--risk-limit", "0.05")
    assert bad.returncode == 2 and "governor" in bad.stderr and "Traceback" not in bad.stderr


def test_sample_size_formula_and_bet_options():
    def size(*args: str) -> int:
        proc = pollsim("audit", "sample-size", "--margin", "0.01", "--risk-limit", "0.05", "--json", *args)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["sample_size"]

    assert size("--method", "comparison") == 678 and size("--method", "comparison", "--formula", "super-simple") == 783
    assert size("--method", "alpha", "--bet", "kelly") != size("--method", "alpha", "--bet", "fixed")
