"""Reading a run directory for the exports, and writing an export file atomically.

:class:`RunData` opens a run directory written by :func:`pollsim.rundir.write_run` and checks
that its files agree with each other (ballot matrix width and columns against the election
definition, one precinct index per ballot, device indexes that exist in ``devices.csv``). Small
arrays (the per-ballot precinct and device indexes, 6 bytes a ballot) are loaded whole; the
ballot matrices are read a chunk of rows at a time (:meth:`RunData.iter_rows`) straight out of
the compressed npz member, so an export never holds a statewide matrix, let alone a document.

Every problem is an :class:`ExportError` (a :class:`pollsim.errors.PollsimError`) whose one-line
message names the file. :func:`atomic_output` writes to a temporary file next to the target and
renames it into place only when the export finished, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from pollsim.election.definition import Election
from pollsim.errors import PollsimError
from pollsim.export.eventlog import timestamp

CHUNK_ROWS = 65_536
"""Ballot rows read (and exported) at a time: ~1 MB of matrix for a 16-column election."""

STATE = "Mississippi"
"""The state every pollsim run is in (README: the reference jurisdiction); the run directory has
no state field, so the exports' top geopolitical unit is this state."""

VOTING_KINDS = frozenset({"dre", "scan-single", "scan-batch"})
"""Device kinds that cast (tabulate) ballots; a BMD only prints a card that the scanner casts."""


class ExportError(PollsimError):
    """An export that cannot be written: a bad format name or an unusable output path."""


