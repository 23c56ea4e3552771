"""What a run made with ``pollsim run --roll ROLL --election DATE`` keeps of the roll (issue 17, item 5).

A run directory must carry what its report shows, so the roll's small tables for that election are
copied into it when the run is made (:func:`pollsim.rundir.write_run`, ``roll=``), each with its
SHA-256 in summary.json's ``files``, and the roll directory itself is named with the SHA-256 of its
``roll.json`` (which holds every other roll file's hash): the run can be traced to the roll, and the
report never opens the roll directory.

- ``roll_counts.csv``: the roll's measures (:data:`pollsim.roll.vote.METRICS`) at that election for
  each county of the scenario, and their ``total``: registrants by status, eligible people inactive
  or off the roll, deadwood by cause and age, the clerk's notices and removals, affidavit ballots by
  reason as the roll drew them;
- ``roll_policy.csv`` (when the roll was made with ``--compare``): the same measures under the earlier
  suffrage law and the 2024 bill, side by side (:mod:`pollsim.roll.policy`), same counties and total;
- summary.json's ``roll``: the roll (path, ``roll.json`` SHA-256, law, seed, scale), the election, and
  the pollbook of the scenario's precincts (active, inactive, restored, VOTED AB, and the roll's
  arrivals by :class:`~pollsim.election.roll.RollStatus`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from pollsim.election.roll import RollStatus
from pollsim.files import csv_text
from pollsim.roll.pollbook import precinct_pollbook
from pollsim.roll.store import RollDir
from pollsim.roll.vote import METRICS

COUNTS = "roll_counts.csv"
POLICY = "roll_policy.csv"
TOTAL = "total"
"""The county column's value for the sum over the scenario's counties."""


@dataclass(frozen=True)
class RollAttachment:
    """The roll's part of a run directory: ``summary`` goes to summary.json's ``roll``, ``tables`` (name -> CSV text) beside it."""

    summary: dict
    tables: dict[str, str] = field(default_factory=dict)


def _rows(rd: RollDir, name: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(rd.text(name)))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _counts_table(rd: RollDir, election: str, counties: list[str]) -> str:
    header, rows = _rows(rd, "counts.csv")
    mine = [r for r in rows if r["election"] == election and r["county"] in counties]
    mine.sort(key=lambda r: counties.index(r["county"]))
    total = [sum(int(r[m]) for r in mine) for m in METRICS]
    body: list[list[object]] = [[r[h] for h in header] for r in mine]
    return csv_text(header, [*body, [election, TOTAL, *total]])


def _policy_table(rd: RollDir, election: str, counties: list[str]) -> str:
    header, rows = _rows(rd, "policy.csv")
    mine = [r for r in rows if r["election"] == election and r["county"] in counties]
    mine.sort(key=lambda r: (counties.index(r["county"]), METRICS.index(r["measure"])))
    body: list[list[object]] = [[r[h] for h in header] for r in mine]
    for measure in METRICS:
        a = sum(int(r["pre2024"]) for r in mine if r["measure"] == measure)
        b = sum(int(r["2024"]) for r in mine if r["measure"] == measure)
        body.append([election, TOTAL, measure, a, b, b - a])
    return csv_text(header, body)


def roll_attachment(roll: RollDir | str, election: str, precinct_ids: list[str]) -> RollAttachment:
    """The roll's tables and summary for a run of ``precinct_ids`` at ``election`` (see the module docstring)."""
    rd = roll if isinstance(roll, RollDir) else RollDir(roll)
    entry, _ = rd.election(election)
    county_of = {row["id"]: row["county"] for row in rd.precincts}
    counties = list(dict.fromkeys(county_of[p] for p in precinct_ids))
    books = [precinct_pollbook(rd, election, p) for p in precinct_ids]
    has_policy = rd.has("policy.csv")
    summary = {
        "roll_dir": str(rd.path),
        "roll_json_sha256": rd.sha256(),
        "election": election,
        "label": entry.get("label", ""),
        "deadline": entry.get("deadline", ""),
        "law": rd.doc.get("law"),
        "seed": rd.doc.get("seed"),
        "scale": rd.doc.get("scale"),
        "counties": counties,
        "compared": has_policy,
        "voted_ab_source": "roll",
        "pollbook": {
            "active": sum(b.active for b in books),
            "inactive": sum(b.inactive for b in books),
            "restored": sum(b.restored for b in books),
            "voted_ab": sum(b.voted_absentee for b in books),
        },
        "roll_arrivals": {s.name.lower(): sum(b.arrivals[s.name] for b in books) for s in RollStatus},
    }
    tables = {COUNTS: _counts_table(rd, election, counties)}
    if has_policy:
        tables[POLICY] = _policy_table(rd, election, counties)
    return RollAttachment(summary, tables)


__all__ = ["COUNTS", "POLICY", "TOTAL", "RollAttachment", "roll_attachment"]
