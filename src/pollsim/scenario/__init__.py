"""Scenario files: YAML validated into typed models, with every problem told as FILE:LINE: FIELD.

``load_scenario(path)`` is the one entry point; ``Scenario`` and its parts document every field,
bounded so that a scenario that validates runs (Miss. Code §23-15-581 polling hours,
§23-15-615 ballot accounting). See docs/scenarios.md for each field's default, bounds and source.
"""

from pollsim.scenario.loader import load_scenario
from pollsim.scenario.models import Scenario, build_election, clock_minutes

__all__ = ["Scenario", "build_election", "clock_minutes", "load_scenario"]
