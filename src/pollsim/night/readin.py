"""The county office on election night, reading the devices over a serial cable.

When a precinct's sealed memory cards reach the county office, or a card will not read and the
unit itself is brought in, an official plugs the county's reader into each unit's service port
and takes what it holds: identity, counters, tally, every cast vote record and every paper
(VVPAT) record, and the event log, results sealed with the election's key. This module does that
with real bytes: for each DRE and precinct scanner of the chosen precincts (BMDs cast nothing
and carry no card), it builds an emulated device (pollsim's firmware,
:class:`~pollsim.emulator.service.DeviceService`, built by
:func:`pollsim.emulator.afterday.device_after_day`) whose memory holds exactly the ballots that
unit took during the simulated day, serves it on a real pseudo-terminal
(:class:`~pollsim.emulator.pty.PtyPort`) and reads it back with the protocol's
:class:`~pollsim.protocol.Client` through pyserial, with the checks of ``pollsim read``
(:func:`pollsim.emulator.read.read_device` and :func:`~pollsim.emulator.read.check_readout`):
every result sealed and genuine, the log's hash chain, public counter = CVRs = paper records,
and the device's tally = the tally of its CVRs.

The emulated unit lives the end of its day as the firmware knows it: loaded with the election,
put in test mode to take the results key, set for the election (zero tape), polls opened with
the election code, the day's ballots recorded in cast order (electronic record and paper record
as the day left them, so a misrecording unit's CVRs still differ from its paper), polls closed
(results tape). Its counters and log are therefore those of a unit that took these ballots; its
clock is the host's (the log shows when the read-in happened).

:func:`read_over_serial` returns what came over the wire; :func:`compare_readin` holds it
against the in-process records device by device; :func:`serial_readin` does both for
``pollsim run --serial K`` and returns the ``serial_readin`` section of summary.json.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import serial

from pollsim.emulator.afterday import FIRMWARE, device_after_day, serve_port
from pollsim.emulator.pty import PtyPort
from pollsim.emulator.read import check_readout, read_device
from pollsim.emulator.service import DeviceService
from pollsim.errors import PollsimError
from pollsim.tabulate.tally import tally_votes

__all__ = ["ReadinError", "compare_readin", "emulated_device", "read_over_serial", "serial_readin"]

WORKERS = 4
"""Devices served and read at once (each on its own pty, with its own server thread)."""

Readin = dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]
"""(precinct index, device id) -> (CVR matrix, paper matrix) as read over the wire."""


class ReadinError(PollsimError):
    """A device that could not be read over serial, or whose readout must not be accepted, or
    that disagrees with the in-process records; one line naming the precinct and device."""


def emulated_device(run, precinct: int, index: int, key: bytes) -> DeviceService:
    """The service port of device ``index`` of precinct ``precinct`` after its day, results
    sealed with ``key`` (:func:`pollsim.emulator.afterday.device_after_day`)."""
    try:
        return device_after_day(run, precinct, index, key)
    except PollsimError as error:
        raise ReadinError(str(error)) from None


def _read_one(run, precinct: int, index: int, key: bytes, reader_key: bytes,
              device: Callable[..., DeviceService]) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Serve one device on its own pty, read and check it, power it off."""
    p = run.precincts[precinct]
    name = f"precinct {p.precinct} {p.devices[index].device_id}"
    service = device(run, precinct, index, key)
    port, stop, thread = PtyPort(), threading.Event(), None
    try:
        thread = threading.Thread(target=serve_port, args=(port, service, stop), name=f"serial read-in {port.path}", daemon=True)
        thread.start()
        try:
            readout = read_device(port.path, key=reader_key)
            checks = check_readout(readout)
        except (PollsimError, serial.SerialException, OSError) as error:
            raise ReadinError(f"serial read-in of {name} refused: {_one_line(error, port.path)}") from None
        assert readout.cvrs is not None and readout.paper is not None and readout.tally is not None
        if not np.array_equal(readout.tally, tally_votes(run.election, readout.cvrs)):
            raise ReadinError(f"serial read-in of {name} refused: {port.path}: the device's tally is not the tally of its CVRs")
        if checks["counts"]["public"] != p.devices[index].public_count:
            raise ReadinError(f"serial read-in of {name} on {port.path}: public counter {checks['counts']['public']}, "
                              f"the day's {p.devices[index].public_count}")  # fmt: skip
        return readout.cvrs, readout.paper
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=10)
        port.close()


