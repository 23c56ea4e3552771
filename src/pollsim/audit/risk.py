"""Risk measures: how strongly the paper records drawn so far confirm each assertion (§23-15-617.2).

Every method here is a *test supermartingale*: a running product T_n = prod f(x_i) of one factor
per draw that has expected value at most 1 while the reported outcome is wrong. By Ville's
inequality the chance that T ever reaches 1/alpha is then at most alpha, so the audit stops as
soon as it does, and the measured risk (the P-value) after n draws is
``min(1, 1 / max(T_0..T_n))`` — valid at every round, however many rounds there are. Draws are
with replacement (each draw counts, a ballot drawn twice counts twice).

A draw is reduced to one small integer, its *class*, and each method is a table of
``log f`` per class (``float64[5]``, class c stored at index c + 2), so that sums of logs over
millions of simulated draws are one ``cumsum``:

- :class:`BallotPollingBravo` (Lindeman, Stark & Yates 2012, "BRAVO"): class = the paper's pair
  value (+1 winner, -1 loser, 0 neither; a phantom is -1). With s = v_w / (v_w + v_l) reported,
  f(+1) = 2s, f(-1) = 2(1 - s), f(0) = 1 (Wald's SPRT of s against 1/2).
- :class:`KaplanMarkov` (Stark 2010, "Super-simple simultaneous single-ballot risk-limiting
  audits"): class = the overstatement omega in votes (CVR pair value minus paper pair value; a
  phantom is 2). With diluted margin mu = V / N and U = 2 gamma / mu,
  f(omega) = (1 - omega / (2 gamma)) / (1 - 1/U), i.e. P_KM = prod (1 - 1/U) / (1 - omega / (2 gamma)).
  gamma = 1.03905 (the "super-simple" paper's value).
- :class:`Alpha` (Stark 2023, "ALPHA: audit that learns from previously hand-audited ballots"),
  on SHANGRLA's comparison assorter (Stark 2020): B = (1 - omega/2) / (2 - v), v = the diluted
  margin, upper bound u = 2 / (2 - v), null mean mu = 1/2;
  f = (B/mu)(eta - mu)/(u - mu) + (u - eta)/(u - mu) = 1 + lambda (B - 1/2) with
  lambda = (eta/mu - 1) / (u - mu). The bet lambda (:mod:`.bets`): ``adaptive`` (default) learns
  the discrepancy rates from the draws so far (COBRA's adaptive Kelly bet, shrunk towards the
  planning rates o1 = 0.001, o2 = 0.0001 as 400 draws) and never bets more than Kaplan-Markov
  does, so it matches Kaplan-Markov without discrepancies and overtakes it when they are
  frequent; ``fixed`` is SHANGRLA's fixed alternative eta from ``optimal_comparison`` (2-vote
  rate 0.001); ``kelly`` is pollsim's earlier bet, the Kelly bet for the planning rates, capped
  at 0.995 / mu (lambda <= 1.99; one 2-vote overstatement then leaves 0.5 % of T). A package
  that names no bet was written with ``kelly``.

Each assertion is tested on its own (SHANGRLA); a contest's risk is the largest of its
assertions' risks. An assertion with no reported margin (a tie) is never confirmed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pollsim.audit.bets import BETS, D_PRIOR, GAMMA, P2_FIXED, adaptive_bets, assorter_excess, fixed_bet, kelly, km_equivalent_bet, prior_rates
from pollsim.audit.contest import Assertion
from pollsim.audit.errors import AuditError

O1, O2 = 0.001, 0.0001  # planning rates of 1- and 2-vote overstatements (per card)
MAX_BET = 0.995  # ALPHA never bets more than this share of the largest bet 1/mu
OFFSET = 2  # class c is stored at index c + OFFSET
CLASSES = 5


class RiskFunction:
    """A test supermartingale for one assertion; subclasses give the class of a draw and the
    log-factor per class."""

    name = ""
    comparison = False  # whether the method compares paper with CVRs (else: ballot polling)

    def classes(self, cvr_pair: np.ndarray, paper_pair: np.ndarray, phantom: np.ndarray) -> np.ndarray:
        """``int8[n]``: the class of each draw (see the module docstring)."""
        raise NotImplementedError

    def _log_factors(self, a: Assertion) -> np.ndarray:
        raise NotImplementedError

    def log_factors(self, a: Assertion) -> np.ndarray:
        """``float64[5]``: ln f per class (index class + 2); all zero for an untestable assertion."""
        if not a.testable:
            return np.zeros(CLASSES)
        return self._log_factors(a)

    def params(self) -> dict:
        """The method's parameters, as the package records them."""
        return {"method": self.name}

    adaptive = False  # whether a draw's factor depends on earlier draws (else: log_factors says all)

    def log_terms(self, a: Assertion, classes: np.ndarray) -> np.ndarray:
        """ln f of each draw (``classes`` may be 2-D: one row per simulated audit)."""
        return self.log_factors(a)[np.asarray(classes, np.int64) + OFFSET]

    def log_statistic(self, a: Assertion, classes: np.ndarray) -> np.ndarray:
        """ln T_1..ln T_n along the last axis (classes may be 2-D: one row per simulated audit)."""
        return np.cumsum(self.log_terms(a, classes), axis=-1)

    def risk(self, a: Assertion, classes: np.ndarray, ends: list[int]) -> list[float]:
        """The measured risk after the first ``n`` draws, for each ``n`` in ``ends``."""
        log_t = self.log_statistic(a, classes)
        best = np.maximum.accumulate(np.maximum(log_t, 0.0)) if len(log_t) else log_t
        out = []
        for n in ends:
            if not a.testable:
                out.append(1.0)
            else:
                out.append(float(min(1.0, math.exp(-best[n - 1]))) if n > 0 else 1.0)
        return out


