"""Sealed results: the county's reader accepts the device's genuine, intact, new results and
refuses forged, altered and replayed ones, saying which (docs/protocol.md section 8). Nothing
unsealed decides anything: the identity is sealed, the log must chain to the sealed head, and
the replay counter is scoped by serial, election and memory card. Each attack found in review
(issue 14) runs through a tampering relay on a real pty."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from pollsim.emulator.read import ReadError, Readout, check_readout
from pollsim.emulator.serve import Emulator, EmulatorSettings
from pollsim.protocol import (
    AlteredResult,
    Client,
    DeviceServer,
    ForgedResult,
    Frame,
    Link,
    MessageType,
    ReplayedResult,
    ResultSeal,
    ResultVerifier,
    sign,
)
from pollsim.protocol.auth import ENVELOPE_SIZE
from pollsim.protocol.line import serial_pair
from pollsim.protocol.records import LogChunk
from tests.emulator.conftest import KEY, OTHER_KEY, TRAINING, TRAINING_PAPER, run_read, start_serve, wait_until_final
from tests.emulator.tap import CableTap, change_identity, change_payload


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """A DRE that has lived the training precinct's day, holding KEY."""
    device = Emulator(EmulatorSettings("dre", scenario=TRAINING, key=KEY))
    device.live_election_day(threading.Event())
    yield device
    device.close()


@contextmanager
def reader_of(emulator: Emulator, signer: ResultSeal | None, key: bytes | None = KEY) -> Iterator[Client]:
    """A reader (holding ``key``) and the emulated device sealing with ``signer``, on a cable."""
    host, device = serial_pair()
    server = DeviceServer(Link(device, device_id=1, ack_timeout=0.05), emulator.service, signer=signer)
    with server.in_background():
        yield Client(host, ack_timeout=0.05, verifier=ResultVerifier(key) if key is not None else None)


class AlteringSeal(ResultSeal):
    """The genuine seal, then a byte of the result changed (in memory, or on the way)."""

    def seal(self, payload: bytes, scope: bytes = bytes(32)) -> bytes:
        sealed = bytearray(super().seal(payload, scope))
        sealed[-1] ^= 0x01
        return bytes(sealed)


def test_a_reader_with_the_key_accepts_the_devices_sealed_results(emulator: Emulator) -> None:
    with reader_of(emulator, emulator.service.seal) as client:
        assert client.identify().sealed
        counters = client.counters()
        first = client.verifier.last_counter
        np.testing.assert_array_equal(client.read_all_cvrs(), emulator.service.cvrs())
        assert client.tally().sum() > 0 and len(client.paper_records()) == counters.public
        assert client.verifier.last_counter > first > 0


def test_results_sealed_with_another_key_are_refused_as_forged(emulator: Emulator) -> None:
    with reader_of(emulator, ResultSeal(OTHER_KEY, iter(range(1, 100)).__next__)) as client:
        with pytest.raises(ForgedResult, match="IDENTIFY reply is forged: the seal does not verify"):
            client.counters()  # the reader opens the sealed identity before anything else


def test_unsealed_results_are_refused_as_forged_by_a_reader_that_holds_the_key(emulator: Emulator) -> None:
    with reader_of(emulator, None) as client:
        with pytest.raises(ForgedResult, match="IDENTIFY reply is forged: not a signed result"):
            client.identify()


def test_a_result_changed_after_sealing_is_refused_as_altered(emulator: Emulator) -> None:
    with reader_of(emulator, AlteringSeal(KEY, iter(range(1, 100)).__next__)) as client:
        with pytest.raises(AlteredResult, match="IDENTIFY reply is altered"):
            client.read_all_cvrs()


def test_an_old_genuine_result_sent_again_is_refused_as_replayed(emulator: Emulator) -> None:
    with reader_of(emulator, ResultSeal(KEY, lambda: 7)) as client:  # every seal says counter 7
        client.identify()
        with pytest.raises(ReplayedResult, match="COUNTERS reply is replayed: result counter 7 is not above 7"):
            client.counters()


def test_a_reader_without_the_key_opens_sealed_results_and_still_sees_damage(emulator: Emulator) -> None:
    with reader_of(emulator, emulator.service.seal, key=None) as client:
        client.identify()
        assert client.counters().public == len(emulator.service.cvrs())
    with reader_of(emulator, AlteringSeal(KEY, iter(range(1, 100)).__next__), key=None) as client:
        with pytest.raises(AlteredResult):
            client.identify()


def test_sealed_chunks_are_cut_to_leave_room_for_the_seal(emulator: Emulator) -> None:
    with reader_of(emulator, emulator.service.seal) as client:
        payload = client.link.request(MessageType.CVRS, b"\x00\x00\x00\x00\xff\xff").payload
    assert payload.startswith(b"PSR2") and len(payload) <= 65535
    assert sign(KEY, 1, b"")[:4] == b"PSR2" and ENVELOPE_SIZE == 112


