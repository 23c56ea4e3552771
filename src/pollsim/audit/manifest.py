"""The ballot manifest: where every paper record of the election is kept (§§23-15-617 to 617.5).

Before an audit draws a single ballot, the county lists its containers of paper records: for each
batch, the container it sits in (the county), the tabulator that counted it (the device id) and
how many ballots it holds. A ballot is then named by its batch and its position in the batch,
1..n, counted in file order: ``('28001-001 DRE-2', 17)`` is the 17th VVPAT record of unit DRE-2 in
precinct 28001-001. The random sample is drawn from these names, so the manifest must account for
every ballot, and the audit must not trust the electronic records to say how many there are.

From a run directory (:func:`manifest_from_run`) the batches are precinct x device, in the order
of ``precinct_ids`` then device index; Container = county, Tabulator = device id, Batch Name =
``"<precinct id> <device id>"``. From a county's CSV file (:func:`read_manifest_csv`) the columns
``Batch Name`` and ``Number of Ballots`` are required, ``Container`` and ``Tabulator`` optional.

:func:`check_manifest` compares the manifest with the CVRs batch by batch. Where the manifest lists
more ballots than there are CVRs, the extra positions are *phantoms*: if one is drawn it is treated
the worst way for the reported outcome (Banuelos & Stark 2012, "Limiting risk by turning manifest
phantoms into evil zombies"): a vote for the reported loser in a ballot-polling audit, a two-vote
overstatement in a comparison audit. CVRs that the manifest does not account for stop the audit:
the paper behind them could never be drawn.

Numbers at the boundary are numpy arrays: ``counts`` (``int64[n_batches]``), ``offsets``
(``int64[n_batches + 1]``, the global index of each batch's first ballot). A ballot's *card index*
is its 0-based place in the manifest order: ``offsets[batch] + position - 1``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from pollsim.audit.errors import AuditError, ManifestError

HEADER = ("Container", "Tabulator", "Batch Name", "Number of Ballots")
REQUIRED = ("Batch Name", "Number of Ballots")


@dataclass(frozen=True, eq=False)
class BallotManifest:
    """The county's list of batches of paper records, in the order positions are counted."""

    batch_names: tuple[str, ...]
    containers: tuple[str, ...]  # the county of each batch ("" if the file has no Container column)
    tabulators: tuple[str, ...]  # the device that counted each batch ("" if not given)
    counts: np.ndarray  # int64[n_batches]: ballots in each batch, all > 0
    source: str = ""  # the file or run directory it came from (for messages)

    @cached_property
    def offsets(self) -> np.ndarray:
        """``int64[n_batches + 1]``: card index of each batch's first ballot, then the total."""
        out = np.zeros(len(self.counts) + 1, np.int64)
        np.cumsum(self.counts, out=out[1:])
        return out

    @property
    def total(self) -> int:
        """Ballots in the manifest (N, the denominator of every diluted margin)."""
        return int(self.offsets[-1])

    @cached_property
    def index(self) -> dict[str, int]:
        """Batch name -> batch number."""
        return {name: i for i, name in enumerate(self.batch_names)}

    def locate(self, cards: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(batch number, 1-based position) of each card index."""
        cards = np.asarray(cards, np.int64)
        batch = np.searchsorted(self.offsets[1:], cards, side="right")
        return batch, cards - self.offsets[batch] + 1

    def card(self, batch: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Card index of (batch number, 1-based position)."""
        return self.offsets[np.asarray(batch, np.int64)] + np.asarray(position, np.int64) - 1

    def to_csv(self) -> str:
        """The manifest as a CSV file (``Container,Tabulator,Batch Name,Number of Ballots``)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(zip(self.containers, self.tabulators, self.batch_names, self.counts.tolist(), strict=True))
        return buf.getvalue()

    @cached_property
    def sha256(self) -> str:
        """SHA-256 (hex) of :meth:`to_csv` as UTF-8: what the audit package publishes."""
        return hashlib.sha256(self.to_csv().encode()).hexdigest()

    def ballots_per_container(self, cards: np.ndarray | None = None) -> dict[str, int]:
        """Ballots per container (county): all of them, or the distinct ``cards`` given."""
        names = sorted(set(self.containers))
        code = {c: i for i, c in enumerate(names)}
        per_batch = np.array([code[c] for c in self.containers], np.int64)
        if cards is None:
            counts = np.bincount(per_batch, weights=self.counts, minlength=len(names))
        else:
            batch, _ = self.locate(np.unique(np.asarray(cards, np.int64)))
            counts = np.bincount(per_batch[batch], minlength=len(names))
        return {c: int(n) for c, n in zip(names, counts.tolist(), strict=True) if n}


_INT = re.compile(r"^[+-]?\d+$")


def parse_manifest_csv(text: str, source: str) -> BallotManifest:
    """Parse a manifest file's text; :class:`ManifestError` names ``source`` and the file line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise ManifestError(f"{source}:1: empty file: a ballot manifest needs a header row with 'Batch Name' and 'Number of Ballots'")
    header = [h.strip() for h in header]
    for col in REQUIRED:
        if col not in header:
            raise ManifestError(f"{source}:1: missing column '{col}' (a ballot manifest needs 'Batch Name' and 'Number of Ballots')")
    columns = {name: header.index(name) for name in HEADER if name in header}
    names: list[str] = []
    containers: list[str] = []
    tabulators: list[str] = []
    counts: list[int] = []
    first_seen: dict[str, int] = {}
    line = 1
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        cell = lambda name, row=row: row[columns[name]].strip() if name in columns and columns[name] < len(row) else ""  # noqa: E731
        name = cell("Batch Name")
        if not name:
            raise ManifestError(f"{source}:{line}: empty Batch Name")
        if name in first_seen:
            raise ManifestError(f"{source}:{line}: duplicate batch '{name}' (first listed on line {first_seen[name]})")
        raw = cell("Number of Ballots")
        if not _INT.match(raw):
            raise ManifestError(f"{source}:{line}: Number of Ballots for batch '{name}' is '{raw}', not a whole number")
        n = int(raw)
        if n <= 0:
            what = "zero" if n == 0 else "negative"
            raise ManifestError(f"{source}:{line}: Number of Ballots for batch '{name}' is {what} ({n}); every batch holds at least one ballot")
        first_seen[name] = line
        names.append(name)
        containers.append(cell("Container"))
        tabulators.append(cell("Tabulator"))
        counts.append(n)
    if not names:
        raise ManifestError(f"{source}:{line}: no batches listed")
    return BallotManifest(tuple(names), tuple(containers), tuple(tabulators), np.array(counts, np.int64), source)


def read_manifest_csv(path: Path) -> BallotManifest:
    """Read a ballot manifest CSV file (see :func:`parse_manifest_csv`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(f"{path}:0: cannot read the ballot manifest ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}:0: not a UTF-8 text file") from None
    return parse_manifest_csv(text, str(path))


@dataclass(frozen=True, eq=False)
class RunBatches:
    """The CVRs of a run grouped into batches (precinct x device), in manifest order."""

    names: tuple[str, ...]  # "<precinct id> <device id>"
    containers: tuple[str, ...]  # county of each batch
    tabulators: tuple[str, ...]  # device id of each batch
    keys: np.ndarray  # int64[n_batches]: precinct index * stride + device index
    counts: np.ndarray  # int64[n_batches]: CVRs in each batch
    stride: int  # device indexes are < stride


def manifest_from_run(batches: RunBatches, source: str = "") -> BallotManifest:
    """The manifest a county would write for a run: one batch per precinct x device with ballots."""
    return BallotManifest(batches.names, batches.containers, batches.tabulators, batches.counts.astype(np.int64), source)


@dataclass(frozen=True, eq=False)
class ManifestCheck:
    """The manifest compared with the CVRs, batch by batch.

    ``cvr_batch[b]`` is the run batch holding the CVRs of manifest batch ``b`` (-1: none);
    ``cvr_counts[b]`` their number; ``phantoms[b]`` the manifest positions with no CVR (the
    last ``phantoms[b]`` positions of the batch).
    """

    manifest: BallotManifest
    cvr_batch: np.ndarray  # int64[n_batches]
    cvr_counts: np.ndarray  # int64[n_batches]
    phantoms: np.ndarray  # int64[n_batches]

    @property
    def total_phantoms(self) -> int:
        return int(self.phantoms.sum())

    def is_phantom(self, cards: np.ndarray) -> np.ndarray:
        """Whether each card index is a phantom (a manifest position with no CVR)."""
        batch, position = self.manifest.locate(cards)
        return position > self.cvr_counts[batch]


def check_manifest(manifest: BallotManifest, batches: RunBatches) -> ManifestCheck:
    """Match the manifest's batches with the run's CVR batches by name and count the phantoms.

    Raises :class:`AuditError` when CVRs are not accounted for by the manifest (a batch missing
    from it, or more CVRs than it lists): those ballots could never be drawn.
    """
    run_index = {name: i for i, name in enumerate(batches.names)}
    cvr_batch = np.array([run_index.get(name, -1) for name in manifest.batch_names], np.int64)
    cvr_counts = np.where(cvr_batch >= 0, batches.counts[np.maximum(cvr_batch, 0)], 0).astype(np.int64)
    missing = sorted(set(batches.names) - set(manifest.batch_names))
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise AuditError(f"{manifest.source}: batch '{missing[0]}'{more} has CVRs but is not in the ballot manifest")
    over = np.flatnonzero(cvr_counts > manifest.counts)
    if len(over):
        b = int(over[0])
        raise AuditError(
            f"{manifest.source}: batch '{manifest.batch_names[b]}' lists {int(manifest.counts[b])} ballots but has "
            f"{int(cvr_counts[b])} CVRs; the manifest must account for every ballot"
        )
    return ManifestCheck(manifest, cvr_batch, cvr_counts, manifest.counts - cvr_counts)
