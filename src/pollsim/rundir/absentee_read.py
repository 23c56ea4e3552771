"""Reading a run's absentee and canvass files (:mod:`.absentee_layout`), checked like every other file.

Each file is hash-checked on first read (:class:`~pollsim.rundir.read.RunDirBase`), then checked
against the run: columns against the election definition, precinct ids against precincts.csv,
every precinct, batch and envelope index in range, the affidavit rulings one per sealed
affidavit ballot of ballots.npz. A damaged or inconsistent file is a one-line
:class:`~pollsim.rundir.read.RunDirError` naming it. A run without absentee voting (no
``absentee`` section in its scenario) has neither file: :attr:`has_absentee` is then false and
the absentee counts are zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pollsim.rundir.absentee_layout import AFFIDAVIT_FIELDS, BATCH_FIELDS, ENVELOPE_FIELDS
from pollsim.rundir.read import RunDirBase, RunDirError

_ABSENTEE_INDEX = (
    "columns", "precinct_ids", "precinct", "batch", "envelope", "county_names", "scanner", "receipt_entries", "applications",
    "sent", "not_returned", "voted_ab", "per_diem", "board_minutes", "scan_minutes", "board_days", "applications_by_reason",
    *(f"envelope_{f}" for f in ENVELOPE_FIELDS), *(f"batch_{f}" for f in BATCH_FIELDS),
)  # fmt: skip
_CANVASS = (
    *(f"affidavit_{f}" for f in AFFIDAVIT_FIELDS), "count_time", "count_county", "count_group", "count_ballots", "curve",
    "certified_at", "commissioner_minutes", "per_diem", "county_names", "affidavit_rejections", "deadline",
)  # fmt: skip


ABSENTEE_TABULATOR = "AB-SCAN"
"""The tabulator name of a county's absentee scanner in manifests and CVR files."""


@dataclass(frozen=True)
class CountedBatch:
    """A batch counted after the polls closed: the resolution board's absentee batches
    (``COUNTY/AB-0001``) and each county's accepted affidavit ballots (``COUNTY/AFF``)."""

    county: str
    tabulator: str
    name: str
    ballots: int
    group: str  # "absentee" or "provisional" (NIST CountItemType)


