"""The serial protocol between a host (the county's reader) and an emulated voting device.

Layers, bottom up, one module each:

* :mod:`~pollsim.protocol.line`: the line's noise (per byte, both ways) and a cable in memory;
* :mod:`~pollsim.protocol.cobs`: byte stuffing, so 0x00 can mark where frames end;
* :mod:`~pollsim.protocol.frame`: the frame (header, payload, CRC-32C) and a streaming decoder;
* :mod:`~pollsim.protocol.link`: reliable delivery (sessions, ACK, NAK, adaptive retransmission
  and frame size, deadlines); :mod:`~pollsim.protocol.compact` and
  :mod:`~pollsim.protocol.pieces`: short frames with selective repeat on a noisy line;
* :mod:`~pollsim.protocol.messages`: message types, error codes and the JSON payloads;
  :mod:`~pollsim.protocol.records`: chunks of records, the event log, tallies;
* :mod:`~pollsim.protocol.client` and :mod:`~pollsim.protocol.server`: the two ends of the
  conversation; :mod:`~pollsim.protocol.auth`: sealed results;
* :mod:`~pollsim.protocol.testing`: a pty to test them on.

docs/protocol.md is the specification; firmware_stubs/ holds a C implementation of it. What a
county's reader takes over it feeds the §23-15-615 ballot accounting.
"""

from pollsim.protocol.auth import (
    AlteredResult,
    ForgedResult,
    ReplayedResult,
    ResultAuthError,
    ResultSeal,
    ResultVerifier,
    counter_of,
    sign,
    unseal,
    verify,
)
from pollsim.protocol.client import Client
from pollsim.protocol.cobs import FrameError, FrameFault
from pollsim.protocol.frame import BROADCAST_ID, MAX_PAYLOAD, VERSION, Frame, FrameDecoder
from pollsim.protocol.line import LineFaults, serial_pair
from pollsim.protocol.link import Link, LinkError, LinkStats, SerialPort
from pollsim.protocol.messages import (
    Counters,
    ErrorCode,
    Identity,
    MessageType,
    PayloadError,
    RequestRefused,
    Status,
)
from pollsim.protocol.records import LogEvent, MarksChunk
from pollsim.protocol.server import DeviceHandler, DeviceServer

__all__ = [
    "BROADCAST_ID",
    "MAX_PAYLOAD",
    "VERSION",
    "AlteredResult",
    "Client",
    "Counters",
    "DeviceHandler",
    "DeviceServer",
    "ErrorCode",
    "ForgedResult",
    "Frame",
    "FrameDecoder",
    "FrameError",
    "FrameFault",
    "Identity",
    "LineFaults",
    "Link",
    "LinkError",
    "LinkStats",
    "LogEvent",
    "MarksChunk",
    "MessageType",
    "PayloadError",
    "ReplayedResult",
    "RequestRefused",
    "ResultAuthError",
    "ResultSeal",
    "ResultVerifier",
    "SerialPort",
    "Status",
    "counter_of",
    "serial_pair",
    "sign",
    "unseal",
    "verify",
]
