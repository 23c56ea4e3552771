"""The device event log: append-only, hash-chained, and silent about how anyone voted.

Voting-system standards (VVSG 2002 §2.2.4.1, VVSG 2.0 §5.7) require every device to log power
on/off, configuration, polls open/close, each ballot cast, every error; the record can only be
appended to, never changed, and it must not reveal a vote. pollsim chains the entries: entry *n*
carries SHA-256(hash of entry *n-1* ‖ canonical bytes of entry *n*), so removing, reordering or
editing any entry breaks every later hash. The chain starts from the election definition hash, so
a log also proves which election it belongs to.

Entries are kept as plain tuples in append order; hashes are computed on demand (and cached), so
logging a cast ballot on the simulator's hot path costs one list append.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple


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


class EventLog:
    """An append-only event log for one device."""

    def __init__(self, device: str, genesis: str, persist=None, restored: tuple[list[LogEntry], list[str]] | None = None):
        self.device = device
        self.genesis = genesis  # the election definition hash
        self.entries: list[LogEntry] = list(restored[0]) if restored else []
        self._hashes: list[str] = list(restored[1]) if restored else []
        self._persist = persist  # called with (entry, hash) for each new entry by a crash-safe store

    def append(self, time: float, type: str, disposition: str = Disposition.SUCCESS, details: str = "") -> LogEntry:
        entry = LogEntry(len(self.entries) + 1, time, self.device, type, disposition, details)
        self.entries.append(entry)
        if self._persist is not None:
            self._persist(entry, self.hashes()[-1])
        return entry

    def __len__(self) -> int:
        return len(self.entries)

    def hashes(self) -> list[str]:
        """The chain hash of every entry (computed for new entries since the last call)."""
        prev = self._hashes[-1] if self._hashes else self.genesis
        for e in self.entries[len(self._hashes) :]:
            prev = chain_next(prev, e)
            self._hashes.append(prev)
        return self._hashes

    @property
    def head(self) -> str:
        """Hash of the last entry (the genesis hash for an empty log)."""
        h = self.hashes()
        return h[-1] if h else self.genesis


def verify_chain(genesis: str, entries: list[LogEntry], hashes: list[str]) -> ChainBreak | None:
    """Recompute the chain; return where it breaks, or None if every entry and hash agree."""
    prev = genesis
    for i, (e, h) in enumerate(zip(entries, hashes, strict=True)):
        if e.sequence != i + 1:
            return ChainBreak(e.sequence, f"entry {i + 1} has sequence {e.sequence}")
        prev = chain_next(prev, e)
        if prev != h:
            return ChainBreak(e.sequence, "hash does not match the entry and its predecessor")
    return None
