"""Writing a run directory, and the derived products later verbs add to it.

:func:`write_run` writes a whole run into a staging folder beside the target and swaps it into
place only when every file is written, so a crash or a bad input never leaves half a run, and a
run directory never mixes two runs: a directory that already holds a run is replaced only when
asked (``force``), and then nothing of the earlier run survives (its reconciliation, audit,
report and anything else in it go with it). A non-empty directory that is not a pollsim run is
never touched.

Derived products (:func:`write_reconciliation`, :func:`write_audit_package`,
:func:`write_derived`) record the SHA-256 of the run they were made from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from pollsim.audit.package import AnyAuditResult, package_files
from pollsim.errors import PollsimError
from pollsim.files import atomic_bytes, atomic_text, one_line, write_npz
from pollsim.pipeline import ElectionRun
from pollsim.precinct import VOTER_DTYPE
from pollsim.precinct.election_day import ElectionDayRun
from pollsim.precinct.procedures import accounting_form, schedule
from pollsim.reconcile import ReconciliationReport
from pollsim.rundir.absentee_layout import absentee_arrays, absentee_csv, absentee_summary, canvass_arrays, canvass_csv, canvass_summary, certified_layers
from pollsim.rundir.layout import (
    DERIVED,
    DEVICE_COLUMNS,
    FOLDERS,
    PRECINCT_COLUMNS,
    SUMMARY,
    csv_text,
    device_rows,
    digest_of,
    event_log_arrays,
    hhmm,
    hhmm_floor,
    precinct_rows,
    reporting,
    reporting_csv,
    summary,
)  # fmt: skip
from pollsim.rundir.read import RunDirBase as RunDir
from pollsim.rundir.read import RunDirError, is_run_dir
from pollsim.scenario.models import clock_minutes

__all__ = ["check_target", "write_audit_package", "write_derived", "write_reconciliation", "write_run"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_target(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise RunDirError(out, "exists and is not a directory; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not is_run_dir(out):
        raise RunDirError(out, "is not empty and is not a pollsim run directory; choose another --out (nothing was written)")
    if not force:
        try:
            s = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
            what = f" (scenario {s.get('scenario')}, seed {s.get('seed')})"
        except (OSError, ValueError, AttributeError):
            what = ""
        raise RunDirError(out, f"holds another run{what}; use --force to replace it and everything made from it (nothing was written)")


def _write_files(run: ElectionRun, stage: Path) -> dict:
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="npz") as pool:
        return _write_all(run, stage, pool)


def _write_all(run: ElectionRun, stage: Path, pool: ThreadPoolExecutor) -> dict:
    day = run.day
    files: dict[str, str] = {}
    pending: list[Future] = []
    folder_files: dict[str, dict[str, str]] = {folder: {} for folder in FOLDERS}

    def text(name: str, body: str) -> None:
        atomic_text(stage / name, body)
        files[name] = _sha(body.encode())

    def npz(name: str, arrays: dict[str, np.ndarray]) -> None:  # compressed on a thread (zlib lets go of the GIL)
        def write() -> None:
            write_npz(stage / name, arrays)
            files[name] = _sha((stage / name).read_bytes())

        pending.append(pool.submit(write))

    def folder_text(folder: str, name: str, body: str) -> None:  # inside the staging folder: no need for atomic writes
        data = body.encode()
        (stage / folder / name).write_bytes(data)
        folder_files[folder][name] = _sha(data)

    layers = day.layers()
    summ = summary(day, layers)
    text("election.json", json.dumps(day.election.to_dict(), indent=2) + "\n")
    columns = np.array([f"{c.contest}/{c.choice}" for c in day.election.columns])
    npz("ballots.npz", {"columns": columns, "precinct_ids": np.array([p.precinct for p in day.precincts]), **layers})
    voters = {name: np.concatenate([p.voters[name] for p in day.precincts]) for name in VOTER_DTYPE.names or ()}
    voters["precinct"] = np.repeat(np.arange(len(day.precincts), dtype=np.int32), [len(p.voters) for p in day.precincts])
    npz("voters.npz", voters)
    text("precincts.csv", csv_text(PRECINCT_COLUMNS, precinct_rows(day)))
    text("devices.csv", csv_text(DEVICE_COLUMNS, device_rows(day)))
    npz("eventlog.npz", event_log_arrays(day))
    opening = clock_minutes(day.scenario.polls.open)
    steps = []
    for folder in FOLDERS:
        (stage / folder).mkdir()
    counts = run.counts.filled()
    counted = counts.absentee_tabulated if counts.absentee_tabulated is not None else counts.absentee
    for pi, p in enumerate(day.precincts):
        (stage / "tapes" / p.precinct).mkdir()
        for dev, body in p.zero_tapes.items():
            folder_text("tapes", f"{p.precinct}/{dev}-zero.txt", body)
        for dev, body in p.results_tapes.items():
            folder_text("tapes", f"{p.precinct}/{dev}-results.txt", body)
        for phase, step, start, end in schedule(day.scenario.procedures, opening, p.polls_closed):
            steps.append([p.precinct, phase, step, hhmm_floor(start), hhmm_floor(end)])
        folder_text("forms", f"{p.precinct}-ballot-accounting.txt",
                    accounting_form(p, day.election.name, day.seed, hhmm, int(counts.absentee[pi]), int(counted[pi])))  # fmt: skip
    text("procedures.csv", csv_text(["precinct", "phase", "step", "start", "end"], steps))
    if run.night is not None:
        summ["reporting"] = reporting(run.night)
        flags = run.night_flags if run.night_flags is not None else np.zeros(len(run.night.publications), np.int64)
        text("reporting.csv", reporting_csv(run.night, flags))
    if run.serial_readin is not None:
        summ["serial_readin"] = run.serial_readin
    if run.absentee is not None:
        npz("absentee.npz", absentee_arrays(run.absentee, columns))
        text("absentee.csv", absentee_csv(run.absentee))
        summ["absentee"] = absentee_summary(run.absentee)
    if run.canvass is not None:
        npz("canvass.npz", canvass_arrays(run.canvass))
        text("canvass.csv", canvass_csv(run.canvass))
        summ["canvass"] = canvass_summary(run.canvass, day.election, certified_layers(day.election, layers, run.absentee, run.canvass))
    for folder in FOLDERS:
        files[f"{folder}/"] = digest_of(folder_files[folder])
    for future in pending:
        future.result()
    summ["files"] = dict(sorted(files.items()))
    atomic_text(stage / SUMMARY, json.dumps(summ, indent=2) + "\n")
    return summ


def write_run(run: ElectionRun | ElectionDayRun, out: Path | str, *, force: bool = False) -> dict:
    """Write the run directory ``out``; return summary.json's document.

    ``run``: the chain's record (:func:`pollsim.pipeline.run_election`), or a bare election day
    (written as :meth:`ElectionRun.of_day` of it: no night).

    ``out`` may be missing or empty. One that holds a run is replaced only with ``force`` (and
    then wholly); one that holds anything else is refused. Either way nothing is written or
    removed before the new run is complete.
    """
    out = Path(out)
    if isinstance(run, ElectionDayRun):
        run = ElectionRun.of_day(run)
    check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.with_name(f".{out.name}.new-{os.getpid()}")
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    for leftover in (stage, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        stage.mkdir()
        summ = _write_files(run, stage)
        if out.exists():
            out.rename(old)
        stage.rename(out)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        if old.exists() and not out.exists():
            old.rename(out)
        raise PollsimError(f"{out}: cannot write the run directory ({one_line(exc)})") from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return summ


def _stamped(run: RunDir, doc: dict) -> dict:
    return {"run_sha256": run.run_sha256, **doc}


def write_reconciliation(run: RunDir, report: ReconciliationReport) -> dict:
    """Write ``reconciliation.csv`` and ``reconciliation.json`` into the run; return the JSON document."""
    rows = report.rows()
    lost = run.summary.get("lost_voters")
    if lost is not None:  # voters who gave up on the line: not ballots, so in no §23-15-615 total, but the line's cost
        per = lost.get("precincts") or {}
        for r in rows:
            r["voters_lost"] = sum(int((per.get(r["precinct"]) or {}).get(k, 0)) for k in ("balked", "reneged"))
    header = list(rows[0]) if rows else ["precinct"]
    atomic_text(run.dir / "reconciliation.csv", csv_text(header, [list(r.values()) for r in rows]))
    doc = _stamped(run, {**report.to_dict(), "precincts": rows})
    atomic_text(run.dir / "reconciliation.json", json.dumps(doc, indent=2) + "\n")
    return doc


def write_audit_package(run: RunDir, result: AnyAuditResult, out: Path | str | None = None) -> dict:
    """Write the audit package (default ``RUN/audit/``), each file atomically; return its audit.json document."""
    out = Path(out) if out is not None else run.dir / "audit"
    files = package_files(result, election_id=run.election.id, definition_sha256=run.definition_hash, run_sha256=run.run_sha256)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PollsimError(f"{out}: cannot write the audit package ({one_line(exc)})") from None
    stale = out / "recount.csv"
    if "recount.csv" not in files and stale.exists():
        stale.unlink()
    for name, body in files.items():
        atomic_text(out / name, body)
    return dict(json.loads(files["audit.json"]))


def write_derived(run: RunDir, name: str, data: bytes | str) -> Path:
    """Write a derived product (``report.html``, ``plots/NAME.png``) into the run directory."""
    if name.split("/")[0] not in DERIVED:
        raise PollsimError(f"{name}: not a derived product of a run directory ({', '.join(DERIVED)})")
    path = run.dir / name
    atomic_bytes(path, data.encode() if isinstance(data, str) else data)
    return path
