"""Device memory: where a device keeps its counters, cast vote records and paper records.

The firmware (:mod:`pollsim.devices.firmware`) knows no disk: it writes through a store. The
simulator uses :class:`MemoryStore`, preallocated numpy arrays (one row per ballot, one column per
choice, see :mod:`pollsim.election.definition`); the serial emulator uses a crash-safe store that
commits each cast ballot (record, counters, paper record, log entry) in one transaction.
"""

from __future__ import annotations

import operator
import sqlite3
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from pollsim.devices.eventlog import LogEntry
from pollsim.errors import DeviceError


class MemoryFull(DeviceError):
    """The device's memory cannot hold another ballot."""


class MemoryUnreadable(DeviceError):
    """The device's memory (card) cannot be read."""


_NO_TRANSACTION = nullcontext()


class MemoryStore:
    """In-memory device memory with room for ``capacity`` ballots (it grows if needed).

    Attributes:
        cvr: ``uint8[n, width]`` electronic records (cast vote records) in cast order.
        paper: ``uint8[n, width]`` the paper record kept with each cast ballot (VVPAT record or
            the hand-marked/BMD-printed ballot); row *i* is the paper of CVR row *i*.
        cast_time: ``float64[n]`` when each ballot was cast.
        test: ``bool[n]`` whether the ballot was a test ballot (logic and accuracy testing).
        public, protective: the two counters (hardware.md rules).

    A cast ballot is counted at once; its rows are kept as given (the caller does not change
    them afterwards) and copied into the arrays in one go when the arrays are next read (a
    precinct's day writes hundreds of ballots per device and reads them once, at the close).
    """

    def __init__(self, width: int, capacity: int = 256, limit: int | None = None):
        self.width = width
        self.limit = limit  # ballots the memory can hold (None: unlimited); over it: MemoryFull
        self.state: str | None = None  # the poll state last saved (a restarted device resumes from it)
        self.n = 0
        self._cvr = np.zeros((max(capacity, 1), width), np.uint8)
        self._paper = np.zeros_like(self._cvr)
        self._cast_time = np.zeros(max(capacity, 1))
        self._test = np.zeros(max(capacity, 1), bool)
        self._stored = 0  # ballots copied into the arrays; the rest wait in the lists below
        self._new_cvr: list = []
        self._new_paper: list = []
        self._new_time: list[float] = []
        self._new_test: list[bool] = []
        self.public = 0
        self.protective = 0

    def _settle(self) -> None:
        """Copy the ballots recorded since the last read into the arrays (growing them if needed)."""
        k = len(self._new_time)
        if not k:
            return
        start, end = self._stored, self._stored + k
        cap = len(self._cast_time)
        if end > cap:
            while cap < end:
                cap *= 2
            for name in ("_cvr", "_paper", "_cast_time", "_test"):
                old = getattr(self, name)
                new = np.zeros((cap,) + old.shape[1:], old.dtype)
                new[:start] = old[:start]
                setattr(self, name, new)
        cvr, paper = self._new_cvr, self._new_paper
        self._cvr[start:end] = cvr
        if all(map(operator.is_, cvr, paper)):  # the same rows (a DRE's, a scanner's): copy them once
            self._paper[start:end] = self._cvr[start:end]
        else:
            self._paper[start:end] = paper
        self._cast_time[start:end] = self._new_time
        self._test[start:end] = self._new_test
        self._stored = end
        self._new_cvr, self._new_paper, self._new_time, self._new_test = [], [], [], []

    cvr = property(lambda self: self._settled("_cvr"), doc="Every stored ballot's electronic record (rows settled first).")
    paper = property(lambda self: self._settled("_paper"), doc="Every stored ballot's paper record (rows settled first).")
    cast_time = property(lambda self: self._settled("_cast_time"), doc="When each stored ballot was cast (rows settled first).")
    test = property(lambda self: self._settled("_test"), doc="Whether each stored ballot was a test ballot (rows settled first).")

    def _settled(self, column: str) -> np.ndarray:
        """A column of the store, with the rows handed over since the last read copied in."""
        self._settle()
        return getattr(self, column)

    def record_ballot(self, time: float, cvr_row, paper_row, test: bool) -> int:
        """Store one cast ballot and bump the counters; returns its row index."""
        i = self.n
        if self.limit is not None and i >= self.limit:
            raise MemoryFull(f"memory full ({self.limit} ballots)")
        self._new_cvr.append(cvr_row)
        self._new_paper.append(paper_row)
        self._new_time.append(time)
        self._new_test.append(test)
        self.n = i + 1
        self.protective += 1
        if not test:
            self.public += 1
        return i

    def record_many(self, times: list[float], cvr: np.ndarray, paper: np.ndarray) -> None:
        """:meth:`record_ballot` of live ballots ``(times[k], cvr[k], paper[k])`` for each ``k`` in turn."""
        k = len(times)
        if self.limit is not None and self.n + k > self.limit:
            raise MemoryFull(f"memory full ({self.limit} ballots)")
        rows = list(cvr)
        self._new_cvr.extend(rows)
        self._new_paper.extend(rows if paper is cvr else list(paper))  # the same rows: copied once (_settle)
        self._new_time.extend(times)
        self._new_test.extend([False] * k)
        self.n += k
        self.protective += k
        self.public += k

    def clear_test_ballots(self) -> None:
        """Leaving test mode: test ballots are removed; the protective counter keeps them."""
        self._settle()
        keep = ~self._test[: self.n]
        k = int(keep.sum())
        for name in ("_cvr", "_paper", "_cast_time"):
            arr = getattr(self, name)
            arr[:k] = arr[: self.n][keep]
        self._test[:k] = False
        self.n = self._stored = k

    def ballots(self, test: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cvr, paper, cast_time) of the stored ballots of one kind, as views/copies in cast order."""
        self._settle()
        sel = self._test[: self.n] == test
        if sel.all():
            return self._cvr[: self.n], self._paper[: self.n], self._cast_time[: self.n]
        return self._cvr[: self.n][sel], self._paper[: self.n][sel], self._cast_time[: self.n][sel]

    # The firmware calls these around every change; in memory they cost nothing.
    def transaction(self):
        return _NO_TRANSACTION

    def save_state(self, state: str) -> None:
        self.state = state

    def save_counters(self) -> None:
        pass

    def save_log(self, entry: LogEntry, digest: str) -> None:
        pass

    def saved_log(self) -> tuple[list[LogEntry], list[str]]:
        return [], []


class SQLiteStore:
    """Crash-safe device memory in one SQLite file (the emulator's memory card).

    A cast ballot (CVR, paper record, counters) and its log entry are written in one transaction,
    so killing the process at any instant leaves either the whole ballot or none of it. The
    device's poll state and log are kept too, so a restarted device resumes where it was.
    Tables: ``meta(key, value)``, ``ballots(row, time, test, cvr, paper)``,
    ``log(seq, time, device, type, disposition, details, hash)``.
    """

    def __init__(self, path: str | Path, width: int, definition_hash: str, limit: int | None = None):
        self.path = Path(path)
        self.width = width
        self.limit = limit
        try:
            # The emulator serves its port and casts ballots from two threads, under one lock.
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process
            self.db.executescript(
                """
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS ballots (row INTEGER PRIMARY KEY, time REAL NOT NULL,
                    test INTEGER NOT NULL, cvr BLOB NOT NULL, paper BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, time REAL NOT NULL, device TEXT NOT NULL,
                    type TEXT NOT NULL, disposition TEXT NOT NULL, details TEXT NOT NULL, hash TEXT NOT NULL);
                """
            )
            meta = dict(self.db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise MemoryUnreadable(f"{self.path}: device memory unreadable ({exc})") from None
        if meta.get("definition_hash", definition_hash) != definition_hash:
            raise DeviceError(f"{self.path}: memory holds another election definition ({meta['definition_hash'][:16]}...)")
        if meta.get("width", str(width)) != str(width):
            raise DeviceError(f"{self.path}: memory holds ballots {meta['width']} columns wide, not {width}")
        self.public = int(meta.get("public", 0))
        self.protective = int(meta.get("protective", 0))
        self.state = meta.get("state")
        self.n = self.db.execute("SELECT COUNT(*) FROM ballots").fetchone()[0]
        self._depth = 0
        with self.transaction():
            self._put("definition_hash", definition_hash)
            self._put("width", width)

    def meta(self, key: str) -> str | None:
        """A value kept in the ``meta`` table (the emulator keeps its key and seal counter there)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def save_meta(self, key: str, value) -> None:
        with self.transaction():
            self._put(key, value)

    def _put(self, key: str, value) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(value)))

    @contextmanager
    def transaction(self):
        """Everything written inside commits together, or not at all."""
        outer = self._depth == 0
        if outer:
            self.db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if outer:
                self.db.execute("ROLLBACK")
                self._reload_counts()
            raise
        self._depth -= 1
        if outer:
            self.db.execute("COMMIT")

    def _reload_counts(self) -> None:
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        self.public, self.protective = int(meta.get("public", 0)), int(meta.get("protective", 0))
        self.n = self.db.execute("SELECT COUNT(*) FROM ballots").fetchone()[0]

    def record_ballot(self, time: float, cvr_row, paper_row, test: bool) -> int:
        if self.limit is not None and self.n >= self.limit:
            raise MemoryFull(f"memory full ({self.limit} ballots)")
        with self.transaction():
            i = self.n
            self.db.execute(
                "INSERT INTO ballots(row, time, test, cvr, paper) VALUES (?, ?, ?, ?, ?)",
                (i, time, int(test), np.asarray(cvr_row, np.uint8).tobytes(), np.asarray(paper_row, np.uint8).tobytes()),
            )
            self.n = i + 1
            self.protective += 1
            if not test:
                self.public += 1
            self.save_counters()
        return i

    def save_counters(self) -> None:
        with self.transaction():
            self._put("public", self.public)
            self._put("protective", self.protective)

    def save_state(self, state: str) -> None:
        with self.transaction():
            self.state = state
            self._put("state", state)

    def save_log(self, entry: LogEntry, digest: str) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?)", (*entry, digest))

    def saved_log(self) -> tuple[list[LogEntry], list[str]]:
        rows = self.db.execute("SELECT seq, time, device, type, disposition, details, hash FROM log ORDER BY seq").fetchall()
        return [LogEntry(*r[:6]) for r in rows], [r[6] for r in rows]

    def clear_test_ballots(self) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM ballots WHERE test = 1")
            rows = [r[0] for r in self.db.execute("SELECT row FROM ballots ORDER BY row")]
            for new, old in enumerate(rows):
                self.db.execute("UPDATE ballots SET row = ? WHERE row = ?", (new, old))
            self.n = len(rows)

    def ballots(self, test: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self.db.execute("SELECT cvr, paper, time FROM ballots WHERE test = ? ORDER BY row", (int(test),)).fetchall()
        cvr = np.frombuffer(b"".join(r[0] for r in rows), np.uint8).reshape(len(rows), self.width)
        paper = np.frombuffer(b"".join(r[1] for r in rows), np.uint8).reshape(len(rows), self.width)
        return cvr, paper, np.array([r[2] for r in rows], float)

    def close(self) -> None:
        self.db.close()
