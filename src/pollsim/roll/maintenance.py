"""List maintenance as the law runs it (law.md, "Pollbooks and who votes a regular ballot").

The clerk's work on one tick, each step a function of the simulation and the rows the agenda holds:

- **Moves reported.** A voter's own address change within the county updates the precinct; a
  registration in another Mississippi county transfers the record (the old county's is removed,
  reason TRANSFER). DPS and USPS reports of a move within the county update the precinct (52 U.S.C.
  §20507(c)(1)(B)(i)); of a move out of the county or state they queue a confirmation notice, as
  does a report of registration in another state.
- **Deaths** reported by a source remove the record at once (reason DEATH); **convictions**
  certified by the court remove it (reason FELONY) under the earlier law always, under the 2024 bill
  only for a sentence of incarceration or parole still being served; under the 2024 bill a record
  removed for a conviction is reinstated when the sentence is complete (people whose record is gone
  may register again). These are outside the 90-day freeze (§20507(c)(2)(B)).
- **Answers** to a notice: a voter still there, or moved within the county, is active again; one
  who moved away is removed at their request (reason REQUEST).
- **The systematic programme**, only outside the 90-day freeze (:func:`systematic`): once a year the
  no-vote scan (no vote in 3 years including 2 federal general elections, or in 2 years including a
  governor's election and a federal general election); confirmation notices for the queued triggers,
  not again for the same trigger within 6 years of the last, each making the voter inactive
  (§23-15-152(3)); and removal of voters who neither answered nor voted through two federal general
  elections after their notice (reason NO_RESPONSE).
- **Records kept**: a removed record is deleted (PURGED) once two federal general elections have
  passed since its removal (:func:`purge`).

How often a county acts on a trigger is its practice (``Plan.practice``, from the calibration).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from pollsim.roll.calendar import NEVER, NO_DATE, Calendar, latest_plus_years_at_most
from pollsim.roll.population import MoveKind
from pollsim.roll.table import AWAY, Notice, Reason, Source, Status, exponential_days, unique_rows

if TYPE_CHECKING:
    from pollsim.roll.engine import Simulation

# purposes of the keyed random numbers (pollsim.roll.table.uniform)
PRACTICE, ANSWERS, ANSWER_DAYS, RESTORED, RESTORED_DAYS = 11, 12, 13, 14, 15
NOTICE_OF_SOURCE = {Source.USPS: Notice.NCOA, Source.DPS: Notice.MOVE_INFO, Source.OTHER_STATE: Notice.ELSEWHERE}


def moves_happen(sim: Simulation, m: np.ndarray) -> None:
    """People move (the truth; the clerk does not know yet)."""
    if len(m):
        rows, dest = sim.moves.row[m].astype(np.intp), sim.moves.dest[m]
        sim.roll.home[rows] = dest
        sim.roll.hcounty[rows] = sim.home_county(dest)
        sim.roll.moved[rows] = sim.moves.date[m]


def _reactivate(sim: Simulation, rows: np.ndarray, when: int | np.ndarray) -> None:
    r = sim.roll
    was = rows[r.status[rows] == Status.INACTIVE]
    if len(was):
        sim.set_status(was, when if np.ndim(when) == 0 else np.asarray(when)[r.status[rows] == Status.INACTIVE], Status.ACTIVE)
    r.activity[rows] = np.maximum(r.activity[rows], when)


def movers_report(sim: Simulation, m: np.ndarray) -> None:
    """Movers tell the clerk themselves: a new address in the county, or a registration in the new county."""
    if not len(m):
        return
    r, mv = sim.roll, sim.moves
    rows, when, dest, kind = mv.row[m].astype(np.intp), mv.self_date[m], mv.dest[m], mv.kind[m]
    there = (r.home[rows] == dest) & (r.death[rows] > when)
    on = r.on_roll(rows) & (r.county[rows] == mv.origin[m])
    w = np.flatnonzero(there & on & (kind == MoveKind.WITHIN))
    if len(w):
        within = rows[w]
        r.precinct[within] = dest[w]
        _reactivate(sim, within, when[w])
        sim.count("changes", within)
    c = there & (kind == MoveKind.COUNTY) & (r.reg_no[rows] > 0) & ~sim.barred(rows, sim.now)
    if c.any():
        rows, when, dest = rows[c], when[c], dest[c]
        old = rows[r.on_roll(rows)]
        sim.history.log(old, when[r.on_roll(rows)], Status.REMOVED, Reason.TRANSFER, r.county[old])
        sim.count("transfers", old)
        _enroll(sim, rows, when, dest)


def _enroll(sim: Simulation, rows: np.ndarray, when: np.ndarray, precinct: np.ndarray) -> None:
    """Register ``rows`` in ``precinct`` (and its county) on ``when``: active, no removal on the record."""
    r = sim.roll
    r.county[rows] = sim.geo.precinct_county[precinct]
    r.precinct[rows] = precinct
    r.reg_date[rows] = when
    r.removed_reason[rows] = Reason.NONE
    r.removed_date[rows] = NO_DATE
    sim.set_status(rows, when, Status.ACTIVE)
    r.activity[rows] = when
    sim.count("registered", rows)


def register(sim: Simulation, rows: np.ndarray, t: int) -> None:
    """Registration applications received: eligible applicants living in the state are registered."""
    if not len(rows):
        return
    r = sim.roll
    ok = (r.apply[rows] <= t) & ~r.on_roll(rows) & (r.death[rows] > r.apply[rows]) & (r.home[rows] != AWAY)
    rows = rows[ok]
    rows = rows[~sim.barred(rows, t)]
    if not len(rows):
        return
    when = r.apply[rows].copy()
    fresh = rows[r.reg_no[rows] == 0]
    r.reg_no[fresh] = sim._reg_numbers(len(fresh))
    r.restored[rows] = r.conv[rows] <= when
    r.apply[rows] = NEVER
    _enroll(sim, rows, when, r.home[rows])


def answers(sim: Simulation, rows: np.ndarray, t: int) -> None:
    """Answers to confirmation notices come back."""
    if not len(rows):
        return
    r = sim.roll
    rows = rows[(r.status[rows] == Status.INACTIVE) & (r.answer[rows] <= t) & (r.death[rows] > t)]
    if not len(rows):
        return
    sim.count("answered", rows)
    home = r.home[rows]
    here = home >= 0
    same_county = here & (sim.geo.precinct_county[np.maximum(home, 0)] == r.county[rows])
    stay = rows[same_county]
    r.precinct[stay] = r.home[stay]
    _reactivate(sim, stay, t)
    gone = rows[~same_county]
    sim.set_status(gone, t, Status.REMOVED, Reason.REQUEST)
    sim.count("removed_request", gone)


def deaths(sim: Simulation, rows: np.ndarray, t: int) -> None:
    """A source reports a death: the record is removed."""
    if len(rows):
        rows = rows[sim.roll.on_roll(rows)]
        sim.set_status(rows, t, Status.REMOVED, Reason.DEATH)
        sim.count("removed_death", rows)


def convictions(sim: Simulation, rows: np.ndarray, t: int) -> None:
    """A court's certification of a disenfranchising conviction: removed if the law in force bars the person."""
    if len(rows):
        rows = rows[sim.roll.on_roll(rows)]
        rows = rows[sim.barred(rows, t)]
        sim.set_status(rows, t, Status.REMOVED, Reason.FELONY)
        sim.count("removed_felony", rows)


