"""Audit boards: the people who pull the drawn paper records and read them aloud (§23-15-617).

In each county the election commissioners, with the circuit clerk as registrar, conduct the
audit. A board of two pulls each drawn ballot from its sealed container, reads the audited
contest from the paper record (the VVPAT record or the paper ballot: the ``paper`` layer of the
run, never the electronic record) and writes down the manual vote record. People misread:
with probability ``error_rate`` a board's reading of a contest on a ballot is wrong, modelled as
one mark toggled on a column of the contest chosen uniformly (a vote moved, added or dropped);
the draws come from a seeded generator so an audit can be replayed.

Labour and money (§23-15-153): boards work ``hours_per_day``; a county's days are its ballots
divided by (boards x ballots per hour x hours), rounded up, and each of its ``commissioners`` is
paid the per diem of $110 a day for audit work (the 2024 bill; law.md). A full manual recount is
costed the same way with its own (faster, sort-and-stack) counting rate. The rates are
assumptions, not measurements: retrieving one particular ballot from a sealed container is slow
(default 30 per board-hour); a full count of one contest stacks ballots by choice (default 250
per board-hour). Change them to match a county's experience.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

PER_DIEM = 110.0  # $ a day, commissioners' audit work (§23-15-153, 2024 bill)


@dataclass(frozen=True)
class AuditBoards:
    """How a county's audit boards read and how fast they work."""

    error_rate: float = 0.0  # chance a board misreads the audited contest on one ballot
    seed: int = 0  # seed of the misreading draws
    audit_ballots_per_hour: float = 30.0  # per board: find a drawn ballot, read one contest
    recount_ballots_per_hour: float = 250.0  # per board: full hand count of one contest
    boards_per_county: int = 2
    hours_per_day: float = 8.0
    commissioners_per_county: int = 5  # the county election commission (law.md)
    per_diem: float = PER_DIEM

    def to_dict(self) -> dict:
        return asdict(self)

    def read(self, paper: np.ndarray, contest_slices: list[slice], rng: np.random.Generator) -> np.ndarray:
        """The manual vote records (``uint8[n, width]``) the boards write for ``paper`` rows:
        the paper record itself, except that each contest of each ballot is misread with
        probability ``error_rate`` (one mark of the contest toggled)."""
        out = np.array(paper, dtype=np.uint8, copy=True)
        if self.error_rate <= 0 or len(out) == 0:
            return out
        for sl in contest_slices:
            k = sl.stop - sl.start
            wrong = np.flatnonzero(rng.random(len(out)) < self.error_rate)
            cols = sl.start + rng.integers(0, k, len(wrong))
            out[wrong, cols] ^= 1
        return out

    def days(self, ballots: int, rate: float) -> int:
        """Days one county's boards need for ``ballots`` at ``rate`` ballots per board-hour."""
        if ballots <= 0:
            return 0
        return math.ceil(ballots / (self.boards_per_county * rate * self.hours_per_day) - 1e-9)

    def workload(self, ballots_per_county: dict[str, int], rate: float) -> dict:
        """Board-hours, county-days and commissioners' per diem for reading ``ballots_per_county``."""
        days = {c: self.days(n, rate) for c, n in ballots_per_county.items()}
        county_days = sum(days.values())
        return {
            "ballots": int(sum(ballots_per_county.values())),
            "counties": len([c for c, n in ballots_per_county.items() if n]),
            "board_hours": round(sum(ballots_per_county.values()) / rate, 2),
            "county_days": county_days,
            "longest_county_days": max(days.values(), default=0),
            "per_diem_cost": round(county_days * self.commissioners_per_county * self.per_diem, 2),
        }

    def audit_workload(self, examined_per_county: dict[str, int]) -> dict:
        return self.workload(examined_per_county, self.audit_ballots_per_hour)

    def recount_workload(self, ballots_per_county: dict[str, int]) -> dict:
        return self.workload(ballots_per_county, self.recount_ballots_per_hour)

    def total(self, audited: dict[str, int], rate: float, everything: dict[str, int], escalated: bool) -> dict:
        """The audit as done (``audited`` ballots per county, read at ``rate`` per board-hour), a
        full manual recount of ``everything``, and the per diem actually incurred (the audit, plus
        the recount when the audit escalated)."""
        done = self.workload(audited, rate)
        full = self.recount_workload(everything)
        cost = done["per_diem_cost"] + (full["per_diem_cost"] if escalated else 0.0)
        return {"audit": done, "full_manual_recount": full, "escalated": escalated, "per_diem_cost": round(cost, 2)}
