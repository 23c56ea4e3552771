"""Protocol extensions for sealed results: a server with a seal says so and seals every result
reply, a reader with the key verifies them, optional fields leave version 1 payloads unchanged,
and a reply must acknowledge its own request."""

from __future__ import annotations

import itertools
import json
import threading

import numpy as np
import pytest

from pollsim.protocol import (
    Client,
    Counters,
    DeviceServer,
    ForgedResult,
    Frame,
    Identity,
    Link,
    LogEvent,
    MessageType,
    ResultSeal,
    ResultVerifier,
    unseal,
)
from pollsim.protocol.auth import ENVELOPE_SIZE, AlteredResult, sign
from pollsim.protocol.frame import MAX_PAYLOAD
from pollsim.protocol.line import serial_pair
from pollsim.protocol.records import ChunkRequest, LogChunk
from pollsim.protocol.server import SEALED
from tests.protocol.fake_device import FakeScanner

KEY = b"k" * 32


def test_optional_fields_are_left_out_when_unused_so_version_1_payloads_do_not_change() -> None:
    assert json.loads(Identity(7, "dre", "m", "s", "f").to_payload()) == {
        "device_id": 7, "kind": "dre", "model": "m", "serial": "s", "firmware": "f"}  # fmt: skip
    assert Counters(2, 3).to_payload() == b'{"public":2,"protective":3}'
    assert b"hash" not in LogEvent(1, "t", "e", "success", "d").to_json()


def test_optional_fields_round_trip_and_are_type_checked() -> None:
    identity = Identity(7, "dre", "m", "s", "f", sealed=True, definition_hash="ab" * 32)
    assert Identity.from_payload(identity.to_payload()) == identity
    counters = Counters(2, 3, log_entries=9, log_head="cd" * 32)
    assert Counters.from_payload(counters.to_payload()) == counters
    event = LogEvent(1, "t", "e", "success", "d", hash="ef" * 32, canonical="1|t|D|e|success|d")
    assert LogChunk.from_payload(LogChunk(0, 1, (event,)).to_payload()).events == (event,)
    with pytest.raises(Exception, match="sealed"):
        Identity.from_payload(b'{"device_id":7,"kind":"dre","model":"m","serial":"s","firmware":"f","sealed":1}')


@pytest.fixture
def sealed_pair():
    """A reader with the key, and a fake scanner served with a seal, over a clean cable."""
    records = (np.random.default_rng(3).random((3000, 40)) < 0.2).astype(np.uint8)
    scanner = FakeScanner(records)
    host, device = serial_pair()
    counter = itertools.count(1)
    server = DeviceServer(Link(device, device_id=7, ack_timeout=0.05), scanner, ResultSeal(KEY, counter.__next__))
    with server.in_background():
        yield Client(host, ack_timeout=0.05, verifier=ResultVerifier(KEY)), server, scanner


def test_a_server_with_a_seal_says_so_and_seals_exactly_the_result_replies(sealed_pair) -> None:
    client, _, scanner = sealed_pair
    assert SEALED == {MessageType.IDENTIFY, MessageType.STATUS, MessageType.TALLY, MessageType.COUNTERS,
                      MessageType.CVRS, MessageType.PAPER_RECORDS}  # fmt: skip
    assert client.identify().sealed
    raw = client.link.request(MessageType.COUNTERS).payload
    assert raw.startswith(b"PSR2") and unseal(raw) == scanner.counters().to_payload()
    assert client.link.request(MessageType.STATUS).payload.startswith(b"PSR2")
    assert client.link.request(MessageType.PRINT_ZERO_TAPE).payload.startswith(b"ZERO")  # decides nothing
    np.testing.assert_array_equal(client.read_all_cvrs(), scanner.records)
    np.testing.assert_array_equal(client.tally(), scanner.records.sum(axis=0))


def test_sealed_chunks_still_fit_a_frame(sealed_pair) -> None:
    client, _, _ = sealed_pair
    client.identify()
    scanner_rows = 65535 // 40
    payload = client.link.request(MessageType.CVRS, ChunkRequest(0, 0xFFFF).to_payload()).payload
    assert len(payload) <= MAX_PAYLOAD
    rows = (len(payload) - ENVELOPE_SIZE - 12) // 40
    assert rows == (MAX_PAYLOAD - ENVELOPE_SIZE - 12) // 40 < scanner_rows


def test_a_reader_with_a_key_refuses_an_unsealed_device_even_if_it_claims_nothing() -> None:
    host, device = serial_pair()
    server = DeviceServer(Link(device, device_id=7, ack_timeout=0.05), FakeScanner(np.zeros((2, 4), np.uint8)))
    with server.in_background():
        client = Client(host, ack_timeout=0.05, verifier=ResultVerifier(KEY))
        with pytest.raises(ForgedResult, match="line:host: IDENTIFY reply is forged: not a signed result"):
            client.identify()
        with pytest.raises(ForgedResult, match="line:host: IDENTIFY reply is forged"):
            client.counters()  # a reader with a key identifies the device before anything else


def test_unseal_checks_the_digest_without_the_key() -> None:
    sealed = sign(KEY, 4, b"payload")
    assert unseal(sealed) == b"payload"
    with pytest.raises(AlteredResult):
        unseal(sealed[:-1] + b"X")
    with pytest.raises(ForgedResult):
        unseal(b"{}")


def test_a_reply_that_does_not_acknowledge_the_request_is_stale_and_dropped() -> None:
    """A device still retransmitting its answer to an earlier reader session: the new reader
    waits for the frame that acknowledges its own request."""
    host, device = serial_pair()
    reader, peer = Link(host, ack_timeout=0.05), Link(device, device_id=7, ack_timeout=0.05, role="device")

    def device_side() -> None:
        assert peer.receive(2.0) is not None
        device.write(Frame(0x91, b"stale", 7, seq=40, ack=999).encode())
        peer.send(0x91, b"fresh")

    thread = threading.Thread(target=device_side)
    thread.start()
    reply = reader.request(MessageType.STATUS)
    thread.join()
    assert reply.payload == b"fresh" and reader.stats.stale == 1
