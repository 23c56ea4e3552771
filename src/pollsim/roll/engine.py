"""The clerk's calendar: the roll lived day by day, month by month, election by election.

:class:`Simulation` holds the roll (:class:`~pollsim.roll.table.Roll`), the people's moves, and an
agenda: for every tick (the first of each month and each election day) the rows whose events fall
in it (a move, a registration, an answer to a notice, a source reporting a death). At each tick
the clerk, in this order: records the moves; takes the voters' own address changes and transfers
from other counties; registers the applicants; files the answers to notices; removes the dead and
the convicted as the law then in force says (:mod:`pollsim.roll.maintenance`); acts on moves the
sources report. On an election day the election is held (:mod:`pollsim.roll.vote`). On the first of
a month outside the 90-day freeze the systematic programme runs: the yearly no-vote scan, the
confirmation notices, removals after two federal generals, and the deletion of removed records
kept for two federal generals.

Every status change is logged (row, date, status, reason, county): the roll's history.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np

from pollsim.roll.calendar import NEVER, NO_DATE, Calendar, Election, day, scheduled_elections
from pollsim.roll.geography import Geography
from pollsim.roll.population import Moves, Population
from pollsim.roll.rates import Law, Rates
from pollsim.roll.table import GONE, Notice, Reason, Roll, Sentence, Status, mixed_uniform, uniform

FIRST_DAY = "2018-01-01"
"""The roll is built clean on this day; the years to 2020 give it its inactive voters and deadwood."""

MEASURES = ("notices", "answered", "registered", "transfers", "reinstated", "changes",
            *(f"removed_{r.name.lower()}" for r in Reason if r not in (Reason.NONE, Reason.TRANSFER)),
            *(f"notice_{n.name.lower()}" for n in Notice))  # fmt: skip
"""What the clerk did, counted per county between elections (see :mod:`pollsim.roll.vote`)."""


@dataclass(frozen=True)
class Plan:
    """What a simulation is asked to do (the calibrated part comes from :mod:`pollsim.roll.calibrate`)."""

    geo: Geography
    rates: Rates
    law: Law
    seed: int
    scale: float
    last: int
    sizes: np.ndarray  # registrants per county on the first day
    practice: np.ndarray  # share of notice triggers each county acts on
    record_from: int  # elections from this day to ``last`` are recorded
    record_to: int
    practice_spread: tuple[float, ...] = ()  # calibration only: row r's practice is multiplied by spread[r % len(spread)]


@cache
def _county_of_home(geo: Geography) -> np.ndarray:
    """The county of each precinct, GONE appended (for AWAY, -1)."""
    return np.append(geo.precinct_county, GONE).astype(np.uint8)


@dataclass
class History:
    parts: list[tuple[np.ndarray, np.ndarray, int, int, np.ndarray]] = field(default_factory=list)

    def log(self, rows: np.ndarray, when: int | np.ndarray, status: int, reason: int, county: np.ndarray) -> None:
        """Log a status change of ``rows`` (a date, status and reason the same for all are kept once, spread out by :meth:`arrays`)."""
        if len(rows):
            self.parts.append((rows.astype(np.int32), np.array(when, dtype=np.int32), status, reason, county.astype(np.uint8)))

    def arrays(self) -> dict[str, np.ndarray]:
        names = ("row", "date", "status", "reason", "county")
        if not self.parts:
            return {k: np.zeros(0, np.int32) for k in names}
        sizes = [len(p[0]) for p in self.parts]
        return {"row": np.concatenate([p[0] for p in self.parts]),
                "date": np.concatenate([np.broadcast_to(p[1], (k,)) for p, k in zip(self.parts, sizes, strict=True)]),
                "status": np.repeat(np.array([p[2] for p in self.parts], dtype=np.uint8), sizes),
                "reason": np.repeat(np.array([p[3] for p in self.parts], dtype=np.uint8), sizes),
                "county": np.concatenate([p[4] for p in self.parts])}  # fmt: skip


class Simulation:
    """One roll, one law, one seed: call :meth:`run`."""

    def __init__(self, plan: Plan):
        self.plan, self.geo, self.rates, self.law, self.seed = plan, plan.geo, plan.rates, plan.law, plan.seed
        self.first, self.last = day(FIRST_DAY), plan.last
        self.effective = day(plan.rates.effective) if plan.law == "2024" else int(NEVER)
        self.calendar = Calendar(scheduled_elections(2014, int(str(np.datetime64(self.last, "D"))[:4])))
        self.elections = [e for e in self.calendar.elections if self.first < e.date <= self.last]
        pop = Population(plan.geo, plan.rates, plan.seed, self.first, self.last, plan.scale)
        reg = pop.registrants(plan.sizes)
        stock = pop.disenfranchised()
        new = pop.newcomers()
        moves = [pop.lives(reg, np.full(reg.n, self.first, np.int64), 0),
                 pop.lives(stock, np.full(stock.n, self.first, np.int64), reg.n, convict=False),
                 pop.lives(new, new.apply.astype(np.int64), reg.n + stock.n)]  # fmt: skip
        self.population = pop
        self.roll = Roll.concat([reg, stock, new])
        self.roll.hcounty = self.home_county(self.roll.home)
        self.moves = Moves(*(np.concatenate([getattr(m, f) for m in moves]) for f in Moves.__dataclass_fields__))
        del moves, reg, stock, new
        self.next_reg_no = 100_001
        r = self.roll
        registered = r.status != Status.UNREGISTERED
        r.reg_no[registered] = self._reg_numbers(int(registered.sum()))
        months = np.arange(np.datetime64(FIRST_DAY, "M"), np.datetime64(self.last, "D").astype("datetime64[M]") + 1)
        ticks = set(months.astype("datetime64[D]").astype(np.int64).tolist()) | {e.date for e in self.elections}
        self.ticks = np.array(sorted(t for t in ticks if self.first <= t <= self.last), dtype=np.int64)
        self.month_tick = set(months.astype("datetime64[D]").astype(np.int64).tolist())
        self.now = self.first
        self.tick_of = np.searchsorted(self.ticks, np.arange(self.first, self.last + 1), side="left").astype(np.int16)
        self.agenda: dict[str, dict[int, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
        rows = np.arange(r.n, dtype=np.int64)
        for kind, dates in (("apply", r.apply), ("death", r.death_learned), ("conviction", r.conv_learned), ("discharge", r.end_learned)):
            self.schedule(kind, rows, dates)
        m = np.arange(len(self.moves.row), dtype=np.int64)
        for kind, dates in (("move", self.moves.date), ("self", self.moves.self_date), ("learned", self.moves.learned)):
            self.schedule(kind, m, dates)
        self.history = History()
        self.counts = np.zeros((self.geo.n_counties, len(MEASURES)), dtype=np.int64)
        self.scanned_year = 0
        self.generals_seen: tuple[int, int] = (int(NO_DATE), int(NO_DATE))
        self.purged_at: tuple[int, int] = (int(NO_DATE), int(NO_DATE))
        self.effective_done = False
        self.next_tick = 0
        self.sink: Callable[[Any], None] | None = None  # takes each ElectionRecord as it is made (pollsim.roll.store)
        self.pending_rows: list[np.ndarray] = []  # rows whose ``pending`` bits were set since the last notices
        self._rows = np.zeros(0, dtype=np.int64)
        self._rows_mixed = np.zeros(0, dtype=np.uint32)
        self._latent_bin = np.zeros(0, dtype=np.uint16)
        self.records: list = []  # ElectionRecord of each recorded election (pollsim.roll.vote)
        from pollsim.roll.vote import votes_before

        votes_before(self, [e for e in self.calendar.elections if e.date < self.first and (e.federal_general or e.governor)][-2:])

    # --- bookkeeping --------------------------------------------------------------------------
    def _reg_numbers(self, k: int) -> np.ndarray:
        out = np.arange(self.next_reg_no, self.next_reg_no + k, dtype=np.int32)
        self.next_reg_no += k
        return out

    def schedule(self, kind: str, rows: np.ndarray, dates: np.ndarray) -> None:
        """Put ``rows`` on the agenda at the first tick on or after each of ``dates`` (NEVER: not at all)."""
        dates = np.asarray(dates)
        ok = np.flatnonzero((dates >= self.now) & (dates <= self.last))
        if not len(ok):
            return
        k = self.tick_of[np.subtract(dates[ok], self.first, dtype=np.intp)]  # the first tick on or after each date
        rows = np.asarray(rows).astype(np.int32)[ok][np.argsort(k, kind="stable")]  # by tick, in order within one
        ends = np.cumsum(np.bincount(k))
        for tick in np.flatnonzero(np.diff(ends, prepend=0)).tolist():
            self.agenda[kind][tick].append(rows[ends[tick - 1] if tick else 0 : ends[tick]])

    def take(self, kind: str, k: int) -> np.ndarray:
        """The rows (or moves) on the agenda of tick ``k`` for ``kind``, as indices (``intp``: kept as int32)."""
        parts = self.agenda[kind].pop(k, [])
        return np.concatenate(parts).astype(np.intp) if parts else np.zeros(0, dtype=np.intp)

    def count(self, measure: str, rows: np.ndarray) -> None:
        if len(rows):
            per_county = np.bincount(self.roll.county[rows], minlength=self.geo.n_counties)
            self.counts[:, MEASURES.index(measure)] += per_county
            if not measure.startswith("notice_"):
                self.counts[:, MEASURES.index("changes")] += per_county

    def set_status(self, rows: np.ndarray, when: int | np.ndarray, status: Status, reason: Reason = Reason.NONE) -> None:
        r = self.roll
        r.status[rows] = status
        if status == Status.REMOVED:
            r.removed_date[rows] = when
            r.removed_reason[rows] = reason
            r.notice_date[rows] = NO_DATE
            r.answer[rows] = NEVER
        elif status == Status.ACTIVE:
            r.notice_date[rows] = NO_DATE
            r.answer[rows] = NEVER
            r.pending[rows] = 0
        self.history.log(rows, when, status, reason, r.county[rows])

    def in_force_2024(self, t: int) -> bool:
        return t >= self.effective

    def barred(self, rows: np.ndarray | slice, t: int) -> np.ndarray:
        """Disenfranchised at ``t`` under the law in force then."""
        r = self.roll
        convicted = r.conv[rows] <= t
        if not self.in_force_2024(t):
            return convicted
        return convicted & (r.sentence[rows] != Sentence.PROBATION) & (r.custody_end[rows] > t)

    def fork(self, law: Law) -> Simulation:
        """An independent copy of this simulation, from now on under ``law``."""
        sink, self.sink = self.sink, None
        twin = copy.deepcopy(self)
        self.sink = sink
        twin.plan = replace(self.plan, law=law)
        twin.law = law
        twin.effective = day(self.rates.effective) if law == "2024" else int(NEVER)
        return twin

    def practice(self, rows: np.ndarray) -> np.ndarray:
        """The share of notice triggers the county of each row acts on."""
        base = self.plan.practice[self.roll.county[rows]]
        if not self.plan.practice_spread:
            return base
        spread = np.asarray(self.plan.practice_spread)
        return np.minimum(base * spread[rows % len(spread)], 1.0)

    def home_county(self, home: np.ndarray) -> np.ndarray:
        """The county of each precinct in ``home`` (GONE for AWAY)."""
        return _county_of_home(self.geo)[home]  # AWAY (-1) reads the last entry, GONE

    @property
    def latent_bin(self) -> np.ndarray:
        """Each person's propensity to vote, binned (pollsim.roll.vote), cached: it never changes."""
        if len(self._latent_bin) != self.roll.n:
            from pollsim.roll.vote import latent_bins

            self._latent_bin = latent_bins(self.roll.latent, self.rates.turnout_spread)
        return self._latent_bin

    def recording(self, e: Election) -> bool:
        return self.plan.record_from <= e.date <= self.plan.record_to

    def append(self, rows: Roll) -> None:
        """Add people with no events of their own (the calibration's records) at the end of the table."""
        rows.hcounty = self.home_county(rows.home)
        for name, col in rows.columns().items():  # one column at a time: the old one is freed at once
            setattr(self.roll, name, np.concatenate([getattr(self.roll, name), col]))
        self.roll.n += rows.n
        fresh = rows.status != Status.UNREGISTERED
        self.roll.reg_no[self.roll.n - rows.n :][fresh] = self._reg_numbers(int(fresh.sum()))

    def uniform(self, purpose: int, rows: np.ndarray, when: int | np.ndarray = 0) -> np.ndarray:
        return uniform(self.seed, purpose, rows, when)

    def uniform_all(self, purpose: int, when: int) -> np.ndarray:
        """:meth:`uniform` of every row (the rows' hashed numbers cached)."""
        if len(self._rows_mixed) != self.roll.n:
            self._rows_mixed = np.arange(self.roll.n, dtype=np.uint32) * np.uint32(0x9E3779B1)
        return mixed_uniform(self.seed, purpose, self._rows_mixed, when, copy=True)

    @property
    def rows(self) -> np.ndarray:
        """Every row number (cached)."""
        if len(self._rows) != self.roll.n:
            self._rows = np.arange(self.roll.n, dtype=np.int64)
        return self._rows

    # --- the loop -----------------------------------------------------------------------------
    def run(self, before_election: Callable[[Simulation, Election], None] | None = None, until: int | None = None) -> None:
        """Live the roll from the first day to the last (or ``until``); ``before_election`` sees each pollbook before the votes."""
        from pollsim.roll import maintenance as mt
        from pollsim.roll.vote import hold_election

        by_date = {e.date: e for e in self.elections}
        stop = self.last if until is None else until
        for k in range(self.next_tick, len(self.ticks)):
            t = int(self.ticks[k])
            if t > stop:
                break
            self.next_tick = k + 1
            self.now = t
            mt.moves_happen(self, self.take("move", k))
            mt.movers_report(self, self.take("self", k))
            mt.register(self, self.take("apply", k), t)
            mt.answers(self, self.take("answer", k), t)
            mt.deaths(self, self.take("death", k), t)
            mt.convictions(self, self.take("conviction", k), t)
            if self.in_force_2024(t):
                mt.restore(self, self.take("discharge", k), t)
            else:
                self.take("discharge", k)
            mt.sources_report(self, self.take("learned", k), t)
            if t in by_date:
                if before_election is not None:
                    before_election(self, by_date[t])
                hold_election(self, by_date[t])
            if t in self.month_tick and not self.calendar.frozen(t):
                mt.systematic(self, t)
            mt.purge(self, t)
