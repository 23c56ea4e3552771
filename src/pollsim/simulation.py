"""Running a scenario: every precinct's day from one root seed.

Each precinct gets its own child seed, ``SeedSequence(root, spawn_key=(index,))``, so a precinct's
day depends only on the root seed and its position in the scenario, never on how many precincts
run, in which order, or on which worker (design.md: deterministic by seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pollsim.election.definition import Election
from pollsim.precinct import PrecinctResult, simulate_precinct
from pollsim.scenario.models import Scenario, build_election


def precinct_seed(root: int, index: int) -> np.random.SeedSequence:
    """The seed of the precinct at ``index`` (0-based, scenario order) under root seed ``root``."""
    return np.random.SeedSequence(root, spawn_key=(index,))


@dataclass
class ElectionDayRun:
    scenario: Scenario
    election: Election
    seed: int
    precincts: list[PrecinctResult]


def run_election_day(scenario: Scenario, seed: int, progress: Callable[[int], None] | None = None) -> ElectionDayRun:
    """Simulate every precinct's day; ``progress(k)`` is called after each precinct."""
    election = build_election(scenario.election)
    results = []
    for index, spec in enumerate(scenario.precincts):
        results.append(simulate_precinct(scenario, election, spec, precinct_seed(seed, index)))
        if progress is not None:
            progress(index + 1)
    return ElectionDayRun(scenario, election, seed, results)
