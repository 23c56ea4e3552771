"""The bundled Mississippi data and the 2020 replay reproduce the certified results exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pollsim.scenario.mississippi import BIDEN, TRUMP, counties, largest_remainder, president_2020_by_precinct


def test_the_bundled_counties_match_the_published_statewide_figures():
    cs = counties()
    assert len(cs) == 82
    assert sum(c.precincts_2020 for c in cs) == 1765
    assert sum(c.registered for c in cs) == 2_143_149  # EAVS 2020
    assert (sum(c.votes_2020 for c in cs), sum(c.trump_2020 for c in cs), sum(c.biden_2020 for c in cs)) == (1_313_759, 756_764, 539_398)


def test_replayed_precincts_add_up_to_the_certified_totals_statewide_and_per_county():
    returns = president_2020_by_precinct()
    assert len(returns) == 1765
    assert sum(r.total for r in returns) == 1_313_759
    assert sum(r.votes[TRUMP] for r in returns) == 756_764
    assert sum(r.votes[BIDEN] for r in returns) == 539_398
    for c in counties():
        mine = [r for r in returns if r.county == c.name]
        assert len(mine) == c.precincts_2020
        assert sum(r.total for r in mine) == c.votes_2020
        assert sum(r.votes[TRUMP] for r in mine) == c.trump_2020


def test_hinds_gains_its_missing_votes_in_proportion():
    hinds = [r for r in president_2020_by_precinct() if r.county == "Hinds"]
    county = next(c for c in counties() if c.name == "Hinds")
    assert sum(r.total for r in hinds) == county.votes_2020  # the precinct file is 1,397 short


def test_largest_remainder_textbook_example():
    # Hamilton's method: 10 seats, populations 6 / 3 / 1 -> quotas 6.0 / 3.0 / 1.0
    assert largest_remainder(10, [6, 3, 1]).tolist() == [6, 3, 1]
    # quotas 3.5 / 3.5 / 3.0 for 10 -> floors 3, 3, 3 and one left: tie goes to the earlier one
    assert largest_remainder(10, [35, 35, 30]).tolist() == [4, 3, 3]
    assert largest_remainder(5, [0, 0]).tolist() == [3, 2]


@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_largest_remainder_is_exact_and_within_one_of_the_quota(total, weights):
    out = largest_remainder(total, weights)
    assert out.sum() == total and (out >= 0).all()
    w = np.array(weights, float) if sum(weights) else np.ones(len(weights))
    assert (np.abs(out - total * w / w.sum()) < 1 + 1e-9).all()
