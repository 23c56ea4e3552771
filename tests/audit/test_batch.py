"""Batch-comparison audits (issue 16, item 1): MACRO against a transcription of Arlo's
macro.py and sampler.py on the same batches, batch-level ALPHA against SHANGRLA's alpha_mart,
and the risk measured on wrong outcomes."""

from __future__ import annotations

import hashlib
import math
from decimal import ROUND_CEILING, Decimal

import numpy as np
import pytest

from pollsim.audit.batch import (
    BatchContest,
    alpha_batch_sample_size,
    alpha_log_statistic,
    draw_ppeb,
    macro_log_statistic,
    macro_p_value,
    macro_risk,
    macro_sample_size,
    ppeb_weights,
    risk_from_log_statistic,
)
from pollsim.audit.batch_simulate import simulate_batch_audits, wrong_batch_election
from pollsim.audit.errors import AuditError
from pollsim.audit.simulate import binomial_quantile

# -- Arlo, server/audit_math/macro.py (VotingWorks, AGPL), transcribed with dicts and Decimal ---


def arlo_max_error(batch: dict, winners: list, losers: list, totals: dict) -> Decimal:
    error = Decimal(0.0)
    for w in winners:
        for lo in losers:
            v_wl = totals[w] - totals[lo]
            if v_wl == 0:
                return Decimal("inf")
            u = Decimal((batch[w] - batch[lo]) + batch["ballots"]) / Decimal(v_wl)
            error = max(error, u)
    return error


def arlo_error(batch: dict, audited: dict, winners: list, losers: list, totals: dict) -> tuple[int, Decimal] | None:
    errors = []
    for w in winners:
        for lo in losers:
            v_wl = totals[w] - totals[lo]
            e = (batch[w] - batch[lo]) - (audited[w] - audited[lo])
            if e == 0:
                continue
            errors.append((e, Decimal(e) / Decimal(v_wl) if v_wl > 0 else Decimal("inf")))
    return max(errors, key=lambda x: x[1]) if errors else None


def arlo_compute_risk(alpha: Decimal, batches: dict, drawn: list, audited: dict, winners: list, losers: list, totals: dict) -> tuple[float, bool]:
    big_u = sum((arlo_max_error(b, winners, losers, totals) for b in batches.values()), Decimal(0))
    p = Decimal(1.0)
    for key in drawn:
        err = arlo_error(batches[key], audited[key], winners, losers, totals)
        e_p = err[1] if err and err[0] > 0 else Decimal(0)
        u_p = arlo_max_error(batches[key], winners, losers, totals)
        taint = e_p / u_p
        if taint == 1:
            p = Decimal("inf")
        else:
            p *= (1 - 1 / big_u) / (1 - taint)
        if p <= alpha:
            return float(p), True
    return min(float(p), 1.0), p <= alpha


def arlo_sample_size(alpha: Decimal, batches: dict, winners: list, losers: list, totals: dict) -> int:
    big_u = sum((arlo_max_error(b, winners, losers, totals) for b in batches.values()), Decimal(0))
    if big_u <= 1:  # Arlo: U == 0 or U == 1 -> 1 (and U < 1 cannot occur with a positive margin)
        return 1
    n = int((alpha.ln() / (1 - 1 / big_u).ln()).quantize(Decimal(1), ROUND_CEILING))
    return min(n, len(batches))


def arlo_draw_ppeb_positions(seed: str, weights: list, num_draws: int) -> list:
    """sampler.py draw_ppeb_positions: the batch index of each draw."""
    generator = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest(), 16))
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return [int(i) for i in cdf.searchsorted(generator.random(num_draws), side="right")]


# -- Arlo's own test fixture (server/tests/audit_math/test_macro.py): 400 batches, 3 contests -----


def arlo_fixture_contest(name: str) -> BatchContest:
    rows = []
    for i in range(200):
        for av in (False, True):
            scale = 1 if av else 2
            if name == "A":
                rows.append((100 * scale, 90 * scale, 200 * scale))
            elif name == "B":
                rows.append((100 * scale, 80 * scale, 200 * scale) if i < 100 else (0, 0, 0))
            else:
                rows.append((100 * scale, 70 * scale, 200 * scale) if (i < 30 or 100 <= i < 130) else (0, 0, 0))
    arr = np.array(rows, np.int64)
    return BatchContest(name, ("winner", "loser"), arr[:, :2], arr[:, 2])


