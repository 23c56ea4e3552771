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


def by_column(ballots: np.ndarray) -> np.ndarray:
    """The ballot matrix column-major: ``uint8[width, n]``, one contiguous row per choice.

    Counting reads every column a few times; a column of a row-major matrix is a strided view,
    and one transposing copy makes all later passes contiguous (a tally then costs about one
    plain column sum, ``ballots.sum(axis=0)``; benchmarks/test_tally_bench.py).
    """
    return np.ascontiguousarray(np.asarray(ballots).T)


def _marks(cols: np.ndarray) -> np.ndarray:
    """Marks per ballot in one contest (``int16[n]``), from its columns (``uint8[k, n]``)."""
    marks = np.zeros(cols.shape[1], np.int16)
    for col in cols:
        marks += col
    return marks


def _contest_counts(columns: np.ndarray, sl: slice, vote_for: int) -> tuple[np.ndarray, np.ndarray]:
    """(votes per choice, marks per ballot) of one contest, from the column-major matrix."""
    cols = columns[sl]
    marks = _marks(cols)
    valid = marks <= vote_for
    if valid.all():
        votes = np.array([np.count_nonzero(col) for col in cols], np.int64)
    else:
        votes = np.array([np.count_nonzero(col & valid) for col in cols], np.int64)
    return votes, marks


def overvoted(election: Election, ballots: np.ndarray) -> np.ndarray:
    """``bool[n]``: the ballots (rows, or one ballot) with more marks than seats in some contest."""
    ballots = np.atleast_2d(ballots)
    starts = [sl.start for sl in election.contest_slices.values()]
    seats = np.array([election.contest(cid).vote_for for cid in election.contest_slices])
    if ballots.shape[0] == 0 or not starts:
        return np.zeros(ballots.shape[0], bool)
    return np.asarray((np.add.reduceat(ballots.astype(np.int64), starts, axis=1) > seats).any(axis=1))


def tally_votes(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> np.ndarray:
    """Votes per column (``int64[width]``) with overvoted contests counting for no one."""
    ballots = np.asarray(ballots)
    out = np.zeros(election.width, np.int64)
    if ballots.shape[0] == 0:
        return out
    columns = by_column(ballots)
    for contest in election.contests:
        if contests is None or contest.id in contests:
            sl = election.contest_slices[contest.id]
            out[sl] = _contest_counts(columns, sl, contest.vote_for)[0]
    return out


def tally(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> dict[str, ContestTally]:
    """Count every contest (or the listed ones) of a ballot matrix."""
    ballots = np.asarray(ballots)
    columns = by_column(ballots.reshape(-1, election.width) if ballots.size == 0 else ballots)
    out = {}
    for contest in election.contests:
        if contests is not None and contest.id not in contests:
            continue
        votes, marks = _contest_counts(columns, election.contest_slices[contest.id], contest.vote_for)
        over = marks > contest.vote_for
        n_over = int(np.count_nonzero(over))
        marks_counted = int(marks.sum(dtype=np.int64)) - (int(marks[over].sum(dtype=np.int64)) if n_over else 0)
        out[contest.id] = ContestTally(
            contest=contest.id,
            votes={ch.id: int(v) for ch, v in zip(contest.choices, votes, strict=True)},
            undervotes=contest.vote_for * (len(marks) - n_over) - marks_counted,
            overvoted_ballots=n_over,
            ballots=int(ballots.shape[0]),
        )
    return out


def tally_dict(election: Election, ballots: np.ndarray, contests: list[str] | None = None) -> dict[str, dict[str, int]]:
    """{contest id: {choice id: votes}}: the shape summary.json carries."""
    return {cid: t.votes for cid, t in tally(election, ballots, contests).items()}