# -- the same, end to end: `pollsim read` against `pollsim serve` with a tap on the cable ----------


@pytest.fixture(scope="module")
def served_day(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    served = start_serve("dre", "--scenario", TRAINING, "--link", tmp / "dre", "--key", KEY.hex())
    wait_until_final(str(tmp / "dre"))
    yield served
    assert served.stop() == 0


def alter_sealed_results(frame: Frame) -> Frame:
    if frame.msg_type in (0x96, 0x97) and len(frame.payload) > ENVELOPE_SIZE:
        payload = bytearray(frame.payload)
        payload[-1] ^= 0x01  # one vote moved in the last record of the chunk
        return change_payload(frame, bytes(payload))
    return frame


class ReplayCounters:
    """Keeps the first COUNTERS reply and hands it over again in place of later ones."""

    def __init__(self) -> None:
        self.first: bytes | None = None

    def __call__(self, frame: Frame) -> Frame:
        if frame.msg_type == 0x95:
            if self.first is None:
                self.first = frame.payload
            else:
                return change_payload(frame, self.first)
        return frame


@pytest.mark.parametrize(("rewrite", "what"), [(alter_sealed_results, "TALLY reply is altered"),
                                               (ReplayCounters(), "COUNTERS reply is replayed")])  # fmt: skip
def test_pollsim_read_refuses_results_tampered_with_on_the_cable(served_day, tmp_path, rewrite, what) -> None:
    tap = CableTap(served_day.path, rewrite)
    try:
        readout = run_read(tap.path, tmp_path / "R", "--key", KEY.hex())
    finally:
        tap.close()
    assert readout.returncode == 2
    assert readout.stderr.startswith(f"pollsim: {tap.path}: {what}")
    assert readout.stderr.count("\n") == 1
    assert not (tmp_path / "R").exists()


def test_pollsim_read_refuses_a_memory_put_back_after_an_earlier_readout_as_replayed(tmp_path) -> None:
    """Someone copies the device's memory, lets the county read it, then puts the copy back:
    its seals repeat counters the county has already accepted."""
    state, seen = tmp_path / "dre.db", tmp_path / "seen.json"
    serve = ("dre", "--election", TRAINING, "--state", state, "--key", KEY.hex(), "--link", tmp_path / "dre")
    start_serve(*serve).stop()
    for suffix in ("", "-wal", "-shm"):
        if (tmp_path / f"dre.db{suffix}").exists():
            shutil.copy(tmp_path / f"dre.db{suffix}", tmp_path / f"copy{suffix}")
    served = start_serve(*serve)
    first = run_read(tmp_path / "dre", tmp_path / "R1", "--key", KEY.hex(), "--seen", seen)
    served.stop()
    assert first.returncode == 0, first.stderr
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"dre.db{suffix}").unlink(missing_ok=True)
        if (tmp_path / f"copy{suffix}").exists():
            shutil.copy(tmp_path / f"copy{suffix}", tmp_path / f"dre.db{suffix}")
    served = start_serve(*serve)
    again = run_read(tmp_path / "dre", tmp_path / "R2", "--key", KEY.hex(), "--seen", seen)
    served.stop()
    assert again.returncode == 2
    assert "IDENTIFY reply is replayed" in again.stderr and str(tmp_path / "dre") in again.stderr


# -- the attacks of issue 14, each through a tampering relay on a real pty -------------------------


def tapped_read(device_path: str, out, rewrite, *args: object):
    """``pollsim read --key KEY ARGS`` through a tap that rewrites the device's frames."""
    tap = CableTap(device_path, rewrite)
    try:
        return run_read(tap.path, out, "--key", KEY.hex(), *args), tap.path
    finally:
        tap.close()


def test_a_changed_serial_or_a_removed_definition_hash_is_refused_as_altered(served_day, tmp_path) -> None:
    for n, changes in enumerate([{"serial": "PS-DRE-99999"}, {"definition_hash": None}, {"memory_card": "0" * 16}]):
        readout, path = tapped_read(served_day.path, tmp_path / f"R{n}", lambda f, c=changes: change_identity(f, **c))
        assert readout.returncode == 2, changes
        assert readout.stderr.startswith(f"pollsim: {path}: IDENTIFY reply is altered")
        assert not (tmp_path / f"R{n}").exists()


class ReplaySession:
    """Records the device's replies of one reader session, then hands them over again, in
    order, in place of the replies of later sessions; ``serial`` also changes the identity."""

    def __init__(self) -> None:
        self.recorded: dict[int, list[bytes]] = {}
        self.replaying: dict[int, list[bytes]] | None = None
        self.serial: str | None = None

    def __call__(self, frame: Frame) -> Frame:
        if frame.msg_type < 0x80:
            return frame
        if self.replaying is None:
            self.recorded.setdefault(frame.msg_type, []).append(frame.payload)
            return frame
        queue = self.replaying.get(frame.msg_type)
        if queue:
            frame = change_payload(frame, queue.pop(0))
        return change_identity(frame, serial=self.serial) if self.serial else frame

    def replay(self, serial: str | None = None) -> None:
        self.replaying = {kind: list(payloads) for kind, payloads in self.recorded.items()}
        self.serial = serial


