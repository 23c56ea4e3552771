"""Reading a run directory: the one reader every later verb goes through.

:class:`RunDir` opens a run directory written by :func:`pollsim.rundir.write_run`. Each file is
checked against the SHA-256 that ``summary.json`` records for it when it is first read, then
parsed and checked against the others (ballot matrix width and columns against the election
definition, one precinct index per ballot, device indexes that exist in ``devices.csv``). A
missing, truncated, corrupt or changed file is a :class:`RunDirError` whose one-line message
names the file (and the line or array where it can), never a traceback.

:attr:`RunDir.run_sha256` (the SHA-256 of ``summary.json``, which holds every other file's hash)
identifies the run; derived products record it, and :meth:`RunDir.derived` tells whether one was
made from this run. Ballot access (streamed matrices, batches) is in :mod:`.ballots`. A reader
that only reads may have npz arrays inflated once and shared, read-only (:meth:`RunDirBase.share_arrays`).
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import functools
import hashlib
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from pollsim.election.definition import Election
from pollsim.errors import PollsimError
from pollsim.files import atomic_bytes, one_line
from pollsim.rundir.layout import DERIVED, FORMAT_VERSION, SUMMARY, folder_digest

__all__ = ["Device", "Precinct", "RunDirBase", "RunDirError", "is_run_dir"]

SUMMARY_KEYS = ("scenario", "seed", "precincts", "election")


class RunDirError(PollsimError):
    """A run directory that is missing, incomplete, damaged or inconsistent: the message names the file."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Device:
    """One row of devices.csv."""

    precinct: int  # index into RunDir.precincts
    index: int  # index within the precinct (ballots.npz ``device``)
    device_id: str
    kind: str
    public_count: int
    log_entries: int
    log_head: str


