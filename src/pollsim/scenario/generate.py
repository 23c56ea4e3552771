"""Precincts generated from the bundled Mississippi data (the ``mississippi`` scenario section).

A county's registered voters are split over its precincts in proportion to their 2020 votes
(largest remainder); in 2024 precincts, where no precinct returns are bundled, evenly. Expected
ballots per precinct: the replayed votes (replay), else registered x the county's turnout
(election-day in-person voters, EAVS 2020 F1b, over registered voters; for 2024 the county's 2024
votes over registered). Units per precinct are sized from the expected ballots. The certified
county totals replayed are those of Miss. Code §23-15-603 (see pollsim.scenario.mississippi).

With an ``absentee`` section (§§23-15-621 ff.) each county's ballots are split into election-day,
absentee and UOCAVA ballots in its EAC EAVS 2020 proportions: the replay's precincts get their
share of each group (pollsim.scenario.mississippi.president_2020_split), other precinct sets the
county's EAVS absentee and UOCAVA counts (2024: the 2024 total split in the 2020 proportions),
apportioned like the registered voters; the county's absentee equipment comes from the data.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field

from pollsim.scenario.fields import FieldProblem, Float, Ident, Strict
from pollsim.scenario.mississippi import counties, largest_remainder, president_2020_by_precinct, president_2020_split


class Mississippi(Strict):
    """Generate the precincts from the bundled Mississippi data (``pollsim/data``, see SOURCES.md).

    Each county's precincts get its registered voters (EAVS 2020) in proportion to their 2020 votes,
    its equipment (2020: AccuVote TSx DRE + VVPAT where Verified Voting lists it, otherwise paper +
    scanner; 2025: paper + precinct scanner + BMD everywhere) and its pollbook (paper or electronic).
    Unit counts are sized from the expected ballots with the ``ballots_per_*`` settings.
    """

    precincts: Literal[2020, 2024] = 2020
    """Which precinct set: the 1,765 precincts of the 2020 returns, or the 1,736 of 2024."""
    equipment: Literal[2020, 2025] = 2020
    """Which equipment generation (Verified Voting 2020, or 2025 data)."""
    replay: Literal["president-2020"] | None = None
    """Replay the certified 2020 presidential returns (2020 precincts only): each precinct's regular
    voters are its apportioned votes (pollsim.scenario.mississippi), so the statewide tally is exact."""
    contest: Ident = "president"
    """The presidential contest's id: its choices' names must be the candidates' names in the data."""
    counties: Annotated[list[str], Field(max_length=82)] = []
    """Only these counties (Census names); empty: all 82."""
    ballot_style: Ident = "statewide"
    """The ballot style every generated precinct votes."""
    ballots_per_dre: Annotated[Float, Field(ge=10.0, le=10_000.0)] = 150.0
    """Expected ballots per DRE unit: a setting, below the Forrest Co. MS 2020 rule of thumb of 200-250 a
    day without extended waits. Even 150 ballots of 4.5 min keep a unit 94 % busy over the 12-hour
    day (150 x 4.5 / 720), so lines still form at the opening and evening peaks."""
    ballots_per_pollbook_station: Annotated[Float, Field(ge=10.0, le=10_000.0)] = 350.0
    """Expected ballots per check-in station: a setting."""
    ballots_per_booth: Annotated[Float, Field(ge=10.0, le=10_000.0)] = 80.0
    """Expected ballots per marking booth (paper precincts): a setting."""
    ballots_per_scanner: Annotated[Float, Field(ge=10.0, le=10_000.0)] = 1500.0
    """Expected ballots per precinct scanner (over 2,000 a day possible, Forrest Co. MS 2020)."""


def _units(expected: float, per_unit: float, minimum: int) -> int:
    return max(minimum, math.ceil(expected / per_unit))


def _choice_ids(data: dict[str, Any], contest_id: str) -> dict[str, str]:
    """Choice name -> id of the raw (unvalidated) election contest ``contest_id``; {} when malformed."""
    election = data.get("election")
    contests = election.get("contests") if isinstance(election, dict) else None
    for c in contests if isinstance(contests, list) else []:
        if isinstance(c, dict) and c.get("id") == contest_id and isinstance(c.get("choices"), list):
            pairs = [(ch.get("name"), ch.get("id")) for ch in c["choices"] if isinstance(ch, dict)]
            return {n: i for n, i in pairs if isinstance(n, str) and isinstance(i, str)}
    return {}


