"""A unit after its election day, answering on its service port as the county reads it in.

When a precinct's units reach the county office on election night, each DRE and precinct scanner
holds that day's ballots, its counters and its event log; an official plugs the county's reader
into its service port (the results then feed the §23-15-615 ballot accounting). This module
builds that unit from a simulated day (:func:`device_after_day`: pollsim's firmware,
:class:`~pollsim.emulator.service.DeviceService`, whose memory holds exactly the ballots the unit
took) and answers a port for it (:func:`serve_port`), as ``pollsim serve`` does. Both
``pollsim run --serial K`` (:mod:`pollsim.night.readin`, one device at a time per worker) and
``pollsim serve --county`` (:mod:`pollsim.emulator.county`, a county's devices at once) use it.

The unit lives the end of its day as the firmware knows it: loaded with the election, put in test
mode to take the results key (if there is one), set for the election (zero tape), polls opened
with the election code, the day's ballots recorded in cast order (electronic record and paper
record as the day left them, so a misrecording unit's CVRs still differ from its paper), polls
closed (results tape). BMDs cast nothing and carry no card (the scanner casts their ballots).
"""

from __future__ import annotations

import threading

from pollsim.devices import DRE, PrecinctScanner
from pollsim.devices.store import MemoryStore
from pollsim.emulator.service import DeviceService
from pollsim.errors import PollsimError
from pollsim.protocol import DeviceServer, Link, LinkError

__all__ = ["FIRMWARE", "device_after_day", "serve_port", "serve_session"]

FIRMWARE = {"dre": DRE, "scan-single": PrecinctScanner}
"""Device kinds that carry a memory card -> their firmware (a BMD's cards are cast by the scanner)."""


def device_after_day(run, precinct: int, index: int, key: bytes | None, number: int | None = None) -> DeviceService:
    """The service port of device ``index`` of precinct ``precinct`` (indices into
    ``run.precincts``, an :class:`~pollsim.precinct.election_day.ElectionDayRun`) after its day:
    memory holding exactly that unit's ballots (the rows of the precinct's ``cvr``/``paper`` with
    ``ballot_device == index``, in cast order), results sealed with ``key`` (None: unsealed),
    polls closed. ``number`` is its device id on the wire (default ``index + 1``); its serial
    follows from it."""
    p = run.precincts[precinct]
    record = p.devices[index]
    firmware = FIRMWARE.get(record.kind)
    if firmware is None:
        raise PollsimError(f"precinct {p.precinct} {record.device_id}: a {record.kind} carries no memory card")
    rows = p.ballot_device == index
    cvr, paper = p.cvr[rows], p.paper[rows]
    store = MemoryStore(run.election.width, capacity=max(len(cvr), 1))
    # Device ids on the wire are 1..65534; the firmware keeps its precinct name (DRE-1) in its log.
    device = firmware(record.device_id, run.election, store, precinct=p.precinct)
    service = DeviceService(device, number=index + 1 if number is None else number)
    if key is not None:
        service.load_key(key)  # in test mode, as the technician does during L&A testing
    service.open_polls(service.election_code)  # set for the election, zero tape, polls open
    with service.lock:
        t = service.clock.now()
        for cvr_row, paper_row in zip(cvr, paper, strict=True):
            # The firmware's own recording path (polls-open check, store, "ballot-cast" log
            # entry), given both layers: the scanner's or DRE's front end already ran that day.
            device._record(t, cvr_row, paper_row)
    service.close_polls()  # results tape
    return service


class _Answerer:
    """A device answering on ``port``: a fresh link each time a reader opens the port."""

    def __init__(self, port, service: DeviceService, ack_timeout: float) -> None:
        self.port, self.service, self.ack_timeout = port, service, ack_timeout
        self.session = -1
        self.server: DeviceServer | None = None

    def answer(self) -> None:
        """Serve one request (or wait 50 ms for one)."""
        if self.port.sessions != self.session or self.server is None:
            self.session = self.port.sessions
            link = Link(self.port, device_id=self.service.number, ack_timeout=self.ack_timeout)
            self.server = DeviceServer(link, self.service, signer=self.service.seal)
        server = self.server
        try:
            server.serve_one(0.05)
        except LinkError:  # the reader closed the port mid-conversation
            pass


def serve_port(port, service: DeviceService, stop: threading.Event, ack_timeout: float = 0.25) -> None:
    """Answer ``port`` until ``stop`` (a fresh link each time a reader opens it), as
    ``pollsim serve`` does."""
    device = _Answerer(port, service, ack_timeout)
    while not stop.is_set():
        if port.wait_for_host(0.05):
            device.answer()


def serve_session(port, service: DeviceService, stop: threading.Event, ack_timeout: float = 0.25) -> None:
    """Answer one reader who has just opened ``port``, until that reader closes it (or ``stop``);
    a reader who closes and opens again between two requests gets a fresh link."""
    device = _Answerer(port, service, ack_timeout)
    while not stop.is_set() and port.wait_for_host(0):
        device.answer()
