"""The device event log: append-only, hash-chained, and silent about how anyone voted.

Voting-system standards (VVSG 2002 §2.2.4.1, VVSG 2.0 §5.7) require every device to log power
on/off, configuration, polls open/close, each ballot cast, every error; the record can only be
appended to, never changed, and it must not reveal a vote. pollsim chains the entries: entry *n*
carries SHA-256(hash of entry *n-1* ‖ canonical bytes of entry *n*), so removing, reordering or
editing any entry breaks every later hash. The chain starts from the election definition hash, so
a log also proves which election it belongs to.

A log is kept as columns, not one object per entry: each entry is a time (``array('d')``) and a
code (``array('i')``) into the log's small table of distinct (type, disposition, details) triples.
Logging a cast ballot costs two array appends and a dict lookup; a precinct's logs pickle as a few
buffers. The chain is computed in bulk when asked for (:attr:`EventLog.head` keeps only the last
digest; :meth:`EventLog.hashes` keeps the hex hashes), with the same canonical bytes
(:func:`entry_bytes`) and so the same hashes as an entry-by-entry chain (:func:`verify_chain`).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, overload

import numpy as np


class Disposition:
    SUCCESS = "success"
    FAILURE = "failure"
    NA = "na"
    OTHER = "other"


class LogEntry(NamedTuple):
    """One event. ``time`` is minutes after midnight of election day (simulation) or Unix seconds (emulator)."""

    sequence: int
    time: float
    device: str
    type: str
    disposition: str
    details: str


def entry_bytes(e: LogEntry) -> bytes:
    """Canonical bytes of an entry, as hashed into the chain."""
    return f"{e.sequence}|{e.time!r}|{e.device}|{e.type}|{e.disposition}|{e.details}".encode()


def chain_next(previous: str, e: LogEntry) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + entry_bytes(e)).hexdigest()


@dataclass
class ChainBreak:
    sequence: int
    reason: str


Kind = tuple[str, str, str]  # (type, disposition, details)


class LogEntries(Sequence[LogEntry]):
    """A read-only view of a log's entries as :class:`LogEntry` tuples, made on demand."""

    def __init__(self, log: EventLog):
        self._log = log

    def __len__(self) -> int:
        return len(self._log)

    @overload
    def __getitem__(self, index: int) -> LogEntry: ...
    @overload
    def __getitem__(self, index: slice) -> list[LogEntry]: ...
    def __getitem__(self, index: int | slice) -> LogEntry | list[LogEntry]:
        if isinstance(index, slice):
            return [self._log._entry(k) for k in range(*index.indices(len(self)))]
        n = len(self)
        k = index + n if index < 0 else index
        if not 0 <= k < n:
            raise IndexError("log entry index out of range")
        return self._log._entry(k)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self[:])


