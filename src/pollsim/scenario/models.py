"""The scenario file, as pydantic models: every field, its default, and where the default comes from.

A scenario is what a trainer or a test team writes to stage an election: the election definition
(contests, ballot styles), the precincts with their voters and equipment, how voters arrive, how
long each step takes, how voters behave at the machines, and the incidents of the day. Defaults
come from ../docs/scenarios.md's sources (parameters table: Edelstein 2010, Spencer & Markovits
2008, county studies); where nothing is published the default is a documented setting.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pollsim.election.definition import BallotStyle, Choice, Contest, Election

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Minutes = Annotated[float, Field(ge=0.0)]
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*$")]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class FieldProblem(ValueError):
    """A cross-field check that failed, carrying the path (below the validated model) it concerns."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path


def clock_minutes(hhmm: str) -> float:
    """'07:30' -> 450.0 minutes after midnight."""
    h, m = hhmm.split(":")
    return int(h) * 60.0 + int(m)


class Strict(BaseModel):
    """Unknown fields are errors: a misspelt field must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# --------------------------------------------------------------------------- election
class ChoiceSpec(Strict):
    id: Ident
    """Choice id, unique in its contest (letters, digits, - _ . and spaces); ``write-in`` is reserved."""
    name: str
    """Name as printed on the ballot."""
    party: str = ""
    """Party label printed on the ballot (empty for nonpartisan contests)."""
    share: Annotated[float, Field(gt=0.0)] = 1.0
    """Relative weight of this choice among the voters' selections (normalised per contest)."""


class ContestSpec(Strict):
    id: Ident
    """Contest id, unique in the election."""
    title: str
    """Office or measure title as printed."""
    type: Literal["candidate", "measure"] = "candidate"
    """``candidate`` (choices listed) or ``measure`` (yes/no)."""
    vote_for: Annotated[int, Field(ge=1, le=20)] = 1
    """Seats to fill: a voter may mark up to this many choices (vote for N)."""
    choices: list[ChoiceSpec] = []
    """Candidates (candidate contests only); a measure's choices are always yes and no."""
    yes_share: Share = 0.5
    """Measures only: share of voters who mark yes among those who vote on the measure."""
    write_in: bool = False
    """Whether the contest has a write-in line (an extra column ``write-in``)."""
    write_in_share: Share = 0.002
    """Share of selections written in (OpenElections MS 2020: write-ins are rare; a setting)."""
    undervote_rate: Share = 0.01
    """Share of voters who mark fewer than vote_for choices (skip the contest when vote_for is 1)."""
    overvote_attempt_rate: Share = 0.002
    """Share of voters who mark one choice too many: a DRE warns (§23-15-531.1(c)); a scanner returns the ballot."""

    @model_validator(mode="after")
    def _choices(self) -> ContestSpec:
        if self.type == "candidate":
            if len(self.choices) < 1:
                raise FieldProblem(("choices",), "a candidate contest needs at least one choice")
            if self.vote_for > len(self.choices) + int(self.write_in):
                raise FieldProblem(("vote_for",), f"vote for {self.vote_for} exceeds the number of choices")
            ids = [c.id for c in self.choices]
            for i, cid in enumerate(ids):
                if cid in ids[:i] or cid == "write-in":
                    raise FieldProblem(("choices", i, "id"), f"choice id {cid!r} is used twice (or is reserved)")
        else:
            if self.choices:
                raise FieldProblem(("choices",), "a measure has no choices list (its choices are yes and no)")
            if self.vote_for != 1:
                raise FieldProblem(("vote_for",), "a measure is vote for 1")
        return self


class BallotStyleSpec(Strict):
    id: Ident
    """Ballot style id, named by precincts."""
    contests: list[Ident]


    """The contests on this style's ballot."""
