"""NIST SP 1500-103 CVR export: schema-valid, one CVR per ballot, re-tallies to the summary."""

from __future__ import annotations

import copy
import io
import json

import numpy as np
import pytest

from pollsim.export import export_run
from pollsim.export.cvr import write_nist_cvr
from pollsim.rundir import RunDir

from .conftest import election, retally_cvr_report, schema_errors, summary


@pytest.fixture(scope="module")
def cvr_doc(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cvr") / "cvr.json"
    result = export_run(run_dir, "nist-cvr", out)
    return run_dir, result, json.loads(out.read_text())


def test_cvr_report_validates_against_the_official_sp1500_103_schema(cvr_doc):
    _, _, doc = cvr_doc
    assert schema_errors("nist-cvr", doc) == []
    assert doc["@type"] == "CVR.CastVoteRecordReport" and doc["Version"] == "1.0.0"


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("Election"),
        lambda d: d["CVR"][0]["CVRSnapshot"][0].update(Type="final"),
        lambda d: d["CVR"][0]["CVRSnapshot"][0]["CVRContest"][0].update(Undervotes="one"),
        lambda d: d["CVR"][0].update(Color="blue"),
    ],
    ids=["no-election", "bad-snapshot-type", "string-count", "unknown-field"],
)
def test_a_broken_cvr_report_fails_the_schema(cvr_doc, breakage):
    doc = copy.deepcopy({**cvr_doc[2], "CVR": cvr_doc[2]["CVR"][:3]})
    assert schema_errors("nist-cvr", doc) == []
    breakage(doc)
    assert schema_errors("nist-cvr", doc)


def test_one_cvr_per_ballot_cast_each_with_a_unique_id(cvr_doc):
    run_dir, result, doc = cvr_doc
    n = summary(run_dir)["ballots_cast"]
    assert result.records == len(doc["CVR"]) == n
    assert [c["UniqueId"] for c in doc["CVR"]] == [str(i) for i in range(1, n + 1)]


def test_retallying_the_exported_cvrs_gives_the_summary_tally(cvr_doc):
    run_dir, _, doc = cvr_doc
    assert retally_cvr_report(doc) == summary(run_dir)["tally"]


def test_every_reference_in_the_report_points_at_a_declared_object(cvr_doc):
    _, _, doc = cvr_doc
    ids = [o["@id"] for key in ("ReportingDevice", "Party", "GpUnit", "Election") for o in doc[key]]
    el = doc["Election"][0]
    ids += [o["@id"] for o in el["Candidate"]] + [o["@id"] for o in el["Contest"]] + [s["@id"] for c in el["Contest"] for s in c["ContestSelection"]]
    ids += [c["CVRSnapshot"][0]["@id"] for c in doc["CVR"]]
    assert len(ids) == len(set(ids)), "duplicate @id"
    declared = set(ids)
    assert set(doc["ReportGeneratingDeviceIds"]) <= declared
    for cvr in doc["CVR"]:
        assert {cvr["BallotStyleUnitId"], cvr["CreatingDeviceId"], cvr["ElectionId"], cvr["CurrentSnapshotId"]} <= declared
        for contest in cvr["CVRSnapshot"][0]["CVRContest"]:
            assert contest["ContestId"] in declared
            assert all(s["ContestSelectionId"] in declared for s in contest.get("CVRContestSelection", []))


def test_each_cvr_has_every_contest_of_its_ballot_style_with_undervotes_counted(cvr_doc):
    run_dir, _, doc = cvr_doc
    el = election(run_dir)
    style = {s.id: s for s in el.ballot_styles}
    code = {c["@id"]: c["Code"][0]["Value"] for c in doc["Election"][0]["Contest"]}
    for cvr in doc["CVR"]:
        contests = cvr["CVRSnapshot"][0]["CVRContest"]
        assert [code[c["ContestId"]] for c in contests] == list(style[cvr["BallotStyleId"]].contests)
        for c in contests:
            n = el.contest(code[c["ContestId"]]).vote_for
            assert c["Selections"] == sum(s["SelectionPosition"][0]["NumberVotes"] for s in c.get("CVRContestSelection", []))
            assert c.get("Undervotes", 0) == max(0, n - c["Selections"])


def overvote_check(run_dir, doc) -> int:
    """Every contest with more marks than seats is flagged overvoted and allocates nothing; no other is."""
    el = election(run_dir)
    cvr = np.load(run_dir / "ballots.npz")["cvr"]
    code = {c["@id"]: c["Code"][0]["Value"] for c in doc["Election"][0]["Contest"]}
    flagged = 0
    for row, record in zip(cvr, doc["CVR"], strict=True):
        for c in record["CVRSnapshot"][0]["CVRContest"]:
            contest = el.contest(code[c["ContestId"]])
            over = int(row[el.contest_slices[contest.id]].sum()) > contest.vote_for
            positions = [p for s in c.get("CVRContestSelection", []) for p in s["SelectionPosition"]]
            if over:
                flagged += 1
                assert c["Status"] == ["overvoted"] and c["Overvotes"] == contest.vote_for
                assert positions and all(p["IsAllocable"] == "no" for p in positions)
                assert all(s["TotalNumberVotes"] == 0 for s in c["CVRContestSelection"])
            else:
                assert "overvoted" not in c.get("Status", []) and "Overvotes" not in c
                assert all(p["IsAllocable"] == "yes" for p in positions)
    return flagged


def test_overvoted_contests_are_flagged_and_count_for_no_one(cvr_doc):
    run_dir, _, doc = cvr_doc
    overvote_check(run_dir, doc)


def test_overvotes_in_a_larger_synthetic_run_are_flagged_and_the_retally_still_matches(synthetic_run, tmp_path):
    out = tmp_path / "cvr.json"
    export_run(synthetic_run, "nist-cvr", out)
    doc = json.loads(out.read_text())
    sample = {**doc, "CVR": doc["CVR"][:300]}  # every CVR of the training runs is validated above
    assert schema_errors("nist-cvr", sample) == []
    assert overvote_check(synthetic_run, doc) > 100
    assert retally_cvr_report(doc) == summary(synthetic_run)["tally"]
    assert {g["Name"] for g in doc["GpUnit"] if g.get("OtherType") == "county"} == {"Alpha", "Beta"}


def test_the_export_is_byte_identical_across_runs_and_chunk_sizes(synthetic_run, tmp_path):
    export_run(synthetic_run, "nist-cvr", tmp_path / "a.json")
    export_run(synthetic_run, "nist-cvr", tmp_path / "b.json")
    small = io.StringIO()
    write_nist_cvr(RunDir(synthetic_run), small, chunk=97)
    a = (tmp_path / "a.json").read_bytes()
    assert a == (tmp_path / "b.json").read_bytes() == small.getvalue().encode()
    assert b"GeneratedDate\":\"" in a and a.isascii()
