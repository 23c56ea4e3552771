"""Sealed results: the county's reader accepts the device's genuine, intact, new results and
refuses forged, altered and replayed ones, saying which (docs/protocol.md section 8)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

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
from pollsim.protocol.testing import lossy_pair
from tests.emulator.conftest import KEY, OTHER_KEY, TRAINING, run_read, start_serve, wait_until_final
from tests.emulator.tap import CableTap, change_payload


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
    host, device = lossy_pair(0)
    server = DeviceServer(Link(device, device_id=1, ack_timeout=0.05), emulator.service, signer=signer)
    with server.in_background():
        yield Client(host, ack_timeout=0.05, verifier=ResultVerifier(key) if key is not None else None)


class AlteringSeal(ResultSeal):
    """The genuine seal, then a byte of the result changed (in memory, or on the way)."""

    def seal(self, payload: bytes) -> bytes:
        sealed = bytearray(super().seal(payload))
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
        with pytest.raises(ForgedResult, match="COUNTERS reply is forged"):
            client.counters()


def test_unsealed_results_are_refused_as_forged_by_a_reader_that_holds_the_key(emulator: Emulator) -> None:
    with reader_of(emulator, None) as client:
        assert not client.identify().sealed
        with pytest.raises(ForgedResult, match="TALLY reply is forged: not a signed result"):
            client.tally()


def test_a_result_changed_after_sealing_is_refused_as_altered(emulator: Emulator) -> None:
    with reader_of(emulator, AlteringSeal(KEY, iter(range(1, 100)).__next__)) as client:
        with pytest.raises(AlteredResult, match="CVRS reply is altered"):
            client.read_all_cvrs()


def test_an_old_genuine_result_sent_again_is_refused_as_replayed(emulator: Emulator) -> None:
    with reader_of(emulator, ResultSeal(KEY, lambda: 7)) as client:  # every seal says counter 7
        client.counters()
        with pytest.raises(ReplayedResult, match="COUNTERS reply is replayed: result counter 7 is not above 7"):
            client.counters()


def test_a_reader_without_the_key_opens_sealed_results_and_still_sees_damage(emulator: Emulator) -> None:
    with reader_of(emulator, emulator.service.seal, key=None) as client:
        client.identify()
        assert client.counters().public == len(emulator.service.cvrs())
    with reader_of(emulator, AlteringSeal(KEY, iter(range(1, 100)).__next__), key=None) as client:
        client.identify()
        with pytest.raises(AlteredResult):
            client.counters()


def test_sealed_chunks_are_cut_to_leave_room_for_the_seal(emulator: Emulator) -> None:
    with reader_of(emulator, emulator.service.seal) as client:
        payload = client.link.request(MessageType.CVRS, b"\x00\x00\x00\x00\xff\xff").payload
    assert payload.startswith(b"PSR1") and len(payload) <= 65535
    assert sign(KEY, 1, b"")[:4] == b"PSR1" and ENVELOPE_SIZE == 80


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
    assert "COUNTERS reply is replayed" in again.stderr and str(tmp_path / "dre") in again.stderr
