"""Exports in the formats other election tools read (NIST SP 1500 common data formats)."""

from pollsim.export.eventlog import device_event_log, election_event_log

__all__ = ["device_event_log", "election_event_log"]
