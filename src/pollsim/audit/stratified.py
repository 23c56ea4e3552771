"""Hybrid audits by stratification, SUITE-style (§23-15-617.2): one contest whose cards lie in a
*comparison* stratum (each card tied to its CVR: card-level comparison) and a *polling* stratum
(no usable CVR: ballot polling), sampled independently, their evidence combined.

References: Ottoboni, Stark, Lindeman & McBurnett (2018), "Risk-limiting audits by stratified
sampling with ballot polling and comparison" (SUITE), as Arlo's "hybrid" audit runs it
(``server/audit_math/suite.py``); SHANGRLA's ``Code/fishers_combination.py`` (Stark), whose
assorter form pollsim follows; Spertus & Stark (2022), "Sweeter than SUITE" (the product of the
strata's test supermartingales).

For one assertion (winner w > loser l) a card's assorter is a = (1 + pair)/2 in [0, 1] (pair =
+1, 0, -1). The outcome is wrong iff N1 A1 + N2 A2 <= N/2 (A_s the true stratum means), i.e. iff
for some allocation beta in [max(0, 1/2 - N2/N), min(N1/N, 1/2)] both A1 <= t1 = beta N/N1 and
A2 <= t2 = (1/2 - beta) N/N2 (SHANGRLA's ``calculate_beta_range``). For each beta:

- comparison stratum: y = 1 - omega/2 in [0, 2] (omega the overstatement in votes) has mean
  1 - (reported mean - true mean), so A1 <= t1 iff E y <= t1' = 1 - abar1 + t1 (abar1 the
  reported stratum mean). Kaplan-Markov with padding g = gamma - 1 (SHANGRLA
  ``NonnegMean.kaplan_markov`` with ``g``): T1 = prod (y + g) / (t1' + g);
- polling stratum: ALPHA with the fixed alternative eta = abar2, the stratum's reported mean
  (SHANGRLA ``alpha_mart`` with ``fixed_alternative_mean``; BRAVO's idea): factor
  (x/t2)(eta - t2)/(1 - t2) + (1 - eta)/(1 - t2); no bet (T2 = 1) when eta <= t2;
- each stratum's P-value is 1 / max T over its draws so far; ``fisher`` combines them as SUITE
  does, p = p1 p2 (1 - ln(p1 p2)) (chi-square, 4 degrees of freedom); ``product`` takes
  1 / (T1 T2) at the current draws (Sweeter than SUITE: an intersection supermartingale). For
  ``product`` the comparison stratum does not bet (T1 = 1) at an allocation whose null mean
  t1' is 1 or more: y is 1 on a card without discrepancy, so Kaplan-Markov's factor would
  shrink T1 draw after draw where the null is true, and no evidence from the polling stratum
  could make up for it (the polling stratum does the same: no bet when eta <= t2). Whether to
  bet depends on beta and the reported figures only, so T1 T2 stays a test supermartingale.

One stratum may be empty (all of the contest's paper supports one method): its T is 1 (its
P-value 1), and the audit is the other stratum's test at beta = 1/2 (``product``) or that test's
P-value through Fisher's combination with p = 1 (``fisher``, conservative).

The combined P-value is the largest over beta. p1 rises and p2 falls with beta, so on a grid
beta_0 < ... < beta_G (G = 48) pollsim bounds the maximum over [beta_i, beta_i+1] by combining
p1(beta_i+1) with p2(beta_i): an upper bound, never the grid's lower one (SHANGRLA's grid search
takes the largest grid value and refines it). The bound overshoots the true maximum by a factor
that shrinks with the grid (about 1.7 at G = 120 in a test); :func:`suite_p_value` can refine it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollsim.audit.bets import GAMMA
from pollsim.audit.errors import AuditError

COMBINE = ("fisher", "product")
GRID = 48  # intervals of beta


@dataclass(frozen=True)
class Strata:
    """Reported figures of one assertion in two strata."""

    cards_cvr: int  # N1
    margin_cvr: int  # reported winner - loser votes in the comparison stratum
    cards_poll: int  # N2
    margin_poll: int  # reported winner - loser votes in the polling stratum

    def __post_init__(self) -> None:
        if self.cards_cvr < 0 or self.cards_poll < 0 or self.cards == 0:
            raise AuditError("a stratified audit needs cards (a stratum may be empty, not both)")
        if abs(self.margin_cvr) > self.cards_cvr or abs(self.margin_poll) > self.cards_poll:
            raise AuditError("a stratum's reported margin exceeds its cards")

    @property
    def cards(self) -> int:
        return self.cards_cvr + self.cards_poll

    @property
    def diluted_margin(self) -> float:
        return (self.margin_cvr + self.margin_poll) / self.cards

    def betas(self, grid: int = GRID) -> np.ndarray:
        n1, n2, n = self.cards_cvr, self.cards_poll, self.cards
        return np.linspace(max(0.0, 0.5 - n2 / n), min(n1 / n, 0.5), grid + 1)


def _paths(logs: np.ndarray, c: float, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For steps ``logs - c`` along the last axis: (max(0, running max of the partial sums), the
    partial sum) at each end in ``ends`` (counts of draws; 0 gives 0)."""
    idx = np.asarray(ends, np.int64)
    path = np.cumsum(logs - c if c else logs, axis=-1)
    at = path[..., np.maximum(idx, 1) - 1]
    run = np.maximum.accumulate(path, axis=-1)[..., np.maximum(idx, 1) - 1]
    empty = idx == 0
    return np.where(empty, 0.0, np.maximum(run, 0.0)), np.where(empty, 0.0, at)


