"""Absentee voting before election day, as the law has it (§23-15-637, §23-15-641, §23-15-647), and
the resolution board's count (§23-15-639).

Expected values come from the law's dates, from the scenario's own numbers (a precinct's
accepted ballots, a replay's votes) and from published figures: Mississippi 2016, 102,915
absentee ballots received and 101,339 accepted (MS SOS final totals).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pollsim.absentee import Kind, Status, in_person_deadline, mail_deadline, run_absentee, with_voted_ab
from pollsim.absentee.calendar import DAY, minutes
from pollsim.scenario import build_election
from pollsim.scenario.absentee_spec import REJECTION_REASONS
from pollsim.tabulate import tally_dict
from tests.absentee.conftest import with_absentee

ELECTION = dt.date(2026, 11, 3)


@pytest.fixture(scope="module")
def big(training_dict):
    """One precinct with 20,000 accepted absentee ballots and 300 UOCAVA ones, some mail after election day."""
    sc = with_absentee(training_dict, {"post_election_share": 0.05, "late_share": 0.01}, absentee_ballots=20_000, uocava_ballots=300, registered_voters=40_000, turnout=0.01)
    return sc, run_absentee(sc, 7)


def test_the_accepted_ballots_are_the_precincts_and_the_rest_comes_on_top(big):
    _, ab = big
    env = ab.envelopes
    accepted = env["status"] == Status.ACCEPTED
    assert accepted.sum() == 20_300 == ab.n_ballots
    assert (accepted & (env["kind"] == Kind.UOCAVA)).sum() == 300
    assert (env["status"] == Status.REJECTED).sum() > 0 and (env["status"] == Status.LATE).sum() > 0
    assert ab.per_precinct["receipt_entries"][0] == 20_300 and ab.tabulated()[0] == 20_300


def test_in_person_voting_ends_at_noon_on_the_saturday_before(big):
    _, ab = big
    env = ab.envelopes
    in_person = env["received"][env["kind"] == Kind.IN_PERSON]
    saturday_noon = minutes(in_person_deadline(ELECTION), ELECTION, 12 * 60)
    assert in_person.max() <= saturday_noon and (in_person > saturday_noon - DAY / 2).any()  # the last morning's rush
    assert in_person.min() >= -45 * DAY  # ballots are available 45 days before (§23-15-649)


def test_mail_counts_only_within_five_business_days_late_ballots_are_kept_not_counted(big):
    _, ab = big
    env = ab.envelopes
    limit = minutes(mail_deadline(ELECTION), ELECTION, DAY)  # end of Tuesday 10 Nov 2026
    counted = env["status"] == Status.ACCEPTED
    late = env["status"] == Status.LATE
    assert env["received"][counted].max() < limit and (env["received"][counted] > 0).any()
    assert (env["received"][late] >= limit).all() and (env["kind"][late] != Kind.IN_PERSON).all()
    assert np.isnan(env["counted"][late]).all() and np.isnan(env["processed"][late]).all()
    assert not np.isin(np.flatnonzero(late), ab.ballot_envelope).any()


def test_rejections_carry_a_reason_and_match_mississippis_2016_rate(training_dict):
    sc = with_absentee(training_dict, {"in_person_share": 0.0, "post_election_share": 0.0, "late_share": 0.0}, absentee_ballots=60_000, uocava_ballots=0, registered_voters=99_000, turnout=0.005)
    env = run_absentee(sc, 3).envelopes
    rejected = env["status"] == Status.REJECTED
    assert (env["rejection"][rejected] >= 0).all() and (env["rejection"][~rejected] == -1).all()
    returned = len(env)
    published = 1 - 101_339 / 102_915  # MS 2016: 1.53 % of received absentee ballots rejected
    sd = np.sqrt(returned * published)
    assert abs(rejected.sum() - returned * published) < 4 * sd + 0.001 * returned
    by_reason = np.bincount(env["rejection"][rejected], minlength=len(REJECTION_REASONS))
    assert (by_reason > 0).all()


def test_every_accepted_ballot_is_counted_once_in_a_batch_after_the_polls_close(big):
    sc, ab = big
    b = ab.batches
    assert b["ballots"].sum() == ab.n_ballots and (b["ballots"] <= sc.absentee.board.batch_size).all()
    assert np.array_equal(np.bincount(ab.ballot_batch, minlength=len(b)), b["ballots"])
    assert len(np.unique(ab.ballot_envelope)) == ab.n_ballots
    assert (ab.envelopes["status"][ab.ballot_envelope] == Status.ACCEPTED).all()
    assert np.array_equal(ab.envelopes["counted"][ab.ballot_envelope], b["counted"][ab.ballot_batch])
    assert b["counted"].min() >= 19 * 60  # tabulated from the closing of the polls (MS SOS 2020)
    assert (b["counted"] >= b["ready"]).all()
    env = ab.envelopes[ab.ballot_envelope]
    assert (env["received"] <= env["counted"]).all() and (env["processed"] <= env["counted"]).all()
    assert (env["processed"] >= 7 * 60).all()  # the board opens the boxes from the opening of the polls


def test_mail_after_election_day_and_cured_signatures_are_counted_on_later_days(big):
    _, ab = big
    later = ab.batches["day"] > 0
    assert later.any() and (ab.batches["counted"][later] >= DAY).all()
    env = ab.envelopes
    cured = env["cured"] & (env["status"] == Status.ACCEPTED)
    assert cured.any() and (env["counted"][cured] >= DAY).all()
    after = (env["received"] >= DAY) & (env["status"] == Status.ACCEPTED)
    assert after.any() and (env["counted"][after] >= env["received"][after]).all()


def test_the_per_diem_follows_the_days_the_board_worked(big):
    sc, ab = big
    b = sc.absentee.board
    env = ab.envelopes
    times = np.concatenate([env["processed"][env["status"] != Status.LATE], env["counted"][env["status"] == Status.ACCEPTED]])
    days = set(np.floor(times / DAY).astype(int).tolist())  # calendar days after election day with work
    expected = b.members * b.teams * (b.per_diem_election_day * (0 in days) + b.per_diem * len(days - {0}))
    assert ab.per_county["per_diem"][0] == pytest.approx(expected)
    assert ab.per_county["board_days"][0] == len(days)


def test_same_seed_same_envelopes_other_seed_others(training_dict):
    sc = with_absentee(training_dict, absentee_ballots=500)
    a, b, c = run_absentee(sc, 11), run_absentee(sc, 11), run_absentee(sc, 12)
    assert a.envelopes.tobytes() == b.envelopes.tobytes() and np.array_equal(a.cvr, b.cvr)
    assert a.envelopes.tobytes() != c.envelopes.tobytes()


def test_a_replays_absentee_votes_are_counted_exactly_on_both_layers(training_dict):
    d = dict(training_dict)
    votes = {"dawson": 120, "pruitt": 80, "odom": 5}
    uocava = {"dawson": 3, "pruitt": 2}
    sc = with_absentee(d, replay={"contest": "us-senate", "votes": {"dawson": 200, "pruitt": 150}, "absentee_votes": votes, "uocava_votes": uocava})
    ab = run_absentee(sc, 5)
    el = build_election(sc.election)
    for layer in (ab.cvr, ab.paper):
        assert tally_dict(el, layer)["us-senate"] == {"dawson": 123, "pruitt": 82, "odom": 5}
    kinds = ab.envelopes["kind"][ab.ballot_envelope]
    assert tally_dict(el, ab.cvr[kinds == Kind.UOCAVA])["us-senate"] == {"dawson": 3, "pruitt": 2, "odom": 0}


def test_errors_in_absentee_handling(training_dict):
    base = with_absentee(training_dict, absentee_ballots=300, uocava_ballots=0)
    clean = run_absentee(base, 2)
    twice = run_absentee(with_absentee(training_dict, {"errors": [{"precinct": "training-1", "kind": "envelope_accepted_twice", "count": 3}]}, absentee_ballots=300, uocava_ballots=0), 2)
    box = run_absentee(with_absentee(training_dict, {"errors": [{"precinct": "training-1", "kind": "box_not_counted", "count": 5}]}, absentee_ballots=300, uocava_ballots=0), 2)
    assert twice.n_ballots == clean.n_ballots + 3 and box.n_ballots == clean.n_ballots - 5
    dup = twice.ballot_envelope == -1
    assert dup.sum() == 3 and not twice.paper[dup].any() and not twice.intent[dup].any()
    assert all(any(np.array_equal(r, s) for s in clean.cvr[:3]) for r in twice.cvr[dup])  # the same records, read again
    assert np.bincount(twice.ballot_batch).sum() == twice.batches["ballots"].sum()
    for run in (twice, box):
        assert run.per_precinct["receipt_entries"][0] == clean.per_precinct["receipt_entries"][0] == 300  # the receipt book is right
    assert np.isnan(box.envelopes["counted"]).sum() == np.isnan(clean.envelopes["counted"]).sum() + 5


def test_the_pollbook_marks_voted_ab_and_offers_them_an_affidavit_ballot(training_dict):
    sc = with_absentee(training_dict, {"at_polls_not_returned": 0.5}, absentee_ballots=400)
    ab = run_absentee(sc, 1)
    pp = ab.per_precinct
    assert pp["voted_ab"][0] == pp["sent"][0] == len(ab.envelopes) + pp["not_returned"][0]
    expected = 0.5 * pp["not_returned"][0] + sc.absentee.at_polls_returned * len(ab.envelopes)
    assert pp["at_polls"][0] == pytest.approx(expected)
    day = with_voted_ab(sc, ab)
    p = sc.precincts[0]
    assert day.precincts[0].roll.voted_ab == pytest.approx(expected / (p.registered_voters * p.turnout + expected))
    assert sc.precincts[0].roll.voted_ab == 0.0  # the scenario itself is unchanged
