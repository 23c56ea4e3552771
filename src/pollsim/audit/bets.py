"""How much ALPHA bets on each draw of a card-level comparison audit (§23-15-617.2 "widely accepted
statistical methods": Stark 2023, ALPHA; Spertus 2023, COBRA; SHANGRLA's ``NonnegMean``).

ALPHA's factor for one draw is ``1 + lambda (B - 1/2)``, B the comparison assorter of the draw
(:mod:`.risk`): with diluted margin v and overstatement omega in votes (-2..2),
``B = (1 - omega/2) / (2 - v)``, upper bound ``u = 2/(2 - v)``, null mean 1/2. Any bet lambda in
[0, 2] that depends only on earlier draws keeps T a test supermartingale, so every bet here is
valid; they differ in how fast T grows. The bets:

- ``kelly``: one fixed lambda maximizing E ln(1 + lambda (B - 1/2)) under planning rates of 1-
  and 2-vote overstatements (pollsim's earlier default). With the usual rates it sits at the
  cap, so one 2-vote overstatement multiplies T by 1 - lambda/2 (0.005 at lambda 1.99).
- ``fixed``: SHANGRLA's ``fixed_alternative_mean`` (with replacement, eta_j = eta) with eta from
  SHANGRLA's ``optimal_comparison``: the alternative mean that is Kelly-optimal if 2-vote
  overstatements occur at rate p2 and nothing else goes wrong,
  ``eta = (1 - u (1 - p2)) / (2 - 2u) + u (1 - p2) - 1/2``, i.e. lambda = (eta/mu - 1)/(u - mu).
  With p2 = 0.001 this is close to Kaplan-Markov's own bet. (Kaplan-Markov *is* ALPHA with a
  fixed eta = (gamma + 1) / (2 gamma - v): lambda_KM = 2 (2 - v) / (2 gamma - v), see
  :func:`km_equivalent_bet`.)
- ``adaptive`` (the default): learns the discrepancy rates as the sample goes (COBRA's adaptive
  bet, Spertus 2023 section 3.3, with ALPHA's shrinkage). Before draw j, each discrepancy class
  k (omega = -2, -1, 1, 2) has the estimated rate ``p_kj = (d p_k + n_kj) / (d + j - 1)``: the
  planning rate p_k weighted as d draws, plus the n_kj draws of that class so far; the bet is
  the Kelly bet for those rates, capped at ``lambda_max``. The default cap is Kaplan-Markov's
  bet (gamma 1.03905), so a 2-vote overstatement never costs more than it costs Kaplan-Markov,
  and after discrepancies the bet drops below Kaplan-Markov's, which then overbets.

Speed: a Kelly bet is a root of the decreasing derivative sum_k p_k b_k / (1 + lambda b_k),
found by bracketed Newton steps on whole arrays; the adaptive bets of a simulation are computed once per
distinct (draw number, class counts) state.
"""

from __future__ import annotations

import numpy as np

GAMMA = 1.03905
BETS = ("adaptive", "fixed", "kelly")
D_PRIOR = 400.0  # adaptive: the planning rates count as this many draws
P2_FIXED = 0.001  # fixed: the 2-vote overstatement rate its eta is optimal for


def assorter_excess(v: float) -> np.ndarray:
    """``float64[5]``: B - 1/2 for omega = -2..2 votes at diluted margin v."""
    return (1 - np.arange(-2, 3) / 2) / (2 - v) - 0.5


def km_equivalent_bet(v: float, gamma: float = GAMMA) -> float:
    """The lambda with 1 + lambda (B - 1/2) = Kaplan-Markov's factor for every omega."""
    return 2 * (2 - v) / (2 * gamma - v)


