"""The election day streamed into the run directory's staging folder as precincts finish (issue 12).

``pollsim run`` hands the day a :class:`~pollsim.rundir.DaySpool`: each chunk of precincts is
packed (its arrays deflated) where it was simulated, spooled to disk as it arrives and comes back
without its per-voter arrays, so the parent never holds every voter and never compresses them;
the run directory is byte for byte the one written from memory, and the write stays
all-or-nothing.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import yaml

import pollsim.precinct.election_day as election_day
from pollsim.errors import PollsimError
from pollsim.files import DeflatedSpool
from pollsim.pipeline import run_election
from pollsim.precinct import Outcome, PrecinctResult
from pollsim.rundir import DaySpool, RunDirError, write_run
from pollsim.rundir.spool import PackedChunk
from pollsim.scenario import Scenario
from tests.conftest import SCENARIOS

CHUNK = 4  # precincts per chunk here, so a small scenario arrives in many chunks


@pytest.fixture(scope="module")
def two_counties() -> Scenario:
    """Adams and Issaquena of the 2020 replay (absentee voting and the canvass included)."""
    d = yaml.safe_load((SCENARIOS / "ms-2020-general.yaml").read_text())
    d["mississippi"]["counties"] = ["Adams", "Issaquena"]
    return Scenario.model_validate(d)


def digests(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


class Watched(DaySpool):
    """A DaySpool that checks, after every chunk, what is on disk and what came back."""

    def __init__(self, out: Path):
        super().__init__(out)
        self.chunks: list[tuple[int, int]] = []
        self.voters_so_far = self.ballots_so_far = 0

    def take(self, first: int, packed: PackedChunk) -> list[PrecinctResult]:
        # what crossed from the worker: the chunk's arrays deflated, the precincts already slimmed
        assert all(p.streamed is not None and p.logs == {} and len(p.intent) == 0 for p in packed.results)
        raw = sum(piece.size for pieces in packed.pieces.values() for piece in pieces.values())
        assert sum(len(piece.data) for pieces in packed.pieces.values() for piece in pieces.values()) < raw / 2
        self.voters_so_far += sum(p.streamed.voters_arrived for p in packed.results if p.streamed is not None)
        self.ballots_so_far += sum(len(p.cvr) for p in packed.results)
        slim = super().take(first, packed)
        self.chunks.append((first, len(slim)))
        # on disk already: every voter of every precinct so far, their ballots and tapes
        assert self.arrays["voters"]["arrival"].rows == self.voters_so_far
        assert self.arrays["ballots"]["intent"].rows == self.arrays["ballots"]["voter"].rows == self.ballots_so_far
        assert all((self.stage / "tapes" / p.precinct).is_dir() and any((self.stage / "tapes" / p.precinct).iterdir()) for p in slim)
        assert self.arrays["voters"]["wait"].size == 8 * self.voters_so_far
        assert len(self.load("voters", "wait")) == self.voters_so_far
        return slim


def test_the_day_streams_chunk_by_chunk_keeps_no_voter_arrays_and_writes_the_same_bytes(two_counties, tmp_path, monkeypatch):
    monkeypatch.setattr(election_day, "CHUNK", CHUNK)
    in_memory = run_election(two_counties, 5)
    write_run(in_memory, tmp_path / "memory")
    with ProcessPoolExecutor(2) as pool, Watched(tmp_path / "streamed") as spool:
        streamed = run_election(two_counties, 5, executor=pool, sink=spool)
        n = len(streamed.day.precincts)
        # the absentee stage's archive was written while the day ran, and is the run's
        assert spool.absentee is not None and spool.absentee[0] is streamed.absentee and (spool.stage / "absentee.npz").is_file()
        # every chunk arrived in scenario order and was spooled as it came
        assert spool.chunks == [(k, min(CHUNK, n - k)) for k in range(0, n, CHUNK)] and len(spool.chunks) > 3
        for full, slim in zip(in_memory.day.precincts, streamed.day.precincts, strict=True):
            assert slim.streamed is not None and slim.streamed.voters_arrived == len(full.voters)
            assert len(slim.intent) == 0 and len(slim.ballot_voter) == 0 and slim.logs == {} and slim.zero_tapes == slim.results_tapes == {}
            kept = full.voters[full.voters["outcome"] != Outcome.REGULAR]
            assert slim.voters.tobytes() == kept.tobytes() and len(kept) < len(full.voters) / 10
            assert np.array_equal(slim.cvr, full.cvr) and slim.last_voter_out == full.last_voter_out
        held = sum(len(p.voters) for p in streamed.day.precincts)
        assert held < sum(len(p.voters) for p in in_memory.day.precincts) / 10
        assert "intent" not in streamed.day.layers() and np.array_equal(streamed.day.voter_field("wait"), in_memory.day.voter_field("wait"), equal_nan=True)
        # the stages after the day gave the same records
        assert streamed.reconciliation.rows() == in_memory.reconciliation.rows()
        assert np.array_equal(streamed.canvass.affidavit_counted, in_memory.canvass.affidavit_counted)
        write_run(streamed, tmp_path / "streamed")
    assert digests(tmp_path / "streamed") == digests(tmp_path / "memory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memory", "streamed"]  # no staging folder, no spool left


def test_a_day_that_fails_midway_leaves_the_earlier_run_as_it_was(two_counties, tmp_path, monkeypatch):
    monkeypatch.setattr(election_day, "CHUNK", CHUNK)
    out = tmp_path / "run"
    write_run(run_election(two_counties, 5), out)
    before = digests(out)

    def stop(k: int) -> None:
        if k > 2 * CHUNK:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), DaySpool(out, force=True) as spool:
        run_election(two_counties, 6, sink=spool, progress=stop)
    assert digests(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_no_space_left_while_spooling_is_one_error_naming_the_run_and_changes_nothing(two_counties, tmp_path, monkeypatch):
    monkeypatch.setattr(election_day, "CHUNK", CHUNK)
    out = tmp_path / "run"
    write_run(run_election(two_counties, 5), out)
    before = digests(out)
    append, calls = DeflatedSpool.append, []

    def full_disk(self: DeflatedSpool, piece) -> None:
        calls.append(1)
        if len(calls) > 60:  # a few chunks in
            raise OSError(28, "No space left on device")
        append(self, piece)

    monkeypatch.setattr(DeflatedSpool, "append", full_disk)
    with pytest.raises(PollsimError) as err, DaySpool(out, force=True) as spool:
        run_election(two_counties, 6, sink=spool)
    assert str(out) in str(err.value) and "No space left" in str(err.value) and "\n" not in str(err.value)
    assert digests(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_streamed_day_is_written_only_into_the_run_it_was_streamed_for(training, tmp_path):
    out = tmp_path / "run"
    with DaySpool(out) as spool:
        run = run_election(training, 7, sink=spool)
        with pytest.raises(PollsimError, match="streamed into"):
            write_run(run, tmp_path / "elsewhere")
        write_run(run, out)
        with pytest.raises(PollsimError, match="already written"):
            write_run(run, out, force=True)
    assert digests(out) == digests(_written(run_election(training, 7), tmp_path / "memory"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memory", "run"]


def test_the_target_is_refused_before_the_day_starts(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not a pollsim run directory"):
        DaySpool(tmp_path / "notes")
    assert [p.name for p in tmp_path.iterdir()] == ["notes"] and (tmp_path / "notes" / "todo.txt").read_text() == "mine"


def _written(run, out: Path) -> Path:
    write_run(run, out)
    return out
