"""Counting votes from a ballot matrix, by the vote-for-N rules.

For each contest a ballot marks some of the contest's columns. With *m* marks in a contest that
fills *N* seats:

- m <= N: each mark is a vote; the N - m unused votes are undervotes;
- m > N: an overvote: the contest on that ballot counts for no one (its N votes are recorded as
  one overvoted ballot), as a scanner or a canvass board would count it.

Tallies are exact integers (``int64``), whatever the number of ballots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollsim.election.definition import Election


@dataclass(frozen=True)
class ContestTally:
    """The count of one contest: votes per choice, undervotes and overvoted ballots."""

    contest: str
    votes: dict[str, int]
    undervotes: int
    overvoted_ballots: int
    ballots: int

    def winners(self, seats: int) -> list[str]:
        ranked = sorted(self.votes, key=lambda c: (-self.votes[c], c))
        return ranked[:seats]


def _contest_counts(election: Election, ballots: np.ndarray, contest) -> tuple[np.ndarray, np.ndarray]:
    """(votes per choice, marks per ballot) of one contest.

    Works column by column: a column of a row-major matrix is a strided view, and summing a few
    of them is an order of magnitude faster than reducing a (n, k) slice along its rows.
    """
    sl = election.contest_slices[contest.id]
    cols = [ballots[:, j] for j in range(sl.start, sl.stop)]
    marks = np.zeros(ballots.shape[0], np.int16)
    for col in cols:
        marks += col
    valid = marks <= contest.vote_for
    if valid.all():
        votes = np.array([np.count_nonzero(col) for col in cols], np.int64)
    else:
        votes = np.array([np.count_nonzero(col & valid) for col in cols], np.int64)
    return votes, marks


def tally_votes(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> np.ndarray:
    """Votes per column (``int64[width]``) with overvoted contests counting for no one."""
    ballots = np.asarray(ballots)
    out = np.zeros(election.width, np.int64)
    if ballots.shape[0] == 0:
        return out
    for contest in election.contests:
        if contests is None or contest.id in contests:
            out[election.contest_slices[contest.id]] = _contest_counts(election, ballots, contest)[0]
    return out


def tally(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> dict[str, ContestTally]:
    """Count every contest (or the listed ones) of a ballot matrix."""
    ballots = np.asarray(ballots)
    out = {}
    for contest in election.contests:
        if contests is not None and contest.id not in contests:
            continue
        votes, marks = _contest_counts(election, ballots, contest)
        over = marks > contest.vote_for
        out[contest.id] = ContestTally(
            contest=contest.id,
            votes={ch.id: int(v) for ch, v in zip(contest.choices, votes, strict=True)},
            undervotes=int((contest.vote_for - marks[~over].astype(np.int64)).sum()),
            overvoted_ballots=int(over.sum()),
            ballots=int(ballots.shape[0]),
        )
    return out


def tally_dict(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> dict[str, dict[str, int]]:
    """{contest id: {choice id: votes}}: the shape summary.json carries."""
    return {cid: t.votes for cid, t in tally(election, ballots, contests).items()}