class ElectionSpec(Strict):
    id: Ident
    """Election id, carried into every export."""
    name: str
    """Election name printed on tapes."""
    date: dt.date
    """Election day (YYYY-MM-DD)."""
    contests: list[ContestSpec] = Field(min_length=1)
    """The contests, in ballot order (this order fixes the ballot matrix columns)."""
    ballot_styles: list[BallotStyleSpec] = Field(min_length=1)
    """The ballot styles precincts use."""

    @model_validator(mode="after")
    def _refs(self) -> ElectionSpec:
        ids = [c.id for c in self.contests]
        for i, cid in enumerate(ids):
            if cid in ids[:i]:
                raise FieldProblem(("contests", i, "id"), f"contest id {cid!r} is used twice")
        for i, style in enumerate(self.ballot_styles):
            for j, cid in enumerate(style.contests):
                if cid not in ids:
                    raise FieldProblem(("ballot_styles", i, "contests", j), f"unknown contest {cid!r}")
        return self


# --------------------------------------------------------------------------- precincts
class RollMix(Strict):
    """Shares of the voters arriving at the pollbook by roll status; ACTIVE is the rest.

    Defaults sum to 1.8 % affidavit ballots, the EAC EAVS presidential-year provisional share
    (EAVS 2018 deep dive; Adams Co. MS Nov 2020: 1.5 %), split as a setting.
    """

    inactive: Share = 0.008
    not_on_roll: Share = 0.003
    wrong_precinct: Share = 0.003
    no_photo_id: Share = 0.002
    new_registrant: Share = 0.002
    restored: Share = 0.002
    """Voters restored the right of suffrage (2024 bill): regular ballot, not affidavit."""

    @model_validator(mode="after")
    def _sum(self) -> RollMix:
        if sum(self.model_dump().values()) > 1.0:
            raise ValueError("roll status shares add up to more than 1")
        return self


class Needs(Strict):
    """Shares of voters needing the audio ballot or the alternative-language ballot (§23-15-531.1(f),(g)).

    No published Mississippi figure: settings.
    """

    audio: Share = 0.005
    language: Share = 0.005


class Equipment(Strict):
    """What the precinct has. ``kind: dre`` is the AccuVote TSx + AccuView VVPAT generation;
    ``kind: paper`` is hand-marked paper + precinct scanner + BMD (hardware.md)."""

    kind: Literal["dre", "paper"] = "dre"
    """Equipment generation: ``dre`` (DRE + VVPAT) or ``paper`` (paper + scanner + BMD)."""
    pollbook: Literal["paper", "electronic"] = "paper"
    """Paper pollbooks in 62 MS counties, electronic in the rest (Verified Voting 2025)."""
    pollbook_stations: Annotated[int, Field(ge=1, le=50)] = 2
    """Check-in stations (poll managers at the pollbook table): a setting."""
    dre_units: Annotated[int, Field(ge=0, le=100)] = 4
    """Regular DRE units (dre precincts). Rule of thumb 200-250 ballots per DRE (Forrest Co. MS 2020)."""
    accessible_units: Annotated[int, Field(ge=1, le=10)] = 1
    """Accessible units with audio and keypad: a DRE (dre) or a BMD (paper); at least one (§23-15-531.1(f))."""
    marking_booths: Annotated[int, Field(ge=1, le=200)] | None = None
    """Privacy booths for paper ballots. Default: 8 in paper precincts, 2 in DRE precincts (affidavit ballots)."""
    scanners: Annotated[int, Field(ge=1, le=10)] = 1
    """Precinct scanners (paper precincts); a scanner handles over 2,000 ballots a day (Forrest Co. MS 2020)."""
    vvpat_roll_feet: Annotated[float, Field(gt=0.0)] | None = 290.0
    """VVPAT thermal roll length (AccuView: 290 ft, VoteTrustUSA 2005); about 3 in + 0.75 in per contest a record
    (an estimate: no published figure). When a roll runs out the unit refuses ballots until a poll manager
    replaces it. ``null``: rolls never run out."""
    ballot_stock: Annotated[int, Field(ge=0)] | None = None
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
    votes: dict[str, Annotated[int, Field(ge=0)]]
    """Choice id -> votes."""


