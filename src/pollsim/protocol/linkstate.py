"""What the reliable link keeps account of: its port, its errors, its counts, its round trip.

The link (:mod:`pollsim.protocol.link`) runs on any object with the part of ``serial.Serial``
that :class:`SerialPort` names: a real serial port, a Linux pty, the in-memory cable of
:mod:`pollsim.protocol.line`. It reports a peer that stopped answering as a :class:`LinkError`
naming the port and the frame, counts what it saw in :class:`LinkStats`, and times its
retransmissions with :class:`RoundTrip`, the estimator of RFC 6298 (smoothed round trip plus
four times its variation), so that on a fast line a lost frame costs milliseconds and on a slow
one a long frame is not sent twice. Nothing here is prescribed by statute: it carries the
results the county's §23-15-615 accounting uses (docs/protocol.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pollsim.errors import PollsimError

__all__ = ["LinkError", "LinkStats", "RoundTrip", "SerialPort"]

MIN_RTO = 0.02
"""The shortest retransmission timeout (seconds) once a round trip was measured."""


class SerialPort(Protocol):
    """What the link needs of a port: the part of ``serial.Serial`` it uses."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...


class LinkError(PollsimError):
    """The peer stopped answering: names the port and the frame that went unacknowledged."""

    def __init__(self, port: str, seq: int, detail: str):
        self.port = port
        """The port's name (its device path for a serial port)."""
        self.seq = seq
        """Sequence number of the frame in question (0: a SYNC)."""
        super().__init__(f"{port}: frame seq {seq}: {detail}")


@dataclass(slots=True)
class LinkStats:
    """Running counts of what the link has seen, for reports and tests."""

    sent: int = 0
    """Data frames sent (fragments included, retransmissions not)."""
    delivered: int = 0
    """Messages delivered to the caller."""
    retransmissions: int = 0
    """Frames sent again (after a timeout, a NAK or a repeated request)."""
    timeouts: int = 0
    """Retransmissions after a timeout (the only ones that spend ``retries``)."""
    naks: int = 0
    """NAKs received while a frame awaited acknowledgement."""
    duplicates: int = 0
    """Data frames received again and only acknowledged."""
    corrupt: int = 0
    """Runs of bytes rejected as frames (each answered with NAK)."""
    ignored: int = 0
    """Intact frames addressed to another device."""
    abandoned: int = 0
    """Messages given up on (each raised :class:`LinkError`)."""
    stale: int = 0
    """Data frames dropped because they belong to an earlier request or session."""
    reasks: int = 0
    """Requests sent again after a silence with no reply."""
    syncs: int = 0
    """Sessions started (host) or restarted by the peer (device)."""
    pieces: int = 0
    """Compact pieces received intact (L15)."""
    piece_acks: int = 0
    """Acknowledgements of compact pieces received intact (L16)."""
    rejected: int = 0
    """Messages joined from pieces that failed their CRC-32C and were taken again whole (L17)."""


class RoundTrip:
    """The round trip of a link, measured on frames acknowledged at the first try (Karn's
    rule), and the retransmission timeout (RTO) that follows from it."""

    def __init__(self, initial: float):
        self.initial = initial
        """The timeout until a round trip was measured (the link's ``ack_timeout``)."""
        self.smoothed: float | None = None
        self.variation = 0.0

    @property
    def rto(self) -> float:
        """``initial`` until measured, then smoothed + 4 x variation, within
        [:data:`MIN_RTO` (or ``initial`` if shorter), 8 x ``initial``]."""
        if self.smoothed is None:
            return self.initial
        return min(max(self.smoothed + 4 * self.variation, min(MIN_RTO, self.initial)), 8 * self.initial)

    def sample(self, rtt: float) -> None:
        if self.smoothed is None:
            self.smoothed, self.variation = rtt, rtt / 2
        else:
            self.variation = 0.75 * self.variation + 0.25 * abs(self.smoothed - rtt)
            self.smoothed = 0.875 * self.smoothed + 0.125 * rtt
