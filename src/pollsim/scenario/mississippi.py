"""Mississippi's real numbers: counties, registered voters, equipment, and the 2020 presidential count.

The bundled files (``pollsim/data``, sources in ``pollsim/data/SOURCES.md``) give, per county, the
certified 2020 presidential totals (OpenElections county file = certified results), EAVS 2020
registration, the equipment in use in 2020 and in 2025, and the precinct-level 2020 returns.

**The replay rule.** The certified county totals are authoritative (§23-15-603: certified county
vote totals are the final results). The precinct file gives the split within each county but does
not add up to the county totals everywhere (Hinds is 1,397 short; Amite and Coahoma are over). So
each county's certified Trump and Biden totals, and its other-candidates total (certified total
minus the two), are apportioned to its precincts in proportion to the precinct file by the
largest-remainder method (Hamilton's method: floor of each exact quota, then the leftover votes
one each to the largest remainders, ties to the earlier precinct in file order). The
other-candidates total is first split among the seven minor candidates in proportion to their
county sums in the precinct file, and each minor candidate's share is then apportioned to the
precincts the same way. The statewide result is then exactly the certified 1,313,759 votes
(Trump 756,764; Biden 539,398).

**The split as it happened** (:func:`president_2020_split`, used when the scenario models absentee
voting). Each county's certified total is first split into election-day, absentee (mail and in
person at the clerk's office) and UOCAVA ballots in the county's EAC EAVS 2020 proportions (F1b,
F1d, F1c) by the largest remainder, so each group is within one ballot of its EAVS share; the
absentee group is then taken from the candidates in proportion to their county votes (largest
remainder), the UOCAVA group from what is left, and election day keeps the rest, so every
candidate's three groups add up to the certified county vote. Each group of each candidate is
apportioned to the precincts by that candidate's precinct-file votes, as above.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

TRUMP, BIDEN = "Donald J. Trump", "Joseph R. Biden"


def _rows(name: str) -> list[dict[str, str]]:
    with io.TextIOWrapper(resources.files("pollsim.data").joinpath(name).open("rb"), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class County:
    name: str
    fips: str
    precincts_2020: int
    precincts_2024: int
    registered: int  # EAVS 2020 A1a (active + inactive)
    registered_inactive: int
    votes_2020: int
    trump_2020: int
    biden_2020: int
    election_day_2020: int  # EAVS F1b: voted at a physical polling place
    mail_absentee_2020: int  # EAVS F1d: mail and in-person absentee (clerk's office)
    uocava_2020: int  # EAVS F1c
    votes_2024: int
    trump_2024: int
    harris_2024: int
    equipment_2020: str
    pollbook_2020: str
    scanner_2025: str
    bmd_2025: str
    pollbook_2025: str
    absentee_equipment_2020: str = ""
    central_scanner_2025: str = ""

    @property
    def eavs_weights(self) -> tuple[int, int, int]:
        """(election day, absentee, UOCAVA) ballots of EAVS 2020: the proportions the replay splits by."""
        return (self.election_day_2020, self.mail_absentee_2020, self.uocava_2020)

    def absentee_scanner(self, equipment: int) -> str:
        """The county's absentee counting equipment: ``hand-fed`` or ``central`` (batch-fed), by generation."""
        if equipment == 2020:
            return "central" if "Batch-Fed" in self.absentee_equipment_2020 else "hand-fed"
        return "central" if self.central_scanner_2025 else "hand-fed"

    @property
    def dre_in_2020(self) -> bool:
        """AccuVote TSx DREs at the polling places in 2020 (Verified Voting 2020)."""
        return "DRE" in self.equipment_2020


@cache
def counties() -> tuple[County, ...]:
    """The 82 counties, in file (alphabetical) order."""
    sup = {r["county"]: r for r in _rows("ms_county_supplement.csv")}
    eq = {r["county"]: r for r in _rows("ms_county_equipment.csv")}
    out = []
    for r in _rows("ms_counties.csv"):
        s, e = sup[r["county"]], eq[r["county"]]
        out.append(
            County(
                name=r["county"], fips=r["fips"], precincts_2020=int(r["precincts"]), precincts_2024=int(s["precincts_2024"]),
                registered=int(r["registered_voters"]), registered_inactive=int(s["registered_inactive_2020"]),
                votes_2020=int(r["votes_2020_total"]), trump_2020=int(r["trump_2020"]), biden_2020=int(r["biden_2020"]),
                election_day_2020=int(s["eavs_election_day_2020"]), mail_absentee_2020=int(s["eavs_mail_absentee_2020"]),
                uocava_2020=int(s["eavs_uocava_2020"]), votes_2024=int(s["votes_2024_total"]),
                trump_2024=int(s["trump_2024"]), harris_2024=int(s["harris_2024"]),
                equipment_2020=e["polling_place_equipment_2020"], pollbook_2020=e["pollbook_2020"],
                scanner_2025=e["precinct_scanner_2025"], bmd_2025=e["bmd_2025"], pollbook_2025=e["pollbook_2025"],
                absentee_equipment_2020=e["absentee_equipment_2020"], central_scanner_2025=e["central_scanner_2025"],
            )
        )  # fmt: skip
    return tuple(out)


