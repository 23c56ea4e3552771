"""The drill scenarios/drills/opening-short-staffed.yaml: each notice checked against its run (seed 1).

The plain training precinct at the same seed is the comparison: the same voters (a staff section
draws nothing), only fewer hands to open with and a lunch break without relief.
"""

from __future__ import annotations

import json

import numpy as np

from pollsim.pipeline import run_election
from pollsim.precinct.election_day import run_election_day
from pollsim.rundir import write_run
from pollsim.scenario import load_scenario
from tests.conftest import SCENARIOS

DRILL = SCENARIOS / "drills" / "opening-short-staffed.yaml"


def test_the_drill_opens_late_closes_a_station_and_reports_the_training(tmp_path, training):
    drill = load_scenario(DRILL)
    write_run(run_election(drill, 1), tmp_path / "run")
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    day = s["staffing"]["day"]["training-1"]
    # 1. the units open at 07:30; the zero tapes say so
    assert day["opened"] == "07:30" and day["late_minutes"] == 30.0
    tape = (tmp_path / "run" / "tapes" / "training-1" / "DRE-1-zero.txt").read_text()
    assert "07:30" in tape and "07:00:00" not in tape
    p = run_election_day(drill, 1).precincts[0]
    v = p.voters
    assert np.nanmin(v["checkin_start"]) >= 7 * 60 + 30
    # 2. the morning line waits far longer than on the plain training day (the same voters)
    plain = run_election_day(training, 1).precincts[0].voters
    assert np.array_equal(plain["arrival"], v["arrival"])
    early = v["arrival"] < 7 * 60 + 30
    assert np.nanmean(v["wait"][early]) > np.nanmean(plain["wait"][early]) + 20
    # 3. PB-2 closed 12:00-12:30, and nobody started checking in there meanwhile
    assert day["stations_closed"] == [{"station": "PB-2", "closed_from": "12:00", "open_at": "12:30"}]
    at_two = (v["checkin_station"] == 1) & (v["checkin_start"] >= 720) & (v["checkin_start"] < 750)
    assert not at_two.any()
    # 4. the compliance report lists the clerk whose session was 3 days before the election
    assert [x["name"] for x in s["staffing"]["untrained"]] == ["Ruth Ainsworth"]
    assert s["staffing"]["flagged_precincts"] == [] and s["staffing"]["state"]["people"] == 4
