"""The ``absentee`` section of a scenario: absentee voting before election day and the resolution board.

Mississippi absentee voting (Miss. Code §§23-15-621 to 23-15-657, §§23-15-711 to 23-15-735):
a voter with an excuse of §23-15-715 (65 or older, disabled, away from the county on election day,
working during the polling hours, student...) applies to the circuit clerk (the registrar) and
votes by mail, or in person at the clerk's office until 12:00 noon on the Saturday before the
election (§23-15-637(1)(b)); military and overseas voters (UOCAVA) vote by mail or email/fax
return. Mail ballots count if postmarked by election day and received within five business days
after it; later ones are kept but not counted (§23-15-637(1)(a), §23-15-647). From the opening of
the polls the resolution board (§23-15-523) checks every envelope and rejects with a reason
(§23-15-639, §23-15-641); accepted ballots are counted on the county's absentee equipment.

Defaults cite their sources (docs/absentee.md); where nothing is published the value is a
setting, and says so.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pollsim.scenario.day_spec import ServiceTime, _st
from pollsim.scenario.fields import ClockTime, FieldProblem, Float, Ident, Int, Name, Share, Strict, clock_minutes

APPLICATION_REASONS = ("age_65_or_older", "disabled", "away_from_county", "working", "student_or_other")
"""The excuse categories of §23-15-715, grouped (UOCAVA voters are their own kind of envelope)."""
REJECTION_REASONS = ("no_voter_signature", "signature_mismatch", "no_witness", "clerk_seal_missing", "not_registered", "envelope_opened")
"""Why the resolution board rejects an envelope (§23-15-641; rule 1-17-3.2)."""


class ApplicationReasons(Strict):
    """Shares of absentee applications by excuse (§23-15-715), normalised.

    MS SOS data of 4 Oct 2020 (Enterprise-Journal, 7 Oct 2020): voters 65 and older were the
    largest group, 14,592 of 34,561 ballots returned (42 %). The MS SOS 2011 absentee report found
    most mail voters cite disability and most in-person voters being away from the county. The
    rest of the split is a setting.
    """

    age_65_or_older: Share = 0.42
    """65 or older (§23-15-715(b)): 42 % (MS SOS, 4 Oct 2020)."""
    disabled: Share = 0.20
    """Temporarily or permanently disabled (§23-15-715(d)), COVID-19 quarantine included in 2020: a setting."""
    away_from_county: Share = 0.28
    """Away from the county on election day (§23-15-715(a)): a setting."""
    working: Share = 0.06
    """Required to be at work during the polling hours (§23-15-715(a)): a setting."""
    student_or_other: Share = 0.04
    """Students, teachers, spouses and the other categories of §23-15-715: a setting."""

    @model_validator(mode="after")
    def _some(self) -> ApplicationReasons:
        if sum(self.model_dump().values()) <= 0:
            raise FieldProblem(("age_65_or_older",), "every share is zero: nobody could apply")
        return self

    def weights(self) -> list[float]:
        return [getattr(self, r) for r in APPLICATION_REASONS]


class RejectionRates(Strict):
    """Share of returned envelopes the resolution board rejects, by reason (§23-15-641).

    Together 1.5 %: Mississippi's 2016 general election, 102,915 absentee ballots received and
    101,339 accepted (1.53 % rejected; MS SOS final 2016 totals, WLBT 19 Oct 2020). Split by
    reason as circuit clerks describe it (Daily Journal, 9 Nov 2020: a missing notary or witness
    and a missing signature are the usual reasons, signature mismatches rarer) and the national
    order of reasons (Washington Post analysis of the 2020 primaries: mismatch 27.5 %, no
    signature 20 %, no witness 3 %): a setting. Late envelopes are not here: their arrival is
    modelled (``late_share``).
    """

    no_voter_signature: Share = 0.0040
    """The voter did not sign the envelope."""
    signature_mismatch: Share = 0.0035
    """The signature on the envelope does not correspond to the application's (§23-15-641(1))."""
    no_witness: Share = 0.0045
    """The witness's or notary's certificate is missing or insufficient (§23-15-641(1))."""
    clerk_seal_missing: Share = 0.0005
    """The clerk's seal and initials are missing from the application (§23-15-639)."""
    not_registered: Share = 0.0020
    """The voter is not a qualified elector of the precinct (§23-15-641(1))."""
    envelope_opened: Share = 0.0005
    """The envelope was opened and resealed, or holds more than one ballot (§23-15-641(1),(2))."""

    @model_validator(mode="after")
    def _sum(self) -> RejectionRates:
        if sum(self.model_dump().values()) >= 0.5:
            raise FieldProblem(("no_voter_signature",), "rejection shares add up to 50 % or more; at most half the envelopes may be rejected")
        return self

    def rates(self) -> list[float]:
        return [getattr(self, r) for r in REJECTION_REASONS]


