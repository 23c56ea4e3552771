"""The ballot manifest as Arlo reads it: CSV ``Container,Tabulator,Batch Name,Number of Ballots``.

A batch is the ballots one tabulating device cast in one precinct (pollsim's ballots are never
re-batched after the polls close): ``Container`` is the precinct's county, ``Tabulator`` the
device id (DRE-1, SCAN-1...), ``Batch Name`` ``PRECINCT/DEVICE`` (unique in the whole file, as
Arlo requires within a jurisdiction), ``Number of Ballots`` the ballots in ``ballots.npz`` cast
on that device. The Dominion CVR export uses the same tabulator and batch names
(``TabulatorNum``, ``BatchId``), as Arlo matches CVRs to the manifest on that pair, and numbers
each batch's ballots 1..n in cast order (``RecordId``), so the manifest and the CVRs agree ballot
for ballot.

Only batches that hold ballots are written: Arlo refuses a batch of 0 ballots ("Batches must have
at least 1 ballot"), and a unit that cast nothing (an accessible unit no voter used, a BMD whose
cards the scanner cast) has no container to sample from. The counts add up to the number of CVRs.

Arlo takes one manifest per jurisdiction (county): split on ``Container``. Rows are precincts in
precincts.csv order, devices in devices.csv order within a precinct, except where Arlo's import
would take a county's last row for a total row (votingworks/arlo ``server/util/csv_parse.py``,
``reject_final_total_row``: the last count equal to the sum of the ones above it): there the
county's last row is written before its first. (Only a county with exactly two batches of equal
size cannot be ordered out of that rule; docs/exports.md.)

With absentee voting, the batches counted after the polls closed follow the precincts' batches
(``RunDir.counted_batches``): each resolution-board batch ``COUNTY/AB-0001`` and each county's
accepted affidavit ballots ``COUNTY/AFF``, on the tabulator ``AB-SCAN``.
"""

from __future__ import annotations

import csv
from typing import IO

import numpy as np

from pollsim.rundir import RunDir

MANIFEST_COLUMNS = ["Container", "Tabulator", "Batch Name", "Number of Ballots"]


def manifest_rows(run: RunDir) -> list[list]:
    """``[county, device id, batch name, ballots]`` per batch that holds ballots, in manifest order."""
    stride = run.device_stride
    counts = np.bincount(run.batch_keys, minlength=len(run.precincts) * stride) if run.n_ballots else np.zeros(len(run.precincts) * stride, np.int64)
    rows = []
    for pi, p in enumerate(run.precincts):
        for d in run.devices_by_precinct[pi]:
            n = int(counts[pi * stride + d.index])
            if n:
                rows.append([p.county, d.device_id, run.device_path(d), n])
    rows.extend([b.county, b.tabulator, b.name, b.ballots] for b in run.counted_batches if b.ballots)
    return no_total_row_last(rows)


def no_total_row_last(rows: list[list]) -> list[list]:
    """``rows`` with each county's last row moved before its first where it equals the sum of the
    county's other rows (Arlo would refuse it as a total row); order kept otherwise."""
    where: dict[str, list[int]] = {}
    for k, r in enumerate(rows):
        where.setdefault(r[0], []).append(k)
    out = list(rows)
    for at in where.values():
        counts = [rows[k][3] for k in at]
        if len(at) > 2 and counts[-1] == sum(counts[:-1]):
            for k, src in zip(at, [at[-1], *at[:-1]], strict=True):
                out[k] = rows[src]
    return out


def write_arlo_manifest(run: RunDir, fh: IO[str]) -> int:
    """Write the manifest CSV to ``fh``; returns the number of batches (rows)."""
    rows = manifest_rows(run)
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(rows)
    return len(rows)
