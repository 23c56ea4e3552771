"""The test team's hand on an emulated device: faults, the line, the power, the voters, the truth.

While the reader under test talks to the device over its serial port, a test reaches round it,
as a technician on the bench would: opens the printer and pulls the paper (``paper_out``),
jams the feed, makes the firmware misrecord a contest, puts noise on the cable, pulls the plug,
lets the next voters cast their ballots, and opens the unit to read its memory for the
assertions. :class:`Controller` does each of these with the firmware's own fault model (the
names of docs/protocol.md section 11, INJECT_FAULT, without its test-mode rule: the technician
needs no wire), pollsim's per-byte line fault model (:class:`~pollsim.protocol.line.LineFaults`)
and a real power cycle of the emulated device (its memory file keeps every committed ballot; a
device whose polls were open comes back paused, hardware.md "Poll states"). What it reads back,
:class:`~pollsim.pytest_plugin.truth.GroundTruth`, is what the §23-15-615 ballot accounting of
the county will be checked against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pollsim.devices import BallotRefused
from pollsim.emulator.pollbook import PollbookService
from pollsim.emulator.serve import Emulator
from pollsim.errors import DeviceError, PollsimError
from pollsim.protocol import RequestRefused, Status
from pollsim.pytest_plugin.truth import GroundTruth, ground_truth

if TYPE_CHECKING:
    from pollsim.pytest_plugin.bench import DeviceHandle

__all__ = ["Controller", "cast_day_ballots"]


def _next_voter(emulator: Emulator) -> int:
    """Index in the day of the next ballot (check-in) the device's memory does not hold."""
    service = emulator.service
    if isinstance(service, PollbookService):
        return sum(service.pollbook.by_status)
    return service.device.store.public


def cast_day_ballots(emulator: Emulator, n: int) -> int:
    """Let the day's next ``n`` voters cast their ballots (check in, on a pollbook); stop at
    the first the device refuses (that voter waits). Tell how many the device took."""
    day, service = emulator.day, emulator.service
    if day is None:
        raise PollsimError("the device lives no scenario's day: start it with scenario=")
    taken = 0
    with service.lock:
        for _ in range(n):
            k = _next_voter(emulator)
            if k >= len(day.ballots):
                break
            try:
                if isinstance(service, PollbookService):
                    service.check_in(int(day.ballots[k]))
                elif not service.cast(day.ballots[k]):
                    break  # a scanner handed the sheet back (a misfeed): the voter feeds it again later
            except BallotRefused:
                break
            taken += 1
    return taken


