"""How many ballots the audit boards should expect to examine (§23-15-617.2: "widely accepted
statistical methods" set the number of paper records to examine).

Closed forms:

- **BRAVO** average sample number (Lindeman, Stark & Yates 2012, eq. for the ASN): with p_w,
  p_l the winner's and loser's shares of all ballots and s = p_w / (p_w + p_l),
  z_w = ln(2s), z_l = ln(2 - 2s),
  ``ASN = (ln(1/alpha) + z_w / 2) / (p_w z_w + p_l z_l)``.
  At alpha = 10 %, two candidates, no invalid ballots: margin 0.20 -> 119, 0.10 -> 470
  (469.26), 0.02 -> 11,562.
- **Kaplan-Markov / super-simple** (Stark 2010): with diluted margin mu and expected rates o1, o2
  of 1- and 2-vote overstatements per card,
  ``n = -2 gamma ln(alpha) / (mu + 2 gamma (o1 ln(1 - 1/(2 gamma)) + o2 ln(1 - 1/gamma)))``,
  the paper's ``n = -2 gamma (ln alpha + n1 ln(1 - 1/(2 gamma)) + n2 ln(1 - 1/gamma)) / mu`` with
  the expected counts n1 = o1 n, n2 = o2 n. With o1 = o2 = 0 at alpha = 10 %: mu = 0.05 -> 96,
  mu = 0.10 -> 48. Three ways of turning rates into a size (``formula``):

  * ``"arlo"`` (the default; VotingWorks Arlo, ``server/audit_math/supersimple.py``,
    ``get_sample_sizes``): rates o1, o2 of over- and u1, u2 of understatements (defaults 0.001,
    0.0001, 0.001, 0.0001); ``n0 = ceil(ln alpha / (ln(1 - mu/(2 gamma)) - o1 ln(1 - 1/(2 gamma))
    - o2 ln(1 - 1/gamma) - u1 ln(1 + 1/(2 gamma)) - u2 ln(1 + 1/gamma)))``; the expected 1-vote
    counts are rounded *up*, ``c1 = ceil(o1 n0)``, ``d1 = ceil(u1 n0)``, the 2-vote rates are
    used as they are (fractional counts), and the size is Stark's ``nmin`` with those counts:
    ``max(c1 + o2 + d1 + u2, ceil(-2 gamma (ln alpha + c1 ln(1 - 1/(2 gamma)) + o2 ln(1 - 1/gamma)
    + d1 ln(1 + 1/(2 gamma)) + u2 ln(1 + 1/gamma)) / mu))``. Margin 1 %, alpha 5 %: 678;
    10 %/10 %: 54 (Arlo's test table, "from Stark's tool": 27, 54, 36, 40, 6, 14 at alpha 10 %
    for mu = 0.2, 0.1, 0.15, 2/15, 1, 0.4).
  * ``"rlacalc"`` (N. McBurnett's ``rlacalc.py`` ``KM_Expected_sample_size_rounded``, after
    Stark's "Tools for Comparison Risk-Limiting Audits" javascript ``nminFromRates``): the same
    n0, then up to ten times: 1-vote counts ``ceil(rate n)``, 2-vote counts ``round(rate n)``
    (``round_up1``/``round_up2`` switch ceil/round), ``n = nmin(counts)``, until n repeats.
    Agrees with ``"arlo"`` except where Arlo's fractional 2-vote counts or its single step move
    the result (e.g. mu 0.5 %, alpha 10 %: 1176 vs Arlo's 1177). Where rlacalc does not settle in
    ten rounds (it returns NaN) pollsim returns the larger of the last two sizes.
  * ``"super-simple"``: pollsim's earlier formula above, overstatements only, expected counts not
    rounded (margin 1 %, alpha 5 %: 783; 10 %/10 %: 49); round-1 sizes of
    :class:`~pollsim.audit.rounds.RiskLimitingAudit` (:func:`estimate`) still use it.
- **ALPHA** (fixed eta, :class:`~pollsim.audit.risk.Alpha`): Wald's approximation
  ``n = ln(1/alpha) / E[ln f]``, the expectation over the same error model.

Planning rates: o1 = 0.001 and o2 = 0.0001 per card, the rates commonly assumed when planning
comparison audits; the Arlo and rlacalc formulas also take understatement rates u1, u2, which
default to o1, o2 (Arlo's and rlacalc's defaults are 0.001 and 0.0001 for both). They are
assumptions, not measurements; the audit itself never depends on them being right.

Monte Carlo (:func:`simulated_sample_sizes`): draws iid from the error model (comparison: each
draw a 1-vote overstatement with probability o1, a 2-vote one with o2, else none; polling: a
winner, loser or other vote with the given shares) and runs the method's own test until it
stops; quantiles 50/90/99 % of the stopping times. An audit that would need more draws than
there are ballots is a full hand count, so sizes are capped at ``ballots`` when given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from pollsim.audit.contest import Assertion
from pollsim.audit.errors import AuditError
from pollsim.audit.risk import GAMMA, O1, O2, OFFSET, BallotPollingBravo, KaplanMarkov, RiskFunction, make_risk_function, method_name

QUANTILES = (50, 90, 99)


def bravo_asn(p_winner: float, p_loser: float, risk_limit: float) -> float:
    """BRAVO's average sample number for one pair (shares of all ballots); inf if p_w <= p_l."""
    if p_winner <= p_loser:
        return math.inf
    s = p_winner / (p_winner + p_loser)
    z_w, z_l = math.log(2 * s), math.log(2 - 2 * s)
    return (math.log(1 / risk_limit) + z_w / 2) / (p_winner * z_w + p_loser * z_l)


