"""The pollbook: paper roster or electronic pollbook (§23-15-125), and the receipt book.

A poll manager finds the voter, marks VOTED against the name and has the voter sign the receipt
book; then the voter gets a ballot (or, on a DRE, a voter card). A voter who is inactive, not on
the roll, in the wrong precinct, without photo ID, or registered too recently to be listed is not
marked: the voter fills an affidavit envelope and is entered in the separate affidavit register
(§23-15-573). An electronic pollbook also keeps an event log; it cannot add or edit voters.
"""

from __future__ import annotations

from collections import Counter

from pollsim.devices.eventlog import EventLog
from pollsim.election.definition import Election
from pollsim.election.roll import RollStatus

_LAST_REGULAR = int(RollStatus.RESTORED)


class Pollbook:
    """One precinct's pollbook (all its check-in stations share it).

    Attributes:
        marked_voted: voters marked VOTED (§23-15-615(1)(a)).
        receipt_signatures: receipt-book signatures (§23-15-615(1)(b), without absentees).
        affidavit_register: entries in the affidavit register.
        by_status: check-ins per :class:`RollStatus`.
    """

    def __init__(self, device_id: str, election: Election, electronic: bool):
        self.device_id = device_id
        self.electronic = electronic
        self.kind = "electronic-poll-book" if electronic else "paper-poll-book"
        self.marked_voted = 0
        self.receipt_signatures = 0
        self.affidavit_register = 0
        self.by_status = [0] * len(RollStatus)
        self.log = EventLog(device_id, election.definition_hash) if electronic else None

    def check_in(self, t: float, status: int) -> bool:
        """Look the voter up; True if a regular ballot is issued, False for an affidavit ballot."""
        self.by_status[status] += 1
        if status <= _LAST_REGULAR:  # ACTIVE or RESTORED
            self.marked_voted += 1
            self.receipt_signatures += 1
            if self.log is not None:
                self.log.append(t, "voter-checked-in")
            return True
        self.affidavit_register += 1
        if self.log is not None:
            self.log.append(t, "affidavit-issued", details=RollStatus(status).name.lower())
        return False

    def check_in_all(self, times: list[float], statuses: list[int]) -> None:
        """:meth:`check_in` of ``(times[k], statuses[k])`` for each ``k`` in turn (a precinct day's voters)."""
        if self.log is not None:
            for t, status in zip(times, statuses, strict=True):
                self.check_in(t, status)
            return
        for status, k in Counter(statuses).items():
            self.by_status[status] += k
        regular = sum(1 for status in statuses if status <= _LAST_REGULAR)
        self.marked_voted += regular
        self.receipt_signatures += regular
        self.affidavit_register += len(statuses) - regular
