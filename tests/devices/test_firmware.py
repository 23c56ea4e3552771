"""Device firmware: poll states, counters, tapes and the hash-chained event log."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollsim.devices import DRE, BallotRefused, IllegalTransition, PollState, PrecinctScanner, ScanOutcome, verify_chain
from pollsim.devices.eventlog import LogEntry
from pollsim.devices.scanner import BLANK, OVERVOTED, READABLE


@pytest.fixture
def dre(election):
    return DRE("DRE-1", election, precinct="P1", t=400.0)


def ballot(election, *cols) -> np.ndarray:
    row = np.zeros(election.width, np.uint8)
    row[list(cols)] = 1
    return row


def test_test_ballots_touch_only_the_protective_counter(dre, election):
    dre.enter_test_mode(401.0)
    dre.cast(402.0, ballot(election, 0))
    dre.cast(403.0, ballot(election, 1))
    assert (dre.public_count, dre.protective_count) == (0, 2)
    dre.set_for_election(404.0)
    assert dre.store.n == 0 and dre.public_count == 0 and dre.protective_count == 2
    dre.open_polls(420.0)
    dre.cast(421.0, ballot(election, 0))
    assert (dre.public_count, dre.protective_count) == (1, 3)


def test_illegal_transitions_are_refused_and_logged(dre):
    with pytest.raises(IllegalTransition):
        dre.close_polls(401.0)
    assert dre.state is PollState.PRE_ELECTION
    assert dre.log.entries[-1].type == "illegal-transition" and dre.log.entries[-1].disposition == "failure"
    dre.set_for_election(402.0)
    dre.open_polls(420.0)
    with pytest.raises(IllegalTransition):
        dre.enter_test_mode(421.0)


def test_a_unit_refuses_ballots_unless_polls_are_open_and_it_is_in_service(dre, election):
    with pytest.raises(BallotRefused):
        dre.cast(401.0, ballot(election, 0))
    dre.set_for_election(402.0)
    dre.open_polls(420.0)
    dre.fail(430.0, "paper_out")
    with pytest.raises(BallotRefused, match="paper_out"):
        dre.cast(431.0, ballot(election, 0))
    dre.repair(440.0, "paper_out")
    dre.cast(441.0, ballot(election, 0))
    dre.suspend(450.0)
    with pytest.raises(BallotRefused):
        dre.cast(451.0, ballot(election, 0))
    assert dre.public_count == 1


def test_zero_tape_shows_zeros_and_results_tape_the_count(dre, election):
    dre.set_for_election(402.0)
    zero = dre.open_polls(420.0)
    assert "ZERO TAPE" in zero and election.definition_hash[:16] in zero
    body = zero.split("-" * 40)[1]
    counts = [int(line.split()[-1]) for line in body.splitlines() if line.startswith("  ") and "VOTE FOR" not in line]
    assert len(counts) == election.width and not any(counts)
    dre.cast(430.0, ballot(election, 0))
    dre.cast(431.0, ballot(election, 0))
    results = dre.close_polls(1140.0)
    first_choice = election.contests[0].choices[0].name
    assert any(line.strip().startswith(first_choice) and line.split()[-1] == "2" for line in results.splitlines())


def test_the_log_never_says_how_anyone_voted(dre, election):
    dre.set_for_election(402.0)
    dre.open_polls(420.0)
    dre.cast(430.0, ballot(election, 0))
    cast = [e for e in dre.log.entries if e.type == "ballot-cast"]
    assert len(cast) == 1 and cast[0].details == ""


def test_the_hash_chain_detects_any_edit(dre, election):
    dre.set_for_election(402.0)
    dre.open_polls(420.0)
    for k in range(5):
        dre.cast(430.0 + k, ballot(election, 0))
    entries, hashes = list(dre.log.entries), list(dre.log.hashes())
    assert verify_chain(election.definition_hash, entries, hashes) is None
    forged = list(entries)
    forged[3] = LogEntry(*forged[3][:4], "failure", forged[3].details)
    assert verify_chain(election.definition_hash, forged, hashes).sequence == 4
    dropped = entries[:2] + entries[3:]
    assert verify_chain(election.definition_hash, dropped, hashes[:2] + hashes[3:]) is not None


def test_the_scanner_returns_overvotes_and_blanks_unless_overridden(election):
    scan = PrecinctScanner("SCAN-1", election, t=400.0)
    scan.set_for_election(401.0)
    scan.open_polls(420.0)
    c = election.contests[0]
    over = ballot(election, 0, 1) if c.vote_for == 1 else None
    assert scan.scan(430.0, over) == ScanOutcome.RETURNED_OVERVOTE
    assert scan.scan(431.0, ballot(election)) == ScanOutcome.RETURNED_BLANK
    assert scan.public_count == 0 and scan.returned == 2
    assert scan.scan(432.0, over, override=True) == ScanOutcome.CAST
    assert scan.public_count == 1 and scan.overrides == 1


def read_by_hand(election, row) -> int:
    """What a scanner's reader makes of one ballot, contest by contest."""
    if not any(row):
        return BLANK
    for c in election.contests:
        sl = election.contest_slices[c.id]
        if sum(row[sl]) > c.vote_for:
            return OVERVOTED
    return READABLE


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_scanner_reads_a_whole_precinct_at_once_as_it_reads_each_ballot(election, data):
    n = data.draw(st.integers(0, 30))
    rows = data.draw(st.lists(st.lists(st.integers(0, 1), min_size=election.width, max_size=election.width), min_size=n, max_size=n))
    ballots = np.array(rows, np.uint8).reshape(n, election.width)
    scan = PrecinctScanner("SCAN-1", election, t=400.0)
    verdicts = scan.read(ballots)
    assert verdicts.tolist() == [read_by_hand(election, r) for r in rows]
    assert [int(scan.read(b)[0]) for b in ballots] == verdicts.tolist()  # one ballot, same rule


def test_a_ballot_read_beforehand_is_cast_or_returned_as_if_read_at_the_feed(election):
    c = election.contests[0]
    over = ballot(election, 0, 1) if c.vote_for == 1 else None
    for marks in (ballot(election, 0), ballot(election), over):
        told, reading = (PrecinctScanner("SCAN-1", election, t=400.0) for _ in range(2))
        for s in (told, reading):
            s.set_for_election(401.0)
            s.open_polls(420.0)
        assert told.scan(430.0, marks, verdict=int(told.read(marks)[0])) == reading.scan(430.0, marks)
        assert (told.public_count, told.returned, told.log.head) == (reading.public_count, reading.returned, reading.log.head)