class ScriptedVoter(Strict):
    """One voter placed in the day on purpose (drills): when they come and what happens to them."""

    at: ClockTime
    """Arrival time (HH:MM)."""
    status: Literal["active", "restored", "inactive", "not_on_roll", "wrong_precinct", "no_photo_id", "new_registrant"] = "active"
    """Standing on the roll when the poll manager looks the voter up."""
    need: Literal["none", "audio", "language"] = "none"
    """Audio ballot or alternative-language ballot."""
    overvote: bool = False
    """Marks one choice too many in the first contest where every seat is marked."""
    spoil: bool = False
    """Spoils the paper ballot for a mistake and asks for a replacement (paper precincts)."""
    vvpat_reject: bool = False
    """Rejects the first VVPAT record (DRE precincts)."""


class PrecinctSpec(Strict):
    id: Ident
    """Precinct id, unique in the scenario."""
    name: str = ""
    """Polling place name."""
    county: str = ""
    """County name (Census spelling, e.g. DeSoto)."""
    ballot_style: Ident
    """The ballot style this precinct votes."""
    registered_voters: Annotated[int, Field(ge=0, le=100_000)]
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
    shares: dict[str, dict[str, Annotated[float, Field(ge=0.0)]]] = {}
    """Per-precinct choice weights, contest id -> choice id -> weight, replacing the election's ``share``s."""
    replay: Replay | None = None
    """Replay mode (see Replay): regular voters reproduce given votes exactly."""
    scripted_voters: list[ScriptedVoter] = []
    """Voters placed on purpose (drills), in addition to the drawn ones."""


# --------------------------------------------------------------------------- day
class Polls(Strict):
    """Polling hours, Miss. Code §23-15-581: 7:00 to 19:00; everyone in line at closing votes."""

    open: ClockTime = "07:00"
    """Polls open (HH:MM), §23-15-581."""
    close: ClockTime = "19:00"
    """Polls close (HH:MM): arrivals stop; everyone in line votes."""

    @model_validator(mode="after")
    def _order(self) -> Polls:
        if clock_minutes(self.close) <= clock_minutes(self.open):
            raise FieldProblem(("close",), "polls must close after they open")
        return self


EDELSTEIN_SHARES = [10, 10, 5, 5, 5, 10, 10, 5, 5, 5, 10, 10, 10]
"""Edelstein & Edelstein (EVT/WOTE 2010) hourly arrival shares, in %, for a 13-hour day 6:00-19:00."""


class Arrivals(Strict):
    """Non-homogeneous Poisson arrivals: the expected count of each hour is its share of the day.

    Default: Edelstein's 13-hour profile; its first hour (6:00-7:00) becomes the line waiting when
    the polls open at 7:00 (Stewart's line studies: almost every precinct has a line at opening),
    its other 12 shares are the hours 7:00-19:00.
    """

    hourly_shares: list[Annotated[float, Field(ge=0.0)]] = [float(s) for s in EDELSTEIN_SHARES[1:]]
    """Relative weights, one per hour the polls are open (normalised with before_opening_share)."""
    before_opening_share: Annotated[float, Field(ge=0.0)] = float(EDELSTEIN_SHARES[0])
    """Weight of the voters who arrive before the polls open and wait in line."""
    before_opening_minutes: Annotated[float, Field(gt=0.0, le=240.0)] = 30.0
    """They arrive uniformly over this many minutes before opening (a setting)."""


class ServiceTime(Strict):
    """A service-time distribution in minutes: mean and standard deviation (gamma by default)."""

    distribution: Literal["gamma", "lognormal", "exponential", "constant", "uniform"] = "gamma"
    """Shape of the distribution; gamma is the usual service-time model (SimOpt Ohio model)."""
    mean: Minutes
    """Mean minutes (before per_contest)."""
    sd: Minutes = 0.0
    """Ignored for exponential (sd = mean) and constant; for uniform the range is mean ± sd·√3."""
    per_contest: Minutes = 0.0
    """Added to the mean for every contest on the ballot (voting times only): longer ballots take longer."""

    @model_validator(mode="after")
    def _sd(self) -> ServiceTime:
        if self.distribution in ("gamma", "lognormal") and self.sd <= 0 and self.mean > 0:
            raise FieldProblem(("sd",), f"{self.distribution} needs sd > 0")
        if self.distribution == "uniform" and self.sd * 3**0.5 > self.mean:
            raise FieldProblem(("sd",), "uniform range mean ± sd·√3 would go below zero")
        return self


