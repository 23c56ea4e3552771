"""Sharing out a fixed fleet: the units a county owns, placed where they shorten the worst line.

A county owns so many voting units (or check-in stations, or scanners) and cannot buy more before
the election; the question is where to put them. For each precinct the planner measures its
*curve*: the waits and lost voters with fewer and more units than today (the others as today), on
the same simulated days (:class:`~pollsim.plan.trials.Trials`). Then, within each county (or the
whole state), units move one at a time from where they are missed least to where they are needed
most, while that helps:

- objective ``wait``: the worst precinct's score (its ``meet``-th best day's 95th-percentile wait)
  is made as small as it can be: a unit goes to the worst precinct from the precinct that would
  suffer least from losing one, as long as the donor stays better off than the worst was;
- objective ``lost``: a unit moves when the voters it saves where it goes outnumber those lost
  where it leaves (total lost voters, the sum over precincts).

The marginal value of one more unit in each precinct, at the allocation, is what its curve gains
from one more: minutes off its score, and voters not lost. Every precinct keeps at least one unit
and stays within :data:`DOWN` fewer and :data:`UP` more than today (its measured curve).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from pollsim.election.definition import Election
from pollsim.plan.result import Settings
from pollsim.plan.run import planning_scenario
from pollsim.plan.targets import TargetError, score
from pollsim.plan.trials import Trials
from pollsim.scenario.models import Scenario, build_election

DOWN, UP = 4, 6
"""How far from today's units a precinct's curve is measured."""
CHUNK = 20


@dataclass(frozen=True)
class Curve:
    """One precinct's measured curve: units -> (score in minutes, mean voters lost a day)."""

    precinct: str
    county: str
    today: int
    units: tuple[int, ...]
    scores: tuple[float, ...]
    lost: tuple[float, ...]

    def at(self, units: int) -> tuple[float, float]:
        k = self.units.index(units)
        return self.scores[k], self.lost[k]


@dataclass(frozen=True)
class FleetResult:
    """Where the fleet goes: per precinct its curve and units, and what one more would gain."""

    resource: str
    within: str
    objective: str
    settings: Settings
    curves: list[Curve]
    allocated: list[int]

    def rows(self) -> list[list[object]]:
        out: list[list[object]] = []
        for c, u in zip(self.curves, self.allocated, strict=True):
            s0, l0 = c.at(c.today)
            s1, l1 = c.at(u)
            more = c.at(u + 1) if u + 1 in c.units else (np.nan, np.nan)
            out.append([c.precinct, c.county, self.resource, c.today, u, round(s0, 3), round(s1, 3), round(l0, 3), round(l1, 3),
                        "" if np.isnan(more[0]) else round(s1 - more[0], 3), "" if np.isnan(more[1]) else round(l1 - more[1], 3)])  # fmt: skip
        return out


COLUMNS = ["precinct", "county", "resource", "today", "allocated", "p95_score_today", "p95_score_allocated", "lost_today",
           "lost_allocated", "one_more_minutes", "one_more_voters"]  # fmt: skip


def turnout_factor(text: str) -> float:
    """``"+20%"`` -> 1.2, ``"-10%"`` -> 0.9, ``"x1.5"`` or ``"1.5"`` -> 1.5."""
    t = text.strip().replace(" ", "")
    try:
        if t.endswith("%"):
            return 1.0 + float(t[:-1]) / 100
        return float(t[1:] if t[:1] in "x*" else t)
    except ValueError:
        raise TargetError(f"--turnout {text!r}: expected a change such as +20% or -10%, or a factor such as x1.2") from None


def measure_curve(scenario: Scenario, election: Election, settings: Settings, resource: str, index: int) -> Curve:
    spec = scenario.precincts[index]
    trials = Trials(scenario, election, spec, index, settings.seed, settings.replications, (resource,), settings.targets)
    if not trials.resources:
        raise TargetError(f"--fleet {resource}: precinct {spec.id} has no {resource} ({spec.equipment.kind} equipment)")
    lo, hi = trials.bounds(resource)
    today = trials.today[0]
    values = list(range(max(lo, today - DOWN), min(hi, today + UP) + 1))
    figs = trials.figures([(v,) for v in values])
    return Curve(spec.id, spec.county, today, tuple(values), tuple(float(score(f.p95, settings.meet)) for f in figs),
                 tuple(float(f.lost.mean()) for f in figs))  # fmt: skip


