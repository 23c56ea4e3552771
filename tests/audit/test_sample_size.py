"""Sample sizes: the published BRAVO and super-simple figures, and Monte Carlo quantiles."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal

import numpy as np
import pytest

from pollsim.audit.errors import AuditError
from pollsim.audit.sample_size import arlo_size, bravo_asn, nmin, rlacalc_size, sample_size, super_simple


@pytest.mark.parametrize("margin, asn", [(0.20, 119), (0.10, 470), (0.02, 11_562)])
def test_bravo_average_sample_number_matches_lindeman_stark_yates(margin, asn):
    assert sample_size("bravo", margin, 0.10)["sample_size"] == asn


def test_bravo_asn_before_rounding_up_at_a_ten_percent_margin_is_469_26():
    assert bravo_asn(0.55, 0.45, 0.10) == pytest.approx(469.26, abs=0.005)


@pytest.mark.parametrize("margin, n", [(0.05, 96), (0.10, 48)])
def test_super_simple_without_overstatements_matches_starks_paper(margin, n):
    assert sample_size("super-simple", margin, 0.10, o1=0, o2=0)["sample_size"] == n
    assert sample_size("kaplan-markov", margin, 0.10, o1=0, o2=0)["sample_size"] == n


def test_expected_overstatements_enlarge_the_super_simple_sample():
    assert super_simple(0.05, 0.10, o1=0.001, o2=0.0001) > super_simple(0.05, 0.10, o1=0, o2=0)
    assert sample_size("km", 0.05, 0.10, formula="super-simple")["sample_size"] == 100  # the default planning rates


def test_a_sample_larger_than_the_ballots_is_a_full_hand_count():
    assert sample_size("bravo", 0.02, 0.10, ballots=5000)["sample_size"] == 5000


def test_error_rates_that_eat_the_margin_leave_only_a_full_count():
    with pytest.raises(AuditError, match="full hand count"):
        sample_size("km", 0.001, 0.10, o1=0.01, o2=0.01)


@pytest.mark.parametrize("method", ["bravo", "kaplan-markov", "alpha"])
def test_simulated_quantiles_bracket_the_closed_form(method):
    r = sample_size(method, 0.10, 0.10, simulate=True, seed=1, trials=1000)
    q = r["quantiles"]
    assert set(q) == {"50", "90", "99"} and q["50"] <= q["90"] <= q["99"]
    assert q["50"] <= 1.2 * r["sample_size"] <= 1.2 * q["99"]


def test_without_simulation_there_are_no_quantiles():
    assert sample_size("alpha", 0.05, 0.05) == {"sample_size": sample_size("alpha", 0.05, 0.05)["sample_size"], "quantiles": {}}


# -- comparison sample sizes as Arlo and rlacalc compute them (issue 16, item 4) ---------------

# Arlo's server/tests/audit_math/test_supersimple.py, `true_sample_sizes` ("From Stark's tool"),
# alpha = 10 %, default rates o1 = u1 = 0.001, o2 = u2 = 0.0001: diluted margin -> size.
ARLO_TABLE = [(0.2, 27), (0.1, 54), (0.15, 36), (2 / 15, 40), (1.0, 6), (0.4, 14)]


@pytest.mark.parametrize("margin, n", ARLO_TABLE)
@pytest.mark.parametrize("formula", ["arlo", "rlacalc"])
def test_comparison_sizes_match_arlos_published_table(formula, margin, n):
    assert sample_size("kaplan-markov", margin, 0.10, formula=formula)["sample_size"] == n


@pytest.mark.parametrize("margin, alpha, anchors, ours_before", [(0.01, 0.05, 678, 783), (0.10, 0.10, 54, 49)])
def test_the_issues_published_cases_and_the_old_formula_kept_as_an_option(margin, alpha, anchors, ours_before):
    assert sample_size("km", margin, alpha)["sample_size"] == anchors  # Arlo is the default
    assert sample_size("km", margin, alpha, formula="rlacalc")["sample_size"] == anchors
    assert sample_size("km", margin, alpha, formula="super-simple")["sample_size"] == ours_before


# rlacalc.py doctests (N. McBurnett, MIT licence), counts of discrepancies, gamma 1.03905
@pytest.mark.parametrize(
    "kw, n",
    [
        (dict(margin=0.2), 24), (dict(margin=0.1), 48), (dict(margin=0.002), 2393), (dict(margin=0.05, o1=1), 123),
        (dict(margin=0.005, o1=1, u1=1), 1067), (dict(margin=0.05), 96), (dict(margin=0.05, risk_limit=0.2), 67),
    ],
)  # fmt: skip
def test_nmin_matches_rlacalcs_doctests(kw, n):
    kw = {"risk_limit": 0.1, **kw}
    assert nmin(**kw) == n


NH_2016 = (354040 - 337589) / (354040 + 337589 + 33234)  # rlacalc's New Hampshire 2016 margin


@pytest.mark.parametrize(
    "args, kw, n",
    [
        ((0.05, 0.05, 0.001, 0, 0.001, 0), {}, 136),
        ((0.05, 0.05, 0.001, 0, 0.001, 0), {"round_up1": False}, 125),
        ((NH_2016, 0.05, 0.001, 0, 0, 0), {}, 335),
    ],
)
def test_rlacalc_expected_size_matches_its_doctests(args, kw, n):
    assert rlacalc_size(*args, **kw) == n


def test_kaplan_markov_p_value_matches_rlacalcs_doctest():
    from pollsim.audit.contest import Assertion
    from pollsim.audit.risk import KaplanMarkov

    a = Assertion("c", "w", "l", 0, 1, 354040, 337589, 354040 + 337589 + 33234)
    classes = np.zeros(200, np.int8)
    classes[0] = 1  # one 1-vote overstatement among 200 draws: KM_P_value(200, 1.03905, NH, 1) = 0.21438...
    assert KaplanMarkov().risk(a, classes, [200])[0] == pytest.approx(0.21438135077031842, rel=1e-12)


def arlo_reference(margin: float, alpha: float) -> int:
    """A transcription of Arlo's supersimple.get_sample_sizes (no sample yet) and nMin, in
    Decimal arithmetic as Arlo computes them, independent of pollsim's float implementation."""
    g, o1, o2, u1, u2 = Decimal(1.03905), Decimal(0.001), Decimal(0.0001), Decimal(0.001), Decimal(0.0001)
    a, dm = Decimal(alpha), Decimal(margin)
    denom = (1 - dm / (2 * g)).ln() - o1 * (1 - 1 / (2 * g)).ln() - o2 * (1 - 1 / g).ln() - u1 * (1 + 1 / (2 * g)).ln() - u2 * (1 + 1 / g).ln()
    n0 = math.ceil(a.ln() / denom)
    r1, s1 = (o1 * n0).quantize(Decimal(1), ROUND_CEILING), (u1 * n0).quantize(Decimal(1), ROUND_CEILING)
    n = math.ceil(-2 * g * (a.ln() + r1 * (1 - 1 / (2 * g)).ln() + o2 * (1 - 1 / g).ln() + s1 * (1 + 1 / (2 * g)).ln() + u2 * (1 + 1 / g).ln()) / dm)
    return int(max(r1 + o2 + s1 + u2, n))


def test_arlo_formula_agrees_with_a_decimal_transcription_over_a_grid():
    margins = [round(0.002 + 0.0037 * i, 4) for i in range(120)] + [0.5, 0.75, 1.0]
    for alpha in (0.01, 0.05, 0.1, 0.2):
        for m in margins:
            assert arlo_size(m, alpha) == arlo_reference(m, alpha), (m, alpha)


def test_unknown_formula_is_one_line_error():
    with pytest.raises(AuditError, match="unknown sample-size formula 'x'"):
        sample_size("km", 0.05, 0.1, formula="x")
