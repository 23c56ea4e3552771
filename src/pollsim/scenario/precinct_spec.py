"""The ``precincts`` section of a scenario: voters, their roll status and needs, and the equipment.

Roll statuses follow Miss. Code §23-15-573 (affidavit ballots) and §23-15-152(3) (inactive
voters); needs follow §23-15-531.1(f),(g) (audio ballot, alternative-language ballot); the ballot
stock is the §23-15-615(1)(c) "ballots received". Equipment is the AccuVote TSx DRE + AccuView
VVPAT generation (``dre``) or hand-marked paper + precinct scanner + BMD (``paper``), hardware.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pollsim.scenario.fields import MAX_VOTERS, MAX_WEIGHT, Bool, ClockTime, FieldProblem, Float, Ident, Int, Name, Share, Strict

POOLS = ("PB", "DRE", "ADA", "BOOTH", "SCAN", "BMD")


class RollMix(Strict):
    """Shares of the voters arriving at the pollbook by roll status; ACTIVE is the rest.

    Defaults sum to 1.8 % affidavit ballots, the EAC EAVS presidential-year provisional share
    (EAVS 2018 deep dive; Adams Co. MS Nov 2020: 1.5 %), split as a setting.
    """

    inactive: Share = 0.008
    """Inactive voters (§23-15-152(3)): affidavit ballot."""
    not_on_roll: Share = 0.003
    """Not found in the pollbook: affidavit ballot."""
    wrong_precinct: Share = 0.003
    """Registered in another precinct: affidavit ballot."""
    no_photo_id: Share = 0.002
    """Without an accepted photo ID: affidavit ballot."""
    new_registrant: Share = 0.002
    """Registered within 30 days, so not yet in the pollbook: affidavit ballot."""
    restored: Share = 0.002
    """Voters restored the right of suffrage (2024 bill): regular ballot, not affidavit."""
    voted_ab: Share = 0.0
    """Marked VOTED AB in the pollbook (absentee ballot sent or received): affidavit ballot (SOS rule 1-17-2.3).
    With an ``absentee`` section the absentee stage sets it from the voters it marked VOTED AB who come to
    the polls (``absentee.at_polls_*``); without one it is a setting."""

    @model_validator(mode="after")
    def _sum(self) -> RollMix:
        total = sum(self.model_dump().values())
        if total > 1.0:
            raise ValueError(f"roll status shares add up to {total:.0%}, more than 100 %")
        return self


class Needs(Strict):
    """Shares of voters needing the audio ballot or the alternative-language ballot (§23-15-531.1(f),(g)).

    No published Mississippi figure: settings. One voter has one need, so the two add up to at most 1.
    """

    audio: Share = 0.005
    """Share of voters using the audio ballot on the accessible unit."""
    language: Share = 0.005
    """Share of voters using the alternative-language ballot."""

    @model_validator(mode="after")
    def _sum(self) -> Needs:
        if self.audio + self.language > 1.0:
            raise FieldProblem(("language",), f"audio + language is {self.audio + self.language:.0%}: a voter has one need, so at most 100 %")
        return self


class Equipment(Strict):
    """What the precinct has. ``kind: dre`` is the AccuVote TSx + AccuView VVPAT generation;
    ``kind: paper`` is hand-marked paper + precinct scanner + BMD (hardware.md)."""

    kind: Literal["dre", "paper"] = "dre"
    """Equipment generation: ``dre`` (DRE + VVPAT) or ``paper`` (paper + scanner + BMD)."""
    pollbook: Literal["paper", "electronic"] = "paper"
    """Paper pollbooks in 62 MS counties, electronic in the rest (Verified Voting 2025)."""
    pollbook_stations: Annotated[Int, Field(ge=1, le=50)] = 2
    """Check-in stations (poll managers at the pollbook table): a setting."""
    dre_units: Annotated[Int, Field(ge=0, le=100)] = 4
    """Regular DRE units (dre precincts). Rule of thumb 200-250 ballots per DRE (Forrest Co. MS 2020)."""
    accessible_units: Annotated[Int, Field(ge=1, le=10)] = 1
    """Accessible units with audio and keypad: a DRE (dre) or a BMD (paper); at least one (§23-15-531.1(f))."""
    marking_booths: Annotated[Int, Field(ge=1, le=200)] | None = None
    """Privacy booths for paper ballots. Default: 8 in paper precincts, 2 in DRE precincts (affidavit ballots)."""
    scanners: Annotated[Int, Field(ge=1, le=10)] = 1
    """Precinct scanners (paper precincts); a scanner handles over 2,000 ballots a day (Forrest Co. MS 2020)."""
    vvpat_roll_feet: Annotated[Float, Field(ge=1.0, le=1000.0)] | None = 290.0
    """VVPAT thermal roll length (AccuView: 290 ft, VoteTrustUSA 2005); about 3 in + 0.75 in per contest a record
    (an estimate: no published figure). When a roll runs out the unit refuses ballots until a poll manager
    replaces it. ``null``: rolls never run out. At most 1,000 ft (no printer holds a longer roll)."""
    ballot_stock: Annotated[Int, Field(ge=0, le=10 * MAX_VOTERS)] | None = None
    """Paper ballots received by the poll managers (§23-15-615(c)). Default: registered voters (paper), 10 % of them (dre)."""

    @model_validator(mode="after")
    def _units(self) -> Equipment:
        if self.kind == "dre" and self.dre_units < 1:
            raise FieldProblem(("dre_units",), "a dre precinct needs at least one DRE unit")
        return self

    def units(self, pool: str) -> int:
        """How many units of a pool (DRE, ADA, BOOTH, SCAN, BMD, PB) this precinct has."""
        dre = self.kind == "dre"
        return {
            "PB": self.pollbook_stations,
            "DRE": self.dre_units if dre else 0,
            "ADA": self.accessible_units if dre else 0,
            "BMD": 0 if dre else self.accessible_units,
            "SCAN": 0 if dre else self.scanners,
            "BOOTH": self.booths,
        }[pool]

    @property
    def booths(self) -> int:
        if self.marking_booths is not None:
            return self.marking_booths
        return 8 if self.kind == "paper" else 2


class Replay(Strict):
    """Replay mode: the precinct's regular voters are exactly these votes in one contest.

    The number of regular ballots is the sum of ``votes``; each of those voters marks exactly one
    choice of ``contest`` as given (no undervote or overvote there). Affidavit voters come on top,
    with the precinct's roll mix. Other contests are drawn as usual.
    """

    contest: Ident
    """The replayed contest (vote for 1)."""
    votes: Annotated[dict[str, Annotated[Int, Field(ge=0, le=MAX_VOTERS)]], Field(max_length=100)]
    """Choice id -> votes of the regular ballots cast at the polls; with the absentee votes at most the
    precinct's registered voters."""
    absentee_votes: Annotated[dict[str, Annotated[Int, Field(ge=0, le=MAX_VOTERS)]], Field(max_length=100)] = {}
    """Choice id -> votes of the precinct's accepted absentee ballots (mail and in person; needs an ``absentee`` section)."""
    uocava_votes: Annotated[dict[str, Annotated[Int, Field(ge=0, le=MAX_VOTERS)]], Field(max_length=100)] = {}
    """Choice id -> votes of the precinct's accepted military and overseas (UOCAVA) ballots."""


