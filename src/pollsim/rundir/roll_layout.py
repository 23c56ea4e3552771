"""The roll's part of a run directory (``pollsim run --roll ROLL --election DATE``; issue 17, docs/roll.md).

Written with the run (:func:`pollsim.rundir.write_run`, ``roll=``), each file's SHA-256 in
summary.json's ``files``, so the report reads them through :class:`~pollsim.rundir.RunDir` like any
other file and never opens the roll directory:

- ``roll_counts.csv`` and, for a roll made with ``--compare``, ``roll_policy.csv``: the roll's
  tables for the election, per county of the scenario and their total (:mod:`pollsim.roll.attach`);
- summary.json's ``roll``: the roll and its pollbook (:class:`pollsim.roll.attach.RollAttachment`),
  and what the day made of it: ``affidavit_by_reason`` (affidavit ballots cast at the polls by the
  voter's :class:`~pollsim.election.roll.RollStatus`, from ``voters.npz``) and ``waits`` (mean
  minutes in line of the affidavit and the regular voters: the affidavit ballots' effect on the day).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pollsim.election.roll import AFFIDAVIT_STATUSES, RollStatus
from pollsim.files import atomic_text
from pollsim.precinct.result import Outcome
from pollsim.rundir.layout import SUMMARY

if TYPE_CHECKING:
    from pollsim.roll.attach import RollAttachment
    from pollsim.rundir.read import RunDirBase

ROLL_TABLES = ("roll_counts.csv", "roll_policy.csv")


def day_outcomes(voters: dict[str, np.ndarray]) -> dict:
    """Affidavit ballots at the polls by roll status, and the mean waits of affidavit and regular voters (``voters.npz`` columns)."""
    status, outcome, wait = voters["status"].astype(np.intp), voters["outcome"], voters["wait"]
    aff = outcome == Outcome.AFFIDAVIT
    reg = outcome == Outcome.REGULAR
    by = np.bincount(status[aff], minlength=len(RollStatus))
    mean = lambda w: round(float(np.nanmean(w)), 3) if np.isfinite(w).any() else None  # noqa: E731
    return {
        "affidavit_by_reason": {s.name.lower(): int(by[s]) for s in RollStatus if s in AFFIDAVIT_STATUSES},
        "waits": {"affidavit_voters": int(aff.sum()), "affidavit_mean_minutes": mean(wait[aff]),
                  "regular_voters": int(reg.sum()), "regular_mean_minutes": mean(wait[reg])},  # fmt: skip
    }


def add_roll(stage: Path, summ: dict, roll: RollAttachment) -> dict:
    """Write the roll's tables into the staging folder ``stage`` (whose ``voters.npz`` is written) and summary.json's
    ``roll`` (rewritten); return the summary."""
    with np.load(stage / "voters.npz", allow_pickle=False) as z:  # written already (in memory or streamed)
        voters = {k: z[k] for k in ("status", "outcome", "wait")}
    files = dict(summ["files"])
    for name, body in roll.tables.items():
        if name not in ROLL_TABLES:
            raise ValueError(f"{name}: not a roll table of a run directory ({', '.join(ROLL_TABLES)})")
        atomic_text(stage / name, body)
        files[name] = hashlib.sha256(body.encode()).hexdigest()
    out = {k: v for k, v in summ.items() if k != "files"}
    out["roll"] = {**roll.summary, **day_outcomes(voters)}
    out["files"] = dict(sorted(files.items()))
    atomic_text(stage / SUMMARY, json.dumps(out, indent=2) + "\n")
    return out


def roll_tables(run: RunDirBase) -> dict | None:
    """A run's roll part, read through its hash checks: ``{"summary", "counts", "policy"}`` (rows as dicts;
    ``policy`` None for a roll made without ``--compare``), or None for a run made without ``--roll``."""
    summary = run.summary.get("roll")
    if not isinstance(summary, dict):
        return None
    counts = run.read_csv("roll_counts.csv", ("election", "county", "active", "inactive"))
    policy = run.read_csv("roll_policy.csv", ("election", "county", "measure", "pre2024", "2024", "difference")) if run.has("roll_policy.csv") else None
    return {"summary": summary, "counts": counts, "policy": policy}


__all__ = ["ROLL_TABLES", "add_roll", "day_outcomes", "roll_tables"]
