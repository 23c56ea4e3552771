"""Stress: Monte Carlo of whole election days and nights, to find where counting breaks.

Each simulated night is the full chain for one root seed: every precinct's day, election night
(closing, transport, read-in, incidents, reporting), the §23-15-615 reconciliation, and a
§23-15-617 risk-limiting audit of one contest. Nights are independent tasks on the executor; the
seed of night *k* is derived from the root seed and *k* alone, so the distributions do not depend
on the worker count or the engine.

Faults come from a faults file: a partial scenario merged over the scenario (mappings merged key
by key, lists appended), e.g. ``night:`` incident rates, ``behaviour:``, ``errors:`` (poll-worker
errors) or ``incidents:`` (misrecording firmware, outages).

What is measured per night: last voter out, time to 100 % of ballots reported (null if a card never
arrives), both on the run directory's clock in the rows (``19:43``; past midnight ``25:10``, as in
reporting.csv) and as minutes after midnight in the distributions (``*_minutes``), precincts flagged by the reconciliation, whether the audit escalated to a full hand
count, whether the reported (electronic) outcome was wrong (it differs from the paper), and if so
whether the audit caught it (escalated, and the recount certified the paper winners) or missed it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from pollsim.errors import ScenarioError
from pollsim.files import atomic_text
from pollsim.pipeline import AuditRequest, run_election
from pollsim.rundir.layout import csv_text, hhmm
from pollsim.scenario.loader import read_mapping
from pollsim.scenario.models import Scenario
from pollsim.tabulate import tally

COLUMNS = ["night", "seed", "last_voter_out", "all_reported", "precincts_flagged", "audit_ballots", "audit_escalated", "outcome_wrong", "wrong_caught", "wrong_missed"]


def merge(base: dict, overlay: dict) -> dict:
    """``overlay`` over ``base``: mappings merged key by key, lists appended, other values replaced."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + copy.deepcopy(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_faults(path: Path) -> dict:
    """A faults file: a partial scenario (a mapping of scenario sections), read as safely as a scenario."""
    return dict(read_mapping(path, "a faults file is a partial scenario: a mapping of scenario sections").data)


def with_faults(scenario_path: Path, faults_path: Path) -> Scenario:
    """The scenario with the faults file merged over it (:func:`merge`), validated."""
    merged = merge(dict(read_mapping(scenario_path).data), load_faults(faults_path))
    try:
        return Scenario.model_validate(merged)
    except ValueError as exc:
        raise ScenarioError([f"{faults_path}: the faults do not fit the scenario: {str(exc).splitlines()[0]}"]) from None


def night_root(seed: int, night: int) -> int:
    """The root seed of simulated night ``night`` (its precincts' seeds derive from it)."""
    return int(np.random.SeedSequence(seed, spawn_key=(2 << 30, night)).generate_state(1, np.uint64)[0] >> 1)


def one_night(scenario: Scenario, seed: int, night: int, contest: str, risk_limit: float) -> dict:
    """Day, night, reconciliation and audit for one derived seed (all in memory); the measurements of that night."""
    root = night_root(seed, night)
    run = run_election(scenario, root, night=True, audit=AuditRequest(contest, risk_limit, f"{root:020d}"[-20:], "kaplan-markov"))
    assert run.night is not None and run.audit is not None
    day = run.day
    layers = day.layers()
    seats = day.election.contest(contest).vote_for
    reported = tally(day.election, layers["cvr"], [contest])[contest].winners(seats)
    truth = tally(day.election, layers["paper"], [contest])[contest].winners(seats)
    [decision] = [d for d in run.audit.decisions if d.contest == contest]
    escalated = not decision.risk_limit_met
    wrong = sorted(reported) != sorted(truth)
    done = run.night.ballots_reported_by(1.0)
    return {
        "night": night,
        "seed": root,
        "last_voter_out": round(max(p.last_voter_out for p in day.precincts), 3),
        "all_reported": round(done, 3) if done is not None else float("nan"),
        "precincts_flagged": int(run.reconciliation.flagged.sum()),
        "audit_ballots": int(run.audit.workload["audit"]["ballots"]),
        "audit_escalated": escalated,
        "outcome_wrong": wrong,
        "wrong_caught": wrong and escalated and sorted(decision.certified_winners) == sorted(truth),
        "wrong_missed": wrong and not escalated,
    }


def _stats(values: list[float]) -> dict:
    a = np.array(values, float)
    a = a[np.isfinite(a)]
    if not len(a):
        return {"n": 0}
    return {"n": int(len(a)), "mean": round(float(a.mean()), 3), "p50": round(float(np.percentile(a, 50)), 3), "p90": round(float(np.percentile(a, 90)), 3), "max": round(float(a.max()), 3)}


def stress(
    scenario: Scenario,
    seed: int,
    nights: int,
    *,
    contest: str | None = None,
    risk_limit: float = 0.05,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict, list[dict]]:
    """Run ``nights`` simulated nights; (distributions, one row per night)."""
    contest = contest or scenario.election.contests[0].id
    if contest not in {c.id for c in scenario.election.contests}:
        raise ScenarioError([f"--contest: the scenario has no contest {contest!r}"])
    if executor is None:
        rows = []
        for k in range(nights):
            rows.append(one_night(scenario, seed, k, contest, risk_limit))
            if progress:
                progress(k + 1)
    else:
        futures = [executor.submit(one_night, scenario, seed, k, contest, risk_limit) for k in range(nights)]
        rows = []
        for f in futures:
            rows.append(f.result())
            if progress:
                progress(len(rows))
    wrong = [r for r in rows if r["outcome_wrong"]]
    dist = {
        "scenario": scenario.scenario,
        "seed": seed,
        "nights": nights,
        "contest": contest,
        "risk_limit": risk_limit,
        "last_voter_out_minutes": _stats([r["last_voter_out"] for r in rows]),
        "all_reported_minutes": _stats([r["all_reported"] for r in rows]),
        "nights_never_fully_reported": sum(1 for r in rows if not np.isfinite(r["all_reported"])),
        "precincts_flagged": _stats([r["precincts_flagged"] for r in rows]),
        "audit_ballots": _stats([r["audit_ballots"] for r in rows]),
        "audits_escalated": sum(r["audit_escalated"] for r in rows),
        "wrong_outcomes": len(wrong),
        "wrong_outcomes_caught": sum(r["wrong_caught"] for r in rows),
        "wrong_outcomes_missed": sum(r["wrong_missed"] for r in rows),
    }
    return dist, [_clocked(r) for r in rows]


def _clocked(row: dict) -> dict:
    """A night's row with its times on the run directory's clock (HH:MM; None: never)."""
    done = row["all_reported"]
    return {**row, "last_voter_out": hhmm(row["last_voter_out"]), "all_reported": hhmm(done) if np.isfinite(done) else None}


def _json_safe(value):
    """NaN (a night never fully reported) becomes null: JSON has no NaN."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def write_stress(out: Path, dist: dict, rows: list[dict]) -> None:
    """Write stress.json (distributions and every night) and stress.csv (one row per night)."""
    doc = _json_safe({**dist, "per_night": rows})
    atomic_text(out / "stress.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
    atomic_text(out / "stress.csv", csv_text(COLUMNS, [[r[c] for c in COLUMNS] for r in rows]))
