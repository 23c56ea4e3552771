"""What each absentee voter marked: the three layers of the ballots the resolution board counts.

Selections are drawn as the day model draws a voter's (pollsim.precinct.draws: shares per
contest, undervotes, overvote attempts) for the precinct's ballot style and shares; in a replay
the replayed contest holds exactly the precinct's absentee and UOCAVA votes. An absentee voter is
not at the scanner when the ballot is read, so an overvote is not returned to be corrected: the
extra mark stays on the paper and the contest counts for no one on that ballot (the vote-for-N
rule of pollsim.tabulate). The absentee scanner records what the paper holds, so the electronic
record equals the paper (faults in absentee handling are injected by the board, not here).

Drawn for the whole state at once: one draw per contest and group of precincts with the same
weights (most contests have one), and each replay's votes dealt to its ballots by sorting the
ballots of each precinct on random keys. No Python object per ballot.
"""

from __future__ import annotations

import numpy as np

from pollsim.absentee.record import Kind
from pollsim.election.definition import Election
from pollsim.precinct.draws import _contest_marks
from pollsim.scenario.models import Scenario


def _deal(rng: np.random.Generator, pre: np.ndarray, votes: np.ndarray) -> np.ndarray:
    """Choice index (-1: none) for ballots of precincts ``pre``, dealing each precinct's
    ``votes[precinct, choice]`` to its ballots in random order; a precinct's ballots beyond its votes get -1."""
    out = np.full(len(pre), -1, np.int64)
    order = np.lexsort((rng.random(len(pre)), pre))  # each precinct's ballots, shuffled
    n_p, k = votes.shape
    deck = np.repeat(np.tile(np.arange(k), n_p), votes.ravel())  # precinct-major, choices in order
    ballots = np.bincount(pre, minlength=n_p)
    # the j-th shuffled ballot of precinct p takes the j-th card of p's deck, if p has one
    ballot_rank = np.arange(len(pre)) - np.repeat(np.r_[0, np.cumsum(ballots)[:-1]], ballots)
    card_start = np.r_[0, np.cumsum(votes.sum(axis=1))[:-1]]
    sorted_pre = pre[order]
    has = ballot_rank < votes.sum(axis=1)[sorted_pre]
    out[order[has]] = deck[card_start[sorted_pre[has]] + ballot_rank[has]]
    return out


def mark_all(rng: np.random.Generator, scenario: Scenario, election: Election, pre: np.ndarray, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(intent, paper) ``uint8[n, width]`` of every counted absentee ballot (``pre``: precinct index, ``kinds``: Kind)."""
    n = len(pre)
    intent = np.zeros((n, election.width), np.uint8)
    over = np.zeros_like(intent)
    precincts = scenario.precincts
    specs = {c.id: c for c in scenario.election.contests}
    for contest in election.contests:
        cid, sl = contest.id, election.contest_slices[contest.id]
        groups: dict[tuple, list[int]] = {}
        for i, p in enumerate(precincts):
            if cid in election.ballot_style(p.ballot_style).contests:
                groups.setdefault(tuple(sorted(p.shares.get(cid, {}).items())), []).append(i)
        for key, members in groups.items():
            rows = np.flatnonzero(np.isin(pre, members))
            intent[rows, sl], over[rows, sl] = _contest_marks(rng, specs[cid], len(rows), dict(key) or None)
    replayed = [i for i, p in enumerate(precincts) if p.replay is not None and p.absentee_replayed]
    for cid in sorted({precincts[i].replay.contest for i in replayed}):  # type: ignore[union-attr]
        ids = [c.id for c in specs[cid].choices]
        mine = [i for i in replayed if precincts[i].replay.contest == cid]  # type: ignore[union-attr]
        choice = np.full(n, -1, np.int64)
        for uocava in (False, True):
            votes = np.zeros((len(precincts), len(ids)), np.int64)
            for i in mine:
                r = precincts[i].replay
                assert r is not None
                given = r.uocava_votes if uocava else r.absentee_votes
                votes[i] = [given.get(c, 0) for c in ids]
            rows = np.flatnonzero(np.isin(pre, mine) & ((kinds == Kind.UOCAVA) == uocava))
            choice[rows] = _deal(rng, pre[rows], votes)
        sl = election.contest_slices[cid]
        rows = np.flatnonzero(choice >= 0)
        intent[rows, sl] = 0
        over[rows, sl] = 0
        intent[rows, sl.start + choice[rows]] = 1
    return intent, intent | over
