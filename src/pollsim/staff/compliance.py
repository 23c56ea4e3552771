"""Training records against §23-15-239, per polling place, county and state, and the day's pay bill.

§23-15-239 as the simulator applies it (docs/planning.md):

- a poll manager or clerk is trained for an election when the sessions held within the 12 months
  before it and at least 5 days before it add up to 4 hours or more, at least 4 of them in person,
  or at least 2 in person for one who completed the online course (4 to 8 hours: more is no fault);
- at a general election at least one certified poll manager works in every polling place: a
  polling place without one is *flagged*;
- bailiffs keep order and need no training here.

Precincts without a roster have the scenario's ``crew``, trained and certified as its ``certified``
setting says (no records to check). The pay bill follows §23-15-227 (poll managers, ballot carrier,
returning officer) and §23-15-153 (the five election commissioners' election-day per diem).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pollsim.scenario.models import Scenario
from pollsim.scenario.staff_spec import Person
from pollsim.staff.roster import precinct_people

TRAINING_HOURS, IN_PERSON_HOURS, AFTER_ONLINE_HOURS = 4.0, 4.0, 2.0
"""§23-15-239: 4 to 8 hours, 2 of them in person after the online course."""
DAYS_BEFORE = 5
"""Training at least 5 days before the election (§23-15-239)."""


@dataclass(frozen=True)
class PersonCheck:
    """One person's training for the election."""

    precinct: str
    name: str
    role: str
    certified: bool
    in_person: float  # hours counted (within the window)
    online: float
    problem: str  # "" when trained as required


@dataclass(frozen=True)
class PrecinctCheck:
    """One polling place."""

    precinct: str
    county: str
    people: int
    certified_managers: int
    untrained: int
    flagged: bool  # no certified poll manager at a general election
    roster: bool  # named people (else the scenario's crew)


@dataclass
class Compliance:
    """The staffing compliance report and the pay bill."""

    election_date: dt.date
    general_election: bool
    precincts: list[PrecinctCheck]
    people: list[PersonCheck]
    pay: dict[str, dict[str, float]] = field(default_factory=dict)  # county (and "state") -> item -> dollars

    @property
    def flagged(self) -> list[str]:
        return [p.precinct for p in self.precincts if p.flagged]

    def counties(self) -> dict[str, dict[str, int]]:
        """Per county: precincts, flagged precincts, people, untrained people."""
        out: dict[str, dict[str, int]] = {}
        for p in self.precincts:
            c = out.setdefault(p.county, {"precincts": 0, "flagged": 0, "people": 0, "untrained": 0})
            c["precincts"] += 1
            c["flagged"] += p.flagged
            c["people"] += p.people
            c["untrained"] += p.untrained
        return dict(sorted(out.items()))

    def to_dict(self) -> dict:
        """summary.json's ``staffing`` section."""
        counties = self.counties()
        state = {k: sum(c[k] for c in counties.values()) for k in ("precincts", "flagged", "people", "untrained")}
        return {
            "law": "Miss. Code §23-15-239 (training, certified manager); pay §23-15-227, §23-15-153",
            "general_election": self.general_election,
            "state": state,
            "counties": counties,
            "flagged_precincts": self.flagged,
            "untrained": [{"precinct": x.precinct, "name": x.name, "problem": x.problem} for x in self.people if x.problem][:500],
            "pay": self.pay,
        }


