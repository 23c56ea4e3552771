"""A serial connector on the emulated device: the device end of a Linux pseudo-terminal.

A real voting device has a UART behind its service port: bytes leave at the line's speed, a bad
cable flips or loses some of them, the reader may unplug and plug back in at any moment, and when
the device loses power its port goes dead. :class:`PtyPort` gives an emulated device that
connector on a pseudo-terminal, whose other end (:attr:`PtyPort.path`, e.g. ``/dev/pts/7``) any
reader opens as it would a serial port. It follows the serial facts measured on these machines
(/work/shared/docs/hardware.md, "Serial facts measured on these machines"):

* *A pty ignores the baud rate*: with ``baud`` the output is paced to ``baud / 10`` bytes per
  second (8N1: a start bit, 8 data bits, a stop bit), as a UART would send it.
* *Parity and byte size are forced to 8N1*: line noise is injected as corrupted bytes instead,
  in both directions, with pollsim's one fault model (:class:`~pollsim.protocol.line.LineFaults`:
  that share of the bytes has one random bit flipped, that share is lost, drawn per byte from a
  seeded numpy Generator per direction so a run can be repeated): on what the device sends as it
  leaves, on what the reader sends as the device reads it.
* *About 18-20 KB fit in the kernel buffer; device writers must not block*: the master end is
  non-blocking; what the kernel cannot take waits in a bounded queue that a transmitter thread
  drains, and bytes beyond the bound are lost (counted), as in an overrun UART FIFO.
* *When the host closes, the device sees EIO and must wait for the next open, not die*: the port
  notices the hang-up, drops what it was sending, and waits for the next reader
  (:meth:`PtyPort.wait_for_host`); reads and writes meanwhile raise :class:`HostLeft`, so the
  device abandons the conversation at once.
* *Closing the device side gives the host the same errors as a real USB unplug*: :meth:`close`
  is the emulator's power loss.

A symlink (``link``) names the port for readers that want a stable path; it is replaced
atomically and removed when the port closes. The results read over this port feed the county's
§23-15-615 ballot accounting.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import struct
import termios
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path

from pollsim.files import atomic_symlink
from pollsim.protocol.frame import MAX_PAYLOAD
from pollsim.protocol.line import LineFaults
from pollsim.protocol.link import LinkError

__all__ = ["HostLeft", "LineFaults", "PortStats", "PtyPort"]

OUTPUT_LIMIT = 4 * (MAX_PAYLOAD + 300)
"""Bytes the output queue holds beyond the kernel's buffer: four of the largest frames."""

_QUANTUM = 0.004
"""Seconds of line time the paced transmitter hands to the kernel at once."""


class HostLeft(LinkError):
    """The reader closed the port (or has not opened it): the conversation is over."""

    def __init__(self, port: str):
        super().__init__(port, 0, "the host closed the port")


@dataclass(slots=True)
class PortStats:
    """What happened to the bytes on this port."""

    sent: int = 0
    """Bytes the device wrote (what the line did to them: ``PtyPort.faults.to_host``)."""
    overflowed: int = 0
    """Bytes lost because the output queue was full (the reader did not read)."""
    discarded: int = 0
    """Bytes written while no reader had the port open, or left unsent when it closed."""
    hangups: int = 0
    """Times the reader closed the port."""


