"""The statewide roll as columns: one row per person, numpy arrays, no Python object per registrant.

A row is a person who is, was or will be on Mississippi's roll in the years simulated: the
registrant as the clerk's record has them (county, precinct, registration date and number, status,
last vote, confirmation notices, removal date and reason) and, beside it, what only the simulator
knows (where the person really lives, whether and when they died, moved or were convicted, and when
each of the clerk's sources reports it). Synthetic identities: names are drawn from the Census
Bureau's common-name lists (``pollsim/data/ms_names_1990_census.csv``), birth dates at random.

Codes are small integers (:class:`Status`, :class:`Reason`, :class:`Notice`, :class:`Sentence`);
dates are day numbers (:mod:`pollsim.roll.calendar`). Random numbers for the clerk's and the
voters' choices come from :func:`uniform`, a counter-based hash of (seed, purpose, row, date): a
person's choice does not depend on who else is in the table, so the same population gives the same
choices under either suffrage law.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import IntEnum

import numpy as np

from pollsim.roll.calendar import NEVER, NO_DATE


class Status(IntEnum):
    """The record's standing on the roll."""

    UNREGISTERED = 0  # not (or not yet) registered
    ACTIVE = 1
    INACTIVE = 2  # sent a confirmation notice (§23-15-152(3)): affidavit ballot only
    REMOVED = 3  # removed, record kept with its reason for two federal general elections
    PURGED = 4  # the removed record deleted after that


class Reason(IntEnum):
    """Why a record was removed."""

    NONE = 0
    DEATH = 1
    FELONY = 2  # court's certification of a disenfranchising conviction
    NO_RESPONSE = 3  # notice neither answered nor followed by a vote through two federal generals
    REQUEST = 4  # the voter answered the notice: moved away
    TRANSFER = 5  # registered in another Mississippi county


class Notice(IntEnum):
    """Triggers of a confirmation notice (law.md); column index of ``last_notice`` is value - 1."""

    NCOA = 1  # USPS change of address
    ELSEWHERE = 2  # registration in another state
    MOVE_INFO = 3  # reliable information of a move (Department of Public Safety)
    NONVOTING = 4  # no vote in 3 years incl. 2 federal generals (or 2 incl. a governor's and a federal)


class Sentence(IntEnum):
    NONE = 0
    PROBATION = 1  # probation only: never removed under the 2024 bill
    JAIL = 2  # incarceration without parole
    PRISON_PAROLE = 3  # incarceration, then parole


class Source(IntEnum):
    """Who told the clerk."""

    NONE = 0
    OBITUARY = 1
    DHS = 2
    CORONER = 3
    DPS = 4
    USPS = 5
    OTHER_STATE = 6
    SELF = 7


AWAY = np.int16(-1)
"""``home`` of a person who has left Mississippi."""
GONE = np.uint8(255)
"""``hcounty`` of a person who has left Mississippi."""


def _dates(n: int, fill: np.int32) -> np.ndarray:
    return np.full(n, fill, dtype=np.int32)


