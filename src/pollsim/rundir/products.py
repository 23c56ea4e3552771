"""The derived products of a run directory, made in one call each: what ``pollsim reconcile`` and
``pollsim audit RUN_DIR`` do, for users who call pollsim from Python.

Each reads the run through :class:`~pollsim.rundir.RunDir` (every file hash-checked), runs the
stage's front door on the records, and writes the product into the run directory stamped with the
run's SHA-256 (§23-15-615 reconciliation; §23-15-617 audit package).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pollsim.audit import run_audit
from pollsim.reconcile import reconcile_precincts
from pollsim.rundir.ballots import RunDir
from pollsim.rundir.write import write_audit_package, write_reconciliation

__all__ = ["audit_run_dir", "reconcile_run_dir"]


def reconcile_run_dir(run_dir: Path | str) -> dict:
    """Reconcile a run directory; write reconciliation.csv and .json there; return the JSON document."""
    rd = RunDir(run_dir)
    report = reconcile_precincts(rd.precinct_ids, [p.county for p in rd.precincts], rd.counts())
    return write_reconciliation(rd, report)


def audit_run_dir(
    run_dir: Path | str,
    contest: str,
    risk_limit: float,
    seed: str,
    method: str,
    out: Path | str | None = None,
    echo: Callable[[str], None] = print,
    **options: Any,
) -> dict:
    """Audit a run directory (:func:`pollsim.audit.run_audit`, whose keyword ``options`` pass
    through) and write the package (default ``RUN_DIR/audit``); return its audit.json document
    plus ``"package"`` (the path)."""
    rd = RunDir(run_dir)
    result = run_audit(rd.audit_ballots(), contest, risk_limit, seed, method, echo, **options)
    package = Path(out) if out is not None else rd.dir / "audit"
    doc = write_audit_package(rd, result, package)
    echo(f"audit package written to {package}/")
    return {"package": str(package), **doc}
