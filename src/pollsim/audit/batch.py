"""Batch-comparison audits: the audit board hand-counts whole batches and compares each count with
the batch's reported tally (§23-15-617.2 "widely accepted statistical methods"; for paper that
cannot be matched card by card to its CVR: a VVPAT roll, a precinct scanner's box, an absentee
resolution board's batch).

A batch is any unit with its own reported tally: a device's results, a precinct, an absentee
batch. Inputs are arrays: ``reported`` (``int64[B, k]``, votes per batch and choice),
``ballots`` (``int64[B]``, cards per batch) and, for the batches drawn, the hand tally
(``int64[m, k]``). The outcome (winners by the vote-for-n rule) comes from the reported totals;
each (winner w, loser l) pair is an assertion, so multi-winner contests work, and a yes/no
measure is the contest {yes, no}.

**MACRO as Arlo runs it** (Stark 2008, "A sharper discrepancy measure for post-election audits";
VotingWorks Arlo ``server/audit_math/macro.py`` and ``sampler.py``):

- V_wl = the reported margin of the pair over all batches; a batch's *error bound*
  ``u_p = max_wl ((v_wp - v_lp) + b_p) / V_wl`` (b_p its cards); ``U = sum_p u_p``.
- Batches are drawn with replacement with probability u_p / U (PPEB: "probability proportional
  to an error bound", Aslam, Popa & Rivest 2008). Arlo draws with numpy's
  ``default_rng(int(sha256_hex(seed), 16))``: ``cdf = cumsum(weights)/sum``, ``searchsorted(cdf,
  random(n), side="right")`` over the batches sorted by key (:func:`draw_ppeb`).
- A drawn batch's error for a pair is ``e = ((v_wp - v_lp) - (a_wp - a_lp)) / V_wl`` (reported
  minus hand-counted margin); Arlo keeps the pair with the largest e among pairs with an error,
  and counts it as 0 if its vote error is not positive; the *taint* is ``t = e / u_p`` <= 1.
- P-value: ``prod (1 - 1/U) / (1 - t)`` over the draws; a taint of 1 makes it infinite; sample
  size ``ceil(ln alpha / ln(1 - 1/U))``, at most the number of batches (1 if U <= 1).

**Batch-level ALPHA** (SHANGRLA-style: Stark 2020, SHANGRLA; Stark 2023, ALPHA), on the same PPEB
sample, one test per assertion: with taints computed per pair, ``t = e_wl / u_p`` in [-1, 1]
(understatements kept), x = 1 - t in [0, 2] has mean ``1 - sum_p e_wl,p / U`` under PPEB, which is
at most mu0 = 1 - 1/U when the pair's reported outcome is wrong (sum_p e >= 1). ALPHA's factor
is ``1 + lambda (x - mu0)``; MACRO is the largest bet lambda = 1/mu0 (a fully tainted batch ends
the audit). pollsim's default bets ``lambda = beta / mu0`` with beta = 1/gamma (gamma 1.03905, as
Kaplan-Markov inflates card-level errors), so a fully tainted batch keeps 3.8 % of T and a clean
one multiplies T by 1 + beta / (U - 1).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pollsim.audit.bets import GAMMA
from pollsim.audit.contest import ReportedOutcome, outcome_from_votes
from pollsim.audit.errors import AuditError

BETA = 1 / GAMMA  # batch ALPHA's bet as a share of the largest bet 1/mu0


@dataclass(frozen=True, eq=False)
class BatchContest:
    """One contest's reported results per batch."""

    contest: str
    choices: tuple[str, ...]
    reported: np.ndarray  # int64[B, k]: reported votes per batch and choice
    ballots: np.ndarray  # int64[B]: cards per batch
    vote_for: int = 1
    kind: str = "candidate"

    def __post_init__(self) -> None:
        r, b = np.asarray(self.reported), np.asarray(self.ballots)
        if r.ndim != 2 or r.shape[1] != len(self.choices) or b.shape != (r.shape[0],):
            raise AuditError(f"contest '{self.contest}': reported votes must be batches x {len(self.choices)} choices, with one card count per batch")
        if (r < 0).any() or (b < 0).any():
            raise AuditError(f"contest '{self.contest}': negative votes or cards in batch {int(np.flatnonzero((r < 0).any(axis=1) | (b < 0))[0])}")
        bad = np.flatnonzero(r.sum(axis=1) > self.vote_for * b)
        if len(bad):
            raise AuditError(f"contest '{self.contest}': batch {int(bad[0])} reports more votes than vote-for x cards")

    @cached_property
    def outcome(self) -> ReportedOutcome:
        votes = tuple(int(v) for v in np.asarray(self.reported).sum(axis=0))
        return outcome_from_votes(self.contest, self.kind, self.vote_for, self.choices, votes, int(np.asarray(self.ballots).sum()))

    @cached_property
    def pairs(self) -> np.ndarray:
        """``int64[P, 2]``: (winner, loser) column of each assertion."""
        o = self.outcome
        return np.array([(a.winner_index, a.loser_index) for a in o.assertions], np.int64).reshape(-1, 2)

    @cached_property
    def margins(self) -> np.ndarray:
        """``int64[P]``: each pair's reported margin V_wl in votes."""
        totals = np.asarray(self.reported, np.int64).sum(axis=0)
        return totals[self.pairs[:, 0]] - totals[self.pairs[:, 1]]

    @cached_property
    def pair_bounds(self) -> np.ndarray:
        """``float64[B, P]``: ((v_wp - v_lp) + b_p) / V_wl (inf for a tied pair)."""
        r = np.asarray(self.reported, np.int64)
        diff = r[:, self.pairs[:, 0]] - r[:, self.pairs[:, 1]] + np.asarray(self.ballots, np.int64)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.margins > 0, diff / np.where(self.margins > 0, self.margins, 1), np.inf)

    @cached_property
    def error_bounds(self) -> np.ndarray:
        """``float64[B]``: u_p, the largest relative overstatement batch p could hold."""
        return np.maximum(self.pair_bounds.max(axis=1), 0.0) if self.pairs.size else np.zeros(len(self.ballots))

    @cached_property
    def total_error_bound(self) -> float:
        """U = sum of u_p (inf if some pair is tied)."""
        return float(self.error_bounds.sum())

    def pair_errors(self, batches: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """``float64[m, P]``: e = (reported margin - hand-counted margin) / V_wl per drawn batch."""
        r = np.asarray(self.reported, np.int64)[np.asarray(batches, np.int64)]
        h = np.asarray(hand, np.int64)
        w, lo = self.pairs[:, 0], self.pairs[:, 1]
        votes = (r[:, w] - r[:, lo]) - (h[:, w] - h[:, lo])
        return votes / np.where(self.margins > 0, self.margins, 1)

    def macro_taints(self, batches: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """Arlo's taint per drawn batch: the largest relative error over pairs, 0 if not an
        overstatement in votes, over the batch's error bound."""
        r = np.asarray(self.reported, np.int64)[np.asarray(batches, np.int64)]
        h = np.asarray(hand, np.int64)
        w, lo = self.pairs[:, 0], self.pairs[:, 1]
        votes = (r[:, w] - r[:, lo]) - (h[:, w] - h[:, lo])
        rel = np.where(votes != 0, votes / np.where(self.margins > 0, self.margins, 1), -np.inf)
        best = np.argmax(rel, axis=1)
        rows = np.arange(len(rel))
        e = np.where((votes[rows, best] > 0), rel[rows, best], 0.0)
        u = self.error_bounds[np.asarray(batches, np.int64)]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(u > 0, e / np.where(u > 0, u, 1), 0.0)

    def alpha_taints(self, batches: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """``float64[m, P]``: per-pair taints e_wl / u_p in [-1, 1] for batch-level ALPHA."""
        u = self.error_bounds[np.asarray(batches, np.int64)]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(u[:, None] > 0, self.pair_errors(batches, hand) / np.where(u > 0, u, 1)[:, None], 0.0)


def macro_log_statistic(total_bound: float, taints: np.ndarray) -> np.ndarray:
    """ln T along the last axis for MACRO: T = prod (1 - t) / (1 - 1/U); -inf after t = 1."""
    with np.errstate(divide="ignore"):
        return np.cumsum(np.log1p(-np.asarray(taints, float)) - math.log1p(-1 / total_bound), axis=-1)


def macro_p_value(total_bound: float, taints: np.ndarray) -> float:
    """Arlo's MACRO P-value after the draws (``prod (1 - 1/U)/(1 - t)``, capped at 1; 1 if U <= 1
    means no possible error could change the outcome: 0)."""
    if total_bound <= 1:
        return 0.0
    log_t = macro_log_statistic(total_bound, taints)
    return float(min(1.0, math.exp(-log_t[-1]))) if len(log_t) else 1.0


def alpha_log_statistic(total_bound: float, taints: np.ndarray, beta: float = BETA) -> np.ndarray:
    """ln T along the draw axis (axis -2 of ``float[..., m, P]`` taints, or the last axis of 1-D
    taints) for batch-level ALPHA with lambda = beta / mu0."""
    mu0 = 1 - 1 / total_bound
    with np.errstate(divide="ignore"):
        terms = np.log1p((beta / mu0) * ((1 - np.asarray(taints, float)) - mu0))
    return np.cumsum(terms, axis=-2 if terms.ndim > 1 else -1)


def risk_from_log_statistic(log_t: np.ndarray) -> float:
    """min(1, 1 / max T so far) for one path (``float[m]``) or the worst of several assertions
    (``float[m, P]``: each assertion's own max, then the largest risk)."""
    if log_t.size == 0:
        return 1.0
    best = np.max(np.maximum(log_t, 0.0), axis=0)
    return float(min(1.0, math.exp(-np.min(best))))


def macro_sample_size(total_bound: float, risk_limit: float, batches: int) -> int:
    """Arlo's first-round batch count: ceil(ln alpha / ln(1 - 1/U)), at most ``batches``."""
    if total_bound <= 1:
        return 1
    if not math.isfinite(total_bound):
        return batches
    return min(batches, math.ceil(math.log(risk_limit) / math.log1p(-1 / total_bound)))


def alpha_batch_sample_size(total_bound: float, risk_limit: float, batches: int, beta: float = BETA) -> int:
    """Batches batch-level ALPHA needs if every drawn batch is clean (taint 0)."""
    if total_bound <= 1:
        return 1
    if not math.isfinite(total_bound):
        return batches
    return min(batches, math.ceil(math.log(1 / risk_limit) / math.log1p(beta / (total_bound - 1))))


def ppeb_weights(bc: BatchContest) -> np.ndarray:
    """``float64[B]``: each batch's chance per draw, u_p / U."""
    u = bc.error_bounds
    total = u.sum()
    return u / total if total > 0 and math.isfinite(total) else np.zeros_like(u)


def draw_ppeb(seed: str, weights: np.ndarray, count: int) -> np.ndarray:
    """Batch indexes of ``count`` PPEB draws as Arlo's ``draw_ppeb_positions`` makes them (the
    weights in the order of the sorted batch keys)."""
    rng = np.random.default_rng(int(hashlib.sha256(str(seed).encode()).hexdigest(), 16))
    cdf = np.cumsum(np.asarray(weights, float))
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(count), side="right").astype(np.int64)


def macro_risk(total_bound: float, taints: np.ndarray, risk_limit: float) -> tuple[float, bool]:
    """Arlo's ``compute_risk``: the running P-value over the draws in ticket order, stopping at
    the first draw where it reaches the risk limit; (P, confirmed)."""
    if total_bound <= 1:
        return 0.0, True
    log_t = macro_log_statistic(total_bound, taints)
    crossed = np.flatnonzero(log_t >= math.log(1 / risk_limit))
    at = int(crossed[0]) if len(crossed) else len(log_t) - 1
    p = math.exp(-log_t[at]) if at >= 0 else 1.0
    return min(1.0, p), p <= risk_limit