class BallotPollingBravo(RiskFunction):
    """BRAVO ballot-polling audit: the paper alone, no CVRs needed."""

    name = "bravo"

    def classes(self, cvr_pair, paper_pair, phantom):
        return np.where(np.asarray(phantom, bool), -1, np.asarray(paper_pair, np.int8)).astype(np.int8)

    def _log_factors(self, a):
        s = a.winner_share
        out = np.zeros(CLASSES)
        out[1 + OFFSET] = math.log(2 * s)
        out[-1 + OFFSET] = math.log(2 * (1 - s)) if s < 1 else -math.inf
        return out


class KaplanMarkov(RiskFunction):
    """Card-level comparison with the Kaplan-Markov P-value ("super-simple")."""

    name = "kaplan-markov"
    comparison = True

    def __init__(self, gamma: float = GAMMA):
        if not gamma > 1:
            raise ValueError("gamma must exceed 1")
        self.gamma = gamma

    def classes(self, cvr_pair, paper_pair, phantom):
        omega = np.asarray(cvr_pair, np.int8) - np.asarray(paper_pair, np.int8)
        return np.where(np.asarray(phantom, bool), 2, omega).astype(np.int8)

    def _log_factors(self, a):
        mu, g = a.diluted_margin, self.gamma
        omega = np.arange(-2, 3)
        return np.log1p(-omega / (2 * g)) - math.log1p(-mu / (2 * g))

    def params(self):
        return {"method": self.name, "gamma": self.gamma}


def kelly_bet(v: float, o1: float = O1, o2: float = O2, cap: float = MAX_BET * 2) -> float:
    """The bet lambda maximizing E ln(1 + lambda (B - 1/2)) for the comparison assorter with
    diluted margin ``v`` when 1- and 2-vote overstatements occur at rates o1 and o2 (bisection
    on the derivative, which decreases in lambda), within [0, cap]."""
    b = np.array([1.0, 0.5, 0.0]) / (2 - v) - 0.5  # B - 1/2 for omega = 0, 1, 2 votes
    p = np.array([1 - o1 - o2, o1, o2])

    def slope(lam: float) -> float:
        return float(np.sum(p * b / (1 + lam * b)))

    if slope(0.0) <= 0:
        return 0.0
    if slope(cap) >= 0:
        return cap
    lo, hi = 0.0, cap
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
    return lo


