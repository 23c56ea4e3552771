"""A ballot-marking device (ES&S ExpressVote, VxMark, Touch Writer): the accessible path on paper.

A voter with a disability marks the ballot by touch screen or audio and keypad; the BMD prints
a ballot card that the voter then feeds to the precinct scanner. The BMD counts the cards it
printed; it keeps the printed selections as its record but casts nothing itself.
"""

from __future__ import annotations

from pollsim.devices.firmware import VotingDevice


class BMD(VotingDevice):
    kind = "bmd"

    def print_card(self, t: float, selections) -> int:
        """Print a ballot card with these selections (counted on the BMD's public counter)."""
        return self._record(t, selections, selections)
