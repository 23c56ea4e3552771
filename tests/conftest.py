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
