"""What absentee voting leaves behind: the envelopes, the counted ballots, the batches and the board's work.

:class:`AbsenteeRun` is the typed record at the boundary between the absentee stage and the rest of
the chain (the day's pollbooks, reconciliation, canvass, exports). Bulk data are numpy arrays:

- ``envelopes``: one row per envelope the registrar received (:data:`ENVELOPE_DTYPE`): accepted,
  rejected with a reason (§23-15-641), or late (kept, not counted, §23-15-647);
- ``intent``, ``paper``, ``cvr``: ``uint8[n, width]``, one row per ballot tabulated on the county's
  absentee equipment, in batch order (columns as :attr:`Election.columns`); ``ballot_precinct``
  (``int32``), ``ballot_batch`` (``int32``, row of ``batches``), ``ballot_envelope`` (``int32``, row
  of ``envelopes``; -1 for a ballot fed through the scanner a second time, which has no paper);
- ``batches``: one row per batch of the ballot manifest (:data:`BATCH_DTYPE`);
- per precinct (``int64`` unless said): ``applications``, ``sent`` (ballots mailed or handed
  out), ``not_returned``, ``receipt_entries`` (voters the board entered in the receipt book: the
  absentee part of §23-15-615(1)(b)), ``voted_ab`` (voters the pollbook marks VOTED AB),
  ``at_polls`` (``float64``: VOTED AB voters expected at the polls) and ``at_polls_accepted``
  (``float64``: the share of them whose absentee ballot was accepted);
- per county: ``applications_by_reason`` (``int64[n_counties, reasons]``), the board's
  ``board_minutes``, ``scan_minutes``, ``board_days`` and ``per_diem`` (dollars), ``scanner``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Kind(IntEnum):
    """How the absentee ballot was cast."""

    MAIL = 0
    IN_PERSON = 1  # at the registrar's office, into the sealed box (§23-15-637(1)(b))
    UOCAVA = 2  # military and overseas voters


class Status(IntEnum):
    """What the resolution board made of an envelope."""

    ACCEPTED = 0
    REJECTED = 1
    LATE = 2  # received after the five-business-day limit: kept, not counted (§23-15-647)


ENVELOPE_DTYPE = np.dtype(
    [
        ("precinct", "i4"),  # index in the scenario's precincts
        ("kind", "i1"),  # Kind
        ("reason", "i1"),  # index in APPLICATION_REASONS; -1: UOCAVA (no excuse needed)
        ("received", "f8"),  # minutes after the start of election day (negative: before)
        ("status", "i1"),  # Status
        ("rejection", "i1"),  # index in REJECTION_REASONS; -1: none
        ("cured", "?"),  # a signature mismatch the voter cured within 10 days
        ("processed", "f8"),  # when the board accepted or rejected it (NaN: late, never opened)
        ("counted", "f8"),  # when its ballot was tabulated (NaN: not counted)
    ]
)

BATCH_DTYPE = np.dtype(
    [
        ("county", "i4"),  # index in AbsenteeRun.county_names
        ("number", "i4"),  # the batch's number within its county, from 1
        ("ballots", "i4"),
        ("day", "i2"),  # 0: counted on election day; k: on the k-th business day after
        ("ready", "f8"),  # when its last envelope was accepted
        ("counted", "f8"),  # when it was tabulated
    ]
)

PRECINCT_FIELDS = ("applications", "sent", "not_returned", "receipt_entries", "voted_ab", "at_polls", "at_polls_accepted")
COUNTY_FIELDS = ("board_minutes", "scan_minutes", "board_days", "per_diem")


@dataclass
class AbsenteeRun:
    """Absentee voting of one run (see the module docstring)."""

    election_date: dt.date
    precinct_ids: list[str]
    precinct_county: np.ndarray  # int32[n_precincts]: index in county_names
    county_names: list[str]
    scanner: list[str]  # per county: hand-fed or central
    envelopes: np.ndarray
    intent: np.ndarray
    paper: np.ndarray
    cvr: np.ndarray
    ballot_precinct: np.ndarray
    ballot_batch: np.ndarray
    ballot_envelope: np.ndarray
    batches: np.ndarray
    per_precinct: dict[str, np.ndarray]
    applications_by_reason: np.ndarray
    per_county: dict[str, np.ndarray]

    @property
    def n_ballots(self) -> int:
        return len(self.cvr)

    def tabulated(self) -> np.ndarray:
        """``int64[n_precincts]``: absentee ballots of each precinct in the count (§23-15-615(1)(f))."""
        return np.bincount(self.ballot_precinct, minlength=len(self.precinct_ids)).astype(np.int64)

    def batch_id(self, row: int) -> str:
        """The manifest name of batch ``row``: ``COUNTY/AB-0001``."""
        b = self.batches[row]
        return f"{self.county_names[int(b['county'])]}/AB-{int(b['number']):04d}"

    def counts_by(self, field: str, codes: int) -> np.ndarray:
        """``int64[codes]``: envelopes by a coded field (``kind``, ``status``, ``rejection``)."""
        values = self.envelopes[field].astype(np.int64)
        return np.bincount(values[values >= 0], minlength=codes).astype(np.int64)
