"""Trying configurations of one polling place on the same simulated days (common random numbers).

A :class:`Trials` holds one precinct's simulated days: replication *r* is the day ``pollsim run
--seed SEED+r`` would simulate there (the same seed, so the same voters; the planner's lines give
each voter the same waits as that run: :mod:`pollsim.precinct.lanes`). Every configuration is tried
on all of them, so two configurations differ only by their units, never by their luck, and the
comparison needs far fewer days than independent draws would (common random numbers).

A configuration is the number of units of each resource the planner may change:

- ``pollbooks``: check-in stations (poll managers at the pollbook table);
- ``voting``: DRE units in a DRE precinct, privacy booths in a paper precinct;
- ``scanners``: precinct scanners (paper precincts).

Everything else (the accessible unit the law requires, §23-15-531.1(f); booths for affidavit
ballots in a DRE precinct) stays as the scenario has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pollsim.election.definition import Election
from pollsim.plan.targets import Target, score
from pollsim.precinct.election_day import precinct_seed
from pollsim.precinct.lanes import DayDraws, Lanes
from pollsim.precinct.result import Outcome
from pollsim.scenario.models import PrecinctSpec, Scenario
from pollsim.staff.roster import StaffDay, staff_day

RESOURCES = ("pollbooks", "voting", "scanners", "managers")
"""What the planner may change, in the order voters meet them (poll managers keep the stations)."""
LINE = {"pollbooks": "checkin", "voting": "voting", "scanners": "scanner", "managers": "checkin"}
"""The line each resource serves (a poll manager short closes a check-in station first)."""
ENOUGH = 0
"""A ``managers`` count meaning "one per post and one to relieve breaks" (the crew's default)."""
_LOST = (int(Outcome.BALKED), int(Outcome.RENEGED))

Config = tuple[int, ...]


def pool_of(resource: str, kind: str) -> str:
    """The station pool a resource is: PB, DRE or BOOTH, SCAN (``managers``: none, "")."""
    return {"pollbooks": "PB", "voting": "DRE" if kind == "dre" else "BOOTH", "scanners": "SCAN", "managers": ""}[resource]


def bounds(resource: str, kind: str) -> tuple[int, int]:
    """The fewest and most units of a resource (the scenario's bounds on the equipment and crew fields)."""
    return {"pollbooks": (1, 50), "voting": (1, 100 if kind == "dre" else 200), "scanners": (1, 10), "managers": (1, 60)}[resource]


@dataclass(frozen=True)
class DayFigures:
    """What a configuration gives over the simulated days (arrays over days)."""

    config: Config
    p95: np.ndarray  # the day's 95th-percentile wait, minutes
    mean: np.ndarray  # the day's mean wait
    lost: np.ndarray  # voters who gave up that day
    voters: np.ndarray  # voters who came that day
    measures: dict[str, np.ndarray]  # target text -> the day's measure (all lines together)
    line_measures: dict[tuple[str, str], np.ndarray]  # (line, target text) -> the day's measure on that line

    def days_meeting(self, targets: Sequence[Target], line: str | None = None) -> int:
        """Days on which every target holds (on one line, or all lines together)."""
        ok = np.ones(len(self.p95), bool)
        for t in targets:
            values = self.measures[t.text] if line is None else self.line_measures.get((line, t.text))
            if values is not None:
                ok &= values <= t.limit + 1e-9
        return int(ok.sum())

    def worst(self, targets: Sequence[Target], meet: int, line: str | None = None) -> float:
        """How far the configuration is from its targets: the largest score / limit (<= 1: met)."""
        out = 0.0
        for t in targets:
            values = self.measures[t.text] if line is None else self.line_measures.get((line, t.text))
            if values is not None:
                s = float(score(values, meet))
                out = max(out, s / t.limit if t.limit > 0 else (0.0 if s <= 0 else np.inf))
        return out


class Trials:
    """One precinct's simulated days and the configurations tried on them (cached)."""

    def __init__(self, scenario: Scenario, election: Election, spec: PrecinctSpec, index: int, seed: int,
                 replications: int, resources: Sequence[str], targets: Sequence[Target]):  # fmt: skip
        self.scenario, self.spec, self.targets = scenario, spec, tuple(targets)
        self.kind = spec.equipment.kind
        staffed = scenario.staff is not None and spec.id not in {r.precinct for r in scenario.staff.rosters}  # a crew: its size can change
        self.resources = tuple(r for r in RESOURCES if r in resources and (r != "scanners" or self.kind == "paper") and (r != "managers" or staffed))
        self.days = [DayDraws.from_seed(scenario, election, spec, precinct_seed(seed + r, index)) for r in range(replications)]
        self.tried: dict[Config, DayFigures] = {}
        self.checkin_only: dict[Config, DayFigures] = {}  # configurations tried on the check-in line alone
        self.lines: dict = {}  # check-in lines worked out (Lanes.cache)

    @property
    def today(self) -> Config:
        eq = self.spec.equipment
        return tuple(len([p for p in self.staff_day(()).people if p.role == "manager"]) if r == "managers" else eq.units(pool_of(r, self.kind))
                     for r in self.resources)  # fmt: skip

    def staff_day(self, config: Config) -> StaffDay:
        """The staffing of a configuration (its units and, if planned, its poll managers)."""
        eq = self.spec.equipment
        fields = {"pollbooks": "pollbook_stations", "voting": "dre_units" if self.kind == "dre" else "marking_booths", "scanners": "scanners"}
        update = {fields[r]: v for r, v in zip(self.resources, config, strict=False) if r != "managers"}
        managers = dict(zip(self.resources, config, strict=False)).get("managers")
        spec = self.spec.model_copy(update={"equipment": eq.model_copy(update=update)})
        return staff_day(self.scenario, spec, None if managers in (None, ENOUGH) else managers)

    def bounds(self, resource: str) -> tuple[int, int]:
        return bounds(resource, self.kind)

    def units(self, configs: Sequence[Config]) -> dict[str, np.ndarray]:
        """Units per pool for every lane (configurations x days)."""
        eq, reps = self.spec.equipment, len(self.days)
        out = {pool: np.full(len(configs) * reps, eq.units(pool), np.int64) for pool in ("PB", "DRE", "ADA", "BOOTH", "SCAN", "BMD")}
        for k, resource in enumerate(self.resources):
            if resource != "managers":
                out[pool_of(resource, self.kind)] = np.repeat(np.array([c[k] for c in configs], np.int64), reps)
        return out

    def figures(self, configs: Sequence[Config], until: str = "") -> list[DayFigures]:
        """Try configurations not tried yet (all in one batch of lanes); their figures, in order.
        ``until="checkin"``: the check-in line alone (its figures only; the other lines are not run)."""
        tried = self.checkin_only if until else self.tried
        todo = list(dict.fromkeys(c for c in configs if c not in tried and c not in self.tried))
        if todo:
            reps = len(self.days)
            staff = [self.staff_day(c) for c in todo for _ in range(reps)] if self.scenario.staff is not None else None
            lanes = Lanes(self.scenario, self.spec, self.days, np.tile(np.arange(reps), len(todo)), self.units(todo), staff=staff, cache=self.lines)
            w = lanes.run(until)
            regular, audio = lanes.pad("regular", False), lanes.pad("audio", False)
            voting_users = (regular & ~audio) if self.kind == "dre" else ~(regular & audio)
            lost = np.isin(w.outcome, _LOST).sum(axis=1)
            voters = w.valid.sum(axis=1)
            p95 = Target("p95", 0).day_values(w.wait, lost, voters)
            counted = np.isfinite(w.wait).any(axis=1)
            mean = np.zeros(len(w.wait))
            mean[counted] = np.nanmean(w.wait[counted], axis=1)
            measures = {t.text: t.day_values(w.wait, lost, voters) for t in self.targets}
            line_measures: dict[tuple[str, str], np.ndarray] = {}
            for line in ("checkin", "voting", "scanner"):
                waits = w.lines[line] if line != "voting" else np.where(voting_users, w.lines[line], np.nan)
                for t in self.targets:
                    if t.on_waits or line == "checkin":  # voters give up only at check-in
                        line_measures[line, t.text] = t.day_values(waits, lost, voters)
            for k, config in enumerate(todo):
                part = slice(k * reps, (k + 1) * reps)
                tried[config] = DayFigures(config, p95[part], mean[part], lost[part], voters[part],
                                                {t: v[part] for t, v in measures.items()},
                                                {key: v[part] for key, v in line_measures.items()})  # fmt: skip
        return [self.tried[c] if c in self.tried else tried[c] for c in configs]

    def guess(self, resource: str) -> int:
        """Units that would be fully busy at the busiest hour: where a search starts."""
        sc, eq = self.scenario, self.spec.equipment
        shares = [sc.arrivals.before_opening_share, *sc.arrivals.hourly_shares]
        voters = float(np.mean([d.n for d in self.days])) if self.days else 0.0
        per_minute = voters * max(shares) / sum(shares) / 60.0
        d0 = self.days[0] if self.days else None
        if d0 is None or d0.n == 0:
            return 1
        if resource == "managers":
            return eq.pollbook_stations + (eq.scanners if self.kind == "paper" else 0)
        minutes = {"pollbooks": float(d0.checkin.mean()), "voting": float(d0.vote.mean()), "scanners": float(d0.scan.mean())}[resource]
        return max(1, int(np.ceil(per_minute * minutes)))
