"""The poll states of a voting device, and how its service port tells them on the wire.

A DRE, precinct scanner or BMD goes through seven states between being loaded with the election
and handing its memory card to the county (hardware.md "Poll states"; the polls open and close
at the hours of Miss. Code §23-15-541 and §23-15-581, and the counts the county reads at the end
feed the §23-15-615 ballot accounting)::

    PRE_ELECTION -> TEST_MODE -> READY -> POLLS_OPEN <-> SUSPENDED -> POLLS_CLOSED -> RESULTS_EXPORTED
    PRE_ELECTION -> READY  (set for election)

The serial protocol (docs/protocol.md section 5, STATUS) does not send these seven: it sends
their **wire projection**, ``polls`` (one of :data:`WIRE_POLLS`: closed, open, paused, final)
and a ``test_mode`` flag, which is all a county's reader needs. :attr:`PollState.polls` and
:attr:`PollState.test_mode` give that projection; an electronic pollbook, which has no test mode,
uses READY, POLLS_OPEN and POLLS_CLOSED of the same enum.

A leaf module: it imports nothing from pollsim.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["WIRE_POLLS", "PollState"]

WIRE_POLLS = ("closed", "open", "paused", "final")
"""The values of STATUS's ``polls`` field, in the order a device goes through them."""


class PollState(Enum):
    """Where a device is in its election (the firmware's state)."""

    PRE_ELECTION = "pre-election"
    TEST_MODE = "test-mode"
    READY = "ready"
    POLLS_OPEN = "polls-open"
    SUSPENDED = "suspended"
    POLLS_CLOSED = "polls-closed"
    RESULTS_EXPORTED = "results-exported"

    @property
    def polls(self) -> str:
        """The state as STATUS's ``polls`` tells it: closed, open, paused or final."""
        return _POLLS[self]

    @property
    def test_mode(self) -> bool:
        """STATUS's ``test_mode`` flag: true only in logic-and-accuracy test mode."""
        return self is PollState.TEST_MODE


_POLLS = {
    PollState.PRE_ELECTION: "closed",
    PollState.TEST_MODE: "closed",
    PollState.READY: "closed",
    PollState.POLLS_OPEN: "open",
    PollState.SUSPENDED: "paused",
    PollState.POLLS_CLOSED: "final",
    PollState.RESULTS_EXPORTED: "final",
}
