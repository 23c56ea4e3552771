"""Precincts generated from the bundled Mississippi data (the ``mississippi`` scenario section).

A county's registered voters are split over its precincts in proportion to their 2020 votes
(largest remainder); in 2024 precincts, where no precinct returns are bundled, evenly. Expected
ballots per precinct: the replayed votes (replay), else registered x the county's turnout
(election-day in-person voters, EAVS 2020 F1b, over registered voters; for 2024 the county's 2024
votes over registered). Units per precinct are sized from the expected ballots.
"""

from __future__ import annotations

import math

from pollsim.scenario.mississippi import counties, largest_remainder, president_2020_by_precinct


def _units(expected: float, per_unit: float, minimum: int) -> int:
    return max(minimum, math.ceil(expected / per_unit))


def mississippi_precincts(data: dict) -> list[dict]:
    """The ``precincts`` list for a scenario dict with a ``mississippi`` section (raw, before validation)."""
    from pollsim.scenario.models import Mississippi

    ms = Mississippi.model_validate(data["mississippi"])
    contest = next((c for c in data.get("election", {}).get("contests", []) if c.get("id") == ms.contest), None)
    name_to_id = {ch["name"]: ch["id"] for ch in (contest or {}).get("choices", [])}
    wanted = set(ms.counties)
    unknown = wanted - {c.name for c in counties()}
    if unknown:
        raise ValueError(f"mississippi.counties: unknown county {sorted(unknown)[0]!r}")
    if ms.replay and ms.precincts != 2020:
        raise ValueError("mississippi.replay needs the 2020 precincts")
    returns = president_2020_by_precinct()
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
        else:
            mine = []
            names = [f"{county.name} precinct {k + 1}" for k in range(county.precincts_2024)]
            weights = [1] * len(names)
            turnout = min(1.0, county.votes_2024 / county.registered)
            trump, dem = county.trump_2024, county.harris_2024
        registered = largest_remainder(county.registered, weights)
        dre = ms.equipment == 2020 and county.dre_in_2020
        pollbook = county.pollbook_2020 if ms.equipment == 2020 else county.pollbook_2025
        for k, name in enumerate(names):
            p = {
                "id": f"{county.fips}-{k + 1:03d}",
                "name": name,
                "county": county.name,
                "ballot_style": ms.ballot_style,
                "registered_voters": int(registered[k]),
                "turnout": round(min(1.0, turnout), 6),
            }
            if ms.replay:
                votes = {name_to_id[c]: v for c, v in mine[k].votes.items() if c in name_to_id}
                if len(votes) != len(mine[k].votes):
                    missing = sorted(set(mine[k].votes) - set(name_to_id))[0]
                    raise ValueError(f"election contest {ms.contest!r} has no choice named {missing!r} (needed by the replay)")
                p["replay"] = {"contest": ms.contest, "votes": votes}
                p["registered_voters"] = max(int(registered[k]), mine[k].total)
                expected = mine[k].total
            else:
                expected = int(registered[k]) * turnout
                trump_id = name_to_id.get("Donald J. Trump")
                dem_id = name_to_id.get("Joseph R. Biden" if ms.precincts == 2020 else "Kamala D. Harris")
                if trump_id and dem_id:
                    total = county.votes_2020 if ms.precincts == 2020 else county.votes_2024
                    p["shares"] = {ms.contest: {trump_id: trump / total, dem_id: dem / total}}
            eq = {"kind": "dre" if dre else "paper", "pollbook": "paper" if pollbook == "paper" else "electronic",
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
