"""Who may vote a regular ballot: the voter's standing on the roll when they reach the pollbook.

A poll manager looks the voter up in the pollbook (§23-15-125) and the outcome is one of these.
Only ACTIVE and RESTORED voters get a regular ballot; everyone else may vote an affidavit ballot
(§23-15-573), which goes in a sealed envelope and is examined by the commissioners afterwards:

- INACTIVE: a confirmation notice was sent (§23-15-152(3)); may not vote a regular ballot.
- NOT_ON_ROLL: the person is not found in the pollbook.
- WRONG_PRECINCT: registered, but in another precinct.
- NO_PHOTO_ID: cannot show an acceptable photo ID.
- RESTORED: suffrage restored under the 2024 bill; stays on the roll, votes a regular ballot.
- NEW_REGISTRANT: registered within 30 days of the election, so not yet in the pollbook
  (only voters registered at least 30 days before appear): affidavit ballot.
- VOTED_AB: the pollbook shows "VOTED AB" (an absentee ballot was sent or received): affidavit
  ballot, rejected in the canvass if the absentee ballot was accepted (SOS rule 1-17-2.3,
  §23-15-637(3)).
"""

from enum import IntEnum


class RollStatus(IntEnum):
    ACTIVE = 0
    RESTORED = 1
    INACTIVE = 2
    NOT_ON_ROLL = 3
    WRONG_PRECINCT = 4
    NO_PHOTO_ID = 5
    NEW_REGISTRANT = 6
    VOTED_AB = 7

    @property
    def votes_regular_ballot(self) -> bool:
        return self in (RollStatus.ACTIVE, RollStatus.RESTORED)


class VoterNeed(IntEnum):
    """What the voter needs at the voting station (§23-15-531.1(f),(g))."""

    NONE = 0
    AUDIO = 1  # non-visual access: the accessible unit (DRE) or the BMD (paper precinct)
    LANGUAGE = 2  # the alternative-language ballot


#: Statuses whose voters are turned to an affidavit ballot.
AFFIDAVIT_STATUSES = frozenset(s for s in RollStatus if not s.votes_regular_ballot)
