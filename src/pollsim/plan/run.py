"""Planning a scenario: every precinct's search, here or on an executor, and the settings it used.

The front door is :func:`plan_scenario` (a :class:`~pollsim.scenario.models.Scenario` in, a
:class:`~pollsim.plan.result.PlanResult` out). Settings left out come from the scenario's ``plan``
section (:class:`~pollsim.scenario.plan_spec.Plan`). Voters may give up on a long line in a plan
unless the scenario's ``giving_up.enabled`` says ``false`` (or ``giving_up=False`` is passed): a
planning default, where ``pollsim run`` leaves it off. Precincts are independent tasks handed to
any ``concurrent.futures.Executor`` in chunks, as the election day's are; results come back in
scenario order and each precinct's days depend only on the seed and its position in the scenario,
so the output is the same whatever the worker count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor

import numpy as np

from pollsim.election.definition import Election
from pollsim.plan.result import PlanResult, PrecinctPlan, Settings
from pollsim.plan.search import search
from pollsim.plan.targets import TargetError, parse_target
from pollsim.plan.trials import RESOURCES, DayFigures, Trials
from pollsim.scenario.models import Scenario, build_election

CHUNK = 20
"""Precincts per task."""
WHATIF = 3
"""Units either side of the recommendation in a what-if curve."""


def settings_for(scenario: Scenario, seed: int | None = None, targets: Sequence[str] | None = None, replications: int | None = None,
                 meet: int | None = None, scope: str | None = None, resources: Sequence[str] | None = None,
                 giving_up: bool | None = None, turnout: float = 1.0) -> Settings:  # fmt: skip
    """The plan's settings: the arguments given, else the scenario's ``plan`` section."""
    p = scenario.plan
    reps = p.replications if replications is None else replications
    if not 1 <= reps <= 200:
        raise TargetError(f"--replications {reps}: between 1 and 200 simulated days")
    need = meet if meet is not None else (p.meet if p.meet is not None and replications is None else -(-reps * 19 // 20))
    if not 1 <= need <= reps:
        raise TargetError(f"--meet {need}: the targets must hold on 1 to {reps} of the {reps} days")
    chosen = tuple(resources) if resources is not None else tuple(p.resources)
    unknown = [r for r in chosen if r not in (*RESOURCES, "managers")]
    if unknown or not chosen:
        raise TargetError(f"--resources {','.join(chosen)}: choose from {', '.join((*RESOURCES, 'managers'))}")
    if not 0.05 <= turnout <= 5:
        raise TargetError(f"turnout x{turnout:g}: between x0.05 and x5")
    on = scenario.giving_up.enabled is not False if giving_up is None else giving_up
    return Settings(tuple(parse_target(t) for t in (targets or p.targets)), reps, need, scope or p.scope, chosen,
                    scenario.seed if seed is None else seed, on, turnout)  # fmt: skip


def planning_scenario(scenario: Scenario, settings: Settings) -> Scenario:
    """The scenario the plan simulates: voters giving up as settled, turnout scaled (at most 100 %)."""
    update: dict = {"giving_up": scenario.giving_up.model_copy(update={"enabled": settings.giving_up})}
    if settings.turnout != 1.0:
        update["precincts"] = [p.model_copy(update={"turnout": min(1.0, p.turnout * settings.turnout)}) for p in scenario.precincts]
    return scenario.model_copy(update=update)


def plan_precinct(scenario: Scenario, election: Election, settings: Settings, index: int, whatif: bool = False) -> PrecinctPlan:
    """One precinct's recommendation (``scenario`` already the planning scenario)."""
    spec = scenario.precincts[index]
    trials = Trials(scenario, election, spec, index, settings.seed, settings.replications, settings.resources, settings.targets)
    found = search(trials, settings.meet, settings.scope)
    curves: dict[str, list[DayFigures]] = {}
    if whatif:
        rec = found.recommended.config
        for k, r in enumerate(trials.resources):
            lo, hi = trials.bounds(r)
            values = range(max(lo, rec[k] - WHATIF), min(hi, rec[k] + WHATIF) + 1)
            curves[r] = trials.figures([rec[:k] + (v,) + rec[k + 1 :] for v in values])
    return PrecinctPlan(spec.id, spec.county, spec.equipment.kind, found, curves)


def plan_chunk(scenario: Scenario, election: Election, settings: Settings, indices: Sequence[int], whatif: Sequence[int]) -> list[PrecinctPlan]:
    return [plan_precinct(scenario, election, settings, i, i in whatif) for i in indices]


def plan_scenario(scenario: Scenario, settings: Settings | None = None, *, sensitivity: Sequence[float] = (), whatif: int = 12,
                  executor: Executor | None = None, progress: Callable[[int], None] | None = None) -> PlanResult:  # fmt: skip
    """Plan every precinct of ``scenario`` (:func:`settings_for` gives the settings; default: the
    scenario's ``plan`` section). ``sensitivity``: other turnout factors (e.g. 1.2 for +20 %),
    planned the same way; ``whatif``: the what-if curves (waits as each resource varies) are made
    for the precincts with the longest waits today, at most this many."""
    settings = settings or settings_for(scenario)
    base = _plan(scenario, settings, whatif, executor, progress)
    others = [_plan(scenario, Settings(**{**settings.__dict__, "turnout": settings.turnout * f}), 0, executor, None) for f in sensitivity]
    return PlanResult(base.scenario, base.settings, base.precincts, others)


def _plan(scenario: Scenario, settings: Settings, whatif: int, executor: Executor | None, progress: Callable[[int], None] | None) -> PlanResult:
    sc = planning_scenario(scenario, settings)
    election = build_election(sc.election)
    n = len(sc.precincts)
    busiest = _busiest(sc, whatif)
    chunks = [list(range(k, min(n, k + CHUNK))) for k in range(0, n, CHUNK)]
    out: list[PrecinctPlan] = []
    if executor is None:
        for chunk in chunks:
            out += plan_chunk(sc, election, settings, chunk, busiest)
            if progress is not None:
                progress(len(out))
    else:
        futures = [executor.submit(plan_chunk, sc, election, settings, chunk, busiest) for chunk in chunks]
        for f in futures:  # in scenario order, whatever order they finish in
            out += f.result()
            if progress is not None:
                progress(len(out))
    return PlanResult(scenario.scenario, settings, out)


def _busiest(scenario: Scenario, limit: int) -> list[int]:
    """The precincts given what-if curves: the ones with most voters per check-in station (a stand-in
    for the longest waits, known before any simulation), at most ``limit``."""
    if limit <= 0:
        return []
    load = np.array([p.registered_voters * p.turnout / max(1, p.equipment.pollbook_stations) for p in scenario.precincts])
    return sorted(np.argsort(-load, kind="stable")[:limit].tolist())
