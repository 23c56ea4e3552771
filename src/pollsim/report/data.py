"""What the report reads from a run directory, gathered once through the one reader (:class:`pollsim.rundir.RunDir`).

Required (``pollsim run`` writes them all): ``summary.json``, ``precincts.csv``, ``devices.csv``,
``voters.npz``, ``ballots.npz``, ``eventlog.npz``, each checked against the SHA-256 summary.json
records for it. Optional: ``reporting.csv`` (election night ran), ``canvass.csv`` (the canvass
ran: the reporting curve to certification), ``reconciliation.json``
(``pollsim reconcile`` ran), ``audit/`` (a risk-limiting audit's package); a derived product made
from another run than this one is not shown: its section says so.

Only the columns the report reads are loaded from the npz archives, each inflated once and
shared read-only (:meth:`pollsim.rundir.RunDir.share_arrays`), so a statewide run's 1.1 million
voters load in under half a second of CPU. The paper-precinct columns (``mark_end``, ``scan_start``,
``marking_station``: when a voter left the booth and began feeding the scanner) are read when the
run has them; a run without them shows no scanner line and no booth or scanner use.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pollsim.errors import PollsimError
from pollsim.files import one_line
from pollsim.rundir import RunDir, RunDirError
from pollsim.rundir.roll_layout import roll_tables

VOTER_FIELDS = ("arrival", "checkin_start", "checkin_end", "vote_start", "vote_end", "exit", "wait", "checkin_station", "precinct")
PAPER_FIELDS = ("mark_end", "scan_start", "marking_station", "voting_station", "outcome", "need")
"""Read when voters.npz has them (runs made since pollsim records the scanner's line)."""
BALLOT_FIELDS = ("precinct", "device", "voter")
EVENT_FIELDS = ("precinct", "time", "type", "types")
"""The event log's arrays that :meth:`pollsim.rundir.RunDir.polls_times` reads."""
DEFAULT_POLLS = {"open": "07:00", "close": "19:00"}
"""Poll hours of a run whose summary.json does not record them (§23-15-541, §23-15-581)."""
SUMMARY_KEYS = ("scenario", "seed", "precincts", "voters", "ballots_cast", "affidavit_ballots", "wait_minutes", "last_voter_out", "incidents")
PRECINCT_KEYS = ("precinct", "county", "equipment", "voters_arrived", "ballots_cast", "affidavit_ballots")
DEVICE_KEYS = ("precinct", "index", "device_id", "kind", "public_count")


class ReportError(PollsimError):
    """A report that cannot be made (a bad value in a file, an unwritable folder): the message names the file."""


@dataclass
class AuditTrace:
    """A risk-limiting audit's rounds as the report shows them.

    ``rounds``: one dict per round, ``{"round", "draws", "ballots_examined", "confirmed",
    "risks": {contest: {assertion: risk}}}``; a contest's measured risk in a round is the largest
    over its assertions. ``source`` names the file read, relative to the run directory.
    """

    source: str
    risk_limit: float | None
    rounds: list[dict]
    direct_to_count: list[str] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)
    method: str = ""

    def contests(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.rounds:
            for c in r["risks"]:
                seen.setdefault(c, None)
        return list(seen)

    def contest_risk(self, contest: str) -> list[tuple[int, float]]:
        """(draws, measured risk) for each round that measured ``contest``."""
        return [(int(r["draws"]), max(r["risks"][contest].values())) for r in self.rounds if r["risks"].get(contest)]


@dataclass
class ReportData:
    """What the report reads from one run directory (see the module docstring).

    ``voters``: the :data:`VOTER_FIELDS` columns of ``voters.npz`` (and the :data:`PAPER_FIELDS`
    it has); ``ballots``: ``precinct``,
    ``device`` and ``voter`` of every regular ballot; ``polls_open`` and ``polls_closed``:
    ``float64[n_precincts]`` minutes after midnight, from the devices' event logs (when the
    precinct's devices opened, and closed after the last voter).
    """

    run_dir: Path
    run_sha256: str
    summary: dict
    precincts: list[dict]
    devices: list[dict]
    voters: dict[str, np.ndarray]
    ballots: dict[str, np.ndarray]
    polls_open: np.ndarray
    polls_closed: np.ndarray
    reporting: list[dict] | None
    reconciliation: dict | None
    reconciliation_problem: str | None  # reconciliation.json there but unreadable, or made from another run
    audit: AuditTrace | None
    audit_problem: str | None  # an audit directory that is there but could not be read
    names: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # contest id -> (title, {choice id: name})
    canvass_curve: list[dict] | None = None  # canvass.csv (a run with absentee voting and a canvass): time, date, share_of_ballots
    measured: dict = field(default_factory=dict, repr=False, compare=False)  # measures computed once for the page's several sections
    roll: dict | None = None  # a run made with --roll: summary.json's roll and its tables (pollsim.rundir.roll_layout.roll_tables)

    @property
    def n_precincts(self) -> int:
        return len(self.precincts)

    @property
    def precinct_ids(self) -> list[str]:
        return [p["precinct"] for p in self.precincts]

    @property
    def has_scanner_times(self) -> bool:
        return "scan_start" in self.voters

    def polls(self, which: str) -> float:
        """When the polls open or close (``which``), minutes after midnight, from summary.json."""
        hhmm = (self.summary.get("polls") or DEFAULT_POLLS).get(which) or DEFAULT_POLLS[which]
        h, m = str(hhmm).split(":")
        return int(h) * 60.0 + int(m)


def _audit_trace(run: RunDir) -> tuple[AuditTrace | None, str | None]:
    """The audit package under ``RUN_DIR/audit/``: ``audit.json`` (pollsim-rla-package, made from
    this run), else ``rounds.json`` (another tool's rounds: ``{"risk_limit", "rounds": [...]}`` or a
    bare list of rounds): (trace, problem)."""
    source = "audit/audit.json"
    doc, problem = run.derived(source)
    if doc is None and problem is None:
        source = "audit/rounds.json"
        doc, problem = run.derived(source, stamped=False)
    if doc is None:
        if problem is None and (run.dir / "audit").is_dir():
            problem = "audit/: no audit.json or rounds.json in it"
        return None, problem
    if isinstance(doc, list):
        doc = {"rounds": doc}
    try:
        rounds: list[dict] = []
        for r in doc["rounds"]:
            risks = {str(c): (dict(v) if isinstance(v, dict) else {str(c): v}) for c, v in r["risks"].items()}
            risks = {c: {str(a): float(x) for a, x in v.items()} for c, v in risks.items()}
            rounds.append({
                "round": int(r.get("round", len(rounds) + 1)), "draws": int(r["draws"]),
                "ballots_examined": r.get("ballots_examined"), "confirmed": [str(c) for c in r.get("confirmed", [])], "risks": risks,
            })  # fmt: skip
        limit = doc.get("risk_limit")
        method = doc.get("method", "")
        return AuditTrace(
            source=source,
            risk_limit=None if limit is None else float(limit),
            rounds=rounds,
            direct_to_count=[str(c) for c in doc.get("direct_to_count", [])],
            decisions=[d for d in doc.get("decisions", []) if isinstance(d, dict)],
            method=str(method.get("method", "")) if isinstance(method, dict) else str(method),
        ), None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, f"{source}: unreadable ({one_line(exc)})"


def _share(run: RunDir, read: Future, name: str, member: str) -> None:
    read.result()  # the archive read and hash-checked (by the task submitted before this one)
    run.share_arrays(name, (member,))


def gather(run_dir: Path) -> ReportData:
    """Read what the report shows from a run directory; a :class:`RunDirError` names the first missing or broken file."""
    run = RunDir(run_dir)
    missing = [k for k in SUMMARY_KEYS if k not in run.summary]
    if missing:
        raise RunDirError(run.dir / "summary.json", f"missing key(s) {', '.join(missing)}")
    # The archives are read and hash-checked, and each array the report shows inflated in one call
    # straight from the file's bytes (RunDir.share_arrays), on two threads (inflating and SHA-256
    # let go of the GIL) while this one parses the tables; the arrays are shared, read-only, with
    # the reader's calls below (issue 12). Errors surface in the order the files are named here.
    wanted = {"voters.npz": VOTER_FIELDS[:-1] + PAPER_FIELDS + ("precinct",), "ballots.npz": BALLOT_FIELDS, "eventlog.npz": EVENT_FIELDS}
    pool = ThreadPoolExecutor(2)
    try:
        reads = {name: pool.submit(run.read_bytes, name) for name in wanted}
        jobs = [pool.submit(_share, run, reads[name], name, m) for name, members in wanted.items() for m in members]
        precincts = run.read_csv("precincts.csv", PRECINCT_KEYS)
        devices = run.read_csv("devices.csv", DEVICE_KEYS)
        for read in reads.values():
            read.result()
        for job in jobs:
            job.result()
    finally:
        pool.shutdown(cancel_futures=True)
    with run.archive("voters.npz") as z:
        present = {name.removesuffix(".npy") for name in z.namelist()}
    fields = VOTER_FIELDS[:-1] + (PAPER_FIELDS if set(PAPER_FIELDS) <= present else ()) + ("precinct",)
    voters = run.voters(fields)
    ballots = run.load_arrays("ballots.npz", BALLOT_FIELDS)
    opened, closed = run.polls_times()
    reporting = run.read_csv("reporting.csv", ("time", "share_of_precincts", "share_of_ballots")) if run.has("reporting.csv") else None
    reconciliation, rec_problem = run.derived("reconciliation.json")
    if not isinstance(reconciliation, dict) or not isinstance(reconciliation.get("precincts"), list):
        reconciliation, rec_problem = None, rec_problem or ("reconciliation.json: missing key precincts" if reconciliation is not None else None)
    audit, problem = _audit_trace(run)
    names = {c.id: (c.title, {ch.id: ch.name for ch in c.choices}) for c in run.election.contests}
    curve = run.read_csv("canvass.csv", ("time", "date", "share_of_ballots")) if run.has("canvass.csv") else None
    return ReportData(run.dir, run.run_sha256, run.summary, precincts, devices, voters, ballots, opened, closed, reporting,
                      reconciliation, rec_problem, audit, problem, names, canvass_curve=curve, roll=roll_tables(run))  # fmt: skip
