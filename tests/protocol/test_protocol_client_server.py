"""Client and server: a reader gets from a device exactly what the device holds, and every
refusal arrives as a typed error with its code."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import serial

from pollsim.protocol import (
    Client,
    DeviceServer,
    ErrorCode,
    Frame,
    LineFaults,
    Link,
    MessageType,
    RequestRefused,
    serial_pair,
)
from pollsim.protocol.records import ChunkRequest, LogEvent
from pollsim.protocol.testing import PseudoTerminal
from tests.protocol.conftest import serving
from tests.protocol.fake_device import ELECTION_CODE, FakeScanner

Served = tuple[Client, DeviceServer]


def test_identify_names_the_device_and_the_link_then_talks_to_it_alone(served: Served) -> None:
    client, _ = served
    identity = client.identify()
    assert (identity.device_id, identity.kind, identity.serial) == (7, "scan-single", "SN00007")
    assert client.link.device_id == 7


def test_counters_status_and_tally_are_the_devices(served: Served, ballots: np.ndarray) -> None:
    client, _ = served
    assert client.counters().public == len(ballots)
    assert client.status().polls == "closed"
    np.testing.assert_array_equal(client.tally(), ballots.sum(axis=0))


def test_all_cvrs_arrive_in_chunks_as_one_matrix(served: Served, ballots: np.ndarray) -> None:
    client, _ = served
    client.max_chunk = 300
    chunks = list(client.cvrs())
    assert [c.offset for c in chunks] == [0, 300, 600, 900]
    np.testing.assert_array_equal(client.read_all_cvrs(), ballots)
    assert client.read_all_cvrs().dtype == np.uint8


def test_a_broken_readout_resumes_from_the_rows_already_received(
    served: Served, ballots: np.ndarray
) -> None:
    client, _ = served
    client.max_chunk = 256
    first = next(client.cvrs())
    rest = np.concatenate([c.marks for c in client.cvrs(offset=first.marks.shape[0])])
    np.testing.assert_array_equal(np.concatenate([first.marks, rest]), ballots)


def test_a_device_with_no_ballots_gives_an_empty_matrix_of_the_right_width() -> None:
    with serving(FakeScanner(np.zeros((0, 12), np.uint8))) as (client, _):
        assert client.read_all_cvrs().shape == (0, 12)


def test_paper_records_and_the_whole_event_log_arrive(served: Served, scanner: FakeScanner) -> None:
    client, _ = served
    scanner.log = [
        LogEvent(i, "2024-11-05T07:00:00-06:00", "E1", "success", "x" * 500) for i in range(300)
    ]
    client.max_chunk = 1000
    np.testing.assert_array_equal(client.paper_records(), scanner.records)
    assert client.event_log() == scanner.log


def test_tapes_come_back_as_text(served: Served) -> None:
    client, _ = served
    assert client.print_zero_tape().startswith("ZERO TAPE")
    assert client.print_results_tape().startswith("RESULTS")


def test_polls_open_with_the_election_code_and_close(served: Served) -> None:
    client, _ = served
    assert client.open_polls(ELECTION_CODE).polls == "open"
    assert client.close_polls().polls == "final"
    assert client.set_clock(1_730_900_000).clock == 1_730_900_000


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.open_polls("WRONG"), ErrorCode.AUTH_FAILED),
        (lambda c: c.cast_test_ballot([1] + [0] * 39), ErrorCode.NOT_IN_TEST_MODE),
        (lambda c: c.inject_fault("paper_out"), ErrorCode.NOT_IN_TEST_MODE),
        (
            lambda c: c.call(MessageType.CVRS, ChunkRequest(5000).to_payload()),
            ErrorCode.OUT_OF_RANGE,
        ),
        (lambda c: c.call(MessageType.COUNTERS, b"junk"), ErrorCode.BAD_REQUEST),
        (lambda c: c.call(MessageType.SET_CLOCK, b'{"clock":"noon"}'), ErrorCode.BAD_REQUEST),
    ],
)
def test_refusals_arrive_as_request_refused_with_their_code(
    served: Served, call, code: ErrorCode
) -> None:
    client, _ = served
    with pytest.raises(RequestRefused) as caught:
        call(client)
    assert caught.value.code is code


def test_a_device_error_is_sent_as_bad_state(served: Served) -> None:
    client, _ = served
    client.open_polls(ELECTION_CODE)
    with pytest.raises(RequestRefused, match="polls are open") as caught:
        client.open_polls(ELECTION_CODE)
    assert caught.value.code is ErrorCode.BAD_STATE


def test_test_ballots_and_faults_work_in_test_mode(served: Served, scanner: FakeScanner) -> None:
    client, _ = served
    scanner.test_mode = True
    assert client.cast_test_ballot([1] + [0] * 39).protective == scanner.protective
    assert client.inject_fault("paper_out", minutes=5).faults == ("paper_out",)


def test_the_server_answers_unknown_message_types_with_unknown_message(
    scanner: FakeScanner,
) -> None:
    server = DeviceServer(Link(serial_pair()[1]), scanner)
    kind, payload = server.answer(Frame(0x7E, b""))
    assert kind == MessageType.ERROR
    assert RequestRefused.from_payload(payload).code is ErrorCode.UNKNOWN_MESSAGE


def test_a_reader_gets_everything_right_over_a_bad_line(
    scanner: FakeScanner, ballots: np.ndarray
) -> None:
    bad = LineFaults(corrupt=0.003, drop=0.003, seed=5)  # both ways: 1 frame in 2 of 100 bytes damaged
    with serving(scanner, bad, ack_timeout=0.03) as (client, server):
        client.max_chunk = 100
        for _ in range(3):
            assert client.identify().device_id == 7
            np.testing.assert_array_equal(client.read_all_cvrs(), ballots)
        assert client.link.stats.retransmissions + server.link.stats.retransmissions > 0


def test_a_restarted_reader_is_answered_even_though_its_numbers_repeat(
    scanner: FakeScanner,
) -> None:
    with serving(scanner) as (client, _):
        for _ in range(3):  # each Client starts again from sequence 1
            assert Client(client.link.port, ack_timeout=0.05).identify().device_id == 7


def test_a_restarted_device_is_heard_by_a_reader_that_kept_going(scanner: FakeScanner) -> None:
    host, device = serial_pair()
    client = Client(host, ack_timeout=0.05)
    for _ in range(2):  # power-cycle: a new server and link, sequence numbers from 1 again
        server = DeviceServer(Link(device, device_id=7, ack_timeout=0.05), scanner)
        answered = threading.Thread(target=server.serve_one, args=(2.0,))
        answered.start()
        assert client.counters().public == len(scanner.records)
        answered.join()


def test_a_reader_on_a_real_pty_with_pyserial_reads_the_device(
    scanner: FakeScanner, ballots: np.ndarray
) -> None:
    with PseudoTerminal() as pty:
        server = DeviceServer(Link(pty, device_id=7), scanner)
        with server.in_background(), serial.Serial(pty.path, timeout=0.01) as port:
            client = Client(port)
            assert client.identify().device_id == 7
            np.testing.assert_array_equal(client.read_all_cvrs(), ballots)
