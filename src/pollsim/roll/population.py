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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pollsim.roll.calendar import NEVER, day, scheduled_elections
from pollsim.roll.geography import Geography, geography, pick_counties, pick_precincts
from pollsim.roll.rates import Rates, Source
from pollsim.roll.table import AWAY, Notice, Roll, Sentence, Status
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
    lows = np.array([a for a, _ in AGE_SHARES], dtype=np.float64)
    cum = np.cumsum([s for _, s in AGE_SHARES[:-1]])
    x = rng.random(n)
    k8 = np.zeros(n, dtype=np.uint8)
    for edge in cum / cum[-1]:  # searchsorted(edges, x, side="right"): how many edges are <= x
        k8 += x >= edge
    k = np.minimum(k8, len(cum) - 1).astype(np.intp)
    return lows[k] + rng.random(n) * np.diff(lows)[k]


def _first_report(rng: np.random.Generator, when: np.ndarray, sources: Sequence[tuple[int, Source]]) -> tuple[np.ndarray, np.ndarray]:
    """When the first of ``sources`` reports events at ``when`` (NEVER if none does), and which."""
    n = len(when)
    best = np.full(n, NEVER, dtype=np.int64)
    who = np.zeros(n, dtype=np.uint8)
    for code, src in sources:
        hit = rng.random(n, dtype=np.float32) >= np.float32(src.miss)
        at = when + np.ceil(rng.standard_exponential(n, dtype=np.float32) * np.float32(src.delay_days)).astype(np.int64)
        better = hit & (at < best)
        at -= best  # best + (at - best) * better: np.where without a branch per row
        at *= better
        best += at
        step = np.uint8(code) - who  # modulo 256: who + step is code
        step *= better
        who += step
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
        r.last = rng.integers(0, 50, n, dtype=np.uint8)
        r.latent = (rng.standard_normal(n) * self.rates.turnout_spread).astype(np.float32)
        return r

    def _deaths(self, r: Roll, since: np.ndarray) -> None:
        """Death dates from ``since`` on: a Gompertz hazard whose level each year matches the state's deaths.

        The cumulative hazard is piecewise linear in time (constant within a year, for a person of a
        given age it grows by the Gompertz slope a year), so one exponential draw per person, inverted
        through it with ``np.interp``, gives the death date.
        """
        rates, rng = self.rates, self.rng
        by_year = dict(rates.deaths_per_year)
        lows = np.array([a for a, _ in AGE_SHARES], dtype=np.float64)
        shares = np.array([s for _, s in AGE_SHARES[:-1]])
        mid = (lows[:-1] + lows[1:]) / 2
        mean_gompertz = float((shares / shares.sum() * np.exp(rates.gompertz_slope * (mid - 60))).sum())
        y0, y1 = int(str(np.datetime64(self.first, "D"))[:4]), int(str(np.datetime64(self.last, "D"))[:4])
        bounds = np.array([day(f"{y}-01-01") for y in range(y0, y1 + 2)], dtype=np.float64)
        per_day = np.array([by_year.get(y, by_year[2017]) / rates.adults / mean_gompertz * np.exp(rates.gompertz_slope * (y - y0)) / YEAR
                            for y in range(y0, y1 + 1)])  # fmt: skip
        cum = np.concatenate([[0.0], np.cumsum(per_day * np.diff(bounds))])
        scale = np.exp(rates.gompertz_slope * ((bounds[0] - r.birth) / YEAR - 60))  # the person's hazard relative to a 60-year-old
        target = np.interp(since, bounds, cum) + rng.exponential(1.0, r.n) / scale
        death = np.interp(target, cum, bounds)
        r.death = np.where((target < cum[-1]) & (death <= self.last), np.ceil(death), NEVER).astype(np.int32)
        dead = np.flatnonzero(r.death < NEVER)
        r.death_learned[dead], r.death_source[dead] = _first_report(rng, r.death[dead].astype(np.int64),
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
        span = np.maximum(0, np.minimum(r.death, self.last) - since)
        count = rng.poisson(rate * span / YEAR)
        row = np.repeat(np.arange(r.n, dtype=np.int64), count)
        start = np.repeat(np.cumsum(count) - count, count)  # index of the person's first move
        offset_days = (rng.random(len(row)) * span[row]).astype(np.int64)
        offset_days = np.sort(row << 32 | offset_days) & 0xFFFFFFFF  # dates in order within each person
        date = since[row] + offset_days
        u = rng.random(len(row))
        p1, p2 = rates.moves_within_county / rate, (rates.moves_within_county + rates.moves_between_counties) / rate
        kind = (u >= p1).view(np.uint8) + (u >= p2).view(np.uint8)
        kind += np.uint8(1)
        if geo.n_counties == 1:
            kind[kind == MoveKind.COUNTY] = MoveKind.WITHIN
        # no moves after leaving the state
        away = (kind == MoveKind.AWAY).astype(np.int64)
        before = np.cumsum(away) - away
        keep = before == before[start]
        row, date, kind = row[keep], date[keep], kind[keep]
        count = np.bincount(row, minlength=r.n)
        start = np.repeat(np.cumsum(count) - count, count)
        m = len(row)
        # county moves, in order within each person: each starts where the previous one ended
        cm = np.flatnonzero(kind == MoveKind.COUNTY)
        new_county = np.zeros(m, dtype=np.uint8)
        first_cm = np.ones(len(cm), dtype=bool)
        first_cm[1:] = row[cm[1:]] != row[cm[:-1]]
        rank = np.arange(len(cm)) - np.maximum.accumulate(np.where(first_cm, np.arange(len(cm)), 0))
        weights = geo.registered_2020.astype(np.float64)
        uc = rng.random(len(cm))
        for level in range(int(rank.max(initial=-1)) + 1):
            sel = np.flatnonzero(rank == level)
            frm = r.county[row[cm[sel]]] if level == 0 else new_county[cm[sel - 1]]
            new_county[cm[sel]] = pick_counties(weights, uc[sel], frm)
        # every move starts from the county of the person's latest county move before it
        county_move = kind == MoveKind.COUNTY
        last_cm = np.maximum.accumulate(np.arange(1, m + 1) * county_move - 1)  # -1 where not a county move
        prev = np.full(m, -1, dtype=np.int64)
        prev[1:] = last_cm[:-1]
        mine = (prev >= 0) & (prev >= start)
        origin = r.county[row]  # np.where by arithmetic (modulo 256), without a branch per move
        origin += (new_county[np.maximum(prev, 0)] - origin) * mine
        dest_county = origin + (new_county - origin) * county_move
        dest = pick_precincts(geo, dest_county, rng.random(m)).astype(np.int16)
        dest -= (dest - AWAY) * (kind == MoveKind.AWAY)  # AWAY for moves out of the state
        takes = np.array([0.0, rates.moved_updates, rates.moved_reregisters, 0.0]).take(kind)  # WITHIN, COUNTY, AWAY
        own = np.flatnonzero(rng.random(m) < takes)
        self_date = np.full(m, NEVER, dtype=np.int64)
        self_date[own] = date[own] + np.ceil(rng.exponential(rates.self_update_days, len(own)))
        sources = [(Src.DPS, rates.dps), (Src.USPS, rates.usps)]
        learned, source = _first_report(rng, date, sources)
        far = np.flatnonzero(kind == MoveKind.AWAY)
        other, _ = _first_report(rng, date[far], [(Src.OTHER_STATE, rates.other_state)])
        first = other < learned[far]
        source[far[first]] = Src.OTHER_STATE
        learned[far[first]] = other[first]
        return Moves((row + offset).astype(np.int32), date.astype(np.int32), kind, origin, dest,
                     np.minimum(self_date, NEVER).astype(np.int32), learned, source)  # fmt: skip

    def lives(self, r: Roll, since: np.ndarray, offset: int, convict: bool = True) -> Moves:
        """Draw deaths, moves and (if ``convict``) convictions of ``r``'s people from ``since`` on; rows start at ``offset``."""
        self._deaths(r, since)
        moves = self._moves(r, since, offset)
        if convict:
            gone = np.full(r.n, NEVER, dtype=np.int64)
            away = np.flatnonzero(moves.kind == MoveKind.AWAY)
            first = np.ones(len(away), dtype=bool)  # moves are in (person, date) order: a person's first is the earliest
            first[1:] = moves.row[away[1:]] != moves.row[away[:-1]]
            away = away[first]
            gone[moves.row[away] - offset] = moves.date[away]
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
        r.apply = apply.astype(np.int32)
        return _take(r, np.flatnonzero(apply <= self.last))

    def reserve(self, active: np.ndarray, inactive: np.ndarray) -> Roll:
        """Calibration records, added to the November 2020 pollbook (:mod:`pollsim.roll.calibrate`).

        ``active[c]`` people who voted in the 2019 governor's election and left the state in December
        2019 without any source reporting it: no notice could reach them before 2023 (the no-vote rule
        needs two federal generals, or another governor's election, after that vote). ``inactive[c]``
        people sent a notice on a USPS change of address in December 2016 who left and never answered:
        removed at the first systematic run after the 2020 general, with the others of their kind.
        Neither kind votes. So nothing would have happened to these records before the count.
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
            r.first, r.middle, r.last = (rng.integers(0, k, n, dtype=np.uint8) for k in (100, 26, 50))
            r.reg_date = (day("2016-01-01") - (rng.random(n) * 10 * YEAR)).astype(np.int32)
            r.status[:] = status
            r.latent[:] = -10.0
            if status == Status.ACTIVE:
                r.moved[:] = day("2019-12-01")
                r.last_vote[:] = r.activity[:] = day("2019-11-05")
            else:
                r.moved[:] = day("2016-11-01")
                r.notice_date[:] = r.last_notice[:, Notice.NCOA - 1] = day("2016-12-01")
                r.notice_reason[:] = Notice.NCOA
                r.activity[:] = r.reg_date
            r.reserve[:] = True
            parts.append(r)
        return Roll.concat(parts)


def _take(r: Roll, order: np.ndarray) -> Roll:
    out = Roll(0)  # every column is replaced: none filled first
    out.n = len(order)
    for name, col in r.columns().items():
        setattr(out, name, col[order])
    return out


def _statewide_registered() -> int:
    return int(geography().registered_2020.sum())


__all__ = ["Moves", "MoveKind", "Population"]
