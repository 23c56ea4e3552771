"""Precinct days give the same bytes on any engine and worker count (a real Dask LocalCluster too)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml

from pollsim.precinct.election_day import run_election_day
from pollsim.scale import executor
from pollsim.scale.engines import EngineError
from pollsim.scenario import Scenario
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def small_state() -> Scenario:
    d = yaml.safe_load((SCENARIOS / "ms-2024-general.yaml").read_text())
    d["mississippi"]["counties"] = ["Adams", "Amite", "Issaquena"]
    return Scenario.model_validate(d)


def same(a, b) -> bool:
    return len(a.precincts) == len(b.precincts) and all(
        x.precinct == y.precinct and x.voters.tobytes() == y.voters.tobytes() and np.array_equal(x.cvr, y.cvr) and np.array_equal(x.paper, y.paper)
        for x, y in zip(a.precincts, b.precincts, strict=True)
    )


def test_process_pool_and_dask_cluster_agree_with_a_single_process(small_state):
    here = run_election_day(small_state, 3)
    with executor(2, "process") as pool:
        pooled = run_election_day(small_state, 3, executor=pool)
    with executor(2, "dask") as cluster:
        dasked = run_election_day(small_state, 3, executor=cluster)
    assert same(here, pooled) and same(here, dasked)


def test_a_day_prepared_chunk_by_chunk_is_asked_in_scenario_order_and_simulates_what_it_was_given(small_state):
    """``run_election_day(prepare=...)`` asks for each chunk once, in scenario order, as it goes to
    the executor (the chain marks the pollbooks VOTED AB this way), and the day is that of the
    prepared precincts, on a pool as in process."""
    from pollsim.precinct.election_day import CHUNK

    def marked(precincts):
        return [p.model_copy(update={"roll": p.roll.model_copy(update={"voted_ab": 0.05})}) for p in precincts]

    asked: list[tuple[int, list[str]]] = []

    def prepare(first, precincts):
        asked.append((first, [p.id for p in precincts]))
        return marked(precincts)

    whole = small_state.model_copy(update={"precincts": marked(small_state.precincts)})
    expected = run_election_day(whole, 3)
    assert not same(expected, run_election_day(small_state, 3))  # the marks change the day
    chunks = [(k, [p.id for p in small_state.precincts[k : k + CHUNK]]) for k in range(0, len(small_state.precincts), CHUNK)]
    assert len(chunks) > 1
    with executor(2, "process") as pool:
        pooled = run_election_day(small_state, 3, executor=pool, prepare=prepare)
    assert asked == chunks and same(pooled, expected) and pooled.scenario.precincts == whole.precincts
    asked.clear()
    here = run_election_day(small_state, 3, prepare=prepare)
    assert asked == chunks and same(here, expected) and here.scenario.precincts == whole.precincts


def test_run_directories_are_byte_identical_for_any_worker_count(tmp_path, small_state):
    scen = tmp_path / "s.yaml"
    d = yaml.safe_load((SCENARIOS / "ms-2024-general.yaml").read_text())
    d["mississippi"]["counties"] = ["Adams", "Issaquena"]
    scen.write_text(yaml.safe_dump(d))
    outs = []
    for k, extra in enumerate((["--workers", "1"], ["--workers", "2"], ["--engine", "dask", "--workers", "2"])):
        out = tmp_path / f"r{k}"
        proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "run", str(scen), "--seed", "3", "--out", str(out), "--quiet", *extra], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    for name in ("summary.json", "ballots.npz", "voters.npz", "precincts.csv", "eventlog.npz", "reporting.csv"):
        first = (outs[0] / name).read_bytes()
        assert all((o / name).read_bytes() == first for o in outs[1:]), name


def test_an_unknown_engine_or_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(EngineError, match="unknown engine"), executor(2, "threads"):
        pass
    with pytest.raises(EngineError, match="cannot connect"), executor(2, "dask", "tcp://127.0.0.1:9"):
        pass
