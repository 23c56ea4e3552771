"""The building blocks of the scenario schema: value types with their bounds, and the model base.

Every number a scenario file can hold is bounded above and below, so that a file that validates
cannot crash or hang ``pollsim run`` (issue 13: "no input makes pollsim print a traceback, hang,
or accept nonsense"); docs/scenarios.md gives each bound and its reason. Numbers are strict:
``true`` is not 1, ``"5"`` is not 5, and ``.inf``/``.nan`` are refused everywhere. Clock times
follow the polling hours of Miss. Code §23-15-581 ("07:00" to "19:00"): HH:MM, 24-hour.

A leaf of the scenario package: it imports nothing from pollsim.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import Strict as StrictType

MAX_MINUTES = 240.0
"""Longest modelled step (a voter's, a poll manager's, a night's): 4 hours."""
MAX_WEIGHT = 1e6
"""Largest relative weight: only ratios matter, and sums of a million such weights stay exact in floats."""
MAX_VOTERS = 100_000
"""Most registered voters in one precinct (the largest Mississippi precinct has under 10,000)."""

Int = Annotated[int, StrictType()]
Float = Annotated[float, StrictType()]  # a whole number is accepted; bool, text and .inf/.nan are not
Bool = Annotated[bool, StrictType()]
Share = Annotated[float, StrictType(), Field(ge=0.0, le=1.0)]
Weight = Annotated[float, StrictType(), Field(ge=0.0, le=MAX_WEIGHT)]
Minutes = Annotated[float, StrictType(), Field(ge=0.0, le=MAX_MINUTES)]
Name = Annotated[str, Field(max_length=200)]
"""Names and titles printed on tapes and ballots."""
Prose = Annotated[str, Field(max_length=20_000)]


class FieldProblem(ValueError):
    """A cross-field check that failed, carrying the path (below the validated model) it concerns."""

    def __init__(self, path: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.path = path


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _clock(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"expected a time as HH:MM, 24-hour (e.g. \"07:00\" or \"19:30\"), got {value!r}")
    return value


ClockTime = Annotated[str, StrictType(), AfterValidator(_clock)]

_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,63}$")


def _ident(value: str) -> str:
    if not _IDENT.match(value):
        raise ValueError(f"expected an id of 1-64 letters, digits, '-', '_', '.' or spaces, starting with a letter or digit; got {value!r}")
    return value


Ident = Annotated[str, StrictType(), AfterValidator(_ident)]


def _date(value: object) -> object:
    """Accept a YAML date or its text; anything else is told as YYYY-MM-DD."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    if type(value) is not dt.date:
        raise ValueError(f"expected a date as YYYY-MM-DD (e.g. 2026-11-03), got {value!r}")
    if not 1900 <= value.year <= 2100:
        raise ValueError(f"{value.isoformat()}: an election date between 1900 and 2100 is expected")
    return value


Date = Annotated[dt.date, BeforeValidator(_date)]


def clock_minutes(hhmm: str) -> float:
    """'07:30' -> 450.0 minutes after midnight."""
    h, m = hhmm.split(":")
    return int(h) * 60.0 + int(m)


def hhmm(minutes: float) -> str:
    """450.0 -> '07:30' (minutes after midnight; later than 24:00 counts on: '25:10')."""
    m = int(round(minutes))
    return f"{m // 60:02d}:{m % 60:02d}"


class Strict(BaseModel):
    """Unknown fields are errors: a misspelt field must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False)
