"""A DRE touch-screen unit with its VVPAT printer (AccuVote TSx with AccuView, §23-15-531.1).

The voter makes selections on screen; on an overvote the unit warns and lets the voter correct
(§531.1(c)); before casting it prints the selections on the voter-verified paper audit trail
(§531.1(d)) behind a window. The voter may reject the printed record (it is marked VOID on the
roll and a new one printed, §531.1(b)); after ``rejections_before_official`` rejections on one
unit an official steps in (VVSG 1.1 §7.8.2). The unit never casts without a printed record: with
its printer out of paper it refuses the ballot until paper is replaced (hardware.md).
"""

from __future__ import annotations

from pollsim.devices.firmware import VotingDevice


class VVPATPrinter:
    """The paper roll behind the window: accepted records, and rejected (VOID) ones."""

    def __init__(self) -> None:
        self.records_printed = 0
        self.records_rejected = 0


class DRE(VotingDevice):
    """A DRE unit. ``accessible`` units add the audio ballot and keypad (§23-15-531.1(f))."""

    kind = "dre"

    def __init__(self, *args, accessible: bool = False, rejections_before_official: int = 3, **kwargs):
        super().__init__(*args, **kwargs)
        self.accessible = accessible
        self.printer = VVPATPrinter()
        self.rejections_before_official = rejections_before_official
        self.official_calls = 0

    def reject_record(self, t: float) -> None:
        """The voter rejected the printed record: it is voided on the roll."""
        self.printer.records_printed += 1
        self.printer.records_rejected += 1
        self.log.append(t, "vvpat-record-rejected")
        if self.rejections_before_official and self.printer.records_rejected % self.rejections_before_official == 0:
            self.official_calls += 1
            self.log.append(t, "official-called", details=f"rejections={self.printer.records_rejected}")

    def cast(self, t: float, selections) -> int:
        """Print the accepted VVPAT record and cast the ballot; returns the ballot's row in memory."""
        i = self._record(t, selections, selections)
        self.printer.records_printed += 1
        return i
