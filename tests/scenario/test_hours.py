"""Other polling hours work with the default arrival profile; incidents must fall in the hours of use.

Miss. Code §23-15-581 sets 07:00-19:00; a scenario may set other hours, and then the default
arrival profile (Edelstein & Edelstein 2010) is spread over them, or the file says what to add.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from pollsim.errors import ScenarioError
from pollsim.precinct import simulate_precinct
from pollsim.scenario import Scenario, build_election, load_scenario
from pollsim.scenario.models import EDELSTEIN_SHARES, default_profile
from tests.conftest import SCENARIOS

TRAINING = yaml.safe_load((SCENARIOS / "training-precinct.yaml").read_text())


def write(tmp_path, doc: dict) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def test_the_default_profile_is_edelsteins_for_12_hours_and_keeps_its_total_and_shape():
    steps = [float(s) for s in EDELSTEIN_SHARES[1:]]
    assert default_profile(12) == steps
    assert default_profile(24) == [s / 2 for s in steps for _ in range(2)]  # each hour split in two
    assert default_profile(6) == [steps[2 * k] + steps[2 * k + 1] for k in range(6)]
    for hours in range(1, 24):
        assert sum(default_profile(hours)) == pytest.approx(sum(steps))
    fourteen = default_profile(14)  # 06:00-20:00: hour 1 covers 12/14 of Edelstein's first hour
    assert fourteen[0] == pytest.approx(10 * 12 / 14)
    assert fourteen[1] == pytest.approx(10 * 2 / 14 + 5 * 10 / 14)  # the rest of hour 1 (10 %), most of hour 2 (5 %)


def test_changing_the_poll_hours_alone_works_and_voters_come_in_the_new_hours(tmp_path):
    doc = copy.deepcopy(TRAINING)
    doc["polls"] = {"open": "06:00", "close": "20:00"}
    doc.pop("arrivals", None)
    doc["incidents"] = []
    scenario = load_scenario(write(tmp_path, doc))
    assert scenario.arrivals.hourly_shares == default_profile(14)
    spec = scenario.precincts[0]
    result = simulate_precinct(scenario, build_election(scenario.election), spec, np.random.SeedSequence(3))
    arrival = result.voters["arrival"]
    assert arrival.min() >= 6 * 60 - scenario.arrivals.before_opening_minutes and arrival.max() < 20 * 60
    assert (arrival >= 19 * 60).sum() > 20  # the added evening hour gets voters (10 % of about 500)


def test_shares_given_for_other_hours_are_told_at_their_own_line_with_what_to_give(tmp_path):
    doc = copy.deepcopy(TRAINING)
    doc["polls"] = {"open": "06:00", "close": "20:00"}
    doc["arrivals"] = {"hourly_shares": [1.0] * 12}
    path = write(tmp_path, doc)
    line = next(i for i, text in enumerate(open(path).read().splitlines(), 1) if text.startswith("  hourly_shares:"))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert exc.value.problems == [
        f"{path}:{line}: arrivals.hourly_shares: 12 entries given; expected one per hour the polls are open (14: 06:00-20:00); "
        "give 14 or leave hourly_shares out to spread the default profile"
    ]


def test_a_bad_time_says_hh_mm_24_hour_not_a_regex(tmp_path):
    doc = copy.deepcopy(TRAINING)
    doc["polls"] = {"open": "7:00 AM"}
    with pytest.raises(ScenarioError) as exc:
        load_scenario(write(tmp_path, doc))
    [problem] = exc.value.problems
    assert "polls.open: expected a time as HH:MM, 24-hour" in problem and "^" not in problem and "pattern" not in problem


@pytest.mark.parametrize(("at", "ok"), [("05:59", False), ("06:00", True), ("18:59", True), ("19:00", False), ("23:30", False)])
def test_an_incident_must_fall_between_the_opening_procedures_and_the_close(tmp_path, at, ok):
    doc = copy.deepcopy(TRAINING)
    doc["incidents"] = [{"at": at, "device": "DRE-1", "kind": "machine_failure", "minutes": 10}]
    path = write(tmp_path, doc)
    if ok:
        assert load_scenario(path).incidents[0].at == at
        return
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    [problem] = exc.value.problems
    assert f"incidents[0].at: {at} is outside the hours the units are in use: from 06:00 (the opening procedures) to 19:00" in problem


def test_the_window_follows_the_opening_procedures(tmp_path):
    doc = copy.deepcopy(TRAINING)
    doc["procedures"] = {"opening": [{"step": "Set up", "minutes": 120}]}
    doc["incidents"] = [{"at": "05:00", "device": "DRE-1", "kind": "misrecording", "contest": TRAINING["election"]["contests"][0]["id"]}]
    assert load_scenario(write(tmp_path, doc)).incidents[0].at == "05:00"


def test_the_misrecording_drill_loaded_before_opening_is_accepted():
    s = load_scenario(SCENARIOS / "drills" / "misrecording-audit.yaml")
    assert [i.at for i in s.incidents] == ["06:00", "06:00"]


def test_a_model_built_in_code_gets_the_same_checks():
    doc = copy.deepcopy(TRAINING)
    doc["seed"] = True
    with pytest.raises(ValueError, match="seed"):
        Scenario.model_validate(doc)
