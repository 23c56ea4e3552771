"""Ballot manifests: from a run, from a county's CSV file, and checked against the CVRs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pollsim.audit.errors import AuditError, ManifestError
from pollsim.audit.manifest import check_manifest, manifest_from_run, read_manifest_csv
from pollsim.errors import PollsimError
from pollsim.rundir import RunDir


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "manifest.csv"
    p.write_text(text)
    return p


def test_a_runs_manifest_has_one_batch_per_precinct_and_device_named_by_both(training_run):
    ballots = RunDir(training_run).audit_ballots()
    m = manifest_from_run(ballots.batches)
    assert m.batch_names == ("training-1 DRE-1", "training-1 DRE-2", "training-1 DRE-3", "training-1 DRE-4", "training-1 ADA-1")
    assert set(m.containers) == {"Training"} and m.tabulators[0] == "DRE-1"
    assert m.total == ballots.n
    assert m.counts.tolist() == np.bincount(ballots.device).tolist()


def test_a_drawn_position_finds_that_devices_ballot_in_cast_order(training_run):
    ballots = RunDir(training_run).audit_ballots()
    b = ballots.batches
    rows = ballots.rows(np.array([1, 1, 4]), np.array([1, 3, 2]))
    dre2 = np.flatnonzero(ballots.device == 1)
    ada = np.flatnonzero(ballots.device == 4)
    assert rows.tolist() == [dre2[0], dre2[2], ada[1]]
    assert b.counts.sum() == ballots.n


def test_manifest_csv_positions_count_from_one_in_file_order(tmp_path):
    m = read_manifest_csv(write(tmp_path, "Container,Tabulator,Batch Name,Number of Ballots\nA,T1,b1,3\nA,T2,b2,2\n"))
    assert m.total == 5
    batch, pos = m.locate(np.arange(5))
    assert batch.tolist() == [0, 0, 0, 1, 1] and pos.tolist() == [1, 2, 3, 1, 2]
    assert m.card(np.array([1]), np.array([2])).tolist() == [4]


def test_manifest_needs_only_batch_name_and_number_of_ballots(tmp_path):
    m = read_manifest_csv(write(tmp_path, "Number of Ballots,Batch Name\n4,x\n"))
    assert m.batch_names == ("x",) and m.containers == ("",)


@pytest.mark.parametrize(
    "text, where, says",
    [
        ("Batch Name,Ballots\nb1,3\n", ":1:", "missing column 'Number of Ballots'"),
        ("Batch Name,Number of Ballots\nb1,3\nb2,4\nb1,5\n", ":4:", "duplicate batch 'b1' (first listed on line 2)"),
        ("Batch Name,Number of Ballots\nb1,3\nb2,0\n", ":3:", "is zero"),
        ("Batch Name,Number of Ballots\nb1,-2\n", ":2:", "is negative"),
        ("Batch Name,Number of Ballots\nb1,3\nb2,\nb3,4\n", ":3:", "not a whole number"),
        ("Batch Name,Number of Ballots\nb1,2.5\n", ":2:", "'2.5', not a whole number"),
        ("Batch Name,Number of Ballots\n,3\n", ":2:", "empty Batch Name"),
        ("", ":1:", "empty file"),
    ],
)
def test_a_malformed_manifest_is_one_line_naming_the_file_and_row(tmp_path, text, where, says):
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as err:
        read_manifest_csv(path)
    msg = str(err.value)
    assert isinstance(err.value, PollsimError)
    assert "\n" not in msg and msg.startswith(f"{path}{where}") and says in msg


def test_more_ballots_in_the_manifest_than_cvrs_are_phantoms_at_the_end_of_the_batch(training_run, tmp_path):
    ballots = RunDir(training_run).audit_ballots()
    run_m = manifest_from_run(ballots.batches)
    counts = run_m.counts.copy()
    counts[2] += 3
    lines = ["Batch Name,Number of Ballots"] + [f"{n},{c}" for n, c in zip(run_m.batch_names, counts.tolist(), strict=True)]
    m = read_manifest_csv(write(tmp_path, "\n".join(lines) + "\n"))
    check = check_manifest(m, ballots.batches)
    assert check.phantoms.tolist() == [0, 0, 3, 0, 0] and check.total_phantoms == 3
    last = int(m.offsets[3]) - 1
    assert check.is_phantom(np.array([last, last - 2, last - 3])).tolist() == [True, True, False]


def test_cvrs_the_manifest_does_not_account_for_stop_the_audit(training_run, tmp_path):
    ballots = RunDir(training_run).audit_ballots()
    run_m = manifest_from_run(ballots.batches)
    short = "\n".join(["Batch Name,Number of Ballots"] + [f"{n},{c}" for n, c in zip(run_m.batch_names[:-1], run_m.counts.tolist(), strict=False)])
    with pytest.raises(AuditError, match="'training-1 ADA-1' has CVRs but is not in the ballot manifest"):
        check_manifest(read_manifest_csv(write(tmp_path, short + "\n")), ballots.batches)
    fewer = "\n".join(["Batch Name,Number of Ballots"] + [f"{n},{c - (i == 0)}" for i, (n, c) in enumerate(zip(run_m.batch_names, run_m.counts.tolist(), strict=True))])
    with pytest.raises(AuditError, match="must account for every ballot"):
        check_manifest(read_manifest_csv(write(tmp_path, fewer + "\n")), ballots.batches)
