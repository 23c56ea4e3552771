"""Exports in the formats other election tools read (NIST SP 1500 common data formats, Arlo CSV).

:func:`export_run` writes one export of a run directory (``pollsim export RUN_DIR --format F
--out PATH``); the formats and their field mappings are described in ``docs/exports.md``:

- ``nist-cvr``: NIST SP 1500-103 cast vote records (:mod:`.cvr`), streamed;
- ``nist-results``: NIST SP 1500-100 election results, precinct level (:mod:`.results`);
- ``nist-eventlog``: NIST SP 1500-101 election event log of every device (:mod:`.runlog`), streamed;
- ``arlo-manifest``: Arlo's ballot manifest CSV (:mod:`.manifest`);
- ``dominion-cvr``: a Dominion-style CVR CSV as Arlo ingests it (:mod:`.dominion`), streamed.

Same run directory, same bytes: no wall-clock time (documents are dated election day at the last
voter out, from summary.json). An output path ending in ``.gz`` is written gzip-compressed (a
statewide NIST CVR export is about 1.7 GB as text), with no file name and a zero time in the gzip
header, so its bytes are reproducible too. The file appears at PATH only once complete. Every export names the
run it was made from by its SHA-256 (NIST ``Notes``/``Details``; for the CSV formats, a
``PATH.pollsim.json`` beside the file), and a run directory whose files changed since it was
written is refused.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pollsim.errors import PollsimError
from pollsim.export.common import ExportError, RunDirError
from pollsim.export.cvr import write_nist_cvr
from pollsim.export.dominion import write_dominion_cvr
from pollsim.export.eventlog import device_event_log, election_event_log
from pollsim.export.manifest import write_arlo_manifest
from pollsim.export.results import write_nist_results
from pollsim.export.runlog import write_nist_eventlog
from pollsim.files import atomic_open, atomic_text
from pollsim.rundir import RunDir


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_run` wrote: the format, the file, and how many records.

    Records: CVRs (nist-cvr, dominion-cvr), vote counts (nist-results: one per selection and
    reporting unit), events (nist-eventlog), batches (arlo-manifest).
    """

    format: str
    path: Path
    records: int


WRITERS: dict[str, Callable[[RunDir, IO[str]], int]] = {
    "nist-cvr": write_nist_cvr,
    "nist-results": write_nist_results,
    "nist-eventlog": write_nist_eventlog,
    "arlo-manifest": write_arlo_manifest,
    "dominion-cvr": write_dominion_cvr,
}
"""Each format's writer: ``writer(run, text file) -> records written``."""

FORMATS = tuple(WRITERS)


def export_run(run_dir: Path, fmt: str, out: Path) -> ExportSummary:
    """Export the run directory ``run_dir`` as ``fmt`` (one of :data:`FORMATS`) to the file ``out``.

    Raises :class:`ExportError` (a :class:`pollsim.errors.PollsimError`; :class:`RunDirError` for
    a missing, incomplete or inconsistent run directory) with a one-line message naming the file;
    on any error nothing is left at ``out`` (an existing file there is left as it was).
    """
    run_dir, out = Path(run_dir), Path(out)
    if fmt not in WRITERS:
        raise ExportError(f"{out}: unknown export format {fmt!r} (formats: {', '.join(FORMATS)}); nothing written from {run_dir}")
    if out.is_dir():
        raise ExportError(f"{out}: is a directory; give the path of the file to write")
    run = RunDir(run_dir)
    run.check_ballots()  # every format relies on the ballots agreeing with the other files
    try:
        with atomic_open(out, "wb" if out.suffix == ".gz" else "w", fsync=True) as fh:
            if out.suffix == ".gz":  # no name and mtime 0 in the header: same run, same bytes
                with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz, io.TextIOWrapper(gz, "utf-8", newline="") as text:
                    records = WRITERS[fmt](run, text)
            else:
                records = WRITERS[fmt](run, fh)
    except RunDirError:
        raise
    except PollsimError as exc:  # the output could not be written
        raise ExportError(str(exc)) from None
    if fmt in SIDECAR:
        write_provenance(run, fmt, out)
    return ExportSummary(fmt, out, records)


SIDECAR = ("arlo-manifest", "dominion-cvr")
"""CSV formats with no field for the run's identity: a ``OUT.pollsim.json`` beside them records it."""


def write_provenance(run: RunDir, fmt: str, out: Path) -> None:
    """``OUT.pollsim.json``: the run (SHA-256, scenario, seed) a CSV export was made from."""
    s = run.summary
    doc = {"format": fmt, "file": out.name, "run_sha256": run.run_sha256, "scenario": s.get("scenario"), "seed": s.get("seed"),
           "pollsim_version": run.pollsim_version}  # fmt: skip
    atomic_text(out.with_name(out.name + ".pollsim.json"), json.dumps(doc, indent=2) + "\n")


__all__ = [
    "FORMATS",
    "ExportError",
    "ExportSummary",
    "RunDirError",
    "device_event_log",
    "election_event_log",
    "export_run",
]