class Controller:
    """Reach round the serial port of one device (``pollsim_device(...).controller``)."""

    def __init__(self, handle: DeviceHandle):
        self._handle = handle

    @property
    def _emulator(self) -> Emulator:
        return self._handle.running()

    # -- ground truth ---------------------------------------------------------------------------
    def truth(self) -> GroundTruth:
        """What the firmware holds now: state, faults, counters, CVRs, paper, tally, log, tapes."""
        emulator = self._emulator
        return ground_truth(emulator.service, emulator.election)

    def status(self) -> Status:
        """The STATUS the device would send now."""
        return self._emulator.service.status()

    # -- faults ---------------------------------------------------------------------------------
    def fault(self, name: str, **params: int | float | str | bool) -> Status:
        """Start a firmware fault by name (docs/protocol.md section 11): ``paper_out``,
        ``paper_jam``, ``printer_cover_open``, ``scanner_jam``, ``machine_failure``,
        ``memory_full``, ``memory_unreadable`` block casting; ``misrecording`` and
        ``calibration_drift`` let it go on, wrongly; ``misfeed``/``double_pick`` spoil a
        scanner's next feed. Logged by the device as a ``fault`` event."""
        try:
            return self._emulator.service.inject_fault(name, params)
        except (RequestRefused, DeviceError) as error:
            raise PollsimError(f"{self._handle.port}: fault {name!r}: {error}") from None

    def paper_out(self) -> Status:
        """The printer runs out of paper: a DRE or BMD refuses ballots, tapes are refused
        (DEVICE_FAULT) until :meth:`clear` (a DRE: a new roll)."""
        return self.fault("paper_out")

    def jam(self) -> Status:
        """A jam: the scanner's feed (``scanner_jam``) or the printer's paper (``paper_jam``)."""
        return self.fault("scanner_jam" if self._handle.kind == "scanner" else "paper_jam")

    def misrecord(self, contest: str, share: float = 1.0, to: str | None = None) -> Status:
        """From now on that share of ballots has ``contest``'s CVR moved to choice ``to`` (or to
        the next choice) while the paper keeps the voter's choice."""
        params: dict[str, int | float | str | bool] = {"contest": contest, "share": share}
        if to is not None:
            params["to"] = to
        return self.fault("misrecording", **params)

    def clear(self, name: str | None = None) -> Status:
        """Repair one fault, or (no name) every fault now active."""
        names = [name] if name is not None else list(self.status().faults)
        status = self.status()
        for fault in names:
            status = self.fault(fault, repair=True)
        return status

    # -- the line -------------------------------------------------------------------------------
    def line_noise(self, corrupt: float = 0.0, drop: float = 0.0, seed: int | None = None) -> None:
        """From now on each byte, both ways on the pty and on URL cables, is lost with
        probability ``drop``, else has one bit flipped with probability ``corrupt``; the fates
        come from ``seed`` (default: the device's seed), so a run repeats."""
        try:
            self._handle.line.set(corrupt, drop, seed)
        except ValueError as error:
            raise PollsimError(f"{self._handle.port}: {error}") from None

    def clean_line(self) -> None:
        """No more noise on the line."""
        self._handle.line.set(0.0, 0.0, None)

    def line_counts(self) -> dict[str, int]:
        """What the line did so far: bytes sent each way, and how many were corrupted or lost."""
        line = self._handle.line
        return {"to_device": line.to_device.bytes, "to_device_corrupted": line.to_device.corrupted,
                "to_device_dropped": line.to_device.dropped, "to_host": line.to_host.bytes,
                "to_host_corrupted": line.to_host.corrupted, "to_host_dropped": line.to_host.dropped}  # fmt: skip

    # -- the power ------------------------------------------------------------------------------
    def power_loss(self) -> None:
        """Pull the plug: the port vanishes under the reader (reads fail as on a USB unplug),
        the memory file keeps what was committed. The device stays off until :meth:`power_on`."""
        self._handle.power_off()

    def power_on(self) -> None:
        """Power back on: same port (symlink) and URL, a new pty behind them; the firmware logs
        ``power-on`` and, if its polls were open, comes back ``paused`` (open the polls again)."""
        self._handle.power_on()

    # -- the day ----------------------------------------------------------------------------------
    def vote(self, n: int = 1) -> int:
        """The scenario's next ``n`` voters cast their ballots (a pollbook: check in); stops at
        the first refusal (polls not open, a blocking fault). Tells how many were taken."""
        return cast_day_ballots(self._emulator, n)

    def finish_day(self) -> int:
        """Every remaining voter casts, then the polls close (results tape printed). Raises if
        the device refuses a ballot. Tells how many ballots were cast."""
        emulator = self._emulator
        day = emulator.day
        if day is None:
            raise PollsimError(f"{self._handle.port}: the device lives no scenario's day")
        with emulator.service.lock:
            left = len(day.ballots) - _next_voter(emulator)
            taken = cast_day_ballots(emulator, left)
            if taken < left:
                raise PollsimError(f"{self._handle.port}: the device refused ballot {_next_voter(emulator) + 1} "
                                   f"({self.status().polls}, faults: {', '.join(self.status().faults) or 'none'})")  # fmt: skip
            self.close_polls()
        return taken

    def open_polls(self) -> Status:
        """The poll manager opens the polls with the election code (a paused device resumes)."""
        service = self._emulator.service
        return self._act("open the polls", lambda: service.open_polls(service.election_code))

    def close_polls(self) -> Status:
        """The poll manager closes the polls; a ballot device prints its results tape."""
        return self._act("close the polls", self._emulator.service.close_polls)

    def cast(self, marks) -> bool:
        """Cast one ballot now (``uint8`` marks, one per choice): a test ballot in test mode, a
        voter's otherwise. Tells whether the device counted it; raises if it refused."""
        service = self._emulator.service
        if isinstance(service, PollbookService):
            raise PollsimError(f"{self._handle.port}: a pollbook takes no ballots")
        return self._act("cast a ballot", lambda: service.cast(marks, as_is=False))

    def _act(self, what: str, step):
        try:
            return step()
        except (DeviceError, RequestRefused) as error:
            raise PollsimError(f"{self._handle.port}: cannot {what}: {error}") from None
