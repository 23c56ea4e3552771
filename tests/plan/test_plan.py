"""``pollsim plan``: the recommendation's own simulation meets the target, one unit fewer does not.

The check of issue 18 on the training precinct, made with the SimPy day itself (not the planner's
lines): the planner writes recommended.yaml, the scenario with its units; each of its 20 simulated
days is the day ``simulate_precinct`` gives at seed SEED + r, and the 95th-percentile wait must be
at most 30 minutes on at least 19 of them; with one check-in station or one DRE fewer it must not.
Then: turnout sensitivity, the fleet, the same bytes whatever the worker count, and bad input told
in one line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pollsim.cli import main
from pollsim.plan import plan_scenario, settings_for
from pollsim.precinct import simulate_precinct
from pollsim.precinct.election_day import precinct_seed
from pollsim.scale import executor
from pollsim.scenario import build_election, load_scenario
from tests.conftest import SCENARIOS, scenario_from

TRAINING = SCENARIOS / "training-precinct.yaml"


def days_meeting(scenario, seed: int, limit: float = 30.0, days: int = 20) -> int:
    """Days (seed .. seed + days - 1) whose 95th-percentile wait, by the SimPy day, is at most ``limit``."""
    election = build_election(scenario.election)
    ok = 0
    for r in range(days):
        w = simulate_precinct(scenario, election, scenario.precincts[0], precinct_seed(seed + r, 0)).voters["wait"]
        ok += float(np.percentile(w[np.isfinite(w)], 95)) <= limit
    return ok


@pytest.fixture(scope="module")
def training_plan(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    assert main(["plan", str(TRAINING), "--target", "p95<=30", "--out", str(out), "--quiet", "--turnout", "+20%", "--fleet", "voting"]) == 0
    return out


def test_the_recommendation_meets_the_target_in_its_own_simulation_and_one_unit_fewer_does_not(training_plan):
    row = next(csv.DictReader((training_plan / "plan.csv").open()))
    recommended = load_scenario(training_plan / "recommended.yaml")
    eq = recommended.precincts[0].equipment
    assert (eq.pollbook_stations, eq.dre_units) == (int(row["pollbooks_recommended"]), int(row["voting_recommended"]))
    assert recommended.giving_up.enabled is True  # as the plan simulated it
    seed = load_scenario(TRAINING).seed
    assert days_meeting(recommended, seed) >= 19
    for field in ("pollbook_stations", "dre_units"):
        fewer = recommended.model_copy(update={"precincts": [recommended.precincts[0].model_copy(
            update={"equipment": eq.model_copy(update={field: getattr(eq, field) - 1})})]})  # fmt: skip
        assert days_meeting(fewer, seed) < 19, field
    # today's room does not meet it (193 of 526 voters wait over 30 minutes: issue 18)
    assert days_meeting(load_scenario(TRAINING).model_copy(update={"giving_up": recommended.giving_up}), seed) < 19
    assert int(row["today_days_meeting"]) < 19 <= int(row["recommended_days_meeting"])


def test_the_plan_files_agree_with_each_other(training_plan):
    doc = json.loads((training_plan / "plan.json").read_text())
    p = doc["precincts"][0]
    assert doc["settings"]["targets"] == ["p95<=30"] and doc["settings"]["replications"] == 20 and doc["settings"]["meet"] == 19
    assert sum(x <= 30 for x in p["recommended"]["p95"]) == p["recommended"]["days_meeting"] >= 19
    assert all(f["days_meeting"] < 19 for f in p["one_fewer"].values())
    whatif = list(csv.DictReader((training_plan / "whatif.csv").open()))
    rec = [r for r in whatif if r["recommended"] == "1"]
    assert {r["resource"] for r in rec} == {"pollbooks", "voting"}
    by_units = {int(r["units"]): float(r["p95_mean"]) for r in whatif if r["resource"] == "voting"}
    assert by_units[min(by_units)] > by_units[max(by_units)]  # more units, shorter waits
    fleet = list(csv.DictReader((training_plan / "fleet.csv").open()))
    assert fleet[0]["allocated"] == fleet[0]["today"] == "4"  # one precinct: nothing to move
    assert float(fleet[0]["one_more_minutes"]) > 0


def test_more_turnout_needs_at_least_as_many_units(training):
    settings = settings_for(training, targets=["p95<=30"])
    result = plan_scenario(training, settings, sensitivity=[1.2, 0.8], whatif=0)
    base, up, down = (r.precincts[0].search.recommended.config for r in (result, *result.sensitivity))
    assert sum(up) >= sum(base) >= sum(down) and sum(up) > sum(down)
    assert result.sensitivity[0].precincts[0].search.today.voters.mean() > 1.15 * result.precincts[0].search.today.voters.mean()


def test_a_fleet_moves_units_to_the_worst_precinct(training_dict):
    p = training_dict["precincts"][0]
    big = dict(p, id="big", registered_voters=1400)
    small = dict(p, id="small", registered_voters=400)
    scenario = scenario_from(training_dict, precincts=[big, small])
    from pollsim.plan.fleet import allocate_fleet

    fleet = allocate_fleet(scenario, settings_for(scenario, replications=10), "voting")
    assert sum(fleet.allocated) == 8 and fleet.allocated[0] > 4 > fleet.allocated[1]
    worst_today = max(c.at(c.today)[0] for c in fleet.curves)
    worst_after = max(c.at(u)[0] for c, u in zip(fleet.curves, fleet.allocated, strict=True))
    assert worst_after < worst_today


def test_the_same_plan_whatever_the_worker_count(training_dict, tmp_path, monkeypatch):
    import pollsim.plan.run as run

    monkeypatch.setattr(run, "CHUNK", 1)  # one precinct per task
    p = training_dict["precincts"][0]
    scenario = scenario_from(training_dict, precincts=[dict(p, id=f"p{k}", registered_voters=500 + 150 * k) for k in range(3)])
    settings = settings_for(scenario, replications=6)
    from pollsim.plan.output import write_plan

    alone = plan_scenario(scenario, settings, whatif=2)
    with executor(2, "process", None) as ex:
        pooled = plan_scenario(scenario, settings, whatif=2, executor=ex)
    write_plan(alone, scenario, tmp_path / "one")
    write_plan(pooled, scenario, tmp_path / "two")
    for name in ("plan.csv", "plan.json", "whatif.csv", "recommended.yaml"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


@pytest.mark.parametrize(("args", "words"), [
    (["--target", "p95<30"], "MEASURE<=LIMIT"),
    (["--target", "lost<=150%"], "between 0 and 100"),
    (["--replications", "0"], "between 1 and 200"),
    (["--meet", "21"], "1 to 20"),
    (["--resources", "pollbooks,chairs"], "choose from"),
    (["--turnout", "lots"], "+20%"),
])  # fmt: skip
def test_bad_options_are_one_line_and_exit_2(args, words, tmp_path, capsys):
    assert main(["plan", str(TRAINING), "--out", str(tmp_path), "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and "Traceback" not in err[0]


def test_a_bad_scenario_is_one_line_naming_file_line_and_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TRAINING.read_text() + "plan:\n  replications: 0\n")
    assert main(["plan", str(bad), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:" in err and "replications" in err and "Traceback" not in err


def test_poll_managers_are_planned_and_their_roster_meets_the_target_in_its_own_simulation(training_dict, tmp_path):
    scenario = scenario_from(training_dict, staff={"crew": {"break_minutes": 45}})
    path = tmp_path / "staffed.yaml"
    import yaml

    path.write_text(yaml.safe_dump(training_dict | {"staff": {"crew": {"break_minutes": 45}}}, sort_keys=False))
    assert main(["plan", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    row = next(csv.DictReader((tmp_path / "out" / "plan.csv").open()))
    assert int(row["managers_today"]) == 3 and int(row["managers_recommended"]) >= int(row["pollbooks_recommended"])
    recommended = load_scenario(tmp_path / "out" / "recommended.yaml")
    [roster] = recommended.staff.rosters
    assert sum(p.role == "manager" for p in roster.people) == int(row["managers_recommended"])
    assert days_meeting(recommended, scenario.seed) >= 19
    fewer = roster.model_copy(update={"people": [p for p in roster.people if p.name != f"Poll manager {row['managers_recommended']}"]})
    short = recommended.model_copy(update={"staff": recommended.staff.model_copy(update={"rosters": [fewer]})})
    assert days_meeting(short, scenario.seed) < 19
