"""Reading a run directory for export: chunked rows, batches, ballot styles, the export's date."""

from __future__ import annotations

import json
import shutil

import numpy as np

from pollsim.export import export_run
from pollsim.export.common import generated_time
from pollsim.files import write_npz
from pollsim.rundir import RunDir
from tests.conftest import reseal

from .conftest import read_csv


def test_rows_read_in_chunks_are_the_stored_matrix(synthetic_run):
    run = RunDir(synthetic_run)
    chunks = list(run.iter_rows("cvr", chunk=777))
    assert [s for s, _ in chunks] == list(range(0, 5_000, 777))
    stored = np.load(synthetic_run / "ballots.npz")["cvr"]
    assert np.array_equal(np.concatenate([rows for _, rows in chunks]), stored)


def test_each_ballot_is_numbered_within_its_device_batch_in_cast_order(synthetic_run):
    run = RunDir(synthetic_run)
    seq = run.batch_sequence
    for key in np.unique(run.batch_keys)[:10]:
        assert seq[run.batch_keys == key].tolist() == list(range(1, int((run.batch_keys == key).sum()) + 1))


def test_the_export_is_dated_election_day_at_the_last_voter_out(dre_run):
    run = RunDir(dre_run[1])
    assert generated_time(run) == "2026-11-03T19:26:00-06:00"  # the minute after the last voter out (19:25 on the run's clock)


def test_with_several_ballot_styles_each_precinct_gets_the_smallest_that_holds_its_marks(synthetic_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(synthetic_run, run_dir)
    d = json.loads((run_dir / "election.json").read_text())
    contests = [c["id"] for c in d["contests"]]
    d["ballot_styles"] = [{"id": "full", "contests": contests}, {"id": "short", "contests": contests[:-1]}]
    (run_dir / "election.json").write_text(json.dumps(d))
    with np.load(run_dir / "ballots.npz") as z:
        arrays = {k: z[k].copy() for k in z.files}
    odd = arrays["precinct"] % 2 == 1
    arrays["cvr"][np.ix_(odd, [-2, -1])] = 0  # the last contest (local-option) only in even precincts
    write_npz(run_dir / "ballots.npz", arrays)
    reseal(run_dir)

    run = RunDir(run_dir)
    assert run.precinct_styles == ["full" if i % 2 == 0 else "short" for i in range(12)]
    export_run(run_dir, "nist-cvr", tmp_path / "cvr.json")
    doc = json.loads((tmp_path / "cvr.json").read_text())
    for cvr, p in zip(doc["CVR"], arrays["precinct"].tolist(), strict=True):
        assert cvr["BallotStyleId"] == ("short" if p % 2 else "full")
        assert len(cvr["CVRSnapshot"][0]["CVRContest"]) == len(contests) - (p % 2)
    export_run(run_dir, "dominion-cvr", tmp_path / "cvr.csv")
    for row, p in zip(read_csv(tmp_path / "cvr.csv")[4:], arrays["precinct"].tolist(), strict=True):
        assert (row[-2:] == ["", ""]) == bool(p % 2)
