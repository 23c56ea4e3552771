"""What the canvass leaves behind: affidavit rulings, the counting after election night, certification.

:class:`CanvassResult` is the canvass stage's record (arrays, one row per item):

- affidavit ballots, in the day's order (the rows of ``ElectionDayRun.layers()["affidavit"]``):
  ``affidavit_precinct`` (``int32``), ``affidavit_status`` (``int8`` RollStatus: the reason the
  voter was given one), ``affidavit_accepted`` (``bool``), ``affidavit_rejection`` (``int8``, index
  in :data:`~pollsim.canvass.affidavit.AFFIDAVIT_REJECTIONS`, -1 accepted), ``affidavit_counted``
  (``bool``: accepted and tabulated; a replay precinct's accepted affidavit ballots are not, see
  :mod:`pollsim.canvass.stage`), ``affidavit_decided`` (``float64`` minutes) and
  ``affidavit_batch`` (``int32`` row of ``batches``, -1 none);
- ``batches`` (:data:`COUNT_DTYPE`): every count that changed the results, in time order: each
  precinct's cards on election night, each absentee batch, each batch of affidavit ballots;
- ``curve``: ``float64[k, 2]`` (time, share of the certified ballots counted): the reporting curve
  from the first publication on election night to the last county's certification;
- per county (``county_names`` order): ``certified_at`` (``float64`` minutes; when the
  commissioners certified), ``commissioner_minutes`` and ``per_diem`` (dollars);
- ``deadline``: minutes at the end of the day the certified returns are due (§23-15-603).

Times are minutes after the start of election day (pollsim.absentee.calendar).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Group(IntEnum):
    """Counting groups of the results (NIST ``CountItemType``: election-day, absentee, provisional)."""

    ELECTION_DAY = 0
    ABSENTEE = 1
    AFFIDAVIT = 2  # provisional


COUNT_DTYPE = np.dtype([("time", "f8"), ("county", "i4"), ("group", "i1"), ("ballots", "i8")])


@dataclass
class CanvassResult:
    """The canvass of one run (see the module docstring)."""

    election_date: dt.date
    county_names: list[str]
    affidavit_precinct: np.ndarray
    affidavit_status: np.ndarray
    affidavit_accepted: np.ndarray
    affidavit_rejection: np.ndarray
    affidavit_counted: np.ndarray
    affidavit_decided: np.ndarray
    affidavit_batch: np.ndarray
    batches: np.ndarray
    curve: np.ndarray
    certified_at: np.ndarray
    commissioner_minutes: np.ndarray
    per_diem: np.ndarray
    deadline: float

    @property
    def late_counties(self) -> list[str]:
        """Counties that certified after the §23-15-603 deadline."""
        return [c for c, t in zip(self.county_names, self.certified_at.tolist(), strict=True) if t > self.deadline]

    def counted_by_precinct(self, n_precincts: int) -> np.ndarray:
        """``int64[n_precincts]``: accepted affidavit ballots tabulated per precinct."""
        return np.bincount(self.affidavit_precinct[self.affidavit_counted], minlength=n_precincts).astype(np.int64)
