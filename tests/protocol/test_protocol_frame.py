"""Frames: what is encoded decodes the same, however the bytes arrive; damage is always caught."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollsim.protocol import MAX_PAYLOAD, Frame, FrameDecoder, FrameError, FrameFault
from pollsim.protocol.frame import decode_frame

u16 = st.integers(0, 0xFFFF)
payloads = st.one_of(
    st.binary(max_size=600),
    st.lists(st.sampled_from([0, 1]), max_size=3000).map(bytes),  # rows of marks
)
frames = st.builds(Frame, st.integers(0, 0xFF), payloads, u16, u16, u16)


def outcome(items: list[Frame | FrameError]) -> list[object]:
    """Frames as themselves, errors as (reason, message): comparable between runs."""
    return [item if isinstance(item, Frame) else (item.reason, str(item)) for item in items]


def feed_in_pieces(stream: bytes, cuts: list[int]) -> list[Frame | FrameError]:
    decoder = FrameDecoder()
    found: list[Frame | FrameError] = []
    start = 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        found += decoder.feed(stream[start:cut])
        start = max(start, cut)
    return found


@given(frames)
def test_a_frame_decodes_to_itself(frame: Frame) -> None:
    wire = frame.encode()
    assert wire[0] == 0 and wire[-1] == 0 and 0 not in wire[1:-1]
    assert decode_frame(wire[1:-1]) == frame
    assert FrameDecoder().feed(wire) == [frame]


@settings(max_examples=300)
@given(st.binary(max_size=3000))
def test_any_bytes_give_frames_or_frame_errors_and_nothing_else(noise: bytes) -> None:
    for item in FrameDecoder().feed(noise + b"\x00"):
        assert isinstance(item, Frame | FrameError)


@given(
    st.lists(st.one_of(frames.map(Frame.encode), st.binary(max_size=80)), max_size=8).map(b"".join),
    st.lists(st.integers(0, 10**6), max_size=20),
)
def test_the_frames_found_do_not_depend_on_how_the_bytes_are_cut(
    stream: bytes, cuts: list[int]
) -> None:
    assert outcome(feed_in_pieces(stream, cuts)) == outcome(FrameDecoder().feed(stream))


@given(frames, st.data())
def test_any_single_bit_flip_is_detected(frame: Frame, data: st.DataObject) -> None:
    wire = bytearray(frame.encode())
    bit = data.draw(st.integers(0, 8 * len(wire) - 1))
    wire[bit // 8] ^= 1 << (bit % 8)
    found = FrameDecoder().feed(bytes(wire) + b"\x00")
    assert found and all(isinstance(item, FrameError) for item in found)


@given(st.binary(max_size=500), frames)
def test_a_frame_after_line_noise_is_still_found(noise: bytes, frame: Frame) -> None:
    assert FrameDecoder().feed(noise + frame.encode())[-1] == frame


@given(frames, st.data())
def test_the_bytes_wanted_never_reach_past_the_end_of_the_frame(
    frame: Frame, data: st.DataObject
) -> None:
    wire = frame.encode()
    cut = data.draw(st.integers(0, len(wire) - 1))
    decoder = FrameDecoder()
    decoder.feed(wire[:cut])
    assert 1 <= decoder.wanted <= len(wire) - cut


def test_once_the_header_is_in_the_decoder_wants_the_rest_of_the_frame() -> None:
    wire = Frame(0x97, b"\x01" * 1000, 7, 3, 3).encode()
    decoder = FrameDecoder()
    decoder.feed(wire[:40])
    left = len(wire) - 40
    assert left - left // 254 <= decoder.wanted <= left  # short only by COBS's 1 byte in 254


def test_endless_noise_without_a_zero_does_not_grow_memory() -> None:
    decoder = FrameDecoder()
    for _ in range(40):
        assert decoder.feed(b"\x55" * 10_000) == []
        assert decoder.buffered <= 70_000
    (error,) = decoder.feed(b"\x00")
    assert error.reason is FrameFault.OVERSIZE and "400000 bytes" in str(error)
    frame = Frame(0x10, b"after the noise")
    assert decoder.feed(frame.encode()) == [frame]


def test_the_largest_payload_fits_and_one_more_byte_does_not() -> None:
    frame = Frame(0x97, bytes(MAX_PAYLOAD))
    assert FrameDecoder().feed(frame.encode()) == [frame]
    with pytest.raises(FrameError) as caught:
        Frame(0x97, bytes(MAX_PAYLOAD + 1))
    assert caught.value.reason is FrameFault.OVERSIZE


@pytest.mark.parametrize("field", ["msg_type", "device_id", "seq", "ack"])
def test_header_fields_out_of_range_are_a_programming_error(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Frame(**{"msg_type": 1, field: 0x10000})
