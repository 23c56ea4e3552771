"""NIST SP 1500-100 results export: schema-valid; totals equal the tally; precincts add up."""

from __future__ import annotations

import copy
import json
from collections import defaultdict

import pytest

from pollsim.export import export_run

from .conftest import election, schema_errors, summary


def export_results(run_dir, out):
    result = export_run(run_dir, "nist-results", out)
    return result, json.loads(out.read_text())


@pytest.fixture(scope="module")
def results_doc(run_dir, tmp_path_factory):
    return (run_dir, *export_results(run_dir, tmp_path_factory.mktemp("results") / "results.json"))


@pytest.fixture(scope="module")
def synthetic_results(synthetic_run, tmp_path_factory):
    return (synthetic_run, *export_results(synthetic_run, tmp_path_factory.mktemp("results") / "results.json"))


def counts(doc) -> dict[tuple[str, str, str], int]:
    """(contest code, choice code, GpUnit id) -> votes."""
    out = {}
    for contest in doc["Election"][0]["Contest"]:
        cid = contest["ExternalIdentifier"][0]["Value"]
        choices = {c["@id"]: c["ExternalIdentifier"][0]["Value"] for c in doc["Election"][0]["Candidate"]}
        for sel in contest["ContestSelection"]:
            if "CandidateIds" in sel:
                ch = choices[sel["CandidateIds"][0]]
            elif sel.get("IsWriteIn"):
                ch = "write-in"
            else:
                ch = sel["ExternalIdentifier"][0]["Value"]
            for vc in sel["VoteCounts"]:
                assert vc["Type"] == "total"
                out[(cid, ch, vc["GpUnitId"])] = vc["Count"]
    return out


def units(doc, kind):
    return [g for g in doc["GpUnit"] if g.get("Type") == kind and g["@type"] == "ElectionResults.ReportingUnit"]


def test_results_report_validates_against_the_official_sp1500_100_schema(results_doc):
    _, _, doc = results_doc
    assert schema_errors("nist-results", doc) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("Issuer"),
        lambda d: d.update(GeneratedDate="2026-11-03 19:26"),
        lambda d: d["Election"][0]["Contest"][0]["ContestSelection"][0]["VoteCounts"][0].pop("GpUnitId"),
        lambda d: d["GpUnit"][0].update(Type="galaxy"),
    ],
    ids=["no-issuer", "date-without-zone", "count-without-unit", "bad-unit-type"],
)
def test_a_broken_results_report_fails_the_schema(results_doc, breakage):
    doc = copy.deepcopy(results_doc[2])
    assert schema_errors("nist-results", doc) == []
    breakage(doc)
    assert schema_errors("nist-results", doc)


@pytest.mark.parametrize("which", ["training", "synthetic"])
def test_state_totals_equal_the_summary_tally(which, results_doc, synthetic_results):
    run_dir, _, doc = results_doc if which == "training" else synthetic_results
    state = units(doc, "state")[0]["@id"]
    got = defaultdict(dict)
    for (cid, ch, unit), v in counts(doc).items():
        if unit == state:
            got[cid][ch] = v
    assert dict(got) == summary(run_dir)["tally"]


def test_precinct_counts_sum_to_county_and_state_totals(synthetic_results):
    _, result, doc = synthetic_results
    c = counts(doc)
    state = units(doc, "state")[0]
    counties = units(doc, "county")
    precincts = units(doc, "precinct")
    assert len(counties) == 2 and len(precincts) == 12
    assert sorted(state["ComposingGpUnitIds"]) == sorted(u["@id"] for u in counties)
    assert sorted(p for u in counties for p in u["ComposingGpUnitIds"]) == sorted(u["@id"] for u in precincts)
    keys = {(cid, ch) for cid, ch, _ in c}
    for cid, ch in keys:
        for county in counties:
            assert c[(cid, ch, county["@id"])] == sum(c[(cid, ch, p)] for p in county["ComposingGpUnitIds"])
        assert c[(cid, ch, state["@id"])] == sum(c[(cid, ch, u["@id"])] for u in precincts)
    assert result.records == len(c) == len(keys) * (1 + 2 + 12)
    ballots = {b["GpUnitId"]: b["BallotsCast"] for b in doc["Election"][0]["BallotCounts"]}
    assert ballots[state["@id"]] == sum(ballots[u["@id"]] for u in precincts) == 5_000


def test_votes_undervotes_and_overvotes_account_for_every_seat_on_every_ballot(synthetic_results):
    run_dir, _, doc = synthetic_results
    el = election(run_dir)
    c = counts(doc)
    ballots = {b["GpUnitId"]: b["BallotsCast"] for b in doc["Election"][0]["BallotCounts"]}
    overvotes = 0
    for contest in doc["Election"][0]["Contest"]:
        cid = contest["ExternalIdentifier"][0]["Value"]
        n = el.contest(cid).vote_for
        for oc in contest["OtherCounts"]:
            votes = sum(v for (k, _, u), v in c.items() if k == cid and u == oc["GpUnitId"])
            assert votes + oc["Undervotes"] + oc["Overvotes"] == n * ballots[oc["GpUnitId"]]
            overvotes += oc["Overvotes"]
    assert overvotes > 0


def test_devices_are_reporting_devices_inside_their_precincts(results_doc):
    run_dir, _, doc = results_doc
    devices = {g["@id"]: g for g in doc["GpUnit"] if g["@type"] == "ElectionResults.ReportingDevice"}
    (precinct,) = units(doc, "precinct")
    assert sorted(precinct["ComposingGpUnitIds"]) == sorted(devices)
    assert {d["DeviceClass"]["Type"] for d in devices.values()} <= {"dre", "opscan-precinct", "bmd"}
    assert doc["Status"] == "unofficial-complete" and doc["Format"] == "precinct-level"
