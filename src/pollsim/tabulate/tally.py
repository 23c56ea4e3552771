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


def tally_votes(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> np.ndarray:
    """Votes per column (``int64[width]``) with overvoted contests counting for no one."""
    ballots = np.asarray(ballots)
    out = np.zeros(election.width, np.int64)
    if ballots.shape[0] == 0:
        return out
    for contest in election.contests:
        if contests is not None and contest.id not in contests:
            continue
        sl = election.contest_slices[contest.id]
        block = ballots[:, sl]
        marks = block.sum(axis=1, dtype=np.int64)
        valid = marks <= contest.vote_for
        out[sl] = block[valid].sum(axis=0, dtype=np.int64)
    return out


def tally(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> dict[str, ContestTally]:
    """Count every contest (or the listed ones) of a ballot matrix."""
    ballots = np.asarray(ballots)
    votes = tally_votes(election, ballots, contests)
    out = {}
    for contest in election.contests:
        if contests is not None and contest.id not in contests:
            continue
        sl = election.contest_slices[contest.id]
        marks = ballots[:, sl].sum(axis=1, dtype=np.int64) if ballots.shape[0] else np.zeros(0, np.int64)
        over = marks > contest.vote_for
        under = int((contest.vote_for - marks[~over]).sum())
        out[contest.id] = ContestTally(
            contest=contest.id,
            votes={ch.id: int(v) for ch, v in zip(contest.choices, votes[sl], strict=True)},
            undervotes=under,
            overvoted_ballots=int(over.sum()),
            ballots=int(ballots.shape[0]),
        )
    return out


def tally_dict(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> dict[str, dict[str, int]]:
    """{contest id: {choice id: votes}}: the shape summary.json carries."""
    return {cid: t.votes for cid, t in tally(election, ballots, contests).items()}
