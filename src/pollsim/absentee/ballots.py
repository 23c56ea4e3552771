"""What each absentee voter marked: the three layers of the ballots the resolution board counts.

Selections are drawn as the day model draws a voter's (pollsim.precinct.draws: shares per
contest, undervotes, overvote attempts) for the precinct's ballot style and shares; in a replay
the replayed contest holds exactly the precinct's absentee and UOCAVA votes. An absentee voter is
not at the scanner when the ballot is read, so an overvote is not returned to be corrected: the
extra mark stays on the paper and the contest counts for no one on that ballot (the vote-for-N
rule of pollsim.tabulate). The absentee scanner records what the paper holds, so the electronic
record equals the paper (faults in absentee handling are injected by the board, not here).
"""

from __future__ import annotations

import numpy as np

from pollsim.absentee.record import Kind
from pollsim.election.definition import Election
from pollsim.precinct.draws import _contest_marks
from pollsim.scenario.models import PrecinctSpec, Scenario


def _replayed(rng: np.random.Generator, votes: dict[str, int], ids: list[str], n: int) -> np.ndarray:
    """``n`` choice indexes holding exactly ``votes`` (shuffled); -1 for rows beyond them."""
    picks = rng.permutation(np.repeat(np.arange(len(ids)), [votes.get(c, 0) for c in ids]))[:n]
    return np.concatenate([picks, np.full(n - len(picks), -1, np.int64)])


def mark_ballots(rng: np.random.Generator, scenario: Scenario, election: Election, p: PrecinctSpec, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(intent, paper) ``uint8[n, width]`` of a precinct's counted absentee ballots (``kinds``: their Kind)."""
    n = len(kinds)
    intent = np.zeros((n, election.width), np.uint8)
    over = np.zeros_like(intent)
    specs = {c.id: c for c in scenario.election.contests}
    for cid in election.ballot_style(p.ballot_style).contests:
        sl = election.contest_slices[cid]
        intent[:, sl], over[:, sl] = _contest_marks(rng, specs[cid], n, p.shares.get(cid))
        if p.replay is not None and p.absentee_replayed and cid == p.replay.contest:
            ids = [c.id for c in specs[cid].choices]
            choice = np.full(n, -1, np.int64)
            uocava = kinds == Kind.UOCAVA
            choice[~uocava] = _replayed(rng, p.replay.absentee_votes, ids, int((~uocava).sum()))
            choice[uocava] = _replayed(rng, p.replay.uocava_votes, ids, int(uocava.sum()))
            rows = np.flatnonzero(choice >= 0)
            intent[rows, sl] = 0
            over[rows, sl] = 0
            intent[rows, sl.start + choice[rows]] = 1
    return intent, intent | over
