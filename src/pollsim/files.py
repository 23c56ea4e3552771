"""Writing files so that a crash never leaves half of one: the one implementation pollsim uses.

Every file pollsim writes (a run directory's files, an export, a device readout, the emulator's
port symlink, a ``--seen`` counter file) goes to a temporary name beside its target and is renamed
into place only once it is complete (``os.replace`` is atomic on POSIX), so a reader sees either
the old file or the new one, never a mixture, and a failed write leaves the old file intact
(brief: "bad input loses nothing").

A leaf module: it imports nothing from pollsim but :mod:`pollsim.errors`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from pollsim.errors import PollsimError

__all__ = ["atomic_bytes", "atomic_open", "atomic_symlink", "atomic_text", "csv_text", "one_line", "write_npz"]


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


def write_npz(path: Path | str, arrays: dict[str, np.ndarray], *, level: int | None = None) -> None:
    """Like ``np.savez_compressed`` but byte-reproducible (fixed member timestamps and order) and atomic.

    ``level``: the zlib compression level (default zlib's 6; 1 is several times faster for big tables).
    """
    with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if level is None:  # streamed into the archive: no second copy of a large array in memory
                with zf.open(info, "w") as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
                continue
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(info, buf.getvalue(), compresslevel=level)
