"""A contest's reported outcome and the assertions an audit must confirm (§23-15-617).

A risk-limiting audit checks the reported *outcome* (who won), not the exact tally. For a
vote-for-N plurality contest the outcome is right if every reported winner got more votes on
paper than every reported loser; each (winner, loser) pair is one :class:`Assertion`, and the
contest is confirmed when every assertion is (Lindeman, Stark & Yates 2012, section 4 for BRAVO;
Stark 2020, SHANGRLA, for comparison audits). A yes/no measure (simple majority) is the vote-for-1
contest {yes, no}.

Votes are read from ballot matrices by the vote-for-N rule of :mod:`pollsim.tabulate.tally`: a
ballot with more marks than seats in a contest counts for no one in it. For one pair, a ballot's
*pair value* is +1 (a vote for the winner), -1 (for the loser) or 0; a card's *overstatement*
(in votes) is its CVR pair value minus its paper pair value, -2..2.

Denominators: shares and diluted margins are over ``ballots``, the number of cards in the
manifest (phantoms included), as the audit samples cards, not votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollsim.audit.errors import AuditError
from pollsim.election.definition import Election


@dataclass(frozen=True)
class Assertion:
    """"``winner`` got more votes than ``loser``": one pair of a contest's reported outcome."""

    contest: str
    winner: str
    loser: str
    winner_index: int  # column of the winner within the contest
    loser_index: int
    winner_votes: int  # reported
    loser_votes: int
    ballots: int  # cards in the manifest

    @property
    def name(self) -> str:
        return f"{self.winner}>{self.loser}"

    @property
    def margin(self) -> int:
        """Reported margin in votes."""
        return self.winner_votes - self.loser_votes

    @property
    def diluted_margin(self) -> float:
        """Reported margin over all cards: the v of SHANGRLA, the mu of super-simple."""
        return self.margin / self.ballots if self.ballots else 0.0

    @property
    def winner_share(self) -> float:
        """s_wl = v_w / (v_w + v_l): the winner's share of the pair's votes (BRAVO)."""
        total = self.winner_votes + self.loser_votes
        return self.winner_votes / total if total else 0.5

    @property
    def testable(self) -> bool:
        """A tie or a reversed pair can never be confirmed by sampling: it goes to a full count."""
        return self.margin > 0


@dataclass(frozen=True)
class ReportedOutcome:
    """One contest as the electronic records report it."""

    contest: str
    kind: str  # "candidate" or "measure"
    vote_for: int
    choices: tuple[str, ...]
    votes: tuple[int, ...]  # reported votes per choice
    ballots: int  # cards in the manifest
    winners: tuple[int, ...]  # choice indexes, best first
    losers: tuple[int, ...]

    @property
    def assertions(self) -> tuple[Assertion, ...]:
        return tuple(
            Assertion(self.contest, self.choices[w], self.choices[lo], w, lo, self.votes[w], self.votes[lo], self.ballots)
            for w in self.winners
            for lo in self.losers
        )

    @property
    def closest(self) -> Assertion:
        """The assertion with the smallest margin (the one that sets the sample size)."""
        return min(self.assertions, key=lambda a: (a.margin, a.winner, a.loser))

    def to_dict(self) -> dict:
        return {
            "contest": self.contest, "kind": self.kind, "vote_for": self.vote_for, "choices": list(self.choices),
            "reported_votes": list(self.votes), "ballots": self.ballots,
            "winners": [self.choices[i] for i in self.winners], "losers": [self.choices[i] for i in self.losers],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> ReportedOutcome:
        choices = tuple(d["choices"])
        return outcome_from_votes(d["contest"], d["kind"], int(d["vote_for"]), choices, tuple(int(v) for v in d["reported_votes"]), int(d["ballots"]))


def outcome_from_votes(contest: str, kind: str, vote_for: int, choices: tuple[str, ...], votes: tuple[int, ...], ballots: int) -> ReportedOutcome:
    """Winners are the ``vote_for`` choices with most votes (ties: choice id order, as the tally)."""
    ranked = sorted(range(len(choices)), key=lambda i: (-votes[i], choices[i]))
    seats = min(vote_for, len(choices))
    winners = tuple(ranked[:seats])
    losers = tuple(sorted(ranked[seats:]))
    return ReportedOutcome(contest, kind, vote_for, choices, votes, ballots, winners, losers)


def reported_outcome(election: Election, contest: str, cvr: np.ndarray, ballots: int) -> ReportedOutcome:
    """The reported outcome of ``contest`` from the CVR matrix (uint8[n, width])."""
    if contest not in election.contest_slices:
        known = ", ".join(c.id for c in election.contests)
        raise AuditError(f"unknown contest '{contest}' (the election has: {known})")
    c = election.contest(contest)
    sl = election.contest_slices[contest]
    cols = [np.asarray(cvr)[:, j] for j in range(sl.start, sl.stop)]  # strided views, no copy
    marks = np.zeros(len(cols[0]) if cols else 0, np.uint16)
    for col in cols:
        marks += col
    valid = marks <= c.vote_for  # an overvoted contest counts for no one
    votes = [np.count_nonzero(col & valid) for col in cols]
    if len(c.choices) < 2:
        raise AuditError(f"contest '{contest}' has a single choice; there is no outcome to audit")
    choices = tuple(ch.id for ch in c.choices)
    return outcome_from_votes(contest, c.kind, c.vote_for, choices, tuple(int(v) for v in votes), ballots)


def pair_values(block: np.ndarray, a: Assertion) -> np.ndarray:
    """``int8[n]``: +1 for a vote for the winner, -1 for the loser, 0 otherwise (block already
    has overvotes blanked, see :func:`blank_overvotes`)."""
    block = np.asarray(block)
    return block[:, a.winner_index].astype(np.int8) - block[:, a.loser_index].astype(np.int8)


def vote_string(row: np.ndarray, choices: tuple[str, ...]) -> str:
    """The marks of one contest on one record as ``"a+b"`` ("" for none), as written in a package."""
    return "+".join(choices[i] for i in np.flatnonzero(row).tolist())


def parse_votes(text: str, choices: tuple[str, ...]) -> np.ndarray:
    """Inverse of :func:`vote_string`: ``uint8[k]`` marks (raises KeyError on an unknown choice)."""
    out = np.zeros(len(choices), np.uint8)
    index = {c: i for i, c in enumerate(choices)}
    for name in filter(None, text.split("+")):
        out[index[name]] = 1
    return out


def blank_overvotes(block: np.ndarray, vote_for: int) -> np.ndarray:
    """``block`` with rows that mark more than ``vote_for`` choices blanked."""
    block = np.asarray(block, np.uint8)
    return np.where((block.sum(axis=1, dtype=np.int64) <= vote_for)[:, None], block, 0).astype(np.uint8)
