"""The run directory: what ``pollsim run`` leaves for people and for the later stages.

- ``summary.json``: the run at a glance (see :func:`summary`);
- ``precincts.csv``: one row per precinct: ballot accounting, waits, last voter out;
- ``ballots.npz``: the three layers of every regular ballot (``intent``, ``paper``, ``cvr``:
  ``uint8[n, width]``, columns named in ``columns``), with ``precinct`` (``int32`` index into
  ``precinct_ids``), ``device`` (``int16`` index into the precinct's devices) and ``voter``
  (``int32`` row of that precinct's voters), and the sealed ``affidavit`` ballots with
  ``affidavit_precinct``;
- ``voters.npz``: the per-voter timings (``VOTER_DTYPE`` fields as arrays) and ``precinct``;
- ``devices.csv``: one row per device: precinct, device index (as in ``ballots.npz``), id, kind,
  counters, log length and the hash of its last log entry;
- ``eventlog.npz``: every device's event log as arrays, one row per entry in log order per
  device: ``precinct``, ``device`` (row of ``device_ids``), ``sequence``, ``time``, ``type`` and
  ``disposition`` (indexes into ``types``/``dispositions``), ``details`` (index into
  ``details_text``); the hash chain is recomputed from these and the election definition hash;
- ``tapes/PRECINCT/DEVICE-zero.txt`` and ``-results.txt``: the printed tapes;
- ``procedures.csv``: the opening and closing procedure steps on the clock, per precinct;
- ``forms/PRECINCT-ballot-accounting.txt``: the ballot accounting form with the §23-15-615
  totals, the counters against the pollbook, and the memory cards' seal numbers;
- with election night: ``reporting.csv`` (each publication of unofficial results: time, share of
  precincts and of ballots reported) and summary.json's ``reporting`` section.

Same scenario and seed give byte-identical files: JSON keys in a fixed order, no wall-clock
time anywhere, and npz archives written with fixed zip timestamps.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from pollsim import __version__
from pollsim.precinct import VOTER_DTYPE
from pollsim.precinct.procedures import accounting_form, schedule
from pollsim.reconcile.report import LiveReconciliation
from pollsim.reconcile.totals import PrecinctCounts, counts_from_results
from pollsim.scenario.models import clock_minutes
from pollsim.simulation import ElectionDayRun
from pollsim.tabulate.night import NightResult
from pollsim.tabulate import tally_dict


def hhmm(t: float) -> str:
    if t != t:
        return ""
    m = int(np.ceil(t - 1e-9))
    return f"{m // 60:02d}:{m % 60:02d}"


def hhmm_floor(t: float) -> str:
    m = int(np.floor(t + 1e-9))
    return f"{m // 60:02d}:{m % 60:02d}"


def wait_stats(waits: np.ndarray) -> dict[str, float]:
    """mean, p50, p95 and max of the (finite) waits, rounded to 3 decimals: summary.json's ``wait_minutes``."""
    waits = waits[np.isfinite(waits)]
    if len(waits) == 0:
        return {"mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "mean": round(float(waits.mean()), 3),
        "p50": round(float(np.percentile(waits, 50)), 3),
        "p95": round(float(np.percentile(waits, 95)), 3),
        "max": round(float(waits.max()), 3),
    }


def all_layers(run: ElectionDayRun) -> dict[str, np.ndarray]:
    """Every precinct's ballots stacked, with the precinct index of each row."""
    ps = run.precincts
    width = run.election.width
    cat = lambda name: np.concatenate([getattr(p, name) for p in ps]) if ps else np.zeros((0, width), np.uint8)  # noqa: E731
    return {
        "intent": cat("intent"),
        "paper": cat("paper"),
        "cvr": cat("cvr"),
        "precinct": np.repeat(np.arange(len(ps), dtype=np.int32), [p.ballots_cast for p in ps]),
        "device": cat("ballot_device"),
        "voter": cat("ballot_voter"),
        "affidavit": cat("affidavit"),
        "affidavit_precinct": np.repeat(np.arange(len(ps), dtype=np.int32), [len(p.affidavit) for p in ps]),
    }


