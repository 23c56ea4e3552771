"""Absentee voting before election day and the resolution board (Miss. Code §§23-15-621 to 657, 711 to 735).

Voters with an excuse of §23-15-715, and military and overseas voters, apply to the circuit clerk
and vote by mail or in person at the clerk's office (until noon on the Saturday before,
§23-15-637(1)(b)); mail counts if postmarked by election day and received within five business
days (§23-15-637(1)(a)). The resolution board (§23-15-523) checks every envelope from the opening
of the polls, rejects with a recorded reason (§23-15-639, §23-15-641) and counts the accepted
ballots on the county's absentee equipment in batches. The pollbook shows VOTED AB for every
voter sent a ballot, so that voter is offered an affidavit ballot at the polls (SOS rule 1-17-2.3).

The stage's front door is :func:`run_absentee` (a scenario and a root seed in, an
:class:`AbsenteeRun` out); :func:`with_voted_ab` hands the day its pollbook marks.
"""

from pollsim.absentee.calendar import business_days_after, in_person_deadline, legal_holidays, mail_deadline
from pollsim.absentee.record import BATCH_DTYPE, ENVELOPE_DTYPE, AbsenteeRun, Kind, Status
from pollsim.absentee.stage import draw_envelopes, expected_day_ballots, run_absentee, voted_ab, with_voted_ab

__all__ = [
    "BATCH_DTYPE", "ENVELOPE_DTYPE", "AbsenteeRun", "Kind", "Status", "business_days_after", "expected_day_ballots",
    "draw_envelopes", "in_person_deadline", "legal_holidays", "mail_deadline", "run_absentee", "voted_ab", "with_voted_ab",
]  # fmt: skip
