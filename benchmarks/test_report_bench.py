"""The run report (``pollsim report``): time and size for a two-county run, and for a statewide one.

Targets (issue #8): a report of the 1,765-precinct statewide run in < 30 s and < 10 MB. The
two-county run (Adams and Amite, 40 precincts, 21,333 voters: the 2020 scenario restricted with
``mississippi.counties``) is simulated here; a real statewide run directory is used when
``POLLSIM_BENCH_RUN_DIR`` names one (made with ``pollsim run scenarios/ms-2020-general.yaml
--seed 1 --out MS --quiet --workers 2`` and ``pollsim reconcile MS``: about 4 minutes). Run:

    .venv/bin/pytest benchmarks/test_report_bench.py --benchmark-only -s
    POLLSIM_BENCH_RUN_DIR=MS .venv/bin/pytest benchmarks/test_report_bench.py --benchmark-only -s

The report of a copy is timed (the run directory itself is not written to).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from pollsim.night import night_seed, simulate_night
from pollsim.pipeline import ElectionRun
from pollsim.precinct.election_day import run_election_day
from pollsim.report import build_report
from pollsim.rundir import reconcile_run_dir, write_run
from pollsim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
TIME_LIMIT = 30.0
SIZE_LIMIT = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def two_counties(tmp_path_factory) -> Path:
    d = yaml.safe_load((ROOT / "scenarios" / "ms-2020-general.yaml").read_text())
    d["mississippi"]["counties"] = ["Adams", "Amite"]
    scenario = Scenario.model_validate(d)
    out = tmp_path_factory.mktemp("bench") / "two-counties"
    run = run_election_day(scenario, 1)
    write_run(ElectionRun.of_day(run, simulate_night(run, night_seed(1))), out)
    reconcile_run_dir(out)
    return out


def _bench(benchmark, source: Path, tmp: Path) -> None:
    run = tmp / source.name
    shutil.copytree(source, run, ignore=shutil.ignore_patterns("tapes", "report.html", "plots"))
    page = benchmark.pedantic(build_report, args=(run,), rounds=3, iterations=1)
    size = page.stat().st_size + sum(p.stat().st_size for p in (run / "plots").glob("*.png"))
    print(f"\n{source}: report {page.stat().st_size / 1e6:.2f} MB (with plots/ {size / 1e6:.2f} MB), "
          f"best {benchmark.stats.stats.min:.2f} s, mean {benchmark.stats.stats.mean:.2f} s")  # fmt: skip
    assert benchmark.stats.stats.max < TIME_LIMIT
    assert page.stat().st_size < SIZE_LIMIT


def test_two_county_report(benchmark, two_counties, tmp_path):
    _bench(benchmark, two_counties, tmp_path)


@pytest.mark.skipif(not os.environ.get("POLLSIM_BENCH_RUN_DIR"), reason="set POLLSIM_BENCH_RUN_DIR to a statewide run directory")
def test_statewide_report(benchmark, tmp_path):
    _bench(benchmark, Path(os.environ["POLLSIM_BENCH_RUN_DIR"]), tmp_path)
