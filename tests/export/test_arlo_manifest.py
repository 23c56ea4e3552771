"""Arlo ballot manifest: exact columns; batches add up to the CVRs and match the device counters."""

from __future__ import annotations

import csv
from collections import Counter

from pollsim.export import export_run

from .conftest import read_csv, summary


def manifest(run_dir, tmp_path):
    out = tmp_path / "manifest.csv"
    result = export_run(run_dir, "arlo-manifest", out)
    return result, read_csv(out)


def test_columns_are_exactly_arlos(run_dir, tmp_path):
    _, rows = manifest(run_dir, tmp_path)
    assert rows[0] == ["Container", "Tabulator", "Batch Name", "Number of Ballots"]
    assert all(len(r) == 4 for r in rows)


def test_batch_counts_sum_to_the_number_of_cvrs(run_dir, tmp_path):
    result, rows = manifest(run_dir, tmp_path)
    assert sum(int(r[3]) for r in rows[1:]) == summary(run_dir)["ballots_cast"]
    assert result.records == len(rows) - 1


def test_each_tabulators_batch_matches_its_public_counter(run_dir, tmp_path):
    _, rows = manifest(run_dir, tmp_path)
    with (run_dir / "devices.csv").open() as f:
        devices = list(csv.DictReader(f))
    with (run_dir / "precincts.csv").open() as f:
        county = {r["precinct"]: r["county"] for r in csv.DictReader(f)}
    expected = [
        [county[d["precinct"]], d["device_id"], f"{d['precinct']}/{d['device_id']}", d["public_count"]] for d in devices if d["kind"] != "bmd"
    ]
    assert rows[1:] == expected  # BMDs print cards the scanner casts: no batch of their own


def test_batch_names_are_unique_and_are_the_cvr_exports_batches(synthetic_run, tmp_path):
    _, rows = manifest(synthetic_run, tmp_path)
    names = [r[2] for r in rows[1:]]
    assert len(names) == len(set(names)) == 36
    export_run(synthetic_run, "dominion-cvr", tmp_path / "cvr.csv")
    cvr_rows = read_csv(tmp_path / "cvr.csv")[4:]
    per_batch = Counter((r[1], r[2]) for r in cvr_rows)
    assert per_batch == Counter({(r[1], r[2]): int(r[3]) for r in rows[1:]})
    records = {}
    for r in cvr_rows:
        records.setdefault((r[1], r[2]), []).append(int(r[3]))
    assert all(v == list(range(1, len(v) + 1)) for v in records.values())
    assert {r[0] for r in rows[1:]} == {"Alpha", "Beta"}
