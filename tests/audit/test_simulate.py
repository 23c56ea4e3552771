"""Measured risk: audits of a wrong outcome confirm it no more often than the risk limit allows."""

from __future__ import annotations

import numpy as np
import pytest

from pollsim.audit.simulate import binomial_quantile, simulate_audits, two_candidate_election
from pollsim.rundir import RunDir


@pytest.mark.parametrize("method", ["kaplan-markov", "alpha", "bravo"])
def test_a_wrong_outcome_is_confirmed_at_most_at_the_risk_limit(method):
    r = simulate_audits(method, audits=2000, risk_limit=0.10, wrong_outcome=True, seed=11)
    assert r["outcome_wrong"] and r["reported_winners"] == ["b"] and r["paper_winners"] == ["a"]
    # the 99.9 % upper quantile of Binomial(2000, 0.10): a true risk above 10 % would exceed it
    assert r["allowed_confirmed"] == binomial_quantile(2000, 0.10, 0.999)
    assert r["confirmed"] <= r["allowed_confirmed"]
    # every audit that does not confirm ends in a full hand count, which finds the paper winner
    assert r["confirmed"] + r["escalated"] == 2000 and r["rounds"]["full_hand_count"] == r["escalated"]


def test_the_truth_next_to_a_tie_is_the_hard_case_risk_is_near_but_not_over_alpha():
    r = simulate_audits("kaplan-markov", audits=2000, risk_limit=0.10, seed=5)
    assert r["paper_margin"] == pytest.approx(2 / 20_000)  # a wins the paper count by 2 votes
    assert 0.05 < r["confirmed_share"] <= 0.10 + 3.1 * (0.1 * 0.9 / 2000) ** 0.5


def test_a_flipped_run_is_caught_by_every_audit(training_run):
    r = simulate_audits("kaplan-markov", audits=2000, run=RunDir(training_run).audit_ballots(), contest="us-senate", seed=2)
    assert r["outcome_wrong"] and r["paper_winners"] == ["dawson"] and r["reported_winners"] == ["pruitt"]
    assert r["confirmed"] <= r["allowed_confirmed"]


@pytest.mark.parametrize("method", ["kaplan-markov", "alpha", "bravo"])
def test_a_correct_outcome_reports_the_workload(method):
    r = simulate_audits(method, audits=2000, wrong_outcome=False, seed=3)
    assert not r["outcome_wrong"]
    assert r["confirmed_share"] > 0.95
    first = r["round_draws"][0]
    assert r["draws"]["50"] >= first and r["draws"]["99"] <= r["round_draws"][-1]
    assert r["ballots_examined"]["50"] <= r["draws"]["50"]
    assert sum(v for k, v in r["rounds"].items()) == 2000


def test_the_synthetic_contest_has_the_margins_asked_for():
    rng = np.random.default_rng(0)
    wrong = two_candidate_election(10_000, 0.04, True, 0, 0, rng)
    assert wrong.wrong and wrong.outcome.closest.margin >= 400
    right = two_candidate_election(10_000, 0.04, False, 0.001, 0.0001, rng)
    assert not right.wrong and right.paper_votes[0] - right.paper_votes[1] == 400


def test_binomial_quantile_matches_the_normal_approximation_roughly():
    q = binomial_quantile(2000, 0.1, 0.999)
    assert 200 + 3.0 * (2000 * 0.09) ** 0.5 < q < 200 + 3.4 * (2000 * 0.09) ** 0.5


def exact_confirmation_probability(log_factors: np.ndarray, probs: np.ndarray, last: int, risk_limit: float) -> float:
    """P(ln T reaches ln(1/alpha) within ``last`` draws) when only classes 0 and 2 occur, by
    dynamic programming over (draws, two-vote overstatements so far)."""
    a, b = log_factors[2], log_factors[4]  # ln f for omega = 0 and omega = 2
    p = probs[4]
    mass = np.zeros(last + 1)
    mass[0] = 1.0
    crossed = 0.0
    k = np.arange(last + 1)
    for j in range(1, last + 1):
        new = mass * (1 - p)
        new[1:] += mass[:-1] * p
        hit = j * a + k * b >= np.log(1 / risk_limit) - 1e-12
        crossed += new[hit].sum()
        new[hit] = 0.0
        mass = new
    return crossed


def test_the_simulated_risk_agrees_with_the_exact_probability():
    from pollsim.audit.risk import KaplanMarkov
    from pollsim.audit.rounds import RoundPolicy, plan

    rng = np.random.default_rng(0)
    election = two_candidate_election(20_000, 0.05, True, 0, 0, rng)
    a = election.outcome.closest
    fn = KaplanMarkov()
    classes = fn.classes(election.cvr_pairs[a.name], election.paper_pairs[a.name], np.zeros(20_000, bool))
    probs = np.bincount(classes.astype(np.int64) + 2, minlength=5) / 20_000
    assert set(np.flatnonzero(probs)) == {2, 4}  # only exact agreement and two-vote overstatements
    last = plan(fn, [election.outcome], 0.10, RoundPolicy(), 20_000)[0][-1]
    exact = exact_confirmation_probability(fn.log_factors(a), probs, last, 0.10)
    assert exact <= 0.10  # the risk limit holds exactly, not just in simulation
    r = simulate_audits("kaplan-markov", audits=2000, seed=21)
    assert abs(r["confirmed_share"] - exact) < 3.5 * (exact * (1 - exact) / 2000) ** 0.5