def _st(dist: str, mean: float, sd: float = 0.0, per_contest: float = 0.0) -> ServiceTime:
    return ServiceTime(distribution=dist, mean=mean, sd=sd, per_contest=per_contest)  # type: ignore[arg-type]


class ServiceTimes(Strict):
    """How long each step takes, in minutes. Sources in docs/scenarios.md."""

    checkin_paper: ServiceTime = _st("gamma", 1.875, 0.5)
    """Paper roster: 1:45-2:00 typical, up to 5-6 min (Lawrence Co. OH 2015; Boone Co. MO)."""
    checkin_electronic: ServiceTime = _st("gamma", 0.5, 0.15)
    """Electronic pollbook: 0:15-0:45 (same sources)."""
    affidavit_paperwork: ServiceTime = _st("gamma", 4.0, 1.5)
    """Extra time at the table for the affidavit envelope and register: no published value, a setting."""
    walk: ServiceTime = _st("constant", 0.5)
    """Walk from the pollbook to the voting station: +30 s (Spencer & Markovits 2008)."""
    dre_vote: ServiceTime = _st("gamma", 1.5, 1.2, per_contest=0.375)
    """DRE: mean about 4.5 min for a typical ballot, range 28 s to 19.5 min (Spencer & Markovits 2008):
    1.5 min + 22.5 s per contest gives 4.5 min for 8 contests."""
    paper_mark: ServiceTime = _st("gamma", 1.0, 0.8, per_contest=0.25)
    """Hand-marking: mean about 3 min (Spencer & Markovits 2008): 1 min + 15 s per contest."""
    scan: ServiceTime = _st("uniform", 0.2083, 0.024)
    """Precinct scanner: 10-15 s a ballot, about 360 ballots/hour (election observers)."""
    accessible_factor: Annotated[float, Field(ge=1.0, le=20.0)] = 3.0
    """Audio ballot time / visual ballot time: no published value (parameters.md), a setting."""
    language_factor: Annotated[float, Field(ge=1.0, le=5.0)] = 1.1
    """Alternative-language ballot time / English ballot time: a setting."""
    overvote_correction: ServiceTime = _st("gamma", 0.5, 0.25)
    """DRE overvote warning and correction (§23-15-531.1(c)): a setting."""
    vvpat_review: ServiceTime = _st("gamma", 0.5, 0.25)
    """Reading the VVPAT record before casting: a setting."""
    vvpat_paper_replace: ServiceTime = _st("gamma", 5.0, 2.0)
    """Replacing an empty VVPAT roll (supervisor card, new roll, test print): no published value, a setting."""
    spoil_replace: ServiceTime = _st("gamma", 1.0, 0.4)
    """Spoiling a paper ballot and getting a replacement from a poll manager: a setting."""


class Behaviour(Strict):
    """How voters behave at the machines (settings unless a source is named)."""

    vvpat_review_share: Share = 0.5
    """Share of DRE voters who read their VVPAT record before casting."""
    vvpat_reject_share: Share = 0.01
    """Share of reviewing voters who reject the printed record and revise (VVSG 1.1 §7.8.2)."""
    vvpat_rejections_before_official: Annotated[int, Field(ge=0, le=5)] = 3
    """Rejected records on one machine before an official steps in (VVSG 1.1 §7.8.2 default 3)."""
    scanner_overvote_spoil_share: Share = 0.8
    """Of voters whose overvoted ballot the scanner returns: the share who spoil it and re-mark; the rest override."""
    scanner_misfeed_rate: Share = 0.00067
    """Share of scanner feeds that misfeed or double-pick and come back unread (hardware.md: a worn
    scanner stopped 8 times in 12,000 ballots); the voter feeds the ballot again."""
    paper_spoil_share: Share = 0.005
    """Share of paper voters who spoil a ballot for another mistake and ask for a replacement."""


