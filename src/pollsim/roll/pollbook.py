"""A precinct's pollbook as the poll managers use it (Miss. Code §23-15-125), and its numbers for the day model.

The pollbook lists, per precinct, each voter registered by the books' closing (30 days before, or the
next business day): date of registration, voter registration number, name, date of birth, and a
column for each election of the year, marked "VOTED AB" beside a voter who was mailed or returned an
absentee ballot (law.md). Inactive voters are noted: they vote by affidavit (§23-15-152(3)).
Names are synthetic, drawn from the Census Bureau's 1990 lists of common names
(``pollsim/data/names_1990_census.csv``): for trainers' mock elections; no real person is listed.

:func:`precinct_pollbook` gives the same pollbook as numbers, :class:`PrecinctPollbook`, whose
:meth:`~PrecinctPollbook.roll_mix` is a precinct's ``roll`` section of a scenario
(:class:`pollsim.scenario.RollMix`): the shares of voters reaching the pollbook by roll status,
taken from who came to that precinct in the simulated election.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from pollsim.election.roll import RollStatus
from pollsim.files import csv_text
from pollsim.roll.calendar import iso
from pollsim.roll.store import RollDir, RollDirError
from pollsim.roll.vote import VOTED_AB, VOTED_AFFIDAVIT, VOTED_REGULAR
from pollsim.scenario.absentee_spec import Absentee
from pollsim.scenario.models import PrecinctSpec, Scenario
from pollsim.scenario.precinct_spec import RollMix

MARKS = {VOTED_REGULAR: "VOTED", VOTED_AB: "VOTED AB", VOTED_AFFIDAVIT: "AFFIDAVIT"}


@cache
def names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """First names (50 male, then 50 female) and surnames (50), in the Census lists' order."""
    text = resources.files("pollsim.data").joinpath("names_1990_census.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    first = tuple(r["name"] for r in rows if r["list"] == "male_first") + tuple(r["name"] for r in rows if r["list"] == "female_first")
    return first, tuple(r["name"] for r in rows if r["list"] == "last")


@dataclass(frozen=True)
class PrecinctPollbook:
    """One precinct's pollbook at one election, as counts."""

    precinct: str
    election: str
    active: int
    """Active voters listed (regular ballot), restored ones included."""
    inactive: int
    """Inactive voters listed (affidavit ballot only)."""
    restored: int
    """Listed voters registered again under the 2024 bill."""
    voted_absentee: int
    """Marked VOTED AB."""
    arrivals: dict[str, int]
    """Voters who came to the polls, by how the poll manager found them (RollStatus names)."""

    @property
    def registered(self) -> int:
        """The scenario's ``registered_voters``: active + inactive in the pollbook."""
        return self.active + self.inactive

    def roll_mix(self, no_photo_id: float | None = None, voted_ab: float = 0.0) -> RollMix:
        """The scenario's ``roll`` shares for this precinct; ``no_photo_id`` (not a roll matter) stays the scenario
        default; ``voted_ab``: the share of arrivals marked VOTED AB (the roll's absentee voters who come anyway)."""
        total = sum(self.arrivals.values())
        share = {k: (v / total if total else 0.0) for k, v in self.arrivals.items()}
        photo = RollMix().no_photo_id if no_photo_id is None else no_photo_id
        scale = 1.0 - photo - voted_ab
        return RollMix(inactive=share["INACTIVE"] * scale, not_on_roll=share["NOT_ON_ROLL"] * scale,
                       wrong_precinct=share["WRONG_PRECINCT"] * scale, no_photo_id=photo,
                       new_registrant=share["NEW_REGISTRANT"] * scale, restored=share["RESTORED"] * scale, voted_ab=voted_ab)  # fmt: skip


def precinct_pollbook(roll: RollDir | Path | str, election: str, precinct: str) -> PrecinctPollbook:
    """The pollbook of ``precinct`` (an id such as ``28049-012``) at ``election`` (YYYY-MM-DD), from a roll directory."""
    rd = roll if isinstance(roll, RollDir) else RollDir(roll)
    k = rd.precinct_index(precinct)
    _, a = rd.election(election)
    status = a["status"][a["precinct_start"][k] : a["precinct_start"][k + 1]]
    arrivals = {s.name: int(a["arrivals"][k, s]) for s in RollStatus}
    return PrecinctPollbook(precinct, election, int(((status & 3) == 1).sum()), int(((status & 3) == 2).sum()),
                            int(((status & 4) != 0).sum()), int(a["absentee"][k]), arrivals)  # fmt: skip


def _name(p: dict[str, np.ndarray], row: int) -> str:
    first, last = names()
    return f"{last[p['last'][row] % len(last)].upper()}, {first[p['first'][row] % len(first)].upper()} {chr(65 + int(p['middle'][row]) % 26)}."


def pollbook_rows(roll: RollDir | Path | str, election: str, precinct: str) -> tuple[list[str], list[list[str]], dict]:
    """Header and rows of the printed pollbook (alphabetical), and the election's entry."""
    rd = roll if isinstance(roll, RollDir) else RollDir(roll)
    k = rd.precinct_index(precinct)
    entry, a = rd.election(election)
    year = election[:4]
    earlier = [e for e in rd.elections if e["date"][:4] == year and e["date"] < election]
    marks_before = []
    for e in earlier:
        _, b = rd.election(e["date"])
        marks_before.append(dict(zip(b["row"].tolist(), b["voted"].tolist(), strict=True)))
    p = rd.persons
    mine = np.arange(a["precinct_start"][k], a["precinct_start"][k + 1])
    rows = a["row"][mine]
    first_rank, last_rank = (np.argsort(np.argsort(np.array(n))) for n in names())
    order = np.lexsort((p["reg_no"][rows], p["middle"][rows], first_rank[p["first"][rows] % len(first_rank)], last_rank[p["last"][rows] % len(last_rank)]))
    header = ["REG DATE", "REG NO", "NAME", "DATE OF BIRTH", *(e["date"] for e in earlier), election, "NOTE"]
    out = []
    for j in order:
        row = int(rows[j])
        status = int(a["status"][mine[j]])
        before = [MARKS.get(m.get(row, 0), "") for m in marks_before]
        now = "VOTED AB" if a["voted"][mine[j]] == VOTED_AB else ""
        note = "INACTIVE: affidavit ballot" if status & 3 == 2 else ("restored (2024 bill)" if status & 4 else "")
        out.append([iso(a["reg_date"][mine[j]]), f"{int(p['reg_no'][row]):08d}", _name(p, row), iso(p["birth"][row]), *before, now, note])
    return header, out, entry


def print_pollbook(roll: RollDir | Path | str, election: str, precinct: str, as_csv: bool = False) -> str:
    """The pollbook as text (fixed columns, a header block and a footer of totals) or CSV."""
    rd = roll if isinstance(roll, RollDir) else RollDir(roll)
    header, rows, entry = pollbook_rows(rd, election, precinct)
    if as_csv:
        return csv_text(header, rows)
    info = next(r for r in rd.precincts if r["id"] == precinct)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
    book = precinct_pollbook(rd, election, precinct)
    lines = [f"POLLBOOK (Miss. Code §23-15-125)  precinct {precinct}, {info['county']} County: {info['name']}",
             f"Election {entry['date']}: {entry['label']}. Registrations through {entry['deadline']} are listed.",
             "SYNTHETIC VOTERS FOR TRAINING: no real person is listed.", "", line(header), line(["-" * w for w in widths]),
             *(line(r) for r in rows), "",
             f"{len(rows):,} listed: {book.active:,} active ({book.restored:,} restored under the 2024 bill), "
             f"{book.inactive:,} inactive (affidavit ballot only); {book.voted_absentee:,} marked VOTED AB."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _apportion(votes: dict[str, int], total: int) -> dict[str, int]:
    """``votes`` scaled to add up to ``total`` (largest remainders; ties by choice order)."""
    have = sum(votes.values())
    if not have:
        return dict(votes)
    exact = {k: v * total / have for k, v in votes.items()}
    out = {k: int(x) for k, x in exact.items()}
    for k in sorted(votes, key=lambda k: -(exact[k] - out[k]))[: total - sum(out.values())]:
        out[k] += 1
    return out


def absentee_from_roll(spec: PrecinctSpec, book: PrecinctPollbook, stage: Absentee | None) -> dict:
    """The precinct's changes that make the roll the one source of its VOTED AB marks (docs/roll.md).

    With an absentee stage (``stage``): the accepted absentee ballots are the roll's absentee voters
    (``absentee_ballots``; a replay's absentee votes scaled to that count, the choices' proportions
    kept), so the stage's envelopes and its VOTED AB marks (:func:`pollsim.absentee.with_voted_ab`)
    start from them. Without one: the share of arrivals marked VOTED AB is the roll's absentee voters
    expected at the polls anyway (``Absentee().at_polls_returned`` of them), as the stage would set it.
    """
    n = book.voted_absentee
    if stage is not None:
        if spec.replay is not None and spec.absentee_replayed:
            return {"replay": spec.replay.model_copy(update={"absentee_votes": _apportion(spec.replay.absentee_votes, n)})}
        return {"absentee_ballots": n}
    come = Absentee().at_polls_returned * n
    day = float(sum(book.arrivals.values())) or spec.registered_voters * spec.turnout
    return {"voted_ab": come / max(1.0, day + come)}


def scenario_from_roll(scenario: Scenario, roll: RollDir | Path | str, election: str) -> Scenario:
    """``scenario`` with every precinct's pollbook taken from the roll at ``election``
    (``pollsim run --roll ROLL --election DATE``): registered voters (active + inactive listed) and
    the check-in mix (inactive, not on the roll, wrong precinct, new registrants, restored voters)
    of the voters who came to the polls, instead of the scenario's fixed shares; and the voters marked
    VOTED AB are the roll's absentee voters (:func:`absentee_from_roll`)."""
    rd = roll if isinstance(roll, RollDir) else RollDir(roll)
    known = {row["id"] for row in rd.precincts}
    precincts = []
    for spec in scenario.precincts:
        if spec.id not in known:
            raise RollDirError(rd.path, f"precinct {spec.id!r} of scenario {scenario.scenario} is not in the roll (the roll's precincts are the Mississippi generator's, e.g. 28001-001)")
        book = precinct_pollbook(rd, election, spec.id)
        update = absentee_from_roll(spec, book, scenario.absentee)
        mix = book.roll_mix(spec.roll.no_photo_id, update.pop("voted_ab", 0.0))
        precincts.append(spec.model_copy(update={"registered_voters": max(book.registered, 1), "roll": mix, **update}))
    return scenario.model_copy(update={"precincts": precincts})


__all__ = ["PrecinctPollbook", "absentee_from_roll", "names", "pollbook_rows", "precinct_pollbook", "print_pollbook", "scenario_from_roll"]
