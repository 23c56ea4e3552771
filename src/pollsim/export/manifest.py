"""The ballot manifest as Arlo reads it: CSV ``Container,Tabulator,Batch Name,Number of Ballots``.

A batch is the ballots one tabulating device cast in one precinct (pollsim's ballots are never
re-batched after the polls close): ``Container`` is the precinct's county, ``Tabulator`` the
device id (DRE-1, SCAN-1...), ``Batch Name`` ``PRECINCT/DEVICE`` (unique in the whole file, as
Arlo requires within a jurisdiction), ``Number of Ballots`` the ballots in ``ballots.npz`` cast
on that device. The Dominion CVR export uses the same tabulator and batch names
(``TabulatorNum``, ``BatchId``), as Arlo matches CVRs to the manifest on that pair, and numbers
each batch's ballots 1..n in cast order (``RecordId``), so the manifest and the CVRs agree ballot
for ballot.

Rows: precincts in precincts.csv order, devices in devices.csv order within a precinct; every
device that casts ballots (DRE, precinct scanner) gets a row even with no ballots, and a device
that only prints ballot cards (BMD: the scanner casts its cards) gets none. The counts add up to
the number of CVRs. Arlo takes one manifest per jurisdiction (county): split on ``Container``.
"""

from __future__ import annotations

import csv
from typing import IO

import numpy as np

from pollsim.export.common import VOTING_KINDS
from pollsim.rundir import RunDir

MANIFEST_COLUMNS = ["Container", "Tabulator", "Batch Name", "Number of Ballots"]


def manifest_rows(run: RunDir) -> list[list]:
    """``[county, device id, batch name, ballots]`` per batch, in manifest order."""
    stride = run.device_stride
    counts = np.bincount(run.batch_keys, minlength=len(run.precincts) * stride) if run.n_ballots else np.zeros(len(run.precincts) * stride, np.int64)
    rows = []
    for pi, p in enumerate(run.precincts):
        for d in run.devices_by_precinct[pi]:
            n = int(counts[pi * stride + d.index])
            if n or d.kind in VOTING_KINDS:
                rows.append([p.county, d.device_id, run.device_path(d), n])
    return rows


def write_arlo_manifest(run: RunDir, fh: IO[str]) -> int:
    """Write the manifest CSV to ``fh``; returns the number of batches (rows)."""
    rows = manifest_rows(run)
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(rows)
    return len(rows)
