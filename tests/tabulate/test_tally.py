"""Tallies follow the vote-for-N rules, checked against a plain per-ballot count."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pollsim.election.definition import BallotStyle, Choice, Contest, Election
from pollsim.tabulate import tally, tally_votes
from pollsim.tabulate.tally import overvoted

ELECTION = Election(
    "e", "E", "2026-11-03",
    (
        Contest("gov", "Governor", "candidate", 1, (Choice("a", "A"), Choice("b", "B"), Choice("write-in", "W"))),
        Contest("board", "Board", "candidate", 2, tuple(Choice(x, x.upper()) for x in "pqrs")),
        Contest("m1", "Measure", "measure", 1, (Choice("yes", "Yes"), Choice("no", "No"))),
    ),
    (BallotStyle("s", ("gov", "board", "m1")),),
)  # fmt: skip


def count_by_hand(ballots: np.ndarray) -> dict[str, dict[str, int]]:
    """What a canvass board does, ballot by ballot."""
    out = {c.id: {ch.id: 0 for ch in c.choices} for c in ELECTION.contests}
    for row in ballots.tolist():
        col = 0
        for c in ELECTION.contests:
            marks = row[col : col + len(c.choices)]
            if sum(marks) <= c.vote_for:
                for ch, m in zip(c.choices, marks, strict=True):
                    out[c.id][ch.id] += m
            col += len(c.choices)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 1), min_size=ELECTION.width, max_size=ELECTION.width), max_size=60))
def test_tally_equals_column_sums_under_vote_for_n(rows):
    ballots = np.array(rows, np.uint8).reshape(-1, ELECTION.width)
    result = tally(ELECTION, ballots)
    assert {cid: t.votes for cid, t in result.items()} == count_by_hand(ballots)
    for c in ELECTION.contests:
        marks = ballots[:, ELECTION.contest_slices[c.id]].sum(axis=1)
        assert result[c.id].overvoted_ballots == int((marks > c.vote_for).sum())
        assert result[c.id].undervotes == int((c.vote_for - marks[marks <= c.vote_for]).sum())


def test_an_overvoted_contest_counts_for_no_one_but_the_rest_of_the_ballot_counts():
    ballot = np.zeros((1, ELECTION.width), np.uint8)
    ballot[0, [0, 1]] = 1  # governor: two marks, vote for 1
    ballot[0, 3] = 1  # board: p
    ballot[0, 7] = 1  # measure: yes
    votes = tally_votes(ELECTION, ballot)
    assert votes[:3].sum() == 0
    assert votes[3] == 1 and votes[7] == 1
    t = tally(ELECTION, ballot)
    assert t["gov"].overvoted_ballots == 1 and t["board"].undervotes == 1


def test_tallies_are_exact_integers_at_scale():
    ballots = np.zeros((3_000_000, ELECTION.width), np.uint8)
    ballots[:, 0] = 1
    assert tally(ELECTION, ballots)["gov"].votes["a"] == 3_000_000


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 1), min_size=ELECTION.width, max_size=ELECTION.width), max_size=40))
def test_overvoted_ballots_are_those_a_canvass_board_sets_aside(rows):
    ballots = np.array(rows, np.uint8).reshape(-1, ELECTION.width)
    by_hand = []
    for row in rows:
        col, over = 0, False
        for c in ELECTION.contests:
            over |= sum(row[col : col + len(c.choices)]) > c.vote_for
            col += len(c.choices)
        by_hand.append(over)
    assert overvoted(ELECTION, ballots).tolist() == by_hand


def test_any_memory_layout_of_the_ballots_counts_the_same():
    rng = np.random.default_rng(3)
    ballots = (rng.random((500, ELECTION.width)) < 0.3).astype(np.uint8)
    expected = {cid: (t.votes, t.undervotes, t.overvoted_ballots) for cid, t in tally(ELECTION, ballots).items()}
    for layout in (np.asfortranarray(ballots), np.concatenate([ballots, ballots], axis=1)[:, : ELECTION.width], ballots[::-1][::-1]):
        assert {cid: (t.votes, t.undervotes, t.overvoted_ballots) for cid, t in tally(ELECTION, layout).items()} == expected
    assert tally_votes(ELECTION, ballots[:0]).tolist() == [0] * ELECTION.width
    assert all(t.ballots == 0 and t.undervotes == 0 for t in tally(ELECTION, ballots[:0]).values())
