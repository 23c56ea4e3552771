"""What ``pollsim plan`` finds: typed records, the table an official reads, and the CSV.

For each precinct: the units today and recommended, and for both the expected waits and lost voters
with their spread over the simulated days (the mean and the interval holding 90 % of the days:
from the 5th to the 95th percentile of the days' values); the days on which the targets hold;
whether one unit fewer of each resource still meets them (it should not). The CSV has one row per
precinct and plain numbers; docs/planning.md names every column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pollsim.plan.search import Search
from pollsim.plan.targets import Target
from pollsim.plan.trials import DayFigures


@dataclass(frozen=True)
class Settings:
    """How the plan was made."""

    targets: tuple[Target, ...]
    replications: int
    meet: int
    scope: str
    resources: tuple[str, ...]
    seed: int
    giving_up: bool
    turnout: float = 1.0  # every precinct's turnout times this

    @property
    def target_text(self) -> str:
        return ", ".join(t.text for t in self.targets)


@dataclass(frozen=True)
class PrecinctPlan:
    """One precinct's recommendation."""

    precinct: str
    county: str
    kind: str
    search: Search
    whatif: dict[str, list[DayFigures]] = field(default_factory=dict)  # resource -> figures as its units vary


@dataclass(frozen=True)
class PlanResult:
    """Every precinct's recommendation, in scenario order, and how it was made."""

    scenario: str
    settings: Settings
    precincts: list[PrecinctPlan]
    sensitivity: list[PlanResult] = field(default_factory=list)  # the same plan at other turnouts

    @property
    def resources(self) -> tuple[str, ...]:
        """The resources planned in at least one precinct, in the settings' order."""
        return tuple(r for r in self.settings.resources if any(r in p.search.resources for p in self.precincts))


def spread(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, 5th percentile, 95th percentile) over the simulated days."""
    v = np.asarray(values, float)
    if not len(v):
        return 0.0, 0.0, 0.0
    return float(v.mean()), float(np.percentile(v, 5)), float(np.percentile(v, 95))


COLUMNS = ["precinct", "county", "equipment", "voters_mean"]
"""CSV columns before the per-resource and per-configuration ones (docs/planning.md)."""


def csv_header(resources: Sequence[str]) -> list[str]:
    out = list(COLUMNS)
    out += [f"{r}_{w}" for r in resources for w in ("today", "recommended")]
    for which in ("today", "recommended"):
        out += [f"{which}_{m}" for m in ("p95_mean", "p95_lo", "p95_hi", "wait_mean", "lost_mean", "lost_lo", "lost_hi", "days_meeting")]
    out += [f"one_fewer_{r}_days_meeting" for r in resources] + ["reachable", "configurations_tried"]
    return out


def _figures_cells(f: DayFigures, targets: Sequence[Target]) -> list[object]:
    p95, lost = spread(f.p95), spread(f.lost)
    return [*(round(x, 3) for x in p95), round(float(f.mean.mean()), 3) if len(f.mean) else 0.0, *(round(x, 3) for x in lost), f.days_meeting(targets)]


def csv_rows(result: PlanResult) -> list[list[object]]:
    s = result.settings
    rows = []
    for p in result.precincts:
        x = p.search
        units = {r: (x.today.config[k], x.recommended.config[k]) for k, r in enumerate(x.resources)}
        row: list[object] = [p.precinct, p.county, p.kind, round(float(x.today.voters.mean()), 1)]
        for r in result.resources:
            row += list(units.get(r, ("", "")))
        row += _figures_cells(x.today, s.targets) + _figures_cells(x.recommended, s.targets)
        row += [x.one_fewer[r].days_meeting(s.targets) if r in x.one_fewer else "" for r in result.resources]
        row += ["yes" if x.reachable else "no", x.tried]
        rows.append(row)
    return rows


def _interval(values: np.ndarray, digits: int = 1) -> str:
    m, lo, hi = spread(values)
    return f"{m:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def table_text(result: PlanResult, limit: int = 40) -> str:
    """The plan as a fixed-width table: one line per precinct (the ``limit`` worst today, for a big run)."""
    s = result.settings
    resources = result.resources
    head = f"{'precinct':<16} " + " ".join(f"{r[:9]:>9}" for r in resources) + f" {'p95 wait today':>20} {'p95 wait planned':>20} {'lost/day planned':>18} {'days':>6}"
    lines = [f"Plan for {result.scenario}: targets {s.target_text} on {s.meet} of {s.replications} days, "
             f"scope {s.scope}{', voters may give up' if s.giving_up else ''}{f', turnout x{s.turnout:g}' if s.turnout != 1 else ''}",
             "units: today -> recommended; waits in minutes, mean [5th-95th percentile of the days]", head, "-" * len(head)]  # fmt: skip
    shown = sorted(result.precincts, key=lambda p: -float(np.percentile(p.search.today.p95, 95)) if len(p.search.today.p95) else 0.0)
    shown = shown[:limit] if len(result.precincts) > limit else result.precincts
    for p in shown:
        x = p.search
        units = dict(zip(x.resources, zip(x.today.config, x.recommended.config, strict=True), strict=True))
        cells = " ".join(f"{f'{units[r][0]}->{units[r][1]}' if r in units else '-':>9}" for r in resources)
        flag = "" if x.reachable else "  (targets not reachable)"
        lines.append(f"{p.precinct[:16]:<16} {cells} {_interval(x.today.p95):>20} {_interval(x.recommended.p95):>20} "
                     f"{_interval(x.recommended.lost):>18} {x.recommended.days_meeting(s.targets):>3}/{s.replications:<2}{flag}")  # fmt: skip
    if len(result.precincts) > limit:
        lines.append(f"... the {limit} precincts with the longest waits today of {len(result.precincts):,}; every precinct is in plan.csv")
    totals = {r: (sum(p.search.today.config[k] for p in result.precincts for k, rr in enumerate(p.search.resources) if rr == r),
                  sum(p.search.recommended.config[k] for p in result.precincts for k, rr in enumerate(p.search.resources) if rr == r))
              for r in resources}  # fmt: skip
    lines.append("totals: " + "; ".join(f"{r} {a:,} -> {b:,}" for r, (a, b) in totals.items() if a or b))
    for other in result.sensitivity:
        so = other.settings
        changed = [(p.precinct, q.search.recommended.config, p.search.recommended.config) for p, q in zip(other.precincts, result.precincts, strict=True)
                   if p.search.recommended.config != q.search.recommended.config]  # fmt: skip
        more = {r: sum(p.search.recommended.config[k] for p in other.precincts for k, rr in enumerate(p.search.resources) if rr == r) for r in resources}
        lines.append(f"turnout x{so.turnout:g}: {len(changed):,} precinct(s) need more; totals " + "; ".join(f"{r} {v:,}" for r, v in more.items() if v))
    return "\n".join(lines)
