"""A run directory's ballots and timings, as the later stages read them.

The ballot matrices of ``ballots.npz`` are read a chunk of rows at a time
(:meth:`RunDir.iter_rows`) straight out of the compressed archive member, so an export never
holds a statewide matrix; the small per-ballot indexes (precinct, device: 6 bytes a ballot) are
loaded whole and checked against ``devices.csv`` and ``precincts.csv``. The same class hands the
audit its :class:`~pollsim.audit.RunBallots`, the reconciliation its
:class:`~pollsim.reconcile.PrecinctCounts`, and the report its voters and event-log times.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cached_property

import numpy as np

from pollsim.audit.ballots import COUNTED_KIND, RunBallots
from pollsim.files import one_line
from pollsim.reconcile import PrecinctCounts
from pollsim.rundir.absentee_read import AbsenteeReader, positions
from pollsim.rundir.layout import VOTER_FIELDS
from pollsim.rundir.read import RunDirError

__all__ = ["CHUNK_ROWS", "RunDir"]

CHUNK_ROWS = 65_536
"""Ballot rows read at a time: ~1 MB of matrix for a 16-column election."""


class RunDir(AbsenteeReader):
    """A run directory, opened for reading (see :mod:`pollsim.rundir.read`, :mod:`pollsim.rundir.absentee_read` and this module)."""

    # ------------------------------------------------------------------ ballot indexes

    @cached_property
    def _ballot_index(self) -> dict[str, np.ndarray]:
        ix = self.load_arrays("ballots.npz", ("precinct", "device", "columns", "precinct_ids"))
        self._check_ballots(ix)
        return ix

    def _check_ballots(self, ix: dict[str, np.ndarray]) -> None:
        path = self.dir / "ballots.npz"
        if [str(c) for c in ix["columns"]] != [f"{c.contest}/{c.choice}" for c in self.election.columns]:
            raise RunDirError(path, "columns do not match the contests and choices of election.json")
        ids = [str(p) for p in ix["precinct_ids"]]
        if ids != self.precinct_ids:
            raise RunDirError(path, "precinct_ids do not match precincts.csv")
        shape = self._member_shape("cvr")
        n = shape[0]
        if len(shape) != 2 or shape[1] != self.election.width:
            raise RunDirError(path, f"cvr has shape {shape}, expected (n, {self.election.width})")
        if len(ix["precinct"]) != n or len(ix["device"]) != n:
            raise RunDirError(path, "precinct/device indexes do not have one entry per ballot")
        if n and (ix["precinct"].min() < 0 or ix["precinct"].max() >= len(self.precincts)):
            raise RunDirError(path, "a ballot's precinct index is out of range")
        if n and ix["device"].min() < 0:
            raise RunDirError(path, "a ballot's device index is negative")
        known = {(d.precinct, d.index) for d in self.devices}
        if n:
            width = max([d.index for d in self.devices] + [int(ix["device"].max())]) + 1
            for key in np.unique(ix["precinct"].astype(np.int64) * width + ix["device"]).tolist():
                if (key // width, key % width) not in known:
                    raise RunDirError(path, f"a ballot was cast on device {key % width} of precinct {ids[key // width]!r}, which is not in devices.csv")

    def _member_shape(self, name: str) -> tuple[int, ...]:
        with self._open_member("ballots.npz", name) as (_, shape, dtype):
            if dtype != np.uint8:
                raise RunDirError(self.dir / "ballots.npz", f"{name} has dtype {dtype}, expected uint8")
            return tuple(shape)

    @contextlib.contextmanager
    def _open_member(self, archive: str, name: str) -> Iterator:
        path = self.dir / archive
        zf = self.archive(archive)
        try:
            with zf, zf.open(name + ".npy") as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                if fortran and len(shape) > 1:
                    raise RunDirError(path, f"{name} is stored in Fortran order; expected C order")
                yield f, shape, dtype
        except RunDirError:
            raise
        except KeyError:
            raise RunDirError(path, f"missing array {name}") from None
        except (OSError, ValueError, EOFError) as exc:
            raise RunDirError(path, f"unreadable npz archive ({one_line(exc)})") from None

    def check_ballots(self) -> None:
        """Check ballots.npz against election.json, precincts.csv and devices.csv now (not on first use)."""
        self._ballot_index  # noqa: B018 - loading it runs the checks

    @property
    def n_ballots(self) -> int:
        return len(self._ballot_index["precinct"])

    @property
    def ballot_precinct(self) -> np.ndarray:
        """``int32[n]``: each ballot's precinct (index into :attr:`precincts`)."""
        return self._ballot_index["precinct"]

    @property
    def ballot_device(self) -> np.ndarray:
        """``int16[n]``: each ballot's device (index within its precinct, as in devices.csv)."""
        return self._ballot_index["device"]

    @cached_property
    def device_stride(self) -> int:
        top = max([d.index for d in self.devices] + [int(self.ballot_device.max()) if self.n_ballots else 0])
        return top + 1

    @cached_property
    def batch_keys(self) -> np.ndarray:
        """``int64[n]``: precinct * stride + device: one key per (precinct, device) batch."""
        return self.ballot_precinct.astype(np.int64) * self.device_stride + self.ballot_device.astype(np.int64)

    @cached_property
    def batch_sequence(self) -> np.ndarray:
        """``int64[n]``: each ballot's 1-based position among its batch's ballots, in cast order."""
        return positions(self.batch_keys)

    # ------------------------------------------------------------------ ballot matrices

    def iter_rows(self, layer: str = "cvr", chunk: int = CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, uint8[k, width])`` chunks of a ballot layer, read without loading it whole."""
        n_ballots = self.n_ballots
        with self._open_member("ballots.npz", layer) as (f, shape, dtype):
            n, width = shape if len(shape) == 2 else (shape[0], 0)
            if width != self.election.width or n != n_ballots:
                raise RunDirError(self.dir / "ballots.npz", f"{layer} has shape {shape}, expected ({n_ballots}, {self.election.width})")
            row_bytes = width * dtype.itemsize
            start = 0
            while start < n:
                k = min(chunk, n - start)
                buf = f.read(k * row_bytes)
                if len(buf) != k * row_bytes:
                    raise RunDirError(self.dir / "ballots.npz", f"{layer} is truncated")
                yield start, np.frombuffer(buf, dtype=dtype).reshape(k, width)
                start += k

    def layer(self, name: str) -> np.ndarray:
        """A whole ballot layer (``cvr``, ``paper``, ``intent``): ``uint8[n, width]``."""
        rows = [r for _, r in self.iter_rows(name)]
        return np.concatenate(rows) if rows else np.zeros((0, self.election.width), np.uint8)

    def iter_columns(self, archive: str, names: tuple[str, ...], chunk: int = CHUNK_ROWS) -> Iterator[dict[str, np.ndarray]]:
        """Aligned chunks of equally long 1-D arrays of an npz archive, read without loading them whole."""
        with contextlib.ExitStack() as stack:
            members = {name: stack.enter_context(self._open_member(archive, name)) for name in names}
            lengths = {shape[0] if len(shape) == 1 else -1 for _, shape, _ in members.values()}
            if len(lengths) != 1 or -1 in lengths:
                raise RunDirError(self.dir / archive, f"arrays {', '.join(names)} are not equally long 1-D arrays")
            n = lengths.pop()
            start = 0
            while start < n:
                k = min(chunk, n - start)
                out = {}
                for name, (f, _, dtype) in members.items():
                    buf = f.read(k * dtype.itemsize)
                    if len(buf) != k * dtype.itemsize:
                        raise RunDirError(self.dir / archive, f"{name} is truncated")
                    out[name] = np.frombuffer(buf, dtype=dtype)
                yield out
                start += k

    @cached_property
    def precinct_styles(self) -> list[str]:
        """Each precinct's ballot style id.

        The run directory does not record it. With one style (every bundled scenario) it is that
        style; otherwise the smallest style (first in definition order on ties) whose contests
        include every contest marked on any of the precinct's electronic records.
        """
        styles = self.election.ballot_styles
        if len(styles) == 1 or not self.precincts:
            return [styles[0].id] * len(self.precincts)
        contests = self.election.contests
        seen = np.zeros((len(self.precincts), len(contests)), bool)
        for start, rows in self.iter_rows("cvr"):
            pre = self.ballot_precinct[start : start + len(rows)]
            for ci, c in enumerate(contests):
                marked = rows[:, self.election.contest_slices[c.id]].any(axis=1)
                seen[np.unique(pre[marked]), ci] = True
        out = []
        by_size = sorted(range(len(styles)), key=lambda i: (len(styles[i].contests), i))
        for pi in range(len(self.precincts)):
            used = {contests[ci].id for ci in np.flatnonzero(seen[pi])}
            fit = next((styles[i].id for i in by_size if used <= set(styles[i].contests)), None)
            if fit is None:
                raise RunDirError(self.dir / "ballots.npz", f"precinct {self.precincts[pi].id!r} has marks in contests no ballot style holds together")
            out.append(fit)
        return out

    # ------------------------------------------------------------------ what each stage reads

    def audit_ballots(self) -> RunBallots:
        """The ballots as the audit sees them (the paper layer is read only if the audit draws): the
        rows of ballots.npz, then the absentee and affidavit ballots counted after the polls closed
        (:meth:`counted_rows`), each in its own batch (:attr:`counted_batches`)."""
        pindex = {p: i for i, p in enumerate(self.precinct_ids)}
        device_ids = {(pindex[r["precinct"]], int(r["index"])): r["device_id"] for r in self.device_rows if r["precinct"] in pindex}
        device_kinds = {(pindex[r["precinct"]], int(r["index"])): r.get("kind", "") for r in self.device_rows if r["precinct"] in pindex}
        cvr, precinct, device = self.layer("cvr"), self.ballot_precinct, self.ballot_device
        counted = self.counted_batches
        rows, pre, batch, _ = self.counted_rows("cvr")
        n_p = len(self.precincts)
        device_kinds.update({(n_p + k, 0): COUNTED_KIND for k in range(len(counted))})

        def paper() -> np.ndarray:
            return np.concatenate([self.layer("paper"), self.counted_rows("paper")[0]]) if len(rows) else self.layer("paper")

        return RunBallots(
            election=self.election,
            cvr=np.concatenate([cvr, rows]) if len(rows) else cvr,
            precinct=np.concatenate([precinct, pre.astype(precinct.dtype)]) if len(rows) else precinct,
            device=np.concatenate([device, np.zeros(len(rows), device.dtype)]) if len(rows) else device,
            precinct_ids=tuple(self.precinct_ids),
            counties=tuple(p.county for p in self.precincts),
            device_ids=device_ids,
            paper_source=paper,
            source=str(self.dir),
            device_kinds=device_kinds,
            counted_batch=np.concatenate([np.full(len(cvr), -1, np.int64), batch]) if len(rows) else None,
            counted_names=tuple((b.name, b.county) for b in counted),
        )

    def counts(self) -> PrecinctCounts:
        """The §23-15-615 counts of every precinct, from precincts.csv and devices.csv (and absentee.npz)."""
        rows = self.read_csv("precincts.csv", ("pollbook_marked_voted", "receipt_book_signatures", "ballots_received", "paper_ballots_voted",
                                               "paper_ballots_unused", "paper_ballots_spoiled", "electronic_ballots_cast", "ballots_cast"))  # fmt: skip
        scanners = np.zeros(len(self.precincts), np.int64)
        for d in self.devices:
            if d.kind == "scan-single":
                scanners[d.precinct] += d.public_count

        def col(name: str) -> np.ndarray:
            out = np.zeros(len(rows), np.int64)
            for line, r in enumerate(rows, start=2):
                try:
                    out[line - 2] = int(r[name])
                except (TypeError, ValueError):
                    raise RunDirError(f"{self.dir / 'precincts.csv'}:{line}", f"{name}: expected a whole number, got {r[name]!r}") from None
            return out

        absentee, absentee_counted = self.absentee_counts()
        return PrecinctCounts(
            pollbook_voted=col("pollbook_marked_voted"),
            receipt_signatures=col("receipt_book_signatures"),
            absentee=absentee,
            ballots_received=col("ballots_received"),
            paper_voted=col("paper_ballots_voted"),
            paper_unused=col("paper_ballots_unused"),
            paper_spoiled=col("paper_ballots_spoiled"),
            dre_public=col("electronic_ballots_cast"),
            scanner_public=scanners,
            tabulated=col("ballots_cast"),
            absentee_tabulated=absentee_counted,
        )

    def voters(self, fields: tuple[str, ...] = (*VOTER_FIELDS, "precinct")) -> dict[str, np.ndarray]:
        """Columns of voters.npz (per-voter timings, minutes after midnight; ``precinct`` index)."""
        out = self.load_arrays("voters.npz", fields)
        p = out.get("precinct")
        if p is not None and len(p) and (int(p.min()) < 0 or int(p.max()) >= len(self.precincts)):
            raise RunDirError(self.dir / "voters.npz", f"precinct index beyond the {len(self.precincts)} rows of precincts.csv")
        return out

    def polls_times(self) -> tuple[np.ndarray, np.ndarray]:
        """``float64[n_precincts]`` x 2: when each precinct's devices opened the polls, and closed
        them after the last voter (minutes after midnight; NaN: never), from the event logs."""
        n = len(self.precincts)
        ev = self.load_arrays("eventlog.npz", ("precinct", "time", "type", "types"))
        types = ev["types"].tolist()
        opened, closed = np.full(n, np.nan), np.full(n, np.nan)
        for name, out, reduce in (("state-polls-open", opened, np.fmin), ("state-polls-closed", closed, np.fmax)):
            if name not in types:
                continue
            m = ev["type"] == types.index(name)
            p, t = ev["precinct"][m].astype(np.int64), ev["time"][m]
            ok = (p >= 0) & (p < n)
            reduce.at(out, p[ok], t[ok])
        return opened, closed
