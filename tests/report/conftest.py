"""Run directories for the report tests, simulated once per session.

- ``full_run``: three precincts (two on DRE + VVPAT, one on paper + scanner) in two counties, with
  two devices out of service, an injected receipt-book error that the reconciliation flags,
  election night, ``pollsim reconcile`` and a two-round risk-limiting audit, and its report.
- ``bare_run``: the training precinct as ``pollsim run`` leaves it: no election night, not
  reconciled, no audit, and its report.
- ``drill_run(name)``: a drill of scenarios/drills/ run at its seed, with its report (made once
  per session and name).
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from pollsim.audit.boards import AuditBoards
from pollsim.night import night_seed, simulate_night
from pollsim.pipeline import ElectionRun
from pollsim.precinct.election_day import run_election_day
from pollsim.report import build_report
from pollsim.rundir import audit_run_dir, reconcile_run_dir, write_run
from pollsim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("summary", "queues", "waits", "devices", "incidents", "accounting", "reconciliation", "reporting", "audit")


def full_scenario() -> Scenario:
    return Scenario.model_validate(full_dict())


def full_dict() -> dict:
    """The full run's scenario as a plain mapping (see the module docstring)."""
    d = yaml.safe_load((ROOT / "scenarios" / "training-precinct.yaml").read_text())
    base = d["precincts"][0]
    paper = copy.deepcopy(base)
    paper.update(id="paper-1", name="Paper Precinct", county="Second", registered_voters=700)
    paper["equipment"] = {"kind": "paper", "pollbook": "electronic", "pollbook_stations": 2, "marking_booths": 8, "scanners": 1, "accessible_units": 1, "ballot_stock": 700}
    dre2 = copy.deepcopy(base)
    dre2.update(id="training-2", registered_voters=600)
    d["precincts"] = [base, dre2, paper]
    d["incidents"] = [
        {"at": "10:00", "precinct": "training-1", "device": "DRE-2", "kind": "machine_failure", "minutes": 45},
        {"at": "17:30", "precinct": "paper-1", "device": "SCAN-1", "kind": "scanner_jam", "minutes": 20},
    ]
    d["errors"] = [{"precinct": "training-2", "kind": "receipt_not_signed", "count": 25}]
    return d


def _make_full(out: Path) -> Path:
    scenario = full_scenario()
    run = run_election_day(scenario, 3)
    write_run(ElectionRun.of_day(run, simulate_night(run, night_seed(3))), out)
    reconcile_run_dir(out)
    audit_run_dir(out, "us-house-2,us-senate", 0.05, "2", "kaplan-markov", echo=lambda _s: None, boards=AuditBoards(error_rate=0.02, seed=2))
    return out


@pytest.fixture(scope="session")
def full_run(tmp_path_factory) -> Path:
    """The run directory (see the module docstring) with its report built."""
    out = _make_full(tmp_path_factory.mktemp("report") / "full")
    build_report(out)
    return out


@pytest.fixture(scope="session")
def bare_run(tmp_path_factory) -> Path:
    from pollsim.scenario import load_scenario

    out = tmp_path_factory.mktemp("report") / "bare"
    write_run(run_election_day(load_scenario(ROOT / "scenarios" / "training-precinct.yaml"), 1), out)
    build_report(out)
    return out


@pytest.fixture
def scratch_copy(full_run, tmp_path):
    """A private copy of ``full_run`` (without its report) that a test may damage."""

    def make(name: str = "full") -> Path:
        dst = tmp_path / name
        shutil.copytree(full_run, dst, ignore=shutil.ignore_patterns("report.html", "plots"))
        return dst

    return make


@pytest.fixture(scope="session")
def drill_run(tmp_path_factory):
    """``drill_run("scanner-jam")``: the drill's run directory (seed 1), with its report."""
    from pollsim.scenario import load_scenario

    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            out = tmp_path_factory.mktemp("drill") / name
            write_run(run_election_day(load_scenario(ROOT / "scenarios" / "drills" / f"{name}.yaml"), 1), out)
            build_report(out)
            made[name] = out
        return made[name]

    return make


@pytest.fixture(scope="module")
def absentee_run(tmp_path_factory) -> Path:
    """The VOTED AB drill with absentee voting and a canvass (seed 1), with its report."""
    from pollsim.pipeline import run_election
    from pollsim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    out = tmp_path_factory.mktemp("report-ab") / "run"
    write_run(run_election(load_scenario(SCENARIOS / "drills" / "voted-ab-affidavit.yaml"), 1), out)
    build_report(out)
    return out
