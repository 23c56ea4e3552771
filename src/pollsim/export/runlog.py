"""A run's device event logs as one NIST SP 1500-101 ``EventLogging.ElectionEventLog`` document.

Built from ``eventlog.npz`` with the helpers of :mod:`pollsim.export.eventlog` (so a log exported
from a run directory and one exported from live devices look the same): each device's entries
become a :class:`~pollsim.devices.eventlog.EventLog`, whose chain hashes are recomputed from the
election definition hash (the genesis) and the entries, and :func:`device_event_log` turns it into
an ``EventLogging.Device``. The device ``Id`` is ``PRECINCT/DEVICE`` (device ids repeat from
precinct to precinct); its ``Type`` is its kind from devices.csv, and a log with no devices.csv
row is the precinct's electronic pollbook (``electronic-poll-book``), the only other device that
keeps a log.

Recomputing a chain proves nothing by itself (any entries hash to some chain), so the last hash
and the entry count of every device in devices.csv (written when the run ended, from the
devices' own logs) must match the recomputed ones; otherwise the run directory was altered and
the export stops with an error naming the device.

Streamed: entries are read a chunk at a time from the npz members and each device is written as
soon as its last entry has been read; memory holds one chunk and one device's log. For speed the
events are written by one string format per event rather than a dict each; it produces exactly
what :func:`device_event_log` does (tests/export checks the two agree), and time stamps are
:func:`~pollsim.export.eventlog.timestamp`'s, cached per whole second.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import IO

import numpy as np

from pollsim.devices.eventlog import EventLog, LogEntry
from pollsim.export.common import generated_time, provenance
from pollsim.export.eventlog import CENTRAL, device_event_log, election_event_log, timestamp
from pollsim.export.jsonstream import Streamed, dumps, jstr, write_document
from pollsim.rundir import CHUNK_ROWS, RunDir, RunDirError

ENTRY_COLUMNS = ("device", "sequence", "time", "type", "disposition", "details")
TABLES = ("device_ids", "types", "dispositions", "details_text")
POLLBOOK_KIND = "electronic-poll-book"


class _Stamps:
    """:func:`timestamp` of simulator-clock times, cached per whole second of election day."""

    def __init__(self, date: str):
        self.date = date
        self.day = dt.datetime.fromisoformat(date).replace(tzinfo=CENTRAL)
        self.cache: dict[int, str] = {}

    def __call__(self, t: float) -> str:
        s = t * 60.0
        f = math.floor(s) if 0.0 <= t < 10 * 24 * 60 else None
        if f is None or s - f < 1e-6 or f + 1 - s < 1e-6:  # Unix time, or too near a second boundary: ask datetime
            return timestamp(t, self.date)
        text = self.cache.get(f)
        if text is None:
            text = self.cache[f] = (self.day + dt.timedelta(seconds=f)).isoformat(timespec="seconds")
        return text


class _DeviceLogs:
    """Turns the entry rows of eventlog.npz into one ``EventLogging.Device`` JSON text per device."""

    def __init__(self, run: RunDir):
        self.run = run
        self.path = run.dir / "eventlog.npz"
        t = run.load_arrays("eventlog.npz", TABLES)
        self.device_ids = [str(x) for x in t["device_ids"]]
        self.types = [str(x) for x in t["types"]]
        self.dispositions = [str(x) for x in t["dispositions"]]
        self.details = [str(x) for x in t["details_text"]]
        self.known = {run.device_path(d): d for d in run.devices}
        self.done: set[int] = set()
        self.events = 0
        self.stamp = _Stamps(run.election.date)
        self.type_json = [jstr(x) for x in self.types]
        self.disposition_json = [jstr(x) for x in self.dispositions]
        self.details_json = [f'"Details":{jstr(x)},' if x else "" for x in self.details]

    def device_json(self, di: int, rows: dict[str, list]) -> str:
        if di in self.done:
            raise RunDirError(self.path, f"the entries of device {self.device_ids[di]!r} are not contiguous")
        self.done.add(di)
        name = self.device_ids[di]
        short = name.split("/", 1)[1] if "/" in name else name
        seq = rows["sequence"]
        if seq != list(range(1, len(seq) + 1)):
            raise RunDirError(self.path, f"device {name!r}: sequence numbers are not 1..{len(seq)}")
        try:
            entries = [
                LogEntry(q, t, short, self.types[ty], self.dispositions[dp], self.details[dt])
                for q, t, ty, dp, dt in zip(seq, rows["time"], rows["type"], rows["disposition"], rows["details"], strict=True)
            ]
        except IndexError as exc:
            raise RunDirError(self.path, f"device {name!r}: an entry's type, disposition or details index is out of range") from exc
        log = EventLog(short, self.run.definition_hash, restored=(entries, []))
        record = self.known.get(name)
        if record is not None and (record.log_entries != len(entries) or record.log_head != log.head):
            raise RunDirError(
                self.path,
                f"device {name!r}: the recomputed log ({len(entries)} entries, head {log.head[:12]}...) does not match devices.csv "
                f"({record.log_entries} entries, head {record.log_head[:12]}...)",
            )
        kind = record.kind if record is not None else POLLBOOK_KIND
        device = device_event_log(EventLog(short, self.run.definition_hash), kind, self.run.election.date)
        device["Id"] = name
        stamp, types, disps, details = self.stamp, self.type_json, self.disposition_json, self.details_json
        events = ",".join(
            f'{{"@type":"EventLogging.Event","Id":{types[ty]},"Sequence":"{q}","TimeStamp":"{stamp(t)}","Type":{types[ty]},'
            f'"Disposition":{disps[dp]},{details[de]}"Hash":"{h}"}}'
            for q, t, ty, dp, de, h in zip(seq, rows["time"], rows["type"], rows["disposition"], rows["details"], log.hashes(), strict=True)
        )
        self.events += len(entries)
        return dumps(device).replace('"Event":[]', f'"Event":[{events}]', 1)

    def chunks(self, chunk: int = CHUNK_ROWS) -> Iterator[list[str]]:
        pending_device = -1
        pending: dict[str, list[np.ndarray]] = {k: [] for k in ENTRY_COLUMNS[1:]}
        for cols in self.run.iter_columns("eventlog.npz", ENTRY_COLUMNS, chunk):
            dev = cols["device"].astype(np.int64)
            if len(dev) and (dev.min() < 0 or dev.max() >= len(self.device_ids)):
                raise RunDirError(self.path, "an entry's device index is out of range")
            lists = {k: cols[k].tolist() for k in ENTRY_COLUMNS[1:]}
            cuts = (np.flatnonzero(dev[1:] != dev[:-1]) + 1).tolist()
            out = []
            for a, b in zip([0, *cuts], [*cuts, len(dev)], strict=True):
                d = int(dev[a])
                if d != pending_device and pending_device >= 0:
                    out.append(self.device_json(pending_device, pending))
                    pending = {k: [] for k in ENTRY_COLUMNS[1:]}
                pending_device = d
                for k in ENTRY_COLUMNS[1:]:
                    pending[k].extend(lists[k][a:b])
            yield out
        if pending_device >= 0:
            yield [self.device_json(pending_device, pending)]
        for di in range(len(self.device_ids)):  # a device with an empty log
            if di not in self.done:
                yield [self.device_json(di, {k: [] for k in ENTRY_COLUMNS[1:]})]
        missing = sorted(set(self.known) - set(self.device_ids))
        if missing:
            raise RunDirError(self.path, f"no log for device {missing[0]!r} of devices.csv")


def write_nist_eventlog(run: RunDir, fh: IO[str]) -> int:
    """Write the election event log to ``fh``; returns the number of events written."""
    logs = _DeviceLogs(run)
    details = f"{provenance(run)}; chains start at election definition sha256 {run.definition_hash}"
    doc = election_event_log(run.election.id, [], generated_time(run), details)
    members = [(k, Streamed(logs.chunks()) if k == "Device" else v) for k, v in doc.items()]
    write_document(fh, members)
    return logs.events
