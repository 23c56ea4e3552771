"""The county's read station on election night: every unit of a manifest, K reader ports at once.

The county office has a few reader ports and many units to read; each is read and checked as
``pollsim read`` does (:func:`pollsim.emulator.read.read_device` and
:func:`~pollsim.emulator.readout.check_readout`: seals, the log's hash chain, the tally = the
CVRs' count, public counter = CVRs = paper records), and must also be the unit the manifest
says is on that port (IDENTIFY's kind, serial and device id). ``pollsim read --manifest FILE
--ports K`` works through the manifest (:mod:`pollsim.emulator.manifest`) with at most K ports
in use at once, files each unit's readout in ``OUT/PRECINCT/UNIT/`` (the layout of ``pollsim
read``), and sums the tallies per precinct and for the whole manifest into ``OUT/summary.json``:
what the county's §23-15-615 ballot accounting starts from. A unit that cannot be read, or
whose readout fails a check, is one line naming its port and why; the others are still read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import serial

from pollsim.emulator.manifest import ManifestEntry, read_manifest
from pollsim.emulator.read import DEADLINE, read_device, read_seen, write_readout
from pollsim.emulator.readout import ReadError, check_readout
from pollsim.errors import PollsimError
from pollsim.files import atomic_text, one_line

__all__ = ["DeviceRead", "StationResult", "read_station", "station_command"]


@dataclass
class DeviceRead:
    """What the station got from one unit (``error``: why it was not accepted)."""

    entry: ManifestEntry
    public: int = 0
    cvrs: int = 0
    record_bytes: int = 0
    """Bytes of records read: CVRs and paper records (one byte per choice per record) and event
    log entries as sent (their JSON)."""
    tally: np.ndarray | None = None
    seconds: float = 0.0
    error: str | None = None


@dataclass
class StationResult:
    """Every unit of the manifest, in manifest order, and the station's wall time."""

    manifest: Path
    ports: int
    reads: list[DeviceRead]
    seconds: float

    @property
    def failed(self) -> list[DeviceRead]:
        return [r for r in self.reads if r.error is not None]

    @property
    def record_bytes(self) -> int:
        return sum(r.record_bytes for r in self.reads)

    @property
    def goodput(self) -> float:
        """Record bytes (CVRs, paper records, log entries) per second of the station's wall time,
        all ports together."""
        return self.record_bytes / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict:
        """summary.json: per precinct and total tallies of the units accepted, and the failures."""
        precincts: dict[str, dict] = {}
        for r in self.reads:
            row = precincts.setdefault(r.entry.precinct, {"precinct": r.entry.precinct, "county": r.entry.county,
                                                          "devices": 0, "read": 0, "ballots": 0, "tally": None})  # fmt: skip
            row["devices"] += 1
            if r.error is None and r.tally is not None:
                row["read"] += 1
                row["ballots"] += r.public
                row["tally"] = r.tally.astype(np.int64) if row["tally"] is None else row["tally"] + r.tally
        tallies = [row["tally"] for row in precincts.values() if row["tally"] is not None]
        total = np.sum(tallies, axis=0) if tallies else None
        for row in precincts.values():
            row["tally"] = None if row["tally"] is None else [int(v) for v in row["tally"]]
        return {
            "manifest": str(self.manifest), "ports": self.ports, "devices": len(self.reads),
            "read": len(self.reads) - len(self.failed), "failed": [
                {"port": r.entry.port, "precinct": r.entry.precinct, "unit": r.entry.unit, "reason": r.error} for r in self.failed],
            "precincts": list(precincts.values()),
            "totals": {"ballots": sum(r.public for r in self.reads if r.error is None),
                       "tally": None if total is None else [int(v) for v in total]},
            "seconds": round(self.seconds, 3), "record_bytes": self.record_bytes,
            "goodput_bytes_per_second": round(self.goodput, 1),
        }  # fmt: skip


def _check_identity(entry: ManifestEntry, line: int, readout) -> None:
    ident = readout.identity
    for field, got, listed in (("kind", ident.kind, entry.kind), ("serial", ident.serial, entry.serial),
                               ("device_id", ident.device_id, entry.device_id)):  # fmt: skip
        if got != listed:
            raise ReadError(f"{entry.port}: IDENTIFY gives {field} {got}, the manifest's line {line} lists {listed}")


