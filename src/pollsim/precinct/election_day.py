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

A ``sink`` (:class:`DaySink`, e.g. :class:`pollsim.rundir.DaySpool`: the run directory being
written) receives the results as they arrive, a chunk of precincts at a time and always in
scenario order, and hands back slimmed results (:class:`~pollsim.precinct.result.Streamed`), so a
statewide day never holds every voter's arrays at once; the run remembers its sink. The sink's
``pack`` runs where the chunk was simulated (in the worker, on an executor), so the work of
packing (the run directory's: compressing the chunk's arrays) is shared among the workers and
only the packed chunk travels back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pollsim.election.definition import Election
from pollsim.precinct import VOTER_DTYPE, PrecinctResult, simulate_precinct
from pollsim.scenario.models import PrecinctSpec, Scenario, build_election

#: Precincts per task: big enough to amortise sending the scenario, small enough to balance load.
CHUNK = 25


def precinct_seed(root: int, index: int) -> np.random.SeedSequence:
    """The seed of the precinct at ``index`` (0-based, scenario order) under root seed ``root``."""
    return np.random.SeedSequence(root, spawn_key=(index,))


class DaySink(Protocol):
    """Where precinct results go as they arrive (module docstring)."""

    @property
    def pack(self) -> Callable[[int, list[PrecinctResult]], Any]:
        """A function (picklable: a module's) that packs a chunk of results where they were simulated
        (``pack(first, results)``: the precincts at ``first``, ``first + 1``, ...); what it returns
        goes to :meth:`take`."""
        ...

    def take(self, first: int, packed: Any) -> list[PrecinctResult]:
        """Keep the packed chunk of precincts at ``first``... (in scenario order; called with
        ``first`` 0 and then always right after the previous chunk); return them slimmed."""
        ...

    def voter_field(self, name: str) -> np.ndarray:
        """Every voter's ``name`` (a field of ``VOTER_DTYPE``), in scenario order."""
        ...


#: The keys of :meth:`ElectionDayRun.layers`, in the order of ``ballots.npz``.
LAYERS = ("intent", "paper", "cvr", "precinct", "device", "voter", "affidavit", "affidavit_precinct")
#: The per-precinct ballot arrays a sink keeps instead of the result (not needed after the day).
STREAMED_LAYERS = ("intent", "voter")


def precinct_layers(index: int, p: PrecinctResult) -> dict[str, np.ndarray]:
    """The rows precinct ``p`` (at ``index``) adds to each of :meth:`ElectionDayRun.layers`."""
    return {
        "intent": p.intent,
        "paper": p.paper,
        "cvr": p.cvr,
        "precinct": np.full(p.ballots_cast, index, np.int32),
        "device": p.ballot_device,
        "voter": p.ballot_voter,
        "affidavit": p.affidavit,
        "affidavit_precinct": np.full(len(p.affidavit), index, np.int32),
    }


@dataclass
class ElectionDayRun:
    """Every precinct's election day, in scenario order (``sink``: where the results went as
    they arrived, None: all held here)."""

    scenario: Scenario
    election: Election
    seed: int
    precincts: list[PrecinctResult]
    sink: DaySink | None = None

    def layers(self) -> dict[str, np.ndarray]:
        """Every precinct's ballots stacked in scenario order (the rows of ``ballots.npz``).

        ``intent``, ``paper``, ``cvr``: ``uint8[n, width]``; ``precinct``: ``int32[n]`` (index in
        :attr:`precincts`); ``device``: each ballot's device (index within its precinct);
        ``voter``: its voter's row in the precinct's voters; ``affidavit``: the sealed affidavit
        ballots, with ``affidavit_precinct``. A day that went to a sink has no ``intent`` and
        ``voter`` here (:data:`STREAMED_LAYERS`: they are in the sink).
        """
        parts = [precinct_layers(i, p) for i, p in enumerate(self.precincts)]
        if not parts:
            return {name: np.zeros((0, self.election.width), np.uint8) for name in LAYERS}
        names = [n for n in LAYERS if not (self.sink is not None and n in STREAMED_LAYERS)]
        return {name: np.concatenate([part[name] for part in parts]) for name in names}

    def voter_field(self, name: str) -> np.ndarray:
        """Every voter's ``name`` (a field of ``VOTER_DTYPE``: ``wait``, ``status``...) in scenario
        order, as ``voters.npz`` has it: from the precincts, or from the sink the day went to."""
        if self.sink is not None and self.precincts:
            return self.sink.voter_field(name)
        return np.concatenate([p.voters[name] for p in self.precincts]) if self.precincts else np.zeros(0, VOTER_DTYPE[name])


def simulate_chunk(scenario: Scenario, election: Election, seed: int, start: int, pack: Callable[[int, list[PrecinctResult]], Any] | None = None) -> Any:
    """Simulate the precincts of ``scenario`` (a slice of the full list starting at index ``start``);
    ``pack``: a sink's packing of them (:class:`DaySink`), done here, in the worker."""
    results = [simulate_precinct(scenario, election, spec, precinct_seed(seed, start + k)) for k, spec in enumerate(scenario.precincts)]
    return pack(start, results) if pack is not None else results


def run_election_day(
    scenario: Scenario,
    seed: int,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
    sink: DaySink | None = None,
    prepare: Callable[[int, list[PrecinctSpec]], list[PrecinctSpec]] | None = None,
) -> ElectionDayRun:
    """Simulate every precinct's day; ``progress(k)`` is called as precincts finish; ``sink``:
    where the results go as they arrive (module docstring).

    ``prepare(first, precincts)``: the precincts from index ``first`` as they are to be simulated,
    asked for chunk by chunk (:data:`CHUNK`) in scenario order, each chunk just before it goes to
    the executor (so the first chunks run while the later ones are prepared), or all of them
    before the first is simulated without one; the day's scenario is then the prepared one. The
    chain marks the pollbooks VOTED AB this way (:func:`pollsim.absentee.voted_ab`).
    """
    election = build_election(scenario.election)
    n = len(scenario.precincts)
    results: list[PrecinctResult] = []
    specs = list(scenario.precincts)

    def prepared(first: int) -> list[PrecinctSpec]:
        part = specs[first : first + CHUNK]
        return part if prepare is None else prepare(first, part)

    pack = sink.pack if sink is not None else None

    def arrived(chunk: Any) -> None:
        results.extend(sink.take(len(results), chunk) if sink is not None else chunk)

    if executor is None:
        if prepare is not None:
            scenario = scenario.model_copy(update={"precincts": [p for first in range(0, n, CHUNK) for p in prepared(first)]})
        chunk: list[PrecinctResult] = []
        for index, spec in enumerate(scenario.precincts):
            chunk.append(simulate_precinct(scenario, election, spec, precinct_seed(seed, index)))
            if len(chunk) == CHUNK or index + 1 == n:
                arrived(pack(len(results), chunk) if pack is not None else chunk)
                chunk = []
            if progress is not None:
                progress(index + 1)
        return ElectionDayRun(scenario, election, seed, results, sink)
    futures: deque[Future[Any]] = deque()
    day: list[PrecinctSpec] = []
    for start in range(0, n, CHUNK):
        part = scenario.model_copy(update={"precincts": prepared(start)})
        day += part.precincts
        futures.append(executor.submit(simulate_chunk, part, election, seed, start, pack))
    if prepare is not None:
        scenario = scenario.model_copy(update={"precincts": day})
    while futures:  # in scenario order, whatever order they finish in
        arrived(futures.popleft().result())  # the future goes: its full results are the sink's now
        if progress is not None:
            progress(len(results))
    return ElectionDayRun(scenario, election, seed, results, sink)
