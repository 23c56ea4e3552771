"""Device memory survives restarts whole; logs export as NIST SP 1500-101 JSON that validates."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest

from pollsim.devices import DRE, BallotRefused, PollState, verify_chain
from pollsim.devices.store import MemoryFull, SQLiteStore
from pollsim.errors import DeviceError
from pollsim.export import device_event_log, election_event_log
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "tests" / "data" / "NIST_V1_election_event_logging.json").read_text())


def row(election, *cols):
    r = np.zeros(election.width, np.uint8)
    r[list(cols)] = 1
    return r


def open_dre(path, election, **kw):
    return DRE("DRE-1", election, SQLiteStore(path, election.width, election.definition_hash, **kw), precinct="P1", t=400.0)


def test_a_restarted_device_has_every_ballot_counter_and_log_entry(tmp_path, election):
    dre = open_dre(tmp_path / "dre.db", election)
    dre.enter_test_mode(401.0)
    dre.cast(402.0, row(election, 0))
    dre.set_for_election(403.0)
    dre.open_polls(420.0)
    for k in range(5):
        dre.cast(421.0 + k, row(election, k % 3))
    entries_before = len(dre.log)
    dre.store.close()

    again = open_dre(tmp_path / "dre.db", election)
    assert again.state is PollState.SUSPENDED  # power came back with the polls open
    assert (again.public_count, again.protective_count) == (5, 6)
    cvr, paper, _ = again.store.ballots()
    assert len(cvr) == len(paper) == 5 and np.array_equal(cvr[:, :3].sum(axis=0), [2, 2, 1])
    assert len(again.log) == entries_before + 2  # power-on, suspended
    assert verify_chain(election.definition_hash, again.log.entries, again.log.hashes()) is None
    again.resume(430.0)
    again.cast(431.0, row(election, 0))
    assert again.public_count == 6


def test_memory_for_another_election_is_refused(tmp_path, election):
    open_dre(tmp_path / "dre.db", election).store.close()
    other = type(election).from_dict({**election.to_dict(), "name": "Another"})
    with pytest.raises(DeviceError, match="another election"):
        SQLiteStore(tmp_path / "dre.db", other.width, other.definition_hash)


def test_unreadable_memory_is_a_typed_error(tmp_path, election):
    bad = tmp_path / "dre.db"
    bad.write_bytes(b"this is not a memory card" * 100)
    with pytest.raises(DeviceError, match="unreadable"):
        SQLiteStore(bad, election.width, election.definition_hash)


def test_full_memory_refuses_the_ballot_and_keeps_the_others(tmp_path, election):
    dre = open_dre(tmp_path / "dre.db", election, limit=2)
    dre.set_for_election(401.0)
    dre.open_polls(420.0)
    dre.cast(421.0, row(election, 0))
    dre.cast(422.0, row(election, 0))
    with pytest.raises(MemoryFull):
        dre.cast(423.0, row(election, 0))
    assert dre.public_count == 2 and len(dre.store.ballots()[0]) == 2
    with pytest.raises(BallotRefused, match="memory_full"):
        dre.cast(424.0, row(election, 0))


def test_misrecording_firmware_changes_the_electronic_record_but_not_the_paper(election):
    dre = DRE("DRE-1", election, t=400.0)
    dre.set_for_election(401.0)
    dre.open_polls(420.0)
    first = election.contests[0]
    target = first.choices[0].id
    dre.fail(421.0, "misrecording", contest=first.id, share=0.5, to=target)
    col_b = election.column_of(first.id, first.choices[1].id)
    for k in range(400):
        dre.cast(430.0 + k / 10, row(election, col_b))
    cvr, paper, _ = dre.store.ballots()
    assert (paper[:, col_b] == 1).all()
    flipped = cvr[:, election.column_of(first.id, target)] == 1
    assert 0.4 < flipped.mean() < 0.6
    assert (cvr[flipped, col_b] == 0).all() and (cvr[~flipped] == paper[~flipped]).all()


def test_calibration_drift_moves_the_mark_on_screen_paper_and_memory_alike(election):
    dre = DRE("DRE-1", election, t=400.0)
    dre.set_for_election(401.0)
    dre.open_polls(420.0)
    dre.fail(421.0, "calibration_drift", share=1.0)
    dre.cast(422.0, row(election, 0))
    cvr, paper, _ = dre.store.ballots()
    assert np.array_equal(cvr, paper) and cvr[0, 0] == 0 and cvr[0, 1] == 1


def test_event_log_exports_as_valid_nist_1500_101(election):
    dre = DRE("DRE-1", election, t=400.0)
    dre.set_for_election(401.0)
    dre.open_polls(420.0)
    dre.cast(421.0, row(election, 0))
    dre.fail(430.0, "paper_out")
    dre.repair(440.0, "paper_out")
    dre.close_polls(1140.0)
    doc = election_event_log(election.id, [device_event_log(dre.log, dre.kind, election.date)], "2026-11-03T19:30:00-06:00")
    jsonschema.validate(doc, SCHEMA)
    events = doc["Device"][0]["Event"]
    assert [e["Sequence"] for e in events] == [str(k) for k in range(1, len(events) + 1)]
    assert events[-1]["Hash"] == dre.log.head
    assert any(e["Type"] == "fault" and e["Disposition"] == "failure" for e in events)
    assert events[2]["TimeStamp"].startswith(f"{election.date}T07:00:00-06:00")
    bad = json.loads(json.dumps(doc))
    bad["Device"][0]["Event"][0]["Disposition"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


@pytest.mark.parametrize(("step", "tape", "state_before"), [("open_polls", "zero_tape", PollState.READY), ("close_polls", "results_tape", PollState.POLLS_OPEN)])
def test_a_kill_while_a_tape_prints_leaves_neither_the_state_change_nor_a_tapeless_day(tmp_path, election, monkeypatch, step, tape, state_before):
    """Opening (closing) the polls and logging its zero (results) tape are one transaction: a crash
    between them leaves the memory as it was before, never polls open with no zero-tape entry."""
    dre = open_dre(tmp_path / "dre.db", election)
    dre.enter_test_mode(401.0)
    dre.set_for_election(403.0)
    if step == "close_polls":
        dre.open_polls(420.0)
        dre.cast(421.0, row(election, 0))

    def killed(_t: float) -> str:
        raise KeyboardInterrupt("power cut while the tape printed")

    monkeypatch.setattr(dre, tape, killed)
    with pytest.raises(KeyboardInterrupt):
        getattr(dre, step)(1140.0)
    dre.store.close()
    again = open_dre(tmp_path / "dre.db", election)
    types = [e.type for e in again.log.entries]
    opened = "state-polls-open" in types
    assert opened == ("zero-tape-printed" in types)
    assert ("state-polls-closed" in types) == ("results-tape-printed" in types)
    assert again.state in (state_before, PollState.SUSPENDED)