def super_simple(diluted_margin: float, risk_limit: float, gamma: float = GAMMA, o1: float = O1, o2: float = O2) -> float:
    """Stark's super-simple sample size before rounding up; inf if errors eat the margin."""
    denom = diluted_margin + 2 * gamma * (o1 * math.log(1 - 1 / (2 * gamma)) + o2 * math.log(1 - 1 / gamma))
    if denom <= 0:
        return math.inf
    return -2 * gamma * math.log(risk_limit) / denom


FORMULAS = ("arlo", "rlacalc", "super-simple")


def _km_logs(gamma: float) -> tuple[float, float, float, float]:
    """ln of the Kaplan-Markov factor per 1-, 2-vote over- and 1-, 2-vote understatement."""
    return math.log(1 - 1 / (2 * gamma)), math.log(1 - 1 / gamma), math.log(1 + 1 / (2 * gamma)), math.log(1 + 1 / gamma)


def nmin(margin: float, risk_limit: float, o1: float = 0, o2: float = 0, u1: float = 0, u2: float = 0, gamma: float = GAMMA) -> float:
    """Stark's ``nmin``: the draws at which the Kaplan-Markov P-value reaches alpha with the
    given *counts* of 1-, 2-vote over- (o1, o2) and understatements (u1, u2), and never fewer
    than the discrepancies themselves (Stark's javascript and rlacalc add u1 twice there, a slip
    that Arlo corrected; pollsim follows Arlo). inf when the counts leave no margin."""
    l1, l2, m1, m2 = _km_logs(gamma)
    num = -2 * gamma * (math.log(risk_limit) + o1 * l1 + o2 * l2 + u1 * m1 + u2 * m2)
    return max(o1 + o2 + u1 + u2, math.ceil(num / margin))


def _km_n0(margin: float, risk_limit: float, o1: float, o2: float, u1: float, u2: float, gamma: float) -> float:
    """ceil(ln alpha / E ln f): the expected-rate size both Arlo and rlacalc start from (inf if
    the expected log factor is not negative)."""
    l1, l2, m1, m2 = _km_logs(gamma)
    denom = math.log(1 - margin / (2 * gamma)) - o1 * l1 - o2 * l2 - u1 * m1 - u2 * m2
    return math.ceil(math.log(risk_limit) / denom) if denom < 0 else math.inf


def arlo_size(margin: float, risk_limit: float, o1: float = O1, o2: float = O2, u1: float = O1, u2: float = O2, gamma: float = GAMMA) -> float:
    """Arlo's comparison sample size with no sample yet (see module doc); inf if none suffices."""
    n0 = _km_n0(margin, risk_limit, o1, o2, u1, u2, gamma)
    if not math.isfinite(n0):
        return math.inf
    # Arlo rounds Decimal(rate) * n0 up: the exact value of the binary rate, so 0.001 x 1000 -> 2
    return nmin(margin, risk_limit, math.ceil(Fraction(o1) * int(n0)), o2, math.ceil(Fraction(u1) * int(n0)), u2, gamma)


