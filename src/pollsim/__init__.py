"""pollsim: a poll-place hardware and tabulation simulator.

A precinct's election day is simulated in SimPy (voters, pollbooks, DRE units with VVPAT printers,
marking booths, precinct scanners and ballot-marking devices); the devices are emulated down to
their counters, tapes and event logs; the results flow on to election night, reconciliation
(Miss. Code §23-15-615) and risk-limiting audits (§23-15-617).

Importing pollsim registers its pyserial URL handler: ``serial.serial_for_url("pollsim://dre")``
opens an emulated device in-process (pollsim.urlhandler.protocol_pollsim).
"""

import serial as _serial

__version__ = "0.1.0"

if "pollsim.urlhandler" not in _serial.protocol_handler_packages:
    _serial.protocol_handler_packages.append("pollsim.urlhandler")
