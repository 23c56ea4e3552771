"""The run directory: the one writer and reader of what ``pollsim run`` leaves on disk.

- :func:`write_run` writes an :class:`~pollsim.pipeline.ElectionRun` (refusing to mix two runs);
  :class:`DaySpool` streams the election day into the run's staging folder as precincts finish
  (``run_election(..., sink=spool)``; :mod:`.spool`), so a statewide run never holds every voter;
- :class:`RunDir` opens one for the later verbs (reconcile, audit, export, report, stress), each
  file checked against the SHA-256 that summary.json records for it;
- :func:`write_reconciliation`, :func:`write_audit_package`, :func:`write_derived` add the
  derived products, each stamped with the run's SHA-256; :func:`reconcile_run_dir` and
  :func:`audit_run_dir` read, run the stage and write the product in one call.

The layout, file by file, is in :mod:`.layout` (absentee voting and the canvass:
:mod:`.absentee_layout`) and docs/reference.md.

Names are imported on first use (as in ``pollsim/__init__.py``): a reader of finished runs
(``pollsim report``, ``pollsim export``) does not load the writer, and with it the simulation's
stages, scenario models and pydantic (issue 12).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pollsim import lazy_names

_EXPORTS = {
    "ABSENTEE_TABULATOR": "pollsim.rundir.absentee_read",
    "CountedBatch": "pollsim.rundir.absentee_read",
    "CHUNK_ROWS": "pollsim.rundir.ballots",
    "RunDir": "pollsim.rundir.ballots",
    **dict.fromkeys(
        ("DAY_FILES", "DERIVED", "DEVICE_COLUMNS", "FORMAT_VERSION", "PRECINCT_COLUMNS", "REPORTING_COLUMNS", "VOTER_FIELDS",
         "folder_digest", "hhmm", "hhmm_floor", "summary", "wait_stats"),
        "pollsim.rundir.layout",
    ),
    "audit_run_dir": "pollsim.rundir.products",
    "reconcile_run_dir": "pollsim.rundir.products",
    "Device": "pollsim.rundir.read",
    "Precinct": "pollsim.rundir.read",
    "RunDirError": "pollsim.rundir.read",
    "is_run_dir": "pollsim.rundir.read",
    "DaySpool": "pollsim.rundir.spool",
    "write_audit_package": "pollsim.rundir.write",
    "write_derived": "pollsim.rundir.read",
    "write_reconciliation": "pollsim.rundir.write",
    "write_run": "pollsim.rundir.write",
}  # fmt: skip

__all__ = [
    "ABSENTEE_TABULATOR", "CountedBatch", "DaySpool", "CHUNK_ROWS", "DAY_FILES", "DERIVED", "DEVICE_COLUMNS", "FORMAT_VERSION", "PRECINCT_COLUMNS", "REPORTING_COLUMNS",
    "VOTER_FIELDS", "Device", "Precinct", "RunDir", "RunDirError", "folder_digest", "hhmm", "hhmm_floor", "is_run_dir",
    "audit_run_dir", "reconcile_run_dir", "summary", "wait_stats", "write_audit_package", "write_derived", "write_reconciliation", "write_run",
]  # fmt: skip


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # for type checkers and IDEs: the names __getattr__ serves
    from pollsim.rundir.absentee_read import ABSENTEE_TABULATOR, CountedBatch
    from pollsim.rundir.ballots import CHUNK_ROWS, RunDir
    from pollsim.rundir.layout import (
        DAY_FILES,
        DERIVED,
        DEVICE_COLUMNS,
        FORMAT_VERSION,
        PRECINCT_COLUMNS,
        REPORTING_COLUMNS,
        VOTER_FIELDS,
        folder_digest,
        hhmm,
        hhmm_floor,
        summary,
        wait_stats,
    )  # fmt: skip
    from pollsim.rundir.products import audit_run_dir, reconcile_run_dir
    from pollsim.rundir.read import Device, Precinct, RunDirError, is_run_dir, write_derived
    from pollsim.rundir.spool import DaySpool
    from pollsim.rundir.write import write_audit_package, write_reconciliation, write_run
