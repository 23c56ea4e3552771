"""Run directories for the audit tests: the training precinct as simulated, and a copy whose
electronic records report the wrong U.S. Senate winner (misrecording firmware)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pollsim.audit.simulate import flip_votes
from pollsim.election.definition import Election
from pollsim.files import write_npz
from pollsim.precinct.election_day import run_election_day
from pollsim.rundir import write_run
from pollsim.scenario import load_scenario
from tests.conftest import reseal

ROOT = Path(__file__).resolve().parents[2]
SEED = "80194 27365 01928 37465"  # twenty rolls of a ten-sided die


@pytest.fixture(scope="session")
def training_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("audit") / "training"
    write_run(run_election_day(load_scenario(ROOT / "scenarios" / "training-precinct.yaml"), 7), out)
    return out


def flipped_copy(run: Path, out: Path, contest: str, reported_margin: float, seed: int = 0) -> Path:
    """A copy of ``run`` whose CVR layer has ``contest`` flipped from the paper winner to the runner-up."""
    shutil.copytree(run, out, ignore=shutil.ignore_patterns("audit*"))
    with np.load(run / "ballots.npz") as z:
        arrays = {k: z[k] for k in z.files}
    election = Election.from_dict(json.loads((run / "election.json").read_text()))
    sl = election.contest_slices[contest]
    vote_for = election.contest(contest).vote_for
    cvr = arrays["cvr"].copy()
    cvr[:, sl] = flip_votes(cvr[:, sl], arrays["paper"][:, sl], vote_for, reported_margin, np.random.default_rng(seed))
    arrays["cvr"] = cvr
    write_npz(out / "ballots.npz", arrays)
    return reseal(out)


@pytest.fixture(scope="session")
def wrong_run(training_run, tmp_path_factory) -> Path:
    """U.S. Senate: the paper says dawson, the CVRs say pruitt by 5 % of the ballots."""
    return flipped_copy(training_run, tmp_path_factory.mktemp("audit") / "wrong", "us-senate", 0.05)


@pytest.fixture(scope="session")
def mixed_run(tmp_path_factory) -> Path:
    """A synthetic run of 200 precincts in 12 counties: DREs (VVPAT rolls) and precinct scanners."""
    from .synthetic import synthetic_run

    return synthetic_run(tmp_path_factory.mktemp("audit") / "mixed")


@pytest.fixture(scope="session")
def mixed_wrong_run(tmp_path_factory) -> Path:
    """The same election, its CVRs flipped so that b is reported ahead by 5 % (the paper says a)."""
    from .synthetic import synthetic_run

    return synthetic_run(tmp_path_factory.mktemp("audit") / "mixed-wrong", flip=0.05)
