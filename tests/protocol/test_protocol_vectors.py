"""Test vectors: the Python codec, the shared vector file and the examples in docs/protocol.md
say the same bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

import crc32c
import pytest

from pollsim.protocol import Frame, FrameDecoder, FrameError, cobs
from pollsim.protocol.frame import decode_frame
from tests.protocol.make_vectors import VECTORS, build

VECTOR_DATA = json.loads(VECTORS.read_text())
PROTOCOL_DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
FRAMES = {vector["name"]: vector for vector in VECTOR_DATA["frames"]}


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace("`", ""))


def test_the_vector_file_is_what_the_generator_writes() -> None:
    assert json.loads(json.dumps(build())) == VECTOR_DATA


@pytest.mark.parametrize("vector", VECTOR_DATA["crc32c"], ids=lambda v: v["crc"])
def test_crc32c_matches_the_vectors(vector: dict) -> None:
    assert f"{crc32c.crc32c(bytes.fromhex(vector['data'])):08x}" == vector["crc"]


@pytest.mark.parametrize("vector", VECTOR_DATA["cobs"], ids=lambda v: v["name"])
def test_cobs_matches_the_vectors(vector: dict) -> None:
    decoded, encoded = bytes.fromhex(vector["decoded"]), bytes.fromhex(vector["encoded"])
    assert cobs.encode(decoded) == encoded
    assert cobs.decode(encoded) == decoded


@pytest.mark.parametrize("vector", VECTOR_DATA["frames"], ids=lambda v: v["name"])
def test_frames_encode_to_the_vectors_wire_and_decode_to_their_fields(vector: dict) -> None:
    frame = Frame(
        vector["msg_type"],
        bytes.fromhex(vector["payload"]),
        vector["device_id"],
        vector["seq"],
        vector["ack"],
    )
    assert frame.encode().hex() == vector["wire"]
    assert FrameDecoder().feed(bytes.fromhex(vector["wire"])) == [frame]


@pytest.mark.parametrize("vector", VECTOR_DATA["rejected"], ids=lambda v: v["name"])
def test_rejected_vectors_are_rejected_for_their_reason(vector: dict) -> None:
    (error,) = FrameDecoder().feed(bytes.fromhex(vector["wire"]))
    assert isinstance(error, FrameError)
    assert error.reason.name.lower() == vector["reason"]


class Example(NamedTuple):
    wire: bytes
    raw: bytes  # empty where the page shows no raw line
    declared_length: int


def doc_examples() -> dict[str, Example]:
    """The ```text example blocks of docs/protocol.md, by name."""
    examples = {}
    for block in re.findall(r"```text\nexample: (.*?)```", PROTOCOL_DOC.read_text(), re.S):
        name, *lines = block.strip().splitlines()
        raw = [line.removeprefix("raw:") for line in lines if line.startswith("raw:")]
        wire_at = next(i for i, line in enumerate(lines) if line.startswith("wire ("))
        examples[name.strip()] = Example(
            wire=hexbytes(" ".join(lines[wire_at + 1 :])),
            raw=hexbytes(raw[0]) if raw else b"",
            declared_length=int(lines[wire_at].split("(")[1].split()[0]),
        )
    return examples


def test_every_frame_vector_is_shown_in_the_protocol_doc_byte_for_byte() -> None:
    examples = doc_examples()
    assert examples.keys() == FRAMES.keys()
    for name, example in examples.items():
        wire = bytes.fromhex(FRAMES[name]["wire"])
        assert example.wire == wire, name
        assert example.declared_length == len(wire), name
        if example.raw:
            assert example.raw == cobs.decode(wire[1:-1]), name
        assert decode_frame(wire[1:-1]).payload.hex() == FRAMES[name]["payload"]


def test_the_rejected_frames_in_the_protocol_doc_are_in_the_vectors() -> None:
    rows = re.findall(r"^\| `([0-9a-f ]+)`.*\| `(\w+)` \|$", PROTOCOL_DOC.read_text(), re.M)
    rejected = {v["wire"]: v["reason"] for v in VECTOR_DATA["rejected"]}
    assert len(rows) == 3
    for wire, reason in rows:
        assert rejected[hexbytes(wire).hex()] == reason


def test_the_chain_example_in_the_protocol_doc_hashes_the_decoded_definition_hash() -> None:
    """Section 9's "chain example": entry 1 chains from the 32 decoded bytes of the definition
    hash, not from its 64 ASCII hex digits (docs/protocol.md section 5, the hash chain)."""
    import hashlib

    block = re.search(r"```text\nchain example: entry 1\n(.*?)```", PROTOCOL_DOC.read_text(), re.S)
    assert block is not None
    fields = dict(line.split(None, 1) for line in block.group(1).splitlines() if line.split(None, 1)[0] in
                  ("definition_hash", "canonical", "hash"))  # fmt: skip
    genesis = bytes.fromhex(fields["definition_hash"])
    assert hashlib.sha256(genesis + fields["canonical"].encode()).hexdigest() == fields["hash"].strip()
    assert f"input ({len(genesis) + len(fields['canonical'].encode())} bytes)" in block.group(1)
