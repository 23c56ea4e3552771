"""A pseudo-terminal to test the protocol on, as a reader would open a real serial port.

:class:`PseudoTerminal` is the device end of a Linux pty: serve a device on it, and open
``path`` with pyserial from the host side. Its far end is held open, so the device end keeps
working while no host has the port open. For a cable in memory, with line noise both ways, use
:func:`pollsim.protocol.line.serial_pair`; for an emulated device's connector (pacing, noise,
unplugging), :class:`pollsim.emulator.pty.PtyPort`. No socket is involved: voting devices are
air-gapped, and the results read over these ports feed the §23-15-615 ballot accounting.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import termios
import time
import tty

__all__ = ["PseudoTerminal"]


class PseudoTerminal:
    """The device (master) end of a new pty in raw mode; the host opens :attr:`path`.

    The pty's other end is held open too, so the device end keeps working (no EIO) while no
    host has the port open, as a real device's port would.
    """

    def __init__(self) -> None:
        self._fd, self._held = os.openpty()
        tty.setraw(self._held)
        self.path = os.ttyname(self._held)
        """Device path for the host, such as /dev/pts/7."""
        self.name = self.path
        self.timeout: float | None = None

    @property
    def in_waiting(self) -> int:
        count: int = struct.unpack("i", fcntl.ioctl(self._fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        return count

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: blocks until that many arrived or ``timeout`` passed."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        out = bytearray()
        while len(out) < size:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not select.select([self._fd], [], [], left)[0]:
                break
            out += os.read(self._fd, size - len(out))
        return bytes(out)

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        return len(data)

    def close(self) -> None:
        os.close(self._fd)
        os.close(self._held)

    def __enter__(self) -> PseudoTerminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
