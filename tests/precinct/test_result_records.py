"""A day's device records give each log's head at the close, however the result travels.

The chain hash of a device's last log entry (``DeviceRecord.log_head``) is computed when it is
first read, not at the close (issue 12: a stress night never reads it). It must be the hash of the
log as it stood at the close even if entries are added later, travel as the hash alone to another
process, and be fixed once a result drops its logs (a result slimmed for a run directory).
"""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from pollsim.devices import verify_chain
from pollsim.devices.eventlog import EventLog
from pollsim.precinct import DeviceRecord, simulate_precinct
from pollsim.precinct.draws import _contest_marks
from pollsim.precinct.election_day import precinct_seed
from pollsim.scenario.models import ContestSpec


@pytest.fixture(scope="module")
def result(training, election):
    return simulate_precinct(training, election, training.precincts[0], precinct_seed(3, 0))


def test_each_record_gives_its_log_head_and_length(result):
    assert result.devices and len(result.logs) >= len(result.devices)
    for d in result.devices:
        log = result.logs[d.device_id]
        assert d.log_entries == len(log) > 1
        assert d.log_head == log.hashes()[-1] == log.head
        assert verify_chain(log.genesis, log.entries, log.hashes()) is None


def test_the_head_is_the_one_at_the_close_when_the_log_grows_afterwards():
    log = EventLog("DRE-1", "ab" * 32)
    for k in range(5):
        log.append(420.0 + k, "ballot-cast")
    at_close = EventLog("DRE-1", "ab" * 32)
    for k in range(5):
        at_close.append(420.0 + k, "ballot-cast")
    record = DeviceRecord("DRE-1", "dre", 5, 5, 5, (log, 5))  # type: ignore[arg-type]
    log.append(1200.0, "results-exported")
    assert record.log_head == at_close.head != log.head
    empty = DeviceRecord("DRE-2", "dre", 0, 0, 0, (EventLog("DRE-2", "cd" * 32), 0))  # type: ignore[arg-type]
    assert empty.log_head == "cd" * 32  # no entry: the genesis


def test_a_record_travels_as_its_hash_and_compares_equal(result):
    d = result.devices[0]
    again = pickle.loads(pickle.dumps(d))
    assert again == d and again.log_head == d.log_head
    assert "EventLog" not in repr(vars(again)) and isinstance(vars(again)["_log_head"], str)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.log_head = "0" * 64  # type: ignore[misc]


def test_a_result_without_its_logs_keeps_the_heads(result):
    heads = [d.log_head for d in result.devices]
    slim = dataclasses.replace(result, logs={})
    assert [d.log_head for d in slim.devices] == heads
    assert all(isinstance(vars(d)["_log_head"], str) for d in slim.devices)


def test_a_new_result_slimmed_before_any_read_holds_hashes_not_logs(training, election):
    day = simulate_precinct(training, election, training.precincts[0], precinct_seed(4, 0))
    assert not any(isinstance(vars(d)["_log_head"], str) for d in day.devices)  # nothing hashed yet
    want = {k: log.head for k, log in day.logs.items()}
    slim = dataclasses.replace(day, logs={})
    assert all(isinstance(vars(d)["_log_head"], str) for d in slim.devices)
    assert {d.device_id: d.log_head for d in slim.devices} == {k: want[k] for k in (d.device_id for d in slim.devices)}


def test_marks_of_the_kept_rows_only_are_the_marks_drawn_for_all():
    spec = ContestSpec.model_validate({"id": "c", "title": "C", "vote_for": 2, "undervote_rate": 0.1, "overvote_attempt_rate": 0.3,
                                       "choices": [{"id": f"x{j}", "name": f"X{j}", "share": s} for j, s in enumerate((0.5, 0.3, 0.15, 0.05))]})  # fmt: skip
    for spec_ in (spec, spec.model_copy(update={"vote_for": 1})):
        kept = np.random.default_rng(1).random(500) < 0.1
        a, b = np.random.default_rng(7), np.random.default_rng(7)
        full, part = _contest_marks(a, spec_, 500), _contest_marks(b, spec_, 500, None, kept)
        for f, p in zip(full, part, strict=True):
            assert np.array_equal(f[kept], p[kept]) and not p[~kept].any()
        assert full[1].any() and a.random() == b.random()  # overvotes drawn; later draws unchanged
