"""``pollsim run --roll ROLL --election DATE``: each precinct's pollbook comes from the roll."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pollsim.absentee import Kind, Status, run_absentee, with_voted_ab
from pollsim.election.roll import RollStatus
from pollsim.pipeline import run_election
from pollsim.roll import RollDir
from pollsim.roll.pollbook import precinct_pollbook, scenario_from_roll
from pollsim.scenario import load_scenario
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def adams_roll(tmp_path_factory):
    out = tmp_path_factory.mktemp("roll") / "adams"
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "roll", "simulate", "--counties", "Adams", "--end", "2020-12-31", "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def test_every_precincts_pollbook_is_the_rolls(adams_roll):
    scenario = scenario_from_roll(load_scenario(SCENARIOS / "ms-2020-adams.yaml"), adams_roll, "2020-11-03")
    for spec in scenario.precincts:
        book = precinct_pollbook(adams_roll, "2020-11-03", spec.id)
        assert spec.registered_voters == book.active + book.inactive
        came = sum(book.arrivals.values())
        assert spec.roll.inactive == pytest.approx(book.arrivals["INACTIVE"] / came * (1 - spec.roll.no_photo_id - spec.roll.voted_ab))


def test_check_in_outcomes_follow_the_roll(adams_roll):
    """The inactive voters who come to the polls vote by affidavit, in the roll's proportion."""
    scenario = scenario_from_roll(load_scenario(SCENARIOS / "ms-2020-adams.yaml"), adams_roll, "2020-11-03")
    day = run_election(scenario, 1, night=False).day
    status = np.concatenate([p.voters["status"] for p in day.precincts])
    arrivals = {s: sum(precinct_pollbook(adams_roll, "2020-11-03", p.id).arrivals[s] for p in scenario.precincts) for s in ("INACTIVE", "NOT_ON_ROLL")}
    came = sum(sum(precinct_pollbook(adams_roll, "2020-11-03", p.id).arrivals.values()) for p in scenario.precincts)
    n = len(status)
    for name, count in arrivals.items():
        share = count / came * (1 - scenario.precincts[0].roll.no_photo_id - scenario.precincts[0].roll.voted_ab)
        got = int((status == int(RollStatus[name])).sum())
        assert abs(got - share * n) <= 4 * np.sqrt(n * share * (1 - share)) + 1, (name, got, share * n)


def test_roll_and_election_go_together(tmp_path, adams_roll):
    run = [sys.executable, "-m", "pollsim.cli", "run", str(SCENARIOS / "ms-2020-adams.yaml"), "--out", str(tmp_path / "R"), "--quiet"]
    proc = subprocess.run([*run, "--roll", str(adams_roll)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--roll and --election go together" in proc.stderr and "Traceback" not in proc.stderr
    training = [*run[:4], str(SCENARIOS / "training-precinct.yaml"), *run[5:]]
    proc = subprocess.run([*training, "--roll", str(adams_roll), "--election", "2020-11-03"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "not in the roll" in proc.stderr and "Traceback" not in proc.stderr


def test_a_roll_ending_in_december_2020_holds_the_november_pollbook(adams_roll):
    """Regression: every election roll.json lists is written and reads back through its SHA-256."""
    rd = RollDir(adams_roll)
    assert [e["date"] for e in rd.elections] == ["2020-03-10", "2020-11-03"]
    for e in rd.elections:
        _, a = rd.election(e["date"])
        assert len(a["row"]) == a["precinct_start"][-1] > 0


def _with_absentee(tmp_path):
    path = tmp_path / "adams-absentee.yaml"
    path.write_text((SCENARIOS / "ms-2020-adams.yaml").read_text() + "\nabsentee: {}\n")
    return load_scenario(path)


def test_with_an_absentee_stage_the_rolls_absentee_voters_are_its_accepted_ballots(adams_roll, tmp_path):
    """One source of VOTED AB: the roll's absentee voters are the envelopes the board accepts, precinct by
    precinct; the replay's absentee votes are scaled to them, each candidate's share kept."""
    plain = _with_absentee(tmp_path)
    scenario = scenario_from_roll(plain, adams_roll, "2020-11-03")
    ab = run_absentee(scenario, 1)
    env = ab.envelopes
    for i, (before, spec) in enumerate(zip(plain.precincts, scenario.precincts, strict=True)):
        n = precinct_pollbook(adams_roll, "2020-11-03", spec.id).voted_absentee
        accepted = (env["precinct"] == i) & (env["kind"] != Kind.UOCAVA) & (env["status"] == Status.ACCEPTED)
        assert int(accepted.sum()) == n > 0, spec.id
        old, new = before.replay.absentee_votes, spec.replay.absentee_votes
        assert sum(new.values()) == n
        assert all(abs(new[k] - old[k] * n / sum(old.values())) < 1 for k in old)
        assert spec.replay.votes == before.replay.votes  # the election-day votes still replay exactly
    # the pollbook's VOTED AB marks: the roll's voters and the envelopes the stage adds (rejected, late, not returned)
    sent = ab.per_precinct["voted_ab"]
    books = [precinct_pollbook(adams_roll, "2020-11-03", p.id).voted_absentee for p in scenario.precincts]
    assert (sent >= np.array(books)).all()
    assert all(p.roll.voted_ab > 0 for p in with_voted_ab(scenario, ab).precincts)


def test_without_an_absentee_stage_the_rolls_absentee_voters_who_come_vote_by_affidavit(adams_roll):
    from pollsim.scenario.absentee_spec import Absentee

    scenario = scenario_from_roll(load_scenario(SCENARIOS / "ms-2020-adams.yaml"), adams_roll, "2020-11-03")
    assert scenario.absentee is None
    books = [precinct_pollbook(adams_roll, "2020-11-03", p.id) for p in scenario.precincts]
    come = Absentee().at_polls_returned * sum(b.voted_absentee for b in books)
    came = sum(sum(b.arrivals.values()) for b in books)
    day = run_election_day_of(scenario)
    status = np.concatenate([p.voters["status"] for p in day.precincts])
    share = come / (came + come)
    got = int((status == RollStatus.VOTED_AB).sum())
    assert got > 0 and abs(got - share * len(status)) <= 4 * np.sqrt(share * len(status)) + 1, (got, share * len(status))


def run_election_day_of(scenario):
    return run_election(scenario, 1, night=False).day


def test_a_run_on_a_one_law_roll_reports_the_roll_without_the_two_law_table(adams_roll, tmp_path):
    from pollsim.report import build_report
    from pollsim.roll.attach import roll_attachment
    from pollsim.rundir import RunDir, write_run

    scenario = scenario_from_roll(load_scenario(SCENARIOS / "ms-2020-adams.yaml"), adams_roll, "2020-11-03")
    out = tmp_path / "run"
    write_run(run_election(scenario, 1, night=False), out, roll=roll_attachment(adams_roll, "2020-11-03", [p.id for p in scenario.precincts]))
    rd = RunDir(out)
    assert rd.has("roll_counts.csv") and not rd.has("roll_policy.csv") and rd.summary["roll"]["compared"] is False
    html = build_report(out).read_text(encoding="utf-8")
    assert '<section id="roll"' in html and 'id="roll-affidavit"' in html
    assert 'id="roll-policy"' not in html and "pollsim roll simulate --compare" in html
