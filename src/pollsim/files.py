"""Writing files so that a crash never leaves half of one: the one implementation pollsim uses.

Every file pollsim writes (a run directory's files, an export, a device readout, the emulator's
port symlink, a ``--seen`` counter file) goes to a temporary name beside its target and is renamed
into place only once it is complete (``os.replace`` is atomic on POSIX), so a reader sees either
the old file or the new one, never a mixture, and a failed write leaves the old file intact
(brief: "bad input loses nothing").

:class:`DeflatedSpool` is the other kind of file written piece by piece: an archive member
appended to on disk while it is being made, in pieces deflated where they were made
(:func:`deflate`: a pool worker compresses its own precincts), so a long simulation need neither
hold the array in memory nor compress it all at the end; :func:`write_npz` joins the pieces into
the member without inflating them.

A leaf module: it imports nothing from pollsim but :mod:`pollsim.errors`.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from pollsim.errors import PollsimError

__all__ = ["Deflated", "DeflatedSpool", "atomic_bytes", "atomic_open", "atomic_symlink", "atomic_text", "crc32_combine", "csv_text", "deflate", "file_sha256", "one_line", "write_npz"]


def one_line(exc: BaseException) -> str:
    """An exception's message folded onto one line (the CLI prints one line per problem)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextlib.contextmanager
def atomic_open(path: Path | str, mode: str = "w", *, fsync: bool = False) -> Iterator[IO]:
    """A file that appears at ``path`` only if the ``with`` block completes.

    ``mode`` is ``"w"`` (UTF-8 text, no newline translation) or ``"wb"``. ``fsync``: flush to
    disk before the rename (exports a user waits for; not needed for a simulation's output).
    An ``OSError`` becomes a :class:`~pollsim.errors.PollsimError` naming the path.
    """
    path = Path(path)
    if path.is_dir():
        raise PollsimError(f"{path}: is a directory; give the path of the file to write")
    tmp = _temporary(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(tmp, mode, encoding="utf-8", newline="") if "b" not in mode else open(tmp, mode)  # noqa: SIM115
    except OSError as exc:
        raise PollsimError(f"{path}: cannot write ({one_line(exc)})") from None
    try:
        with f:
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise PollsimError(f"{path}: cannot write ({one_line(exc)})") from None
        raise


def atomic_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w") as f:
        f.write(text)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV table as text (``\\n`` line ends), ready for :func:`atomic_text`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def atomic_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_symlink(target: Path | str, link: Path | str) -> None:
    """Point the symlink ``link`` at ``target``, replacing any earlier link in one step."""
    link = Path(link)
    tmp = _temporary(link)
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


@dataclass(frozen=True)
class Deflated:
    """Rows of an array, deflated on their own (:func:`deflate`): a piece of an archive member.

    ``data`` is raw deflate ending in a sync flush (byte-aligned, not final), so pieces made
    anywhere (a pool worker) join, in order, into one deflate stream; ``crc`` and ``size``: the
    CRC-32 and length of the raw bytes, which the ZIP header needs.
    """

    descr: Any  # the dtype, as a .npy header writes it (a str; a list for a structured dtype)
    row_shape: tuple[int, ...]
    rows: int
    size: int
    crc: int
    data: bytes


LEVEL = 1
"""The zlib level of every archive pollsim writes (a run's ``.npz`` files, the roll's). On pollsim's
tables level 1 takes about half the CPU time of zlib's default 6 for files about 7 % larger
(docs/performance.md, "Statewide day (issue 12)"): a statewide run compresses 230 MB of arrays."""


def _raw(a: np.ndarray) -> memoryview:
    """``a``'s bytes in C order (a view when ``a`` is C-contiguous)."""
    if a.dtype.hasobject:
        raise ValueError("an array of Python objects cannot be written (pollsim archives hold no pickles)")
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8).data


def _joinable(raw: memoryview, level: int) -> bytes:
    """``raw`` as raw deflate ending in a sync flush: byte-aligned, not final, so it joins others."""
    if not len(raw):
        return b""
    z = zlib.compressobj(level, zlib.DEFLATED, -15)
    return z.compress(raw) + z.flush(zlib.Z_SYNC_FLUSH)


def deflate(part: np.ndarray, level: int = LEVEL) -> Deflated:
    """``part``'s raw C-order bytes deflated at zlib ``level`` as one joinable piece (:class:`Deflated`)."""
    raw = _raw(part)
    return Deflated(np.lib.format.dtype_to_descr(part.dtype), part.shape[1:], len(part), len(raw), zlib.crc32(raw), _joinable(raw, level))


