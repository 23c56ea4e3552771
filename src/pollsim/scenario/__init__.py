"""Scenario files: YAML validated into typed models, with every problem told as file:line: field.

``load_scenario(path)`` is the one entry point; ``Scenario`` and its parts document every field.
See docs/scenarios.md for each field's default and the source of that default.
"""

from pollsim.scenario.loader import load_scenario
from pollsim.scenario.models import Scenario, build_election, clock_minutes

__all__ = ["Scenario", "build_election", "clock_minutes", "load_scenario"]
