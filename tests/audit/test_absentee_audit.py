"""An audit of a run with absentee voting and a canvass: the absentee batches (``COUNTY/AB-0001``)
and the accepted affidavit ballots (``COUNTY/AFF``) are batches of the audit's manifest, which
covers every ballot counted (summary.json ``canvass.ballots_certified``), in memory and read back
from the run directory alike; the audit draws from them; and an absentee envelope fed through the
scanner twice leaves CVRs with no paper behind them (an all-zero paper record) for the audit to find."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from pollsim.audit import run_audit
from pollsim.pipeline import ballots_of, run_election
from pollsim.rundir import RunDir, write_run
from pollsim.scenario import Scenario, load_scenario
from tests.conftest import SCENARIOS

DRILL = SCENARIOS / "drills" / "voted-ab-affidavit.yaml"
SEED = "31415926535897932384"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    run = run_election(load_scenario(DRILL), 1)
    out = tmp_path_factory.mktemp("abaudit") / "run"
    return run, out, write_run(run, out)


def test_the_manifest_covers_every_counted_ballot(written):
    run, out, summary = written
    ballots = RunDir(out).audit_ballots()
    b = ballots.batches
    names = dict(zip(b.names, b.counts.tolist(), strict=True))
    ab = {k: v for k, v in names.items() if "/AB-" in k}
    assert ab and sum(ab.values()) == summary["absentee"]["ballots_counted"]
    assert names["Training/AFF"] == summary["canvass"]["affidavit"]["counted"] > 0
    assert int(b.counts.sum()) == ballots.n == summary["canvass"]["ballots_certified"]
    assert {t for n, t in zip(b.names, b.tabulators, strict=True) if n in ab} == {"AB-SCAN"}
    for k, name in enumerate(b.names):  # each batch's rows are its ballots, positions 1..n
        assert len(ballots.batch_rows(k)) == names[name]
    memory = ballots_of(run.day, absentee=run.absentee, canvass=run.canvass)
    assert memory.batches.names == b.names and np.array_equal(memory.batches.counts, b.counts)
    assert np.array_equal(memory.cvr, ballots.cvr) and np.array_equal(memory.paper, ballots.paper)


def test_the_audit_draws_from_absentee_batches(written):
    _, out, summary = written
    result = run_audit(RunDir(out).audit_ballots(), "us-senate", 0.05, SEED, "kaplan-markov", echo=lambda _line: None)
    assert int(result.manifest.counts.sum()) == summary["canvass"]["ballots_certified"]
    batch, _ = result.manifest.locate(result.sample.cards)
    drawn = {result.manifest.batch_names[int(k)] for k in np.asarray(batch).tolist()}
    assert any("/AB-" in name for name in drawn), drawn


def test_a_ballot_scanned_twice_is_a_cvr_with_no_paper(written, tmp_path):
    d = yaml.safe_load(DRILL.read_text())
    d["absentee"] = {"errors": [{"precinct": "training-1", "kind": "envelope_accepted_twice", "count": 3}]}
    out = tmp_path / "run"
    write_run(run_election(Scenario.model_validate(d), 1), out)
    for run_dir, expected in ((out, 3), (written[1], 0)):
        ballots = RunDir(run_dir).audit_ballots()
        ab = np.isin(ballots.row_batch, [k for k, n in enumerate(ballots.batches.names) if "/AB-" in n])
        assert int((ab & ~ballots.paper.any(axis=1) & ballots.cvr.any(axis=1)).sum()) == expected
