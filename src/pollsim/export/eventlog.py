"""Device event logs as NIST SP 1500-101 (Election Event Logging) JSON.

Each device becomes an ``EventLogging.Device`` with its events in order; each event carries
its sequence number, time stamp, type, disposition and details, and its chain hash in ``Hash``
(``HashType`` sha-256 on the device: SHA-256 over the previous hash and the entry, see
:mod:`pollsim.devices.eventlog`), so a log collector can re-verify the chain. Nothing in a log
says how anyone voted.

Time stamps: the simulator's clock is minutes after midnight of election day, written as local
Mississippi time on the election date (Central Standard Time, UTC-06:00, in November); the
serial emulator's clock is Unix time, written in UTC.
"""

from __future__ import annotations

from pollsim.devices.eventlog import EventLog
from pollsim.protocol.records import CENTRAL, timestamp  # the one clock format, shared with the devices on the wire

__all__ = ["CENTRAL", "device_event_log", "election_event_log", "timestamp"]


def device_event_log(log: EventLog, kind: str, election_date: str, *, model: str = "", manufacturer: str = "pollsim") -> dict:
    """One device's log as an ``EventLogging.Device`` object."""
    events = [
        {
            "@type": "EventLogging.Event",
            "Id": e.type,
            "Sequence": str(e.sequence),
            "TimeStamp": timestamp(e.time, election_date),
            "Type": e.type,
            "Disposition": e.disposition,
            **({"Details": e.details} if e.details else {}),
            "Hash": h,
        }
        for e, h in zip(log.entries, log.hashes(), strict=True)
    ]
    device = {"@type": "EventLogging.Device", "Id": log.device, "Type": kind, "Manufacturer": manufacturer, "HashType": "sha-256", "Event": events}
    if model:
        device["Model"] = model
    if kind not in _DEVICE_TYPES:
        device["Type"], device["OtherType"] = "other", kind
    return device


def election_event_log(election_id: str, devices: list[dict], generated: str, details: str = "") -> dict:
    """The ``EventLogging.ElectionEventLog`` document around device logs."""
    doc = {"@type": "EventLogging.ElectionEventLog", "ElectionId": election_id, "GeneratedTime": generated, "Device": devices}
    if details:
        doc["Details"] = details
    return doc


_DEVICE_TYPES = {
    "adjudication", "ballot-activation", "ballot-printing", "blank-ballot-printing", "bmd", "dre", "dre-controller",
    "electronic-cast", "electronic-cast-paper", "electronic-poll-book", "ems", "other", "scan-batch", "scan-single",
    "transmission-receiving", "transmission-sending",
}  # fmt: skip
