"""Mississippi's counties and precincts as the roll sees them, from the bundled data.

Precincts are the 1,765 of the 2020 returns, with the ids the scenario generator gives them
(``FIPS-NNN``, :mod:`pollsim.scenario.generate`), so a roll's pollbook and a statewide scenario
name the same precinct alike. A county's registrants are spread over its precincts in proportion to
their 2020 presidential votes (the scenario's apportionment). County figures: EAVS 2020 registration
(A1b active, A1c inactive) and participation (F1a, F1d), and the 2024 presidential votes, all
bundled (``pollsim/data/SOURCES.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from pollsim.errors import PollsimError
from pollsim.scenario.mississippi import _rows, counties, largest_remainder, president_2020_by_precinct


@dataclass(frozen=True, eq=False)
class Geography:
    """The counties simulated (a subset of the 82, in file order) and their precincts."""

    names: tuple[str, ...]
    fips: tuple[str, ...]
    active_2020: np.ndarray  # int64 per county: EAVS A1b
    inactive_2020: np.ndarray  # int64: EAVS A1c
    participants_2020: np.ndarray  # int64: EAVS F1a
    absentee_2020: np.ndarray  # int64: EAVS F1d
    votes_2024: np.ndarray  # int64: 2024 presidential votes (OpenElections)
    precinct_ids: tuple[str, ...]
    precinct_names: tuple[str, ...]
    precinct_county: np.ndarray  # uint8: county index of each precinct
    precinct_weight: np.ndarray  # float64: share of its county's registrants

    @property
    def registered_2020(self) -> np.ndarray:
        return self.active_2020 + self.inactive_2020

    @property
    def n_counties(self) -> int:
        return len(self.names)

    def county_precincts(self, c: int) -> np.ndarray:
        return np.flatnonzero(self.precinct_county == c)


@cache
def _supplement() -> dict[str, dict[str, str]]:
    return {r["county"]: r for r in _rows("ms_county_supplement.csv")}


@cache
def geography(only: tuple[str, ...] = ()) -> Geography:
    """The counties named in ``only`` (Census names, e.g. DeSoto), or all 82."""
    known = {c.name for c in counties()}
    unknown = [n for n in only if n not in known]
    if unknown:
        raise PollsimError(f"--counties: unknown county {unknown[0]!r} (Census names, e.g. DeSoto)")
    chosen = [c for c in counties() if not only or c.name in only]
    sup = _supplement()
    returns = president_2020_by_precinct()
    ids: list[str] = []
    names: list[str] = []
    pc: list[int] = []
    weights: list[np.ndarray] = []
    for ci, county in enumerate(chosen):
        mine = [r for r in returns if r.county == county.name]
        shares = largest_remainder(county.registered, [r.total for r in mine]).astype(np.float64)
        weights.append(shares / shares.sum())
        ids += [f"{county.fips}-{k + 1:03d}" for k in range(len(mine))]
        names += [r.precinct for r in mine]
        pc += [ci] * len(mine)

    def col(key: str) -> np.ndarray:
        return np.array([int(sup[c.name][key]) for c in chosen], dtype=np.int64)

    return Geography(
        names=tuple(c.name for c in chosen), fips=tuple(c.fips for c in chosen),
        active_2020=col("registered_active_2020"), inactive_2020=col("registered_inactive_2020"),
        participants_2020=col("eavs_participants_2020"), absentee_2020=col("eavs_mail_absentee_2020"),
        votes_2024=col("votes_2024_total"), precinct_ids=tuple(ids), precinct_names=tuple(names),
        precinct_county=np.array(pc, dtype=np.uint8), precinct_weight=np.concatenate(weights),
    )  # fmt: skip


LOOKUP = 16384
"""Entries per county in the precinct lookup table: a precinct's share is kept to within 1/16384."""


@cache
def _lookup(geo: Geography) -> np.ndarray:
    """``[county, LOOKUP]`` precinct index: entry j of county c is the precinct holding quantile (j + 1/2) / LOOKUP."""
    table = np.zeros((geo.n_counties, LOOKUP), dtype=np.int16)
    q = (np.arange(LOOKUP) + 0.5) / LOOKUP
    for c in range(geo.n_counties):
        mine = geo.county_precincts(c)
        cum = np.cumsum(geo.precinct_weight[mine])
        table[c] = mine[np.minimum(np.searchsorted(cum / cum[-1], q, side="right"), len(mine) - 1)]
    return table


def pick_precincts(geo: Geography, county: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A precinct in each row's ``county``, drawn in proportion to the precincts' registrants (uniforms ``u``)."""
    k = (u * LOOKUP).astype(np.intp)
    np.minimum(k, LOOKUP - 1, out=k)
    k += np.asarray(county).astype(np.intp) * LOOKUP  # entry k of the table read as one row
    return _lookup(geo).ravel()[k]


def pick_counties(weights: np.ndarray, u: np.ndarray, other_than: np.ndarray | None = None) -> np.ndarray:
    """A county index per uniform, in proportion to ``weights`` (and never ``other_than``, if given)."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w)
    if other_than is None:
        x = u * cum[-1]
    else:  # a point on the line with the excluded county's stretch cut out
        x = u * (cum[-1] - w[other_than])
        x = np.where(x >= cum[other_than] - w[other_than], x + w[other_than], x)
    return np.minimum(np.searchsorted(cum, x, side="right"), len(w) - 1).astype(np.uint8)