def summary(run: ElectionDayRun, layers: dict[str, np.ndarray] | None = None) -> dict:
    """The run's summary: the keys of summary.json, in a fixed order."""
    layers = layers if layers is not None else all_layers(run)
    waits = np.concatenate([p.voters["wait"] for p in run.precincts])
    last = max(p.last_voter_out for p in run.precincts)
    acc = [p.accounting for p in run.precincts]
    return {
        "scenario": run.scenario.scenario,
        "seed": run.seed,
        "pollsim_version": __version__,
        "election": {"id": run.election.id, "definition_sha256": run.election.definition_hash},
        "precincts": len(run.precincts),
        "voters": int(sum(a.voters_arrived for a in acc)),
        "ballots_cast": int(sum(a.regular_ballots_cast for a in acc)),
        "affidavit_ballots": int(sum(a.affidavit_ballots for a in acc)),
        "spoiled_ballots": int(sum(a.paper_ballots_spoiled for a in acc)),
        "wait_minutes": wait_stats(waits),
        "last_voter_out": hhmm(last),
        "tally": tally_dict(run.election, layers["cvr"]),
        "paper_tally": tally_dict(run.election, layers["paper"]),
        "incidents": [{"precinct": p.precinct, **inc} for p in run.precincts for inc in p.incidents],
        **({"description": run.scenario.description} if run.scenario.description else {}),
        **({"notice": list(run.scenario.notice)} if run.scenario.notice else {}),
    }


PRECINCT_COLUMNS = [
    "precinct", "county", "equipment", "registered_voters", "voters_arrived", "ballots_cast",
    "affidavit_ballots", "pollbook_marked_voted", "receipt_book_signatures", "ballots_received",
    "paper_ballots_voted", "paper_ballots_unused", "paper_ballots_spoiled", "bmd_cards_cast",
    "electronic_ballots_cast", "total_ballots_cast", "wait_mean", "wait_p95", "wait_max", "last_voter_out",
]  # fmt: skip


def precinct_rows(run: ElectionDayRun) -> list[list]:
    rows = []
    for p in run.precincts:
        a, w = p.accounting, wait_stats(p.voters["wait"])
        rows.append([
            p.precinct, p.county, p.kind, p.registered_voters, a.voters_arrived, a.regular_ballots_cast,
            a.affidavit_ballots, a.pollbook_marked_voted, a.receipt_book_signatures, a.ballots_received,
            a.paper_ballots_voted, a.paper_ballots_unused, a.paper_ballots_spoiled, a.bmd_cards_cast,
            a.electronic_ballots_cast, a.total_ballots_cast, w["mean"], w["p95"], w["max"], hhmm(p.last_voter_out),
        ])  # fmt: skip
    return rows


DEVICE_COLUMNS = ["precinct", "index", "device_id", "kind", "public_count", "protective_count", "log_entries", "log_head"]


def device_rows(run: ElectionDayRun) -> list[list]:
    return [
        [p.precinct, k, d.device_id, d.kind, d.public_count, d.protective_count, d.log_entries, d.log_head]
        for p in run.precincts
        for k, d in enumerate(p.devices)
    ]


