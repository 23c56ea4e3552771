"""Scenarios with absentee voting: the training precinct with its absentee voters, and a few
Mississippi counties of the 2020 replay split as EAVS 2020 reports them."""

from __future__ import annotations

import copy

import pytest
import yaml

from pollsim.scenario import Scenario
from tests.conftest import SCENARIOS


def with_absentee(base: dict, absentee: dict | None = None, **precinct) -> Scenario:
    """``base`` (a scenario dict) with an ``absentee`` section and the first precinct's fields changed."""
    d = copy.deepcopy(base)
    d["absentee"] = absentee or {}
    d["precincts"][0].update(precinct)
    return Scenario.model_validate(d)


def mississippi(counties: list[str], absentee: dict | None = None, **extra) -> Scenario:
    """The 2020 replay of these counties, with absentee voting."""
    d = yaml.safe_load((SCENARIOS / "ms-2020-general.yaml").read_text())
    d["mississippi"]["counties"] = counties
    d["absentee"] = absentee or {}
    d.update(extra)
    return Scenario.model_validate(d)


@pytest.fixture(scope="session")
def adams() -> Scenario:
    return mississippi(["Adams"])
