"""The ``canvass`` section of a scenario: affidavit ballots resolved, late ballots counted, certification.

After election night the county election commissioners examine each sealed affidavit ballot
(§23-15-573): it is counted if the voter was entitled to vote in that precinct. A voter without an
acceptable photo ID is counted if the ID is shown at the circuit clerk's office within five
business days (§23-15-563). A voter marked VOTED AB is rejected if the absentee ballot was received
and accepted by the resolution board, and otherwise may be accepted (SOS rule 1-17-2.3, under
§23-15-637(3)). The commissioners send the certified returns to the Secretary of State within 10
days of the election (§23-15-603).

Acceptance shares by reason are settings: no Mississippi figure by reason is published; national
provisional-ballot counts are in the EAC EAVS reports (docs/absentee.md).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pollsim.scenario.day_spec import ServiceTime, _st
from pollsim.scenario.fields import Float, Int, Share, Strict


class AffidavitRules(Strict):
    """Share of affidavit ballots accepted, by the reason the voter was given one (§23-15-573)."""

    inactive: Share = 0.9
    """Inactive voters (§23-15-152(3)) still living in the precinct: registered, so mostly counted (a setting)."""
    not_on_roll: Share = 0.3
    """Not found in the pollbook: counted when the registrar finds a timely registration (a setting)."""
    wrong_precinct: Share = 0.0
    """Registered in another precinct: not entitled to vote in this one (§23-15-573)."""
    no_photo_id: Share = 0.25
    """No acceptable photo ID: counted when the voter shows it within five business days (§23-15-563); a setting."""
    new_registrant: Share = 0.7
    """Registered within 30 days (not in the pollbook): counted when the registration was timely (a setting)."""
    voted_ab: Share = 0.95
    """Marked VOTED AB, whose absentee ballot was not received or not accepted: counted if legal (SOS rule
    1-17-2.3). When the absentee ballot was accepted the affidavit ballot is always rejected."""


class Canvass(Strict):
    """The canvass from election night to certification (§23-15-573, §23-15-603)."""

    affidavit: AffidavitRules = AffidavitRules()
    """Acceptance of affidavit ballots by reason."""
    affidavit_start_day: Annotated[Int, Field(ge=1, le=10)] = 2
    """Business day after election day on which the commissioners start on affidavit ballots: Thursday after a
    Tuesday election in Adams Co. (Natchez Democrat, 5 Nov 2020) and Lee Co. (Daily Journal, 4 Nov 2020)."""
    affidavit_minutes: ServiceTime = _st("gamma", 3.0, 1.0)
    """Commissioners' minutes per affidavit envelope: look the voter up, rule, record (a setting)."""
    commissioners: Annotated[Int, Field(ge=1, le=20)] = 5
    """Election commissioners per county working the canvass (5 per county, §23-15-211), each paid the per diem."""
    certify_minutes: Annotated[Float, Field(ge=0.0, le=2880.0)] = 120.0
    """Minutes to certify the county's returns once everything is counted (a setting)."""
    deadline_days: Annotated[Int, Field(ge=1, le=60)] = 10
    """Days after the election by which the commissioners send the certified returns to the Secretary of State (§23-15-603)."""
