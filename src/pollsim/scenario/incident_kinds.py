"""The incident kinds that are silent, without pydantic: the report and the run summary read
them from finished runs without loading the scenario models (issue 12)."""

SILENT_KINDS = ("misrecording", "calibration_drift")
"""Incidents that never stop the unit (misrecording firmware, calibration drift): nothing in the room shows them."""
