"""The scenario file as one pydantic model, :class:`Scenario`, and every name of the schema.

A scenario is what a trainer or a test team writes to stage an election: the election definition
(contests, ballot styles), the precincts with their voters and equipment, how voters arrive, how
long each step takes, how voters behave at the machines, and the incidents of the day. Polling
hours follow Miss. Code §23-15-581 and the ballot accounting §23-15-615. Defaults come from
docs/scenarios.md's sources (Edelstein 2010, Spencer & Markovits 2008, county studies); where
nothing is published the default is a documented setting.

The schema is split by section: ``fields`` (value types and bounds), ``election_spec``,
``precinct_spec``, ``day_spec`` (polls, arrivals, service times, behaviour), ``events_spec``
(incidents, injected errors, procedures), ``night_spec``, ``absentee_spec`` (absentee voting and the
resolution board, §§23-15-621 ff.), ``canvass_spec`` (affidavit ballots and certification,
§23-15-573, §23-15-603) and ``generate`` (the ``mississippi`` section). Every name stays importable
from here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from pollsim.scenario.absentee_spec import Absentee, AbsenteeError, ApplicationReasons, RejectionRates, ResolutionBoard, ReturnPoint
from pollsim.scenario.canvass_spec import AffidavitRules, Canvass
from pollsim.scenario.checks import check_absentee, check_day, check_errors, check_incidents, check_precincts
from pollsim.scenario.day_spec import EDELSTEIN_SHARES, Arrivals, Behaviour, Polls, ServiceTime, ServiceTimes, check_hours, default_profile
from pollsim.scenario.election_spec import BallotStyleSpec, ChoiceSpec, ContestSpec, ElectionSpec, build_election
from pollsim.scenario.events_spec import Incident, IncidentKind, InjectedError, Procedures, Step, parse_device_id
from pollsim.scenario.fields import ClockTime, FieldProblem, Ident, Int, Minutes, Prose, Share, Strict, clock_minutes, hhmm
from pollsim.scenario.generate import Mississippi, mississippi_absentee, mississippi_precincts
from pollsim.scenario.night_spec import Night
from pollsim.scenario.plan_spec import GivingUp, Plan
from pollsim.scenario.precinct_spec import Equipment, Needs, PrecinctSpec, Replay, RollMix, ScriptedVoter
from pollsim.scenario.staff_spec import Staff, check_rosters

__all__ = [
    "Absentee", "AbsenteeError", "AffidavitRules", "ApplicationReasons", "Canvass", "RejectionRates", "ResolutionBoard", "ReturnPoint",
    "EDELSTEIN_SHARES", "Arrivals", "BallotStyleSpec", "Behaviour", "ChoiceSpec", "ClockTime", "ContestSpec", "ElectionSpec",
    "Equipment", "FieldProblem", "Ident", "Incident", "IncidentKind", "InjectedError", "Minutes", "Mississippi", "Needs", "Night",
    "Polls", "PrecinctSpec", "Procedures", "Replay", "RollMix", "Scenario", "ScriptedVoter", "ServiceTime", "ServiceTimes", "Share",
    "Step", "Strict", "build_election", "clock_minutes", "default_profile", "hhmm", "parse_device_id",
]  # fmt: skip

MAX_PRECINCTS = 5000
"""Precincts in one scenario: Mississippi has 1,765 (2020)."""


class Scenario(Strict):
    """A whole scenario file."""

    scenario: Ident
    """Scenario id (the default run directory is runs/ID)."""
    description: Prose = ""
    """Free text for people."""
    notice: Annotated[list[Annotated[str, Field(max_length=2000)]], Field(max_length=100)] = []
    """Drills: what the trainee should notice (printed by ``pollsim run`` and in the report)."""
    seed: Annotated[Int, Field(ge=0, le=2**63 - 1)] = 1
    """Root seed when ``pollsim run`` is given no --seed: a whole number from 0 to 2^63 - 1 (numpy's seed range, signed 64-bit)."""
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
    precincts: Annotated[list[PrecinctSpec], Field(max_length=MAX_PRECINCTS)]
    """The precincts, each simulated with its own seed (its position in this list). Required unless
    ``mississippi`` generates them."""
    incidents: Annotated[list[Incident], Field(max_length=1000)] = []
    """Devices out of service during the day."""
    mississippi: Mississippi | None = None
    """Generate ``precincts`` from the bundled Mississippi data instead of listing them."""
    errors: Annotated[list[InjectedError], Field(max_length=1000)] = []
    """Poll-worker and device errors to inject (reconciliation training and tests)."""
    procedures: Procedures = Procedures()
    """The poll managers' opening and closing procedures (procedures.csv and forms/ in the run)."""
    night: Night = Night()
    """Election night (run after the day when there is more than one precinct, or with --night)."""
    absentee: Absentee | None = None
    """Absentee voting before election day and the resolution board (§§23-15-621 ff.); left out: no absentee
    ballots. With a ``mississippi`` section each county's ballots are split as EAVS 2020 reports them."""
    canvass: Canvass = Canvass()
    """The canvass after election night: affidavit ballots, late absentee ballots, certification (§23-15-573, §23-15-603)."""
    giving_up: GivingUp = GivingUp()
    """Voters who leave a long check-in line (balking, reneging); off in ``pollsim run`` unless enabled (docs/planning.md)."""
    plan: Plan = Plan()
    """What ``pollsim plan`` does when its options are left out (docs/planning.md)."""
    staff: Staff | None = None
    """The poll managers, bailiffs and clerks of each polling place (§23-15-239); left out: no staffing model."""

    @model_validator(mode="before")
    @classmethod
    def _generate(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("mississippi") is not None and "precincts" not in data:
            try:
                ms = Mississippi.model_validate(data["mississippi"])
            except ValidationError:  # the mississippi field's own validation tells what is wrong
                return {**data, "precincts": []}
            data = {**data, "precincts": mississippi_precincts(ms, data)}
            if data.get("absentee") is not None:
                data["absentee"] = mississippi_absentee(ms, data["absentee"])
        return data

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        explicit = "hourly_shares" in self.arrivals.model_fields_set
        arrivals = check_hours(self.polls, self.arrivals, explicit)
        check_precincts(self.election, self.precincts)
        check_errors(self.errors, self.precincts)
        check_absentee(self.absentee, self.precincts)
        check_incidents(self.incidents, self.precincts, self.election, self.polls, self.procedures)
        check_day(self.precincts, self.election, self.polls, self.service_times)
        check_rosters(self.staff, self.precincts)
        if arrivals is not self.arrivals:  # the default profile, spread over other polling hours
            return self.model_copy(update={"arrivals": arrivals})
        return self