def kelly(b: np.ndarray, p: np.ndarray, cap: float | np.ndarray, iterations: int = 40) -> np.ndarray:
    """argmax over [0, cap] of sum_k p_k ln(1 + lambda b_k), for each row of ``p`` (..., 5): the
    root of the decreasing slope, by Newton steps from the cap (the slope is concave but for the
    tiny curvature of the positive terms, so they approach the root from the right), kept inside
    a shrinking bracket (a bisection step whenever Newton would leave it); stops when every row
    has converged."""
    p = np.asarray(p, float)
    shape = p.shape[:-1]
    cols = [np.ascontiguousarray(p[..., k].reshape(-1)) for k in range(p.shape[-1])]
    cap = np.broadcast_to(np.asarray(cap, float), shape).reshape(-1).astype(float)

    def slope(lam: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        f, df = np.zeros_like(lam), np.zeros_like(lam)
        with np.errstate(divide="ignore", invalid="ignore"):  # 1 + 2 (0 - 1/2) = 0 at the largest bet
            for col, bk in zip(cols, b, strict=True):
                pk = col if rows is None else col[rows]
                if not pk.any():
                    continue
                r = bk / (1 + lam * bk)
                pr = pk * r
                f += pr
                df -= pr * r
        return f, df

    s0, _ = slope(np.zeros_like(cap))
    s_cap, _ = slope(cap)
    inside = (s0 > 0) & ~(s_cap >= 0)
    lo, hi = np.zeros_like(cap), cap.copy()
    x = cap.copy()  # the slope is mostly concave: Newton from the right moves monotonically to the root
    active = np.flatnonzero(inside)
    for _ in range(iterations):
        if not len(active):
            break
        xa = x[active]
        f, df = slope(xa, active)
        up = f > 0
        lo[active] = np.where(up, xa, lo[active])
        hi[active] = np.where(up, hi[active], xa)
        with np.errstate(divide="ignore", invalid="ignore"):
            nx = xa - f / df
        nx = np.where((nx >= lo[active]) & (nx <= hi[active]), nx, (lo[active] + hi[active]) / 2)
        x[active] = nx
        active = active[np.abs(nx - xa) > 1e-15 + 1e-13 * np.abs(xa)]
    return np.where(s0 <= 0, 0.0, np.where(inside, x, cap)).reshape(shape)


def shangrla_optimal_eta(u: float, p2: float) -> float:
    """SHANGRLA ``NonnegMean.optimal_comparison``: eta for 2-vote overstatement rate p2."""
    return (1 - u * (1 - p2)) / (2 - 2 * u) + u * (1 - p2) - 0.5


def fixed_bet(v: float, p2: float = P2_FIXED) -> float:
    """lambda of the ``fixed`` bet: SHANGRLA's optimal_comparison eta, as a bet (mu = 1/2); 0
    where that eta is not above 1/2 (2-vote errors too frequent for the margin)."""
    u = 2 / (2 - v)
    return max(0.0, (shangrla_optimal_eta(u, p2) / 0.5 - 1) / (u - 0.5))  # eta <= 1/2: do not bet


def prior_rates(o1: float, o2: float, u1: float = 0.0, u2: float = 0.0) -> np.ndarray:
    """``float64[5]``: probabilities of omega = -2..2 from the planning rates."""
    return np.array([u2, u1, 1 - o1 - o2 - u1 - u2, o1, o2])


def adaptive_bets(v: float, classes: np.ndarray, prior: np.ndarray, d: float = D_PRIOR, cap: float | None = None) -> np.ndarray:
    """The adaptive bet before each draw, for ``classes`` (omega, ``int[..., n]``, one row per
    audit): Kelly for the shrunk rates (d prior + counts so far) / (d + draws so far), capped.
    Each distinct state (draw number, counts) is solved once."""
    classes = np.asarray(classes, np.int64)
    lam_max = km_equivalent_bet(v) if cap is None else cap
    n = classes.shape[-1]
    # counts of each discrepancy class before each draw, and the draw number: the state
    cols = [np.cumsum(classes == k, axis=-1) - (classes == k) for k in (-2, -1, 1, 2)]
    cols.append(np.broadcast_to(np.arange(n), classes.shape))
    base = n + 1
    if base**5 < 2**62:  # fold the state into one 64-bit key: a 1-D unique is much faster
        key = np.zeros(classes.shape, np.int64)
        for col in cols:
            key = key * base + col
        uniq, inverse = np.unique(key.reshape(-1), return_inverse=True)
        fields = np.empty((len(uniq), 5), np.int64)
        rest = uniq.copy()
        for c in range(4, -1, -1):
            fields[:, c] = rest % base
            rest //= base
    else:
        fields, inverse = np.unique(np.stack(cols, axis=-1).reshape(-1, 5), axis=0, return_inverse=True)
    fields = fields[:, [4, 0, 1, 2, 3]]  # draw number, then counts of -2, -1, 1, 2
    counts = np.zeros((len(fields), 5))
    counts[:, [0, 1, 3, 4]] = fields[:, 1:]
    rates = (d * prior + counts) / (d + fields[:, :1])
    rates[:, 2] = 1 - rates[:, [0, 1, 3, 4]].sum(axis=1)
    lam = kelly(assorter_excess(v), rates, lam_max)
    return lam[inverse.reshape(-1)].reshape(classes.shape)
