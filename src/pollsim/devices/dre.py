"""A DRE touch-screen unit with its VVPAT printer (AccuVote TSx with AccuView, §23-15-531.1).

The voter makes selections on screen; on an overvote the unit warns and lets the voter correct
(§531.1(c)); before casting it prints the selections on the voter-verified paper audit trail
(§531.1(d)) behind a window. The voter may reject the printed record (it is marked VOID on the
roll and a new one printed, §531.1(b)); after ``rejections_before_official`` rejections on one
unit an official steps in (VVSG 1.1 §7.8.2). The unit never casts without a printed record: with
its printer out of paper it refuses the ballot until paper is replaced (hardware.md).
"""

from __future__ import annotations

import numpy as np

from pollsim.devices.eventlog import Disposition
from pollsim.devices.firmware import _POLLS_OPEN, VotingDevice
from pollsim.devices.store import MemoryStore

_REJECTED = ("vvpat-record-rejected", Disposition.SUCCESS, "")
_CAST = ("ballot-cast", Disposition.SUCCESS, "")

VVPAT_ROLL_FEET = 290.0
"""Thermal roll of the AccuVote TSx AccuView printer (VoteTrustUSA 2005)."""


def records_per_roll(contests: int, roll_feet: float = VVPAT_ROLL_FEET) -> int:
    """Records a roll holds: about 3 in of header and footer plus 0.75 in per contest.

    No published per-record length was found: this estimate is a setting (docs/scenarios.md).
    """
    return max(1, int(roll_feet * 12 / (3.0 + 0.75 * contests)))


class VVPATPrinter:
    """The paper roll behind the window: accepted records, and rejected (VOID) ones."""

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = capacity  # records per roll (None: never runs out)
        self.on_roll = 0  # records printed on the current roll
        self.records_printed = 0
        self.records_rejected = 0
        self.rolls_replaced = 0

    @property
    def out_of_paper(self) -> bool:
        return self.capacity is not None and self.on_roll >= self.capacity

    def print_record(self, rejected: bool = False) -> None:
        self.on_roll += 1
        self.records_printed += 1
        self.records_rejected += rejected


class DRE(VotingDevice):
    """A DRE unit. ``accessible`` units add the audio ballot and keypad (§23-15-531.1(f))."""

    kind = "dre"

    def __init__(self, *args, accessible: bool = False, rejections_before_official: int = 3, roll_records: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.accessible = accessible
        self.printer = VVPATPrinter(roll_records)
        self.rejections_before_official = rejections_before_official
        self.official_calls = 0

    def reject_record(self, t: float) -> None:
        """The voter rejected the printed record: it is voided on the roll."""
        self.printer.print_record(rejected=True)
        self.log.append(t, "vvpat-record-rejected")
        self._check_paper(t)
        if self.rejections_before_official and self.printer.records_rejected % self.rejections_before_official == 0:
            self.official_calls += 1
            self.log.append(t, "official-called", details=f"rejections={self.printer.records_rejected}")

    def cast(self, t: float, selections) -> int:
        """Print the accepted VVPAT record and cast the ballot; returns the ballot's row in memory.

        With the printer out of paper the ballot is refused (no record, no cast).
        """
        i = self._record(t, selections, selections)
        printer = self.printer  # print_record() and _check_paper(), for the ballot after ballot of a day
        printer.on_roll += 1
        printer.records_printed += 1
        if printer.capacity is not None and printer.on_roll >= printer.capacity and "paper_out" not in self.faults:
            self.fail(t, "paper_out")
        return i

    def cast_all(self, times: list[float], ballots: np.ndarray, rejected: list[bool]) -> None:
        """Cast ``ballots[k]`` at ``times[k]`` one after another, each first rejected once on the
        VVPAT where ``rejected[k]``: as :meth:`reject_record` and :meth:`cast` in turn (a precinct
        day's voters at this unit), the records, counters and log entries in one go when the polls
        are open, the unit is fault-free with its memory in RAM, and the roll does not run out."""
        printer, store = self.printer, self.store
        prints = len(times) + sum(rejected)
        if (self.state is not _POLLS_OPEN or self.faults or not self._in_memory or store.limit is not None
                or (printer.capacity is not None and printer.on_roll + prints >= printer.capacity)):  # fmt: skip
            for t, ballot, r in zip(times, ballots, rejected, strict=True):
                if r:
                    self.reject_record(t)
                self.cast(t, ballot)
            return
        log_times: list[float] = []
        kinds: list[tuple[str, str, str]] = []
        every = self.rejections_before_official
        for t, r in zip(times, rejected, strict=True):
            if r:
                printer.records_rejected += 1
                log_times.append(t)
                kinds.append(_REJECTED)
                if every and printer.records_rejected % every == 0:
                    self.official_calls += 1
                    log_times.append(t)
                    kinds.append(("official-called", Disposition.SUCCESS, f"rejections={printer.records_rejected}"))
            log_times.append(t)
            kinds.append(_CAST)
        assert isinstance(store, MemoryStore)
        store.record_many(times, ballots, ballots)
        self.log.append_many(log_times, kinds)
        printer.on_roll += prints
        printer.records_printed += prints

    def _check_paper(self, t: float) -> None:
        if self.printer.out_of_paper and "paper_out" not in self.faults:
            self.fail(t, "paper_out")

    def replace_paper(self, t: float) -> None:
        """A poll manager loads a new roll (supervisor card); the unit may cast again."""
        self.printer.on_roll = 0
        self.printer.rolls_replaced += 1
        self.repair(t, "paper_out")
