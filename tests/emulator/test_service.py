"""The service port's firmware: how an emulated device tells its state, guards its polls with the
election code, takes its results key only in test mode, seals without ever repeating a counter,
and hands out an event log whose chain a reader can check."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from pollsim.devices import DRE, Pollbook, PrecinctScanner
from pollsim.devices.states import PollState as Firmware
from pollsim.devices.store import SQLiteStore
from pollsim.election.roll import RollStatus
from pollsim.emulator.pollbook import PollbookService
from pollsim.emulator.read import verify_log_chain
from pollsim.emulator.serve import TEST_ELECTION, Emulator, EmulatorSettings
from pollsim.emulator.service import DeviceService
from pollsim.errors import DeviceError
from pollsim.protocol import ErrorCode, RequestRefused, counter_of
from tests.emulator.conftest import KEY, OTHER_KEY

ELECTION = TEST_ELECTION
CODE = ELECTION.definition_hash[:8]


def dre(state=None, **kwargs) -> DeviceService:
    store = SQLiteStore(state, ELECTION.width, ELECTION.definition_hash) if state else None
    return DeviceService(DRE("DRE-1", ELECTION, store, t=1.8e9), number=3, **kwargs)


def ballot(*columns: int) -> np.ndarray:
    row = np.zeros(ELECTION.width, np.uint8)
    row[list(columns)] = 1
    return row


def test_the_seven_firmware_states_are_told_as_four_poll_states_and_the_test_flag() -> None:
    assert {state: (state.polls, state.test_mode) for state in Firmware} == {
        Firmware.PRE_ELECTION: ("closed", False), Firmware.TEST_MODE: ("closed", True),
        Firmware.READY: ("closed", False), Firmware.POLLS_OPEN: ("open", False),
        Firmware.SUSPENDED: ("paused", False), Firmware.POLLS_CLOSED: ("final", False),
        Firmware.RESULTS_EXPORTED: ("final", False),
    }  # fmt: skip
    service = dre()
    service.enter_test_mode()
    assert (service.status().polls, service.status().test_mode) == ("closed", True)
    assert service.open_polls(CODE).polls == "open"
    service.device.suspend(1.8e9)
    assert service.status().polls == "paused"
    assert service.open_polls(CODE).polls == "open"  # resuming needs the code too
    assert service.close_polls().polls == "final"


def test_a_wrong_election_code_is_refused_and_logged() -> None:
    service = dre(election_code="S3CRET-42")
    with pytest.raises(RequestRefused) as refused:
        service.open_polls(CODE)
    assert refused.value.code is ErrorCode.AUTH_FAILED
    assert service.device.log.entries[-1].type == "polls-open-refused"
    assert service.open_polls("S3CRET-42").polls == "open"
    with pytest.raises(DeviceError, match="polls are open"):
        service.open_polls("S3CRET-42")


def test_the_identity_names_the_device_and_its_election_definition() -> None:
    identity = dre().identify()
    assert (identity.device_id, identity.kind, identity.serial) == (3, "dre", "PS-DRE-00003")
    assert identity.definition_hash == ELECTION.definition_hash
    with pytest.raises(DeviceError, match="not in 1..65534"):
        DeviceService(DRE("DRE-1", ELECTION), number=0xFFFF)


def test_test_ballots_count_only_on_the_protective_counter_and_vanish_when_the_polls_open() -> None:
    service = dre()
    service.enter_test_mode()
    for _ in range(4):
        counters = service.cast_test_ballot(ballot(0, 3))
    assert (counters.public, counters.protective) == (0, 4)
    assert len(service.cvrs()) == len(service.paper_records()) == 4
    np.testing.assert_array_equal(service.tally()[[0, 3]], [4, 4])
    service.open_polls(CODE)
    assert len(service.cvrs()) == 0 and service.counters().protective == 4


def test_the_results_key_goes_in_only_in_test_mode_and_is_never_changed_after() -> None:
    service = dre()
    service.load_key(KEY)  # a device before the election is put in test mode for it
    assert service.status().test_mode and service.device.log.entries[-1].type == "key-loaded"
    service.open_polls(CODE)
    service.load_key(KEY)  # the same key again: nothing changes
    with pytest.raises(DeviceError, match="only in test mode"):
        service.load_key(OTHER_KEY)
    assert service.device.log.entries[-1].type == "key-change-refused"
    assert service.seal is not None and service.seal.key == KEY


def test_the_seal_counter_survives_restarts_and_never_repeats(tmp_path) -> None:
    state = tmp_path / "dre.db"
    counters = []
    for _ in range(3):
        service = dre(state)
        service.load_key(KEY)
        counters += [counter_of(service.seal.seal(b"result")) for _ in range(5)]
        service.device.store.close()
    assert counters == list(range(1, 16))
    memory_only = dre()  # no memory file: counts on from the wall clock, so no repeat either
    memory_only.load_key(KEY)
    assert counter_of(memory_only.seal.seal(b"x")) > 1_700_000_000_000_000


def test_set_clock_moves_the_device_clock_is_remembered_and_logged(tmp_path) -> None:
    service = dre(tmp_path / "dre.db")
    assert abs(service.set_clock(1_794_000_000).clock - 1_794_000_000) <= 1
    assert service.device.log.entries[-1].type == "clock-set"
    service.device.store.close()
    assert abs(dre(tmp_path / "dre.db").status().clock - 1_794_000_000) <= 1


def test_injected_faults_show_in_status_block_ballots_and_are_repaired() -> None:
    service = dre()
    service.enter_test_mode()
    assert service.inject_fault("paper_out", {}).faults == ("paper_out",)
    with pytest.raises(RequestRefused) as refused:
        service.cast_test_ballot(ballot(0))
    assert refused.value.code is ErrorCode.DEVICE_FAULT
    with pytest.raises(RequestRefused) as printer:
        service.print_results_tape()
    assert printer.value.code is ErrorCode.DEVICE_FAULT
    assert service.inject_fault("paper_out", {"repair": True}).faults == ()
    assert service.cast_test_ballot(ballot(0)).protective == 1
    with pytest.raises(RequestRefused, match="unknown fault"):
        service.inject_fault("gremlins", {})


def test_tapes_print_with_the_devices_clock_and_counters() -> None:
    service = dre()
    assert "ZERO TAPE" in service.print_zero_tape()
    service.open_polls(CODE)
    service.cast(ballot(1, 4))
    with pytest.raises(DeviceError, match="not zero"):
        service.print_zero_tape()
    service.close_polls()
    tape = service.print_results_tape()
    assert "BALLOTS CAST             1" in tape and " UTC" in tape


def test_a_scanner_returns_an_overvoted_test_ballot_but_casts_the_voters_cast_as_is() -> None:
    service = DeviceService(PrecinctScanner("SCAN-1", ELECTION, t=1.8e9), number=1)
    service.enter_test_mode()
    assert service.cast_test_ballot(ballot(0, 1)).protective == 0  # two governors: returned
    service.open_polls(CODE)
    assert service.cast(ballot(0, 1))  # election day: the voter chose "cast as is"


def test_the_event_log_goes_out_with_hashes_a_reader_can_check() -> None:
    service = dre()
    service.open_polls(CODE)
    service.cast(ballot(0))
    events = list(service.event_log())
    assert verify_log_chain(ELECTION.definition_hash, events) is None
    assert all(e.timestamp.endswith("Z") for e in events)
    events[1] = dataclasses.replace(events[1], description="nothing happened")
    assert "hashed text does not match" in verify_log_chain(ELECTION.definition_hash, events)
    canonical = events[1].canonical.rsplit("|", 1)[0] + "|nothing happened"
    events[1] = dataclasses.replace(events[1], canonical=canonical)  # a careful forger
    assert "does not follow from entry 1" in verify_log_chain(ELECTION.definition_hash, events)


def test_a_pollbook_counts_check_ins_and_holds_no_ballots() -> None:
    book = Pollbook("PB", ELECTION, electronic=True)
    service = PollbookService(book, number=9, definition_hash=ELECTION.definition_hash, date=ELECTION.date)
    service.open_polls(CODE)
    assert service.check_in(int(RollStatus.ACTIVE)) and not service.check_in(int(RollStatus.INACTIVE))
    assert (service.counters().public, service.counters().protective) == (1, 2)
    with pytest.raises(RequestRefused) as refused:
        service.cvrs()
    assert refused.value.code is ErrorCode.UNSUPPORTED
    assert verify_log_chain(ELECTION.definition_hash, list(service.event_log())) is None


def test_a_restarted_device_resumes_the_day_from_the_ballots_its_memory_holds(tmp_path) -> None:
    from tests.emulator.conftest import TRAINING, model_ballots

    settings = EmulatorSettings("dre", scenario=TRAINING, state=tmp_path / "dre.db")
    first = Emulator(settings)
    first.service.open_polls(first.service.election_code)
    for row in first.day.ballots[:40]:
        first.service.cast(row)
    first.store.close()  # power cut with the polls open
    again = Emulator(settings)
    assert again.service.status().polls == "paused"
    again.live_election_day(threading.Event())
    np.testing.assert_array_equal(again.service.cvrs(), model_ballots(TRAINING, "DRE-1"))
    assert again.service.status().polls == "final"
    again.close()
