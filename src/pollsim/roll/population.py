"""The people behind the roll: who is on it when the simulation starts, and what happens to them.

Everything here is drawn once, before the clerk's first day, from the rates of
:class:`~pollsim.roll.rates.Rates` and one seed, and does not depend on the suffrage law, so the
same population can be run under either law. The clerk learns of it only through the sources
(:mod:`pollsim.roll.maintenance`).

- The **registrants** of each county on the first day, all active, living where they are registered
  (the burn-in years before 2020 give the roll its inactive voters and its deadwood).
- **Deaths** with a Gompertz hazard whose level each year matches Mississippi's deaths over its
  adults; each death source (obituaries, DHS, coroners) reports it or not, with its own delay.
- **Moves** as a Poisson process (within the county, to another county, out of the state), each
  reported by the mover or by DPS, USPS or another state, each with its own delay and miss rate.
- **Convictions** of disenfranchising crimes with their sentence type (probation only, jail, prison
  then parole) and the disenfranchised people of earlier years (The Sentencing Project).
- **New registrants**: new residents and new 18-year-olds who register, many just before a
  November election (some after the books close, and so vote by affidavit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollsim.roll.calendar import NEVER, NO_DATE, day, scheduled_elections
from pollsim.roll.geography import Geography, geography, pick_counties, pick_precincts
from pollsim.roll.rates import Rates, Source
from pollsim.roll.table import AWAY, Roll, Sentence, Status
from pollsim.roll.table import Source as Src

YEAR = 365.25
AGE_SHARES = ((18, 0.11), (25, 0.16), (35, 0.16), (45, 0.17), (55, 0.18), (65, 0.13), (75, 0.07), (85, 0.02), (100, 0.0))
"""Registrants by age group on the first day (lower bound, share): close to Mississippi's adults (ACS); a setting."""


class MoveKind:
    WITHIN = 1
    COUNTY = 2
    AWAY = 3


@dataclass
class Moves:
    """Every move, one row each, in (person, date) order."""

    row: np.ndarray  # int32 person
    date: np.ndarray  # int32
    kind: np.ndarray  # uint8 MoveKind
    origin: np.ndarray  # uint8 county moved from
    dest: np.ndarray  # int16 precinct moved to (AWAY)
    self_date: np.ndarray  # int32 the mover tells the clerk (within county) or registers in the new county
    learned: np.ndarray  # int32 first source to report it
    source: np.ndarray  # uint8 Source


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    lows = np.array([a for a, _ in AGE_SHARES])
    shares = np.array([s for _, s in AGE_SHARES[:-1]])
    k = rng.choice(len(shares), size=n, p=shares / shares.sum())
    return lows[k] + rng.random(n) * (lows[k + 1] - lows[k])


def _first_report(rng: np.random.Generator, when: np.ndarray, sources: list[tuple[int, Source]]) -> tuple[np.ndarray, np.ndarray]:
    """When the first of ``sources`` reports events at ``when`` (NEVER if none does), and which."""
    best = np.full(len(when), NEVER, dtype=np.int64)
    who = np.zeros(len(when), dtype=np.uint8)
    ok = when < NEVER
    for code, src in sources:
        hit = ok & (rng.random(len(when)) >= src.miss)
        at = when + np.ceil(rng.exponential(src.delay_days, len(when))).astype(np.int64)
        better = hit & (at < best)
        best = np.where(better, at, best)
        who = np.where(better, code, who)
    return np.minimum(best, NEVER).astype(np.int32), who


