"""The export command line: each format from a run directory, and a clear error for a bad one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "R"
    subprocess.run([sys.executable, "-m", "pollsim.cli", "run", str(SCENARIOS / "training-precinct-paper.yaml"), "--out", str(out), "--quiet"], check=True, timeout=300)
    return out


@pytest.mark.parametrize("fmt", ["nist-cvr", "nist-results", "nist-eventlog", "arlo-manifest", "dominion-cvr"])
def test_pollsim_export_writes_each_format(run_dir, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "export", str(run_dir), "--format", fmt, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0 and f"({fmt})" in proc.stdout


def test_an_unknown_format_exits_2_and_writes_nothing(run_dir, tmp_path):
    out = tmp_path / "x"
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "export", str(run_dir), "--format", "bogus", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "unknown export format" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
