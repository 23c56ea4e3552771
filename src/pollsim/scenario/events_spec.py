"""What happens to the poll managers: incidents, injected errors, and the opening and closing procedures.

Incidents take a unit out of service (a technician within 30 minutes, MS SOS 2016) or make it
record wrongly; injected errors leave the Miss. Code §23-15-615 ballot accounting out of balance;
the procedures are the ones poll managers are trained in (§23-15-239).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from pollsim.scenario.fields import MAX_MINUTES, ClockTime, Float, Ident, Int, Share, Strict
from pollsim.scenario.incident_kinds import SILENT_KINDS  # noqa: F401 - defined without pydantic, for the report (issue 12)

IncidentKind = Literal[
    "paper_out", "paper_jam", "printer_cover_open", "scanner_jam", "power_loss", "machine_failure", "pollbook_down",
    "memory_full", "misrecording", "calibration_drift",
]


class Incident(Strict):
    """A device out of service from ``at`` for ``minutes`` (a technician repairs it)."""

    at: ClockTime
    """When it happens (HH:MM, 24-hour); a unit in use goes out when its voter finishes. Between the start
    of the opening procedures (06:00 by default) and the close of the polls: the hours the units are in use."""
    precinct: Ident | None = None
    """Which precinct (may be left out when the scenario has one precinct)."""
    device: Ident
    """Device id as the model names them: DRE-1.., ADA-1.., BOOTH-1.., SCAN-1.., BMD-1.., PB-1.."""
    kind: IncidentKind
    """What went wrong (logged on the device as a fault)."""
    contest: Ident | None = None
    """misrecording only: the contest whose electronic record the firmware changes."""
    share: Share = 1.0
    """misrecording and calibration_drift: share of ballots affected while the fault lasts."""
    to: Ident | None = None
    """misrecording only: the choice the votes are moved to (default: each to the next choice)."""
    response: Literal["repair", "technician", "paper_pollbook"] = "repair"
    """What the poll managers do: ``repair`` (the unit is back after ``minutes``: replace paper, clear
    the jam...), ``technician`` (call the state technician, who arrives within 30 minutes (MS SOS
    2016, travel drawn uniformly 0-30 min), then works ``minutes``), ``paper_pollbook`` (an
    e-pollbook station switches to the paper roster after 5 minutes and checks voters in at
    paper-roster speed until the e-pollbook is back after ``minutes``)."""
    battery_minutes: Annotated[Float, Field(ge=0.0, le=24 * 60)] = 0.0
    """power_loss only: the unit runs on its battery this long before it goes dark (hardware.md: battery
    operation on AC loss; no published runtime, a setting). An outage shorter than that is logged and
    nobody waits."""
    minutes: Annotated[Float, Field(gt=0.0, le=24 * 60)] = 30.0
    """Time until the unit is back (for misrecording and calibration_drift: how long the fault lasts): the state technician arrives within 30 minutes (MS SOS 2016)."""


_DEVICE_ID = re.compile(r"^(DRE|ADA|BOOTH|SCAN|BMD|PB)-(\d+)$")


def parse_device_id(device: str) -> tuple[str, int]:
    """'DRE-2' -> ('DRE', 1): the pool and the 0-based unit index."""
    m = _DEVICE_ID.match(device)
    if not m or int(m.group(2)) < 1:
        raise ValueError(f"device {device!r} is not one of DRE-n, ADA-n, BOOTH-n, SCAN-n, BMD-n, PB-n")
    return m.group(1), int(m.group(2)) - 1


class InjectedError(Strict):
    """A poll-worker or device error that leaves the §23-15-615 totals out of balance."""

    precinct: Ident
    """Which precinct."""
    kind: Literal["pollbook_not_marked", "receipt_not_signed", "ballot_stock_miscounted", "spoiled_not_recorded", "dre_counter_glitch", "lost_paper_ballot"]
    """pollbook_not_marked: voters not marked VOTED; receipt_not_signed: voters who did not sign the
    receipt book; ballot_stock_miscounted: ballots received recorded as ``count`` more than were
    delivered; spoiled_not_recorded: spoiled ballots left off the form; dre_counter_glitch: DRE-1's
    public counter reads ``count`` more than its ballots; lost_paper_ballot: voted paper ballots lost
    before they were counted (paper precincts)."""
    count: Annotated[Int, Field(ge=1, le=10_000)] = 1
    """How many voters or ballots."""


class Step(Strict):
    """One step of a poll managers' procedure and how long it takes."""

    step: Annotated[str, Field(min_length=1, max_length=500)]
    """What the poll managers do."""
    minutes: Annotated[Float, Field(ge=0.0, le=MAX_MINUTES)]
    """How long it takes (a setting: no published timings)."""


def _steps(*pairs: tuple[str, float]) -> list[Step]:
    return [Step(step=s, minutes=m) for s, m in pairs]


class Procedures(Strict):
    """Opening and closing procedures (§23-15-239: poll managers are trained in voting machine
    opening and closing procedures). Opening ends as the polls open; closing starts after the last
    voter. Step times are settings."""

    opening: Annotated[list[Step], Field(max_length=50)] = _steps(
        ("Poll managers arrive and take the oath", 15),
        ("Check and record the seal numbers on every unit and on the ballot box", 10),
        ("Power on every unit; check date, time and the election definition", 10),
        ("Print the zero tapes; check every count is zero; sign and post them", 10),
        ("Record each unit's public and protective counters", 5),
        ("Set out the pollbook, receipt book and affidavit envelopes; show the ballot box empty", 10),
    )
    """Steps before the polls open, in order."""
    closing: Annotated[list[Step], Field(max_length=50)] = _steps(
        ("Close the polls on every unit; print the results tapes; sign and post a copy", 15),
        ("Record the public counters and compare them with the pollbook and the receipt book", 10),
        ("Fill in the ballot accounting form with the §23-15-615 totals", 20),
        ("Remove the memory cards and seal them in the transfer case; record the seal numbers", 10),
        ("Seal unused, spoiled and affidavit ballots in their envelopes", 10),
    )
    """Steps after the last voter, in order."""

    @property
    def opening_minutes(self) -> float:
        return sum(s.minutes for s in self.opening)
