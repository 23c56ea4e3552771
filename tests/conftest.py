"""Shared fixtures: the bundled scenarios, and small scenarios built in code for specific checks."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from pollsim.scenario import Scenario, build_election, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def training_dict() -> dict:
    return yaml.safe_load((SCENARIOS / "training-precinct.yaml").read_text())


@pytest.fixture(scope="session")
def training() -> Scenario:
    return load_scenario(SCENARIOS / "training-precinct.yaml")


@pytest.fixture(scope="session")
def training_paper() -> Scenario:
    return load_scenario(SCENARIOS / "training-precinct-paper.yaml")


@pytest.fixture(scope="session")
def election(training):
    return build_election(training.election)


def scenario_from(base: dict, **changes) -> Scenario:
    """A deep copy of ``base`` with top-level sections replaced, validated."""
    d = copy.deepcopy(base)
    d.update(changes)
    return Scenario.model_validate(d)


def reseal(run_dir: Path) -> Path:
    """Record a run directory's files, as they are now, in its summary.json (as a tool that wrote
    them would): tests that build a run directory by hand, or alter one to test what the readers
    check beyond the hashes, call this after writing."""
    import hashlib
    import json

    from pollsim.rundir.layout import DAY_FILES, FOLDERS, FORMAT_VERSION, NIGHT_FILES, folder_digest

    path = run_dir / "summary.json"
    doc = json.loads(path.read_text()) if path.is_file() else {}
    files = {name: hashlib.sha256((run_dir / name).read_bytes()).hexdigest() for name in DAY_FILES + NIGHT_FILES if (run_dir / name).is_file()}
    files.update({f"{f}/": folder_digest(run_dir / f) for f in FOLDERS if (run_dir / f).is_dir()})
    doc["format_version"] = FORMAT_VERSION
    doc["files"] = dict(sorted(files.items()))
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return run_dir