def _one_line(error: BaseException, port: str) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if port in text else f"{port}: {text}"


def read_over_serial(
    run,
    precinct_indices: Iterable[int],
    key: bytes,
    *,
    reader_key: bytes | None = None,
    workers: int = WORKERS,
    device: Callable[..., DeviceService] = emulated_device,
) -> Readin:
    """Read every DRE and scanner of the given precincts over a real pty.

    Returns (precinct index, device id) -> (CVR matrix, paper matrix), in precinct then device
    order. The devices seal with ``key``; the county's reader checks the seals with
    ``reader_key`` (default: the same key; another key makes every readout forged). ``device``
    builds each emulated device (default :func:`emulated_device`). Up to ``workers`` devices
    are served and read at once; each pty and server thread is closed when its device is read,
    even on errors. The first failure, in device order, is raised as :class:`ReadinError`
    (one line naming the precinct, the device and the port).
    """
    jobs = [(pi, k) for pi in precinct_indices for k, d in enumerate(run.precincts[pi].devices) if d.kind in FIRMWARE]
    county_key = key if reader_key is None else reader_key
    out: Readin = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="serial read-in") as pool:
        futures: list[Future] = [pool.submit(_read_one, run, pi, k, key, county_key, device) for pi, k in jobs]
        for (pi, k), future in zip(jobs, futures, strict=True):
            try:
                out[(pi, run.precincts[pi].devices[k].device_id)] = future.result()
            except BaseException as error:  # stop what has not started; the rest clean up
                failure = error
                for rest in futures:
                    rest.cancel()
                break
    if failure is not None:
        raise failure
    return out


def compare_readin(run, readin: Readin) -> None:
    """Hold each device's serial readout against the in-process records; raise
    :class:`ReadinError` naming the first precinct and device that differ."""
    for (pi, device_id), (cvr, paper) in readin.items():
        p = run.precincts[pi]
        index = [d.device_id for d in p.devices].index(device_id)
        rows = p.ballot_device == index
        for layer, got, day in (("CVRs", cvr, p.cvr[rows]), ("paper records", paper, p.paper[rows])):
            if got.shape != day.shape:
                raise ReadinError(f"serial read-in: precinct {p.precinct} {device_id}: {len(got)} {layer} read "
                                  f"over serial, {len(day)} in the day's records")  # fmt: skip
            if not np.array_equal(got, day):
                first = int(np.flatnonzero((got != day).any(axis=1))[0])
                raise ReadinError(f"serial read-in: precinct {p.precinct} {device_id}: {layer} read over serial "
                                  f"differ from the day's records (first at row {first})")  # fmt: skip


def serial_readin(run, k: int, key: bytes | None = None) -> dict:
    """``pollsim run --serial K``: read the first ``k`` precincts (scenario order; all of them
    if there are fewer) over serial, compare with the in-process records, and return the
    ``serial_readin`` section of summary.json. ``key`` defaults to a fresh random key (it
    appears nowhere in the run directory)."""
    if k < 0:
        raise ReadinError(f"--serial {k}: the number of precincts to read must be 0 or more")
    k = min(k, len(run.precincts))
    readin = read_over_serial(run, range(k), key if key is not None else secrets.token_bytes(32))
    compare_readin(run, readin)
    return {
        "precincts": k,
        "devices": len(readin),
        "bytes": int(sum(cvr.size for cvr, _ in readin.values())),
        "identical": True,
    }
