"""The records an audit reads: CVRs, paper records, batches (§23-15-617).

An audit of a run compares two of the three layers of ``ballots.npz``: the electronic record
(``cvr``, what the device stored and tabulated) and the paper record (``paper``: the VVPAT record
or the paper ballot, what the audit board reads). Intent is never read: an audit, like a county,
only ever sees the paper.

Arrays (all rows in ``ballots.npz`` order): ``cvr`` and (loaded on first use) ``paper`` are
``uint8[n, width]`` with columns ``election.columns``; ``precinct`` is ``int32[n]`` (index into
``precinct_ids``), ``device`` ``int16[n]`` (index into the precinct's devices, as in
``devices.csv``). :attr:`RunBallots.batches` groups the rows into manifest batches (precinct x
device); :meth:`RunBallots.rows` finds the row of (batch, position) without sorting a million rows.

With absentee voting the rows of ``ballots.npz`` are followed by the ballots counted after the polls
closed (``RunDir.counted_rows``: absentee batches ``COUNTY/AB-0001``, affidavit ``COUNTY/AFF``),
which mix precincts: ``counted_batch`` gives each row its counted batch (-1 for a polling-place
row) and ``counted_names`` each counted batch's (name, county). They are batches of their own,
after the precincts', on the equipment ``central-count-absentee``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from pollsim.audit.errors import AuditError
from pollsim.audit.manifest import RunBatches
from pollsim.election.definition import Election

COUNTED_TABULATOR = "AB-SCAN"
"""Tabulator of the batches counted after the polls closed (the county's absentee scanner)."""
COUNTED_KIND = "central-count-absentee"
"""Equipment (:mod:`.evidence`) of those batches."""


@dataclass(frozen=True, eq=False)
class RunBallots:
    """One run's ballots as an audit sees them (the audit stage's input record).

    Built in memory from the election day (:func:`pollsim.pipeline.run_election`) or from a run
    directory (:meth:`pollsim.rundir.RunDir.audit_ballots`). ``paper`` is the paper layer, or a
    function that loads it when first needed (a run directory's paper layer is read only if the
    audit draws). ``source`` names where the ballots came from, for messages; ``device_kinds`` gives
    each device's kind (``dre``, ``scan-single``...), which sets the evidence its paper is
    (:mod:`.evidence`).
    """

    election: Election
    cvr: np.ndarray  # uint8[n, width]: the electronic records
    precinct: np.ndarray  # int32[n]
    device: np.ndarray  # int16[n]
    precinct_ids: tuple[str, ...]
    counties: tuple[str, ...]  # county of each precinct
    device_ids: dict[tuple[int, int], str]  # (precinct index, device index) -> device id
    paper_source: np.ndarray | Callable[[], np.ndarray]
    source: str = ""
    device_kinds: dict[tuple[int, int], str] = field(default_factory=dict)  # (precinct, device) -> devices.csv kind
    counted_batch: np.ndarray | None = None  # int64[n]: the counted batch of an absentee/affidavit row, -1 otherwise
    counted_names: tuple[tuple[str, str], ...] = ()  # (batch name, county) per counted batch

    @cached_property
    def paper(self) -> np.ndarray:
        """``uint8[n, width]``: the paper records (VVPAT record or paper ballot)."""
        paper = self.paper_source() if callable(self.paper_source) else self.paper_source
        if paper.shape != self.cvr.shape:
            raise AuditError(f"{self.source}: paper and cvr layers differ in shape")
        return paper

    @property
    def n(self) -> int:
        return int(self.cvr.shape[0])

    @cached_property
    def _stride(self) -> int:
        return int(self.device.max()) + 1 if self.n else 1

    @cached_property
    def _keys(self) -> np.ndarray:
        keys = self.precinct.astype(np.int64) * self._stride + self.device.astype(np.int64)
        if self.counted_batch is not None:  # counted batch k is the pseudo precinct len(precinct_ids) + k, device 0
            counted = self.counted_batch >= 0
            keys[counted] = (len(self.precinct_ids) + self.counted_batch[counted]) * self._stride
        return keys

    @property
    def _n_units(self) -> int:
        return len(self.precinct_ids) + len(self.counted_names)

    @cached_property
    def batches(self) -> RunBatches:
        """The CVRs grouped by precinct x device, ordered by precinct then device index."""
        counts = np.bincount(self._keys, minlength=self._n_units * self._stride)
        keys = np.flatnonzero(counts)
        pi, di = keys // self._stride, keys % self._stride
        tabs, names, counties = [], [], []
        n_p = len(self.precinct_ids)
        for p, d in zip(pi.tolist(), di.tolist(), strict=True):
            if p >= n_p:
                name, county = self.counted_names[p - n_p]
                tabs.append(COUNTED_TABULATOR)
                names.append(name)
                counties.append(county)
                continue
            dev = self.device_ids.get((p, d), f"device-{d}")
            tabs.append(dev)
            names.append(f"{self.precinct_ids[p]} {dev}")
            counties.append(self.counties[p])
        return RunBatches(tuple(names), tuple(counties), tuple(tabs), keys.astype(np.int64), counts[keys].astype(np.int64), self._stride)

    @cached_property
    def _precinct_bounds(self) -> np.ndarray | None:
        """Row range of each precinct when rows are grouped by precinct (as pollsim writes them)."""
        p = self.precinct
        if self.counted_batch is not None and bool(np.any(self.counted_batch >= 0)):
            return None
        if self.n and np.any(p[1:] < p[:-1]):
            return None
        return np.searchsorted(p, np.arange(len(self.precinct_ids) + 1), side="left")

    @cached_property
    def _order(self) -> np.ndarray:
        return np.argsort(self._keys, kind="stable")

    @cached_property
    def row_batch(self) -> np.ndarray:
        """``int64[n]``: the run batch (index into :attr:`batches`) of every row (a look-up table
        over the batch keys: one gather, no search)."""
        lut = np.zeros(self._n_units * self._stride, np.int64)
        lut[self.batches.keys] = np.arange(len(self.batches.keys))
        return lut[self._keys]

    def batch_rows(self, run_batch: int) -> np.ndarray:
        """Rows of one run batch, in ballot order (positions 1..n of the batch)."""
        bounds = self._precinct_bounds
        if bounds is None:
            return np.flatnonzero(self.row_batch == run_batch)
        p, d = divmod(int(self.batches.keys[run_batch]), self.batches.stride)
        lo, hi = int(bounds[p]), int(bounds[p + 1])
        return lo + np.flatnonzero(self.device[lo:hi] == d)

    def rows(self, run_batch: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Row in ``ballots.npz`` of the ``position``-th (1-based) CVR of each run batch.

        Rows are grouped by precinct, so each look-up scans only its precinct's rows; no sort of
        the whole election is needed for a sample of a few hundred ballots.
        """
        run_batch = np.asarray(run_batch, np.int64)
        position = np.asarray(position, np.int64)
        out = np.empty(len(run_batch), np.int64)
        b = self.batches
        bounds = self._precinct_bounds
        if bounds is None:  # not grouped: one stable sort
            starts = np.zeros(len(b.counts) + 1, np.int64)
            np.cumsum(b.counts, out=starts[1:])
            return self._order[starts[run_batch] + position - 1]
        cache: dict[int, np.ndarray] = {}
        for i, (rb, pos) in enumerate(zip(run_batch.tolist(), position.tolist(), strict=True)):
            rows = cache.get(rb)
            if rows is None:
                rows = cache[rb] = self.batch_rows(rb)
            out[i] = rows[pos - 1]
        return out