IncidentKind = Literal[
    "paper_out", "paper_jam", "printer_cover_open", "scanner_jam", "power_loss", "machine_failure", "pollbook_down",
    "memory_full", "misrecording", "calibration_drift",
]


class Incident(Strict):
    """A device out of service from ``at`` for ``minutes`` (a technician repairs it)."""

    at: ClockTime
    """When it happens (HH:MM); a unit in use goes out when its voter finishes."""
    precinct: Ident | None = None
    """Which precinct (may be left out when the scenario has one precinct)."""
    device: Ident
    """Device id as the model names them: DRE-1.., ADA-1.., BOOTH-1.., SCAN-1.., BMD-1.., PB-1.."""
    kind: IncidentKind
    """What went wrong (logged on the device as a fault)."""
    contest: Ident | None = None
    """misrecording only: the contest whose electronic record the firmware changes."""
    share: Share = 1.0
    """misrecording and calibration_drift: share of ballots affected while the fault lasts."""
    to: Ident | None = None
    """misrecording only: the choice the votes are moved to (default: each to the next choice)."""
    response: Literal["repair", "technician", "paper_pollbook"] = "repair"
    """What the poll managers do: ``repair`` (the unit is back after ``minutes``: replace paper, clear
    the jam...), ``technician`` (call the state technician, who arrives within 30 minutes (MS SOS
    2016, travel drawn uniformly 0-30 min), then works ``minutes``), ``paper_pollbook`` (an
    e-pollbook station switches to the paper roster after 5 minutes and checks voters in at
    paper-roster speed until the e-pollbook is back after ``minutes``)."""
    battery_minutes: Annotated[float, Field(ge=0.0, le=24 * 60)] = 0.0
    """power_loss only: the unit runs on its battery this long before it goes dark (hardware.md: battery
    operation on AC loss; no published runtime, a setting). An outage shorter than that is logged and
    nobody waits."""
    minutes: Annotated[float, Field(gt=0.0, le=24 * 60)] = 30.0
    """Time until the unit is back (for misrecording and calibration_drift: how long the fault lasts): the state technician arrives within 30 minutes (MS SOS 2016)."""


class Night(Strict):
    """Election night: closing, transport of memory cards, county read-in, unofficial results.

    No published Mississippi timings were found: every value is a setting. A state staff member can
    reach any precinct within 30 minutes (MS SOS 2016), which bounds the technician's trip.
    """

    closing: ServiceTime = _st("gamma", 30.0, 10.0)
    """Closing procedure after the last voter: results tapes, counters against the pollbook, cards sealed."""
    transport: ServiceTime = _st("gamma", 40.0, 20.0)
    """Drive from the polling place to the county office with the sealed cards."""
    transport_by_county: dict[str, ServiceTime] = {}
    """Per-county transport times (county name -> distribution), replacing ``transport``."""
    readers_per_county: Annotated[int, Field(ge=1, le=100)] = 2
    """Card readers at each county office."""
    read_setup: ServiceTime = _st("gamma", 2.0, 0.5)
    """Per card: unseal, log, insert, verify the results signature."""
    read_bytes_per_second: Annotated[float, Field(gt=0)] = 9216.0
    """Read-in throughput: the serial protocol at 115200 baud, 80 % of 11,520 bytes/s (docs/performance.md)."""
    publish_every: Annotated[float, Field(gt=0)] = 30.0
    """Minutes between publications of unofficial results, from the first after polls close."""
    unreadable_card_rate: Share = 0.002
    """Share of cards that cannot be read: the county re-reads the device over serial, or hand counts its paper."""
    hand_count_share: Share = 0.25
    """Of unreadable cards: share whose paper is hand counted instead of re-read over serial."""
    reread_minutes: ServiceTime = _st("gamma", 45.0, 15.0)
    """Fetching the device and reading it over serial."""
    hand_count_ballots_per_hour: Annotated[float, Field(gt=0)] = 300.0
    """A counting team's pace on one contest (a setting)."""
    duplicate_card_rate: Share = 0.001
    """Share of cards delivered twice (counted once: same device, election and results hash)."""
    missing_card_rate: Share = 0.0005
    """Share of cards never delivered on election night (the precinct is flagged missing)."""
    forged_result_rate: Share = 0.0
    """Share of results payloads failing authentication (rejected and flagged; the device is re-read)."""
    late_precinct_rate: Share = 0.01
    """Share of precincts whose transport takes ``late_factor`` times as long."""
    late_factor: Annotated[float, Field(ge=1.0)] = 3.0
    """How much longer a late precinct's transport takes."""


