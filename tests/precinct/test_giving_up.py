"""Voters who give up on the check-in line: balking at the door, reneging in line, coming back.

Off unless the scenario enables it, and then the day is exactly as before (the fidelity checks,
Erlang C among them, run with it off); on, every voter who leaves does so by the rule of
pollsim.precinct.giving_up, and the run directory, the report and the reconciliation count them
per precinct and hour. The share lost against Erlang A is checked with the planner
(tests/plan/test_theory.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pollsim.precinct import Outcome, simulate_precinct
from pollsim.precinct.election_day import precinct_seed, run_election_day
from pollsim.precinct.giving_up import checkin_minutes_per_voter, draw_patience
from pollsim.scenario import build_election
from pollsim.scenario.plan_spec import SURVEY_LIMITS, SURVEY_SHARES, GivingUp
from tests.conftest import scenario_from

BALKED, RENEGED = int(Outcome.BALKED), int(Outcome.RENEGED)


def one_day(scenario, seed: int = 3):
    return simulate_precinct(scenario, build_election(scenario.election), scenario.precincts[0], precinct_seed(seed, 0))


def crowded(training_dict, stations: int = 1, **giving_up):
    p = dict(training_dict["precincts"][0], registered_voters=1400)
    p["equipment"] = dict(p["equipment"], pollbook_stations=stations)
    return scenario_from(training_dict, precincts=[p], giving_up={"enabled": True, **giving_up})


def test_off_by_default_and_then_the_day_is_unchanged(training_dict, training):
    assert training.giving_up.enabled is None
    off = one_day(scenario_from(training_dict, giving_up={"enabled": False, "come_back_share": 0.5}))
    default = one_day(training)
    for a, b in ((off.voters, default.voters), (off.cvr, default.cvr), (off.paper, default.paper)):
        assert np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f" else a.tobytes() == b.tobytes()
    assert not (default.voters["outcome"] >= BALKED).any()


def test_the_patience_of_voters_follows_the_survey():
    patience, come_back, after = draw_patience(np.random.default_rng(1), GivingUp(come_back_share=0.3), 200_000)
    for limit, share in zip(SURVEY_LIMITS, SURVEY_SHARES, strict=True):
        assert abs((patience == limit).mean() - share) < 0.005
    assert abs(np.isinf(patience).mean() - (1 - sum(SURVEY_SHARES))) < 0.005
    assert abs(come_back.mean() - 0.3) < 0.005 and 60 <= after.min() and after.max() <= 180


def test_who_leaves_and_when(training_dict):
    # both: impatient voters mostly balk at the door (the line looks longer than they would wait)
    v = one_day(crowded(training_dict)).voters
    balked = v["outcome"] == BALKED
    assert balked.sum() > 50
    assert np.allclose(v["exit"][balked], v["arrival"][balked]) and np.isnan(v["wait"][balked]).all()
    # reneging alone: a voter who leaves waited exactly their patience (a survey limit: 30, 60 or 120 minutes)
    day = one_day(crowded(training_dict, balking=False))
    v = day.voters
    reneged = v["outcome"] == RENEGED
    assert reneged.sum() > 50
    assert np.isnan(v["wait"][reneged]).all() and np.isnan(v["checkin_start"][reneged]).all()
    waited = np.round(v["exit"][reneged] - v["arrival"][reneged], 6)
    assert set(waited.tolist()) <= set(SURVEY_LIMITS)
    # lost voters cast nothing and signed nothing
    stayed = v["outcome"] < BALKED
    assert day.accounting.pollbook_marked_voted + day.accounting.affidavit_ballots == stayed.sum()


def test_balking_follows_the_line_a_voter_sees(training_dict):
    per_voter = checkin_minutes_per_voter(crowded(training_dict), electronic=False, stations=1)
    assert per_voter == pytest.approx(1.875)
    # no balking: only reneging; no reneging: only balking
    only_renege = one_day(crowded(training_dict, balking=False)).voters["outcome"]
    only_balk = one_day(crowded(training_dict, reneging=False)).voters["outcome"]
    assert (only_renege == RENEGED).sum() > 0 and not (only_renege == BALKED).any()
    assert (only_balk == BALKED).sum() > 0 and not (only_balk == RENEGED).any()


def test_more_check_in_stations_fewer_lost(training_dict):
    lost = [int((one_day(crowded(training_dict, stations=k)).voters["outcome"] >= BALKED).sum()) for k in (1, 2, 4)]
    assert lost[0] > lost[1] > lost[2]


def test_voters_who_come_back_vote(training_dict):
    v = one_day(crowded(training_dict, reneging=False, come_back_share=1.0)).voters
    late = np.isfinite(v["checkin_start"]) & (v["checkin_start"] - v["arrival"] >= 60)  # came back 60-180 minutes later
    assert late.sum() > 5
    assert (v["outcome"][late] <= int(Outcome.AFFIDAVIT)).all()


def test_summary_reconciliation_and_report_count_them(training_dict, tmp_path):
    from pollsim.pipeline import run_election
    from pollsim.report import build_report
    from pollsim.rundir import reconcile_run_dir, write_run

    scenario = crowded(training_dict)
    day = run_election_day(scenario, seed=4)
    v = day.precincts[0].voters
    gone = v["outcome"] >= BALKED
    write_run(run_election(scenario, 4), tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    lost = summary["lost_voters"]
    assert lost["total"] == gone.sum() == lost["balked"] + lost["reneged"] > 0
    hours = np.unique((v["arrival"][gone] // 60).astype(int), return_counts=True)
    assert lost["precincts"]["training-1"]["by_hour"] == {f"{h:02d}:00": int(k) for h, k in zip(*hours, strict=True)}
    doc = reconcile_run_dir(tmp_path / "run")
    assert doc["precincts"][0]["voters_lost"] == lost["total"] and not doc["precincts"][0]["flagged"]
    html = build_report(tmp_path / "run").read_text()
    assert f'data-key="lost_voters" data-value="{lost["total"]}"' in html
    # off: no lost_voters key at all (the run directory as before)
    write_run(run_election(scenario_from(training_dict), 4), tmp_path / "off")
    assert "lost_voters" not in json.loads((tmp_path / "off" / "summary.json").read_text())
