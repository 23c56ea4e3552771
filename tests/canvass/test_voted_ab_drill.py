"""The VOTED AB drill (scenarios/drills/voted-ab-affidavit.yaml): a voter whose absentee ballot was
sent or received votes by affidavit at the polls, and the canvass rejects that affidavit ballot
when the absentee ballot was accepted (SOS rule 1-17-2.3). Each notice of the drill, checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pollsim.absentee import Kind, Status
from pollsim.absentee.calendar import DAY
from pollsim.canvass import AFFIDAVIT_REJECTIONS, Group
from pollsim.election.roll import RollStatus
from pollsim.pipeline import run_election
from pollsim.precinct import Outcome
from pollsim.precinct.election_day import run_election_day
from pollsim.rundir import write_run
from pollsim.scenario import load_scenario
from pollsim.scenario.models import clock_minutes
from tests.conftest import SCENARIOS

DRILL = SCENARIOS / "drills" / "voted-ab-affidavit.yaml"


@pytest.fixture(scope="module")
def drill():
    return run_election(load_scenario(DRILL), 1)


def _voter(p, at: str) -> int:
    [i] = np.flatnonzero(p.voters["arrival"] == clock_minutes(at))
    return int(i)


def _affidavit_row(run, at: str) -> int:
    p = run.day.precincts[0]
    i = _voter(p, at)
    rows = np.flatnonzero(p.voters["outcome"] == Outcome.AFFIDAVIT)
    return int(np.flatnonzero(rows == i)[0])


def test_voted_ab_voters_get_an_affidavit_ballot_not_a_regular_one(drill):
    p = drill.day.precincts[0]
    for at in ("10:15", "14:30"):
        i = _voter(p, at)
        assert p.voters["status"][i] == RollStatus.VOTED_AB and p.voters["outcome"][i] == Outcome.AFFIDAVIT
        assert i not in p.ballot_voter
    plain = run_election_day(load_scenario(SCENARIOS / "training-precinct.yaml"), 1).precincts[0]
    same_day = run_election_day(load_scenario(DRILL), 1).precincts[0]  # without the absentee stage: the same voters plus the two
    assert same_day.accounting.affidavit_ballots == plain.accounting.affidavit_ballots + 2
    assert same_day.accounting.pollbook_marked_voted == plain.accounting.pollbook_marked_voted


def test_the_affidavit_of_a_voter_whose_absentee_ballot_was_accepted_is_rejected(drill, tmp_path):
    cv, ab = drill.canvass, drill.absentee
    k = _affidavit_row(drill, "10:15")
    assert not cv.affidavit_accepted[k] and AFFIDAVIT_REJECTIONS[cv.affidavit_rejection[k]] == "absentee_accepted"
    drilled = (ab.envelopes["kind"] == Kind.MAIL) & (ab.envelopes["status"] == Status.ACCEPTED)
    assert drilled.sum() >= 1 and np.isfinite(ab.envelopes["counted"][drilled]).all()  # counted once, with the absentee ballots
    summary = write_run(drill, tmp_path / "run")
    assert summary["canvass"]["affidavit"]["rejected_by_reason"]["absentee_accepted"] >= 1
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["notice"] == load_scenario(DRILL).notice


def test_the_affidavit_of_a_voter_who_never_returned_the_absentee_ballot_is_counted_after_election_night(drill):
    cv = drill.canvass
    k = _affidavit_row(drill, "14:30")
    assert cv.affidavit_accepted[k] and cv.affidavit_counted[k]
    b = cv.batches[cv.affidavit_batch[k]]
    assert b["group"] == Group.AFFIDAVIT and b["time"] > DAY and b["time"] >= cv.affidavit_decided[k]
