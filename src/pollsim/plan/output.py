"""The plan's files in ``--out DIR``: plan.csv, plan.json, whatif.csv and recommended.yaml.

- ``plan.csv``: one row per precinct (:func:`pollsim.plan.result.csv_header` names the columns);
- ``plan.json``: the settings, and per precinct the units today, recommended and one fewer, with
  each simulated day's 95th-percentile wait, mean wait and lost voters, so every figure of the
  table can be checked;
- ``whatif.csv``: waits and lost voters as each resource's units vary around the recommendation
  (the what-if chart's points), for the precincts given curves;
- ``recommended.yaml``: the scenario with every precinct's recommended units and the plan's
  ``giving_up`` setting written out, so ``pollsim run recommended.yaml --seed SEED+r`` simulates
  replication r of the recommendation: its own simulation, voter for voter.

Same scenario, seed and settings give the same bytes (no clock time, keys in a fixed order).
Each file is written whole or not at all (:mod:`pollsim.files`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import yaml

from pollsim.files import atomic_text, csv_text
from pollsim.plan.fleet import COLUMNS as FLEET_COLUMNS
from pollsim.plan.fleet import FleetResult
from pollsim.plan.result import PlanResult, csv_header, csv_rows, spread
from pollsim.plan.trials import DayFigures, pool_of
from pollsim.scenario.models import Scenario
from pollsim.scenario.staff_spec import Person, Roster, TrainingSession
from pollsim.staff.roster import crew

FILES = ("plan.csv", "plan.json", "whatif.csv", "recommended.yaml")
WHATIF_COLUMNS = ["precinct", "resource", "units", "recommended", "p95_mean", "p95_lo", "p95_hi", "wait_mean", "lost_mean", "days_meeting"]


def _days(f: DayFigures) -> dict:
    return {"units": list(f.config), "p95": [round(float(x), 4) for x in f.p95], "mean_wait": [round(float(x), 4) for x in f.mean],
            "lost": [int(x) for x in f.lost], "voters": [int(x) for x in f.voters]}  # fmt: skip


def plan_document(result: PlanResult) -> dict:
    """plan.json's content."""
    s = result.settings

    def one(r: PlanResult) -> list[dict]:
        return [{
            "precinct": p.precinct, "county": p.county, "equipment": p.kind, "resources": list(p.search.resources),
            "reachable": p.search.reachable, "configurations_tried": p.search.tried,
            "today": {**_days(p.search.today), "days_meeting": p.search.today.days_meeting(s.targets)},
            "recommended": {**_days(p.search.recommended), "days_meeting": p.search.recommended.days_meeting(s.targets)},
            "one_fewer": {k: {"units": list(f.config), "days_meeting": f.days_meeting(s.targets)} for k, f in p.search.one_fewer.items()},
        } for p in r.precincts]  # fmt: skip

    return {
        "scenario": result.scenario,
        "settings": {"targets": [t.text for t in s.targets], "replications": s.replications, "meet": s.meet, "scope": s.scope,
                     "resources": list(s.resources), "seed": s.seed, "giving_up": s.giving_up, "turnout": s.turnout,
                     "seeds": f"replication r is the day of seed {s.seed} + r"},  # fmt: skip
        "precincts": one(result),
        "sensitivity": [{"turnout": o.settings.turnout, "precincts": one(o)} for o in result.sensitivity],
    }


def whatif_rows(result: PlanResult) -> list[list[object]]:
    rows: list[list[object]] = []
    targets = result.settings.targets
    for p in result.precincts:
        for resource, curve in p.whatif.items():
            k = p.search.resources.index(resource)
            for f in curve:
                m, lo, hi = spread(f.p95)
                rows.append([p.precinct, resource, f.config[k], int(f.config == p.search.recommended.config), round(m, 3), round(lo, 3), round(hi, 3),
                             round(float(f.mean.mean()), 3), round(float(f.lost.mean()), 3), f.days_meeting(targets)])  # fmt: skip
    return rows


def recommended_scenario(scenario: Scenario, result: PlanResult) -> Scenario:
    """The scenario with every precinct's recommended units, and the plan's giving-up setting."""
    by_id = {p.precinct: p for p in result.precincts}
    precincts, rosters = [], []
    fields = {"PB": "pollbook_stations", "DRE": "dre_units", "BOOTH": "marking_booths", "SCAN": "scanners"}
    for spec in scenario.precincts:
        p = by_id.get(spec.id)
        eq = spec.equipment
        if p is not None:
            units = dict(zip(p.search.resources, p.search.recommended.config, strict=True))
            eq = eq.model_copy(update={fields[pool_of(r, p.kind)]: int(v) for r, v in units.items() if r != "managers"})
            if "managers" in units and scenario.staff is not None:  # the crew's size, as a roster of its own
                rosters.append(Roster(precinct=spec.id, people=list(_trained(crew(spec.model_copy(update={"equipment": eq}), scenario.staff.crew, units["managers"]), scenario))))
        precincts.append(spec.model_copy(update={"equipment": eq}))
    update: dict = {"precincts": precincts, "giving_up": scenario.giving_up.model_copy(update={"enabled": result.settings.giving_up}), "mississippi": None}
    if rosters and scenario.staff is not None:
        update["staff"] = scenario.staff.model_copy(update={"rosters": [*scenario.staff.rosters, *rosters]})
    return scenario.model_copy(update=update)


def _trained(people: tuple[Person, ...], scenario: Scenario) -> list[Person]:
    """A crew written out as a roster: trained (4 hours in person a month before) if the crew is certified."""
    assert scenario.staff is not None
    if not scenario.staff.crew.certified:
        return list(people)
    session = TrainingSession(date=scenario.election.date - dt.timedelta(days=30), hours=4.0)
    return [q.model_copy(update={"training": [session]}) if q.role != "bailiff" else q for q in people]


def write_plan(result: PlanResult, scenario: Scenario, out: Path | str) -> list[Path]:
    """Write the plan's files into ``out`` (made if missing); return their paths."""
    out = Path(out)
    doc = json.dumps(plan_document(result), indent=1, allow_nan=False) + "\n"
    rec = recommended_scenario(scenario, result).model_dump(mode="json")
    rec["description"] = f"{rec.get('description') or ''} Recommended by pollsim plan ({result.settings.target_text}).".strip()
    texts = {
        "plan.csv": csv_text(csv_header(result.resources), csv_rows(result)),
        "plan.json": doc,
        "whatif.csv": csv_text(WHATIF_COLUMNS, whatif_rows(result)),
        "recommended.yaml": "# The scenario with the units pollsim plan recommends (plan.json); run it with\n"
                            f"# pollsim run recommended.yaml --seed {result.settings.seed} (replication 0)\n"
                            + yaml.safe_dump(rec, sort_keys=False, allow_unicode=True),
    }  # fmt: skip
    paths = []
    for name in FILES:
        atomic_text(out / name, texts[name])
        paths.append(out / name)
    return paths


def write_fleet(fleet: FleetResult, out: Path | str) -> Path:
    """Write fleet.csv: per precinct, units today and allocated, scores, and the value of one more unit."""
    path = Path(out) / "fleet.csv"
    atomic_text(path, csv_text(FLEET_COLUMNS, fleet.rows()))
    return path


def spread_text(values: np.ndarray) -> str:
    m, lo, hi = spread(values)
    return f"{m:.1f} [{lo:.1f}-{hi:.1f}]"
