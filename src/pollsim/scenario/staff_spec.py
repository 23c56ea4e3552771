"""The ``staff`` section of a scenario: the poll managers, bailiffs and clerks of each polling place.

Mississippi's polling places are run by poll managers trained under §23-15-239: 4 to 8 hours of
training, not less than 5 days before the election and within the 12 months before it (2 hours in
person for a manager who completed the online course), and at least one certified poll manager in
every polling place at a general election. Each check-in station needs a poll manager or clerk at
the table (affidavit envelopes are handled there too, §23-15-573), and each precinct scanner a poll
manager beside it; a post without a person is closed. People arrive, take breaks (a free person
relieves them) and leave; the opening procedures (§23-15-239: machine opening procedures) take
longer with fewer hands, and the polls cannot open until they are done.

Pay (docs/planning.md): poll managers $125 each per election, plus up to $75 at the board of
supervisors' discretion (§23-15-227(1)); the poll managers who carry the ballots and who act as
returning officer up to $25 each per precinct (§23-15-227(2)); the county's five election
commissioners $165 each on election day (§23-15-153, 2024 bill).

A ``roster`` names a precinct's people; precincts without one get the ``crew`` (all trained and
certified unless said otherwise). Without a ``staff`` section the day has no staffing model: every
station is always open, as before.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pollsim.scenario.fields import Bool, ClockTime, Date, FieldProblem, Float, Ident, Int, Minutes, Name, Strict, clock_minutes

MAX_PEOPLE = 60
"""People in one polling place's roster."""


class TrainingSession(Strict):
    """One training session a person attended (§23-15-239)."""

    date: Date
    """When (YYYY-MM-DD)."""
    hours: Annotated[Float, Field(gt=0.0, le=24.0)]
    """How long, in hours."""
    kind: Literal["in_person", "online"] = "in_person"
    """In person, or the online course (then 2 hours in person complete the training)."""


class Break(Strict):
    """A break a person takes (a free person relieves them at their post)."""

    at: ClockTime
    """When it starts (HH:MM)."""
    minutes: Minutes
    """How long."""


class Person(Strict):
    """One person of a polling place's staff."""

    name: Name
    """Name (printed on the compliance report)."""
    role: Literal["manager", "clerk", "bailiff"] = "manager"
    """Poll manager (any post), clerk (a check-in station), or bailiff (keeps order at the door: no station)."""
    certified: Bool = False
    """Holds a poll manager certification (§23-15-239: at least one certified manager per polling place at a general election)."""
    training: Annotated[list[TrainingSession], Field(max_length=50)] = []
    """Training sessions attended (§23-15-239: 4 to 8 hours, within 12 months and at least 5 days before the election)."""
    arrives: ClockTime = "06:00"
    """When the person arrives (HH:MM); the opening procedures start with the first to arrive."""
    leaves: ClockTime | None = None
    """When the person leaves (HH:MM); left out: after the last voter."""
    breaks: Annotated[list[Break], Field(max_length=10)] = []
    """Breaks taken."""

    @model_validator(mode="after")
    def _hours(self) -> Person:
        if self.leaves is not None and clock_minutes(self.leaves) <= clock_minutes(self.arrives):
            raise FieldProblem(("leaves",), f"leaves at {self.leaves}, not after arriving at {self.arrives}")
        return self


class Roster(Strict):
    """The people of one polling place."""

    precinct: Ident
    """The precinct (its id)."""
    people: Annotated[list[Person], Field(max_length=MAX_PEOPLE)]
    """Everyone working there on election day."""


class Crew(Strict):
    """The staff of a precinct without a roster: poll managers for its posts, trained and certified."""

    managers: Annotated[Int, Field(ge=1, le=MAX_PEOPLE)] | None = None
    """Poll managers. Default: one per check-in station and per scanner, and one more to relieve breaks."""
    bailiffs: Annotated[Int, Field(ge=0, le=5)] = 1
    """Bailiffs keeping order at the door."""
    certified: Bool = True
    """Whether the crew's managers are certified and trained as §23-15-239 requires."""
    arrives: ClockTime = "06:00"
    """When the crew arrives."""
    break_minutes: Minutes = 30.0
    """Each manager's one break (a setting: no published figure); 0 for none."""
    breaks_from: ClockTime = "11:00"
    """The first break starts then; the others follow one after another."""


class Pay(Strict):
    """What election day costs in pay (dollars)."""

    poll_manager: Annotated[Float, Field(ge=0.0, le=10_000.0)] = 125.0
    """Each poll manager, clerk and bailiff, per election (§23-15-227(1))."""
    supplement: Annotated[Float, Field(ge=0.0, le=75.0)] = 0.0
    """The board of supervisors' addition per poll manager, at most $75 (§23-15-227(1))."""
    ballot_carrier: Annotated[Float, Field(ge=0.0, le=25.0)] = 25.0
    """The poll manager who carries the ballots to the polling place, per precinct, at most $25 (§23-15-227(2))."""
    returning_officer: Annotated[Float, Field(ge=0.0, le=25.0)] = 25.0
    """The poll manager who returns them, per precinct, at most $25 (§23-15-227(2))."""
    commissioner_day: Annotated[Float, Field(ge=0.0, le=10_000.0)] = 165.0
    """Each election commissioner's per diem on election day (§23-15-153, 2024 bill; $150 under the 2022 act)."""
    commissioners: Annotated[Int, Field(ge=0, le=20)] = 5
    """Election commissioners per county (Mississippi: 5)."""


class Staff(Strict):
    """Who works in each polling place (see the module docstring)."""

    rosters: Annotated[list[Roster], Field(max_length=5000)] = []
    """Named people per precinct; precincts left out get the ``crew``."""
    crew: Crew = Crew()
    """The staff of precincts without a roster."""
    opening_hands: Annotated[Int, Field(ge=1, le=20)] = 3
    """People the opening procedures' minutes are written for: with fewer, they take longer (a setting)."""
    general_election: Bool = True
    """A general election: at least one certified poll manager must work in every polling place (§23-15-239)."""
    pay: Pay = Pay()
    """Pay for the day (§23-15-227, §23-15-153)."""


def check_rosters(staff: Staff | None, precincts: list) -> None:
    """Each roster names a precinct of the scenario, once, and someone who can keep a station."""
    if staff is None:
        return
    ids = {p.id for p in precincts}
    seen: set[str] = set()
    for i, r in enumerate(staff.rosters):
        if r.precinct not in ids:
            raise FieldProblem(("staff", "rosters", i, "precinct"), f"no precinct {r.precinct!r} in the scenario")
        if r.precinct in seen:
            raise FieldProblem(("staff", "rosters", i, "precinct"), f"precinct {r.precinct!r} has two rosters")
        seen.add(r.precinct)
        if not any(p.role != "bailiff" for p in r.people):
            raise FieldProblem(("staff", "rosters", i, "people"), "nobody to keep a station: give at least one poll manager or clerk")
