"""The public Python API: the names ``pollsim`` promises, its version, its type marker, a cheap import."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from importlib.resources import files

import pollsim


def test_every_public_name_resolves():
    for name in pollsim.__all__:
        assert getattr(pollsim, name) is not None, name
    assert {"run_election", "run_election_day", "simulate_night", "reconcile_precincts", "run_audit", "write_run", "RunDir", "export_run", "build_report"} <= set(pollsim.__all__)


def test_the_version_is_the_installed_package_version():
    assert pollsim.__version__ == importlib.metadata.version("pollsim")


def test_the_package_is_marked_as_typed():
    assert files("pollsim").joinpath("py.typed").is_file()


def test_help_imports_no_stage():
    """``pollsim --help`` parses arguments only: no scenario models, no SimPy, no numpy."""
    code = "import sys, contextlib, io\nfrom pollsim import cli\nwith contextlib.redirect_stdout(io.StringIO()):\n    try: cli.main(['--help'])\n    except SystemExit: pass\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert not loaded & {"pydantic", "simpy", "numpy", "pollsim.precinct", "pollsim.scenario", "matplotlib"}, sorted(loaded & {"pydantic", "simpy", "numpy", "pollsim.precinct", "pollsim.scenario", "matplotlib"})


def test_the_chain_runs_from_python(training, tmp_path):
    run = pollsim.run_election(training, 7, night=True, audit=pollsim.AuditRequest("us-senate", 0.10, "12345678901234567890"))
    assert run.night is not None and run.audit is not None and run.night_flags is not None
    assert len(run.night_flags) == len(run.night.publications)
    summary = pollsim.write_run(run, tmp_path / "run")
    assert summary["ballots_cast"] == len(run.day.layers()["cvr"])
    assert pollsim.RunDir(tmp_path / "run").summary["seed"] == 7