@dataclass
class Roll:
    """The columns (all of length ``n``). Attributes are documented where they are declared."""

    n: int
    # identity (synthetic)
    first: np.ndarray = field(init=False)  # uint8: index into the first-name list
    middle: np.ndarray = field(init=False)  # uint8: middle initial, 0 = A
    last: np.ndarray = field(init=False)  # uint8: index into the surname list
    birth: np.ndarray = field(init=False)  # int32 date of birth
    reg_no: np.ndarray = field(init=False)  # int32 voter registration number (0 until registered)
    # the clerk's record
    county: np.ndarray = field(init=False)  # uint8 county of the record (of residence before registering)
    precinct: np.ndarray = field(init=False)  # int16 precinct of the record (global index)
    status: np.ndarray = field(init=False)  # uint8 Status
    restored: np.ndarray = field(init=False)  # bool: registered again under the 2024 bill after a conviction
    reg_date: np.ndarray = field(init=False)  # int32 registration date (NEVER: not registered)
    apply: np.ndarray = field(init=False)  # int32 next registration application (NEVER: none planned)
    last_vote: np.ndarray = field(init=False)  # int32
    activity: np.ndarray = field(init=False)  # int32 last vote, registration or answer (the no-vote clock)
    notice_date: np.ndarray = field(init=False)  # int32 outstanding confirmation notice (NO_DATE: none)
    notice_reason: np.ndarray = field(init=False)  # uint8 Notice
    last_notice: np.ndarray = field(init=False)  # int32 [n, 4]: last notice per trigger (the 6-year rule)
    pending: np.ndarray = field(init=False)  # uint8 bit mask of triggers learned, notice not yet sent
    answer: np.ndarray = field(init=False)  # int32 date the notice's answer arrives (NEVER: none)
    removed_date: np.ndarray = field(init=False)  # int32
    removed_reason: np.ndarray = field(init=False)  # uint8 Reason
    # the truth, and when each source tells it
    latent: np.ndarray = field(init=False)  # float32 propensity to vote (logit scale)
    home: np.ndarray = field(init=False)  # int16 precinct lived in, AWAY = out of state
    hcounty: np.ndarray = field(init=False)  # uint8 county lived in, GONE = out of state (kept with ``home``)
    moved: np.ndarray = field(init=False)  # int32 date of the last move (NO_DATE: none)
    death: np.ndarray = field(init=False)  # int32 date of death (NEVER)
    death_learned: np.ndarray = field(init=False)  # int32 when the first source reports it
    death_source: np.ndarray = field(init=False)  # uint8 Source
    conv: np.ndarray = field(init=False)  # int32 conviction of a disenfranchising crime (NEVER)
    conv_learned: np.ndarray = field(init=False)  # int32 court's certification reaches the clerk
    sentence: np.ndarray = field(init=False)  # uint8 Sentence
    release: np.ndarray = field(init=False)  # int32 end of incarceration
    custody_end: np.ndarray = field(init=False)  # int32 end of incarceration and parole (or of probation)
    end_learned: np.ndarray = field(init=False)  # int32 the clerk learns the sentence is complete
    reserve: np.ndarray = field(init=False)  # bool: a calibration record (pollsim.roll.calibrate)

    def __post_init__(self) -> None:
        n = self.n
        for name, dtype in (("first", np.uint8), ("middle", np.uint8), ("last", np.uint8), ("county", np.uint8), ("status", np.uint8),
                            ("notice_reason", np.uint8), ("pending", np.uint8), ("removed_reason", np.uint8), ("death_source", np.uint8),
                            ("sentence", np.uint8), ("hcounty", np.uint8), ("reg_no", np.int32), ("precinct", np.int16), ("home", np.int16),
                            ("latent", np.float32), ("restored", np.bool_), ("reserve", np.bool_)):  # fmt: skip
            setattr(self, name, np.zeros(n, dtype=dtype))
        for name in ("birth", "reg_date", "apply", "answer", "death", "death_learned", "conv", "conv_learned", "release", "custody_end", "end_learned"):
            setattr(self, name, _dates(n, NEVER))
        for name in ("last_vote", "activity", "notice_date", "removed_date", "moved"):
            setattr(self, name, _dates(n, NO_DATE))
        self.last_notice = np.full((n, len(Notice)), NO_DATE, dtype=np.int32)

    def columns(self) -> dict[str, np.ndarray]:
        """Every column by name (for writing)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "n"}

    @classmethod
    def concat(cls, parts: list[Roll]) -> Roll:
        """One table of ``parts``, in order; the parts are emptied as their columns are copied (memory)."""
        out = cls(0)
        out.n = sum(p.n for p in parts)
        for name in out.columns():
            setattr(out, name, np.concatenate([getattr(p, name) for p in parts]))
            for p in parts:
                setattr(p, name, None)
        return out

    def listed(self, deadline: int) -> np.ndarray:
        """Mask of the rows in the pollbook of an election whose books closed on ``deadline``."""
        return (self.status - np.uint8(1) <= np.uint8(1)) & (self.reg_date <= deadline)

    def on_roll(self, rows: np.ndarray) -> np.ndarray:
        """Mask: which of ``rows`` are active or inactive records."""
        return self.status[rows] - np.uint8(1) <= np.uint8(1)


def uniform(seed: int, purpose: int, rows: np.ndarray, when: int | np.ndarray = 0) -> np.ndarray:
    """Uniform [0, 1) numbers (float32, 24 bits) keyed by (seed, purpose, row, date): MurmurHash3's finaliser, vectorised."""
    x = np.asarray(rows).astype(np.uint32)
    x *= np.uint32(0x9E3779B1)
    return mixed_uniform(seed, purpose, x, when)


def mixed_uniform(seed: int, purpose: int, mixed: np.ndarray, when: int | np.ndarray = 0, copy: bool = False) -> np.ndarray:
    """:func:`uniform` of rows given as ``uint32(rows) * 0x9E3779B1`` (``mixed``, overwritten unless ``copy``)."""
    key = (seed * 0x2545F4914F6CDD1D + purpose * 0x632BE59BD9B4E019) % 2**32
    add = (np.asarray(when, dtype=np.int64) * 0x85EBCA77 + key).astype(np.uint64).astype(np.uint32) if np.ndim(when) else np.uint32((int(when) * 0x85EBCA77 + key) % 2**32)
    if copy:
        x = mixed + add
    else:
        x = mixed
        x += add
    for shift, mult in ((16, 0x85EBCA6B), (13, 0xC2B2AE35)):
        x ^= x >> np.uint32(shift)
        x *= np.uint32(mult)
    x ^= x >> np.uint32(16)
    x >>= np.uint32(8)
    u = x.astype(np.float32)
    u *= np.float32(1.0 / 2**24)
    return u


def unique_rows(rows: np.ndarray) -> np.ndarray:
    """``np.unique(rows)`` by a sort (numpy's hash-based unique is many times slower on row numbers)."""
    s = np.sort(rows)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def exponential_days(u: np.ndarray, mean: float) -> np.ndarray:
    """Whole days of an exponential delay with ``mean`` days, from uniforms ``u``."""
    return np.ceil(-mean * np.log1p(-u)).astype(np.int32)


__all__ = ["AWAY", "GONE", "NEVER", "NO_DATE", "Notice", "Reason", "Roll", "Sentence", "Source", "Status", "exponential_days", "mixed_uniform", "uniform", "unique_rows"]
