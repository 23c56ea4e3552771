"""The service port of an emulated voting device: the firmware that answers the county's reader.

Picture a DRE on the county's bench a week before the election. A technician plugs a serial cable
into its service port, turns it to test mode, loads the election's results key, feeds it the
logic-and-accuracy test deck (CAST_TEST_BALLOT) and checks the counters. On election morning a poll
manager opens the polls with the election code; at night the port hands the county the counters,
the tally, every cast vote record, the VVPAT records and the event log, results sealed with the
key. :class:`DeviceService` is that firmware: it adapts a pollsim device
(:class:`~pollsim.devices.firmware.VotingDevice`: DRE, precinct scanner or BMD) to the
:class:`~pollsim.protocol.server.DeviceHandler` of the serial protocol;
:class:`~pollsim.emulator.pollbook.PollbookService` does the same for an electronic pollbook.
The counts the county reads from it feed its §23-15-615 ballot accounting.

What the service adds to the firmware (docs/protocol.md section 11 gives the rules):

* **Poll states.** The firmware's seven states are told on the wire by their projection
  (:attr:`pollsim.devices.states.PollState.polls`: closed, open, paused, final) and the
  test-mode flag.
* **Identity.** IDENTIFY names the device, its election definition, the ballot's contest
  layout and its **memory card**: a random id made when the memory is first used and kept in
  it, so that a new card starts a new count of seals (docs/protocol.md section 8).
* **Clock.** The firmware knows no clock (it is handed times); the service keeps one in Unix
  seconds: the host's wall clock plus an offset that SET_CLOCK sets, kept in the device's memory.
* **Election code.** OPEN_POLLS must carry it (hardware.md: re-opening after a reboot needs the
  election code); a wrong one is refused with AUTH_FAILED and logged.
* **Results key.** The per-election key is loaded only in test mode (:meth:`DeviceService.load_key`);
  every result reply is then sealed with a counter stored *before* it is used, so that no counter
  is ever used twice, even across power losses.

Every method takes :attr:`DeviceService.lock`: the link thread and the election-day thread share
the device as a poll worker and a voter share a machine, one at a time.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from pollsim import __version__
from pollsim.devices import BMD, DRE, BallotRefused, PrecinctScanner, VotingDevice
from pollsim.devices.eventlog import Disposition, EventLog, entry_bytes
from pollsim.devices.firmware import BLOCKING_FAULTS, SILENT_FAULTS
from pollsim.devices.states import PollState as Firmware
from pollsim.devices.store import MemoryStore
from pollsim.election.definition import Election
from pollsim.errors import DeviceError
from pollsim.protocol import Counters, ErrorCode, Identity, LogEvent, RequestRefused, ResultSeal, Status
from pollsim.protocol.auth import key_fingerprint
from pollsim.protocol.records import timestamp
from pollsim.tabulate.tally import tally_votes

__all__ = ["DeviceClock", "DeviceService", "ServicePort", "contest_layout", "default_election_code"]

_MODELS = {
    "dre": ("DRE", "pollsim DRE with VVPAT (AccuVote TSx class)"),
    "scan-single": ("SCAN", "pollsim precinct scanner (DS200 class)"),
    "bmd": ("BMD", "pollsim ballot-marking device (ExpressVote class)"),
    "electronic-poll-book": ("EPB", "pollsim electronic pollbook"),
}
_PRINTER_FAULTS = frozenset({"paper_out", "paper_jam", "printer_cover_open"})


def contest_layout(election: Election) -> tuple[tuple[int, int], ...]:
    """IDENTIFY's ``contests``: (choices, vote for) of each contest, in CVR column order."""
    return tuple((len(contest.choices), contest.vote_for) for contest in election.contests)


def default_election_code(definition_hash: str) -> str:
    """The election code a device accepts unless told another: the first 8 hex digits of the
    election definition's SHA-256. Not a secret (the hash is on every tape): a training default;
    ``pollsim serve --election-code`` sets a real one."""
    return definition_hash[:8]


