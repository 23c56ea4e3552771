"""Sample sizes: the published BRAVO and super-simple figures, and Monte Carlo quantiles."""

from __future__ import annotations

import pytest

from pollsim.audit.errors import AuditError
from pollsim.audit.sample_size import bravo_asn, sample_size, super_simple


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
    assert sample_size("km", 0.05, 0.10)["sample_size"] == 100  # the default planning rates


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
