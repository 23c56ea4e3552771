"""The pollbook's VOTED AB marks reach the day: drawn voters marked VOTED AB check in for an
affidavit ballot, never a regular one, and the canvass rejects those whose absentee ballot was
accepted (SOS rule 1-17-2.3)."""

from __future__ import annotations

import numpy as np
import pytest

from pollsim.canvass import AFFIDAVIT_REJECTIONS
from pollsim.election.roll import RollStatus
from pollsim.pipeline import run_election
from pollsim.precinct import Outcome
from tests.absentee.conftest import with_absentee


def test_drawn_voted_ab_voters_vote_by_affidavit_and_some_are_rejected(training_dict):
    sc = with_absentee(training_dict, {"at_polls_not_returned": 1.0, "at_polls_returned": 0.2, "not_returned_share": 0.2}, absentee_ballots=300)
    run = run_election(sc, 6)
    p = run.day.precincts[0]
    voted_ab = p.voters["status"] == RollStatus.VOTED_AB
    assert voted_ab.sum() > 20 and (p.voters["outcome"][voted_ab] == Outcome.AFFIDAVIT).all()
    assert not np.isin(np.flatnonzero(voted_ab), p.ballot_voter).any()
    cv = run.canvass
    ab = cv.affidavit_status == RollStatus.VOTED_AB
    rejected_for_absentee = cv.affidavit_rejection == AFFIDAVIT_REJECTIONS.index("absentee_accepted")
    assert ab.sum() == voted_ab.sum() and rejected_for_absentee[ab].any() and cv.affidavit_accepted[ab].any()
    assert (rejected_for_absentee <= ab).all()  # only VOTED AB ballots are rejected for an accepted absentee ballot


def test_without_absentee_voting_no_voter_is_marked_voted_ab(training):
    run = run_election(training, 6)
    assert run.absentee is None and run.canvass is None
    assert not (run.day.precincts[0].voters["status"] == RollStatus.VOTED_AB).any()


def test_the_envelopes_alone_give_the_day_its_voted_ab_marks_and_the_same_count(adams):
    """The chain starts the day from the drawn envelopes and lets the boards count meanwhile
    (pipeline.run_election): the marks and the absentee run must be those of the whole stage."""
    from pollsim.absentee import draw_envelopes, run_absentee, with_voted_ab

    whole = run_absentee(adams, 11)
    drawn = draw_envelopes(adams, 11)
    assert [p.roll for p in with_voted_ab(adams, drawn).precincts] == [p.roll for p in with_voted_ab(adams, whole).precincts]
    again = run_absentee(adams, 11, drawn)
    assert again.envelopes.tobytes() == whole.envelopes.tobytes() and np.array_equal(again.cvr, whole.cvr)
    assert all(np.array_equal(again.per_precinct[k], whole.per_precinct[k]) for k in whole.per_precinct)
    with pytest.raises(ValueError, match="envelopes drawn for"):
        run_absentee(adams, 11, drawn[:-1])
