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
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from pollsim.audit.package import AnyAuditResult, package_files
from pollsim.errors import PollsimError
from pollsim.files import atomic_text, file_sha256, one_line, write_npz
from pollsim.pipeline import ElectionRun
from pollsim.precinct.election_day import ElectionDayRun
from pollsim.precinct.procedures import accounting_form, schedule
from pollsim.reconcile import ReconciliationReport
from pollsim.roll.attach import RollAttachment
from pollsim.rundir.absentee_layout import absentee_arrays, absentee_csv, absentee_summary, canvass_arrays, canvass_csv, canvass_summary, certified_layers
from pollsim.rundir.layout import (
    DEVICE_COLUMNS,
    FOLDERS,
    PRECINCT_COLUMNS,
    SUMMARY,
    ballot_columns,
    csv_text,
    device_rows,
    digest_of,
    hhmm,
    hhmm_floor,
    precinct_rows,
    reporting,
    reporting_csv,
    summary,
)  # fmt: skip
from pollsim.rundir.read import RunDirBase as RunDir
from pollsim.rundir.read import write_derived  # noqa: F401 - kept beside the reader (issue 12), named here with the other writers
from pollsim.rundir.roll_layout import add_roll
from pollsim.rundir.spool import DaySpool, check_target, staging
from pollsim.scenario.models import clock_minutes

__all__ = ["DaySpool", "check_target", "write_audit_package", "write_derived", "write_reconciliation", "write_run"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_files(run: ElectionRun, stage: Path, spool: DaySpool) -> dict:
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="npz") as pool:
        return _write_all(run, stage, pool, spool)


def _write_all(run: ElectionRun, stage: Path, pool: ThreadPoolExecutor, spool: DaySpool) -> dict:
    day = run.day
    files: dict[str, str] = {}
    pending: list[Future] = []
    folder_files: dict[str, dict[str, str]] = {folder: {} for folder in FOLDERS}

    def text(name: str, body: str) -> None:
        atomic_text(stage / name, body)
        files[name] = _sha(body.encode())

    def npz(name: str, arrays: dict[str, Any]) -> None:  # compressed on a thread (zlib lets go of the GIL)
        def write() -> None:
            write_npz(stage / name, arrays)
            files[name] = file_sha256(stage / name)

        pending.append(pool.submit(write))

    def folder_text(folder: str, name: str, body: str) -> None:  # inside the staging folder: no need for atomic writes
        data = body.encode()
        with open(f"{stage}/{folder}/{name}", "wb") as f:  # str paths: 1,765 forms statewide
            f.write(data)
        folder_files[folder][name] = _sha(data)

    layers = day.layers()
    summ = summary(day, layers, spool.voter_field("wait"))
    text("election.json", json.dumps(day.election.to_dict(), indent=2) + "\n")
    columns = ballot_columns(day.election)
    npz("ballots.npz", {"columns": columns, "precinct_ids": np.array([p.precinct for p in day.precincts]), **spool.members("ballots")})
    npz("voters.npz", spool.members("voters"))
    text("precincts.csv", csv_text(PRECINCT_COLUMNS, precinct_rows(day)))
    text("devices.csv", csv_text(DEVICE_COLUMNS, device_rows(day)))
    npz("eventlog.npz", {**spool.members("eventlog"), **spool.logs.tables()})
    opening = clock_minutes(day.scenario.polls.open)
    steps = []
    folder_files["tapes"].update(spool.tapes)  # written as the precincts arrived
    counts = run.counts.filled()
    counted = counts.absentee_tabulated if counts.absentee_tabulated is not None else counts.absentee
    for pi, p in enumerate(day.precincts):
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
        if spool.absentee is not None and spool.absentee[0] is run.absentee:  # written while the day ran
            files["absentee.npz"] = spool.absentee[1]
        else:
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


def write_run(run: ElectionRun | ElectionDayRun, out: Path | str, *, force: bool = False, roll: RollAttachment | None = None) -> dict:
    """Write the run directory ``out``; return summary.json's document.

    ``run``: the chain's record (:func:`pollsim.pipeline.run_election`), or a bare election day
    (written as :meth:`ElectionRun.of_day` of it: no night). A day streamed into a
    :class:`~pollsim.rundir.spool.DaySpool` (``sink=``) is finished in that spool's staging folder,
    which must be ``out``'s.
    ``roll``: the roll's part of a run made with ``pollsim run --roll`` (:mod:`.roll_layout`).

    ``out`` may be missing or empty. One that holds a run is replaced only with ``force`` (and
    then wholly); one that holds anything else is refused. Either way nothing is written or
    removed before the new run is complete.
    """
    out = Path(out)
    if isinstance(run, ElectionDayRun):
        run = ElectionRun.of_day(run)
    sink = run.day.sink
    if sink is not None and not isinstance(sink, DaySpool):
        raise PollsimError(f"{out}: the day's per-voter arrays went to a {type(sink).__name__}, not to a run directory; run it without one (or with a DaySpool) to write it")
    if isinstance(sink, DaySpool):
        sink.check_for(out)
        spool = sink
    try:
        check_target(out, force)
        if not isinstance(sink, DaySpool):  # a day held in memory: packed as a streamed day would be
            spool = DaySpool(out, force=force)
            spool.take_day(run.day.precincts)
    except BaseException:
        if isinstance(sink, DaySpool):
            sink.discard()
        raise
    stage, old = spool.stage, staging(out)[1]
    try:
        shutil.rmtree(old, ignore_errors=True)
        summ = _write_files(run, stage, spool)
        if roll is not None:  # pollsim run --roll: the roll's tables for the report (rundir.roll_layout)
            summ = add_roll(stage, summ, roll)
        spool.close()
        if out.exists():
            out.rename(old)
        stage.rename(out)
        spool.state = "written"
    except OSError as exc:
        _give_up(stage, spool)
        if old.exists() and not out.exists():
            old.rename(out)
        raise PollsimError(f"{out}: cannot write the run directory ({one_line(exc)})") from None
    except BaseException:
        _give_up(stage, spool)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return summ


def _give_up(stage: Path, spool: DaySpool) -> None:
    shutil.rmtree(stage, ignore_errors=True)
    spool.discard()


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