def restore(sim: Simulation, rows: np.ndarray, t: int) -> None:
    """2024 bill: a sentence completed (or, on the day it takes effect, everyone it enfranchises)."""
    r = sim.roll
    if not sim.effective_done:
        sim.effective_done = True
        rows = np.concatenate([rows, np.flatnonzero(r.conv <= t)])
    if not len(rows):
        return
    rows = unique_rows(rows)
    rows = rows[(r.conv[rows] <= t) & ~sim.barred(rows, t) & (r.death[rows] > t)]
    kept = rows[(r.status[rows] == Status.REMOVED) & (r.removed_reason[rows] == Reason.FELONY)]
    r.restored[kept] = True
    r.removed_reason[kept] = Reason.NONE
    r.removed_date[kept] = NO_DATE
    sim.set_status(kept, t, Status.ACTIVE)
    r.activity[kept] = np.maximum(r.activity[kept], t)
    sim.count("reinstated", kept)
    gone = rows[((r.status[rows] == Status.PURGED) | (r.status[rows] == Status.UNREGISTERED)) & (r.home[rows] != AWAY) & (r.apply[rows] == NEVER)]
    again = gone[sim.uniform(RESTORED, gone) < sim.rates.restored_registers]
    r.apply[again] = t + exponential_days(sim.uniform(RESTORED_DAYS, again), 365.25)
    sim.schedule("apply", again, r.apply[again])


def sources_report(sim: Simulation, m: np.ndarray, t: int) -> None:
    """DPS, USPS or another state report a move."""
    if not len(m):
        return
    r, mv = sim.roll, sim.moves
    rows = mv.row[m].astype(np.intp)
    ok = r.on_roll(rows) & (r.county[rows] == mv.origin[m])
    within = mv.kind[m] == MoveKind.WITHIN
    w = np.flatnonzero(ok & within)
    r.precinct[rows[w]] = mv.dest[m[w]]
    sim.count("changes", rows[w])
    away = np.flatnonzero(ok & ~within)
    rows, source = rows[away], mv.source[m[away]]
    for src, notice in NOTICE_OF_SOURCE.items():
        hit = rows[source == src]
        r.pending[hit] |= np.uint8(1 << (notice - 1))
        sim.pending_rows.append(hit)