class AbsenteeReader(RunDirBase):
    """The absentee and canvass part of a run directory (see the module docstring)."""

    @property
    def has_absentee(self) -> bool:
        return self.has("absentee.npz")

    @property
    def has_canvass(self) -> bool:
        return self.has("canvass.npz")

    @cached_property
    def absentee_index(self) -> dict[str, np.ndarray]:
        """Every array of absentee.npz but the ballot matrices, checked against the run."""
        ix = self.load_arrays("absentee.npz", _ABSENTEE_INDEX)
        path = self.dir / "absentee.npz"
        if [str(c) for c in ix["columns"]] != [f"{c.contest}/{c.choice}" for c in self.election.columns]:
            raise RunDirError(path, "columns do not match the contests and choices of election.json")
        if [str(p) for p in ix["precinct_ids"]] != self.precinct_ids:
            raise RunDirError(path, "precinct_ids do not match precincts.csv")
        n_p, n_b, n_e = len(self.precincts), len(ix["batch_county"]), len(ix["envelope_precinct"])
        if len(ix["batch"]) != len(ix["precinct"]) or len(ix["envelope"]) != len(ix["precinct"]):
            raise RunDirError(path, "precinct/batch/envelope indexes do not have one entry per ballot")
        for name, top in (("precinct", n_p), ("batch", n_b), ("envelope_precinct", n_p)):
            a = ix[name]
            if len(a) and (int(a.min()) < 0 or int(a.max()) >= top):
                raise RunDirError(path, f"{name}: an index is out of range")
        if len(ix["envelope"]) and (int(ix["envelope"].min()) < -1 or int(ix["envelope"].max()) >= n_e):
            raise RunDirError(path, "envelope: an index is out of range")
        if any(len(ix[k]) != n_p for k in ("receipt_entries", "applications", "sent", "not_returned", "voted_ab")):
            raise RunDirError(path, "per-precinct arrays do not have one entry per precinct of precincts.csv")
        return ix

    def absentee_layer(self, layer: str = "cvr") -> np.ndarray:
        """The counted absentee ballots' ``intent``, ``paper`` or ``cvr`` layer: ``uint8[n, width]``."""
        ix = self.absentee_index
        rows = self.load_arrays("absentee.npz", (layer,))[layer]
        if rows.dtype != np.uint8 or rows.ndim != 2 or rows.shape != (len(ix["precinct"]), self.election.width):
            raise RunDirError(self.dir / "absentee.npz", f"{layer} has shape {rows.shape}, expected ({len(ix['precinct'])}, {self.election.width})")
        return rows

    def absentee_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(receipt-book entries, absentee ballots counted) per precinct: the absentee parts of §23-15-615 (b) and (f)."""
        n = len(self.precincts)
        if not self.has_absentee:
            return np.zeros(n, np.int64), np.zeros(n, np.int64)
        ix = self.absentee_index
        return ix["receipt_entries"].astype(np.int64), np.bincount(ix["precinct"], minlength=n).astype(np.int64)

    def absentee_batch_names(self) -> list[str]:
        """Each absentee batch's manifest name, ``COUNTY/AB-0001`` (rows of ``batch_*``)."""
        ix = self.absentee_index
        names = [str(c) for c in ix["county_names"]]
        return [f"{names[int(c)]}/AB-{int(n):04d}" for c, n in zip(ix["batch_county"].tolist(), ix["batch_number"].tolist(), strict=True)]

    @cached_property
    def canvass_arrays(self) -> dict[str, np.ndarray]:
        """Every array of canvass.npz, checked: one ruling per sealed affidavit ballot of ballots.npz."""
        cv = self.load_arrays("canvass.npz", _CANVASS)
        aff = self.load_arrays("ballots.npz", ("affidavit_precinct",))["affidavit_precinct"]
        if any(len(cv[f"affidavit_{f}"]) != len(aff) for f in AFFIDAVIT_FIELDS) or not np.array_equal(cv["affidavit_precinct"], aff):
            raise RunDirError(self.dir / "canvass.npz", "the affidavit rulings do not match the affidavit ballots of ballots.npz")
        return cv

    def affidavits_counted(self, layer: str = "cvr") -> tuple[np.ndarray, np.ndarray]:
        """(rows ``uint8[k, width]``, precinct ``int32[k]``) of the accepted affidavit ballots the canvass
        counted (none without a canvass). The voter's marks are the paper; the scanner reads them as marked."""
        w = self.election.width
        if not self.has_canvass:
            return np.zeros((0, w), np.uint8), np.zeros(0, np.int32)
        counted = self.canvass_arrays["affidavit_counted"].astype(bool)
        z = self.load_arrays("ballots.npz", ("affidavit", "affidavit_precinct"))
        return z["affidavit"][counted], z["affidavit_precinct"][counted]

    @cached_property
    def counted_batches(self) -> list[CountedBatch]:
        """The absentee batches (in absentee.npz order), then one affidavit batch per county with counted affidavit ballots."""
        out = []
        if self.has_absentee:
            ix = self.absentee_index
            counties = [str(c) for c in ix["county_names"]]
            for name, c, n in zip(self.absentee_batch_names(), ix["batch_county"].tolist(), ix["batch_ballots"].tolist(), strict=True):
                out.append(CountedBatch(counties[int(c)], ABSENTEE_TABULATOR, name, int(n), "absentee"))
        _, pre = self.affidavits_counted()
        county_of = [p.county for p in self.precincts]
        for county in self.counties:
            n = sum(1 for p in pre.tolist() if county_of[p] == county)
            if n:
                out.append(CountedBatch(county, ABSENTEE_TABULATOR, f"{county}/AFF", n, "provisional"))
        return out

    def counted_rows(self, layer: str = "cvr") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The ballots counted after the polls closed, as the CVR exports list them after the regular
        ones: (rows ``uint8[k, width]``, precinct ``int32[k]``, batch ``int64[k]`` (index into
        :attr:`counted_batches`), position ``int64[k]`` (1-based, in the batch)). Absentee ballots
        in absentee.npz order, then the accepted affidavit ballots county by county."""
        parts_rows: list[np.ndarray] = []
        parts_pre: list[np.ndarray] = []
        parts_batch: list[np.ndarray] = []
        if self.has_absentee:
            ix = self.absentee_index
            parts_rows.append(self.absentee_layer(layer))
            parts_pre.append(ix["precinct"].astype(np.int32))
            parts_batch.append(ix["batch"].astype(np.int64))
        rows, pre = self.affidavits_counted(layer)
        if len(pre):
            county_index = {c: i for i, c in enumerate(self.counties)}
            aff_batch = {b.county: k for k, b in enumerate(self.counted_batches) if b.group == "provisional"}
            county = np.array([county_index[p.county] for p in self.precincts], np.int64)[pre]
            order = np.argsort(county, kind="stable")
            names = {county_index[c]: k for c, k in aff_batch.items()}
            parts_rows.append(rows[order])
            parts_pre.append(pre[order].astype(np.int32))
            parts_batch.append(np.array([names[int(c)] for c in county[order].tolist()], np.int64))
        if not parts_rows:
            w = self.election.width
            return np.zeros((0, w), np.uint8), np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64)
        batch = np.concatenate(parts_batch)
        return np.concatenate(parts_rows), np.concatenate(parts_pre), batch, positions(batch)


def positions(keys: np.ndarray) -> np.ndarray:
    """Each row's 1-based position among the rows of its key, in row order."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    starts = np.r_[True, sk[1:] != sk[:-1]] if len(sk) else np.zeros(0, bool)
    first = np.maximum.accumulate(np.where(starts, np.arange(len(sk)), 0))
    out = np.empty(len(keys), np.int64)
    out[order] = np.arange(len(sk)) - first + 1
    return out