@pytest.mark.parametrize("name, big, av", [("A", 0.07, 0.035), ("B", 0.0733, 0.0367), ("C", 0.0852, 0.0426)])
def test_error_bounds_match_arlos_published_max_errors(name, big, av):
    u = arlo_fixture_contest(name).error_bounds
    assert abs(u[0] - big) < 0.001 and abs(u[1] - av) < 0.001  # Arlo's tolerance
    assert (u == 0).sum() == {"A": 0, "B": 200, "C": 280}[name]


def random_batches(rng: np.random.Generator, n: int, k: int, vote_for: int) -> tuple[BatchContest, np.ndarray, dict, dict]:
    ballots = rng.integers(20, 400, n)
    shares = rng.dirichlet(np.arange(k, 0, -1) * 3.0, n)
    reported = np.floor(shares * ballots[:, None] * vote_for * 0.9).astype(np.int64)
    hand = np.maximum(0, reported + rng.integers(-3, 4, reported.shape) * (rng.random(reported.shape) < 0.3))
    choices = tuple(f"c{j}" for j in range(k))
    bc = BatchContest("x", choices, reported, ballots, vote_for)
    batches = {f"b{p:03d}": {**{c: int(reported[p, j]) for j, c in enumerate(choices)}, "ballots": int(ballots[p])} for p in range(n)}
    audited = {f"b{p:03d}": {c: int(hand[p, j]) for j, c in enumerate(choices)} for p in range(n)}
    return bc, hand, batches, audited


@pytest.mark.parametrize("k, vote_for, seed", [(2, 1, 1), (3, 1, 2), (4, 2, 3), (5, 1, 4)])
def test_macro_p_values_and_sizes_match_arlos_math_on_the_same_batches(k, vote_for, seed):
    rng = np.random.default_rng(seed)
    bc, hand, batches, audited = random_batches(rng, 150, k, vote_for)
    o = bc.outcome
    winners, losers = [bc.choices[i] for i in o.winners], [bc.choices[i] for i in o.losers]
    totals = dict(zip(bc.choices, o.votes, strict=True))
    np.testing.assert_allclose(bc.error_bounds, [float(arlo_max_error(b, winners, losers, totals)) for b in batches.values()], rtol=1e-12)
    keys = sorted(batches)
    weights = ppeb_weights(bc)
    drawn = draw_ppeb("seed " + str(seed), weights, 60)
    assert drawn.tolist() == arlo_draw_ppeb_positions("seed " + str(seed), [float(w) for w in weights], 60)
    for alpha in (Decimal("0.05"), Decimal("0.25"), Decimal("0.9")):
        ref_p, ref_ok = arlo_compute_risk(alpha, batches, [keys[i] for i in drawn], audited, winners, losers, totals)
        p, ok = macro_risk(bc.total_error_bound, bc.macro_taints(drawn, hand[drawn]), float(alpha))
        assert ok == ref_ok and p == pytest.approx(ref_p, rel=1e-9)
        assert macro_sample_size(bc.total_error_bound, float(alpha), len(keys)) == arlo_sample_size(alpha, batches, winners, losers, totals)


def test_a_fully_tainted_batch_ends_macro_but_not_batch_alpha():
    bc = BatchContest("m", ("yes", "no"), np.array([[60, 40], [55, 45], [50, 30]]), np.array([100, 100, 80]))
    hand = np.array([[40, 60]])  # batch 0 was counted for the wrong side: the largest possible error is ballots-wide
    taint = bc.macro_taints(np.array([0]), np.array([[0, 100]]))
    assert taint[0] == pytest.approx(1.0)
    assert macro_p_value(bc.total_error_bound, taint) == 1.0
    assert np.isfinite(alpha_log_statistic(bc.total_error_bound, bc.alpha_taints(np.array([0]), np.array([[0, 100]])))).all()
    assert bc.alpha_taints(np.array([0]), hand)[0, 0] == pytest.approx(((60 - 40) - (40 - 60)) / 50 / ((60 - 40 + 100) / 50))


