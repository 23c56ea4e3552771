"""Signed results: the county accepts a genuine, intact, new result and refuses a forged, an
altered or a replayed one, each with its own error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pollsim.protocol import AlteredResult, ForgedResult, ReplayedResult, counter_of, sign, verify
from pollsim.protocol.auth import ENVELOPE_SIZE

KEY = bytes(range(32))
RESULT = b"precinct 12: 412 ballots"


@given(st.binary(max_size=2000), st.integers(1, 2**64 - 1))
def test_a_genuine_new_result_is_accepted_and_its_counter_remembered(
    payload: bytes, counter: int
) -> None:
    signed = sign(KEY, counter, payload)
    assert verify(KEY, counter - 1, signed) == payload
    assert counter_of(signed) == counter


def test_a_result_sealed_with_another_key_is_forged() -> None:
    with pytest.raises(ForgedResult):
        verify(KEY, 0, sign(b"not the county key", 1, RESULT))


@given(st.integers(0, ENVELOPE_SIZE - 1), st.integers(1, 255))
def test_a_changed_seal_or_header_is_forged(where: int, flip: int) -> None:
    signed = bytearray(sign(KEY, 5, RESULT))
    signed[where] ^= flip
    with pytest.raises(ForgedResult):
        verify(KEY, 0, bytes(signed))


@given(st.integers(0, len(RESULT) - 1), st.integers(1, 255))
def test_a_changed_payload_under_a_genuine_seal_is_altered(where: int, flip: int) -> None:
    signed = bytearray(sign(KEY, 5, RESULT))
    signed[ENVELOPE_SIZE + where] ^= flip
    with pytest.raises(AlteredResult):
        verify(KEY, 0, bytes(signed))


def test_a_truncated_payload_is_altered() -> None:
    with pytest.raises(AlteredResult):
        verify(KEY, 0, sign(KEY, 5, RESULT)[:-1])


@pytest.mark.parametrize("last_seen", [5, 6, 1000])
def test_a_result_whose_counter_is_not_above_the_last_seen_is_replayed(last_seen: int) -> None:
    with pytest.raises(ReplayedResult):
        verify(KEY, last_seen, sign(KEY, 5, RESULT))


def test_bytes_that_are_no_envelope_are_forged() -> None:
    for junk in (b"", b"PSR1", b"x" * 200):
        with pytest.raises(ForgedResult):
            verify(KEY, 0, junk)
