"""The registrar's §23-15-615 report: per-precinct totals, thresholds, checks and flags.

The reconciliation stage's front door is :func:`reconcile_precincts`: the counts of every
precinct (a :class:`~pollsim.reconcile.totals.PrecinctCounts`, from the day's records or read
back from a run directory) in, a :class:`ReconciliationReport` out. It is computed in memory
(vectorized over precincts); writing ``reconciliation.csv``/``.json`` is the run directory's job
(:mod:`pollsim.rundir`). On election night :func:`flags_at_publications` keeps the same report up
to date as precincts report (:class:`LiveReconciliation` recomputes only the rows that changed).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from pollsim.reconcile.threshold import thresholds
from pollsim.reconcile.totals import CHECKS, TOTALS, PrecinctCounts, Reconciliation, reconcile

LAW = "Miss. Code §23-15-615"


@dataclass(frozen=True, eq=False)
class ReconciliationReport:
    """The §23-15-615 reconciliation of a run: one row per precinct, in scenario order."""

    precinct_ids: list[str]
    counties: list[str]
    result: Reconciliation

    @property
    def flagged(self) -> np.ndarray:
        """``bool[n_precincts]``: a check at or over the precinct's threshold."""
        return self.result.flagged

    def rows(self) -> list[dict]:
        """One dict per precinct: totals (a)-(f), threshold, each check's difference and flag."""
        rec = self.result
        rows = []
        for i, pid in enumerate(self.precinct_ids):
            row: dict = {"precinct": pid, "county": self.counties[i]}
            row.update({t: int(rec.totals[t][i]) for t in TOTALS})
            row["threshold"] = int(rec.threshold[i])
            row.update({f"diff_{c}": int(rec.differences[c][i]) for c in CHECKS})
            row.update({f"flag_{c}": bool(rec.flags[c][i]) for c in CHECKS})
            row["flagged"] = bool(rec.flagged[i])
            rows.append(row)
        return rows

    def counties_triggered(self) -> dict[str, bool]:
        """Whether any precinct of each county has a discrepancy at or over its threshold."""
        out: dict[str, bool] = {}
        for county, flagged in zip(self.counties, self.flagged.tolist(), strict=True):
            out[county] = out.get(county, False) or flagged
        return dict(sorted(out.items()))

    def to_dict(self) -> dict:
        """The document of ``reconciliation.json`` (without the run's hash, which the run directory adds)."""
        return {"law": LAW, "precincts": self.rows(), "counties": self.counties_triggered()}


def reconcile_precincts(precinct_ids: list[str], counties: list[str], counts: PrecinctCounts) -> ReconciliationReport:
    """Reconcile every precinct at once (the stage's front door)."""
    return ReconciliationReport(list(precinct_ids), list(counties), reconcile(counts))


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
        counts = counts.filled()
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


def flags_at_publications(counts: PrecinctCounts, reported_at: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``int64[len(times)]``: precincts flagged among those reported by each publication time.

    The reconciliation kept live on election night: each publication recomputes only the newly
    reported rows (``reported_at``: minutes after midnight each precinct reported, NaN: never).
    """
    live = LiveReconciliation(len(reported_at))
    counts = counts.filled()
    done = np.zeros(len(reported_at), bool)
    out = np.zeros(len(times), np.int64)
    for k, t in enumerate(np.asarray(times, float).tolist()):
        new = np.flatnonzero((reported_at <= t) & ~done)
        if len(new):
            live.report(new, PrecinctCounts(**{f.name: getattr(counts, f.name)[new] for f in fields(PrecinctCounts)}))
            done[new] = True
        out[k] = int((live.result.flagged & live.reported).sum())
    return out
