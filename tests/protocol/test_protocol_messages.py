"""Payloads: every record survives its encoding, and a malformed payload is a PayloadError."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pollsim.protocol import (
    Counters,
    ErrorCode,
    Identity,
    MessageType,
    PayloadError,
    RequestRefused,
    Status,
)
from pollsim.protocol.messages import ClockSetting, FaultInjection, PollsOpening, reply_type
from pollsim.protocol.records import (
    ChunkRequest,
    LogChunk,
    LogEvent,
    MarksChunk,
    decode_ballot,
    decode_tally,
    encode_ballot,
    encode_tally,
)

RECORDS = [
    Identity(7, "dre", "AccuVote-TSx", "SN1", "4.6.4"),
    Status("paused", True, 1_730_800_800, ("paper_out",)),
    Counters(412, 20_311),
    ClockSetting(1_730_800_800),
    PollsOpening("MS-2024-GEN"),
    FaultInjection("jam", {"after_sheets": 3, "note": "worn rollers"}),
    ChunkRequest(409, 100),
    LogChunk(2, 3, (LogEvent(3, "2024-11-05T19:00:00-06:00", "POLLS_CLOSED", "success", "é"),)),
]
PARSERS = [type(record).from_payload for record in RECORDS] + [
    MarksChunk.from_payload,
    RequestRefused.from_payload,
    decode_tally,
    decode_ballot,
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_a_record_reads_back_as_itself(record: object) -> None:
    assert type(record).from_payload(record.to_payload()) == record  # type: ignore[attr-defined]


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(0, 50), st.integers(0, 2**20))
def test_a_chunk_of_marks_reads_back_as_itself(
    offset: int, count: int, width: int, extra: int
) -> None:
    marks = (np.random.default_rng(count).random((count, width)) < 0.3).astype(np.uint8)
    total = min(offset + count + extra, 2**32 - 1)
    offset = min(offset, total - count)
    chunk = MarksChunk.from_payload(MarksChunk(offset, total, marks).to_payload())
    assert (chunk.offset, chunk.total) == (offset, total)
    np.testing.assert_array_equal(chunk.marks, marks)


@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: p.__qualname__)
@given(payload=st.binary(max_size=200))
def test_any_payload_parses_or_raises_payload_error(parse, payload: bytes) -> None:
    with contextlib.suppress(PayloadError):
        parse(payload)


def test_replies_have_the_high_bit_and_error_is_0xff() -> None:
    assert reply_type(MessageType.IDENTIFY) == 0x90
    assert MessageType.ERROR == 0xFF


def test_an_error_payload_carries_code_and_sentence() -> None:
    refusal = RequestRefused(ErrorCode.BAD_STATE, "polls are closed")
    assert refusal.to_payload() == b"\x00\x04polls are closed"
    back = RequestRefused.from_payload(refusal.to_payload())
    assert (back.code, back.detail, str(back)) == (
        ErrorCode.BAD_STATE,
        "polls are closed",
        "BAD_STATE: polls are closed",
    )


def test_an_error_code_newer_than_the_reader_is_still_a_refusal() -> None:
    refusal = RequestRefused.from_payload(b"\x00\x63printer on fire")
    assert (refusal.code, str(refusal)) == (99, "error code 99: printer on fire")


def test_tallies_and_ballots_have_fixed_binary_layouts() -> None:
    assert encode_tally([3, 0, 70000]) == bytes.fromhex("0003 00000003 00000000 00011170")
    np.testing.assert_array_equal(decode_tally(encode_tally([3, 0, 70000])), [3, 0, 70000])
    assert encode_ballot([0, 1, 1]) == b"\x00\x01\x01"
    with pytest.raises(PayloadError):
        encode_ballot([0, 2])
    with pytest.raises(PayloadError):
        encode_tally([-1])


def test_a_status_with_an_unknown_polls_state_is_refused() -> None:
    with pytest.raises(PayloadError, match="unknown polls state"):
        Status.from_payload(b'{"polls":"ajar","test_mode":false,"clock":0,"faults":[]}')


def test_booleans_are_not_accepted_as_numbers() -> None:
    with pytest.raises(PayloadError, match="'public' must be int"):
        Counters.from_payload(b'{"public":true,"protective":1}')
