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


def test_envelopes_drawn_in_parts_are_the_envelopes_drawn_at_once(adams):
    """Each precinct draws from its own seed, so the chain may draw a chunk at a time."""
    from pollsim.absentee import draw_envelopes

    whole = draw_envelopes(adams, 3)
    parts = draw_envelopes(adams, 3, 0, 7) + draw_envelopes(adams, 3, 7)
    assert len(parts) == len(whole) == len(adams.precincts)
    assert [d.envelopes.tobytes() for d in parts] == [d.envelopes.tobytes() for d in whole]
    assert [d.at_polls for d in parts] == [d.at_polls for d in whole]


def test_the_chain_marks_each_chunk_as_it_goes_to_the_day_and_counts_what_drawing_first_gives():
    """With an executor the chain draws a chunk's envelopes just before the chunk goes out, so the
    first precincts simulate while the rest are drawn, and the boards start once all are drawn
    (pipeline.run_election). Two Mississippi counties of 43 precincts make two chunks: the marks,
    every precinct's day and the absentee count must be those of drawing everything first, on a
    real two-worker pool as in process."""
    from pollsim.absentee import run_absentee, with_voted_ab
    from pollsim.precinct.election_day import CHUNK, run_election_day
    from pollsim.scale import executor
    from tests.absentee.conftest import mississippi

    sc = mississippi(["Itawamba", "Prentiss"])
    assert len(sc.precincts) > CHUNK
    whole = run_absentee(sc, 5)
    marked = with_voted_ab(sc, whole)
    first = run_election_day(marked, 5)
    with executor(2) as pool:
        pooled = run_election(sc, 5, executor=pool, night=False, canvass=False)
    here = run_election(sc, 5, night=False, canvass=False)
    for run in (pooled, here):
        assert [p.roll for p in run.day.scenario.precincts] == [p.roll for p in marked.precincts]
        assert run.absentee is not None and run.absentee.envelopes.tobytes() == whole.envelopes.tobytes()
        assert all(a.voters.tobytes() == b.voters.tobytes() and np.array_equal(a.cvr, b.cvr) for a, b in zip(run.day.precincts, first.precincts, strict=True))