class RunDirError(ExportError):
    """A run directory that is missing, incomplete or inconsistent: the message names the file."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Device:
    """One row of devices.csv."""

    precinct: int  # index into RunData.precincts
    index: int  # index within the precinct (ballots.npz ``device``)
    device_id: str
    kind: str
    public_count: int
    log_entries: int
    log_head: str


@dataclass(frozen=True)
class Precinct:
    """One row of precincts.csv (the fields the exports use)."""

    id: str
    county: str
    equipment: str
    registered_voters: int
    voters_arrived: int
    ballots_cast: int


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class RunData:
    """A run directory, opened for export (see the module docstring)."""

    def __init__(self, run_dir: Path | str):
        self.dir = Path(run_dir)
        if not self.dir.exists():
            raise RunDirError(self.dir, "no such run directory")
        if not self.dir.is_dir():
            raise RunDirError(self.dir, "not a run directory (not a directory)")
        for name in ("election.json", "summary.json", "ballots.npz", "precincts.csv", "devices.csv"):
            if not (self.dir / name).is_file():
                raise RunDirError(self.dir / name, "missing from the run directory")
        self.election = self._load_election()
        self.summary = self._load_json("summary.json")
        self.precincts = self._load_precincts()
        self.devices = self._load_devices()
        self._check_ballots()

    # ------------------------------------------------------------------ loading

    def _load_json(self, name: str) -> dict:
        path = self.dir / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunDirError(path, f"unreadable JSON ({_one_line(exc)})") from exc
        if not isinstance(data, dict):
            raise RunDirError(path, "expected a JSON object")
        return data

    def _load_election(self) -> Election:
        path = self.dir / "election.json"
        d = self._load_json("election.json")
        try:
            election = Election.from_dict(d)
        except (KeyError, TypeError, ValueError) as exc:
            raise RunDirError(path, f"not an election definition ({_one_line(exc)})") from exc
        if not election.contests:
            raise RunDirError(path, "the election has no contests")
        return election

    def _read_csv(self, name: str, needed: tuple[str, ...]) -> list[dict[str, str]]:
        path = self.dir / name
        try:
            with path.open(newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                missing = [c for c in needed if c not in (reader.fieldnames or [])]
                if missing:
                    raise RunDirError(path, f"missing column(s) {', '.join(missing)}")
                return list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise RunDirError(path, f"unreadable CSV ({_one_line(exc)})") from exc

    def _load_precincts(self) -> list[Precinct]:
        path = self.dir / "precincts.csv"
        rows = self._read_csv("precincts.csv", ("precinct", "county", "equipment", "registered_voters", "voters_arrived", "ballots_cast"))
        out = []
        for line, r in enumerate(rows, start=2):
            try:
                out.append(Precinct(r["precinct"], r["county"], r["equipment"], int(r["registered_voters"]), int(r["voters_arrived"]), int(r["ballots_cast"])))
            except (TypeError, ValueError) as exc:
                raise RunDirError(f"{path}:{line}", f"bad precinct row ({_one_line(exc)})") from exc
        if len({p.id for p in out}) != len(out):
            raise RunDirError(path, "duplicate precinct ids")
        return out

    def _load_devices(self) -> list[Device]:
        path = self.dir / "devices.csv"
        rows = self._read_csv("devices.csv", ("precinct", "index", "device_id", "kind", "public_count", "log_entries", "log_head"))
        index = {p.id: i for i, p in enumerate(self.precincts)}
        out = []
        for line, r in enumerate(rows, start=2):
            if r["precinct"] not in index:
                raise RunDirError(f"{path}:{line}", f"precinct {r['precinct']!r} is not in precincts.csv")
            try:
                out.append(Device(index[r["precinct"]], int(r["index"]), r["device_id"], r["kind"], int(r["public_count"]), int(r["log_entries"]), r["log_head"]))
            except (TypeError, ValueError) as exc:
                raise RunDirError(f"{path}:{line}", f"bad device row ({_one_line(exc)})") from exc
        if len({(d.precinct, d.index) for d in out}) != len(out):
            raise RunDirError(path, "a precinct lists the same device index twice")
        return out

    @cached_property
    def _ballot_index(self) -> dict[str, np.ndarray]:
        return self.load_arrays("ballots.npz", ("precinct", "device", "columns", "precinct_ids"))

    def _check_ballots(self) -> None:
        path = self.dir / "ballots.npz"
        ix = self._ballot_index
        columns = [str(c) for c in ix["columns"]]
        expected = [f"{c.contest}/{c.choice}" for c in self.election.columns]
        if columns != expected:
            raise RunDirError(path, "columns do not match the contests and choices of election.json")
        ids = [str(p) for p in ix["precinct_ids"]]
        if ids != [p.id for p in self.precincts]:
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
            pairs = np.unique(self.batch_keys)
            width = self.device_stride
            for key in pairs.tolist():
                if (key // width, key % width) not in known:
                    raise RunDirError(path, f"a ballot was cast on device {key % width} of precinct {ids[key // width]!r}, which is not in devices.csv")

    def _member_shape(self, name: str) -> tuple[int, ...]:
        with self._open_member("ballots.npz", name) as (f, shape, dtype, _):
            if dtype != np.uint8:
                raise RunDirError(self.dir / "ballots.npz", f"{name} has dtype {dtype}, expected uint8")
            return shape

    @contextlib.contextmanager
    def _open_member(self, archive: str, name: str):
        path = self.dir / archive
        try:
            with zipfile.ZipFile(path) as zf, zf.open(name + ".npy") as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                if fortran and len(shape) > 1:
                    raise RunDirError(path, f"{name} is stored in Fortran order; expected C order")
                yield f, shape, dtype, path
        except RunDirError:
            raise
        except KeyError as exc:
            raise RunDirError(path, f"missing array {name}") from exc
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise RunDirError(path, f"unreadable npz archive ({_one_line(exc)})") from exc

    # ------------------------------------------------------------------ ballots

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
        top = max([d.index for d in self.devices] + [int(self._ballot_index["device"].max()) if self.n_ballots else 0])
        return top + 1

    @cached_property
    def batch_keys(self) -> np.ndarray:
        """``int64[n]``: precinct * stride + device: one key per (precinct, device) batch."""
        return self.ballot_precinct.astype(np.int64) * self.device_stride + self.ballot_device.astype(np.int64)

    @cached_property
    def batch_sequence(self) -> np.ndarray:
        """``int64[n]``: each ballot's 1-based position among its batch's ballots, in cast order."""
        keys = self.batch_keys
        n = len(keys)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.ones(n, bool)
        starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
        first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        seq = np.empty(n, np.int64)
        seq[order] = np.arange(n) - first + 1
        return seq

    def iter_rows(self, layer: str = "cvr", chunk: int = CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, uint8[k, width])`` chunks of a ballot layer, read without loading it whole."""
        with self._open_member("ballots.npz", layer) as (f, shape, dtype, path):
            n, width = shape if len(shape) == 2 else (shape[0], 0)
            if width != self.election.width or n != self.n_ballots:
                raise RunDirError(path, f"{layer} has shape {shape}, expected ({self.n_ballots}, {self.election.width})")
            row_bytes = width * dtype.itemsize
            start = 0
            while start < n:
                k = min(chunk, n - start)
                buf = f.read(k * row_bytes)
                if len(buf) != k * row_bytes:
                    raise RunDirError(path, f"{layer} is truncated")
                yield start, np.frombuffer(buf, dtype=dtype).reshape(k, width)
                start += k

    def iter_columns(self, archive: str, names: tuple[str, ...], chunk: int = CHUNK_ROWS) -> Iterator[dict[str, np.ndarray]]:
        """Aligned chunks of equally long 1-D arrays of an npz archive, read without loading them whole."""
        with contextlib.ExitStack() as stack:
            members = {name: stack.enter_context(self._open_member(archive, name)) for name in names}
            lengths = {shape[0] if len(shape) == 1 else -1 for _, shape, _, _ in members.values()}
            if len(lengths) != 1 or -1 in lengths:
                raise RunDirError(self.dir / archive, f"arrays {', '.join(names)} are not equally long 1-D arrays")
            n = lengths.pop()
            start = 0
            while start < n:
                k = min(chunk, n - start)
                out = {}
                for name, (f, _, dtype, path) in members.items():
                    buf = f.read(k * dtype.itemsize)
                    if len(buf) != k * dtype.itemsize:
                        raise RunDirError(path, f"{name} is truncated")
                    out[name] = np.frombuffer(buf, dtype=dtype)
                yield out
                start += k

    def load_arrays(self, archive: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Small arrays of an npz archive, loaded whole (names tables, id lists)."""
        path = self.dir / archive
        if not path.is_file():
            raise RunDirError(path, "missing from the run directory")
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = [m for m in names if m not in z.files]
                if missing:
                    raise RunDirError(path, f"missing array(s) {', '.join(missing)}")
                return {k: z[k] for k in names}
        except RunDirError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise RunDirError(path, f"unreadable npz archive ({_one_line(exc)})") from exc

    # ------------------------------------------------------------------ derived

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

    def device_path(self, d: Device) -> str:
        return f"{self.precincts[d.precinct].id}/{d.device_id}"

    @cached_property
    def devices_by_precinct(self) -> list[list[Device]]:
        out: list[list[Device]] = [[] for _ in self.precincts]
        for d in self.devices:
            out[d.precinct].append(d)
        for lst in out:
            lst.sort(key=lambda d: d.index)
        return out

    @cached_property
    def counties(self) -> list[str]:
        """County names in order of first appearance in precincts.csv."""
        return list(dict.fromkeys(p.county for p in self.precincts))

    @property
    def pollsim_version(self) -> str:
        return str(self.summary.get("pollsim_version", ""))

    @cached_property
    def generated_time(self) -> str:
        """The export's time stamp: election day at the last voter out (summary.json), local time.

        Fixed by the run, so the same run directory always gives the same bytes; polls closed by
        then, so it is a time at which the results could have been generated.
        """
        last = str(self.summary.get("last_voter_out", "") or "19:00")
        m = re.fullmatch(r"(\d+):(\d\d)", last)
        minutes = int(m[1]) * 60 + int(m[2]) if m else 19 * 60
        try:
            dt.date.fromisoformat(self.election.date)
        except ValueError as exc:
            raise RunDirError(self.dir / "election.json", f"bad election date {self.election.date!r}") from exc
        return timestamp(float(minutes), self.election.date)

    @property
    def definition_hash(self) -> str:
        return self.election.definition_hash


@contextlib.contextmanager
def atomic_output(out: Path | str) -> Iterator:
    """A text file (UTF-8, no newline translation) that appears at ``out`` only if the ``with`` block completes."""
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out}: is a directory; give the path of the file to write")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        f = open(tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise ExportError(f"{out}: cannot write ({_one_line(exc)})") from exc
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise ExportError(f"{out}: cannot write ({_one_line(exc)})") from exc
        raise