_POLY = 0xEDB88320  # CRC-32's polynomial, reflected


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC-32 polynomial (reflected bit order; zlib's ``multmodp``)."""
    m, p = 1 << 31, 0
    while m:
        if a & m:
            p ^= b
            if not a & (m - 1):
                break
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


def _x2n_table() -> list[int]:
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _x2n_table()  # x^(2^k) modulo the polynomial


def crc32_combine(crc1: int, crc2: int, size2: int) -> int:
    """The CRC-32 of ``a + b`` from ``crc32(a)``, ``crc32(b)`` and ``len(b)`` (zlib's
    ``crc32_combine``, which Python's zlib module does not offer): ``crc1`` times x^(8 size2),
    plus ``crc2``."""
    shift, k = 1 << 31, 3  # x^0; the shift is x^(size2 * 2^3)
    while size2:
        if size2 & 1:
            shift = _multmodp(_X2N[k & 31], shift)
        size2 >>= 1
        k += 1
    return _multmodp(shift, crc1) ^ crc2


class DeflatedSpool:
    """An archive member kept on disk, deflated, while it grows: :meth:`append` adds a piece
    (:class:`Deflated`, all of one dtype and row shape, set by the first), :func:`write_npz`
    writes the ``.npy`` member from it without inflating it, :meth:`load` reads it back.

    The file holds the pieces' deflate data one after another; the member is the ``.npy`` file
    ``np.concatenate`` of the parts would give, deflated in those pieces. The file belongs to
    whoever made it (a staging folder, removed with it).
    """

    BLOCK = 16 << 20  # bytes per read when copying the spool out

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.descr: Any = None
        self.row_shape: tuple[int, ...] = ()
        self.rows = self.size = self.crc = 0
        self._file: IO[bytes] | None = open(self.path, "wb")  # noqa: SIM115 - closed by close()

    def append(self, piece: Deflated) -> None:
        if self.descr is None:
            self.descr, self.row_shape = piece.descr, piece.row_shape
        elif (piece.descr, piece.row_shape) != (self.descr, self.row_shape):
            raise ValueError(f"{self.path.name}: a piece of {piece.descr}{piece.row_shape} in a spool of {self.descr}{self.row_shape}")
        if self._file is None:
            raise ValueError(f"{self.path.name}: the spool is closed")
        self._file.write(piece.data)
        self.crc = crc32_combine(self.crc, piece.crc, piece.size)
        self.rows += piece.rows
        self.size += piece.size

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.rows, *self.row_shape)

    @property
    def dtype(self) -> np.dtype:
        """The rows' dtype (no piece: float64, as ``np.zeros(0)``)."""
        return np.lib.format.descr_to_dtype(self.descr) if self.descr is not None else np.dtype(np.float64)

    def flush(self) -> None:
        """Hand the pieces appended so far to the operating system (the file holds them all)."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def blocks(self) -> Iterator[bytes]:
        """The spooled deflate data, :attr:`BLOCK` at a time (the spool is closed first)."""
        self.close()
        with open(self.path, "rb") as f:
            while block := f.read(self.BLOCK):
                yield block

    def load(self) -> np.ndarray:
        """The rows so far, inflated into memory (for the small ones; more may be appended after)."""
        self.flush()
        raw = zlib.decompressobj(-15).decompress(self.path.read_bytes())
        return np.frombuffer(raw, self.dtype).reshape(self.shape).copy()

    def header(self) -> bytes:
        """The ``.npy`` header ``np.lib.format.write_array`` writes for the whole array."""
        return _npy_header({"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape})


def _npy_header(d: dict) -> bytes:
    """The ``.npy`` header ``np.lib.format.write_array`` writes for an array described by ``d``
    (format 1.0, or 2.0 when the header is too long for 1.0)."""
    buf = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buf, d)
    except ValueError:
        buf = io.BytesIO()
        np.lib.format.write_array_header_2_0(buf, d)
    return buf.getvalue()


def _write_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, header: bytes, crc: int, size: int, blocks: Iterable[bytes], level: int) -> None:
    """Add the ``.npy`` member ``info`` to ``zf`` from data already deflated: its ``header``, as one
    more piece, then ``blocks`` (joinable raw deflate of ``size`` bytes whose CRC-32 is ``crc``),
    then the final empty block. This is what ``ZipFile.open(info, "w")`` would write, but
    zipfile has no public way to take deflated data, so the header is written with
    ``ZipInfo.FileHeader`` and patched with the sizes afterwards, as ``ZipFile`` itself does on a
    seekable file."""
    head = deflate(np.frombuffer(header, np.uint8), level)
    fp = zf.fp
    if fp is None:
        raise ValueError("the archive is closed")
    info.flag_bits, info.CRC = 0, crc32_combine(head.crc, crc, size)
    info.file_size, info.compress_size = head.size + size, 0
    zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT
    fp.seek(zf.start_dir)
    info.header_offset = fp.tell()
    fp.write(info.FileHeader(zip64))
    fp.write(head.data)
    written = len(head.data)
    for block in blocks:
        fp.write(block)
        written += len(block)
    final = zlib.compressobj(level, zlib.DEFLATED, -15).flush()  # the last block, empty
    fp.write(final)
    info.compress_size = written + len(final)
    end = fp.tell()
    fp.seek(info.header_offset)
    fp.write(info.FileHeader(zip64))
    fp.seek(end)
    zf.filelist.append(info)
    zf.NameToInfo[info.filename] = info
    zf.start_dir = end


def file_sha256(path: Path | str) -> str:
    """The SHA-256 of a file's bytes, read a block at a time."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_npz(path: Path | str, arrays: Mapping[str, np.ndarray | DeflatedSpool], *, level: int = LEVEL) -> None:
    """Like ``np.savez_compressed`` but byte-reproducible (fixed member timestamps and order) and atomic.

    ``level``: the zlib compression level (:data:`LEVEL`). Every member is written as a
    :class:`DeflatedSpool` is (:func:`_write_member`): its ``.npy`` header and its data deflated
    apart, then joined, so an array and the same array spooled in pieces are written alike; a
    spool is copied from its file as the pieces it was deflated in (never inflated). ``np.load``
    (or any zip reader) reads the members; their deflate bytes differ from one stream's.
    """
    with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if isinstance(arr, DeflatedSpool):
                _write_member(zf, info, arr.header(), arr.crc, arr.size, arr.blocks(), level)
                continue
            arr = np.asarray(arr)
            raw = _raw(arr)
            header = _npy_header(np.lib.format.header_data_from_array_1_0(arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)))
            _write_member(zf, info, header, zlib.crc32(raw), len(raw), [_joinable(raw, level)], level)
