"""A precinct scanner for hand-marked and BMD-printed paper ballots (ES&S DS200, VxScan, Verity Scan).

The voter feeds the ballot; the scanner reads the marks. A blank ballot or an overvoted contest
makes it return the ballot with a warning: the voter may take it back to spoil and re-mark, or
press "cast as is" (an override), in which case the overvoted contest counts for no one. A cast
ballot drops into the ballot box: the paper is the paper record, the scanner's reading the
electronic record (CVR).
"""

from __future__ import annotations

import numpy as np

from pollsim.devices.firmware import VotingDevice
from pollsim.tabulate.tally import overvoted


class ScanOutcome:
    CAST = "cast"
    RETURNED_OVERVOTE = "returned-overvote"
    RETURNED_BLANK = "returned-blank"
    RETURNED_MISFEED = "returned-misfeed"  # the sheet fed crooked or two sheets were picked: re-feed


#: What the reader makes of a ballot's marks (:meth:`PrecinctScanner.read`).
READABLE, BLANK, OVERVOTED = 0, 1, 2


class PrecinctScanner(VotingDevice):
    kind = "scan-single"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.returned = 0
        self.overrides = 0

    def read(self, ballots: np.ndarray) -> np.ndarray:
        """What the reader makes of each ballot, ``int8[n]``: :data:`READABLE`, :data:`BLANK` (no
        mark at all) or :data:`OVERVOTED` (a contest with more marks than seats). Rows of
        ``uint8[n, width]``, or one ballot; the precinct model reads all its voters' ballots at once."""
        ballots = np.atleast_2d(ballots)
        blank = ~ballots.any(axis=1)
        return np.where(blank, BLANK, np.where(overvoted(self.election, ballots), OVERVOTED, READABLE)).astype(np.int8)

    def overvoted(self, marks: np.ndarray) -> bool:
        return bool(self.read(marks)[0] == OVERVOTED)

    def scan(self, t: float, marks: np.ndarray, override: bool = False, verdict: int | None = None) -> str:
        """Read a ballot: cast it, or return it for an overvote or a blank (unless overridden).

        ``verdict``: what :meth:`read` says of ``marks``, if the caller read them beforehand.
        A pending ``misfeed`` or ``double_pick`` fault spoils this feed: the sheet(s) come back
        unread and uncounted, and the fault clears (hardware.md: a worn scanner stopped 8 times in
        12,000 ballots).
        """
        if self.faults:
            for fault in ("misfeed", "double_pick"):
                if fault in self.faults:
                    self.returned += 1
                    self.repair(t, fault)
                    return ScanOutcome.RETURNED_MISFEED
        if not override:
            if verdict is None:
                verdict = int(self.read(marks)[0])
            if verdict == BLANK:
                self.returned += 1
                self.log.append(t, "ballot-returned", details="blank")
                return ScanOutcome.RETURNED_BLANK
            if verdict == OVERVOTED:
                self.returned += 1
                self.log.append(t, "ballot-returned", details="overvote")
                return ScanOutcome.RETURNED_OVERVOTE
        else:
            self.overrides += 1
            self.log.append(t, "ballot-override")
        self._record(t, marks, marks)
        return ScanOutcome.CAST
