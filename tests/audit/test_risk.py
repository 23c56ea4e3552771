"""Risk measures: each method's statistic, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pollsim.audit.contest import Assertion
from pollsim.audit.risk import Alpha, BallotPollingBravo, KaplanMarkov, kelly_bet


def pair(w=600, lo=400, n=1000) -> Assertion:
    return Assertion("c", "w", "l", 0, 1, w, lo, n)


def test_kaplan_markov_p_value_is_the_super_simple_product():
    a = pair()  # diluted margin 0.2
    km = KaplanMarkov()
    omegas = np.array([0, 0, 1, 0, -1, 0, 2, 0], np.int8)
    g, mu = 1.03905, 0.2
    p = np.cumprod([(1 - mu / (2 * g)) / (1 - o / (2 * g)) for o in omegas])  # P_KM after each draw
    assert km.risk(a, omegas, [1, len(omegas)]) == pytest.approx([p[0], min(1.0, p.min())])


def test_bravo_multiplies_by_2s_for_the_winner_and_2_1_minus_s_for_the_loser():
    a = pair(600, 300, 1000)
    s = 600 / 900
    classes = np.array([1, 1, -1, 0, 1], np.int8)
    t = np.cumprod([2 * s if c == 1 else 2 * (1 - s) if c == -1 else 1 for c in classes])
    assert t[-1] == pytest.approx((2 * s) ** 3 * (2 * (1 - s)))
    risks = BallotPollingBravo().risk(a, classes, [2, 3, 5])
    assert risks == pytest.approx([1 / t[1], 1 / t[1], 1 / max(t)])  # the largest T so far: valid at any time


def test_phantoms_count_against_the_reported_outcome():
    zero = np.zeros(3, np.int8)
    ph = np.array([True, False, False])
    assert BallotPollingBravo().classes(zero, np.array([1, 1, 0], np.int8), ph).tolist() == [-1, 1, 0]
    assert KaplanMarkov().classes(zero, zero, ph).tolist() == [2, 0, 0]


def test_alpha_is_a_bet_on_the_comparison_assorter():
    a = pair()
    al = Alpha()
    lam = al.bet(a)
    v = a.diluted_margin
    assert 0 < lam <= 1.99
    for omega in (-2, -1, 0, 1, 2):
        b = (1 - omega / 2) / (2 - v)
        assert al.log_factors(a)[omega + 2] == pytest.approx(math.log(1 + lam * (b - 0.5)))
    # eta in ALPHA's own parametrization gives the same factor: (B/mu)(eta-mu)/(u-mu) + (u-eta)/(u-mu)
    u, mu, eta, b = 2 / (2 - v), 0.5, al.eta(a), 1 / (2 - v)
    assert math.log(b / mu * (eta - mu) / (u - mu) + (u - eta) / (u - mu)) == pytest.approx(al.log_factors(a)[2])


def test_kelly_bet_is_all_but_the_cap_without_errors_and_smaller_with_two_vote_errors():
    assert kelly_bet(0.05, 0, 0) == pytest.approx(1.99)
    assert kelly_bet(0.05, 0.001, 0.01) < kelly_bet(0.05, 0.001, 0.0001) <= 1.99


def test_a_tied_assertion_is_never_confirmed():
    tie = pair(500, 500)
    for fn in (BallotPollingBravo(), KaplanMarkov(), Alpha()):
        assert fn.risk(tie, np.full(1000, -2, np.int8), [1000]) == [1.0]
