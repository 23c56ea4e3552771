"""ONEAudit: a card-level comparison audit of a contest some of whose cards have no CVR of their
own (§23-15-617.2). Reference: Stark (2023), "Overstatement-net-equivalent risk-limiting audit:
ONEAudit" (arXiv:2303.03335); the comparison assorter of SHANGRLA (Stark 2020); ALPHA (Stark 2023).

Cards that can be matched to their CVR keep it. Cards that cannot (a precinct scanner's box whose
CVRs cannot be tied to its ballots, a VVPAT roll, an absentee batch) lie in *pools* with a
reported tally; every card of pool p gets the same "overstatement-net-equivalent" CVR: the pool's
mean assorter value ``abar_p = (n_p + w_p - l_p) / (2 n_p)`` for the pair (winner w, loser l).
The reported assorter mean over all N cards is unchanged, so the diluted margin v is the
reported one, and the audit is an ordinary comparison audit drawing cards uniformly from all N:
with a = (1 + pair)/2 the paper's assorter value and abar the card's (real or ONE) CVR value,

``B = (1 - (abar - a)) / (2 - v)`` in [0, 2/(2 - v)], mean 1/2 or less iff the outcome is wrong,

and ALPHA's factor is ``1 + lambda (B - 1/2)``. Even with no error a pool card's B is not
1/(2 - v) (abar is a mean, a is 0, 1/2 or 1), so the bet matters: pollsim fixes lambda before
sampling, the Kelly bet for the population the reported figures describe (CVR cards with the
planning rates o1, o2 of 1- and 2-vote overstatements; each pool's cards split as its tally),
capped at Kaplan-Markov's bet (:mod:`.bets`). It depends only on reported data, so T is a test
supermartingale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pollsim.audit.bets import GAMMA, assorter_excess, km_equivalent_bet, prior_rates
from pollsim.audit.errors import AuditError
from pollsim.audit.risk import O1, O2


@dataclass(frozen=True, eq=False)
class OneAuditContest:
    """One assertion's reported figures: CVR cards first, then the pools' cards in pool order."""

    cvr_pairs: np.ndarray  # int8[Nc]: each CVR card's reported pair value
    pool_winner: np.ndarray  # int64[P]: reported votes for the winner per pool
    pool_loser: np.ndarray  # int64[P]
    pool_cards: np.ndarray  # int64[P]

    def __post_init__(self) -> None:
        w, lo, n = (np.asarray(x, np.int64) for x in (self.pool_winner, self.pool_loser, self.pool_cards))
        bad = np.flatnonzero((w < 0) | (lo < 0) | (w + lo > n) | (n <= 0))
        if len(bad):
            raise AuditError(f"pool {int(bad[0])}: votes for the pair must be non-negative and at most its {int(n[bad[0]])} cards")

    @cached_property
    def cards(self) -> int:
        return len(self.cvr_pairs) + int(np.asarray(self.pool_cards).sum())

    @cached_property
    def pool_means(self) -> np.ndarray:
        """``float64[P]``: each pool's ONE CVR value abar_p."""
        w, lo, n = (np.asarray(x, float) for x in (self.pool_winner, self.pool_loser, self.pool_cards))
        return (n + w - lo) / (2 * n)

    @cached_property
    def reported_values(self) -> np.ndarray:
        """``float64[N]``: each card's reported assorter value (CVR or ONE CVR)."""
        cvr = (1 + np.asarray(self.cvr_pairs, float)) / 2
        return np.concatenate([cvr, np.repeat(self.pool_means, np.asarray(self.pool_cards, np.int64))])

    @cached_property
    def margin(self) -> float:
        """The reported diluted margin v = 2 (mean assorter) - 1."""
        w = float((np.asarray(self.cvr_pairs) == 1).sum() + np.asarray(self.pool_winner).sum())
        lo = float((np.asarray(self.cvr_pairs) == -1).sum() + np.asarray(self.pool_loser).sum())
        return (w - lo) / self.cards

    def assorter(self, paper_pairs: np.ndarray, reported: np.ndarray | None = None) -> np.ndarray:
        """``float64[N]``: B per card given the paper's pair values (same card order); with
        ``reported``, of the cards whose reported (CVR or ONE CVR) values those are."""
        a = (1 + np.asarray(paper_pairs, float)) / 2
        abar = self.reported_values if reported is None else np.asarray(reported, float)
        return (1 - (abar - a)) / (2 - self.margin)

    def reported_population(self, o1: float = O1, o2: float = O2) -> tuple[np.ndarray, np.ndarray]:
        """(B - 1/2 values, their shares) of the population the reported figures describe."""
        v, n = self.margin, self.cards
        nc = len(self.cvr_pairs)
        w, lo, k = (np.asarray(x, float) for x in (self.pool_winner, self.pool_loser, self.pool_cards))
        pool_values = (1 - (self.pool_means[:, None] - np.array([1.0, 0.5, 0.0])[None, :])) / (2 - v) - 0.5
        pool_shares = np.stack([w, k - w - lo, lo], axis=1) / n
        return np.concatenate([assorter_excess(v), pool_values.reshape(-1)]), np.concatenate([prior_rates(o1, o2) * nc / n, pool_shares.reshape(-1)])

    def bet(self, o1: float = O1, o2: float = O2, gamma: float = GAMMA) -> float:
        """The fixed Kelly bet for the reported population, capped at Kaplan-Markov's bet."""
        if self.margin <= 0:
            return 0.0
        b, p = self.reported_population(o1, o2)
        return _kelly_any(b, p, km_equivalent_bet(self.margin, gamma))

    def log_factors(self, paper_pairs: np.ndarray, lam: float | None = None, reported: np.ndarray | None = None) -> np.ndarray:
        """``float64[N]``: ln(1 + lambda (B - 1/2)) for each card, with the default bet (with
        ``reported``: for drawn cards, see :meth:`assorter`)."""
        lam = self.bet() if lam is None else lam
        with np.errstate(divide="ignore"):
            return np.log1p(lam * (self.assorter(paper_pairs, reported) - 0.5))

    def sample_size(self, risk_limit: float, o1: float = O1, o2: float = O2) -> float:
        """Wald's expected draws ln(1/alpha) / E ln f under the reported population (inf if the
        expected growth is not positive)."""
        b, p = self.reported_population(o1, o2)
        lam = self.bet(o1, o2)
        growth = float(np.sum(p * np.log1p(lam * b)))
        return math.log(1 / risk_limit) / growth if growth > 0 else math.inf


def _kelly_any(b: np.ndarray, p: np.ndarray, cap: float) -> float:
    """Kelly bet for any finite support (values ``b``, probabilities ``p``): the root in [0, cap]
    of the decreasing slope sum p b / (1 + lambda b), by bisection on whole arrays (a statewide
    contest's pools make tens of thousands of support points)."""
    keep = p > 0
    b, p = np.asarray(b, float)[keep], np.asarray(p, float)[keep]

    def slope(lam: float) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum(p * b / (1 + lam * b)))

    if not slope(0.0) > 0:
        return 0.0
    if slope(cap) >= 0:
        return float(cap)
    lo, hi = 0.0, float(cap)
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
    return lo
