"""The absentee and canvass stages' cost on a statewide run (issue 15: at most 15 % more).

The Mississippi 2020 replay (1,765 precincts, 1,313,759 certified votes) is run through
``pipeline.run_election`` twice in the same session, in one process: without the absentee and
canvass stages (``absentee=False, canvass=False``: the same election day, night and
reconciliation) and with them (about 237,000 absentee envelopes checked and counted, 20,000
affidavit ballots ruled on, the canvass to certification). The ratio of the two is the measure;
the stages are also timed alone. Run (about 3 minutes):

    .venv/bin/pytest benchmarks/test_absentee_bench.py --benchmark-only -s
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pollsim.absentee import run_absentee
from pollsim.canvass import run_canvass
from pollsim.pipeline import run_election
from pollsim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "ms-2020-general.yaml"
TIMES: dict[str, float] = {}
RUNS: dict[str, object] = {}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


def test_statewide_run_without_absentee_and_canvass(benchmark, scenario):
    run = benchmark.pedantic(lambda: run_election(scenario, 1, absentee=False, canvass=False), rounds=1, warmup_rounds=0)
    TIMES["without"] = benchmark.stats.stats.min
    assert run.absentee is None and run.canvass is None


def test_statewide_run_with_absentee_and_canvass(benchmark, scenario):
    run = benchmark.pedantic(lambda: run_election(scenario, 1), rounds=1, warmup_rounds=0)
    TIMES["with"] = benchmark.stats.stats.min
    RUNS["with"] = run
    assert run.absentee is not None and run.canvass is not None and run.absentee.n_ballots > 230_000
    if "without" in TIMES:
        extra = TIMES["with"] / TIMES["without"] - 1.0
        print(f"\nstatewide run: {TIMES['without']:.1f} s without, {TIMES['with']:.1f} s with absentee and canvass: +{extra:.1%}")
        assert extra <= 0.15


def test_the_absentee_stage_alone(benchmark, scenario):
    ab = benchmark.pedantic(lambda: run_absentee(scenario, 1), rounds=3, warmup_rounds=0)
    print(f"\nabsentee stage: {benchmark.stats.stats.min:.2f} s for {len(ab.envelopes):,} envelopes, {ab.n_ballots:,} ballots counted")


def test_the_canvass_stage_alone(benchmark):
    run = RUNS.get("with")
    if run is None:
        pytest.skip("needs the statewide run of test_statewide_run_with_absentee_and_canvass (same session)")
    cv = benchmark.pedantic(lambda: run_canvass(run.day, run.absentee, run.night, 1), rounds=3, warmup_rounds=0)  # type: ignore[attr-defined]
    print(f"\ncanvass stage: {benchmark.stats.stats.min:.3f} s for {len(cv.affidavit_status):,} affidavit ballots")
