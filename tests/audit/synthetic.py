"""Synthetic run directories for audit tests and benchmarks: many precincts in many counties, some
with DREs (VVPAT rolls), some with a precinct scanner and a BMD, written in the run-directory
format (:mod:`pollsim.rundir`) with a sealed summary.json.

The contest ``president`` (a, b, c; vote for 1) has a's reported lead set by ``margin``; the
measure ``measure-1`` is yes/no. The paper layer equals the CVR layer unless ``flip`` moves CVR
votes from the paper winner to the runner-up (misrecording firmware) or ``errors`` blanks that
share of the paper's votes for a (1-vote overstatements).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from pollsim.audit.simulate import flip_votes
from pollsim.election.definition import BallotStyle, Choice, Contest, Election
from pollsim.files import write_npz
from tests.conftest import reseal

ELECTION = Election(
    "synthetic", "Synthetic general", "2026-11-03",
    (
        Contest("president", "President", "candidate", 1, (Choice("a", "A"), Choice("b", "B"), Choice("c", "C"))),
        Contest("measure-1", "Measure 1", "measure", 1, (Choice("yes", "Yes"), Choice("no", "No"))),
    ),
    (BallotStyle("s", ("president", "measure-1")),),
)  # fmt: skip


def synthetic_run(
    out: Path, precincts: int = 200, counties: int = 12, paper_share: float = 0.3, dres: int = 3, per_device: int = 150, margin: float = 0.1,
    seed: int = 1, flip: float | None = None, errors: float = 0.0,
) -> Path:  # fmt: skip
    """Write the run directory ``out`` and return it (see the module doc)."""
    rng = np.random.default_rng(seed)
    paper = rng.random(precincts) < paper_share
    devices = np.where(paper, 1, dres)  # devices holding ballots: one scanner, or the DREs
    sizes = [rng.integers(per_device // 2, per_device * 3 // 2 + 1, int(k)) for k in devices]
    precinct = np.concatenate([np.full(int(s.sum()), p, np.int32) for p, s in enumerate(sizes)])
    device = np.concatenate([np.repeat(np.arange(len(s), dtype=np.int16), s) for s in sizes])
    n = len(precinct)
    cvr = np.zeros((n, ELECTION.width), np.uint8)
    shares = np.array([(1 + margin) / 2 - 0.02, (1 - margin) / 2 - 0.02, 0.03, 0.01])  # a, b, c, undervote
    pres = rng.choice(4, n, p=shares / shares.sum())
    cvr[np.flatnonzero(pres < 3), pres[pres < 3]] = 1
    yes = rng.random(n) < 0.6
    cvr[yes, 3], cvr[~yes, 4] = 1, 1
    ballots = cvr.copy()
    if errors:
        lost = np.flatnonzero((ballots[:, 0] == 1) & (rng.random(n) < errors))
        ballots[lost, 0] = 0
    if flip is not None:
        cvr[:, 0:3] = flip_votes(cvr[:, 0:3], ballots[:, 0:3], 1, flip, rng)
    ids = [f"p{i:04d}" for i in range(precincts)]
    county = [f"County {i % counties:02d}" for i in range(precincts)]
    out.mkdir(parents=True, exist_ok=True)
    columns = np.array([f"{c.contest}/{c.choice}" for c in ELECTION.columns])
    write_npz(out / "ballots.npz", {"columns": columns, "precinct_ids": np.array(ids), "intent": ballots, "paper": ballots, "cvr": cvr, "precinct": precinct, "device": device})
    (out / "election.json").write_text(json.dumps(ELECTION.to_dict(), indent=2))
    with (out / "precincts.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["precinct", "county", "equipment", "registered_voters", "voters_arrived", "ballots_cast"])
        w.writerows([p, county[i], "paper" if paper[i] else "dre", int(sizes[i].sum()) * 2, int(sizes[i].sum()), int(sizes[i].sum())] for i, p in enumerate(ids))
    with (out / "devices.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["precinct", "index", "device_id", "kind", "public_count", "log_entries", "log_head"])
        for i, p in enumerate(ids):
            if paper[i]:
                w.writerows([[p, 0, "SCAN-1", "scan-single", int(sizes[i][0]), 0, ""], [p, 1, "BMD-1", "bmd", 0, 0, ""]])
            else:
                w.writerows([p, k, f"DRE-{k + 1}", "dre", int(sizes[i][k]), 0, ""] for k in range(len(sizes[i])))
    election = {"id": ELECTION.id, "definition_sha256": ELECTION.definition_hash}
    (out / "summary.json").write_text(json.dumps({"scenario": "synthetic", "seed": seed, "precincts": precincts, "election": election}, indent=2))
    return reseal(out)