def largest_remainder(total: int, weights) -> np.ndarray:
    """Split ``total`` whole votes in proportion to ``weights`` (Hamilton's method), exactly.

    Each share gets the floor of its quota; the votes left over go one each to the largest
    remainders, ties to the earlier position. All-zero weights split as evenly as possible.
    """
    w = np.asarray(weights, dtype=np.int64)
    if total < 0 or (w < 0).any():
        raise ValueError("votes and weights must not be negative")
    if len(w) == 0:
        if total:
            raise ValueError("cannot apportion votes to nothing")
        return w
    if w.sum() == 0:
        w = np.ones_like(w)
    num = total * w  # exact integer quotas: num / w.sum()
    base = num // w.sum()
    rem = num - base * w.sum()
    left = total - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -rem))  # largest remainder first, then file order
    base[order[:left]] += 1
    return base


@dataclass(frozen=True)
class PrecinctReturns:
    """One precinct's replayed 2020 presidential votes."""

    county: str
    precinct: str
    votes: dict[str, int]  # candidate -> votes (certified county totals apportioned)

    @property
    def total(self) -> int:
        return sum(self.votes.values())


@cache
def president_2020_candidates() -> tuple[str, ...]:
    """The 9 candidates, Trump and Biden first, the others in order of their statewide file votes."""
    tot: dict[str, int] = {}
    for r in _rows("ms_precincts_2020_president.csv"):
        tot[r["candidate"]] = tot.get(r["candidate"], 0) + int(r["votes"])
    minors = sorted((c for c in tot if c not in (TRUMP, BIDEN)), key=lambda c: (-tot[c], c))
    return (TRUMP, BIDEN, *minors)


def _file_votes() -> dict[str, dict[str, dict[str, int]]]:
    file: dict[str, dict[str, dict[str, int]]] = {}
    for r in _rows("ms_precincts_2020_president.csv"):
        file.setdefault(r["county"], {}).setdefault(r["precinct"], {})[r["candidate"]] = int(r["votes"])
    return file


def _county_votes(county: County, votes: dict[str, np.ndarray]) -> np.ndarray:
    """The county's certified votes per candidate (in :func:`president_2020_candidates` order): Trump and
    Biden as certified, the other-candidates total split among the minors by their precinct-file sums."""
    cands = president_2020_candidates()
    other = county.votes_2020 - county.trump_2020 - county.biden_2020
    minors = largest_remainder(other, [votes[c].sum() for c in cands[2:]])
    return np.array([county.trump_2020, county.biden_2020, *minors.tolist()], np.int64)


def split_groups(votes: np.ndarray, weights: tuple[int, int, int]) -> np.ndarray:
    """``int64[3, k]``: a county's votes per candidate split into (election day, absentee, UOCAVA) groups.

    The group totals are the largest-remainder split of the county total by ``weights``; the
    absentee group is taken from the candidates by their votes, the UOCAVA group from what is
    left, election day keeps the rest (see the module docstring).
    """
    votes = np.asarray(votes, np.int64)
    totals = largest_remainder(int(votes.sum()), weights)
    absentee = largest_remainder(int(totals[1]), votes)
    uocava = largest_remainder(int(totals[2]), votes - absentee)
    return np.stack([votes - absentee - uocava, absentee, uocava])


def _apportioned(split: bool) -> list[tuple[str, str, list[dict[str, int]]]]:
    cands = president_2020_candidates()
    file = _file_votes()
    out = []
    for county in counties():
        precincts = list(file[county.name])
        votes = {c: np.array([file[county.name][p].get(c, 0) for p in precincts]) for c in cands}
        total = _county_votes(county, votes)
        groups = split_groups(total, county.eavs_weights) if split else total[None, :]
        shares = [[largest_remainder(int(g[k]), votes[c]) for k, c in enumerate(cands)] for g in groups]
        for i, p in enumerate(precincts):
            out.append((county.name, p, [{c: int(sh[k][i]) for k, c in enumerate(cands)} for sh in shares]))
    return out


@cache
def president_2020_by_precinct() -> tuple[PrecinctReturns, ...]:
    """Every precinct's replayed 2020 presidential votes (see the module docstring)."""
    return tuple(PrecinctReturns(county, p, groups[0]) for county, p, groups in _apportioned(split=False))


@dataclass(frozen=True)
class PrecinctSplit:
    """One precinct's replayed 2020 presidential votes by group (election day, absentee, UOCAVA)."""

    county: str
    precinct: str
    election_day: dict[str, int]
    absentee: dict[str, int]
    uocava: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.election_day.values()) + sum(self.absentee.values()) + sum(self.uocava.values())


@cache
def president_2020_split() -> tuple[PrecinctSplit, ...]:
    """Every precinct's replayed 2020 votes split as EAVS 2020 reports the county's ballots (module docstring)."""
    return tuple(PrecinctSplit(county, p, *groups) for county, p, groups in _apportioned(split=True))
