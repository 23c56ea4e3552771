"""The ``night`` section of a scenario: closing, transport of memory cards, county read-in, results.

The unofficial results published that night come before the certified county totals of Miss.
Code §23-15-603. No law or publication gives the night's timings: every value is a setting,
bounded so that the night ends within days (docs/scenarios.md, "Bounds").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pollsim.scenario.day_spec import ServiceTime, _st
from pollsim.scenario.fields import Float, Int, Share, Strict


class Night(Strict):
    """Election night: closing, transport of memory cards, county read-in, unofficial results.

    No published Mississippi timings were found: every value is a setting. A state staff member can
    reach any precinct within 30 minutes (MS SOS 2016), which bounds the technician's trip.
    """

    closing: ServiceTime = _st("gamma", 30.0, 10.0)
    """Closing procedure after the last voter: results tapes, counters against the pollbook, cards sealed."""
    transport: ServiceTime = _st("gamma", 40.0, 20.0)
    """Drive from the polling place to the county office with the sealed cards."""
    transport_by_county: Annotated[dict[str, ServiceTime], Field(max_length=200)] = {}
    """Per-county transport times (county name -> distribution), replacing ``transport``."""
    readers_per_county: Annotated[Int, Field(ge=1, le=100)] = 2
    """Card readers at each county office."""
    read_setup: ServiceTime = _st("gamma", 2.0, 0.5)
    """Per card: unseal, log, insert, verify the results signature."""
    read_bytes_per_second: Annotated[Float, Field(ge=960.0, le=1e9)] = 9216.0
    """Read-in throughput: the serial protocol at 115200 baud, 80 % of 11,520 bytes/s (docs/performance.md).
    From 960 (a 9,600-baud line) to 1e9 bytes/s."""
    publish_every: Annotated[Float, Field(ge=5.0, le=1440.0)] = 30.0
    """Minutes between publications of unofficial results, from the first after polls close (5 minutes to a day)."""
    unreadable_card_rate: Share = 0.002
    """Share of cards that cannot be read: the county re-reads the device over serial, or hand counts its paper."""
    hand_count_share: Share = 0.25
    """Of unreadable cards: share whose paper is hand counted instead of re-read over serial."""
    reread_minutes: ServiceTime = _st("gamma", 45.0, 15.0)
    """Fetching the device and reading it over serial."""
    hand_count_ballots_per_hour: Annotated[Float, Field(ge=10.0, le=10_000.0)] = 300.0
    """A counting team's pace on one contest (a setting), from 10 to 10,000 ballots an hour."""
    duplicate_card_rate: Share = 0.001
    """Share of cards delivered twice (counted once: same device, election and results hash)."""
    missing_card_rate: Share = 0.0005
    """Share of cards never delivered on election night (the precinct is flagged missing)."""
    forged_result_rate: Share = 0.0
    """Share of results payloads failing authentication (rejected and flagged; the device is re-read)."""
    late_precinct_rate: Share = 0.01
    """Share of precincts whose transport takes ``late_factor`` times as long."""
    late_factor: Annotated[Float, Field(ge=1.0, le=10.0)] = 3.0
    """How much longer a late precinct's transport takes (at most 10 times)."""