class PtyPort:
    """The device end of a new pty; readers open :attr:`path` (or the symlink ``link``).

    Offers what :class:`~pollsim.protocol.link.Link` needs of a port (``timeout``,
    ``in_waiting``, ``read``, ``write``), plus :meth:`wait_for_host` and :attr:`sessions`.
    """

    def __init__(
        self,
        *,
        link: str | Path | None = None,
        baud: int | None = None,
        faults: LineFaults | None = None,
        output_limit: int = OUTPUT_LIMIT,
    ):
        if baud is not None and baud <= 0:
            raise ValueError(f"baud rate {baud} is not positive")
        self._fd, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        """The port for the host, such as /dev/pts/7."""
        os.close(slave)  # held by no one: the master sees the host's opens and closes
        fcntl.fcntl(self._fd, fcntl.F_SETFL, fcntl.fcntl(self._fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        self.name = self.path
        self.timeout: float | None = None
        self.baud = baud
        self.faults = faults or LineFaults()
        self.stats = PortStats()
        self.sessions = 0
        """How many times a reader has opened the port."""
        self.connected = False
        """Whether a reader has the port open now."""
        self._rate = baud / 10 if baud else None  # bytes per second, 8N1
        self._limit = output_limit
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN)
        self._out = bytearray()
        self._queued = 0  # bytes ever queued, and ever handed to the kernel (or given up)
        self._done = 0
        self._line_free = 0.0  # monotonic time at which the paced line is idle again
        self._generation = 0  # bumped when a reader leaves: what was being sent is void
        self._ready = threading.Condition()
        self._closed = False
        self._transmitter = threading.Thread(target=self._transmit, name=f"tx {self.path}", daemon=True)
        self._transmitter.start()
        self.link = Path(link) if link is not None else None
        """The symlink that names the port (None: none)."""
        if self.link is not None:
            atomic_symlink(self.path, self.link)

    # -- the reader comes and goes -------------------------------------------------------------
    def _hung_up(self) -> bool:
        """Whether no reader has the port open (the master then polls POLLHUP)."""
        events = self._poller.poll(0)
        return bool(events and events[0][1] & (select.POLLHUP | select.POLLERR))

    def _arrived(self) -> None:
        self.connected = True
        self.sessions += 1

    def _left(self) -> None:
        with self._ready:
            if self.connected:
                self.stats.hangups += 1
            self.connected = False
            self.stats.discarded += len(self._out)
            self._out.clear()
            self._generation += 1
            self._done = self._queued
            self._ready.notify_all()

    def wait_for_host(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a reader to have the port open; tell whether one has."""
        deadline = time.monotonic() + timeout
        while not self._closed:
            if not self._hung_up():
                if not self.connected:
                    self._arrived()
                return True
            if self.connected:
                self._left()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, 0.02))
        return False

    def fileno(self) -> int:
        """The master's descriptor, for a caller watching many ports with one poll() (it polls
        POLLHUP while no reader has the port open)."""
        return self._fd

    # -- the Link's side -----------------------------------------------------------------------
    @property
    def in_waiting(self) -> int:
        try:
            count: int = struct.unpack("i", fcntl.ioctl(self._fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        except OSError:
            return 0
        return count

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: returns when the reader had sent that many (fewer arrive if the
        line drops some) or ``timeout`` passed. Raises :class:`HostLeft` if the reader closes the
        port (or has not opened it)."""
        if not self.connected:
            raise HostLeft(self.name)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        out, taken = bytearray(), 0  # what arrived, and what the reader sent (the line may drop some)
        while taken < size:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            events = self._poller.poll(None if left is None else left * 1000)
            if not events:
                break
            if events[0][1] & select.POLLIN:
                try:
                    sent = os.read(self._fd, size - taken)
                    taken += len(sent)
                    out += self.faults.to_device.apply(sent)
                    continue
                except BlockingIOError:
                    continue
                except OSError as error:
                    if error.errno != errno.EIO:
                        raise
            self._left()  # POLLHUP, or EIO: the reader closed the port
            if out:
                break
            raise HostLeft(self.name)
        return bytes(out)

    def write(self, data: bytes) -> int:
        """Queue ``data`` for the line; never waits for the reader. Paced, it returns once the
        bytes have left at the line's speed, as a UART's driver does. Raises
        :class:`HostLeft` when no reader has the port open."""
        if not self.connected:
            self.stats.discarded += len(data)
            raise HostLeft(self.name)
        size = len(data)
        self.stats.sent += size
        data = self.faults.to_host.apply(bytes(data))
        with self._ready:
            if self._rate is None and not self._out:
                data = data[self._write_now(data) :]
            room = self._limit - len(self._out)
            if len(data) > room:
                self.stats.overflowed += len(data) - room
                data = data[:room]
            self._out += data
            self._queued += len(data)
            mark = self._queued
            self._ready.notify_all()
            if self._rate is not None:
                line_time = len(self._out) / self._rate
                self._ready.wait_for(lambda: self._done >= mark or self._closed, timeout=line_time + 1.0)
        return size

    def _write_now(self, data: bytes) -> int:
        """Hand the kernel what it takes of ``data`` now; tell how much."""
        try:
            return os.write(self._fd, data)
        except BlockingIOError:
            return 0
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            return len(data)  # the reader just left: lost with it

    def _transmit(self) -> None:
        """Drain the output queue into the kernel: paced to the line's rate, or as fast as the
        reader reads."""
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._out or self._closed)
                if self._closed:
                    return
                step = len(self._out) if self._rate is None else max(1, int(self._rate * _QUANTUM))
                chunk = bytes(self._out[:step])
                generation = self._generation
            if self._rate is not None:
                now = time.monotonic()
                if self._line_free > now:
                    time.sleep(self._line_free - now)
            sent = self._write_now(chunk)
            if self._rate is not None and sent:
                # A sleep that overran is made up (up to one quantum), so the line keeps its
                # average rate as a UART's clock does.
                self._line_free = max(self._line_free, time.monotonic() - _QUANTUM) + sent / self._rate
            with self._ready:
                if generation == self._generation:
                    del self._out[:sent]
                    self._done += sent
                    self._ready.notify_all()
            if not sent:
                select.select([], [self._fd], [], 0.02)

    def close(self) -> None:
        """Power off: the reader sees the port vanish, as on a USB unplug."""
        if self._closed:
            return
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._transmitter.join()
        os.close(self._fd)
        if self.link is not None:
            try:
                if os.readlink(self.link) == self.path:
                    self.link.unlink()
            except OSError:
                pass

    def __enter__(self) -> PtyPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