class DeviceClock:
    """The device's real-time clock, in Unix seconds: the host's wall clock plus ``offset``."""

    def __init__(self, offset: float = 0.0):
        self.offset = offset
        """Seconds added to the host's clock (set by SET_CLOCK)."""

    def now(self) -> float:
        return round(time.time() + self.offset, 3)

    def set(self, clock: float) -> None:
        self.offset = clock - time.time()


class ServicePort:
    """What every emulated device's service port shares: identity, clock, memory, log, lock."""

    kind = "dre"
    contests: tuple[tuple[int, int], ...] = ()

    def __init__(self, number: int, election_code: str, definition_hash: str, memory):
        if not 1 <= number <= 0xFFFE:
            raise DeviceError(f"device id {number} is not in 1..65534")
        self.number = number
        """The device id on the wire, 1..65534."""
        self.election_code = election_code
        self.definition_hash = definition_hash
        self.lock = threading.RLock()
        """Held by every request and every ballot: one user of the machine at a time."""
        self._memory = memory  # a SQLiteStore (meta table) or None: meta kept in _volatile
        self._volatile: dict[str, str] = {}
        self.clock = DeviceClock(float(self._meta("clock_offset") or 0.0))
        self.seal: ResultSeal | None = None
        """Seals result replies once a key is loaded (None: results go out unsealed)."""
        self._events: list[LogEvent] = []
        self.memory_card = self._meta("memory_card") or secrets.token_hex(8)
        """The memory card's id: made when the memory is first used, kept in it."""
        self._save_meta("memory_card", self.memory_card)
        stored = self._meta("result_key")
        if stored:
            self.seal = ResultSeal(bytes.fromhex(stored), self._next_seal_counter)

    # -- memory ---------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        if self._memory is not None:
            return self._memory.meta(key)
        return self._volatile.get(key)

    def _save_meta(self, key: str, value: object) -> None:
        if self._memory is not None:
            self._memory.save_meta(key, value)
        else:
            self._volatile[key] = str(value)

    def _next_seal_counter(self) -> int:
        """A counter never used before, stored before it is used.

        A device with a memory file counts from 1; one without (nothing survives its power
        loss) starts from the wall clock in microseconds, so it does not repeat either.
        """
        with self.lock:
            saved = self._meta("seal_counter")
            base = int(saved) if saved else (0 if self._memory is not None else time.time_ns() // 1000)
            self._save_meta("seal_counter", base + 1)
            return base + 1

    @property
    def log(self) -> EventLog:
        raise NotImplementedError

    @property
    def _in_test_mode(self) -> bool:
        return False

    _key_rule = "only in test mode"

    def load_key(self, key: bytes) -> ResultSeal:
        """Load the per-election results key (the technician's step during L&A testing).

        Allowed in test mode (for a pollbook: before its polls open); a device that already
        holds the same key keeps it whatever its state; loading another key otherwise is
        refused and logged.
        """
        with self.lock:
            t = self.clock.now()
            if self._meta("result_key") != key.hex():
                if not self._in_test_mode:
                    self.log.append(t, "key-change-refused", Disposition.FAILURE, self._key_rule)
                    raise DeviceError(f"device {self.number}: a results key can be loaded {self._key_rule}; "
                                      "this device already holds another key")  # fmt: skip
                self._save_meta("result_key", key.hex())
                self.log.append(t, "key-loaded", details=f"fingerprint={key_fingerprint(key)}")
            self.seal = ResultSeal(key, self._next_seal_counter)
            return self.seal

    # -- requests shared by every kind ------------------------------------------------------------
    def identify(self) -> Identity:
        code, model = _MODELS[self.kind]
        return Identity(
            device_id=self.number,
            kind=self.kind,
            model=model,
            serial=f"PS-{code}-{self.number:05d}",
            firmware=f"pollsim {__version__}",
            sealed=self.seal is not None,
            definition_hash=self.definition_hash,
            memory_card=self.memory_card,
            contests=self.contests,
        )

    def set_clock(self, clock: int) -> Status:
        with self.lock:
            before = self.clock.now()
            self.clock.set(clock)
            self._save_meta("clock_offset", self.clock.offset)
            self.log.append(self.clock.now(), "clock-set", details=f"from={before:.0f} to={clock}")
            return self.status()

    def status(self) -> Status:
        raise NotImplementedError

    def _check_code(self, election_code: str) -> None:
        if not hmac.compare_digest(election_code.encode(), self.election_code.encode()):
            self.log.append(self.clock.now(), "polls-open-refused", Disposition.FAILURE, "wrong election code")
            raise RequestRefused(ErrorCode.AUTH_FAILED, "wrong election code")

    def event_log(self) -> Sequence[LogEvent]:
        """The log as wire entries, each with its chain hash and the text that was hashed."""
        with self.lock:
            log, date = self.log, self._election_date
            hashes = log.hashes()
            for entry, digest in zip(log.entries[len(self._events) :], hashes[len(self._events) :], strict=True):
                self._events.append(
                    LogEvent(
                        sequence=entry.sequence,
                        timestamp=timestamp(entry.time, date),
                        event_id=entry.type,
                        disposition=entry.disposition,
                        description=entry.details,
                        hash=digest,
                        canonical=entry_bytes(entry).decode(),
                    )
                )
            return list(self._events)

    _election_date = ""


class DeviceService(ServicePort):
    """A DRE, precinct scanner or BMD on its service port (a :class:`DeviceHandler`).

    ``number`` is the device id on the wire; the firmware's own name (``DRE-1``) stays in its
    log. The device's memory (a :class:`~pollsim.devices.store.SQLiteStore` for a device that
    survives restarts) also keeps the clock offset, the results key and the seal counter.
    """

    def __init__(self, device: VotingDevice, *, number: int, election_code: str | None = None):
        self.device = device
        self.kind = device.kind
        election = device.election
        memory = None if isinstance(device.store, MemoryStore) else device.store
        code = election_code or default_election_code(election.definition_hash)
        super().__init__(number, code, election.definition_hash, memory)
        self.contests = contest_layout(election)
        self._election_date = election.date
        self._records: dict[tuple[int, bool, str], npt.NDArray[np.uint8]] = {}
        self.zero_tape = ""
        """The zero tape printed when the polls last opened."""
        self.results_tape = ""
        """The results tape printed when the polls closed."""

    @property
    def log(self) -> EventLog:
        return self.device.log

    @property
    def _in_test_mode(self) -> bool:
        return self.device.state is Firmware.TEST_MODE

    # -- the technician's and the poll manager's own steps (not requests) --------------------------
    def enter_test_mode(self) -> None:
        """Turn the key to test mode (from pre-election or ready); nothing if already there."""
        with self.lock:
            if self.device.state in (Firmware.PRE_ELECTION, Firmware.READY):
                self.device.enter_test_mode(self.clock.now())

    def load_key(self, key: bytes) -> ResultSeal:
        """Load the results key; a device before the election is put in test mode to take it."""
        with self.lock:
            if self._meta("result_key") != key.hex():
                self.enter_test_mode()
            return super().load_key(key)

    def cast(self, marks: npt.ArrayLike, *, as_is: bool = True) -> bool:
        """A voter's ballot: cast on a DRE, fed to a scanner, printed by a BMD. Tells whether
        the device counted it (a scanner returns an overvoted or blank ballot unless ``as_is``,
        the voter's "cast as is"). Raises :class:`BallotRefused` when the device cannot."""
        row = np.asarray(marks, np.uint8)
        with self.lock:
            t, device = self.clock.now(), self.device
            before = device.store.protective
            if isinstance(device, DRE):
                device.cast(t, row)
            elif isinstance(device, PrecinctScanner):
                device.scan(t, row, override=as_is and (not row.any() or device.overvoted(row)))
            elif isinstance(device, BMD):
                device.print_card(t, row)
            else:
                raise DeviceError(f"{device.device_id}: cannot take ballots")
            return device.store.protective > before

    # -- requests --------------------------------------------------------------------------------
    def status(self) -> Status:
        with self.lock:
            return Status.of(self.device.state, int(self.clock.now()), tuple(sorted(self.device.faults)))

    def open_polls(self, election_code: str) -> Status:
        """Open the polls; from pre-election or test mode the device is first set for the
        election (test ballots cleared); a paused device (power came back) resumes."""
        with self.lock:
            self._check_code(election_code)
            device, t = self.device, self.clock.now()
            if device.state is Firmware.SUSPENDED:
                device.resume(t)
            elif device.state in (Firmware.PRE_ELECTION, Firmware.TEST_MODE, Firmware.READY):
                if device.state is not Firmware.READY:
                    device.set_for_election(t)
                self.zero_tape = device.open_polls(t)
            else:
                raise DeviceError(f"polls are {device.state.polls}")
            return self.status()

    def close_polls(self) -> Status:
        with self.lock:
            if self.device.state not in (Firmware.POLLS_OPEN, Firmware.SUSPENDED):
                raise DeviceError(f"polls are {self.device.state.polls}, not open")
            self.results_tape = self.device.close_polls(self.clock.now())
            return self.status()

    def counters(self) -> Counters:
        with self.lock:
            store, log = self.device.store, self.device.log
            return Counters(store.public, store.protective, len(log), log.head)

    def _ballots(self, layer: str) -> npt.NDArray[np.uint8]:
        """A copy of the stored CVRs or paper records of the present mode (test ballots in
        test mode), cached until the next ballot."""
        with self.lock:
            store = self.device.store
            key = (store.n, self._in_test_mode, layer)
            if key not in self._records:
                cvr, paper, _ = store.ballots(test=self._in_test_mode)
                self._records = {key: np.array(cvr if layer == "cvr" else paper, np.uint8)}
            return self._records[key]

    def tally(self) -> npt.NDArray[np.integer]:
        return tally_votes(self.device.election, self._ballots("cvr"))

    def cvrs(self) -> npt.NDArray[np.uint8]:
        return self._ballots("cvr")

    def paper_records(self) -> npt.NDArray[np.uint8]:
        """The paper kept with each ballot: VVPAT records, scanned ballots, BMD cards."""
        return self._ballots("paper")

    def _printer_ready(self) -> None:
        jammed = sorted(self.device.faults & _PRINTER_FAULTS)
        if jammed:
            raise RequestRefused(ErrorCode.DEVICE_FAULT, f"printer: {', '.join(jammed)}")

    def print_zero_tape(self) -> str:
        with self.lock:
            self._printer_ready()
            if self.device.store.public:
                raise DeviceError(f"{self.device.store.public} ballots cast: counters are not zero")
            return self.device.zero_tape(self.clock.now())

    def print_results_tape(self) -> str:
        with self.lock:
            self._printer_ready()
            if self.device.state not in (Firmware.TEST_MODE, Firmware.POLLS_CLOSED, Firmware.RESULTS_EXPORTED):
                raise DeviceError("results are printed in test mode or after the polls close")
            return self.device.results_tape(self.clock.now())

    def cast_test_ballot(self, marks: npt.NDArray[np.uint8]) -> Counters:
        width = self.device.election.width
        if marks.size != width:
            raise RequestRefused(ErrorCode.BAD_REQUEST, f"a ballot has {width} marks, not {marks.size}")
        with self.lock:
            try:
                self.cast(marks, as_is=False)
            except BallotRefused as refusal:
                raise RequestRefused(ErrorCode.DEVICE_FAULT, str(refusal)) from None
            return self.counters()

    def inject_fault(self, fault: str, params: Mapping[str, int | float | str | bool]) -> Status:
        """Start a fault (hardware.md); ``{"repair": true}`` clears it (a DRE's paper_out by
        loading a new roll)."""
        if fault not in BLOCKING_FAULTS | SILENT_FAULTS:
            known = ", ".join(sorted(BLOCKING_FAULTS | SILENT_FAULTS))
            raise RequestRefused(ErrorCode.BAD_REQUEST, f"unknown fault {fault!r}; known: {known}")
        with self.lock:
            t, device = self.clock.now(), self.device
            options = {k: v for k, v in params.items() if k != "repair"}
            if params.get("repair"):
                if fault == "paper_out" and isinstance(device, DRE):
                    device.replace_paper(t)
                else:
                    device.repair(t, fault)
            else:
                try:
                    device.fail(t, fault, **options)
                except KeyError as missing:
                    raise RequestRefused(ErrorCode.BAD_REQUEST, f"{fault} needs {missing}") from None
            return self.status()