class Step(Strict):
    """One step of a poll managers' procedure and how long it takes."""

    step: str
    """What the poll managers do."""
    minutes: Annotated[float, Field(ge=0.0, le=240.0)]
    """How long it takes (a setting: no published timings)."""


def _steps(*pairs: tuple[str, float]) -> list[Step]:
    return [Step(step=s, minutes=m) for s, m in pairs]


class Procedures(Strict):
    """Opening and closing procedures (§23-15-239: poll managers are trained in voting machine
    opening and closing procedures). Opening ends as the polls open; closing starts after the last
    voter. Step times are settings."""

    opening: list[Step] = _steps(
        ("Poll managers arrive and take the oath", 15),
        ("Check and record the seal numbers on every unit and on the ballot box", 10),
        ("Power on every unit; check date, time and the election definition", 10),
        ("Print the zero tapes; check every count is zero; sign and post them", 10),
        ("Record each unit's public and protective counters", 5),
        ("Set out the pollbook, receipt book and affidavit envelopes; show the ballot box empty", 10),
    )
    """Steps before the polls open, in order."""
    closing: list[Step] = _steps(
        ("Close the polls on every unit; print the results tapes; sign and post a copy", 15),
        ("Record the public counters and compare them with the pollbook and the receipt book", 10),
        ("Fill in the ballot accounting form with the §23-15-615 totals", 20),
        ("Remove the memory cards and seal them in the transfer case; record the seal numbers", 10),
        ("Seal unused, spoiled and affidavit ballots in their envelopes", 10),
    )
    """Steps after the last voter, in order."""


class Mississippi(Strict):
    """Generate the precincts from the bundled Mississippi data (``pollsim/data``, see SOURCES.md).

    Each county's precincts get its registered voters (EAVS 2020) in proportion to their 2020 votes,
    its equipment (2020: AccuVote TSx DRE + VVPAT where Verified Voting lists it, otherwise paper +
    scanner; 2025: paper + precinct scanner + BMD everywhere) and its pollbook (paper or electronic).
    Unit counts are sized from the expected ballots with the ``ballots_per_*`` settings.
    """

    precincts: Literal[2020, 2024] = 2020
    """Which precinct set: the 1,765 precincts of the 2020 returns, or the 1,736 of 2024."""
    equipment: Literal[2020, 2025] = 2020
    """Which equipment generation (Verified Voting 2020, or 2025 data)."""
    replay: Literal["president-2020"] | None = None
    """Replay the certified 2020 presidential returns (2020 precincts only): each precinct's regular
    voters are its apportioned votes (pollsim.scenario.mississippi), so the statewide tally is exact."""
    contest: Ident = "president"
    """The presidential contest's id: its choices' names must be the candidates' names in the data."""
    counties: list[str] = []
    """Only these counties (Census names); empty: all 82."""
    ballot_style: Ident = "statewide"
    """The ballot style every generated precinct votes."""
    ballots_per_dre: Annotated[float, Field(gt=0)] = 150.0
    """Expected ballots per DRE unit (Forrest Co. MS 2020 rule of thumb: 200-250 a day without extended
    waits; 150 keeps a 4.5-min DRE ballot under 80 % busy over 12 hours)."""
    ballots_per_pollbook_station: Annotated[float, Field(gt=0)] = 350.0
    """Expected ballots per check-in station: a setting."""
    ballots_per_booth: Annotated[float, Field(gt=0)] = 80.0
    """Expected ballots per marking booth (paper precincts): a setting."""
    ballots_per_scanner: Annotated[float, Field(gt=0)] = 1500.0
    """Expected ballots per precinct scanner (over 2,000 a day possible, Forrest Co. MS 2020)."""


