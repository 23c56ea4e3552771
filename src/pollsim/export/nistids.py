"""Object identifiers shared by the NIST exports (CVR SP 1500-103 and results SP 1500-100).

NIST objects refer to each other by ``@id`` (``xsd:ID`` in the XML forms: a letter first, then
letters, digits, ``.``, ``-``, ``_``). pollsim's ids may hold spaces and start with a digit, so
each ``@id`` is a type prefix plus the pollsim id with every other character replaced by ``_``;
should two ids meet after that, the later gets ``-2``, ``-3``... Both exports use the same
identifiers, so a CVR report and a results report of one run cross-reference.

- election ``el-ID``; contests ``c-ID``; selections ``cs-CONTEST.CHOICE``; candidates
  ``cand-CONTEST.CHOICE``; parties ``party-ABBR``;
- geopolitical units ``gp-state``, ``gp-county-NAME``, ``gp-precinct-ID``; devices
  ``dev-PRECINCT.DEVICE``; each county's absentee scanner ``dev-absentee.COUNTY`` (runs with
  absentee voting or a canvass that counted affidavit ballots); the exporting system ``dev-pollsim``.
"""

from __future__ import annotations

import re
from functools import cached_property

from pollsim.rundir import RunDir

_BAD = re.compile(r"[^A-Za-z0-9._-]")

PARTY_NAMES = {
    "REP": "Republican Party",
    "DEM": "Democratic Party",
    "LIB": "Libertarian Party",
    "GRN": "Green Party",
    "CON": "Constitution Party",
    "IND": "Independent",
    "ASP": "American Solidarity Party",
    "PRO": "Prohibition Party",
    "REF": "Reform Party",
}
"""Names of the party abbreviations the bundled scenarios use; any other is named by its code."""

EXPORTER_DEVICE = "dev-pollsim"


class _Namer:
    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, prefix: str, raw: str) -> str:
        base = f"{prefix}-{_BAD.sub('_', raw)}"
        out, k = base, 1
        while out in self.used:
            k += 1
            out = f"{base}-{k}"
        self.used.add(out)
        return out


class NistIds:
    """Every ``@id`` of a run's NIST documents (see the module docstring)."""

    def __init__(self, run: RunDir):
        self.run = run
        name = _Namer()
        name.used.add(EXPORTER_DEVICE)
        el = run.election
        self.election = name("el", el.id)
        self.contest = {c.id: name("c", c.id) for c in el.contests}
        self.selection = {(c.id, ch.id): name("cs", f"{c.id}.{ch.id}") for c in el.contests for ch in c.choices}
        self.candidate = {
            (c.id, ch.id): name("cand", f"{c.id}.{ch.id}") for c in el.contests if c.kind != "measure" for ch in c.choices if not is_write_in(ch.id)
        }
        self.party = {p: name("party", p) for p in self.party_codes}
        self.state = name("gp", "state")
        self.county = {cn: name("gp-county", cn) for cn in run.counties}
        self.precinct = [name("gp-precinct", p.id) for p in run.precincts]
        self.device = {(d.precinct, d.index): name("dev", f"{run.precincts[d.precinct].id}.{d.device_id}") for d in run.devices}
        self.county_index = {c: i for i, c in enumerate(run.counties)}
        self.absentee_scanners = absentee_scanners(run)
        self.absentee_device = {c: name("dev", f"absentee.{c}") for c in self.absentee_scanners}

    @cached_property
    def party_codes(self) -> list[str]:
        return list(dict.fromkeys(ch.party for c in self.run.election.contests for ch in c.choices if ch.party))


def absentee_scanners(run: RunDir) -> dict[str, str]:
    """County -> its absentee scanner (hand-fed or central), for the counties whose absentee or
    accepted affidavit ballots a run counted; {} when it counted none."""
    if run.has_absentee:
        ix = run.absentee_index
        return {str(c): str(k) for c, k in zip(ix["county_names"], ix["scanner"], strict=True)}
    if len(run.affidavits_counted()[0]):
        return {c: "hand-fed" for c in run.counties}
    return {}


def is_write_in(choice_id: str) -> bool:
    return choice_id == "write-in"


def party_name(code: str) -> str:
    return PARTY_NAMES.get(code, code)


def vote_variation(vote_for: int) -> str:
    return "plurality" if vote_for == 1 else "n-of-m"