class ReturnPoint(Strict):
    """One point of the cumulative return curve: the share of envelopes received by a day."""

    days_before: Annotated[Int, Field(ge=0, le=90)]
    """Days before election day (0: election day itself)."""
    share: Share
    """Share of the envelopes received by election day that had been received by then."""


RETURNS_2020 = [
    ReturnPoint(days_before=45, share=0.0),
    ReturnPoint(days_before=30, share=0.145),
    ReturnPoint(days_before=23, share=0.247),
    ReturnPoint(days_before=16, share=0.376),
    ReturnPoint(days_before=9, share=0.599),
    ReturnPoint(days_before=2, share=0.970),
    ReturnPoint(days_before=0, share=1.0),
]
"""MS SEMS weekly reports, 2020 general election: 34,561 received by 4 Oct, 58,796 by 11 Oct, 89,499
by 18 Oct, 142,591 by 25 Oct, 231,031 by 1 Nov (MS SOS via Enterprise-Journal, WLBT, WJTV and
News Mississippi), over about 238,000 received in all (EAVS 2020: 234,500 + 2,960 counted, 1.5 %
rejected)."""


class ResolutionBoard(Strict):
    """The resolution board (§23-15-523) and the county's absentee counting (§23-15-639)."""

    teams: Annotated[Int, Field(ge=1, le=50)] = 1
    """Teams of the board working at once in each county (a setting)."""
    members: Annotated[Int, Field(ge=1, le=20)] = 3
    """Commissioners or appointed members per team, each paid the per diem (a setting)."""
    envelope: ServiceTime = _st("gamma", 0.25, 0.1)
    """Minutes of a team per envelope: announce name, address and precinct, check seal, initials, signatures,
    witness and registration, mark REJECTED or open. Lee Co. MS 2020: one board, about 5,000 envelopes from
    07:00 on election day to Wednesday evening (Daily Journal, 4 Nov 2020), about 15 s an envelope."""
    batch_size: Annotated[Int, Field(ge=1, le=10_000)] = 100
    """Accepted ballots per batch on the absentee scanner, each batch a line of the ballot manifest (a setting)."""
    batch: ServiceTime = _st("gamma", 5.0, 2.0)
    """Minutes per batch besides feeding the ballots: count, seal, write the manifest line (a setting)."""
    hand_fed_ballot_minutes: Annotated[Float, Field(ge=0.001, le=10.0)] = 0.1
    """Minutes per ballot on a hand-fed scanner (AccuVote OS, DS200): about 6 s (a setting)."""
    central_ballot_minutes: Annotated[Float, Field(ge=0.001, le=10.0)] = 0.01
    """Minutes per ballot on a batch-fed central scanner: about 100 a minute (a setting)."""
    day_start: ClockTime = "08:00"
    """When the board starts on the days after election day (the clerk's office hours: a setting)."""
    day_end: ClockTime = "17:00"
    """When the board stops on the days after election day."""
    election_night_end: ClockTime = "23:59"
    """On election day the board works from the opening of the polls until this time (a setting)."""
    per_diem_election_day: Annotated[Float, Field(ge=0.0, le=10_000.0)] = 165.0
    """Dollars per member for election day (§23-15-153, 2024 bill; $150 under the 2022 act)."""
    per_diem: Annotated[Float, Field(ge=0.0, le=10_000.0)] = 110.0
    """Dollars per member for each other day of counting (§23-15-153, 2024 bill; $100 under the 2022 act)."""

    @model_validator(mode="after")
    def _hours(self) -> ResolutionBoard:
        if clock_minutes(self.day_end) <= clock_minutes(self.day_start):
            raise FieldProblem(("day_end",), f"the board must stop after it starts ({self.day_start})")
        return self


class AbsenteeError(Strict):
    """An error in absentee handling that leaves the §23-15-615 totals (b) and (f) apart."""

    precinct: Ident
    """Which precinct's absentee ballots."""
    kind: Literal["envelope_accepted_twice", "box_not_counted"]
    """envelope_accepted_twice: ``count`` accepted envelopes' ballots were fed through the scanner twice
    (the count has ballots the receipt book and the envelopes do not); box_not_counted: ``count`` accepted
    ballots of the precinct stayed in a sealed box that was never counted (their voters are in the receipt book)."""
    count: Annotated[Int, Field(ge=1, le=10_000)] = 1
    """How many ballots."""