class EventLog:
    """An append-only event log for one device.

    ``persist`` (a crash-safe store's ``save_log``) is called with (entry, hash) for each new entry;
    ``restored`` = (entries, hashes) reopens a saved log (hashes may be fewer than the entries, or
    none: the rest of the chain is computed from the genesis).
    """

    def __init__(
        self,
        device: str,
        genesis: str,
        persist: Callable[[LogEntry, str], None] | None = None,
        restored: tuple[Sequence[LogEntry], Sequence[str]] | None = None,
    ):
        self.device = device
        self.genesis = genesis  # the election definition hash
        self._times: array[float] = array("d")
        self._codes: array[int] = array("i")
        self._kinds: list[Kind] = []
        self._code_of: dict[Kind, int] = {}
        self._sequence: array[int] | None = None  # None: entry k has sequence k + 1 (a restored log may differ)
        self._hashes: list[str] = []  # hex hashes of the first len(_hashes) entries, kept once asked for
        self._tip_n, self._tip = 0, bytes.fromhex(genesis)  # digest of entry _tip_n (genesis for 0)
        self._persist: Callable[[LogEntry, str], None] | None = None  # set after restoring
        if restored:
            entries, hashes = restored
            for e in entries:
                self.append(e.time, e.type, e.disposition, e.details)
            if any(e.sequence != k + 1 for k, e in enumerate(entries)):
                self._sequence = array("q", [e.sequence for e in entries])
            self._hashes = list(hashes)
            if self._hashes:
                self._tip_n, self._tip = len(self._hashes), bytes.fromhex(self._hashes[-1])
        self._persist = persist

    def append(self, time: float, type: str, disposition: str = Disposition.SUCCESS, details: str = "") -> None:
        code = self._code_of.get((type, disposition, details))
        if code is None:
            code = self._code_of[type, disposition, details] = len(self._kinds)
            self._kinds.append((type, disposition, details))
        self._times.append(time)
        self._codes.append(code)
        if self._sequence is not None:
            self._sequence.append(len(self._times))
        if self._persist is not None:
            self._persist(self._entry(len(self._times) - 1), self.hashes()[-1])

    def append_many(self, times: Sequence[float], kinds: Sequence[Kind]) -> None:
        """:meth:`append` of ``(times[k], *kinds[k])`` for each ``k`` in turn (the same entries)."""
        if self._sequence is not None or self._persist is not None:
            for t, kind in zip(times, kinds, strict=True):
                self.append(t, *kind)
            return
        codes = []
        code_of = self._code_of
        for kind in kinds:
            code = code_of.get(kind)
            if code is None:
                code = code_of[kind] = len(self._kinds)
                self._kinds.append(kind)
            codes.append(code)
        if len(codes) != len(times):
            raise ValueError("append_many: as many times as kinds")
        self._times.extend(times)
        self._codes.extend(codes)

    def __len__(self) -> int:
        return len(self._times)

    def _entry(self, k: int) -> LogEntry:
        seq = self._sequence[k] if self._sequence is not None else k + 1
        return LogEntry(seq, self._times[k], self.device, *self._kinds[self._codes[k]])

    @property
    def entries(self) -> LogEntries:
        """The entries in append order (a read-only sequence of :class:`LogEntry`)."""
        return LogEntries(self)

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Kind]]:
        """(sequence ``int64[n]``, time ``float64[n]``, kind ``int32[n]``, kinds): the log as
        arrays; entry *k* is ``kinds[kind[k]]`` = (type, disposition, details) at ``time[k]``."""
        n = len(self)
        seq = np.array(self._sequence, np.int64) if self._sequence is not None else np.arange(1, n + 1, dtype=np.int64)
        return seq, np.frombuffer(self._times, np.float64).copy(), np.frombuffer(self._codes, np.int32).copy(), list(self._kinds)

    def _chain(self, start: int, prev: bytes, keep: list[str] | None) -> bytes:
        """Digest of the last entry, chaining entries ``start``.. from ``prev`` (hex hashes into ``keep``)."""
        suffix = [f"|{self.device}|{t}|{d}|{x}" for t, d, x in self._kinds]
        seqs: Sequence[int] = self._sequence if self._sequence is not None else range(1, len(self) + 1)
        sha256 = hashlib.sha256
        rows = zip(seqs[start:], self._times[start:], self._codes[start:], strict=True)
        if keep is None:
            for q, t, c in rows:
                prev = sha256(prev + f"{q}|{t!r}{suffix[c]}".encode()).digest()
        else:
            for q, t, c in rows:
                prev = sha256(prev + f"{q}|{t!r}{suffix[c]}".encode()).digest()
                keep.append(prev.hex())
        return prev

    def hashes(self) -> list[str]:
        """The chain hash of every entry (computed for new entries since the last call)."""
        k = len(self._hashes)
        if k < len(self):
            prev = bytes.fromhex(self._hashes[-1]) if k else bytes.fromhex(self.genesis)
            self._tip = self._chain(k, prev, self._hashes)
            self._tip_n = len(self)
        return self._hashes

    @property
    def head(self) -> str:
        """Hash of the last entry (the genesis hash for an empty log); keeps no other hash."""
        if len(self._hashes) == len(self):
            return self._hashes[-1] if self._hashes else self.genesis
        if self._tip_n < len(self._hashes):
            self._tip_n, self._tip = len(self._hashes), bytes.fromhex(self._hashes[-1])
        if self._tip_n < len(self):
            self._tip = self._chain(self._tip_n, self._tip, None)
            self._tip_n = len(self)
        return self._tip.hex()


def verify_chain(genesis: str, entries: Sequence[LogEntry], hashes: Sequence[str]) -> ChainBreak | None:
    """Recompute the chain; return where it breaks, or None if every entry and hash agree."""
    prev = genesis
    for i, (e, h) in enumerate(zip(entries, hashes, strict=True)):
        if e.sequence != i + 1:
            return ChainBreak(e.sequence, f"entry {i + 1} has sequence {e.sequence}")
        prev = chain_next(prev, e)
        if prev != h:
            return ChainBreak(e.sequence, "hash does not match the entry and its predecessor")
    return None