class Population:
    """Draws the roll's people for counties ``geo`` between ``first`` and ``last`` (day numbers)."""

    def __init__(self, geo: Geography, rates: Rates, seed: int, first: int, last: int, scale: float):
        self.geo, self.rates, self.first, self.last, self.scale, self.seed = geo, rates, first, last, scale, seed
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 17]))
        self.nov = np.array([e.date for e in scheduled_elections(2015, 2045) if e.federal_general or e.governor], dtype=np.int64)

    # --- building blocks ----------------------------------------------------------------------
    def _people(self, county: np.ndarray, age_at: np.ndarray, ages: np.ndarray) -> Roll:
        rng, n = self.rng, len(county)
        r = Roll(n)
        r.county = county.astype(np.uint8)
        r.precinct = pick_precincts(self.geo, r.county, rng.random(n))
        r.home = r.precinct.copy()
        r.birth = (age_at - np.round(ages * YEAR)).astype(np.int32)
        r.first = rng.integers(0, 100, n, dtype=np.uint8)
        r.middle = rng.integers(0, 26, n, dtype=np.uint8)
        r.last = rng.integers(0, 100, n, dtype=np.uint8)
        r.latent = (rng.standard_normal(n) * self.rates.turnout_spread).astype(np.float32)
        return r

    def _deaths(self, r: Roll, since: np.ndarray) -> None:
        """Death dates from ``since`` on (Gompertz hazard, level per year from the state's deaths)."""
        rates, rng = self.rates, self.rng
        by_year = dict(rates.deaths_per_year)
        lows = np.array([a for a, _ in AGE_SHARES], dtype=np.float64)
        shares = np.array([s for _, s in AGE_SHARES[:-1]])
        mid = (lows[:-1] + lows[1:]) / 2
        mean_gompertz = float((shares / shares.sum() * np.exp(rates.gompertz_slope * (mid - 60))).sum())
        death = np.full(r.n, NEVER, dtype=np.int64)
        y0, y1 = int(str(np.datetime64(self.first, "D"))[:4]), int(str(np.datetime64(self.last, "D"))[:4])
        for year in range(y0, y1 + 1):
            a, b = day(f"{year}-01-01"), day(f"{year + 1}-01-01")
            level = by_year.get(year, by_year[2017]) / rates.adults / mean_gompertz
            age = (a - r.birth) / YEAR
            hazard = np.minimum(0.6, level * np.exp(rates.gompertz_slope * (age - 60)))
            live = (death == NEVER) & (since < b)
            lo = np.maximum(since, a)
            frac = (b - lo) / (b - a)
            dies = live & (rng.random(r.n) < 1 - np.exp(-hazard * frac))
            death = np.where(dies, lo + (rng.random(r.n) * (b - lo)).astype(np.int64), death)
        r.death = np.where(death <= self.last, death, NEVER).astype(np.int32)
        r.death_learned, r.death_source = _first_report(rng, r.death.astype(np.int64),
                                                        [(Src.OBITUARY, rates.obituaries), (Src.DHS, rates.dhs), (Src.CORONER, rates.coroners)])  # fmt: skip

    def _convictions(self, r: Roll, since: np.ndarray, until: np.ndarray) -> None:
        """At most one conviction per person between ``since`` and ``until`` (death or leaving)."""
        rates, rng = self.rates, self.rng
        hazard = rates.convictions_per_year / rates.adults / YEAR
        at = since + np.ceil(rng.exponential(1 / hazard, r.n)).astype(np.int64)
        hit = at < np.minimum(until, self.last)
        self._sentence(r, np.flatnonzero(hit), at[hit])

    def _sentence(self, r: Roll, rows: np.ndarray, at: np.ndarray) -> None:
        rates, rng, k = self.rates, self.rng, len(rows)
        kind = rng.choice(3, size=k, p=np.array(rates.sentence_shares) / sum(rates.sentence_shares)) + 1
        jail = np.ceil(rng.exponential(rates.jail_years * YEAR, k))
        prison = np.ceil(rng.exponential(rates.prison_years * YEAR, k))
        parole = np.ceil(rng.exponential(rates.parole_years * YEAR, k))
        probation = np.ceil(rng.exponential(rates.probation_years * YEAR, k))
        inside = np.select([kind == Sentence.PROBATION, kind == Sentence.JAIL], [0, jail], prison)
        outside = np.select([kind == Sentence.PROBATION, kind == Sentence.JAIL], [probation, 0], parole)
        r.conv[rows] = at
        r.sentence[rows] = kind
        r.release[rows] = np.minimum(at + inside, NEVER)
        r.custody_end[rows] = np.minimum(at + inside + outside, NEVER)
        r.conv_learned[rows] = np.minimum(at + np.ceil(rng.exponential(rates.certification_days, k)), NEVER)
        r.end_learned[rows] = np.minimum(r.custody_end[rows] + np.ceil(rng.exponential(rates.discharge_days, k)), NEVER)

    def _moves(self, r: Roll, since: np.ndarray, offset: int) -> Moves:
        rates, rng, geo = self.rates, self.rng, self.geo
        rate = rates.moves_within_county + rates.moves_between_counties + rates.moves_out_of_state
        span = np.maximum(0, np.minimum(r.death, self.last) - since) / YEAR
        count = rng.poisson(rate * span)
        row = np.repeat(np.arange(r.n, dtype=np.int64), count)
        date = (since[row] + rng.random(len(row)) * span[row] * YEAR).astype(np.int64)
        order = np.lexsort((date, row))
        row, date = row[order], date[order]
        p = np.array([rates.moves_within_county, rates.moves_between_counties, rates.moves_out_of_state]) / rate
        kind = (rng.choice(3, size=len(row), p=p) + 1).astype(np.uint8)
        # no moves after leaving the state
        away_idx = np.where(kind == MoveKind.AWAY, np.arange(len(row)), len(row))
        first_away = np.full(r.n, len(row), dtype=np.int64)
        np.minimum.at(first_away, row, away_idx)
        keep = np.arange(len(row)) <= first_away[row]
        row, date, kind = row[keep], date[keep], kind[keep]
        m = len(row)
        # the county each move starts from: the last county move before it, else the person's county
        origin = r.county[row].astype(np.uint8)
        new_county = np.zeros(m, dtype=np.uint8)
        if geo.n_counties == 1:
            kind = np.where(kind == MoveKind.COUNTY, MoveKind.WITHIN, kind).astype(np.uint8)
        u = rng.random(m)
        pos = np.arange(m) - np.searchsorted(row, row, side="left")  # the move's number in the person's life
        for step in range(int(pos.max(initial=-1)) + 1):
            mine = np.flatnonzero((kind == MoveKind.COUNTY) & (pos == step))
            new_county[mine] = pick_counties(geo.registered_2020.astype(np.float64), u[mine], origin[mine])
            carry = np.full(r.n, -1, dtype=np.int16)
            carry[row[mine]] = new_county[mine]
            follow = (pos > step) & (carry[row] >= 0)
            origin[follow] = carry[row[follow]]
        dest_county = np.where(kind == MoveKind.COUNTY, new_county, origin).astype(np.uint8)
        dest = np.where(kind == MoveKind.AWAY, AWAY, pick_precincts(geo, dest_county, rng.random(m))).astype(np.int16)
        takes = np.where(kind == MoveKind.WITHIN, rates.moved_updates, np.where(kind == MoveKind.COUNTY, rates.moved_reregisters, 0.0))
        own = rng.random(m) < takes
        self_date = np.where(own, date + np.ceil(rng.exponential(rates.self_update_days, m)), NEVER)
        sources = [(Src.DPS, rates.dps), (Src.USPS, rates.usps)]
        learned, source = _first_report(rng, date, sources)
        far = kind == MoveKind.AWAY
        other, _ = _first_report(rng, np.where(far, date, NEVER), [(Src.OTHER_STATE, rates.other_state)])
        source = np.where(far & (other < learned), Src.OTHER_STATE, source).astype(np.uint8)
        learned = np.minimum(learned, other)
        return Moves((row + offset).astype(np.int32), date.astype(np.int32), kind, origin, dest,
                     np.minimum(self_date, NEVER).astype(np.int32), learned, source)  # fmt: skip

    def lives(self, r: Roll, since: np.ndarray, offset: int, convict: bool = True) -> Moves:
        """Draw deaths, moves and (if ``convict``) convictions of ``r``'s people from ``since`` on; rows start at ``offset``."""
        self._deaths(r, since)
        moves = self._moves(r, since, offset)
        if convict:
            gone = np.full(r.n, NEVER, dtype=np.int64)
            np.minimum.at(gone, moves.row - offset, np.where(moves.kind == MoveKind.AWAY, moves.date, NEVER))
            self._convictions(r, since, np.minimum(gone, r.death))
        return moves

    # --- the groups of people -----------------------------------------------------------------
    def registrants(self, sizes: np.ndarray) -> Roll:
        """The roll on the first day: ``sizes[c]`` active registrants per county, living where registered."""
        county = np.repeat(np.arange(len(sizes)), sizes)
        n, rng = len(county), self.rng
        ages = _ages(rng, n)
        r = self._people(county, np.full(n, self.first), ages)
        years_registered = rng.random(n) * (ages - 18)
        r.reg_date = np.minimum(self.first - 40, self.first - np.round(years_registered * YEAR)).astype(np.int32)
        r.status[:] = Status.ACTIVE
        return r

    def disenfranchised(self) -> Roll:
        """People barred by a conviction before the first day (off the roll long since)."""
        rates, rng, geo = self.rates, self.rng, self.geo
        years = (self.first - day("2016-07-01")) / YEAR
        statewide = rates.disenfranchised_2016 + years * (rates.disenfranchised_2020 - rates.disenfranchised_2016) / 4
        w = geo.registered_2020 / max(1, _statewide_registered())
        sizes = np.round(statewide * w * self.scale).astype(np.int64)
        county = np.repeat(np.arange(len(sizes)), sizes)
        n = len(county)
        r = self._people(county, np.full(n, self.first), _ages(rng, n))
        state = rng.choice(3, size=n, p=[rates.incarcerated_share, rates.supervised_share, 1 - rates.incarcerated_share - rates.supervised_share])
        past = self.first - np.ceil(rng.random(n) * 20 * YEAR).astype(np.int64)
        self._sentence(r, np.arange(n), past)
        inside = state == 0
        r.sentence[inside] = Sentence.PRISON_PAROLE
        r.release[inside] = self.first + np.ceil(rng.exponential(rates.prison_years * YEAR, inside.sum()))
        r.custody_end[inside] = r.release[inside] + np.ceil(rng.exponential(rates.parole_years * YEAR, inside.sum()))
        under = state == 1
        r.release[under] = np.minimum(r.release[under], self.first)
        r.custody_end[under] = self.first + np.ceil(rng.exponential(rates.parole_years * YEAR, under.sum()))
        done = state == 2
        r.release[done] = np.minimum(r.release[done], self.first - 1)
        r.custody_end[done] = np.minimum(r.custody_end[done], self.first - 1)
        r.end_learned[:] = np.minimum(r.custody_end.astype(np.int64) + 60, NEVER)
        r.conv_learned[:] = np.minimum(r.conv_learned, self.first - 1)
        return r

    def newcomers(self) -> Roll:
        """New residents and new 18-year-olds who register, from the first day to the last; ``apply`` is when."""
        rates, rng, geo = self.rates, self.rng, self.geo
        per_day = (rates.arrivals_per_year + rates.eighteenth_birthdays_per_year) * rates.registers / YEAR * self.scale
        w = geo.registered_2020 / max(1, _statewide_registered())
        n = int(rng.poisson(per_day * (self.last - self.first) * w.sum()))
        county = pick_counties(w, rng.random(n))
        arrive = self.first + (rng.random(n) * (self.last - self.first)).astype(np.int64)
        young = rng.random(n) < rates.eighteenth_birthdays_per_year / (rates.arrivals_per_year + rates.eighteenth_birthdays_per_year)
        ages = np.where(young, 18.0, 18 + rng.random(n) * 40)
        r = self._people(county, arrive, ages)
        nxt = self.nov[np.searchsorted(self.nov, arrive + rates.surge_window[0], side="left")]
        lo, hi = rates.surge_window
        surge = nxt - hi - (rng.random(n) * (lo - hi)).astype(np.int64)
        later = arrive + np.ceil(rng.exponential(YEAR, n)).astype(np.int64)
        apply = np.where(rng.random(n) < rates.registers_before_general, surge, later)
        keep = np.flatnonzero(apply <= self.last)
        r.apply = apply.astype(np.int32)
        return _take(r, keep[np.argsort(apply[keep], kind="stable")])

    def reserve(self, active: np.ndarray, inactive: np.ndarray) -> Roll:
        """Calibration records: people who left the state before the first day and are still on the roll.

        ``active[c]`` of them last voted in the 2016 general (the no-vote rule cannot reach them before
        2021); ``inactive[c]`` were sent a notice just before the first day (no removal before two more
        federal generals). Nothing happens to either before the November 2020 roll is counted.
        """
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 99]))
        parts = []
        for sizes, status in ((active, Status.ACTIVE), (inactive, Status.INACTIVE)):
            county = np.repeat(np.arange(len(sizes)), sizes)
            n = len(county)
            r = Roll(n)
            r.county = county.astype(np.uint8)
            r.precinct = pick_precincts(self.geo, r.county, rng.random(n))
            r.home[:] = AWAY
            r.birth = (self.first - np.round((25 + rng.random(n) * 50) * YEAR)).astype(np.int32)
            r.first, r.middle, r.last = (rng.integers(0, k, n, dtype=np.uint8) for k in (100, 26, 100))
            r.reg_date = (self.first - 400 - (rng.random(n) * 10 * YEAR)).astype(np.int32)
            r.status[:] = status
            r.moved[:] = day("2016-12-01")
            r.latent[:] = -10.0
            if status == Status.ACTIVE:
                r.last_vote[:] = day("2016-11-08")
                r.activity[:] = day("2016-11-08")
            else:
                r.notice_date[:] = day("2016-12-01")
                r.notice_reason[:] = 1
                r.last_notice[:, 0] = day("2016-12-01")
                r.activity[:] = np.minimum(r.reg_date, day("2012-11-06"))
            r.reserve[:] = True
            parts.append(r)
        return Roll.concat(parts)


def _take(r: Roll, order: np.ndarray) -> Roll:
    out = Roll(len(order))
    for name, col in r.columns().items():
        setattr(out, name, col[order])
    return out


def _statewide_registered() -> int:
    return int(geography().registered_2020.sum())


def last_vote_before(r: Roll, first: int, voted: np.ndarray, when: int) -> None:
    """Set the last vote of rows that voted at ``when`` (an election before the first day)."""
    r.last_vote = np.where(voted, when, r.last_vote).astype(np.int32)
    r.activity = np.maximum(r.activity, np.maximum(r.last_vote, r.reg_date)).astype(np.int32)
    r.activity = np.where(r.reg_date == NEVER, NO_DATE, r.activity).astype(np.int32)


__all__ = ["Moves", "MoveKind", "Population", "last_vote_before"]
