"""Hybrid audits (issue 16, item 2): SUITE-style stratified combination against SHANGRLA's
formulas ported here, ONEAudit's assorter, and the risk of both measured on wrong outcomes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pollsim.audit.bets import assorter_excess
from pollsim.audit.errors import AuditError
from pollsim.audit.oneaudit import OneAuditContest
from pollsim.audit.rounds import RoundPolicy
from pollsim.audit.simulate import binomial_quantile
from pollsim.audit.strata_simulate import hybrid_election, simulate_oneaudit, simulate_suite
from pollsim.audit.stratified import Strata, fisher, suite_p_value, suite_p_values

# -- SHANGRLA (P. B. Stark, AGPL), transcribed: NonnegMean.kaplan_markov (with padding g),
#    NonnegMean.alpha_mart with fixed_alternative_mean (N = inf), fisher_combined_pvalue ---------


def shangrla_kaplan_markov(x: np.ndarray, t: float, g: float) -> float:
    with np.errstate(over="ignore", under="ignore"):
        p_history = np.cumprod((t + g) / (x + g))
    return float(min(1.0, np.min(p_history)))


def shangrla_alpha_mart(x: np.ndarray, eta: float, t: float, u: float = 1.0) -> float:
    with np.errstate(over="ignore", under="ignore"):
        terms = np.cumprod((x * eta / t + (u - x) * (u - eta) / (u - t)) / u)
    return float(min(1.0, 1 / np.max(terms)))


def shangrla_fisher(p1: float, p2: float) -> float:
    """1 - chi2.cdf(-2 sum ln p, df=4); for 4 degrees of freedom the survival function is
    exp(-x/2) (1 + x/2)."""
    if p1 == 0 or p2 == 0:
        return 0.0
    obs = -2 * (math.log(p1) + math.log(p2))
    return math.exp(-obs / 2) * (1 + obs / 2)


def reference_suite(s: Strata, omega: np.ndarray, pair: np.ndarray, beta: float) -> float:
    n = s.cards
    abar1 = (1 + s.margin_cvr / s.cards_cvr) / 2
    y = 1 - omega / 2
    p1 = shangrla_kaplan_markov(y, 1 - abar1 + beta * n / s.cards_cvr, 1.03905 - 1)
    t2 = (0.5 - beta) * n / s.cards_poll
    eta = (1 + s.margin_poll / s.cards_poll) / 2
    p2 = 1.0 if (t2 >= 1 or eta <= t2) else shangrla_alpha_mart((1 + pair) / 2, eta, t2)
    return shangrla_fisher(p1, p2)


def sample(rng: np.random.Generator, s: Strata, n1: int = 120, n2: int = 700) -> tuple[np.ndarray, np.ndarray]:
    omega = rng.choice([-1, 0, 1, 2], n1, p=[0.003, 0.99, 0.005, 0.002]).astype(np.int8)
    w = (1 + s.margin_poll / s.cards_poll) / 2 - 0.01
    pair = rng.choice([1, 0, -1], n2, p=[w - 0.01, 0.02, 1 - w - 0.01]).astype(np.int8)
    return omega, pair


def test_suite_is_the_max_over_beta_of_shangrlas_fisher_combination():
    rng = np.random.default_rng(2)
    s = Strata(12_000, 900, 8_000, 700)
    omega, pair = sample(rng, s)
    # interior betas: at beta = 1/2 the polling null is "every card 0", which SHANGRLA's
    # alpha_mart leaves untested (p = 1) and pollsim rejects outright (any other card refutes it)
    fine = np.linspace(*s.betas(1)[[0, -1]], 2001)[1:-1]
    ref = max(reference_suite(s, omega, pair, b) for b in fine)
    coarse = suite_p_value(s, omega, pair, "fisher")
    refined = suite_p_value(s, omega, pair, "fisher", refine=4)
    assert ref <= refined <= coarse  # upper bounds on the maximum, never the grid's lower bound
    assert refined <= ref * 1.01  # refined: tight


def test_each_stratum_p_value_matches_shangrla_at_a_fixed_beta():
    rng = np.random.default_rng(3)
    s = Strata(10_000, 600, 5_000, 400)
    omega, pair = sample(rng, s, 90, 500)
    from pollsim.audit.stratified import comparison_log_t, polling_log_t

    for beta in s.betas(7)[:-1]:  # at beta = 1/2 SHANGRLA divides by t2 = 0
        b1, _ = comparison_log_t(s, omega, np.array([beta]), np.array([len(omega)]))
        b2, _ = polling_log_t(s, pair, np.array([beta]), np.array([len(pair)]))
        p = shangrla_fisher(math.exp(-b1[..., 0, 0]), math.exp(-b2[..., 0, 0]))
        assert p == pytest.approx(reference_suite(s, omega, pair, beta), rel=1e-10, abs=1e-300)


def test_fishers_combination_has_the_chi_square_4_null_distribution():
    rng = np.random.default_rng(5)
    u = rng.random((2, 400_000))
    p = fisher(np.log(u[0]), np.log(u[1]))
    for a in (0.01, 0.05, 0.1, 0.5):
        assert abs((p <= a).mean() - a) < 4 * math.sqrt(a * (1 - a) / 400_000)


def test_p_values_at_several_rounds_agree_with_one_at_a_time():
    rng = np.random.default_rng(6)
    s = Strata(10_000, 600, 5_000, 400)
    omega, pair = sample(rng, s, 200, 800)
    many = suite_p_values(s, omega[None], pair[None], [50, 100, 200], [200, 400, 800], "product", 30)[0]
    one = [suite_p_value(s, omega[:a], pair[:b], "product", 30) for a, b in ((50, 200), (100, 400), (200, 800))]
    np.testing.assert_allclose(many, one, rtol=1e-12)


def test_oneaudit_without_pools_is_the_card_level_comparison_assorter():
    pairs = np.array([1, 1, -1, 0, 1, 1, -1, 1], np.int8)
    oa = OneAuditContest(pairs, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    v = oa.margin
    assert v == pytest.approx(3 / 8)
    paper = pairs.copy()
    paper[0] = -1  # a 2-vote overstatement
    paper[1] = 0  # a 1-vote overstatement
    omega = pairs - paper
    np.testing.assert_allclose(oa.assorter(paper) - 0.5, assorter_excess(v)[omega + 2], rtol=1e-13)


def test_oneaudit_assorter_mean_is_above_half_exactly_when_the_outcome_is_right():
    rng = np.random.default_rng(8)
    for wrong in (False, True):
        e = hybrid_election(6_000, 4_000, 100, 0.04, wrong, rng)
        oa = OneAuditContest(e["reported"][: e["n_cvr"]], e["pool_winner"], e["pool_loser"], e["pool_cards"])
        paper_margin = e["paper"].sum() / oa.cards
        assert oa.assorter(e["paper"]).mean() == pytest.approx((1 - (oa.margin - paper_margin) / 2) / (2 - oa.margin), rel=1e-12)
        assert (oa.assorter(e["paper"]).mean() > 0.5) == (not wrong)


def test_oneaudit_pool_tally_errors_are_one_line():
    with pytest.raises(AuditError, match="pool 1: votes for the pair"):
        OneAuditContest(np.zeros(3, np.int8), np.array([5, 9]), np.array([3, 3]), np.array([10, 10]))


def test_measured_risk_of_oneaudit_on_a_wrong_outcome():
    rng = np.random.default_rng(9)
    e = hybrid_election(12_000, 8_000, 200, 0.08, True, rng)
    r = simulate_oneaudit(e, 0.10, 2000, rng)
    assert r["confirmed"] <= binomial_quantile(2000, 0.10, 0.999) and r["confirmed"] + r["escalated"] == 2000


@pytest.mark.parametrize("combine", ["fisher", "product"])
def test_measured_risk_of_suite_on_a_wrong_outcome(combine):
    rng = np.random.default_rng(10)
    e = hybrid_election(12_000, 8_000, 200, 0.08, True, rng)
    r = simulate_suite(e, 0.10, 2000, rng, combine, RoundPolicy(max_rounds=3))
    assert r["confirmed"] <= binomial_quantile(2000, 0.10, 0.999) and r["confirmed"] + r["escalated"] == 2000


@pytest.mark.parametrize("method", ["oneaudit", "fisher", "product"])
def test_hybrid_workload_on_a_correct_outcome(method):
    rng = np.random.default_rng(11)
    e = hybrid_election(12_000, 8_000, 200, 0.08, False, rng)
    r = simulate_oneaudit(e, 0.10, 500, rng) if method == "oneaudit" else simulate_suite(e, 0.10, 500, rng, method)
    assert r["confirmed_share"] > 0.9 and r["draws"]["50"] < 20_000 / 4