def mississippi_precincts(ms: Mississippi, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``precincts`` list for a scenario dict (raw, before validation) with a valid ``mississippi`` section.

    Raises :class:`FieldProblem` (path under the scenario) for a county or replay it cannot generate.
    """
    name_to_id = _choice_ids(data, ms.contest)
    known = {c.name for c in counties()}
    for i, name in enumerate(ms.counties):
        if name not in known:
            raise FieldProblem(("mississippi", "counties", i), f"unknown county {name!r} (Census names, e.g. DeSoto)")
    wanted = set(ms.counties)
    if ms.replay and ms.precincts != 2020:
        raise FieldProblem(("mississippi", "replay"), "the replay needs the 2020 precincts (precincts: 2020)")
    split = data.get("absentee") is not None
    returns = president_2020_by_precinct()
    groups = {(r.county, r.precinct): r for r in president_2020_split()} if split else {}
    out = []
    for county in counties():
        if wanted and county.name not in wanted:
            continue
        if ms.precincts == 2020:
            mine = [r for r in returns if r.county == county.name]
            names = [r.precinct for r in mine]
            weights = [r.total for r in mine]
            turnout = county.election_day_2020 / county.registered
            trump, dem = county.trump_2020, county.biden_2020
            by_mail = (county.mail_absentee_2020, county.uocava_2020)
        else:
            mine = []
            names = [f"{county.name} precinct {k + 1}" for k in range(county.precincts_2024)]
            weights = [1] * len(names)
            ballots = largest_remainder(county.votes_2024, county.eavs_weights) if split else [county.votes_2024, 0, 0]
            turnout = min(1.0, int(ballots[0]) / county.registered)
            trump, dem = county.trump_2024, county.harris_2024
            by_mail = (int(ballots[1]), int(ballots[2]))
        registered = largest_remainder(county.registered, weights)
        absentee = largest_remainder(by_mail[0], weights)
        uocava = largest_remainder(by_mail[1], weights)
        dre = ms.equipment == 2020 and county.dre_in_2020
        pollbook = county.pollbook_2020 if ms.equipment == 2020 else county.pollbook_2025
        for k, name in enumerate(names):
            p: dict[str, Any] = {
                "id": f"{county.fips}-{k + 1:03d}",
                "name": name,
                "county": county.name,
                "ballot_style": ms.ballot_style,
                "registered_voters": int(registered[k]),
                "turnout": round(min(1.0, turnout), 6),
            }
            if ms.replay:
                missing = sorted(set(mine[k].votes) - set(name_to_id))
                if missing:
                    raise FieldProblem(("mississippi", "contest"), f"election contest {ms.contest!r} has no choice named {missing[0]!r} (needed by the replay)")
                ids = lambda votes: {name_to_id[c]: v for c, v in votes.items()}  # noqa: E731
                if split:
                    g = groups[(county.name, name)]
                    p["replay"] = {"contest": ms.contest, "votes": ids(g.election_day), "absentee_votes": ids(g.absentee), "uocava_votes": ids(g.uocava)}
                    expected = float(sum(g.election_day.values()))
                else:
                    p["replay"] = {"contest": ms.contest, "votes": ids(mine[k].votes)}
                    expected = float(mine[k].total)
                p["registered_voters"] = max(int(registered[k]), mine[k].total)
            else:
                if split:
                    p["absentee_ballots"], p["uocava_ballots"] = int(absentee[k]), int(uocava[k])
                expected = float(int(registered[k]) * turnout)
                trump_id = name_to_id.get("Donald J. Trump")
                dem_id = name_to_id.get("Joseph R. Biden" if ms.precincts == 2020 else "Kamala D. Harris")
                if trump_id and dem_id:
                    total = county.votes_2020 if ms.precincts == 2020 else county.votes_2024
                    p["shares"] = {ms.contest: {trump_id: trump / total, dem_id: dem / total}}
            eq: dict[str, Any] = {"kind": "dre" if dre else "paper", "pollbook": "paper" if pollbook == "paper" else "electronic",
                  "pollbook_stations": _units(expected, ms.ballots_per_pollbook_station, 1)}  # fmt: skip
            if dre:
                eq["dre_units"] = _units(expected, ms.ballots_per_dre, 1)
                eq["marking_booths"] = 2
            else:
                eq["marking_booths"] = _units(expected, ms.ballots_per_booth, 2)
                eq["scanners"] = _units(expected, ms.ballots_per_scanner, 1)
                eq["ballot_stock"] = int(math.ceil(max(int(registered[k]), expected) * 1.05))
            p["equipment"] = eq
            out.append(p)
    return out


def mississippi_absentee(ms: Mississippi, absentee: Any) -> Any:
    """The raw ``absentee`` section with each generated county's absentee equipment (``scanner_by_county``)
    filled in from ms_county_equipment.csv, unless the scenario gives it."""
    if not isinstance(absentee, dict) or "scanner_by_county" in absentee:
        return absentee
    wanted = set(ms.counties)
    scanners = {c.name: c.absentee_scanner(ms.equipment) for c in counties() if not wanted or c.name in wanted}
    return {**absentee, "scanner_by_county": scanners}
