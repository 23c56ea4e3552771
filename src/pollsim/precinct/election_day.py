"""The election day stage: every precinct's day from one root seed, here or on an executor.

The front door is :func:`run_election_day` (a :class:`~pollsim.scenario.models.Scenario` and a
root seed in, an :class:`ElectionDayRun` out). Polls are open 07:00 to 19:00 and every voter in
line at the close votes (Miss. Code §23-15-541, §23-15-581); the precinct model is
:func:`pollsim.precinct.simulate_precinct`.

Each precinct gets its own child seed, ``SeedSequence(root, spawn_key=(index,))``, so a precinct's
day depends only on the root seed and its position in the scenario, never on how many precincts
run, in which order, or on which worker (design.md: deterministic by seed).

Precinct days are independent tasks. With an executor (any ``concurrent.futures.Executor``: a
process pool, or Dask distributed's ``Client.get_executor()``) they run as tasks of a few
precincts each; results come back in scenario order, so the output bytes do not depend on the
executor or the worker count.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from pollsim.election.definition import Election
from pollsim.precinct import PrecinctResult, simulate_precinct
from pollsim.scenario.models import Scenario, build_election

#: Precincts per task: big enough to amortise sending the scenario, small enough to balance load.
CHUNK = 25


def precinct_seed(root: int, index: int) -> np.random.SeedSequence:
    """The seed of the precinct at ``index`` (0-based, scenario order) under root seed ``root``."""
    return np.random.SeedSequence(root, spawn_key=(index,))


@dataclass
class ElectionDayRun:
    """Every precinct's election day, in scenario order."""

    scenario: Scenario
    election: Election
    seed: int
    precincts: list[PrecinctResult]

    def layers(self) -> dict[str, np.ndarray]:
        """Every precinct's ballots stacked in scenario order (the rows of ``ballots.npz``).

        ``intent``, ``paper``, ``cvr``: ``uint8[n, width]``; ``precinct``: ``int32[n]`` (index in
        :attr:`precincts`); ``device``: each ballot's device (index within its precinct);
        ``voter``: its voter's row in the precinct's voters; ``affidavit``: the sealed affidavit
        ballots, with ``affidavit_precinct``.
        """
        ps = self.precincts
        width = self.election.width

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in ps]) if ps else np.zeros((0, width), np.uint8)

        return {
            "intent": cat("intent"),
            "paper": cat("paper"),
            "cvr": cat("cvr"),
            "precinct": np.repeat(np.arange(len(ps), dtype=np.int32), [p.ballots_cast for p in ps]),
            "device": cat("ballot_device"),
            "voter": cat("ballot_voter"),
            "affidavit": cat("affidavit"),
            "affidavit_precinct": np.repeat(np.arange(len(ps), dtype=np.int32), [len(p.affidavit) for p in ps]),
        }


def simulate_chunk(scenario: Scenario, election: Election, seed: int, start: int) -> list[PrecinctResult]:
    """Simulate the precincts of ``scenario`` (a slice of the full list starting at index ``start``)."""
    return [simulate_precinct(scenario, election, spec, precinct_seed(seed, start + k)) for k, spec in enumerate(scenario.precincts)]


def run_election_day(
    scenario: Scenario,
    seed: int,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> ElectionDayRun:
    """Simulate every precinct's day; ``progress(k)`` is called as precincts finish."""
    election = build_election(scenario.election)
    n = len(scenario.precincts)
    if executor is None:
        results = []
        for index, spec in enumerate(scenario.precincts):
            results.append(simulate_precinct(scenario, election, spec, precinct_seed(seed, index)))
            if progress is not None:
                progress(index + 1)
        return ElectionDayRun(scenario, election, seed, results)
    futures = []
    for start in range(0, n, CHUNK):
        part = scenario.model_copy(update={"precincts": scenario.precincts[start : start + CHUNK]})
        futures.append(executor.submit(simulate_chunk, part, election, seed, start))
    results = []
    for future in futures:  # in scenario order, whatever order they finish in
        results.extend(future.result())
        if progress is not None:
            progress(len(results))
    return ElectionDayRun(scenario, election, seed, results)
