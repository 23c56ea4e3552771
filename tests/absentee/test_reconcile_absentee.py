"""§23-15-615 with absentee ballots: (b) is the receipt book plus the voters who voted absentee, (f)
the ballots counted with the absentee ones, and errors in absentee handling flag exactly their
precincts, in memory and through a run directory (``pollsim reconcile``)."""

from __future__ import annotations

import numpy as np
import pytest

from pollsim.pipeline import run_election
from pollsim.reconcile import threshold
from pollsim.rundir import RunDir, reconcile_run_dir, write_run
from tests.absentee.conftest import mississippi


@pytest.fixture(scope="module")
def clean(adams):
    return run_election(adams, 3)


def test_b_and_f_include_the_absentee_ballots(clean):
    rec, ab = clean.reconciliation.result, clean.absentee
    acc = [p.accounting for p in clean.day.precincts]
    assert ab is not None and ab.n_ballots > 3000  # Adams: 3,127 mail/absentee and 17 UOCAVA voters in EAVS 2020
    assert np.array_equal(rec.totals["b_receipt_book_plus_absentee"], [a.receipt_book_signatures for a in acc] + ab.per_precinct["receipt_entries"])
    assert np.array_equal(rec.totals["f_total_cast"], [a.regular_ballots_cast for a in acc] + ab.tabulated())
    assert rec.totals["f_total_cast"].sum() == sum(a.regular_ballots_cast for a in acc) + ab.n_ballots
    assert not clean.reconciliation.flagged.any()


def test_injected_absentee_errors_flag_exactly_their_precincts(adams, clean, tmp_path):
    ids = [p.id for p in adams.precincts]
    f = clean.reconciliation.result.totals["f_total_cast"]
    twice, box = ids[2], ids[7]
    count = {pid: int(threshold(int(f[ids.index(pid)]))) + 1 for pid in (twice, box)}  # at or over the §615(4) threshold
    errors = [{"precinct": twice, "kind": "envelope_accepted_twice", "count": count[twice]}, {"precinct": box, "kind": "box_not_counted", "count": count[box]}]
    faulty = mississippi(["Adams"], {"errors": errors})
    run = run_election(faulty, 3)
    flagged = {ids[i] for i in np.flatnonzero(run.reconciliation.flagged)}
    assert flagged == {twice, box}
    diffs = run.reconciliation.result.differences["absentee_receipts_vs_counted"]
    assert diffs[ids.index(twice)] == -count[twice] and diffs[ids.index(box)] == count[box]
    assert run.reconciliation.result.differences["voters_vs_ballots"][ids.index(twice)] == -count[twice]
    write_run(run, tmp_path / "run")
    doc = reconcile_run_dir(tmp_path / "run")
    assert {r["precinct"] for r in doc["precincts"] if r["flagged"]} == {twice, box}
    counts = RunDir(tmp_path / "run").counts()
    assert np.array_equal(counts.absentee, run.counts.absentee) and np.array_equal(counts.absentee_tabulated, run.counts.absentee_tabulated)
