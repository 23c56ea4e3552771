"""The population behind the roll against its sources: deaths, the clerks' sources, moves, newcomers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pollsim.roll.calendar import NEVER, day
from pollsim.roll.geography import geography
from pollsim.roll.population import MoveKind, Population, _ages
from pollsim.roll.rates import Rates, Source
from pollsim.roll.table import Roll
from pollsim.roll.table import Source as Src

FIRST, LAST = day("2017-01-01"), day("2028-12-31")


def _people(n: int, seed: int = 1, rates: Rates | None = None) -> tuple[Population, Roll]:
    pop = Population(geography(("Hinds", "Rankin", "Madison")), rates or Rates(), seed, FIRST, LAST, 1.0)
    r = Roll(n)
    r.county = (np.arange(n) % 3).astype(np.uint8)
    r.birth = (FIRST - np.round(_ages(np.random.default_rng(seed), n) * 365.25)).astype(np.int32)
    return pop, r


def test_deaths_match_mississippis_deaths_per_adult():
    # 2020: 40,204 deaths (MSDH) among about 2.28 million adults
    pop, r = _people(400_000)
    pop._deaths(r, np.full(r.n, FIRST, np.int64))
    y2020 = ((r.death >= day("2020-01-01")) & (r.death < day("2021-01-01"))).sum()
    alive = (r.death >= day("2020-01-01")).sum()
    assert abs(y2020 / alive - 40_204 / 2_280_000) < 0.0015
    old, young = r.birth < day("1940-01-01"), r.birth > day("1980-01-01")
    assert (r.death[old] < NEVER).mean() > 5 * (r.death[young] < NEVER).mean()  # deaths fall on the old


def test_each_death_source_reports_with_its_own_miss_rate_and_delay():
    pop, r = _people(300_000)
    pop._deaths(r, np.full(r.n, FIRST, np.int64))
    dead = r.death < NEVER
    never = (r.death_learned[dead] == NEVER).mean()
    assert abs(never - 0.5 * 0.1 * 0.8) < 0.006  # obituaries, DHS and coroners all miss it
    learned = dead & (r.death_learned < NEVER)
    assert (r.death_learned[learned] >= r.death[learned]).all()
    only_dhs = replace(Rates(), obituaries=Source(1.0, 1.0), coroners=Source(1.0, 1.0), dhs=Source(0.25, 45.0))
    pop, r = _people(300_000, rates=only_dhs)
    pop._deaths(r, np.full(r.n, FIRST, np.int64))
    dead = r.death < NEVER
    got = r.death_learned[dead] < NEVER
    assert abs(got.mean() - 0.75) < 0.01
    delay = (r.death_learned[dead][got] - r.death[dead][got]).astype(float)
    assert abs(delay.mean() - 45.5) < 2.0  # whole days: mean 45 plus the rounding up
    assert set(np.unique(r.death_source[dead][got])) == {Src.DHS}


def test_moves_by_kind_match_the_census_rates():
    pop, r = _people(200_000)
    r.death[:] = NEVER
    moves = pop._moves(r, np.full(r.n, FIRST, np.int64), 0)
    years = (LAST - FIRST) / 365.25
    kinds = np.bincount(moves.kind, minlength=4)
    # moves after leaving the state are dropped, so the within/between rates are per year in the state
    assert abs(kinds[MoveKind.AWAY] / r.n - (1 - np.exp(-0.025 * years))) < 0.01
    assert abs(kinds[MoveKind.WITHIN] / kinds[MoveKind.COUNTY] - 0.078 / 0.031) < 0.1
    assert (np.diff(moves.row) >= 0).all()
    same = np.diff(moves.row) == 0
    assert (np.diff(moves.date)[same] >= 0).all()  # in date order within each person
    county = moves.kind == MoveKind.COUNTY
    geo = pop.geo
    assert (geo.precinct_county[moves.dest[county]] != moves.origin[county]).all()


def test_newcomers_register_before_november_and_some_miss_the_books():
    pop = Population(geography(("Hinds",)), Rates(), 2, FIRST, LAST, 1.0)
    r = pop.newcomers()
    per_year = r.n / ((LAST - FIRST) / 365.25)
    share = geography(("Hinds",)).registered_2020.sum() / geography().registered_2020.sum()
    assert abs(per_year - (56_000 + 40_000) * 0.75 * share) < 0.1 * per_year
    general = day("2020-11-03")
    before = ((r.apply > general - 90) & (r.apply <= general - 25)).sum()
    late = ((r.apply > general - 30) & (r.apply <= general)).sum()
    assert before > 5 * late > 0