def _curves(scenario: Scenario, election: Election, settings: Settings, resource: str, indices: Sequence[int]) -> list[Curve]:
    return [measure_curve(scenario, election, settings, resource, i) for i in indices]


def allocate_fleet(scenario: Scenario, settings: Settings, resource: str, within: str = "county", objective: str = "wait",
                   executor: Executor | None = None) -> FleetResult:  # fmt: skip
    """Share out today's units of ``resource`` within each county (or the state) (module docstring)."""
    sc = planning_scenario(scenario, settings)
    election = build_election(sc.election)
    n = len(sc.precincts)
    chunks = [list(range(k, min(n, k + CHUNK))) for k in range(0, n, CHUNK)]
    curves: list[Curve] = []
    if executor is None:
        for chunk in chunks:
            curves += _curves(sc, election, settings, resource, chunk)
    else:
        for f in [executor.submit(_curves, sc, election, settings, resource, chunk) for chunk in chunks]:
            curves += f.result()
    allocated = [c.today for c in curves]
    groups: dict[str, list[int]] = {}
    for k, c in enumerate(curves):
        groups.setdefault(c.county if within == "county" else "state", []).append(k)
    for members in groups.values():
        _share(curves, allocated, members, objective)
    return FleetResult(resource, within, objective, settings, curves, allocated)


def _share(curves: list[Curve], units: list[int], members: list[int], objective: str) -> None:
    """Move units between ``members`` while it helps (in place)."""
    wait = objective == "wait"

    def value(k: int, u: int) -> float:
        return curves[k].at(u)[0 if wait else 1]

    for _ in range(50 * len(members) + 50):
        can_give = [k for k in members if units[k] - 1 in curves[k].units]
        can_take = [k for k in members if units[k] + 1 in curves[k].units]
        if not can_give or not can_take:
            return
        if wait:
            taker = max(can_take, key=lambda k: (value(k, units[k]), -k))
            now = value(taker, units[taker])
            gain = now - value(taker, units[taker] + 1)
            givers = [k for k in can_give if k != taker and value(k, units[k] - 1) < now]
            if gain <= 0 or not givers:
                return
            giver = min(givers, key=lambda k: (value(k, units[k] - 1), k))
        else:
            taker = max(can_take, key=lambda k: (value(k, units[k]) - value(k, units[k] + 1), -k))
            gain = value(taker, units[taker]) - value(taker, units[taker] + 1)
            givers = [k for k in can_give if k != taker]
            if not givers:
                return
            giver = min(givers, key=lambda k: (value(k, units[k] - 1) - value(k, units[k]), k))
            if value(giver, units[giver] - 1) - value(giver, units[giver]) >= gain:
                return
        units[taker] += 1
        units[giver] -= 1


def fleet_text(fleet: FleetResult, limit: int = 15) -> str:
    """A short account: per county (or the state), the worst score and voters lost, today and after."""
    groups: dict[str, list[int]] = {}
    for k, c in enumerate(fleet.curves):
        groups.setdefault(c.county if fleet.within == "county" else "state", []).append(k)
    lines = [f"Fleet of {fleet.resource} shared out within each {fleet.within} ({'worst p95 wait' if fleet.objective == 'wait' else 'voters lost'} as small as it can be):",
             f"{'county' if fleet.within == 'county' else '':<16} {'units':>6} {'moved':>6} {'worst p95 today':>16} {'after':>8} {'lost/day today':>15} {'after':>8}"]  # fmt: skip
    rows = []
    for name, members in groups.items():
        today = [fleet.curves[k].at(fleet.curves[k].today) for k in members]
        after = [fleet.curves[k].at(fleet.allocated[k]) for k in members]
        moved = sum(abs(fleet.allocated[k] - fleet.curves[k].today) for k in members) // 2
        rows.append((max(s for s, _ in today), name, sum(fleet.allocated[k] for k in members), moved, max(s for s, _ in after),
                     sum(x for _, x in today), sum(x for _, x in after)))  # fmt: skip
    rows.sort(key=lambda r: -r[0])
    for worst, name, units, moved, worst_after, lost, lost_after in rows[:limit]:
        lines.append(f"{name[:16]:<16} {units:>6} {moved:>6} {worst:>16.1f} {worst_after:>8.1f} {lost:>15.1f} {lost_after:>8.1f}")
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more in fleet.csv")
    return "\n".join(lines)
