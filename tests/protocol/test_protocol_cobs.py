"""COBS: any bytes survive the round trip, no zero is left, and bad encodings are refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollsim.protocol import FrameError, FrameFault, cobs

# Data dense in zeros (cast vote records) takes the numpy paths; sparse data the loops.
zero_dense = st.lists(st.sampled_from([0, 0, 0, 1, 2, 255]), max_size=3000).map(bytes)
long_runs = st.lists(st.binary(min_size=200, max_size=600), max_size=6).map(b"\x00".join)
any_data = st.one_of(st.binary(max_size=2000), zero_dense, long_runs)


def reference_decode(encoded: bytes) -> bytes | None:
    """The textbook decoder, one code at a time; None for an invalid encoding."""
    out, pos = bytearray(), 0
    if not encoded or 0 in encoded:
        return None
    while pos < len(encoded):
        code = encoded[pos]
        if pos + code > len(encoded):
            return None
        out += encoded[pos + 1 : pos + code]
        pos += code
        if code < 0xFF and pos < len(encoded):
            out.append(0)
    return bytes(out)


@given(any_data)
def test_decoding_an_encoding_gives_back_the_data(data: bytes) -> None:
    assert cobs.decode(cobs.encode(data)) == data


@given(any_data)
def test_an_encoding_has_no_zero_and_at_most_one_byte_per_254_more(data: bytes) -> None:
    encoded = cobs.encode(data)
    assert 0 not in encoded
    assert len(encoded) <= len(data) + len(data) // 254 + 1


@given(any_data)
def test_the_loop_and_the_numpy_encoders_agree(data: bytes) -> None:
    assert cobs._encode_array(data) == cobs._encode_runs(data)


@given(any_data)
def test_the_numpy_decoder_agrees_with_the_textbook_one(data: bytes) -> None:
    encoded = cobs.encode(data)
    assert cobs._decode_array(encoded) == reference_decode(encoded) == data


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=1200), st.lists(st.integers(1, 255), max_size=1200).map(bytes)))
def test_arbitrary_bytes_decode_as_the_textbook_says_or_raise_frame_error(encoded: bytes) -> None:
    expected = reference_decode(encoded)
    decoders = [cobs.decode]
    if encoded and 0 not in encoded:  # what decode() hands on to the numpy path
        decoders.append(cobs._decode_array)
    for decode in decoders:
        if expected is None:
            with pytest.raises(FrameError) as caught:
                decode(encoded)
            assert caught.value.reason is FrameFault.BAD_COBS
        else:
            assert decode(encoded) == expected


@given(zero_dense, st.integers(0, 10**6), st.integers(1, 255))
def test_an_encoding_with_one_byte_changed_decodes_as_the_textbook_says(
    data: bytes, where: int, value: int
) -> None:
    encoded = bytearray(cobs.encode(data))
    encoded[where % len(encoded)] = value
    expected = reference_decode(bytes(encoded))
    if expected is None:
        with pytest.raises(FrameError):
            cobs._decode_array(bytes(encoded))
    else:
        assert cobs._decode_array(bytes(encoded)) == expected


@pytest.mark.parametrize(
    ("encoded", "problem"),
    [
        (b"", "empty"),
        (b"\x05\x01\x02", "overruns"),
        (b"\x02\x00", "zero byte"),
        (b"\x03\x01\x02\x02", "overruns"),
    ],
)
def test_invalid_encodings_are_refused_saying_why(encoded: bytes, problem: str) -> None:
    with pytest.raises(FrameError, match=problem) as caught:
        cobs.decode(encoded)
    assert caught.value.reason is FrameFault.BAD_COBS


def test_a_final_run_of_254_bytes_is_encoded_without_a_closing_code() -> None:
    data = bytes(range(1, 255))
    assert cobs.encode(data) == b"\xff" + data
    assert cobs.decode(b"\xff" + data + b"\x01") == data  # the longer form is still read
