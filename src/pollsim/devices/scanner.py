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


class ScanOutcome:
    CAST = "cast"
    RETURNED_OVERVOTE = "returned-overvote"
    RETURNED_BLANK = "returned-blank"
    RETURNED_MISFEED = "returned-misfeed"  # the sheet fed crooked or two sheets were picked: re-feed


class PrecinctScanner(VotingDevice):
    kind = "scan-single"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.returned = 0
        self.overrides = 0
        self._starts = np.array([s.start for s in self.election.contest_slices.values()])
        self._vote_for = np.array([c.vote_for for c in self.election.contests])

    def overvoted(self, marks: np.ndarray) -> bool:
        per_contest = np.add.reduceat(marks.astype(np.int64), self._starts)
        return bool((per_contest > self._vote_for).any())

    def scan(self, t: float, marks: np.ndarray, override: bool = False) -> str:
        """Read a ballot: cast it, or return it for an overvote or a blank (unless overridden).

        A pending ``misfeed`` or ``double_pick`` fault spoils this feed: the sheet(s) come back
        unread and uncounted, and the fault clears (hardware.md: a worn scanner stopped 8 times in
        12,000 ballots).
        """
        for fault in ("misfeed", "double_pick"):
            if fault in self.faults:
                self.returned += 1
                self.repair(t, fault)
                return ScanOutcome.RETURNED_MISFEED
        if not override:
            if not marks.any():
                self.returned += 1
                self.log.append(t, "ballot-returned", details="blank")
                return ScanOutcome.RETURNED_BLANK
            if self.overvoted(marks):
                self.returned += 1
                self.log.append(t, "ballot-returned", details="overvote")
                return ScanOutcome.RETURNED_OVERVOTE
        else:
            self.overrides += 1
            self.log.append(t, "ballot-override")
        self._record(t, marks, marks)
        return ScanOutcome.CAST
