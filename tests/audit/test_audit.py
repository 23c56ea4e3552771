"""Audits of a run: rounds, several contests from one sample, escalation and the §617.4 decision."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from pollsim.audit import AuditBoards, AuditError, RoundPolicy
from pollsim.audit.manifest import manifest_from_run
from pollsim.rundir import RunDir, audit_run_dir
from pollsim.tabulate import tally_dict

from .conftest import SEED

METHODS = ["kaplan-markov", "alpha", "bravo"]


def quiet(_line: str) -> None:
    pass


def decision(doc: dict, contest: str) -> dict:
    return next(d for d in doc["decisions"] if d["contest"] == contest)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("method", METHODS)
def test_a_correct_outcome_is_confirmed_and_the_electronic_record_is_official(training_run, tmp_path, method):
    lines: list[str] = []
    doc = audit_run_dir(training_run, "us-senate", 0.10, SEED, method, tmp_path / "pkg", lines.append)
    d = decision(doc, "us-senate")
    assert d["risk_limit_met"] and d["official_record"] == "electronic" and not d["full_manual_recount"]
    assert d["measured_risk"] <= 0.10 and d["certified_winners"] == ["dawson"]
    notes = [line for line in lines if line.startswith("note: ")]  # the evidence table: a VVPAT roll is batch evidence
    assert len(notes) == (0 if method == "bravo" else 1) and all("vvpat-roll" in n for n in notes)
    lines = [line for line in lines if line not in notes]
    assert lines[0].startswith("round 1: ") and "§23-15-617.4" in lines[-2]
    assert "recount.csv" not in doc["files"]


def test_the_default_package_goes_in_the_run_directory(training_run):
    doc = audit_run_dir(training_run, "us-senate", 0.10, SEED, "km", echo=quiet)
    assert doc["package"] == str(training_run / "audit") and (training_run / "audit" / "audit.json").exists()


def test_several_contests_are_audited_from_one_sample(training_run, tmp_path):
    contests = ["us-senate", "school-board", "amendment-1", "local-option"]
    doc = audit_run_dir(training_run, ",".join(contests), 0.10, SEED, "alpha", tmp_path, quiet)
    assert [c["contest"] for c in doc["contests"]] == contests
    first = doc["rounds"][0]
    assert set(first["risks"]) == set(contests)  # every contest measured on the same draws
    rows = read_csv(tmp_path / "comparisons.csv")
    assert len(rows) == doc["rounds"][-1]["draws"] * len(contests)
    assert {d["contest"] for d in doc["decisions"]} == set(contests)


def test_a_vote_for_two_contest_asserts_every_winner_over_every_loser(training_run, tmp_path):
    doc = audit_run_dir(training_run, "school-board", 0.10, SEED, "kaplan-markov", tmp_path, quiet)
    c = doc["contests"][0]
    assert c["vote_for"] == 2 and c["winners"] == ["ellis", "baker"]
    assert [a["name"] for a in c["assertions"]] == ["ellis>nguyen", "ellis>rowe", "baker>nguyen", "baker>rowe"]
    # the contest's risk is its weakest assertion's
    last = doc["rounds"][-1]["risks"]["school-board"]
    assert decision(doc, "school-board")["measured_risk"] == max(last.values())


def test_a_measure_is_audited_as_yes_against_no(training_run, tmp_path):
    doc = audit_run_dir(training_run, "local-option", 0.10, SEED, "bravo", tmp_path, quiet)
    c = doc["contests"][0]
    assert c["kind"] == "measure" and c["winners"] == ["no"] and [a["name"] for a in c["assertions"]] == ["no>yes"]
    assert decision(doc, "local-option")["certified_winners"] == ["no"]


@pytest.mark.parametrize("method", ["kaplan-markov", "alpha"])
def test_a_wrong_outcome_escalates_to_a_full_hand_count_whose_result_is_certified(wrong_run, tmp_path, method):
    lines: list[str] = []
    doc = audit_run_dir(wrong_run, "us-senate", 0.10, SEED, method, tmp_path, lines.append)
    d = decision(doc, "us-senate")
    assert d["reported_winners"] == ["pruitt"]  # what the flipped electronic records say
    assert not d["risk_limit_met"] and d["full_manual_recount"]
    assert d["official_record"] == "paper" and d["outcome_changed"] and d["recount_differs"]
    ballots = RunDir(wrong_run).audit_ballots()
    assert d["certified_votes"] == tally_dict(ballots.election, ballots.paper, ["us-senate"])["us-senate"]
    assert d["certified_winners"] == ["dawson"]
    assert len(doc["rounds"]) == len(RoundPolicy().schedule(doc["rounds"][0]["draws"], ballots.n))
    assert any("full manual recount" in line for line in lines)
    recount = read_csv(tmp_path / "recount.csv")
    assert {r["choice"]: int(r["recount"]) for r in recount} == d["certified_votes"]


def test_a_contest_whose_sample_would_exceed_the_ballots_goes_straight_to_a_full_count(wrong_run, tmp_path):
    # BRAVO at a 5 % margin needs ~1,900 draws; the precinct has 481 ballots
    doc = audit_run_dir(wrong_run, "us-senate", 0.10, SEED, "bravo", tmp_path, quiet)
    assert doc["rounds"] == [] and doc["direct_to_count"] == ["us-senate"]
    assert decision(doc, "us-senate")["certified_winners"] == ["dawson"]


def test_phantom_ballots_in_a_county_manifest_count_as_two_vote_overstatements(training_run, tmp_path):
    m = manifest_from_run(RunDir(training_run).audit_ballots().batches)
    counts = m.counts.copy()
    counts[0] += 60  # sixty ballots the CVRs know nothing of
    path = tmp_path / "county.csv"
    path.write_text("Batch Name,Number of Ballots\n" + "".join(f"{n},{c}\n" for n, c in zip(m.batch_names, counts.tolist(), strict=True)))
    doc = audit_run_dir(training_run, "us-senate", 0.10, SEED, "kaplan-markov", tmp_path / "pkg", quiet, manifest_csv=path)
    assert doc["manifest"]["phantoms"] == {m.batch_names[0]: 60} and doc["contests"][0]["ballots"] == m.total + 60
    phantoms = [r for r in read_csv(tmp_path / "pkg" / "comparisons.csv") if r["phantom"] == "1"]
    assert phantoms and all(int(r["position"]) > int(m.counts[0]) for r in phantoms)
    assert {(r["cvr"], r["mvr"], r["discrepancy"]) for r in phantoms} == {("", "", "2")}


def test_audit_boards_misread_at_their_error_rate_reproducibly(training_run, tmp_path):
    boards = AuditBoards(error_rate=0.2, seed=3)
    a = audit_run_dir(training_run, "us-senate", 0.10, SEED, "km", tmp_path / "a", quiet, boards=boards)
    b = audit_run_dir(training_run, "us-senate", 0.10, SEED, "km", tmp_path / "b", quiet, boards=boards)
    assert a["files"] == b["files"]
    rows = read_csv(tmp_path / "a" / "comparisons.csv")
    wrong = np.mean([r["cvr"] != r["mvr"] for r in rows])
    assert 0.1 < wrong < 0.3  # toggling one of three marks: nearly every misreading shows


def test_labour_and_per_diem_compare_the_audit_with_a_full_recount(training_run, tmp_path):
    boards = AuditBoards(audit_ballots_per_hour=10, boards_per_county=1)
    doc = audit_run_dir(training_run, "us-senate", 0.10, SEED, "km", tmp_path, quiet, boards=boards)
    work = doc["workload"]
    examined = doc["rounds"][-1]["ballots_examined"]
    assert work["audit"]["ballots"] == examined and work["audit"]["counties"] == 1
    days = -(-examined // (10 * 8))
    assert work["audit"]["county_days"] == days and work["audit"]["per_diem_cost"] == days * 5 * 110
    assert work["full_manual_recount"]["ballots"] == 481 and not work["escalated"]
    assert work["per_diem_cost"] == work["audit"]["per_diem_cost"]


def test_the_colorado_sampler_can_drive_an_audit(training_run, tmp_path):
    doc = audit_run_dir(training_run, "us-senate", 0.10, "3546311556112163624615351222", "km", tmp_path, quiet, sampler="colorado")
    assert doc["sampler"] == "colorado" and decision(doc, "us-senate")["risk_limit_met"]
    assert all(r["ticket"] == "" for r in read_csv(tmp_path / "sample.csv"))


def test_an_unknown_contest_or_method_is_a_one_line_error(training_run, tmp_path):
    with pytest.raises(AuditError, match="unknown contest 'governor' \\(the election has: us-senate, "):
        audit_run_dir(training_run, "governor", 0.10, SEED, "km", tmp_path, quiet)
    with pytest.raises(AuditError, match="unknown audit method 'vibes'"):
        audit_run_dir(training_run, "us-senate", 0.10, SEED, "vibes", tmp_path, quiet)
    with pytest.raises(AuditError, match="risk limit"):
        audit_run_dir(training_run, "us-senate", 1.5, SEED, "km", tmp_path, quiet)


def test_the_package_records_the_run_it_audited(training_run, tmp_path):
    doc = audit_run_dir(training_run, "us-senate", 0.10, SEED, "km", tmp_path, quiet)
    summary = json.loads((training_run / "summary.json").read_text())
    assert doc["election"]["definition_sha256"] == summary["election"]["definition_sha256"]
    assert doc["contests"][0]["reported_votes"] == list(summary["tally"]["us-senate"].values())