def window(election: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day a session counts: 12 months before the election to 5 days before it."""
    try:
        first = election.replace(year=election.year - 1)
    except ValueError:  # 29 February
        first = election.replace(year=election.year - 1, day=28)
    return first, election - dt.timedelta(days=DAYS_BEFORE)


def check_person(precinct: str, person: Person, election: dt.date) -> PersonCheck:
    first, last = window(election)
    counted = [s for s in person.training if first <= s.date <= last]
    in_person = sum(s.hours for s in counted if s.kind == "in_person")
    online = sum(s.hours for s in counted if s.kind == "online")
    problem = ""
    if person.role != "bailiff":
        late = [s for s in person.training if s.date > last]
        need = AFTER_ONLINE_HOURS if online > 0 else IN_PERSON_HOURS
        if in_person + online < TRAINING_HOURS or in_person < need:
            problem = (f"{in_person + online:g} h of training counted ({in_person:g} in person, {online:g} online) between {first} and {last}; "
                       f"§23-15-239 needs {TRAINING_HOURS:g} h, {need:g} in person")  # fmt: skip
            if late:
                problem += f"; {len(late)} session(s) less than {DAYS_BEFORE} days before the election do not count"
    return PersonCheck(precinct, person.name, person.role, person.certified, in_person, online, problem)


def check_staff(scenario: Scenario) -> Compliance:
    """The compliance report and the pay bill of every polling place (the scenario must have ``staff``)."""
    staff = scenario.staff
    assert staff is not None
    rostered = {r.precinct for r in staff.rosters}
    date = scenario.election.date
    precincts, people = [], []
    pay: dict[str, dict[str, float]] = {}
    for spec in scenario.precincts:
        crew = precinct_people(scenario, spec)
        named = spec.id in rostered
        checks = [check_person(spec.id, p, date) if named else PersonCheck(spec.id, p.name, p.role, p.certified, 0.0, 0.0,
                  "" if staff.crew.certified or p.role == "bailiff" else "crew not trained (staff.crew.certified: false)") for p in crew]  # fmt: skip
        certified = sum(1 for p in crew if p.role == "manager" and p.certified)
        untrained = sum(1 for c in checks if c.problem)
        precincts.append(PrecinctCheck(spec.id, spec.county, len(crew), certified, untrained, staff.general_election and certified == 0, named))
        people += checks
        county = pay.setdefault(spec.county, {"poll_workers": 0.0, "ballot_carriers": 0.0, "commissioners": 0.0})
        county["poll_workers"] += len(crew) * (staff.pay.poll_manager + staff.pay.supplement)
        county["ballot_carriers"] += staff.pay.ballot_carrier + staff.pay.returning_officer
    for county in pay.values():
        county["commissioners"] = staff.pay.commissioners * staff.pay.commissioner_day
        county["total"] = county["poll_workers"] + county["ballot_carriers"] + county["commissioners"]
    pay = dict(sorted(pay.items()))
    pay["state"] = {k: sum(c[k] for c in pay.values()) for k in ("poll_workers", "ballot_carriers", "commissioners", "total")}
    return Compliance(date, staff.general_election, precincts, people, pay)


def compliance_text(report: Compliance, limit: int = 20) -> str:
    """The report as an official reads it: counties with flagged polling places first."""
    counties = report.counties()
    lines = [f"Staffing compliance (§23-15-239) for the election of {report.election_date}"
             + ("" if report.general_election else " (not a general election: no certified manager required)"),
             f"{'county':<16} {'precincts':>9} {'no certified manager':>21} {'people':>7} {'training short':>15} {'pay $':>11}"]  # fmt: skip
    rows = sorted(counties.items(), key=lambda kv: (-kv[1]["flagged"], -kv[1]["untrained"], kv[0]))
    for name, c in rows[:limit]:
        lines.append(f"{name[:16]:<16} {c['precincts']:>9} {c['flagged']:>21} {c['people']:>7} {c['untrained']:>15} {report.pay[name]['total']:>11,.0f}")
    s = report.pay["state"]
    lines.append(f"{'statewide':<16} {len(report.precincts):>9} {len(report.flagged):>21} {sum(p.people for p in report.precincts):>7} "
                 f"{sum(p.untrained for p in report.precincts):>15} {s['total']:>11,.0f}")  # fmt: skip
    if report.flagged:
        lines.append("polling places without a certified poll manager: " + ", ".join(report.flagged[:30]) + (" ..." if len(report.flagged) > 30 else ""))
    return "\n".join(lines)
