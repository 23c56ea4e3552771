"""Emulated voting devices on real serial ports: the county's bench, with no hardware on it.

Each emulated device is pollsim's device firmware (pollsim.devices) behind a service port that
speaks the serial protocol of docs/protocol.md, on the device end of a Linux pseudo-terminal or
inside a pyserial URL (``pollsim://``). A test team opens the port with its own reader as it would
a DRE's or a scanner's, and finds a device that lives through a simulated election day.

* :mod:`~pollsim.emulator.service`: the service port's firmware (states, clock, election code,
  results key and seals) over a DRE, scanner or BMD; :mod:`~pollsim.emulator.pollbook`: the
  same over an electronic pollbook;
* :mod:`~pollsim.emulator.pty`: the serial connector on a pty (pacing, line faults, unplugging);
* :mod:`~pollsim.emulator.serve`: the emulated device and its election day (``pollsim serve``);
* :mod:`~pollsim.emulator.read`: the county's reader with its checks (``pollsim read``);
* :mod:`~pollsim.emulator.afterday`: a unit after its simulated day, for the night's read-in;
* :mod:`~pollsim.emulator.county`, :mod:`~pollsim.emulator.manifest`,
  :mod:`~pollsim.emulator.station`: a county's devices at once (``pollsim serve --county``), their
  manifest, and the county's read station (``pollsim read --manifest``).

docs/emulator.md tells a test team how to connect.
"""

from pollsim.emulator.pollbook import PollbookService
from pollsim.emulator.pty import HostLeft, LineFaults, PortStats, PtyPort
from pollsim.emulator.service import DeviceClock, DeviceService

__all__ = [
    "DeviceClock",
    "DeviceService",
    "HostLeft",
    "LineFaults",
    "PollbookService",
    "PortStats",
    "PtyPort",
]
