"""ALPHA's bets for comparison audits (issue 16, item 5): SHANGRLA's formulas ported here
independently, Kaplan-Markov as a fixed bet, the adaptive bet against a plain loop, and the
bets compared on the same samples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pollsim.audit.bets import adaptive_bets, assorter_excess, fixed_bet, kelly, km_equivalent_bet, prior_rates
from pollsim.audit.contest import Assertion
from pollsim.audit.risk import Alpha, KaplanMarkov, risk_function
from pollsim.audit.rounds import RoundPolicy
from pollsim.audit.simulate import binomial_quantile, simulate, two_candidate_election

GAMMA = 1.03905


def pair(w: int = 10_500, lo: int = 9_500, n: int = 20_000) -> Assertion:
    return Assertion("c", "w", "l", 0, 1, w, lo, n)  # diluted margin 0.05


# -- SHANGRLA, shangrla/core/NonnegMean.py (P. B. Stark, AGPL): alpha_mart with
#    fixed_alternative_mean and optimal_comparison, transcribed for sampling with replacement ---


def shangrla_optimal_comparison(u: float, p2: float) -> float:
    return (1 - u * (1 - p2)) / (2 - 2 * u) + u * (1 - p2) - 1 / 2


def shangrla_alpha_mart_fixed(x: np.ndarray, eta: float, u: float, t: float = 0.5) -> tuple[float, np.ndarray]:
    """alpha_mart, N = inf: m = t; terms = cumprod((x eta/m + (u - x)(u - eta)/(u - m)) / u);
    p = min(1, 1/max(terms)), p_history = min(1, 1/terms)."""
    m = t
    terms = np.cumprod((x * eta / m + (u - x) * (u - eta) / (u - m)) / u)
    return min(1.0, 1 / np.max(terms)), np.minimum(1, 1 / terms)


def overstatement_assorter(omega: np.ndarray, v: float) -> np.ndarray:
    """SHANGRLA's comparison assorter for a plurality pair (assorter bound 1): (1 - o)/(2 - v), o
    the overstatement in assorter units (votes / 2)."""
    return (1 - omega / 2) / (2 - v)


@pytest.mark.parametrize("p2", [5e-4, 1e-3, 1e-2])  # below p2 ~ 1.3e-4 pollsim caps the bet at 1.99
def test_fixed_bet_is_shangrlas_optimal_comparison_eta_draw_by_draw(p2):
    rng = np.random.default_rng(4)
    a = pair()
    v = a.diluted_margin
    omega = rng.choice(np.arange(-2, 3), 400, p=[0.002, 0.003, 0.98, 0.01, 0.005]).astype(np.int8)
    u = 2 / (2 - v)
    p_ref, hist = shangrla_alpha_mart_fixed(overstatement_assorter(omega, v), shangrla_optimal_comparison(u, p2), u)
    fn = Alpha(bet="fixed", p2=p2)
    ours = np.exp(-fn.log_statistic(a, omega))
    np.testing.assert_allclose(np.minimum(1, ours), hist, rtol=1e-12)
    assert fn.risk(a, omega, [400])[0] == pytest.approx(p_ref, rel=1e-12)


def test_shangrlas_optimal_comparison_is_the_kelly_bet_when_only_two_vote_errors_occur():
    for v in (0.01, 0.05, 0.3):
        b = assorter_excess(v)
        for p2 in (1e-5, 1e-3, 0.01):
            assert fixed_bet(v, p2) == pytest.approx(float(kelly(b, np.array([0, 0, 1 - p2, 0, p2]), 2.0)), rel=1e-9)


def test_kaplan_markov_is_alpha_with_a_fixed_bet():
    a = pair()
    lam = km_equivalent_bet(a.diluted_margin)
    np.testing.assert_allclose(np.log1p(lam * assorter_excess(a.diluted_margin)), KaplanMarkov().log_factors(a), rtol=1e-13)


def reference_adaptive(omega: np.ndarray, v: float, o1: float, o2: float, d: float) -> np.ndarray:
    """The adaptive bet, one draw at a time: rates (d prior + counts so far) / (d + j - 1),
    Kelly by plain bisection in [0, Kaplan-Markov's bet] (COBRA's adaptive bet)."""
    b = (1 - np.arange(-2, 3) / 2) / (2 - v) - 0.5
    prior = np.array([o2, o1, 1 - 2 * o1 - 2 * o2, o1, o2])
    cap = 2 * (2 - v) / (2 * GAMMA - v)
    counts, out = np.zeros(5), []
    for j, w in enumerate(omega):
        p = (d * prior + counts) / (d + j)
        p[2] = 1 - p[[0, 1, 3, 4]].sum()

        def slope(lam, p=p):
            return float(np.sum(p * b / (1 + lam * b)))

        lo, hi = 0.0, cap
        if slope(cap) >= 0:
            lo = cap
        else:
            for _ in range(200):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
        out.append(lo)
        counts[w + 2] += 1
    return np.array(out)


def test_adaptive_bet_agrees_with_a_one_draw_at_a_time_loop():
    rng = np.random.default_rng(8)
    omega = rng.choice(np.arange(-2, 3), (3, 300), p=[0.01, 0.02, 0.9, 0.04, 0.03])
    fn = Alpha(o1=0.001, o2=0.0001)
    a = pair()
    lam = adaptive_bets(0.05, omega, prior_rates(0.001, 0.0001, 0.001, 0.0001), fn.d)
    for row in range(3):
        np.testing.assert_allclose(lam[row], reference_adaptive(omega[row], 0.05, 0.001, 0.0001, fn.d), atol=1e-10)
    # the risk function's own statistic uses the overstatement-only prior
    lam0 = adaptive_bets(0.05, omega[0], prior_rates(0.001, 0.0001), fn.d)
    expected = np.cumsum(np.log1p(lam0 * assorter_excess(0.05)[omega[0] + 2]))
    np.testing.assert_allclose(fn.log_statistic(a, omega[0]), expected, rtol=1e-12)


def draws_to_confirm(fn, a: Assertion, omega: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    hit = fn.log_statistic(a, omega) >= math.log(1 / alpha) - 1e-12
    return np.where(hit.any(axis=1), np.argmax(hit, axis=1) + 1, omega.shape[1] + 1)


def test_one_early_two_vote_overstatement_costs_the_old_bet_dearly_and_the_default_little():
    a = pair()
    omega = np.zeros((1, 2000), np.int8)
    omega[0, 9] = 2  # the tenth card drawn shows a 2-vote overstatement
    km = draws_to_confirm(KaplanMarkov(), a, omega)[0]
    old, new = draws_to_confirm(Alpha(bet="kelly"), a, omega)[0], draws_to_confirm(Alpha(), a, omega)[0]
    assert old > 1.2 * km  # the bet at the cap: T x 0.005 (km 258, old 331 draws)
    assert new <= 1.06 * km and new < old - 50  # it learns a 2-vote rate of 1/410 (270 draws)


@pytest.mark.parametrize("p1, p2, ratio", [(0.001, 0.0001, 1.02), (0.001, 0.001, 1.05), (0.002, 0.003, 1.02)])
def test_default_bet_is_never_much_worse_than_kaplan_markov_on_the_same_samples(p1, p2, ratio):
    rng = np.random.default_rng(12)
    a = pair()
    omega = (rng.choice(5, (600, 1500), p=[0, 0, 1 - p1 - p2, p1, p2]) - 2).astype(np.int8)
    km = draws_to_confirm(KaplanMarkov(), a, omega).mean()
    assert draws_to_confirm(Alpha(), a, omega).mean() <= ratio * km


def test_with_frequent_discrepancies_the_adaptive_bet_beats_kaplan_markov_and_the_old_bet():
    rng = np.random.default_rng(13)
    a = pair()
    omega = (rng.choice(5, (600, 3000), p=[0, 0, 0.99, 0.005, 0.005]) - 2).astype(np.int8)
    km, old, new = (draws_to_confirm(fn, a, omega) for fn in (KaplanMarkov(), Alpha(bet="kelly"), Alpha()))
    assert new.mean() < 0.85 * km.mean() and new.mean() < 0.6 * old.mean()
    assert (new > 3000).mean() < (km > 3000).mean()  # fewer audits that never finish


def test_a_package_without_a_bet_was_written_with_the_old_kelly_bet():
    fn = risk_function("alpha", {"method": "alpha", "o1": 0.001, "o2": 0.0001, "max_bet": 0.995})
    assert isinstance(fn, Alpha) and fn.bet_name == "kelly"
    again = risk_function("alpha", Alpha(bet="fixed").params())
    assert again.params() == Alpha(bet="fixed").params()


@pytest.mark.parametrize("bet", ["adaptive", "fixed"])
def test_measured_risk_of_each_bet_on_a_wrong_outcome(bet):
    """2,000 audits of an outcome whose paper winner lost the machine count (item 6)."""
    rng = np.random.default_rng(31)
    election = two_candidate_election(20_000, 0.05, True, 0, 0, rng)
    r = simulate(election, Alpha(bet=bet), 0.10, 2000, RoundPolicy(), rng)
    assert r["confirmed"] <= binomial_quantile(2000, 0.10, 0.999)
    assert r["confirmed"] + r["escalated"] == 2000
