"""Scenario files: YAML validated into typed models, with every problem told as FILE:LINE: FIELD.

``load_scenario(path)`` is the one entry point; ``Scenario`` and its parts document every field,
bounded so that a scenario that validates runs (Miss. Code §23-15-581 polling hours,
§23-15-615 ballot accounting). See docs/scenarios.md for each field's default, bounds and source.

Names are imported on first use (as in ``pollsim/__init__.py``), so that importing one module of
the package (``pollsim.scenario.events_spec``) does not load the models and pydantic (issue 12).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pollsim import lazy_names

_EXPORTS = {
    "load_scenario": "pollsim.scenario.loader",
    "Scenario": "pollsim.scenario.models",
    "build_election": "pollsim.scenario.models",
    "clock_minutes": "pollsim.scenario.models",
}

__all__ = ["Scenario", "build_election", "clock_minutes", "load_scenario"]


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # for type checkers and IDEs: the names __getattr__ serves
    from pollsim.scenario.loader import load_scenario
    from pollsim.scenario.models import Scenario, build_election, clock_minutes
