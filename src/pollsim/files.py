"""Writing files so that a crash never leaves half of one: the one implementation pollsim uses.

Every file pollsim writes (a run directory's files, an export, a device readout, the emulator's
port symlink, a ``--seen`` counter file) goes to a temporary name beside its target and is renamed
into place only once it is complete (``os.replace`` is atomic on POSIX), so a reader sees either
the old file or the new one, never a mixture, and a failed write leaves the old file intact
(brief: "bad input loses nothing").

:class:`ArraySpool` is the other kind of file written piece by piece: an array appended to on disk
(raw C-order bytes, no header) while it is being made, so a long simulation need not hold it in
memory; :func:`write_npz` streams it into an archive member without loading it.

A leaf module: it imports nothing from pollsim but :mod:`pollsim.errors`.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from pollsim.errors import PollsimError

__all__ = ["ArraySpool", "atomic_bytes", "atomic_open", "atomic_symlink", "atomic_text", "csv_text", "file_sha256", "one_line", "write_npz"]


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


class ArraySpool:
    """An array kept on disk while it grows: :meth:`append` adds rows (all of one dtype and row
    shape, set by the first part), :meth:`blocks` and :meth:`load` read it back.

    The file holds the rows' raw bytes in C order, as ``np.concatenate`` of the parts would hold
    them in memory; :func:`write_npz` writes it as the ``.npy`` member that concatenation would
    give, byte for byte. The file belongs to whoever made it (a staging folder, removed with it).
    """

    BLOCK = 16 << 20  # bytes per read when streaming the spool out

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.dtype: np.dtype | None = None
        self.row_shape: tuple[int, ...] = ()
        self.rows = 0
        self._file: IO[bytes] | None = open(self.path, "wb")  # noqa: SIM115 - closed by close()

    def append(self, part: np.ndarray) -> None:
        part = np.ascontiguousarray(part)
        if self.dtype is None:
            self.dtype, self.row_shape = part.dtype, part.shape[1:]
        elif part.dtype != self.dtype or part.shape[1:] != self.row_shape:
            raise ValueError(f"{self.path.name}: a part of {part.dtype}{part.shape[1:]} in a spool of {self.dtype}{self.row_shape}")
        if self._file is None:
            raise ValueError(f"{self.path.name}: the spool is closed")
        self._file.write(part.data.cast("B") if part.size else b"")
        self.rows += len(part)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.rows, *self.row_shape)

    def flush(self) -> None:
        """Hand the rows appended so far to the operating system (the file holds them all)."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _dtype(self) -> np.dtype:
        return self.dtype if self.dtype is not None else np.dtype(np.float64)  # no part: as np.zeros(0)

    def blocks(self) -> Iterator[bytes]:
        """The spooled bytes, :attr:`BLOCK` at a time (the spool is closed first)."""
        self.close()
        with open(self.path, "rb") as f:
            while block := f.read(self.BLOCK):
                yield block

    def load(self) -> np.ndarray:
        """The rows so far, in memory (for the small ones; more may be appended after)."""
        self.flush()
        return np.fromfile(self.path, self._dtype()).reshape(self.shape)

    def write_npy(self, out: IO[bytes]) -> None:
        """Write the array as a ``.npy`` file, the bytes ``np.lib.format.write_array`` writes for it."""
        header = {"descr": np.lib.format.dtype_to_descr(self._dtype()), "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_1_0(out, header)
        for block in self.blocks():
            out.write(block)


def file_sha256(path: Path | str) -> str:
    """The SHA-256 of a file's bytes, read a block at a time."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_npz(path: Path | str, arrays: dict[str, np.ndarray | ArraySpool], *, level: int | None = None) -> None:
    """Like ``np.savez_compressed`` but byte-reproducible (fixed member timestamps and order) and atomic.

    ``level``: the zlib compression level (default zlib's 6; 1 is several times faster for big tables).
    An :class:`ArraySpool` is streamed from its file (never loaded; always at zlib's default level);
    its member is the same bytes as the array's would be (zlib's output does not depend on how its
    input is split).
    """
    with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if isinstance(arr, ArraySpool):  # zlib's default level, as the streamed arrays below
                with zf.open(info, "w") as member:
                    arr.write_npy(member)
                continue
            if level is None:  # streamed into the archive: no second copy of a large array in memory
                with zf.open(info, "w") as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
                continue
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(info, buf.getvalue(), compresslevel=level)
