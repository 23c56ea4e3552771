"""Device memory: where a device keeps its counters, cast vote records and paper records.

The firmware (:mod:`pollsim.devices.firmware`) knows no disk: it writes through a store. The
simulator uses :class:`MemoryStore`, preallocated numpy arrays (one row per ballot, one column per
choice, see :mod:`pollsim.election.definition`); the serial emulator uses a crash-safe store that
commits each cast ballot (record, counters, paper record, log entry) in one transaction.
"""

from __future__ import annotations

import numpy as np


class MemoryStore:
    """In-memory device memory with room for ``capacity`` ballots (it grows if needed).

    Attributes:
        cvr: ``uint8[n, width]`` electronic records (cast vote records) in cast order.
        paper: ``uint8[n, width]`` the paper record kept with each cast ballot (VVPAT record or
            the hand-marked/BMD-printed ballot); row *i* is the paper of CVR row *i*.
        cast_time: ``float64[n]`` when each ballot was cast.
        test: ``bool[n]`` whether the ballot was a test ballot (logic and accuracy testing).
        public, protective: the two counters (hardware.md rules).
    """

    def __init__(self, width: int, capacity: int = 256):
        self.width = width
        self.n = 0
        self.cvr = np.zeros((max(capacity, 1), width), np.uint8)
        self.paper = np.zeros_like(self.cvr)
        self.cast_time = np.zeros(max(capacity, 1))
        self.test = np.zeros(max(capacity, 1), bool)
        self.public = 0
        self.protective = 0

    def _grow(self) -> None:
        cap = 2 * len(self.cast_time)
        for name in ("cvr", "paper", "cast_time", "test"):
            old = getattr(self, name)
            new = np.zeros((cap,) + old.shape[1:], old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def record_ballot(self, time: float, cvr_row, paper_row, test: bool) -> int:
        """Store one cast ballot and bump the counters; returns its row index."""
        i = self.n
        if i == len(self.cast_time):
            self._grow()
        self.cvr[i] = cvr_row
        self.paper[i] = paper_row
        self.cast_time[i] = time
        self.test[i] = test
        self.n = i + 1
        self.protective += 1
        if not test:
            self.public += 1
        return i

    def clear_test_ballots(self) -> None:
        """Leaving test mode: test ballots are removed; the protective counter keeps them."""
        keep = ~self.test[: self.n]
        k = int(keep.sum())
        for name in ("cvr", "paper", "cast_time"):
            arr = getattr(self, name)
            arr[:k] = arr[: self.n][keep]
        self.test[:k] = False
        self.n = k

    def ballots(self, test: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cvr, paper, cast_time) of the stored ballots of one kind, as views/copies in cast order."""
        sel = self.test[: self.n] == test
        if sel.all():
            return self.cvr[: self.n], self.paper[: self.n], self.cast_time[: self.n]
        return self.cvr[: self.n][sel], self.paper[: self.n][sel], self.cast_time[: self.n][sel]