@dataclass(frozen=True)
class Precinct:
    """One row of precincts.csv (the typed fields; :meth:`RunDirBase.precinct_rows` has every column)."""

    id: str
    county: str
    equipment: str
    registered_voters: int
    voters_arrived: int
    ballots_cast: int


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` holds a pollsim run (a summary.json naming a scenario and a seed), of any format."""
    try:
        doc = json.loads((Path(path) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(doc, dict) and "scenario" in doc and "seed" in doc


class RunDirBase:
    """A run directory's files, hash-checked and parsed (see the module docstring)."""

    def __init__(self, run_dir: Path | str):
        self.dir = Path(run_dir)
        if not self.dir.exists():
            raise RunDirError(self.dir, "no such directory (not a pollsim run directory)")
        if not self.dir.is_dir():
            raise RunDirError(self.dir, "not a run directory (not a directory)")
        path = self.dir / SUMMARY
        if not path.is_file():
            raise RunDirError(path, "missing from the run directory (not a pollsim run, or damaged)")
        self._summary_bytes = path.read_bytes()
        self.summary: dict = self._parse_json(SUMMARY, self._summary_bytes)
        version = self.summary.get("format_version")
        if version is None and is_run_dir(self.dir):
            raise RunDirError(path, f"written by pollsim {self.summary.get('pollsim_version', '0.1')} (run directory format 1); "
                              f"this pollsim reads format {FORMAT_VERSION}: run the scenario again")  # fmt: skip
        if version != FORMAT_VERSION:
            raise RunDirError(path, f"format_version {version!r}; this pollsim reads format {FORMAT_VERSION}")
        missing = [k for k in SUMMARY_KEYS if k not in self.summary]
        if missing:
            raise RunDirError(path, f"missing key(s) {', '.join(missing)}")
        files = self.summary.get("files")
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise RunDirError(path, "files: expected a mapping of file name -> SHA-256")
        self.files: dict[str, str] = files
        self._bytes: dict[str, bytes] = {}
        self._shared: dict[tuple[str, str], np.ndarray] = {}  # (archive, member) -> array, by share_arrays

    # ------------------------------------------------------------------ identity

    @property
    def run_sha256(self) -> str:
        """The run's identity: SHA-256 of summary.json (which records every other file's SHA-256)."""
        return hashlib.sha256(self._summary_bytes).hexdigest()

    def has(self, name: str) -> bool:
        """Whether the run wrote ``name`` (e.g. ``reporting.csv`` only with election night)."""
        return name in self.files

    # ------------------------------------------------------------------ raw files

    def read_bytes(self, name: str) -> bytes:
        """A file of the run, checked against its SHA-256 in summary.json (read once, then kept)."""
        cached = self._bytes.get(name)
        if cached is not None:
            return cached
        path = self.dir / name
        if name not in self.files:
            raise RunDirError(path, "not among the files summary.json records (not written by this run)")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise RunDirError(path, "missing from the run directory") from None
        except OSError as exc:
            raise RunDirError(path, f"unreadable ({one_line(exc)})") from None
        if hashlib.sha256(data).hexdigest() != self.files[name]:
            raise RunDirError(path, "damaged or changed since the run was written (its SHA-256 is not the one summary.json records)")
        self._bytes[name] = data
        return data

    def _parse_json(self, name: str, data: bytes) -> dict:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise RunDirError(self.dir / name, f"unreadable JSON ({one_line(exc)})") from None
        if not isinstance(doc, dict):
            raise RunDirError(self.dir / name, "expected a JSON object")
        return doc

    def read_json(self, name: str) -> dict:
        return self._parse_json(name, self.read_bytes(name))

    def read_csv(self, name: str, needed: tuple[str, ...] | list[str] = ()) -> list[dict[str, str]]:
        path = self.dir / name
        try:
            reader = csv.DictReader(io.StringIO(self.read_bytes(name).decode("utf-8"), newline=""))
            rows = list(reader)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise RunDirError(path, f"unreadable CSV ({one_line(exc)})") from None
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise RunDirError(path, f"missing column(s) {', '.join(missing)}")
        return rows

    def archive(self, name: str) -> zipfile.ZipFile:
        """An npz archive of the run (hash-checked), for reading members one at a time."""
        try:
            return zipfile.ZipFile(io.BytesIO(self.read_bytes(name)))
        except (zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise RunDirError(self.dir / name, f"unreadable npz archive ({one_line(exc)})") from None

    def load_arrays(self, name: str, members: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Arrays of an npz archive, loaded whole (the arrays :meth:`share_arrays` kept, when it kept them all)."""
        if all((name, m) in self._shared for m in members):
            return {m: self._shared[(name, m)] for m in members}
        path = self.dir / name
        try:
            with np.load(io.BytesIO(self.read_bytes(name)), allow_pickle=False) as z:
                missing = [m for m in members if m not in z.files]
                if missing:
                    raise RunDirError(path, f"missing array(s) {', '.join(missing)}")
                return {k: z[k] for k in members}
        except RunDirError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
            raise RunDirError(path, f"unreadable npz archive ({one_line(exc)})") from None

    def share_arrays(self, name: str, members: tuple[str, ...]) -> None:
        """Inflate ``members`` of the npz archive ``name`` now (:func:`npz_member`) and keep them: :meth:`load_arrays`
        then returns these arrays, **read-only** and shared, for readers that only read (the report). Threads may share
        members of one archive at once (inflating lets go of the GIL) once :meth:`read_bytes` has read it. A member this
        does not read is left to :meth:`load_arrays`, which reads it or names what is wrong."""
        data = self.read_bytes(name)
        for member in members:
            array = npz_member(data, member)
            if array is not None:
                self._shared[(name, member)] = array

    # ------------------------------------------------------------------ typed tables

    @cached_property
    def election(self) -> Election:
        d = self.read_json("election.json")
        try:
            election = Election.from_dict(d)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunDirError(self.dir / "election.json", f"not an election definition ({one_line(exc)})") from None
        if not election.contests:
            raise RunDirError(self.dir / "election.json", "the election has no contests")
        return election

    @property
    def definition_hash(self) -> str:
        return self.election.definition_hash

    @cached_property
    def precinct_rows(self) -> list[dict[str, str]]:
        """Every row of precincts.csv, as text (as many as summary.json's ``precincts``)."""
        rows = self.read_csv("precincts.csv", ("precinct", "county", "equipment", "registered_voters", "voters_arrived", "ballots_cast"))
        if len(rows) != self.summary.get("precincts") or not rows:
            raise RunDirError(self.dir / "precincts.csv", f"{len(rows)} precinct rows, but summary.json says the run has {self.summary.get('precincts')!r}")
        return rows

    @cached_property
    def precincts(self) -> list[Precinct]:
        path = self.dir / "precincts.csv"
        out = []
        for line, r in enumerate(self.precinct_rows, start=2):
            try:
                out.append(Precinct(r["precinct"], r["county"], r["equipment"], int(r["registered_voters"]), int(r["voters_arrived"]), int(r["ballots_cast"])))
            except (TypeError, ValueError) as exc:
                raise RunDirError(f"{path}:{line}", f"bad precinct row ({one_line(exc)})") from None
        if len({p.id for p in out}) != len(out):
            raise RunDirError(path, "duplicate precinct ids")
        return out

    @property
    def precinct_ids(self) -> list[str]:
        return [p.id for p in self.precincts]

    @cached_property
    def device_rows(self) -> list[dict[str, str]]:
        """Every row of devices.csv, as text."""
        return self.read_csv("devices.csv", ("precinct", "index", "device_id", "kind", "public_count", "log_entries", "log_head"))

    @cached_property
    def devices(self) -> list[Device]:
        path = self.dir / "devices.csv"
        index = {p.id: i for i, p in enumerate(self.precincts)}
        out = []
        for line, r in enumerate(self.device_rows, start=2):
            if r["precinct"] not in index:
                raise RunDirError(f"{path}:{line}", f"precinct {r['precinct']!r} is not in precincts.csv")
            try:
                out.append(Device(index[r["precinct"]], int(r["index"]), r["device_id"], r["kind"], int(r["public_count"]), int(r["log_entries"]), r["log_head"]))
            except (TypeError, ValueError) as exc:
                raise RunDirError(f"{path}:{line}", f"bad device row ({one_line(exc)})") from None
        if len({(d.precinct, d.index) for d in out}) != len(out):
            raise RunDirError(path, "a precinct lists the same device index twice")
        return out

    @cached_property
    def devices_by_precinct(self) -> list[list[Device]]:
        out: list[list[Device]] = [[] for _ in self.precincts]
        for d in self.devices:
            out[d.precinct].append(d)
        for lst in out:
            lst.sort(key=lambda d: d.index)
        return out

    def device_path(self, d: Device) -> str:
        return f"{self.precincts[d.precinct].id}/{d.device_id}"

    @cached_property
    def counties(self) -> list[str]:
        """County names in order of first appearance in precincts.csv."""
        return list(dict.fromkeys(p.county for p in self.precincts))

    @property
    def pollsim_version(self) -> str:
        return str(self.summary.get("pollsim_version", ""))

    # ------------------------------------------------------------------ derived products

    def derived(self, name: str, *, stamped: bool = True) -> tuple[dict | list | None, str | None]:
        """A derived JSON product (``reconciliation.json``, ``audit/audit.json``): (document, problem).

        (None, None): not there. (None, problem): there but unreadable, or made from another run
        (its ``run_sha256`` is not this run's): the problem says which, in one line. With
        ``stamped=False`` a document that records no run (a file another tool wrote) is accepted.
        """
        path = self.dir / name
        if not path.is_file():
            return None, None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            return None, f"{name}: unreadable ({one_line(exc)})"
        if not stamped and (isinstance(doc, list) or (isinstance(doc, dict) and "run_sha256" not in doc)):
            return doc, None
        if not isinstance(doc, dict):
            return None, f"{name}: unreadable (expected a JSON object)"
        if doc.get("run_sha256") != self.run_sha256:
            return None, f"{name}: made from another run (run SHA-256 {str(doc.get('run_sha256'))[:12]}..., this run {self.run_sha256[:12]}...); make it again"
        return doc, None

    def check_files(self) -> list[str]:
        """Every file and folder summary.json records, checked against its SHA-256: one line per problem."""
        problems = []
        for name, digest in self.files.items():
            if name.endswith("/"):
                folder = self.dir / name.rstrip("/")
                if not folder.is_dir():
                    problems.append(f"{folder}: missing from the run directory")
                elif folder_digest(folder) != digest:
                    problems.append(f"{folder}: a file in it was changed, added or removed since the run was written")
                continue
            try:
                self.read_bytes(name)
            except RunDirError as exc:
                problems.append(str(exc))
        return problems


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # a zip member's local header: signature, ..., name and extra field lengths


def npz_member(data: bytes, member: str) -> np.ndarray | None:
    """The array ``member`` of the npz archive ``data``, read-only: inflated in one call (:func:`_inflate`), or a view of
    ``data`` (stored). None when there is no such member or not one this reads (another compression, encrypted, another
    ``.npy`` header version, an object array, a length that does not add up): ``np.load`` reads it, or names the problem."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo(f"{member}.npy")
        signature, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, info.header_offset)
        if signature != b"PK\x03\x04" or info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        raw = np.frombuffer(data, np.uint8, info.compress_size, info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
        buf = raw if info.compress_type == zipfile.ZIP_STORED else _inflate(raw, info.file_size)
        v1 = buf[6:8].tobytes() == b"\x01\x00"  # after the magic b"\x93NUMPY": version 1.0, or 2.0 (a longer header)
        if len(buf) != info.file_size or buf[:6].tobytes() != np.lib.format.MAGIC_PREFIX or not (v1 or buf[6:8].tobytes() == b"\x02\x00"):
            return None
        offset = 10 + int(buf[8:10].view("<u2")[0]) if v1 else 12 + int(buf[8:12].view("<u4")[0])
        read_header = np.lib.format.read_array_header_1_0 if v1 else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(io.BytesIO(buf[8:offset].tobytes()))
        if dtype.hasobject or len(buf) - offset != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            return None
        array = buf[offset:].view(dtype)
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, struct.error, EOFError, OverflowError, IndexError):
        return None
    array = array.reshape(shape[::-1]).T if fortran else array.reshape(shape)
    if not array.flags.aligned:  # a stored member at an odd offset: numpy reads aligned arrays faster
        array = array.copy(order="K")
    array.flags.writeable = False
    return array


def _inflate(raw: np.ndarray, size: int) -> np.ndarray:
    """Raw deflate inflated to ``size`` bytes: by libdeflate (about twice as fast), else by zlib (in a stream, as zipfile)."""
    lib = _libdeflate()
    if lib is not None and (d := lib.libdeflate_alloc_decompressor()):
        out, got = np.empty(size, np.uint8), ctypes.c_size_t()
        status = lib.libdeflate_deflate_decompress(d, raw.ctypes.data, raw.size, out.ctypes.data, size, ctypes.byref(got))  # GIL let go
        lib.libdeflate_free_decompressor(d)
        if status == 0 and got.value == size:
            return out
    return np.frombuffer(zlib.decompressobj(-15).decompress(raw.data, size), np.uint8)


@functools.cache
def _libdeflate() -> ctypes.CDLL | None:
    """The system's libdeflate (Debian's libdeflate0), or None: then zlib inflates (the same bytes)."""
    for name in ("libdeflate.so.0", "libdeflate.so", "libdeflate.dylib"):
        with contextlib.suppress(OSError):
            lib = ctypes.CDLL(name)
            lib.libdeflate_alloc_decompressor.restype = ctypes.c_void_p
            lib.libdeflate_deflate_decompress.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
            lib.libdeflate_free_decompressor.argtypes = [ctypes.c_void_p]
            return lib
    return None


def write_derived(run: RunDirBase, name: str, data: bytes | str) -> Path:
    """Write a derived product (``report.html``, ``plots/NAME.png``) into the run directory.

    Kept here beside the reader, not in :mod:`.write`, so that the report does not import the
    writer and with it the simulation (issue 12); ``pollsim.rundir.write_derived`` is this."""
    if name.split("/")[0] not in DERIVED:
        raise PollsimError(f"{name}: not a derived product of a run directory ({', '.join(DERIVED)})")
    path = run.dir / name
    atomic_bytes(path, data.encode() if isinstance(data, str) else data)
    return path