def shangrla_alpha_mart_fixed(x: np.ndarray, eta: float, u: float, t: float) -> np.ndarray:
    """SHANGRLA NonnegMean.alpha_mart with fixed_alternative_mean, N = inf: the running T."""
    return np.cumprod((x * eta / t + (u - x) * (u - eta) / (u - t)) / u)


def test_batch_alpha_is_shangrlas_alpha_mart_on_one_minus_the_taint():
    rng = np.random.default_rng(6)
    bc, hand, _, _ = random_batches(rng, 80, 3, 1)
    drawn = draw_ppeb("x", ppeb_weights(bc), 50)
    taints = bc.alpha_taints(drawn, hand[drawn])
    big_u = bc.total_error_bound
    mu0, beta = 1 - 1 / big_u, 0.9
    eta = mu0 * (1 + (beta / mu0) * (2 - mu0))  # SHANGRLA's lam_to_eta with u = 2
    ours = alpha_log_statistic(big_u, taints, beta)
    for p in range(taints.shape[1]):
        ref = shangrla_alpha_mart_fixed(1 - taints[:, p], eta, 2.0, mu0)
        np.testing.assert_allclose(np.exp(ours[:, p]), ref, rtol=1e-11)


def test_macro_is_batch_alpha_with_the_largest_bet_for_two_candidates():
    rng = np.random.default_rng(7)
    bc, hand, _, _ = random_batches(rng, 60, 2, 1)
    drawn = draw_ppeb("y", ppeb_weights(bc), 40)
    t = np.clip(bc.alpha_taints(drawn, hand[drawn])[:, 0], 0, None)  # Arlo counts understatements as 0
    np.testing.assert_allclose(alpha_log_statistic(bc.total_error_bound, t, beta=1.0), macro_log_statistic(bc.total_error_bound, t), atol=1e-12)


def test_sample_sizes_and_risk_for_clean_batches():
    bc = arlo_fixture_contest("A")
    big_u = bc.total_error_bound
    assert big_u == pytest.approx(21.0)
    n = macro_sample_size(big_u, 0.10, 400)
    assert n == math.ceil(math.log(0.10) / math.log(1 - 1 / 21))  # 47
    assert n < alpha_batch_sample_size(big_u, 0.10, 400) <= 1.05 * n
    clean = np.zeros(n)
    assert macro_p_value(big_u, clean) <= 0.10
    assert risk_from_log_statistic(alpha_log_statistic(big_u, clean[:, None])) > 0.10  # ALPHA needs a few more


def test_a_malformed_batch_table_is_a_one_line_error():
    with pytest.raises(AuditError, match="batch 1 reports more votes"):
        BatchContest("c", ("a", "b"), np.array([[1, 1], [5, 6]]), np.array([2, 10]))
    with pytest.raises(AuditError, match="batches x 2 choices"):
        BatchContest("c", ("a", "b"), np.array([1, 1]), np.array([2]))


@pytest.mark.parametrize("method", ["macro", "alpha-batch"])
def test_measured_risk_of_batch_audits_on_a_wrong_outcome(method):
    rng = np.random.default_rng(40)
    bc, hand = wrong_batch_election(400, 300, 0.05, True, rng)
    assert hand[:, 1].sum() > hand[:, 0].sum() and bc.margins[0] > 0  # reported w, paper l
    r = simulate_batch_audits(bc, hand, method, 0.10, 2000, rng)
    assert 0.02 < r["confirmed_share"] and r["confirmed"] <= binomial_quantile(2000, 0.10, 0.999)


@pytest.mark.parametrize("method", ["macro", "alpha-batch"])
def test_workload_of_batch_audits_on_a_correct_outcome(method):
    rng = np.random.default_rng(41)
    bc, hand = wrong_batch_election(400, 300, 0.05, False, rng)
    r = simulate_batch_audits(bc, hand, method, 0.10, 500, rng)
    assert r["confirmed_share"] > 0.95
    assert r["batches_counted"]["50"] <= r["round_draws"][0] < 400