def _read_one(entry: ManifestEntry, line: int, out: Path | None, key: bytes | None, seen: dict[str, int] | None,
              options: dict) -> DeviceRead:  # fmt: skip
    start = time.monotonic()
    result = DeviceRead(entry)
    try:
        readout = read_device(entry.port, key=key, seen=seen, **options)
        checks = check_readout(readout)
        _check_identity(entry, line, readout)
        if out is not None:
            write_readout(readout, checks, out / entry.precinct / entry.unit, key)
    except (PollsimError, serial.SerialException, OSError) as error:
        text = one_line(error)
        result.error = text if entry.port in text else f"{entry.port}: {text}"
    else:
        result.public = readout.counters.public
        result.cvrs = 0 if readout.cvrs is None else len(readout.cvrs)
        result.record_bytes = sum(0 if m is None else m.nbytes for m in (readout.cvrs, readout.paper)) + sum(
            len(event.to_json()) for event in readout.events or ())
        result.tally = None if readout.tally is None else np.asarray(readout.tally, np.int64)
    result.seconds = time.monotonic() - start
    return result


def read_station(manifest: Path, *, ports: int, out: Path | None = None, key: bytes | None = None,
                 seen: dict[str, int] | None = None, chunk: int = 0xFFFF, ack_timeout: float = 0.5,
                 deadline: float = DEADLINE, done: Callable[[DeviceRead], None] | None = None) -> StationResult:  # fmt: skip
    """Read every unit the manifest lists, at most ``ports`` at once; ``done(read)`` is called
    as each finishes. Raises :class:`~pollsim.emulator.manifest.ManifestError` for a bad
    manifest (before any port is opened); a unit that fails is recorded, not raised."""
    if ports < 1:
        raise PollsimError(f"--ports {ports}: the station needs at least one reader port")
    entries = read_manifest(manifest)
    options = {"chunk": chunk, "ack_timeout": ack_timeout, "deadline": deadline}
    start = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=ports, thread_name_prefix="reader port")
    try:
        futures = [pool.submit(_read_one, e, n + 2, out, key, seen, options) for n, e in enumerate(entries)]
        for future in as_completed(futures):
            if done is not None:
                done(future.result())
    finally:  # interrupted: no unit not yet begun is begun
        pool.shutdown(wait=True, cancel_futures=True)
    return StationResult(manifest, ports, [f.result() for f in futures], time.monotonic() - start)


def station_command(manifest: Path, *, ports: int, out: Path | None, key: bytes | None, seen: Path | None,
                    chunk: int, ack_timeout: float, deadline: float) -> int:  # fmt: skip
    """``pollsim read --manifest``: read, check and file every unit; print one line per unit
    that failed and the aggregate; exit status 2 if any failed."""
    import sys

    scopes = read_seen(seen) if seen is not None else None
    if out is not None and out.exists() and not out.is_dir():
        raise PollsimError(f"--out {out}: not a directory")

    def report(r: DeviceRead) -> None:
        if r.error is not None:
            print(f"pollsim: {r.error}", file=sys.stderr, flush=True)

    result = read_station(manifest, ports=ports, out=out, key=key, seen=scopes, chunk=chunk,
                          ack_timeout=ack_timeout, deadline=deadline, done=report)  # fmt: skip
    summary = result.summary()
    if out is not None:
        atomic_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    if seen is not None and scopes is not None and key is not None:
        atomic_text(seen, json.dumps(scopes, indent=2, sort_keys=True) + "\n")
    totals = summary["totals"]
    print(f"{manifest}: {summary['read']} of {summary['devices']} devices read and checked with {ports} ports in "
          f"{result.seconds:.1f} s; {totals['ballots']} ballots in {len(summary['precincts'])} precincts; "
          f"{result.record_bytes} record bytes, {result.goodput:,.0f} B/s"
          f"{f' -> {out}' if out is not None else ''}")  # fmt: skip
    return 2 if result.failed else 0
