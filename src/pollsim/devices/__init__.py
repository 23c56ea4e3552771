"""Voting-device firmware shared by the SimPy model and the serial emulator.

DRE units with VVPAT printers, precinct scanners, ballot-marking devices and pollbooks: poll
states, public and protective counters, zero and results tapes, hash-chained event logs, faults.
"""

from pollsim.devices.bmd import BMD
from pollsim.devices.dre import DRE, VVPATPrinter
from pollsim.devices.eventlog import EventLog, LogEntry, verify_chain
from pollsim.devices.firmware import BallotRefused, IllegalTransition, PollState, VotingDevice
from pollsim.devices.pollbook import Pollbook
from pollsim.devices.scanner import PrecinctScanner, ScanOutcome
from pollsim.devices.store import MemoryStore

__all__ = [
    "BMD",
    "DRE",
    "BallotRefused",
    "EventLog",
    "IllegalTransition",
    "LogEntry",
    "MemoryStore",
    "PollState",
    "Pollbook",
    "PrecinctScanner",
    "ScanOutcome",
    "VVPATPrinter",
    "VotingDevice",
    "verify_chain",
]