class InjectedError(Strict):
    """A poll-worker or device error that leaves the §23-15-615 totals out of balance."""

    precinct: Ident
    """Which precinct."""
    kind: Literal["pollbook_not_marked", "receipt_not_signed", "ballot_stock_miscounted", "spoiled_not_recorded", "dre_counter_glitch", "lost_paper_ballot"]
    """pollbook_not_marked: voters not marked VOTED; receipt_not_signed: voters who did not sign the
    receipt book; ballot_stock_miscounted: ballots received recorded as ``count`` more than were
    delivered; spoiled_not_recorded: spoiled ballots left off the form; dre_counter_glitch: DRE-1's
    public counter reads ``count`` more than its ballots; lost_paper_ballot: voted paper ballots lost
    before they were counted (paper precincts)."""
    count: Annotated[int, Field(ge=1, le=10_000)] = 1
    """How many voters or ballots."""


class Scenario(Strict):
    """A whole scenario file."""

    scenario: Ident
    """Scenario id (the default run directory is runs/ID)."""
    description: str = ""
    """Free text for people."""
    notice: list[str] = []
    """Drills: what the trainee should notice (printed by ``pollsim run`` and in the report)."""
    seed: int = 1
    """Root seed when ``pollsim run`` is given no --seed."""
    election: ElectionSpec
    """The election definition."""
    polls: Polls = Polls()
    """Polling hours."""
    arrivals: Arrivals = Arrivals()
    """How voters arrive over the day."""
    service_times: ServiceTimes = ServiceTimes()
    """How long each step takes."""
    behaviour: Behaviour = Behaviour()
    """How voters behave at the machines."""
    precincts: list[PrecinctSpec] = Field(min_length=1)
    """The precincts, each simulated with its own seed (its position in this list)."""
    incidents: list[Incident] = []
    """Devices out of service during the day."""
    mississippi: Mississippi | None = None
    """Generate ``precincts`` from the bundled Mississippi data instead of listing them."""
    errors: list[InjectedError] = []
    """Poll-worker and device errors to inject (reconciliation training and tests)."""
    procedures: Procedures = Procedures()
    """The poll managers' opening and closing procedures (procedures.csv and forms/ in the run)."""
    night: Night = Night()
    """Election night (run after the day when there is more than one precinct, or with --night)."""

    @model_validator(mode="before")
    @classmethod
    def _generate(cls, data):
        if isinstance(data, dict) and data.get("mississippi") is not None and "precincts" not in data:
            from pollsim.scenario.generate import mississippi_precincts

            data = {**data, "precincts": mississippi_precincts(data)}
        return data

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        hours = (clock_minutes(self.polls.close) - clock_minutes(self.polls.open)) / 60.0
        if len(self.arrivals.hourly_shares) != hours:
            raise FieldProblem(
                ("arrivals", "hourly_shares"),
                f"{len(self.arrivals.hourly_shares)} entries given; expected one per hour the polls are open ({hours:g})",
            )
        if sum(self.arrivals.hourly_shares) + self.arrivals.before_opening_share <= 0:
            raise FieldProblem(("arrivals", "hourly_shares"), "all shares are zero")
        styles = {s.id for s in self.election.ballot_styles}
        pids = [p.id for p in self.precincts]
        for i, p in enumerate(self.precincts):
            if p.id in pids[:i]:
                raise FieldProblem(("precincts", i, "id"), f"precinct id {p.id!r} is used twice")
            if p.ballot_style not in styles:
                raise FieldProblem(("precincts", i, "ballot_style"), f"unknown ballot style {p.ballot_style!r}")
        contests = {c.id: c for c in self.election.contests}
        for i, p in enumerate(self.precincts):
            for cid, weights in p.shares.items():
                if cid not in contests:
                    raise FieldProblem(("precincts", i, "shares", cid), f"unknown contest {cid!r}")
                known = {ch.id for ch in contests[cid].choices} | ({"write-in"} if contests[cid].write_in else set())
                if contests[cid].type == "measure":
                    known = {"yes", "no"}
                for ch in weights:
                    if ch not in known:
                        raise FieldProblem(("precincts", i, "shares", cid, ch), f"unknown choice {ch!r}")
            if p.replay is not None:
                c = contests.get(p.replay.contest)
                if c is None or c.type != "candidate" or c.vote_for != 1:
                    raise FieldProblem(("precincts", i, "replay", "contest"), "must name a vote-for-1 candidate contest")
                for ch in p.replay.votes:
                    if ch not in {x.id for x in c.choices}:
                        raise FieldProblem(("precincts", i, "replay", "votes", ch), f"unknown choice {ch!r}")
        for i, err in enumerate(self.errors):
            if err.precinct not in pids:
                raise FieldProblem(("errors", i, "precinct"), f"unknown precinct {err.precinct!r}")
            kind = self.precincts[pids.index(err.precinct)].equipment.kind
            if err.kind == "dre_counter_glitch" and kind != "dre":
                raise FieldProblem(("errors", i, "kind"), "a DRE counter glitch needs a DRE precinct")
            if err.kind == "lost_paper_ballot" and kind != "paper":
                raise FieldProblem(("errors", i, "kind"), "a lost paper ballot needs a paper precinct")
        for i, inc in enumerate(self.incidents):
            if inc.precinct is None and len(self.precincts) > 1:
                raise FieldProblem(("incidents", i, "precinct"), "required when the scenario has several precincts")
            if inc.precinct is not None and inc.precinct not in pids:
                raise FieldProblem(("incidents", i, "precinct"), f"unknown precinct {inc.precinct!r}")
            precinct = self.precincts[pids.index(inc.precinct)] if inc.precinct else self.precincts[0]
            try:
                pool, unit = parse_device_id(inc.device)
            except ValueError as exc:
                raise FieldProblem(("incidents", i, "device"), str(exc)) from None
            if unit >= precinct.equipment.units(pool):
                raise FieldProblem(("incidents", i, "device"), f"precinct {precinct.id!r} has no {inc.device}")
            if inc.response == "paper_pollbook" and (pool != "PB" or precinct.equipment.pollbook != "electronic"):
                raise FieldProblem(("incidents", i, "response"), "paper_pollbook needs an electronic pollbook station (PB-n)")
            if inc.kind in ("misrecording", "calibration_drift") and pool not in ("DRE", "ADA"):
                raise FieldProblem(("incidents", i, "kind"), f"{inc.kind} acts on a DRE unit (DRE-n or ADA-n)")
            if inc.kind == "misrecording":
                if inc.contest not in contests:
                    raise FieldProblem(("incidents", i, "contest"), "misrecording needs a contest of the election")
                if inc.to is not None and inc.to not in {c.id for c in contests[inc.contest].choices}:
                    raise FieldProblem(("incidents", i, "to"), f"unknown choice {inc.to!r}")
        return self


