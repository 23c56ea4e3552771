"""The simulator's device memory (:class:`~pollsim.devices.store.MemoryStore`) keeps every ballot.

A cast ballot is counted at once and its rows are copied into the arrays in one go when they are
next read (issue 12: a precinct's day casts hundreds of ballots per unit and reads them once).
Whatever the order of casting and reading, the arrays must hold what a row-by-row copy holds,
a full memory must refuse a ballot without changing anything, and a DRE in memory must fill its
store exactly as one whose store commits every ballot (SQLite).
"""

from __future__ import annotations

import numpy as np
import pytest

from pollsim.devices import DRE, PrecinctScanner
from pollsim.devices.store import MemoryFull, MemoryStore, SQLiteStore


def _rows(width: int, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, (n, width)).astype(np.uint8)


@pytest.mark.parametrize("capacity", [1, 3, 256])
def test_ballots_read_between_casts_and_past_the_capacity_are_all_there_in_order(capacity):
    width = 7
    cvr, paper = _rows(width, 40, 1), _rows(width, 40, 2)
    store = MemoryStore(width, capacity=capacity)
    for k in range(40):
        same = k % 3 == 0  # a DRE hands the same row as both layers; a faulty one two rows
        store.record_ballot(10.0 + k, cvr[k], cvr[k] if same else paper[k], test=k % 5 == 4)
        if k in (0, 6, 17):
            assert store.n == k + 1 and len(store.cvr) >= k + 1  # a read in between settles what came before
    want_paper = np.array([cvr[k] if k % 3 == 0 else paper[k] for k in range(40)])
    test = np.array([k % 5 == 4 for k in range(40)])
    assert np.array_equal(store.cvr[:40], cvr) and np.array_equal(store.paper[:40], want_paper)
    assert np.array_equal(store.cast_time[:40], 10.0 + np.arange(40)) and np.array_equal(store.test[:40], test)
    assert (store.public, store.protective) == (32, 40)
    live_cvr, live_paper, live_time = store.ballots()
    assert np.array_equal(live_cvr, cvr[~test]) and np.array_equal(live_paper, want_paper[~test]) and np.array_equal(live_time, (10.0 + np.arange(40))[~test])


def test_leaving_test_mode_clears_test_ballots_not_yet_copied():
    store = MemoryStore(4, capacity=2)
    rows = _rows(4, 5, 3)
    for k in range(5):
        store.record_ballot(float(k), rows[k], rows[k], test=k < 3)
    store.clear_test_ballots()
    assert store.n == 2 and store.protective == 5 and store.public == 2
    assert np.array_equal(store.ballots()[0], rows[3:])
    store.record_ballot(9.0, rows[0], rows[0], test=False)
    assert np.array_equal(store.ballots()[0], np.vstack([rows[3:], rows[:1]]))


def test_a_full_memory_refuses_the_ballot_and_changes_nothing():
    store = MemoryStore(3, limit=2)
    rows = _rows(3, 3, 4)
    store.record_ballot(1.0, rows[0], rows[0], False)
    store.record_ballot(2.0, rows[1], rows[1], False)
    with pytest.raises(MemoryFull):
        store.record_ballot(3.0, rows[2], rows[2], False)
    assert (store.n, store.public, store.protective) == (2, 2, 2) and np.array_equal(store.ballots()[0], rows[:2])


def test_a_record_changed_through_the_array_stays_changed():
    store = MemoryStore(3)
    rows = _rows(3, 2, 5)
    store.record_ballot(1.0, rows[0], rows[0], False)
    store.record_ballot(2.0, rows[1], rows[1], False)
    store.cvr[1] = 1 - store.cvr[1]  # tampering with the card, as tests/night/test_readin.py does
    assert np.array_equal(store.ballots()[0][1], 1 - rows[1]) and np.array_equal(store.ballots()[1][1], rows[1])


def test_a_dre_and_a_scanner_in_memory_store_what_a_committing_store_stores(tmp_path, election):
    ballots = _rows(election.width, 30, 6)
    for kind in (DRE, PrecinctScanner):
        units = [kind("U-1", election, precinct="P1", t=400.0),
                 kind("U-1", election, SQLiteStore(tmp_path / f"{kind.__name__}.db", election.width, election.definition_hash), precinct="P1", t=400.0)]  # fmt: skip
        for unit in units:
            unit.enter_test_mode(401.0)
            (unit.cast if kind is DRE else unit.scan)(402.0, ballots[0], **({} if kind is DRE else {"override": True}))
            unit.set_for_election(403.0)
            unit.open_polls(420.0)
            unit.fail(421.0, "calibration_drift", share=0.5)  # rows of their own for some ballots
            for k, b in enumerate(ballots[1:]):
                (unit.cast if kind is DRE else unit.scan)(422.0 + k, b, **({} if kind is DRE else {"override": True}))
        memory, disk = (u.store.ballots() for u in units)
        assert all(np.array_equal(a, b) for a, b in zip(memory, disk, strict=True)) and len(memory[0]) == 29
        assert units[0].log.head == units[1].log.head and units[0].public_count == units[1].public_count == 29
        units[1].store.close()