class ScriptedVoter(Strict):
    """One voter placed in the day on purpose (drills): when they come and what happens to them."""

    at: ClockTime
    """Arrival time (HH:MM, 24-hour), before the polls close."""
    status: Literal["active", "restored", "inactive", "not_on_roll", "wrong_precinct", "no_photo_id", "new_registrant", "voted_ab"] = "active"
    """Standing on the roll when the poll manager looks the voter up (``voted_ab``: the pollbook shows VOTED AB)."""
    absentee_ballot: Literal["accepted", "rejected", "not_returned"] = "accepted"
    """``voted_ab`` voters only: what became of the voter's absentee ballot (with an ``absentee`` section an envelope
    is added for ``accepted`` and ``rejected``); the canvass rejects the affidavit ballot of an accepted one."""
    need: Literal["none", "audio", "language"] = "none"
    """Audio ballot or alternative-language ballot."""
    overvote: Bool = False
    """Marks one choice too many in the first contest where every seat is marked."""
    spoil: Bool = False
    """Spoils the paper ballot for a mistake and asks for a replacement (paper precincts)."""
    vvpat_reject: Bool = False
    """Rejects the first VVPAT record (DRE precincts)."""


class PrecinctSpec(Strict):
    id: Ident
    """Precinct id, unique in the scenario."""
    name: Name = ""
    """Polling place name."""
    county: Name = ""
    """County name (Census spelling, e.g. DeSoto)."""
    ballot_style: Ident
    """The ballot style this precinct votes."""
    registered_voters: Annotated[Int, Field(ge=0, le=MAX_VOTERS)]
    """Registered voters (active + inactive) in the precinct's pollbook."""
    turnout: Share = 0.50
    """Expected share of registered voters voting in person on election day (MS 2020: 1,085,337
    election-day voters of 2,143,149 registered, 50.6 %, EAC EAVS 2020)."""
    roll: RollMix = RollMix()
    """Shares of arriving voters by roll status."""
    needs: Needs = Needs()
    """Shares of voters needing the audio or alternative-language ballot."""
    equipment: Equipment = Equipment()
    """What the polling place has."""
    shares: Annotated[dict[str, Annotated[dict[str, Annotated[Float, Field(ge=0.0, le=MAX_WEIGHT)]], Field(max_length=101)]], Field(max_length=200)] = {}
    """Per-precinct choice weights, contest id -> choice id -> weight, replacing the election's ``share``s."""
    replay: Replay | None = None
    """Replay mode (see Replay): regular voters reproduce given votes exactly."""
    scripted_voters: Annotated[list[ScriptedVoter], Field(max_length=1000)] = []
    """Voters placed on purpose (drills), in addition to the drawn ones."""
    absentee_ballots: Annotated[Int, Field(ge=0, le=MAX_VOTERS)] | None = None
    """Accepted absentee ballots (mail and in person) of the precinct's voters (needs an ``absentee`` section).
    Default: drawn from ``absentee.share`` (or the replay's absentee votes)."""
    uocava_ballots: Annotated[Int, Field(ge=0, le=MAX_VOTERS)] | None = None
    """Accepted UOCAVA ballots of the precinct's voters. Default: drawn from ``absentee.uocava_share``."""

    @model_validator(mode="after")
    def _replay_fits(self) -> PrecinctSpec:
        if self.replay is not None:
            r = self.replay
            total = sum(r.votes.values()) + sum(r.absentee_votes.values()) + sum(r.uocava_votes.values())
            if total > self.registered_voters:
                raise FieldProblem(("replay", "votes"), f"{total:,} replayed votes exceed the {self.registered_voters:,} registered voters")
        return self

    @property
    def absentee_replayed(self) -> bool:
        """Whether the replay gives this precinct's absentee or UOCAVA votes."""
        return self.replay is not None and bool(self.replay.absentee_votes or self.replay.uocava_votes)