def rlacalc_size(
    margin: float, risk_limit: float, o1: float = O1, o2: float = O2, u1: float = O1, u2: float = O2, gamma: float = GAMMA, round_up1: bool = True, round_up2: bool = False
) -> float:
    """rlacalc's ``KM_Expected_sample_size_rounded`` (see module doc); inf if none suffices."""
    n = _km_n0(margin, risk_limit, o1, o2, u1, u2, gamma)
    if not math.isfinite(n):
        return math.inf
    r1: Callable[[float], int] = math.ceil if round_up1 else round
    r2: Callable[[float], int] = math.ceil if round_up2 else round
    for _ in range(10):
        last, n = n, nmin(margin, risk_limit, r1(o1 * n), r2(o2 * n), r1(u1 * n), r2(u2 * n), gamma)
        if n == last:
            return n
    return max(n, last)


def comparison_size(formula: str, margin: float, risk_limit: float, o1: float = O1, o2: float = O2, u1: float | None = None, u2: float | None = None, gamma: float = GAMMA) -> float:
    """A Kaplan-Markov sample size by ``formula`` (``arlo``, ``rlacalc`` or ``super-simple``);
    understatement rates default to the overstatement rates. inf if no sample suffices."""
    u1 = o1 if u1 is None else u1
    u2 = o2 if u2 is None else u2
    if formula == "arlo":
        return arlo_size(margin, risk_limit, o1, o2, u1, u2, gamma)
    if formula == "rlacalc":
        return rlacalc_size(margin, risk_limit, o1, o2, u1, u2, gamma)
    if formula == "super-simple":
        return super_simple(margin, risk_limit, gamma, o1, o2)
    raise AuditError(f"unknown sample-size formula '{formula}' (choose from: {', '.join(FORMULAS)})")


def _comparison_probs(o1: float, o2: float) -> np.ndarray:
    p = np.zeros(5)
    p[0 + OFFSET], p[1 + OFFSET], p[2 + OFFSET] = 1 - o1 - o2, o1, o2
    return p


def wald_size(log_factors: np.ndarray, probs: np.ndarray, risk_limit: float) -> float:
    """ln(1/alpha) / E[ln f]: the expected sample size of a test with iid draws (Wald)."""
    with np.errstate(invalid="ignore"):
        growth = float(np.sum(np.where(probs > 0, probs * log_factors, 0.0)))
    return math.log(1 / risk_limit) / growth if growth > 0 else math.inf


def estimate(fn: RiskFunction, a: Assertion, risk_limit: float, o1: float = O1, o2: float = O2) -> float:
    """Expected draws to confirm one assertion (before rounding up), by the method's closed form."""
    if not a.testable:
        return math.inf
    if isinstance(fn, BallotPollingBravo):
        return bravo_asn(a.winner_votes / a.ballots, a.loser_votes / a.ballots, risk_limit)
    if isinstance(fn, KaplanMarkov):
        return super_simple(a.diluted_margin, risk_limit, fn.gamma, o1, o2)
    return wald_size(fn.log_factors(a), _comparison_probs(o1, o2), risk_limit)


