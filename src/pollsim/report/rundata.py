"""Reading a run directory for the report: the files ``pollsim run`` always writes, and the ones
the later stages add when they have run.

Required (``pollsim run`` writes them all; one missing means the directory is not a run, or is
damaged): ``summary.json``, ``precincts.csv``, ``devices.csv``, ``voters.npz``, ``ballots.npz``,
``eventlog.npz``. Optional: ``reporting.csv`` (election night ran), ``reconciliation.json``
(``pollsim reconcile`` ran), ``audit/`` (a risk-limiting audit's package). A missing or broken
required file is a :class:`ReportError` naming it; an optional file that is absent just leaves its
section saying so.

Only the columns the report reads are loaded from the npz archives (an archive member is read on
first access), so a statewide run's 1.3 million voters load in about a second.
"""

from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pollsim.errors import PollsimError

REQUIRED = ("summary.json", "precincts.csv", "devices.csv", "voters.npz", "ballots.npz", "eventlog.npz")
VOTER_FIELDS = ("arrival", "checkin_start", "checkin_end", "vote_start", "vote_end", "exit", "wait", "checkin_station", "precinct")
SUMMARY_KEYS = ("scenario", "seed", "precincts", "voters", "ballots_cast", "affidavit_ballots", "wait_minutes", "last_voter_out", "incidents")
PRECINCT_KEYS = ("precinct", "county", "equipment", "voters_arrived", "ballots_cast", "affidavit_ballots")
DEVICE_KEYS = ("precinct", "index", "device_id", "kind", "public_count")


class ReportError(PollsimError):
    """A run directory the report cannot be made from; the message names the file."""


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
class RunData:
    """What the report reads from one run directory (see the module docstring).

    ``voters``: the :data:`VOTER_FIELDS` columns of ``voters.npz``; ``ballots``: ``precinct``,
    ``device`` and ``voter`` of every regular ballot; ``polls_open`` and ``polls_closed``:
    ``float64[n_precincts]`` minutes after midnight, from the devices' event logs (when the
    precinct's devices opened, and closed after the last voter).
    """

    run_dir: Path
    summary: dict
    precincts: list[dict]
    devices: list[dict]
    voters: dict[str, np.ndarray]
    ballots: dict[str, np.ndarray]
    polls_open: np.ndarray
    polls_closed: np.ndarray
    reporting: list[dict] | None
    reconciliation: dict | None
    audit: AuditTrace | None
    audit_problem: str | None  # an audit directory that is there but could not be read

    @property
    def n_precincts(self) -> int:
        return len(self.precincts)

    @property
    def precinct_ids(self) -> list[str]:
        return [p["precinct"] for p in self.precincts]


def _need(path: Path) -> Path:
    if not path.is_file():
        raise ReportError(f"{path}: missing (not a complete pollsim run directory)")
    return path


def _read_json(path: Path) -> dict:
    try:
        doc = json.loads(_need(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: unreadable ({_one_line(exc)})") from None
    if not isinstance(doc, dict):
        raise ReportError(f"{path}: unreadable (expected a JSON object)")
    return doc


def _read_csv(path: Path, keys: tuple[str, ...]) -> list[dict]:
    try:
        with _need(path).open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"{path}: unreadable ({_one_line(exc)})") from None
    missing = [k for k in keys if k not in header]
    if missing:
        raise ReportError(f"{path}: missing column(s) {', '.join(missing)}")
    return rows


def _read_npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with np.load(_need(path), allow_pickle=False) as z:
            missing = [n for n in names if n not in z.files]
            if missing:
                raise ReportError(f"{path}: missing array(s) {', '.join(missing)}")
            return {n: z[n] for n in names}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ReportError(f"{path}: unreadable ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _polls_times(run_dir: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    ev = _read_npz(run_dir / "eventlog.npz", ("precinct", "time", "type", "types"))
    types = ev["types"].tolist()
    opened = np.full(n, np.nan)
    closed = np.full(n, np.nan)
    for name, out, reduce in (("state-polls-open", opened, np.fmin), ("state-polls-closed", closed, np.fmax)):
        if name not in types:
            continue
        m = ev["type"] == types.index(name)
        p, t = ev["precinct"][m].astype(np.int64), ev["time"][m]
        ok = (p >= 0) & (p < n)
        reduce.at(out, p[ok], t[ok])
    return opened, closed


def _audit(run_dir: Path) -> tuple[AuditTrace | None, str | None]:
    """The audit package under ``RUN_DIR/audit/``: ``audit.json`` (pollsim-rla-package), else
    ``rounds.json`` (``{"risk_limit", "rounds": [...]}`` or a bare list of rounds)."""
    folder = run_dir / "audit"
    for name in ("audit.json", "rounds.json"):
        path = folder / name
        if not path.is_file():
            continue
        rel = f"audit/{name}"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(doc, list):
                doc = {"rounds": doc}
            rounds = []
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
                source=rel,
                risk_limit=None if limit is None else float(limit),
                rounds=rounds,
                direct_to_count=[str(c) for c in doc.get("direct_to_count", [])],
                decisions=[d for d in doc.get("decisions", []) if isinstance(d, dict)],
                method=str(method.get("method", "")) if isinstance(method, dict) else str(method),
            ), None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            return None, f"{rel}: unreadable ({_one_line(exc)})"
    if folder.is_dir():
        return None, "audit/: no audit.json or rounds.json in it"
    return None, None


def load_run(run_dir: Path) -> RunData:
    """Read a run directory; a :class:`ReportError` names the first missing or broken file."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: no such run directory")
    summary = _read_json(run_dir / "summary.json")
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        raise ReportError(f"{run_dir / 'summary.json'}: missing key(s) {', '.join(missing)}")
    precincts = _read_csv(run_dir / "precincts.csv", PRECINCT_KEYS)
    devices = _read_csv(run_dir / "devices.csv", DEVICE_KEYS)
    voters = _read_npz(run_dir / "voters.npz", VOTER_FIELDS)
    ballots = _read_npz(run_dir / "ballots.npz", ("precinct", "device", "voter"))
    n = len(precincts)
    if len(voters["precinct"]) and int(voters["precinct"].max()) >= n:
        raise ReportError(f"{run_dir / 'voters.npz'}: precinct index beyond the {n} rows of precincts.csv")
    opened, closed = _polls_times(run_dir, n)
    reporting = _read_csv(run_dir / "reporting.csv", ("time", "share_of_precincts", "share_of_ballots")) if (run_dir / "reporting.csv").is_file() else None
    reconciliation = _read_json(run_dir / "reconciliation.json") if (run_dir / "reconciliation.json").is_file() else None
    if reconciliation is not None and not isinstance(reconciliation.get("precincts"), list):
        raise ReportError(f"{run_dir / 'reconciliation.json'}: missing key precincts")
    audit, problem = _audit(run_dir)
    return RunData(run_dir, summary, precincts, devices, voters, ballots, opened, closed, reporting, reconciliation, audit, problem)
