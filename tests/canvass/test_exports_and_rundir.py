"""A run with absentee voting and a canvass, written and read back: the absentee and canvass files
are hash-checked like the rest, and the NIST exports carry the absentee and accepted affidavit
ballots as their own batches and counting groups (CountItemType absentee, uocava, provisional),
valid against the official schemas in tests/data."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pollsim.canvass import Group
from pollsim.errors import PollsimError
from pollsim.export import export_run
from pollsim.pipeline import run_election
from pollsim.rundir import RunDir, write_run
from pollsim.scenario import load_scenario
from tests.conftest import SCENARIOS
from tests.export.conftest import retally_cvr_report, schema_errors


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    run = run_election(load_scenario(SCENARIOS / "drills" / "voted-ab-affidavit.yaml"), 1)
    out = tmp_path_factory.mktemp("ab") / "run"
    return run, out, write_run(run, out)


def test_the_run_directory_holds_the_absentee_and_canvass_files(written):
    run, out, summary = written
    assert {"absentee.npz", "absentee.csv", "canvass.npz", "canvass.csv"} <= set(summary["files"])
    rd = RunDir(out)
    assert np.array_equal(rd.absentee_layer("cvr"), run.absentee.cvr) and np.array_equal(rd.absentee_layer("paper"), run.absentee.paper)
    receipt, counted = rd.absentee_counts()
    assert receipt.tolist() == run.absentee.per_precinct["receipt_entries"].tolist() and counted.tolist() == run.absentee.tabulated().tolist()
    rows, pre = rd.affidavits_counted()
    assert len(rows) == run.canvass.affidavit_counted.sum() == summary["canvass"]["affidavit"]["counted"]
    assert summary["absentee"]["ballots_counted"] == run.absentee.n_ballots
    assert summary["absentee"]["in_person_ends"] == "2026-10-31 12:00" and summary["absentee"]["mail_received_by"] == "2026-11-10"
    lines = (out / "canvass.csv").read_text().splitlines()
    assert lines[0] == "time,date,share_of_ballots" and lines[-1].endswith(",1.000000") and lines[-1].split(",")[1] > "2026-11-04"


def test_same_seed_same_bytes(written, tmp_path):
    run, out, _ = written
    again = tmp_path / "again"
    write_run(run_election(load_scenario(SCENARIOS / "drills" / "voted-ab-affidavit.yaml"), 1), again)
    for name in ("absentee.npz", "absentee.csv", "canvass.npz", "canvass.csv", "summary.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_a_damaged_absentee_file_is_one_line_naming_it(written, tmp_path):
    _, out, _ = written
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    data = bytearray((copy / "absentee.npz").read_bytes())
    data[200] ^= 0xFF
    (copy / "absentee.npz").write_bytes(bytes(data))
    with pytest.raises(PollsimError) as exc:
        RunDir(copy).counts()
    assert "absentee.npz" in str(exc.value) and "\n" not in str(exc.value)


def test_nist_results_carry_the_counting_groups_and_validate(written, tmp_path):
    run, out, summary = written
    export_run(out, "nist-results", tmp_path / "results.json")
    doc = json.loads((tmp_path / "results.json").read_text())
    assert schema_errors("nist-results", doc) == []
    assert doc["Status"] == "certified"
    state = doc["GpUnit"][0]["@id"]
    for contest in doc["Election"][0]["Contest"]:
        for sel in contest["ContestSelection"]:
            counts = {c["Type"]: c["Count"] for c in sel["VoteCounts"] if c["GpUnitId"] == state}
            assert set(counts) == {"election-day", "absentee", "uocava", "provisional", "total"}
            assert counts["total"] == counts["election-day"] + counts["absentee"] + counts["uocava"] + counts["provisional"]
    ballots = {b["Type"]: b["BallotsCast"] for b in doc["Election"][0]["BallotCounts"] if b["GpUnitId"] == state}
    cv = run.canvass
    assert ballots["provisional"] == cv.affidavit_counted.sum() == cv.batches["ballots"][cv.batches["group"] == Group.AFFIDAVIT].sum()
    assert ballots["absentee"] + ballots["uocava"] == run.absentee.n_ballots
    assert ballots["total"] == summary["canvass"]["ballots_certified"]


def test_nist_cvrs_carry_absentee_and_affidavit_batches_and_validate(written, tmp_path):
    run, out, summary = written
    export_run(out, "nist-cvr", tmp_path / "cvr.json")
    doc = json.loads((tmp_path / "cvr.json").read_text())
    assert schema_errors("nist-cvr", doc) == []
    cvrs = doc["CVR"]
    assert len(cvrs) == summary["canvass"]["ballots_certified"] and len({c["UniqueId"] for c in cvrs}) == len(cvrs)
    absentee = [c for c in cvrs if "/AB-" in c["BatchId"]]
    affidavit = [c for c in cvrs if c["BatchId"].endswith("/AFF")]
    assert len(absentee) == run.absentee.n_ballots and len(affidavit) == run.canvass.affidavit_counted.sum()
    assert {c["CreatingDeviceId"] for c in absentee + affidavit} == {"dev-absentee.Training"}
    assert sorted(c["BatchSequenceId"] for c in affidavit) == list(range(1, len(affidavit) + 1))
    assert retally_cvr_report(doc) == summary["canvass"]["tally"]


def test_the_counted_batches_for_manifests_match_the_ballots(written):
    run, out, _ = written
    rd = RunDir(out)
    batches = rd.counted_batches
    rows, pre, batch, position = rd.counted_rows("paper")
    assert [b.group for b in batches].count("provisional") == 1 and batches[-1].name == "Training/AFF"
    assert sum(b.ballots for b in batches) == len(rows) == run.absentee.n_ballots + int(run.canvass.affidavit_counted.sum())
    for k, b in enumerate(batches):
        mine = np.flatnonzero(batch == k)
        assert b.ballots == len(mine) and sorted(position[mine].tolist()) == list(range(1, b.ballots + 1))
    assert np.array_equal(rows[: run.absentee.n_ballots], run.absentee.paper)