def stopping_times(log_factors: np.ndarray, probs: np.ndarray, risk_limit: float, trials: int, rng: np.random.Generator, cap: int) -> np.ndarray:
    """Draws until ln T first reaches ln(1/alpha), for ``trials`` iid audits (``cap`` if never).

    Runs in blocks of draws, carrying each unfinished trial's ln T, so that long audits (BRAVO at
    a 2 % margin needs tens of thousands of draws) take memory proportional to the block.
    """
    target = math.log(1 / risk_limit)
    cum = np.cumsum(probs)
    cum[-1] = 1.0
    out = np.full(trials, cap, np.int64)
    active = np.arange(trials)
    carry = np.zeros(trials)
    done = 0
    while len(active) and done < cap:
        block = int(min(cap - done, max(256, 4_000_000 // len(active))))
        cls = np.searchsorted(cum, rng.random((len(active), block)), side="right")
        log_t = np.cumsum(log_factors[cls], axis=1) + carry[:, None]
        hit = log_t >= target - 1e-12
        any_hit = hit.any(axis=1)
        first = np.argmax(hit, axis=1)
        out[active[any_hit]] = done + first[any_hit] + 1
        carry = log_t[~any_hit, -1]
        active = active[~any_hit]
        done += block
    return out


def simulated_sample_sizes(fn: RiskFunction, a: Assertion, risk_limit: float, o1: float = O1, o2: float = O2, trials: int = 2000, seed: int = 0, cap: int | None = None) -> np.ndarray:
    """Monte Carlo stopping times of one assertion under the error model (see module doc)."""
    if fn.comparison:
        probs = _comparison_probs(o1, o2)
    else:
        probs = np.zeros(5)
        p_w, p_l = a.winner_votes / a.ballots, a.loser_votes / a.ballots
        probs[1 + OFFSET], probs[-1 + OFFSET], probs[0 + OFFSET] = p_w, p_l, 1 - p_w - p_l
    if cap is None:
        guess = estimate(fn, a, risk_limit, o1, o2)
        cap = int(min(10_000_000, 20 * guess)) if math.isfinite(guess) else 1_000_000
    rng = np.random.default_rng(seed)
    if fn.adaptive:
        return adaptive_stopping_times(fn, a, probs, risk_limit, trials, rng, cap)
    return stopping_times(fn.log_factors(a), probs, risk_limit, trials, rng, cap)


def adaptive_stopping_times(fn: RiskFunction, a: Assertion, probs: np.ndarray, risk_limit: float, trials: int, rng: np.random.Generator, cap: int) -> np.ndarray:
    """:func:`stopping_times` for a bet that depends on earlier draws (ALPHA's adaptive bet):
    each trial's whole path up to ``cap`` draws, trials in chunks of ~4 million draws."""
    target = math.log(1 / risk_limit) - 1e-12
    cum = np.cumsum(probs)
    cum[-1] = 1.0
    out = np.full(trials, cap, np.int64)
    chunk = max(1, 4_000_000 // cap)
    for start in range(0, trials, chunk):
        size = min(chunk, trials - start)
        cls = np.searchsorted(cum, rng.random((size, cap)), side="right") - OFFSET
        hit = fn.log_statistic(a, cls) >= target
        out[start : start + size] = np.where(hit.any(axis=1), np.argmax(hit, axis=1) + 1, cap)
    return out


def two_candidate_assertion(margin: float, ballots: int | None) -> Assertion:
    """A two-candidate contest with the given margin (share of all ballots, no invalid ballots)."""
    n = ballots or 1_000_000_000
    w = round(n * (1 + margin) / 2)
    return Assertion("contest", "winner", "loser", 0, 1, w, n - w, n)


def sample_size(
    method: str,
    margin: float,
    risk_limit: float,
    ballots: int | None = None,
    o1: float = O1,
    o2: float = O2,
    simulate: bool = False,
    seed: int = 0,
    trials: int = 2000,
    gamma: float = GAMMA,
    *,
    formula: str = "arlo",
    u1: float | None = None,
    u2: float | None = None,
    bet: str = "adaptive",
) -> dict:
    """Sample size for a two-candidate contest.

    ``margin`` is the diluted margin (comparison methods) or the winner's share minus the loser's
    (BRAVO; no invalid ballots). ``o1``, ``o2`` are the planning overstatement rates and ``u1``,
    ``u2`` the understatement rates (default: o1, o2), comparison methods only; ``formula`` is
    how Kaplan-Markov turns them into a size: ``arlo`` (default), ``rlacalc`` or ``super-simple``
    (see the module doc); ``bet`` is ALPHA's bet (:mod:`.bets`). Returns ``{"sample_size": int, "quantiles": {"50": n, "90": n, "99": n}}``,
    quantiles only when ``simulate`` (else ``{}``); sizes are capped at ``ballots`` when given (an
    audit that large is a full hand count).
    """
    m = method_name(method)
    if not 0 < risk_limit < 1:
        raise AuditError(f"risk limit {risk_limit} must be between 0 and 1")
    if not 0 < margin <= 1:
        raise AuditError(f"margin {margin} must be in (0, 1]")
    fn = make_risk_function(m, gamma, o1, o2, bet=bet)
    if m == "bravo":
        n = bravo_asn((1 + margin) / 2, (1 - margin) / 2, risk_limit)
    elif m == "kaplan-markov":
        n = comparison_size(formula, margin, risk_limit, o1, o2, u1, u2, gamma)
    else:
        a = two_candidate_assertion(margin, ballots)
        n = wald_size(fn.log_factors(a), _comparison_probs(o1, o2), risk_limit)
    if math.isfinite(n):
        size = math.ceil(n - 1e-9)
    elif ballots is None:
        raise AuditError(f"with these error rates the {m} audit can never confirm a margin of {margin}; only a full hand count can")
    else:
        size = ballots
    if ballots is not None:
        size = min(size, ballots)
    quantiles: dict[str, int] = {}
    if simulate:
        a = two_candidate_assertion(margin, ballots)
        cap = ballots if ballots is not None else None
        times = simulated_sample_sizes(fn, a, risk_limit, o1, o2, trials, seed, cap)
        quantiles = {str(q): int(np.ceil(np.percentile(times, q))) for q in QUANTILES}
    return {"sample_size": int(size), "quantiles": quantiles}
