"""Voters who give up on the check-in line: balking at the door, reneging in line, coming back later.

A voter who reaches the door sees the people waiting for a check-in station and reckons the wait
as (people waiting) x (mean check-in minutes) / (check-in stations); a voter who reckons it longer
than they are willing to wait leaves (balks), and comes back once later or is lost. A voter in the
line whose patience runs out before a poll manager calls them leaves it (reneges). Only the check-in
line: a checked-in voter holds a ballot and votes. The settings and their sources (Economist/YouGov
2020 patience, Lamb 2021, Stein et al. 2020) are in :mod:`pollsim.scenario.plan_spec`.

Lost voters cast no ballot and are no part of the §23-15-615 totals; their ``outcome`` is
``BALKED`` or ``RENEGED`` and their ``wait`` NaN; :func:`lost_voters` counts them per precinct and
hour for summary.json. Each voter's patience, whether they would come
back and after how long are drawn from a child generator of the precinct's (after the one for
incident responses), so turning this on changes no other draw; the day uses them only when the
scenario enables it. The planner's quick lines (:mod:`pollsim.precinct.lines`) apply the same rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from pollsim.precinct.draws import sample_times
from pollsim.precinct.result import Outcome, PrecinctResult
from pollsim.scenario.models import Scenario
from pollsim.scenario.plan_spec import GivingUp

if TYPE_CHECKING:
    from pollsim.precinct.day import PrecinctDay

BALKED, RENEGED = int(Outcome.BALKED), int(Outcome.RENEGED)


def draw_patience(rng: np.random.Generator, spec: GivingUp, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(patience in minutes, inf for never; comes back after balking; minutes until then) of ``n`` voters."""
    p = spec.patience
    if p.distribution == "exponential":
        patience = rng.exponential(p.mean, n)
    else:
        u = rng.random(n)
        limits = np.append(np.array(p.limits, float), np.inf)
        patience = limits[np.searchsorted(np.cumsum(p.shares), u, side="right")]
        if p.distribution == "never":
            patience = np.full(n, np.inf)
    come_back = rng.random(n) < spec.come_back_share
    after = sample_times(rng, spec.come_back_after, n)
    return patience, come_back, after


def checkin_minutes_per_voter(scenario: Scenario, electronic: bool, stations: int) -> float:
    """Minutes of wait a voter reckons for each person waiting: mean check-in time / stations."""
    st = scenario.service_times
    return (st.checkin_electronic if electronic else st.checkin_paper).mean / max(1, stations)


class CheckInLine:
    """The door and the check-in line of a day whose voters may give up (see the module docstring)."""

    def __init__(self, day: PrecinctDay):
        self.day = day
        spec = day.scenario.giving_up
        self.balking, self.reneging = spec.balking, spec.reneging
        self.per_voter = checkin_minutes_per_voter(day.scenario, day.spec.equipment.pollbook == "electronic", day.pools["PB"].units)
        self.returned = [False] * day.draws.n

    def arrive(self, i: int) -> None:
        d = self.day
        now, pb = d.env.now, d.pools["PB"]
        patience = d.patience[i]
        if self.balking and not self.returned[i] and len(pb.waiting) * self.per_voter > patience:
            if d.come_back[i] and now + d.come_back_after[i] < d.t_close:
                self.returned[i] = True  # comes back once, and then joins the line whatever its length
                d.env.after(d.come_back_after[i], i, self.arrive)
            else:
                self.lose(i, BALKED)
            return
        d._t_req[i] = now
        pb.request(i, d._checkin_begin)
        if self.reneging and patience != math.inf and d.checkin_start[i] != d.checkin_start[i]:  # in line
            d.env.after(patience, i, self.renege)

    def renege(self, i: int) -> None:
        d = self.day
        waiting = d.pools["PB"].waiting
        for k, (voter, _) in enumerate(waiting):
            if voter == i:  # still in line (not called to a station): leaves it
                del waiting[k]
                self.lose(i, RENEGED)
                return

    def lose(self, i: int, outcome: int) -> None:
        d = self.day
        d.exit[i] = d.env.now
        d.outcome[i] = outcome


def lost_voters(results: Sequence[PrecinctResult]) -> dict:
    """The voters who gave up, as summary.json keeps them: totals, by hour of arrival (``HH:00``),
    and per precinct that lost any (its balked, reneged and by-hour counts)."""
    by_hour: dict[str, int] = {}
    precincts: dict[str, dict] = {}
    balked = reneged = 0
    for p in results:
        v = p.voters
        gone = v["outcome"] >= BALKED
        if not gone.any():
            continue
        hours: dict[str, int] = {}
        for h, k in zip(*np.unique((v["arrival"][gone] // 60).astype(int), return_counts=True), strict=True):
            hours[f"{h:02d}:00"] = int(k)
            by_hour[f"{h:02d}:00"] = by_hour.get(f"{h:02d}:00", 0) + int(k)
        b, r = int((v["outcome"] == BALKED).sum()), int((v["outcome"] == RENEGED).sum())
        balked, reneged = balked + b, reneged + r
        precincts[p.precinct] = {"balked": b, "reneged": r, "by_hour": hours}
    return {"total": balked + reneged, "balked": balked, "reneged": reneged, "by_hour": dict(sorted(by_hour.items())), "precincts": precincts}
