"""Poll managers: training against §23-15-239, the compliance report, the pay bill, and the posts they keep.

The law's rules are restated here from /work/shared/docs/law.md and the statute (§23-15-239: 4 to 8
hours within the 12 months before the election and at least 5 days before it, 2 hours in person
after the online course; a certified poll manager in every polling place at a general election;
§23-15-227 $125 per poll manager, up to $25 each for carrying and returning the ballots;
§23-15-153 $165 per commissioner on election day), and checked at their boundaries.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pollsim.precinct import simulate_precinct
from pollsim.precinct.election_day import precinct_seed
from pollsim.scenario import build_election
from pollsim.scenario.staff_spec import Person
from pollsim.staff import check_staff, compliance_text, staff_day
from pollsim.staff.compliance import check_person
from tests.conftest import scenario_from

ELECTION = dt.date(2026, 11, 3)


def trained(days_before: int = 30, hours: float = 4.0, kind: str = "in_person") -> dict:
    return {"date": (ELECTION - dt.timedelta(days=days_before)).isoformat(), "hours": hours, "kind": kind}


@pytest.mark.parametrize(("sessions", "ok"), [
    ([trained(5)], True),  # exactly 5 days before counts
    ([trained(4)], False),  # 4 days before does not
    ([trained(365)], True),  # 3 November 2025: within the 12 months
    ([trained(366)], False),  # 2 November 2025: more than 12 months before
    ([trained(30, 3.5)], False),  # under 4 hours
    ([trained(30, 8.0)], True),
    ([trained(60, 2, "online"), trained(20, 2)], True),  # the online course and 2 hours in person
    ([trained(60, 3, "online"), trained(20, 1)], False),  # only 1 hour in person
    ([trained(60, 4, "online")], False),  # online only
    ([trained(60, 2), trained(20, 2)], True),  # two sessions in person add up
])  # fmt: skip
def test_training_under_section_239(sessions, ok):
    person = Person.model_validate({"name": "X", "training": sessions})
    assert (check_person("p", person, ELECTION).problem == "") is ok
    assert check_person("p", Person.model_validate({"name": "B", "role": "bailiff"}), ELECTION).problem == ""


def staffed(training_dict, rosters: list[dict], **staff):
    p = training_dict["precincts"][0]
    precincts = [dict(p, id=f"p{k}", county="North" if k < 3 else "South") for k in range(5)]
    return scenario_from(training_dict, precincts=precincts, staff={"rosters": rosters, **staff})


def roster(precinct: str, certified: bool, extra: int = 1) -> dict:
    people = [{"name": f"{precinct} manager", "certified": certified, "training": [trained()]}]
    people += [{"name": f"{precinct} clerk {k}", "role": "clerk", "training": [trained()]} for k in range(extra)]
    return {"precinct": precinct, "people": people}


def test_the_report_flags_exactly_the_polling_places_without_a_certified_manager(training_dict):
    sc = staffed(training_dict, [roster("p0", True), roster("p1", False), roster("p3", False), roster("p4", True)])
    report = check_staff(sc)
    assert report.flagged == ["p1", "p3"]  # p2 has the crew: certified managers
    assert report.counties() == {"North": {"precincts": 3, "flagged": 1, "people": 2 + 2 + 4, "untrained": 0},
                                 "South": {"precincts": 2, "flagged": 1, "people": 4, "untrained": 0}}  # fmt: skip
    assert "p1, p3" in compliance_text(report)
    # an uncertified crew is flagged too; and outside a general election nothing is
    assert check_staff(staffed(training_dict, [roster("p0", True)], crew={"certified": False})).flagged == ["p1", "p2", "p3", "p4"]
    assert check_staff(staffed(training_dict, [roster("p1", False)], general_election=False)).flagged == []


def test_the_pay_bill(training_dict):
    sc = staffed(training_dict, [roster("p0", True, extra=2)], pay={"supplement": 25.0})
    pay = check_staff(sc).pay
    crew = 2 + 1 + 1  # the crew of a 2-station DRE precinct: a manager per station, one for breaks, a bailiff
    assert pay["North"]["poll_workers"] == (3 + 2 * crew) * (125 + 25)
    assert pay["North"]["ballot_carriers"] == 3 * (25 + 25)
    assert pay["North"]["commissioners"] == pay["South"]["commissioners"] == 5 * 165
    assert pay["state"]["total"] == pay["North"]["total"] + pay["South"]["total"]


def test_the_opening_takes_longer_with_fewer_hands(training_dict):
    def opens(people: list[dict]) -> float:
        sc = staffed(training_dict, [{"precinct": "p0", "people": people}])
        return staff_day(sc, sc.precincts[0]).opens

    m = {"name": "M", "certified": True}
    assert opens([m, dict(m, name="N"), dict(m, name="O")]) == 7 * 60  # three hands: 60 minutes from 06:00
    assert opens([m, dict(m, name="N")]) == 7 * 60 + 30  # two: 90 minutes
    assert opens([m]) == 9 * 60  # one: three hours
    assert opens([m, dict(m, name="N", arrives="06:30")]) == 6 * 60 + 30 + 75  # 30 min alone, then two hands for the rest


def test_a_station_without_its_manager_is_closed_and_nobody_checks_in_there(training_dict):
    people = [{"name": "M", "certified": True, "breaks": [{"at": "10:00", "minutes": 60}]}, {"name": "C", "role": "clerk", "leaves": "17:00"},
              {"name": "B", "role": "bailiff"}]  # fmt: skip
    sc = staffed(training_dict, [{"precinct": "p0", "people": people}])
    sd = staff_day(sc, sc.precincts[0])
    assert sd.closed["PB"] == ((), ((600.0, 660.0), (1020.0, 1140.0)))  # the second station: the break, then after 17:00 until the close
    v = simulate_precinct(sc, build_election(sc.election), sc.precincts[0], precinct_seed(2, 0)).voters
    at_two = v["checkin_station"] == 1
    for a, b in ((600.0, 660.0), (1020.0, 1140.0)):
        assert not (at_two & (v["checkin_start"] >= a) & (v["checkin_start"] < b)).any()
    assert (at_two & (v["checkin_start"] >= 1140.0)).any() or (v["checkin_start"] < 1140).all()  # after the close everyone serves the line
    assert np.isfinite(v["exit"]).all()  # every voter left with a ballot