def no_vote_cutoff(cal: Calendar, t: int) -> int | None:
    """The latest last activity that earns a no-vote notice at the scan of day ``t`` (None: nobody's does).

    No vote in 3 years including 2 federal generals, or in 2 years including a governor's and a federal
    general election, counted after the activity: both rules hold for an activity on a given day and for
    every earlier one, so each is a last day, and the scan sends a notice to active voters whose last
    activity is on or before the later of the two (and at least 2 years ago).
    """
    g, gov = cal.generals, cal.governors
    c, cg = int(np.searchsorted(g, t, side="right")), int(np.searchsorted(gov, t, side="right"))  # elections so far
    last = []
    if c >= 2:  # two federal generals after the activity: it came before the second last one
        last.append(min(latest_plus_years_at_most(t, 3), int(g[c - 2]) - 1))
    if c >= 1 and cg >= 1:
        last.append(min(latest_plus_years_at_most(t, 2), int(g[c - 1]) - 1, int(gov[cg - 1]) - 1))
    return min(t - 730, max(last)) if last else None


def _no_vote_scan(sim: Simulation, t: int) -> None:
    r = sim.roll
    last = no_vote_cutoff(sim.calendar, t)
    if last is None:
        return
    hit = np.flatnonzero((r.activity <= last) & (r.status == Status.ACTIVE))
    r.pending[hit] |= np.uint8(1 << (Notice.NONVOTING - 1))
    sim.pending_rows.append(hit)


def _send_notices(sim: Simulation, t: int) -> None:
    r, rates = sim.roll, sim.rates
    queued = sum(len(x) for x in sim.pending_rows)
    if not queued:
        sim.pending_rows = []
        return
    rows = np.flatnonzero(r.pending) if queued > r.n // 64 else unique_rows(np.concatenate(sim.pending_rows))
    sim.pending_rows = []
    active = rows[r.status[rows] == Status.ACTIVE]
    queued_bits = r.pending[active]  # the loop changes statuses, not ``pending``
    six_years = latest_plus_years_at_most(t, 6)
    for notice in Notice:
        bit = np.uint8(1 << (notice - 1))
        cand = active[(queued_bits & bit) != 0]
        cand = cand[r.status[cand] == Status.ACTIVE]  # not sent a notice for an earlier trigger
        last = r.last_notice[:, notice - 1]  # a view: one column
        cand = cand[last[cand] <= six_years]  # none for this trigger (NO_DATE) or 6 years ago
        acted = sim.uniform(PRACTICE * 10 + notice, cand, t) < sim.practice(cand)
        sent = cand[acted]
        if not len(sent):
            continue
        sim.set_status(sent, t, Status.INACTIVE)
        r.notice_date[sent] = t
        r.notice_reason[sent] = notice
        last[sent] = t
        sim.count("notices", sent)
        sim.count(f"notice_{notice.name.lower()}", sent)
        home = r.home[sent]
        resident = home == r.precinct[sent]
        in_county = (home >= 0) & (sim.geo.precinct_county[np.maximum(home, 0)] == r.county[sent])
        p = np.where(resident, rates.answers_resident, np.where(in_county, rates.answers_moved_in_county, rates.answers_moved_away))
        p = np.where(r.death[sent] > t, p, 0.0)
        back = sent[sim.uniform(ANSWERS, sent, t) < p]
        r.answer[back] = t + exponential_days(sim.uniform(ANSWER_DAYS, back, t), rates.answer_days)
        sim.schedule("answer", back, r.answer[back])
    r.pending[rows] = 0


def systematic(sim: Simulation, t: int) -> None:
    """The systematic programme on the first of a month outside the 90-day freeze."""
    r = sim.roll
    year = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + t).year
    if year != sim.scanned_year:
        sim.scanned_year = year
        _no_vote_scan(sim, t)
    _send_notices(sim, t)
    generals = sim.calendar.generals_before(t)
    if generals != sim.generals_seen:
        sim.generals_seen = generals
        rows = np.flatnonzero((r.status == Status.INACTIVE) & (r.notice_date > NO_DATE) & (r.notice_date < generals[1]))
        sim.set_status(rows, t, Status.REMOVED, Reason.NO_RESPONSE)
        sim.count("removed_no_response", rows)


def purge(sim: Simulation, t: int) -> None:
    """Removed records kept through two federal general elections are deleted."""
    generals = sim.calendar.generals_before(t)
    if generals != sim.purged_at:
        sim.purged_at = generals
        r = sim.roll
        rows = np.flatnonzero((r.status == Status.REMOVED) & (r.removed_date > NO_DATE) & (r.removed_date < generals[1]))
        r.status[rows] = Status.PURGED  # the reason stays on the row, for the measures
        sim.history.log(rows, t, Status.PURGED, Reason.NONE, r.county[rows])