class Alpha(RiskFunction):
    """Card-level comparison with ALPHA; the bet is ``adaptive`` (default), ``fixed`` or
    ``kelly`` (:mod:`.bets`)."""

    name = "alpha"
    comparison = True

    def __init__(self, o1: float = O1, o2: float = O2, max_bet: float = MAX_BET, bet: str = "adaptive", d: float = D_PRIOR, p2: float = P2_FIXED, gamma: float = GAMMA):
        if bet not in BETS:
            raise AuditError(f"unknown ALPHA bet '{bet}' (choose from: {', '.join(BETS)})")
        self.o1, self.o2, self.max_bet, self.bet_name, self.d, self.p2, self.gamma = o1, o2, max_bet, bet, d, p2, gamma
        self.adaptive = bet == "adaptive"

    classes = KaplanMarkov.classes

    def bet(self, a: Assertion) -> float:
        """The bet on the first draw (the only one, for ``fixed`` and ``kelly``)."""
        v = a.diluted_margin
        if self.bet_name == "kelly":
            return kelly_bet(v, self.o1, self.o2, 2 * self.max_bet)
        if self.bet_name == "fixed":
            return min(fixed_bet(v, self.p2), 2 * self.max_bet)
        return float(kelly(assorter_excess(v), prior_rates(self.o1, self.o2), km_equivalent_bet(v, self.gamma)))

    def eta(self, a: Assertion) -> float:
        """ALPHA's eta for the first draw: mu (1 + lambda (u - mu)), mu = 1/2, u = 2/(2 - v)."""
        u = 2 / (2 - a.diluted_margin)
        return 0.5 * (1 + self.bet(a) * (u - 0.5))

    def _log_factors(self, a):
        return np.log1p(self.bet(a) * assorter_excess(a.diluted_margin))

    def log_terms(self, a: Assertion, classes: np.ndarray) -> np.ndarray:
        if not (self.adaptive and a.testable and np.size(classes)):
            return super().log_terms(a, classes)
        v = a.diluted_margin
        lam = adaptive_bets(v, classes, prior_rates(self.o1, self.o2), self.d, km_equivalent_bet(v, self.gamma))
        with np.errstate(divide="ignore"):
            return np.log1p(lam * assorter_excess(v)[np.asarray(classes, np.int64) + OFFSET])

    def params(self):
        return {"method": self.name, "bet": self.bet_name, "o1": self.o1, "o2": self.o2, "max_bet": self.max_bet, "d": self.d, "p2": self.p2, "gamma": self.gamma}


METHODS = {"bravo": BallotPollingBravo, "kaplan-markov": KaplanMarkov, "alpha": Alpha}
ALIASES = {"km": "kaplan-markov", "super-simple": "kaplan-markov", "comparison": "kaplan-markov", "ballot-polling": "bravo", "polling": "bravo"}


def method_name(method: str) -> str:
    """The canonical method name (accepts the aliases km, super-simple, comparison, polling)."""
    m = str(method).strip().lower()
    m = ALIASES.get(m, m)
    if m not in METHODS:
        raise AuditError(f"unknown audit method '{method}' (choose from: bravo, kaplan-markov, alpha)")
    return m


def make_risk_function(method: str, gamma: float = GAMMA, o1: float = O1, o2: float = O2, bet: str = "adaptive") -> RiskFunction:
    """A risk function by name: Kaplan-Markov with ``gamma``, ALPHA with ``bet`` from rates o1, o2."""
    m = method_name(method)
    if m == "kaplan-markov":
        return KaplanMarkov(gamma)
    if m == "alpha":
        return Alpha(o1, o2, bet=bet, gamma=gamma)
    return BallotPollingBravo()


def risk_function(method: str, params: dict | None = None) -> RiskFunction:
    """A risk function by name, with the parameters a package recorded (or the defaults)."""
    m = method_name(method)
    kw = {k: v for k, v in (params or {}).items() if k != "method"}
    if m == "alpha" and "bet" not in kw:
        kw["bet"] = "kelly"  # packages written before the bets were offered
    return METHODS[m](**kw)


@dataclass(frozen=True)
class AssertionRisk:
    """The measured risk of one assertion at the end of one round."""

    round: int
    draws: int
    contest: str
    assertion: str
    statistic: float  # max T so far
    risk: float  # min(1, 1 / statistic)