class Absentee(Strict):
    """Absentee voting before election day and the resolution board (see the module docstring)."""

    share: Share = 0.176
    """Share of all ballots cast absentee, by mail or in person at the clerk's office, for precincts that do
    not give their own numbers: MS 2020, 234,500 of 1,334,155 participants (EAC EAVS 2020, F1d). The
    Mississippi generator sets each county's own EAVS share."""
    uocava_share: Share = 0.0022
    """Share of all ballots from military and overseas (UOCAVA) voters: MS 2020, 2,960 of 1,334,155 (EAVS F1c)."""
    in_person_share: Share = 0.55
    """Of absentee (non-UOCAVA) ballots, the share voted in person at the clerk's office: "the majority of absentee
    ballots are cast inside the Circuit Clerk's Office" (MS SOS 2011 absentee report); the figure is a setting."""
    reasons: ApplicationReasons = ApplicationReasons()
    """Applications by excuse."""
    not_returned_share: Share = 0.071
    """Of ballots sent, the share never returned: 2016, 110,810 sent and 102,915 received (MS SOS final 2016
    totals, WLBT 19 Oct 2020)."""
    days_available: Annotated[Int, Field(ge=1, le=90)] = 45
    """Ballots are available this many days before the election (§23-15-649; 45 days for UOCAVA, 52 U.S.C. 20302(a)(8))."""
    returns: Annotated[list[ReturnPoint], Field(min_length=2, max_length=100)] = RETURNS_2020
    """Cumulative share of envelopes received by each day before the election (MS SEMS 2020, see docs/absentee.md);
    days descending, shares not decreasing, the last point election day with share 1."""
    post_election_share: Share = 0.006
    """Of mail envelopes that count, the share received in the five business days after election day
    (postmarked by election day, §23-15-637(1)(a)): "some ballots will likely continue to trickle in"
    (Daily Journal, 2 Nov 2020); the figure is a setting."""
    late_share: Share = 0.002
    """Of mail envelopes, the share received after the five-business-day limit: kept, not counted (§23-15-647).
    Late arrival was 23.1 % of rejections in the 2020 primaries (Washington Post), about 0.2 % of returns nationally."""
    at_polls_not_returned: Share = 0.3
    """Of voters marked VOTED AB who did not return their ballot, the share who come to the polls (and are
    offered an affidavit ballot, SOS rule 1-17-2.3): a setting."""
    at_polls_returned: Share = 0.002
    """Of voters whose envelope was received, the share who come to the polls anyway: "voter voted in person" was
    1.3 % of rejections in the 2020 primaries (Washington Post); the figure is a setting."""
    rejection: RejectionRates = RejectionRates()
    """Rejection rates by reason."""
    in_person_rejection_factor: Annotated[Float, Field(ge=0.0, le=1.0)] = 0.2
    """Rejection rates of in-person envelopes relative to mail ones (the clerk witnesses them): a setting."""
    signature_cure_share: Share = 0.5
    """Of envelopes with a signature mismatch, the share cured by the voter within 10 days (SOS rule of
    Oct 2020; Daily Journal, 9 Nov 2020: few cures); these are counted after the cure. A setting."""
    board: ResolutionBoard = ResolutionBoard()
    """The resolution board and absentee counting."""
    scanner: Literal["hand-fed", "central"] = "hand-fed"
    """The county's absentee equipment: hand-fed (AccuVote OS in 2020, DS200) or a batch-fed central scanner."""
    scanner_by_county: Annotated[dict[Name, Literal["hand-fed", "central"]], Field(max_length=200)] = {}
    """Per-county absentee equipment (county name -> kind), replacing ``scanner``; the Mississippi generator fills
    it from ms_county_equipment.csv."""
    errors: Annotated[list[AbsenteeError], Field(max_length=1000)] = []
    """Errors in absentee handling to inject (reconciliation training and stress)."""

    @model_validator(mode="after")
    def _returns(self) -> Absentee:
        pts = self.returns
        for i in range(1, len(pts)):
            if pts[i].days_before >= pts[i - 1].days_before:
                raise FieldProblem(("returns", i, "days_before"), "days must go down towards election day")
            if pts[i].share < pts[i - 1].share:
                raise FieldProblem(("returns", i, "share"), "the cumulative share may not go down")
        if pts[-1].days_before != 0 or pts[-1].share != 1.0:
            raise FieldProblem(("returns", len(pts) - 1), "the last point must be election day (days_before 0) with share 1")
        if pts[0].days_before > self.days_available:
            raise FieldProblem(("returns", 0, "days_before"), f"before the ballots are available ({self.days_available} days)")
        if self.share + self.uocava_share >= 1.0:
            raise FieldProblem(("share",), "absentee and UOCAVA shares must leave some ballots for election day")
        return self
