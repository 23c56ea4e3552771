"""Write tests/data/protocol_vectors.json, the protocol's shared test vectors.

The JSON file is the one source of truth for byte-exact behaviour: the Python tests, the C
vector test (firmware_stubs/test_vectors.c) and the examples in docs/protocol.md are all
checked against it. Regenerate it only when the protocol changes on purpose:

    .venv/bin/python -m tests.protocol.make_vectors
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import crc32c
import numpy as np

from pollsim.protocol import cobs
from pollsim.protocol.auth import scope_digest, sign
from pollsim.protocol.frame import BROADCAST_ID, Frame
from pollsim.protocol.messages import Counters, ErrorCode, Identity, MessageType, RequestRefused, reply_type
from pollsim.protocol.records import ChunkRequest, MarksChunk

VECTORS = Path(__file__).resolve().parents[1] / "data" / "protocol_vectors.json"

_NON_ZERO = bytes(range(1, 256))

COBS_CASES = {
    "empty": b"",
    "one zero": b"\x00",
    "two zeros": b"\x00\x00",
    "zero in the middle": b"\x11\x22\x00\x33",
    "no zero": b"\x11\x22\x33\x44",
    "trailing zero": b"\x11\x00",
    "all zeros (8)": bytes(8),
    "254 non-zero": _NON_ZERO[:254],
    "255 non-zero": _NON_ZERO,
    "zero then 254 non-zero": b"\x00" + _NON_ZERO[:254],
    "254 non-zero then zero": _NON_ZERO[:254] + b"\x00",
    "508 non-zero": _NON_ZERO[:254] * 2,
    "0/1 marks": bytes([0, 1, 0, 0, 1, 0, 1, 1]),
}

IDENTITY = Identity(7, "scan-single", "pollsim-stub", "STUB-0007", "stub-1.0")
MARKS = np.array([[1, 0, 0, 1], [0, 1, 0, 1]], np.uint8)
KEY = bytes(range(32))
"""The results key of the sealed example: 00 01 02 ... 1f."""
SCOPE = "STUB-0007|" + "ab" * 32 + "|card-1"
"""The sealed example's scope: serial | definition hash | memory card."""
NONCE = bytes.fromhex("5eed0001")

FRAMES = {
    "identify-request": Frame(MessageType.IDENTIFY, b"", BROADCAST_ID, 1, 0),
    "ack": Frame(MessageType.ACK, b"", 7, 0, 1),
    "identify-reply": Frame(reply_type(MessageType.IDENTIFY), IDENTITY.to_payload(), 7, 1, 1),
    "counters-request": Frame(MessageType.COUNTERS, b"", 7, 2, 1),
    "counters-reply": Frame(
        reply_type(MessageType.COUNTERS), Counters(2, 1002).to_payload(), 7, 2, 2
    ),
    "cvrs-request": Frame(MessageType.CVRS, ChunkRequest(0, 2).to_payload(), 7, 3, 2),
    "cvrs-reply": Frame(
        reply_type(MessageType.CVRS), MarksChunk(0, 3, MARKS).to_payload(), 7, 3, 3
    ),
    "error-reply": Frame(
        MessageType.ERROR,
        RequestRefused(ErrorCode.NOT_IN_TEST_MODE, "CAST_TEST_BALLOT").to_payload(),
        7,
        4,
        4,
    ),
    "nak": Frame(MessageType.NAK, b"", BROADCAST_ID, 0, 0),
    "sync": Frame(MessageType.SYNC, NONCE + b"\x01", BROADCAST_ID, 0, 0),
    "sync-ack": Frame(MessageType.SYNC_ACK, NONCE + b"\x01", 7, 0, 0),
    "fragment": Frame(
        MessageType.FRAGMENT,
        struct.pack(">BHHH", reply_type(MessageType.CVRS), 1, 20, 12) + MarksChunk(0, 3, MARKS).to_payload()[12:],
        7,
        5,
        4,
    ),
    "sealed-counters-reply": Frame(
        reply_type(MessageType.COUNTERS),
        sign(KEY, 5, Counters(2, 1002).to_payload(), scope_digest(SCOPE)),
        7,
        6,
        6,
    ),
}


def _raw(header: bytes, payload: bytes = b"", crc_flip: int = 0) -> bytes:
    body = header + payload
    return body + struct.pack(">I", crc32c.crc32c(body) ^ crc_flip)


def _wire(raw: bytes) -> bytes:
    return b"\x00" + cobs.encode(raw) + b"\x00"


REJECTED = {
    "corrupted CRC": (
        _wire(_raw(bytes.fromhex("01ffff1000010000") + b"\x00\x00", crc_flip=1)),
        "bad_crc",
    ),
    "code overruns the end": (bytes.fromhex("0005010200"), "bad_cobs"),
    "too short": (_wire(bytes.fromhex("0102030405")), "too_short"),
    "version 2": (_wire(_raw(bytes.fromhex("02ffff10000100000000"))), "bad_version"),
    "length says 5, payload has 3": (
        _wire(_raw(bytes.fromhex("01ffff10000100000005"), b"abc")),
        "length_mismatch",
    ),
}


def build() -> dict[str, object]:
    return {
        "about": "pollsim serial protocol v1 test vectors; see docs/protocol.md",
        "crc32c": [
            {"data": data.hex(), "crc": f"{crc32c.crc32c(data):08x}"}
            for data in (b"", b"123456789", bytes(32), b"\xff" * 32)
        ],
        "cobs": [
            {"name": name, "decoded": data.hex(), "encoded": cobs.encode(data).hex()}
            for name, data in COBS_CASES.items()
        ],
        "frames": [
            {
                "name": name,
                "device_id": frame.device_id,
                "msg_type": frame.msg_type,
                "seq": frame.seq,
                "ack": frame.ack,
                "payload": frame.payload.hex(),
                "wire": frame.encode().hex(),
            }
            for name, frame in FRAMES.items()
        ],
        "rejected": [
            {"name": name, "wire": wire.hex(), "reason": reason}
            for name, (wire, reason) in REJECTED.items()
        ],
    }


def main() -> None:
    VECTORS.write_text(json.dumps(build(), indent=1) + "\n")


if __name__ == "__main__":
    main()
