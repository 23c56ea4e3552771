"""The incident kinds that are silent, without pydantic: the report and the run summary read
them from finished runs without loading the scenario models (issue 12).

A silent incident (misrecording firmware, calibration drift) leaves the unit in service and the
Miss. Code §23-15-615 ballot accounting in balance: only the paper record, audited under
§23-15-617, shows it.
"""

SILENT_KINDS = ("misrecording", "calibration_drift")
"""Incidents that never stop the unit (misrecording firmware, calibration drift): nothing in the room shows them."""