def comparison_log_t(s: Strata, omega: np.ndarray, betas: np.ndarray, ends: np.ndarray, g: float = GAMMA - 1) -> tuple[np.ndarray, np.ndarray]:
    """(ln max T1 so far, ln T1 now) after each of ``ends`` draws, per beta: ``float[..., R, G]``
    for overstatements ``omega`` (``[..., n]``)."""
    if s.cards_cvr == 0:  # no comparison stratum: T1 = 1
        zero = np.zeros(np.shape(omega)[:-1] + (len(ends), len(betas)))
        return zero, zero
    abar = (1 + s.margin_cvr / s.cards_cvr) / 2
    t1 = 1 - abar + betas * s.cards / s.cards_cvr
    logs = np.log(1 - np.asarray(omega, float) / 2 + g)
    out = [_paths(logs, c, ends) for c in np.log(t1 + g)]
    now = np.stack([n for _, n in out], axis=-1)
    now[..., t1 >= 1] = 0.0  # product: no bet where the null mean of y is at least its no-error value 1
    return np.stack([b for b, _ in out], axis=-1), now


def polling_log_t(s: Strata, pair: np.ndarray, betas: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ln max T2 so far, ln T2 now) after each of ``ends`` draws, per beta, for paper pair
    values ``pair`` (``[..., n]``)."""
    pair = np.asarray(pair)
    if s.cards_poll == 0:  # no polling stratum: T2 = 1
        zero = np.zeros(pair.shape[:-1] + (len(ends), len(betas)))
        return zero, zero
    eta = (1 + s.margin_poll / s.cards_poll) / 2
    t2 = (0.5 - betas) * s.cards / s.cards_poll
    out = []
    for t in t2:
        if t >= 1 or eta <= t:  # the null is no constraint, or the alternative is not above it
            factors = np.ones(3)
        elif t <= 0:  # the null says every card is 0: any other card refutes it
            factors = np.array([1.0, np.inf, np.inf])
        else:
            x = np.array([0.0, 0.5, 1.0])
            factors = (x / t) * (eta - t) / (1 - t) + (1 - eta) / (1 - t)
        if np.all(factors == 1):
            zero = np.zeros(pair.shape[:-1] + (len(ends),))
            out.append((zero, zero))
            continue
        with np.errstate(divide="ignore"):
            logs = np.log(factors)[pair.astype(np.int64) + 1]
        out.append(_paths(logs, 0.0, ends))
    return np.stack([b for b, _ in out], axis=-1), np.stack([n for _, n in out], axis=-1)


def fisher(log_p1: np.ndarray, log_p2: np.ndarray) -> np.ndarray:
    """Fisher's combined P-value from ln p1, ln p2 (chi-square, 4 df): q (1 - ln q), q = p1 p2."""
    log_q = np.minimum(log_p1 + log_p2, 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(np.isneginf(log_q), 0.0, np.exp(log_q) * (1 - log_q))


def suite_p_values(
    s: Strata, omega: np.ndarray, pair: np.ndarray, ends_cvr: list[int], ends_poll: list[int], combine: str = "fisher", grid: int = GRID
) -> np.ndarray:
    """The stratified P-value (largest over beta; see module doc) after ``ends_cvr[r]``
    comparison draws (overstatements ``omega``) and ``ends_poll[r]`` polling draws (paper pair
    values ``pair``), for each round r: ``float[..., R]`` (leading axes: one row per audit)."""
    if combine not in COMBINE:
        raise AuditError(f"unknown combining function '{combine}' (choose from: {', '.join(COMBINE)})")
    betas = s.betas(grid)
    best1, now1 = comparison_log_t(s, omega, betas, np.asarray(ends_cvr))
    best2, now2 = polling_log_t(s, pair, betas, np.asarray(ends_poll))
    # on [beta_i, beta_i+1]: p1 at the right end (largest), p2 at the left end (largest)
    if combine == "fisher":
        p = fisher(-best1[..., 1:], -best2[..., :-1])
    else:
        p = np.exp(-np.maximum(now1[..., 1:] + now2[..., :-1], 0.0))
    return np.minimum(1.0, p.max(axis=-1))


def _logs(s: Strata, omega: np.ndarray, pair: np.ndarray, betas: np.ndarray, combine: str) -> tuple[np.ndarray, np.ndarray]:
    """ln of each stratum's evidence at ``betas`` for one audit: (ln T1, ln T2), max so far for
    ``fisher``, current for ``product``."""
    best1, now1 = comparison_log_t(s, omega, betas, np.array([len(omega)]))
    best2, now2 = polling_log_t(s, pair, betas, np.array([len(pair)]))
    return (best1[0], best2[0]) if combine == "fisher" else (now1[0], now2[0])


def _combine(log_t1: np.ndarray, log_t2: np.ndarray, combine: str) -> np.ndarray:
    if combine == "fisher":
        return fisher(-log_t1, -log_t2)
    return np.exp(-np.maximum(log_t1 + log_t2, 0.0))


def suite_p_value(s: Strata, omega: np.ndarray, pair: np.ndarray, combine: str = "fisher", grid: int = GRID, refine: int = 0) -> float:
    """The stratified P-value of one audit (1-D ``omega`` and ``pair``, all draws so far): the
    bracket bound on a grid of ``grid`` intervals, the same bound :func:`suite_p_values` and the
    risk simulation compute; with ``refine`` > 0, intervals whose bound exceeds the largest
    P-value at a grid point are cut in 16, ``refine`` times, for a tighter (smaller, still
    valid) bound (SHANGRLA refines its grid in the same spirit)."""
    if combine not in COMBINE:
        raise AuditError(f"unknown combining function '{combine}' (choose from: {', '.join(COMBINE)})")
    omega, pair = np.asarray(omega), np.asarray(pair)
    starts = s.betas(grid)[:-1]
    width = (s.betas(1)[1] - s.betas(1)[0]) / grid
    dropped = 0.0  # the largest bound of an interval no longer refined
    for level in range(refine + 1):
        lo1, lo2 = _logs(s, omega, pair, starts, combine)
        hi1, _ = _logs(s, omega, pair, starts + width, combine)
        upper = _combine(hi1, lo2, combine)  # T1 falls and T2 rises with beta
        keep = upper > _combine(lo1, lo2, combine).max()
        if level == refine or not keep.any():
            break
        dropped = max(dropped, float(upper[~keep].max(initial=0.0)))
        width /= 16
        starts = (starts[keep][:, None] + width * np.arange(16)[None, :]).reshape(-1)
    return float(min(1.0, max(dropped, upper.max())))