_DEVICE_ID = re.compile(r"^(DRE|ADA|BOOTH|SCAN|BMD|PB)-(\d+)$")


def parse_device_id(device: str) -> tuple[str, int]:
    """'DRE-2' -> ('DRE', 1): the pool and the 0-based unit index."""
    m = _DEVICE_ID.match(device)
    if not m or int(m.group(2)) < 1:
        raise ValueError(f"device {device!r} is not one of DRE-n, ADA-n, BOOTH-n, SCAN-n, BMD-n, PB-n")
    return m.group(1), int(m.group(2)) - 1


def build_election(spec: ElectionSpec) -> Election:
    """The election definition the devices load, from the scenario's election section."""
    contests = []
    for c in spec.contests:
        if c.type == "measure":
            choices = (Choice("yes", "Yes"), Choice("no", "No"))
        else:
            choices = tuple(Choice(ch.id, ch.name, ch.party) for ch in c.choices)
            if c.write_in:
                choices += (Choice("write-in", "Write-in"),)
        contests.append(Contest(c.id, c.title, c.type, c.vote_for, choices))
    styles = tuple(BallotStyle(s.id, tuple(s.contests)) for s in spec.ballot_styles)
    return Election(spec.id, spec.name, spec.date.isoformat(), tuple(contests), styles)
