"""The run directory's layout: which files there are, and what goes in each (the contents).

A run directory is what ``pollsim run`` leaves for people and for the later stages:

- ``summary.json``: the run at a glance (:func:`summary`), with ``format_version`` and ``files``
  (the SHA-256 of every other file the run wrote; tapes and forms as one digest per folder);
- ``precincts.csv``: one row per precinct: ballot accounting, waits, last voter out;
- ``ballots.npz``: the three layers of every regular ballot (``intent``, ``paper``, ``cvr``:
  ``uint8[n, width]``, columns named in ``columns``), with ``precinct`` (``int32`` index into
  ``precinct_ids``), ``device`` (index into the precinct's devices) and ``voter`` (row of that
  precinct's voters), and the sealed ``affidavit`` ballots with ``affidavit_precinct``;
- ``voters.npz``: the per-voter timings (``VOTER_DTYPE`` fields as arrays) and ``precinct``;
- ``devices.csv``: one row per device: precinct, device index (as in ``ballots.npz``), id, kind,
  counters, log length and the hash of its last log entry;
- ``eventlog.npz``: every device's event log as arrays, one row per entry in log order per
  device: ``precinct``, ``device`` (row of ``device_ids``), ``sequence``, ``time``, ``type`` and
  ``disposition`` (indexes into ``types``/``dispositions``), ``details`` (index into
  ``details_text``);
- ``tapes/PRECINCT/DEVICE-zero.txt`` and ``-results.txt``; ``procedures.csv``;
  ``forms/PRECINCT-ballot-accounting.txt`` (the §23-15-615 totals on the form);
- with election night: ``reporting.csv`` (each publication of unofficial results, with the
  precincts the live §23-15-615 reconciliation has flagged by then) and summary.json's
  ``reporting`` section.

Derived products, written later into the same directory, each recording the ``run_sha256`` (the
SHA-256 of ``summary.json``, which holds every other file's hash) of the run they were made from:
``reconciliation.csv``/``.json`` (``pollsim reconcile``), ``audit/`` (``pollsim audit``),
``report.html`` and ``plots/`` (``pollsim report``).

Same scenario and seed give byte-identical files: JSON keys in a fixed order, no wall-clock time
anywhere, npz archives with fixed zip timestamps.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pollsim import __version__
from pollsim.files import csv_text  # noqa: F401 - the run directory's one CSV dialect, used by its writers
from pollsim.tabulate import tally_dict

if TYPE_CHECKING:  # the records this module lays out; importing them here would pull in every stage
    from pollsim.election.definition import Election
    from pollsim.night import NightResult
    from pollsim.precinct import PrecinctResult
    from pollsim.precinct.election_day import ElectionDayRun

FORMAT_VERSION = 2
"""Version of the run directory's layout; 1 (no ``format_version`` key) was pollsim 0.1's."""

SUMMARY = "summary.json"
DAY_FILES = ("election.json", "ballots.npz", "voters.npz", "precincts.csv", "devices.csv", "eventlog.npz", "procedures.csv")
"""Files every run has (besides summary.json)."""
NIGHT_FILES = ("reporting.csv",)
FOLDERS = ("tapes", "forms")
"""Folders whose files are hashed together, one digest per folder."""
DERIVED = ("reconciliation.csv", "reconciliation.json", "audit", "report.html", "plots")
"""Products the later verbs write into a run directory."""

PRECINCT_COLUMNS = [
    "precinct", "county", "equipment", "registered_voters", "voters_arrived", "ballots_cast",
    "affidavit_ballots", "pollbook_marked_voted", "receipt_book_signatures", "ballots_received",
    "paper_ballots_voted", "paper_ballots_unused", "paper_ballots_spoiled", "bmd_cards_cast",
    "electronic_ballots_cast", "total_ballots_cast", "wait_mean", "wait_p95", "wait_max", "last_voter_out",
]  # fmt: skip
DEVICE_COLUMNS = ["precinct", "index", "device_id", "kind", "public_count", "protective_count", "log_entries", "log_head"]
REPORTING_COLUMNS = ["time", "share_of_precincts", "share_of_ballots", "precincts_flagged"]
VOTER_FIELDS = ("arrival", "checkin_start", "checkin_end", "vote_start", "vote_end", "exit", "wait", "checkin_station")


def digest_of(files: dict[str, str]) -> str:
    """One SHA-256 for a folder's files (relative POSIX path -> file SHA-256): over
    ``relative path NUL file SHA-256 LF``, sorted by path."""
    return hashlib.sha256("".join(f"{name}\0{files[name]}\n" for name in sorted(files)).encode()).hexdigest()


def folder_digest(folder: Path) -> str:
    """:func:`digest_of` the files in ``folder`` as they are on disk."""
    return digest_of({p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()})


def hhmm(t: float) -> str:
    """A clock time (minutes after midnight) as HH:MM: the minute the clock shows at that moment.

    The run directory's one convention for times of day (docs/reference.md, "Conventions"): the
    time to the nearest second with the seconds dropped, so HH:MM is the start of the HH:MM:SS a
    device prints on its tapes for the same moment (19:43:42 -> 19:43). Past midnight the clock
    runs on (01:10 the next morning is 25:10), so times sort as text. "" for NaN.
    """
    if t != t:
        return ""
    s = int(round(t * 60))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def hhmm_floor(t: float) -> str:
    """The same clock as :func:`hhmm` (one convention for every time in the run directory)."""
    return hhmm(t)


def wait_stats(waits: np.ndarray) -> dict[str, float]:
    """mean, p50, p95 and max of the (finite) waits, rounded to 3 decimals: summary.json's ``wait_minutes``."""
    waits = waits[np.isfinite(waits)]
    if len(waits) == 0:
        return {"mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    p50, p95 = np.percentile(waits, [50, 95])  # one partition for both (the same values as two calls)
    return {
        "mean": round(float(waits.mean()), 3),
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "max": round(float(waits.max()), 3),
    }


def summary(run: ElectionDayRun, layers: dict[str, np.ndarray] | None = None, waits: np.ndarray | None = None) -> dict:
    """The run's summary: the keys of summary.json, in a fixed order (``files`` is added last by the writer).

    ``waits``: every voter's wait in precinct order (default: from the precincts' voters; a
    streamed day's writer reads them back from its spool)."""
    layers = layers if layers is not None else run.layers()
    waits = waits if waits is not None else np.concatenate([p.voters["wait"] for p in run.precincts])
    last = max(p.last_voter_out for p in run.precincts)
    acc = [p.accounting for p in run.precincts]
    return {
        "scenario": run.scenario.scenario,
        "seed": run.seed,
        "pollsim_version": __version__,
        "format_version": FORMAT_VERSION,
        "election": {"id": run.election.id, "definition_sha256": run.election.definition_hash},
        "precincts": len(run.precincts),
        "polls": {"open": run.scenario.polls.open, "close": run.scenario.polls.close},
        "voters": int(sum(a.voters_arrived for a in acc)),
        "ballots_cast": int(sum(a.regular_ballots_cast for a in acc)),
        "affidavit_ballots": int(sum(a.affidavit_ballots for a in acc)),
        "spoiled_ballots": int(sum(a.paper_ballots_spoiled for a in acc)),
        "wait_minutes": wait_stats(waits),
        "last_voter_out": hhmm(last),
        "tally": tally_dict(run.election, layers["cvr"]),
        "paper_tally": tally_dict(run.election, layers["paper"]),
        "incidents": [incident_entry(p.precinct, inc) for p in run.precincts for inc in p.incidents],
        **({"description": run.scenario.description} if run.scenario.description else {}),
        **({"notice": list(run.scenario.notice)} if run.scenario.notice else {}),
        **({"lost_voters": _lost(run)} if run.scenario.giving_up.enabled else {}),
        **({"staffing": _staffing(run)} if run.scenario.staff is not None else {}),
    }


def _staffing(run: ElectionDayRun) -> dict:
    """The poll managers (scenario ``staff``): §23-15-239 compliance, pay, polls opened late, stations closed."""
    from pollsim.staff import check_staff

    day = {p.precinct: {"opened": hhmm(p.staffing["opened"]), "late_minutes": round(p.staffing["late_minutes"], 1),
                        "stations_closed": [{**c, "closed_from": hhmm(c["closed_from"]), "open_at": hhmm(c["open_at"])} for c in p.staffing["closures"]]}
           for p in run.precincts if p.staffing and (p.staffing["late_minutes"] > 0 or p.staffing["closures"])}  # fmt: skip
    return {**check_staff(run.scenario).to_dict(), "day": day}


def _lost(run: ElectionDayRun) -> dict:
    """Voters who gave up on the check-in line (scenario ``giving_up``), per precinct and hour."""
    from pollsim.precinct.giving_up import lost_voters

    return lost_voters(run.precincts)


def incident_entry(precinct: str, inc: dict) -> dict:
    """An incident as summary.json keeps it: its times on the run's clock (:func:`hhmm`) and the
    minutes the unit was out of service (one decimal)."""
    out, back = float(inc["out_from"]), float(inc["back_at"])
    return {"precinct": precinct, **inc, "out_from": hhmm(out), "back_at": hhmm(back), "minutes_out": round(back - out, 1)}


def precinct_rows(run: ElectionDayRun) -> list[list]:
    """precincts.csv's rows; ``total_ballots_cast`` is the form's (f): the regular ballots cast
    (absentee ballots are not cast at the polls); affidavit ballots are their own column."""
    rows = []
    for p in run.precincts:
        a, w = p.accounting, p.streamed.wait if p.streamed is not None else wait_stats(p.voters["wait"])
        rows.append([
            p.precinct, p.county, p.kind, p.registered_voters, a.voters_arrived, a.regular_ballots_cast,
            a.affidavit_ballots, a.pollbook_marked_voted, a.receipt_book_signatures, a.ballots_received,
            a.paper_ballots_voted, a.paper_ballots_unused, a.paper_ballots_spoiled, a.bmd_cards_cast,
            a.electronic_ballots_cast, a.regular_ballots_cast, w["mean"], w["p95"], w["max"], hhmm(p.last_voter_out),
        ])  # fmt: skip
    return rows


def device_rows(run: ElectionDayRun) -> list[list]:
    return [
        [p.precinct, k, d.device_id, d.kind, d.public_count, d.protective_count, d.log_entries, d.log_head]
        for p in run.precincts
        for k, d in enumerate(p.devices)
    ]


class EventLogTables:
    """The code tables of ``eventlog.npz`` (types, dispositions, details, device ids), built device
    log by device log in scenario order: :meth:`codes` gives a log's coded columns."""

    COLUMNS = ("precinct", "device", "sequence", "time", "type", "disposition", "details")
    CODED = ("device", "type", "disposition", "details")
    """The columns :meth:`codes` gives; the others are the log's own (``EventLog.columns``)."""

    def __init__(self) -> None:
        self.codes_of: dict[str, dict[str, int]] = {"types": {}, "dispositions": {}, "details_text": {"": 0}}
        self.device_ids: list[str] = []
        self._coded: dict[tuple[str, str, str], tuple[int, int, int]] = {}  # kind -> its three codes

    def _code(self, k: tuple[str, str, str]) -> tuple[int, int, int]:
        t, d, x = (self.codes_of[name] for name in ("types", "dispositions", "details_text"))
        out = self._coded[k] = (t.setdefault(k[0], len(t)), d.setdefault(k[1], len(d)), x.setdefault(k[2], len(x)))
        return out

    def codes(self, device: str, kind: np.ndarray, kinds: list[tuple[str, str, str]]) -> dict[str, np.ndarray]:
        """:attr:`CODED` for the next device log (``PRECINCT/DEVICE``; ``kind``/``kinds`` as
        ``EventLog.columns`` gives them: kinds in order of first appearance, so each table grows
        in order of first appearance too)."""
        out = {"device": np.full(len(kind), len(self.device_ids), np.int32)}
        self.device_ids.append(device)
        coded = self._coded
        table = np.array([coded.get(k) or self._code(k) for k in kinds], np.int32).reshape(-1, 3)
        for j, name in enumerate(("type", "disposition", "details")):
            out[name] = table[:, j][kind]
        return out

    def tables(self) -> dict[str, np.ndarray]:
        return {"device_ids": np.array(self.device_ids), **{name: np.array(list(table)) for name, table in self.codes_of.items()}}


def ballot_columns(election: Election) -> np.ndarray:
    """The ``columns`` of ``ballots.npz`` and ``absentee.npz``: ``CONTEST/CHOICE`` per column."""
    return np.array([f"{c.contest}/{c.choice}" for c in election.columns])


def voter_columns(pi: int, p: PrecinctResult) -> dict[str, np.ndarray]:
    """The rows precinct ``p`` (at ``pi``) adds to each array of ``voters.npz``."""
    return {**{name: p.voters[name] for name in p.voters.dtype.names or ()}, "precinct": np.full(len(p.voters), pi, np.int32)}


def reporting(night: NightResult) -> dict:
    """The ``reporting`` section of summary.json: when the unofficial results reached 50/90/100 %."""
    at = {f"{int(s * 100)}%": (hhmm(t) if (t := night.ballots_reported_by(s)) is not None else None) for s in (0.5, 0.9, 1.0)}
    return {
        "ballots_reported_at": at,
        "counted_ballots": night.counted_ballots,
        "total_ballots": night.total_ballots,
        "missing_precincts": night.missing_precincts,
        "incidents": [{**i, "time": hhmm(i["time"])} for i in night.incidents],
    }


def reporting_csv(night: NightResult, flagged: np.ndarray) -> str:
    """The publication timeline, with the §23-15-615 flags among the precincts reported so far
    (``flagged``: one count per publication, from :func:`pollsim.reconcile.flags_at_publications`)."""
    rows = [[hhmm(t), f"{p:.6f}", f"{b:.6f}", int(f)] for (t, p, b), f in zip(night.publications.tolist(), flagged.tolist(), strict=True)]
    return csv_text(REPORTING_COLUMNS, rows)
