"""Fixtures for the roll: an empty county to put hand-made people in, and small simulated rolls."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pollsim.roll.calendar import NEVER, day
from pollsim.roll.engine import Plan, Simulation
from pollsim.roll.geography import geography
from pollsim.roll.rates import Law, Rates
from pollsim.roll.table import Notice, Roll, Status

SMALL = ("Issaquena", "Kemper", "Jefferson")
"""Three of the smallest counties (EAVS 2020: 990, 7,953 and 5,779 registrants)."""

QUIET = replace(Rates(), answers_resident=0.0, answers_moved_in_county=0.0, answers_moved_away=0.0)
"""Rates under which nobody answers a notice (so a test decides what happens)."""


class Clerk:
    """A simulation of Issaquena County with nobody in it but the people a test adds."""

    def __init__(self, law: Law = "2024", rates: Rates = QUIET, last: str = "2030-12-31"):
        geo = geography(("Issaquena",))
        self.sim = Simulation(Plan(geo, rates, law, 7, 1e-9, day(last), np.zeros(1, dtype=np.int64), np.ones(1), day("2100-01-01"), day("2100-01-01")))
        assert self.sim.roll.n == 0
        self.precinct = 0

    def add(self, **cols: object) -> int:
        """One person, active and living where registered unless ``cols`` say otherwise; returns the row."""
        r = Roll(1)
        r.status[:] = Status.ACTIVE
        r.reg_date[:] = day("2000-01-02")
        r.birth[:] = day("1960-05-05")
        r.precinct[:] = r.home[:] = self.precinct
        r.latent[:] = -50.0  # never votes
        r.last_vote[:] = r.activity[:] = day("2019-11-05")  # no no-vote notice before 2023
        for name, value in cols.items():
            getattr(r, name)[:] = day(value) if isinstance(value, str) else value
        self.sim.append(r)
        row = self.sim.roll.n - 1
        rows = np.array([row])
        for kind, col in (("death", "death_learned"), ("conviction", "conv_learned"), ("discharge", "end_learned"), ("apply", "apply")):
            if getattr(r, col)[0] != NEVER:
                self.sim.schedule(kind, rows, getattr(r, col))
        return row

    def queue(self, row: int, notice: Notice) -> None:
        """A source reports a trigger for ``row`` now (the notice waits for the next systematic run)."""
        self.sim.roll.pending[row] |= np.uint8(1 << (notice - 1))
        self.sim.pending_rows.append(np.array([row]))

    def run_to(self, date: str) -> None:
        self.sim.run(until=day(date))

    def __getattr__(self, name: str) -> np.ndarray:
        return getattr(self.sim.roll, name)


@pytest.fixture
def clerk() -> Clerk:
    return Clerk()


@pytest.fixture(scope="session")
def small_laws():
    """The three small counties under both laws, 2020-2028, seed 5."""
    from pollsim.roll import compare_laws

    return compare_laws("2020-01-01", "2028-12-31", seed=5, counties=SMALL)
