"""``pollsim run --roll ROLL --election DATE``: each precinct's pollbook comes from the roll."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pollsim.election.roll import RollStatus
from pollsim.pipeline import run_election
from pollsim.roll.pollbook import precinct_pollbook, scenario_from_roll
from pollsim.scenario import load_scenario
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def adams_roll(tmp_path_factory):
    out = tmp_path_factory.mktemp("roll") / "adams"
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "roll", "simulate", "--counties", "Adams", "--end", "2021-06-30", "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def test_every_precincts_pollbook_is_the_rolls(adams_roll):
    scenario = scenario_from_roll(load_scenario(SCENARIOS / "ms-2020-adams.yaml"), adams_roll, "2020-11-03")
    for spec in scenario.precincts:
        book = precinct_pollbook(adams_roll, "2020-11-03", spec.id)
        assert spec.registered_voters == book.active + book.inactive
        came = sum(book.arrivals.values())
        assert spec.roll.inactive == pytest.approx(book.arrivals["INACTIVE"] / came * (1 - spec.roll.no_photo_id))


def test_check_in_outcomes_follow_the_roll(adams_roll):
    """The inactive voters who come to the polls vote by affidavit, in the roll's proportion."""
    scenario = scenario_from_roll(load_scenario(SCENARIOS / "ms-2020-adams.yaml"), adams_roll, "2020-11-03")
    day = run_election(scenario, 1, night=False).day
    status = np.concatenate([p.voters["status"] for p in day.precincts])
    arrivals = {s: sum(precinct_pollbook(adams_roll, "2020-11-03", p.id).arrivals[s] for p in scenario.precincts) for s in ("INACTIVE", "NOT_ON_ROLL")}
    came = sum(sum(precinct_pollbook(adams_roll, "2020-11-03", p.id).arrivals.values()) for p in scenario.precincts)
    n = len(status)
    for name, count in arrivals.items():
        share = count / came * (1 - scenario.precincts[0].roll.no_photo_id)
        got = int((status == int(RollStatus[name])).sum())
        assert abs(got - share * n) <= 4 * np.sqrt(n * share * (1 - share)) + 1, (name, got, share * n)


def test_roll_and_election_go_together(tmp_path, adams_roll):
    run = [sys.executable, "-m", "pollsim.cli", "run", str(SCENARIOS / "ms-2020-adams.yaml"), "--out", str(tmp_path / "R"), "--quiet"]
    proc = subprocess.run([*run, "--roll", str(adams_roll)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--roll and --election go together" in proc.stderr and "Traceback" not in proc.stderr
    training = [*run[:4], str(SCENARIOS / "training-precinct.yaml"), *run[5:]]
    proc = subprocess.run([*training, "--roll", str(adams_roll), "--election", "2020-11-03"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "not in the roll" in proc.stderr and "Traceback" not in proc.stderr
