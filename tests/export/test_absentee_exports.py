"""The Arlo manifest and the Dominion CVR export of a run with absentee voting and a canvass carry
the absentee batches (``COUNTY/AB-0001``) and the accepted affidavit ballots (``COUNTY/AFF``) as
their own batches and counting groups, and still pass the Arlo import rules ported in
:mod:`tests.export.test_arlo_manifest`: the manifest covers every ballot certified, the CVRs
match it batch for batch, and re-tallied they give the certified tally of summary.json."""

from __future__ import annotations

from collections import Counter

import pytest

from pollsim.export import export_run
from pollsim.pipeline import run_election
from pollsim.rundir import write_run
from pollsim.scenario import load_scenario
from tests.conftest import SCENARIOS

from .conftest import election, read_csv
from .test_arlo_manifest import arlo_dominion_cvrs, arlo_manifest


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    run = run_election(load_scenario(SCENARIOS / "drills" / "voted-ab-affidavit.yaml"), 1)
    out = tmp_path_factory.mktemp("abx")
    summary = write_run(run, out / "run")
    export_run(out / "run", "arlo-manifest", out / "manifest.csv")
    export_run(out / "run", "dominion-cvr", out / "cvr.csv")
    return run, summary, out


def test_the_manifest_has_the_absentee_and_affidavit_batches(exported):
    run, summary, out = exported
    rows = read_csv(out / "manifest.csv")[1:]
    ab = [r for r in rows if "/AB-" in r[2]]
    aff = [r for r in rows if r[2].endswith("/AFF")]
    assert ab and all(r[0] == "Training" and r[1] == "AB-SCAN" for r in ab)
    assert sum(int(r[3]) for r in ab) == summary["absentee"]["ballots_counted"] == run.absentee.n_ballots
    assert aff == [["Training", "AB-SCAN", "Training/AFF", str(summary["canvass"]["affidavit"]["counted"])]]
    assert sum(int(r[3]) for r in rows) == summary["canvass"]["ballots_certified"] == summary["ballots_cast"] + run.absentee.n_ballots + int(run.canvass.affidavit_counted.sum())
    assert all(int(r[3]) > 0 for r in rows) and len({r[2] for r in rows}) == len(rows)


def test_arlo_accepts_the_manifest_and_cvrs_and_they_give_the_certified_tally(exported):
    _, summary, out = exported
    batches = arlo_manifest((out / "manifest.csv").read_text())
    per_batch, votes = arlo_dominion_cvrs((out / "cvr.csv").read_text(), batches)
    assert sum(per_batch.values()) == summary["canvass"]["ballots_certified"]
    el = election(out / "run")
    ids = {" ".join(c.title.split()): (c.id, {ch.name: ch.id for ch in c.choices}) for c in el.contests}
    assert {ids[t][0]: {ids[t][1][n]: v for n, v in ch.items()} for t, ch in votes.items()} == summary["canvass"]["tally"]


def test_dominion_rows_number_on_and_name_their_counting_group(exported):
    run, summary, out = exported
    cvr = read_csv(out / "cvr.csv")[4:]
    assert [int(r[0]) for r in cvr] == list(range(1, summary["canvass"]["ballots_certified"] + 1))
    n_aff = summary["canvass"]["affidavit"]["counted"]
    assert n_aff > 0 and Counter(r[5] for r in cvr) == {"Election Day": summary["ballots_cast"], "Absentee": run.absentee.n_ballots, "Provisional": n_aff}
    aff = [r for r in cvr if r[5] == "Provisional"]
    assert {(r[1], r[2]) for r in aff} == {("AB-SCAN", "Training/AFF")}
    assert [r[4] for r in aff] == [f"Training/AFF-{k}" for k in range(1, n_aff + 1)]