def event_log_arrays(run: ElectionDayRun) -> dict[str, np.ndarray]:
    """All event logs as the arrays of ``eventlog.npz`` (see the module docstring)."""
    codes: dict[str, dict[str, int]] = {"types": {}, "dispositions": {}, "details_text": {"": 0}}
    device_ids: list[str] = []
    cols: dict[str, list] = {k: [] for k in ("precinct", "device", "sequence", "time", "type", "disposition", "details")}
    for pi, p in enumerate(run.precincts):
        for dev_id, log in p.logs.items():
            di = len(device_ids)
            device_ids.append(f"{p.precinct}/{dev_id}")
            n = len(log.entries)
            cols["precinct"].append(np.full(n, pi, np.int32))
            cols["device"].append(np.full(n, di, np.int32))
            seq, time, typ, disp, det = zip(*((e.sequence, e.time, e.type, e.disposition, e.details) for e in log.entries), strict=True) if n else ((),) * 5
            cols["sequence"].append(np.array(seq, np.int64))
            cols["time"].append(np.array(time, np.float64))
            for name, values in (("type", typ), ("disposition", disp), ("details", det)):
                table = codes["types" if name == "type" else "dispositions" if name == "disposition" else "details_text"]
                cols[name].append(np.array([table.setdefault(v, len(table)) for v in values], np.int32))
    out = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
    out["device_ids"] = np.array(device_ids)
    for name, table in codes.items():
        out[name] = np.array(list(table))
    return out


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but byte-reproducible (fixed member timestamps and order)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())
    tmp.replace(path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


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


def reporting_csv(run: ElectionDayRun, night: NightResult) -> str:
    """The publication timeline, with the §23-15-615 flags among the precincts reported so far
    (the reconciliation kept live: each publication recomputes only the newly reported rows)."""
    counts = counts_from_results(run.precincts)
    live = LiveReconciliation(len(run.precincts))
    done = np.zeros(len(run.precincts), bool)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["time", "share_of_precincts", "share_of_ballots", "precincts_flagged"])
    for t, p, b in night.publications:
        new = np.flatnonzero((night.reported_at <= t) & ~done)
        if len(new):
            live.report(new, PrecinctCounts(**{f.name: getattr(counts, f.name)[new] for f in fields(PrecinctCounts)}))
            done[new] = True
        w.writerow([hhmm(t), f"{p:.6f}", f"{b:.6f}", int((live.result.flagged & live.reported).sum())])
    return buf.getvalue()


def write_run(run: ElectionDayRun, out: Path, night: NightResult | None = None, serial_readin: dict | None = None) -> dict:
    """Write the run directory (each file atomically: a crash never leaves half a file).

    ``serial_readin`` (``pollsim run --serial K``, :func:`pollsim.tabulate.readin.serial_readin`)
    is kept as summary.json's last section.
    """
    out.mkdir(parents=True, exist_ok=True)
    layers = all_layers(run)
    summ = summary(run, layers)
    if night is not None:
        summ["reporting"] = reporting(night)
        _write_text(out / "reporting.csv", reporting_csv(run, night))
    if serial_readin is not None:
        summ["serial_readin"] = serial_readin
    columns = np.array([f"{c.contest}/{c.choice}" for c in run.election.columns])
    write_npz(out / "ballots.npz", {"columns": columns, "precinct_ids": np.array([p.precinct for p in run.precincts]), **layers})
    voters = {name: np.concatenate([p.voters[name] for p in run.precincts]) for name in VOTER_DTYPE.names}
    voters["precinct"] = np.repeat(np.arange(len(run.precincts), dtype=np.int32), [len(p.voters) for p in run.precincts])
    write_npz(out / "voters.npz", voters)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(PRECINCT_COLUMNS)
    writer.writerows(precinct_rows(run))
    _write_text(out / "precincts.csv", buf.getvalue())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(DEVICE_COLUMNS)
    writer.writerows(device_rows(run))
    _write_text(out / "devices.csv", buf.getvalue())
    write_npz(out / "eventlog.npz", event_log_arrays(run))
    for p in run.precincts:
        tapes = out / "tapes" / p.precinct
        tapes.mkdir(parents=True, exist_ok=True)
        for dev, text in p.zero_tapes.items():
            _write_text(tapes / f"{dev}-zero.txt", text)
        for dev, text in p.results_tapes.items():
            _write_text(tapes / f"{dev}-results.txt", text)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["precinct", "phase", "step", "start", "end"])
    forms = out / "forms"
    forms.mkdir(exist_ok=True)
    opening = clock_minutes(run.scenario.polls.open)
    for p in run.precincts:
        for phase, step, start, end in schedule(run.scenario.procedures, opening, p.polls_closed):
            writer.writerow([p.precinct, phase, step, hhmm_floor(start), hhmm_floor(end)])
        _write_text(forms / f"{p.precinct}-ballot-accounting.txt", accounting_form(p, run.election.name, run.seed, hhmm))
    _write_text(out / "procedures.csv", buf.getvalue())
    _write_text(out / "election.json", json.dumps(run.election.to_dict(), indent=2) + "\n")
    _write_text(out / "summary.json", json.dumps(summ, indent=2) + "\n")
    return summ
