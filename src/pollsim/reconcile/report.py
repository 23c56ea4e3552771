"""The registrar's §23-15-615 report for a run: per-precinct totals, thresholds, checks and flags.

Reads a run directory (``precincts.csv``, ``devices.csv``), reconciles every precinct at once
(vectorized), and writes ``reconciliation.csv`` and ``reconciliation.json`` beside the run. On
election night :class:`LiveReconciliation` keeps the same report up to date as precincts report,
recomputing only the rows that changed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import fields
from pathlib import Path

import numpy as np

from pollsim.errors import PollsimError
from pollsim.reconcile.threshold import thresholds
from pollsim.reconcile.totals import CHECKS, TOTALS, PrecinctCounts, Reconciliation, reconcile


class RunDirError(PollsimError):
    """A run directory that cannot be reconciled."""


def counts_from_rundir(run_dir: Path) -> tuple[list[str], list[str], PrecinctCounts]:
    """(precinct ids, counties, counts) from a run directory's CSV files."""
    try:
        with (run_dir / "precincts.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        with (run_dir / "devices.csv").open(newline="") as f:
            devices = list(csv.DictReader(f))
    except OSError as exc:
        raise RunDirError(f"{run_dir}: not a pollsim run directory ({exc.strerror}: {exc.filename})") from None
    scanners: dict[str, int] = {}
    for d in devices:
        if d["kind"] == "scan-single":
            scanners[d["precinct"]] = scanners.get(d["precinct"], 0) + int(d["public_count"])
    try:
        col = lambda name: np.array([int(r[name]) for r in rows], np.int64)  # noqa: E731
        counts = PrecinctCounts(
            pollbook_voted=col("pollbook_marked_voted"),
            receipt_signatures=col("receipt_book_signatures"),
            absentee=np.zeros(len(rows), np.int64),
            ballots_received=col("ballots_received"),
            paper_voted=col("paper_ballots_voted"),
            paper_unused=col("paper_ballots_unused"),
            paper_spoiled=col("paper_ballots_spoiled"),
            dre_public=col("electronic_ballots_cast"),
            scanner_public=np.array([scanners.get(r["precinct"], 0) for r in rows], np.int64),
            tabulated=col("ballots_cast"),
        )
    except (KeyError, ValueError) as exc:
        raise RunDirError(f"{run_dir / 'precincts.csv'}: bad or missing column ({exc})") from None
    return [r["precinct"] for r in rows], [r["county"] for r in rows], counts


def county_triggered(counties: list[str], rec: Reconciliation) -> dict[str, bool]:
    """Whether any precinct of each county has a discrepancy at or over its threshold."""
    out: dict[str, bool] = {}
    for county, flagged in zip(counties, rec.flagged.tolist(), strict=True):
        out[county] = out.get(county, False) or flagged
    return dict(sorted(out.items()))


def report_rows(ids: list[str], counties: list[str], rec: Reconciliation) -> list[dict]:
    rows = []
    for i, pid in enumerate(ids):
        row: dict = {"precinct": pid, "county": counties[i]}
        row.update({t: int(rec.totals[t][i]) for t in TOTALS})
        row["threshold"] = int(rec.threshold[i])
        row.update({f"diff_{c}": int(rec.differences[c][i]) for c in CHECKS})
        row.update({f"flag_{c}": bool(rec.flags[c][i]) for c in CHECKS})
        row["flagged"] = bool(rec.flagged[i])
        rows.append(row)
    return rows


def write_report(run_dir: Path) -> dict:
    """Reconcile a run directory; write reconciliation.csv and .json there; return the JSON document."""
    ids, counties, counts = counts_from_rundir(run_dir)
    rec = reconcile(counts)
    rows = report_rows(ids, counties, rec)
    doc = {"law": "Miss. Code §23-15-615", "precincts": rows, "counties": county_triggered(counties, rec)}
    tmp = run_dir / "reconciliation.csv.tmp"
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["precinct"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    tmp.replace(run_dir / "reconciliation.csv")
    tmp = run_dir / "reconciliation.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(run_dir / "reconciliation.json")
    return doc


class LiveReconciliation:
    """The report kept current on election night: rows update as precincts report."""

    def __init__(self, n_precincts: int):
        zero = lambda: np.zeros(n_precincts, np.int64)  # noqa: E731
        self.counts = PrecinctCounts(**{f.name: zero() for f in fields(PrecinctCounts)})
        self.reported = np.zeros(n_precincts, bool)
        self.result = reconcile(self.counts)

    def report(self, rows: np.ndarray, counts: PrecinctCounts) -> None:
        """Precincts ``rows`` reported these counts: recompute just those rows."""
        rows = np.asarray(rows)
        for f in fields(PrecinctCounts):
            getattr(self.counts, f.name)[rows] = getattr(counts, f.name)
        self.reported[rows] = True
        part = reconcile(counts)
        for k in part.totals:
            self.result.totals[k][rows] = part.totals[k]
        for k in part.differences:
            self.result.differences[k][rows] = part.differences[k]
            self.result.flags[k][rows] = part.flags[k]
        self.result.threshold[rows] = thresholds(part.totals["f_total_cast"])
