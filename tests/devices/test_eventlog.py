"""The columnar event log gives the same entries and hash chain as an entry-by-entry log."""

from __future__ import annotations

import hashlib
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from pollsim.devices.eventlog import EventLog, LogEntry, verify_chain

GENESIS = hashlib.sha256(b"election definition").hexdigest()
KINDS = [("ballot-cast", "success", ""), ("fault", "failure", "paper_out"), ("voter-checked-in", "success", ""), ("x|y", "na", "a|b")]
events = st.lists(st.tuples(st.floats(0, 2e9, allow_nan=False, allow_infinity=False), st.sampled_from(KINDS)), max_size=40)


def chain_by_hand(device: str, entries: list[tuple[float, tuple[str, str, str]]]) -> list[str]:
    """SHA-256(previous digest ‖ "seq|repr(time)|device|type|disposition|details"), one entry at a time."""
    prev, out = bytes.fromhex(GENESIS), []
    for seq, (t, (typ, disp, det)) in enumerate(entries, 1):
        prev = hashlib.sha256(prev + f"{seq}|{t!r}|{device}|{typ}|{disp}|{det}".encode()).digest()
        out.append(prev.hex())
    return out


@settings(max_examples=100, deadline=None)
@given(events)
def test_entries_hashes_and_head_match_a_chain_computed_entry_by_entry(evts):
    log = EventLog("DRE-1", GENESIS)
    for t, (typ, disp, det) in evts:
        log.append(t, typ, disp, det)
    expected = chain_by_hand("DRE-1", evts)
    assert log.head == (expected[-1] if expected else GENESIS)  # head first: it keeps no hashes
    assert log.hashes() == expected
    assert [(e.sequence, e.time, e.device, e.type, e.disposition, e.details) for e in log.entries] == [
        (k, t, "DRE-1", *kind) for k, (t, kind) in enumerate(evts, 1)
    ]
    assert verify_chain(GENESIS, log.entries, log.hashes()) is None


def test_head_and_hashes_stay_in_step_as_entries_are_added():
    log = EventLog("PB", GENESIS)
    seen = []
    for k in range(7):
        log.append(420.0 + k / 3, "voter-checked-in")
        seen.append((420.0 + k / 3, ("voter-checked-in", "success", "")))
        if k % 2:
            assert log.hashes() == chain_by_hand("PB", seen)
        assert log.head == chain_by_hand("PB", seen)[-1]


def test_columns_give_each_entry_by_code():
    log = EventLog("SCAN-1", GENESIS)
    log.append(421.5, "ballot-cast")
    log.append(422.0, "ballot-returned", details="overvote")
    log.append(423.25, "ballot-cast")
    seq, time, kind, kinds = log.columns()
    assert seq.tolist() == [1, 2, 3] and time.tolist() == [421.5, 422.0, 423.25]
    assert [kinds[k] for k in kind] == [(e.type, e.disposition, e.details) for e in log.entries]
    assert kinds == [("ballot-cast", "success", ""), ("ballot-returned", "success", "overvote")]  # first appearance


def test_a_restored_log_keeps_its_sequence_numbers_and_given_hashes():
    entries = [LogEntry(1, 400.0, "DRE-1", "a", "success", ""), LogEntry(3, 401.0, "DRE-1", "b", "success", "")]
    hashes = ["11" * 32, "22" * 32]
    log = EventLog("DRE-1", GENESIS, restored=(entries, hashes))
    assert list(log.entries) == entries and log.head == "22" * 32
    log.append(402.0, "c")
    assert log.entries[-1] == LogEntry(3, 402.0, "DRE-1", "c", "success", "")  # as before: count + 1
    assert log.hashes()[:2] == hashes
    assert log.hashes()[2] == hashlib.sha256(bytes.fromhex("22" * 32) + b"3|402.0|DRE-1|c|success|").hexdigest()
    assert verify_chain(GENESIS, log.entries, log.hashes()) is not None  # the forged sequence shows


def test_a_log_survives_pickling_between_processes():
    log = EventLog("DRE-2", GENESIS)
    for k in range(5):
        log.append(430.0 + k, "ballot-cast")
    copy = pickle.loads(pickle.dumps(log))
    assert list(copy.entries) == list(log.entries) and copy.head == log.head


def test_persisted_entries_are_handed_over_with_their_hash():
    saved: list[tuple[LogEntry, str]] = []
    log = EventLog("DRE-1", GENESIS, persist=lambda e, h: saved.append((e, h)))
    log.append(400.0, "power-on")
    log.append(401.5, "ballot-cast")
    assert [e for e, _ in saved] == list(log.entries) and [h for _, h in saved] == log.hashes()
