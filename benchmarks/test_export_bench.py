"""Statewide exports and tabulation: the streaming NIST CVR export and ``tabulate.tally``.

Targets (export issue): the NIST SP 1500-103 CVR export of the Mississippi statewide run
(1,313,759 ballots) at >= 100,000 CVRs/s, written to a file; ``tabulate.tally`` over the
1.3 million rows in < 0.5 s. The run directory is a synthetic statewide one built here (the
1,765 precincts of the 2020 scenario with their certified presidential votes, Senate and measure
marks drawn at random, three DREs a precinct), or a real one named by ``POLLSIM_BENCH_RUN_DIR``
(e.g. made with ``pollsim run scenarios/ms-2020-general.yaml --seed 1 --out MS --quiet``). Run:

    .venv/bin/pytest benchmarks/test_export_bench.py --benchmark-only -s
    POLLSIM_BENCH_RUN_DIR=MS .venv/bin/pytest benchmarks/test_export_bench.py --benchmark-only -s

The file rate includes writing ~1.7 GB of JSON (and its fsync), so it depends on the disk; the
generation rate (the same export into a sink that discards the text) is the exporter's own cost.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from pollsim.export import export_run
from pollsim.export.cvr import write_nist_cvr
from pollsim.export.dominion import write_dominion_cvr
from pollsim.files import write_npz
from pollsim.rundir import DEVICE_COLUMNS, PRECINCT_COLUMNS, RunDir
from pollsim.scenario import build_election, load_scenario
from pollsim.tabulate import tally, tally_dict
from tests.conftest import reseal

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "ms-2020-general.yaml"
DEVICES_PER_PRECINCT = 3


def statewide_run_dir(out: Path) -> Path:
    """The synthetic statewide run directory (see the module docstring)."""
    scenario = load_scenario(SCENARIO)
    el = build_election(scenario.election)
    rng = np.random.default_rng(2020)
    precincts = scenario.precincts
    per_precinct = np.array([sum(p.replay.votes.values()) for p in precincts], np.int64)
    n = int(per_precinct.sum())
    cvr = np.zeros((n, el.width), np.uint8)
    pres = el.contest_slices["president"]
    choices = [ch.id for ch in el.contest("president").choices]
    row = 0
    for p in precincts:
        picks = np.repeat(np.arange(len(choices)), [p.replay.votes.get(c, 0) for c in choices])
        cvr[row + np.arange(len(picks)), pres.start + rng.permutation(picks)] = 1
        row += len(picks)
    for cid in ("us-senate", "ballot-measure-3"):
        sl = el.contest_slices[cid]
        k = sl.stop - sl.start
        pick = rng.integers(0, k + 1, n)  # k: left blank
        marked = pick < k
        cvr[np.flatnonzero(marked), sl.start + pick[marked]] = 1
    precinct = np.repeat(np.arange(len(precincts), dtype=np.int32), per_precinct)
    device = rng.integers(0, DEVICES_PER_PRECINCT, n).astype(np.int16)
    out.mkdir(parents=True, exist_ok=True)
    write_npz(
        out / "ballots.npz",
        {
            "columns": np.array([f"{c.contest}/{c.choice}" for c in el.columns]),
            "precinct_ids": np.array([p.id for p in precincts]),
            "intent": cvr, "paper": cvr, "cvr": cvr,
            "precinct": precinct, "device": device, "voter": np.zeros(n, np.int32),
            "affidavit": np.zeros((0, el.width), np.uint8), "affidavit_precinct": np.zeros(0, np.int32),
        },
    )  # fmt: skip
    per_device = np.bincount(precinct.astype(np.int64) * DEVICES_PER_PRECINCT + device, minlength=len(precincts) * DEVICES_PER_PRECINCT)
    with (out / "precincts.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(PRECINCT_COLUMNS)
        for p, k in zip(precincts, per_precinct.tolist(), strict=True):
            r = dict.fromkeys(PRECINCT_COLUMNS, 0)
            r.update(precinct=p.id, county=p.county, equipment="dre", registered_voters=p.registered_voters, voters_arrived=k, ballots_cast=k, last_voter_out="19:40")
            w.writerow([r[c] for c in PRECINCT_COLUMNS])
    with (out / "devices.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(DEVICE_COLUMNS)
        for i, p in enumerate(precincts):
            for k in range(DEVICES_PER_PRECINCT):
                c = int(per_device[i * DEVICES_PER_PRECINCT + k])
                w.writerow([p.id, k, f"DRE-{k + 1}", "dre", c, c, c, "0" * 64])
    (out / "election.json").write_text(json.dumps(el.to_dict(), indent=2) + "\n")
    summary = {"scenario": "synthetic-statewide", "seed": 2020, "pollsim_version": "0.1.0", "election": {"id": el.id, "definition_sha256": el.definition_hash},
               "precincts": len(precincts), "ballots_cast": n, "last_voter_out": "19:40", "tally": tally_dict(el, cvr)}  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return reseal(out)  # summary.json records the files' SHA-256, as pollsim run writes it


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    given = os.environ.get("POLLSIM_BENCH_RUN_DIR")
    return Path(given) if given else statewide_run_dir(tmp_path_factory.mktemp("statewide"))


class Sink(io.TextIOBase):
    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        return len(s)


def test_nist_cvr_export_to_a_file(benchmark, run_dir, tmp_path):
    out = tmp_path / "cvr.json"
    try:
        result = benchmark.pedantic(export_run, args=(run_dir, "nist-cvr", out), rounds=3, warmup_rounds=0)
        size = out.stat().st_size
    finally:
        out.unlink(missing_ok=True)  # 1.7 GB: not left for pytest's kept temporary directories
    rate = result.records / benchmark.stats.stats.min
    benchmark.extra_info.update(cvrs=result.records, cvrs_per_second=rate, bytes=size)
    print(f"\nNIST CVR export to a file: {result.records:,} CVRs, {size / 1e9:.2f} GB, {benchmark.stats.stats.min:.1f} s best, {rate:,.0f} CVRs/s")
    assert rate >= 100_000


def test_nist_cvr_generation(benchmark, run_dir):
    run = RunDir(run_dir)
    _ = run.batch_sequence  # opening the run directory is timed in the file benchmark
    n = benchmark.pedantic(write_nist_cvr, args=(run, Sink()), rounds=3, warmup_rounds=0)
    rate = n / benchmark.stats.stats.min
    benchmark.extra_info.update(cvrs_per_second=rate)
    print(f"\nNIST CVR export, text discarded: {n:,} CVRs, {benchmark.stats.stats.min:.2f} s best, {rate:,.0f} CVRs/s")
    assert rate >= 100_000


def test_dominion_cvr_generation(benchmark, run_dir):
    run = RunDir(run_dir)
    _ = run.batch_sequence
    n = benchmark.pedantic(write_dominion_cvr, args=(run, Sink()), rounds=3, warmup_rounds=0)
    rate = n / benchmark.stats.stats.min
    benchmark.extra_info.update(rows_per_second=rate)
    print(f"\nDominion CVR CSV, text discarded: {n:,} rows, {benchmark.stats.stats.min:.2f} s best, {rate:,.0f} rows/s")


def test_statewide_tally(benchmark, run_dir):
    run = RunDir(run_dir)
    with np.load(run_dir / "ballots.npz") as z:
        cvr = z["cvr"]
    counted = benchmark.pedantic(tally, args=(run.election, cvr), rounds=10, warmup_rounds=1)
    best = benchmark.stats.stats.min
    benchmark.extra_info.update(rows=len(cvr), seconds=best)
    print(f"\ntabulate.tally over {len(cvr):,} rows x {cvr.shape[1]} columns: {best * 1000:.0f} ms best")
    assert {c: t.votes for c, t in counted.items()} == json.loads((run_dir / "summary.json").read_text())["tally"]
    assert best < 0.5
