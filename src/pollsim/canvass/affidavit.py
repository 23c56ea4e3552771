"""Affidavit ballots examined in the canvass: each accepted or rejected by rule, with the reason (§23-15-573).

Each sealed affidavit ballot carries the reason the voter was given one (the voter's standing on
the roll at the pollbook). The commissioners rule on it:

- wrong precinct: rejected, the voter was not entitled to vote in that precinct (§23-15-573);
- no photo ID: counted if the voter shows an acceptable ID at the circuit clerk's office within
  five business days (§23-15-563), otherwise rejected;
- marked VOTED AB: rejected if the voter's absentee ballot was received and accepted by the
  resolution board; otherwise it may be accepted if legal (SOS rule 1-17-2.3, §23-15-637(3));
- inactive, not on the roll, new registrant: counted if the registrar finds the voter entitled.

Whether a voter was entitled, or showed the ID, is drawn with the scenario's share for the reason
(``canvass.affidavit``); whether a VOTED AB voter's absentee ballot was accepted comes from the
absentee stage (the share of that precinct's VOTED AB voters at the polls whose ballot it
accepted) or, for a drill's scripted voter, from the scenario. Drawn for all ballots at once.
"""

from __future__ import annotations

import numpy as np

from pollsim.election.roll import RollStatus
from pollsim.scenario.canvass_spec import AffidavitRules

AFFIDAVIT_REJECTIONS = ("not_entitled", "wrong_precinct", "no_id_shown", "absentee_accepted")
"""Why an affidavit ballot was rejected (index; -1: accepted)."""
_NOT_ENTITLED, _WRONG_PRECINCT, _NO_ID, _ABSENTEE_ACCEPTED = range(4)


def acceptance_shares(rules: AffidavitRules) -> np.ndarray:
    """``float64[len(RollStatus)]``: share accepted by the voter's status (regular statuses: 1)."""
    share = np.ones(len(RollStatus))
    share[RollStatus.INACTIVE] = rules.inactive
    share[RollStatus.NOT_ON_ROLL] = rules.not_on_roll
    share[RollStatus.WRONG_PRECINCT] = rules.wrong_precinct
    share[RollStatus.NO_PHOTO_ID] = rules.no_photo_id
    share[RollStatus.NEW_REGISTRANT] = rules.new_registrant
    share[RollStatus.VOTED_AB] = rules.voted_ab
    return share


def rule(
    rng: np.random.Generator, rules: AffidavitRules, status: np.ndarray, absentee_accepted_share: np.ndarray, absentee_known: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(accepted ``bool[n]``, rejection reason ``int8[n]``, -1 when accepted) for affidavit ballots.

    ``status``: each ballot's RollStatus; ``absentee_accepted_share``: for VOTED AB ballots, the
    chance their absentee ballot was accepted; ``absentee_known``: ``int8[n]``, 1/0 where it is
    known (a drill's scripted voter), -1 where it is drawn.
    """
    n = len(status)
    status = status.astype(np.int64)
    voted_ab = status == RollStatus.VOTED_AB
    drawn_ab = rng.random(n) < absentee_accepted_share
    ab_accepted = voted_ab & np.where(absentee_known >= 0, absentee_known == 1, drawn_ab)
    accepted = (rng.random(n) < acceptance_shares(rules)[status]) & ~ab_accepted
    reason = np.full(n, _NOT_ENTITLED, np.int8)
    reason[status == RollStatus.WRONG_PRECINCT] = _WRONG_PRECINCT
    reason[status == RollStatus.NO_PHOTO_ID] = _NO_ID
    reason[ab_accepted] = _ABSENTEE_ACCEPTED
    reason[accepted] = -1
    return accepted, reason