def test_an_earlier_session_replayed_is_refused_even_under_another_serial(served_day, tmp_path) -> None:
    seen = tmp_path / "seen.json"
    replay = ReplaySession()
    first, _ = tapped_read(served_day.path, tmp_path / "R1", replay, "--seen", seen)
    assert first.returncode == 0, first.stderr
    replay.replay()
    again, path = tapped_read(served_day.path, tmp_path / "R2", replay, "--seen", seen)
    assert again.returncode == 2 and again.stderr.startswith(f"pollsim: {path}: IDENTIFY reply is replayed")
    replay.replay(serial="PS-DRE-00042")  # the old trick: a serial the seen file does not know
    renamed, path = tapped_read(served_day.path, tmp_path / "R3", replay, "--seen", seen)
    assert renamed.returncode == 2 and renamed.stderr.startswith(f"pollsim: {path}: IDENTIFY reply is altered")
    assert not (tmp_path / "R2").exists() and not (tmp_path / "R3").exists()


def rewrite_log_entry(careful: bool):
    """Changes the description of log entry 3 (and, ``careful``, recomputes its hash and every
    later one, as a forger who knows the chain's rule would)."""

    def rewrite(frame: Frame) -> Frame:
        if frame.msg_type != MessageType.EVENT_LOG | 0x80:
            return frame
        chunk = LogChunk.from_payload(frame.payload)
        events, previous = list(chunk.events), None
        for k, event in enumerate(events):
            if event.sequence == 3:
                text = event.canonical.rsplit("|", 1)[0] + "|polls opened by the book"
                events[k] = dataclasses.replace(event, description="polls opened by the book", canonical=text)
            if careful and event.sequence >= 3 and previous is not None:
                digest = hashlib.sha256(bytes.fromhex(previous) + events[k].canonical.encode()).hexdigest()
                events[k] = dataclasses.replace(events[k], hash=digest)
            previous = events[k].hash
        return change_payload(frame, LogChunk(chunk.offset, chunk.total, tuple(events)).to_payload())

    return rewrite


@pytest.mark.parametrize(("careful", "what"), [(False, "event log chain broken: entry 3"),
                                               (True, "event log does not match the head the counters vouch for")])  # fmt: skip
def test_a_rewritten_log_entry_is_refused(served_day, tmp_path, careful: bool, what: str) -> None:
    readout, path = tapped_read(served_day.path, tmp_path / "R", rewrite_log_entry(careful))
    assert readout.returncode == 2 and readout.stderr.startswith(f"pollsim: {path}: {what}")
    assert not (tmp_path / "R").exists()


def test_with_a_key_a_log_that_cannot_be_chained_is_refused(emulator: Emulator) -> None:
    """A readout whose identity gives no definition hash (or whose counters vouch for no head)
    cannot have its log checked: a reader with a key refuses it, one without says so."""
    with reader_of(emulator, emulator.service.seal) as client:
        identity = client.identify()
        readout = Readout(port="tty", identity=dataclasses.replace(identity, definition_hash=""), status=client.status(),
                          counters=client.counters(), tally=None, cvrs=None, paper=None,
                          events=client.event_log(), sealed=True, verified_counter=client.verifier.last_counter,
                          retransmissions=0, corrupt_frames=0)  # fmt: skip
    with pytest.raises(ReadError, match="tty: event log chain cannot be verified .* with a key it must be"):
        check_readout(readout)
    keyless = check_readout(dataclasses.replace(readout, verified_counter=None))
    assert keyless["log_chain"].startswith("not verifiable")
    with pytest.raises(ReadError, match="the counters vouch for no log head"):
        check_readout(dataclasses.replace(readout, identity=identity, counters=dataclasses.replace(readout.counters, log_head=None)))


def test_new_memory_cards_and_new_elections_are_not_taken_for_replays(tmp_path) -> None:
    """One --seen file across memory cards and elections: each fresh memory starts its seal
    counter at 1 again, in a scope of its own, and is accepted."""
    seen = tmp_path / "seen.json"
    for n, election in enumerate([TRAINING, TRAINING, TRAINING_PAPER]):
        served = start_serve("dre", "--election", election, "--state", tmp_path / f"card-{n}.db", "--key", KEY.hex(),
                             "--link", tmp_path / "dre")  # fmt: skip
        try:
            readout = run_read(tmp_path / "dre", tmp_path / f"R{n}", "--key", KEY.hex(), "--seen", seen)
        finally:
            served.stop()
        assert readout.returncode == 0, readout.stderr
    scopes = json.loads(seen.read_text())
    assert len(scopes) == 3 and len({scope.split("|")[0] for scope in scopes}) == 1  # one serial, three scopes
    assert sorted(scopes.values())[0] < 20  # counters restarted with each fresh card
