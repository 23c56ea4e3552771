"""Who is at each post, minute by minute: the posts a polling place's staff can keep open.

Each precinct scanner needs a poll manager beside it and each check-in station a poll manager or
clerk at the table, who also handles affidavit envelopes (§23-15-573); a bailiff keeps order at
the door and keeps no station. People come and go (:class:`~pollsim.scenario.staff_spec.Person`);
during a break a free person takes over, so a post closes only when there are fewer hands than
posts: the scanners are kept first (a ballot box is never left alone), then the check-in stations
in order, so the last stations close first. After the polls close whoever is there serves the
voters still in line (§23-15-581), so no post stays closed past the close.

Before the polls open the staff do the opening procedures (§23-15-239: voting machine opening
procedures; the scenario's ``procedures.opening``), whose minutes are written for
``staff.opening_hands`` people: with fewer hands they take longer, and the units cannot open
before they are done. :func:`staff_day` works all this out for one precinct as a :class:`StaffDay`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pollsim.scenario.models import PrecinctSpec, Scenario, clock_minutes
from pollsim.scenario.staff_spec import Break, Crew, Person

NEVER = float("inf")


@dataclass(frozen=True)
class StaffDay:
    """One precinct's staffing: when the units may open, and each unit's closed times."""

    people: tuple[Person, ...]
    t_open: float  # when the polls should open (§23-15-541)
    ready: float  # when the opening procedures are done (minutes after midnight)
    opens: float  # when the units open: the later of the two (at the latest when the polls close)
    closed: dict[str, tuple[tuple[tuple[float, float], ...], ...]]  # pool -> per unit its (start, end) closed times

    @property
    def late(self) -> float:
        """Minutes the polls opened late for want of staff."""
        return max(0.0, self.opens - self.t_open)

    def closures(self, pool: str) -> tuple[tuple[tuple[float, float], ...], ...]:
        return self.closed.get(pool, ())


def crew(spec: PrecinctSpec, c: Crew, managers: int | None = None) -> tuple[Person, ...]:
    """The crew of a precinct without a roster: ``managers`` (default: one per post and one to
    relieve breaks), bailiffs, arriving together, breaks one after another from ``breaks_from``."""
    eq = spec.equipment
    posts = eq.pollbook_stations + (eq.scanners if eq.kind == "paper" else 0)
    count = managers if managers is not None else (c.managers if c.managers is not None else posts + 1)
    start = clock_minutes(c.breaks_from)
    people = []
    for k in range(count):
        breaks = [Break(at=_hhmm(start + k * c.break_minutes), minutes=c.break_minutes)] if c.break_minutes > 0 else []
        people.append(Person(name=f"Poll manager {k + 1}", role="manager", certified=c.certified, arrives=c.arrives, breaks=breaks))
    people += [Person(name=f"Bailiff {k + 1}", role="bailiff", certified=False, arrives=c.arrives) for k in range(c.bailiffs)]
    return tuple(people)


def _hhmm(minutes: float) -> str:
    m = int(minutes) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def precinct_people(scenario: Scenario, spec: PrecinctSpec, managers: int | None = None) -> tuple[Person, ...]:
    """The precinct's roster, or its crew (``managers`` poll managers if given)."""
    staff = scenario.staff
    assert staff is not None
    for r in staff.rosters:
        if r.precinct == spec.id:
            return tuple(r.people)
    return crew(spec, staff.crew, managers)


def staff_day(scenario: Scenario, spec: PrecinctSpec, managers: int | None = None) -> StaffDay:
    """When the precinct's units may open and when each post is closed for want of staff."""
    staff = scenario.staff
    assert staff is not None
    people = precinct_people(scenario, spec, managers)
    t_open, t_close = clock_minutes(scenario.polls.open), clock_minutes(scenario.polls.close)
    work = scenario.procedures.opening_minutes * staff.opening_hands
    ready = _opening_done([p for p in people if p.role != "bailiff"] or list(people), work, t_open)
    opens = min(max(t_open, ready), t_close)  # no hands to open with: the county's staff arrive by the close at the latest
    eq = spec.equipment
    scanners = eq.scanners if eq.kind == "paper" else 0
    times = sorted({opens, t_close} | {t for p in people for t in _changes(p) if opens < t < t_close})
    closed: dict[str, list[list[tuple[float, float]]]] = {"PB": [[] for _ in range(eq.pollbook_stations)], "SCAN": [[] for _ in range(scanners)]}
    for a, b in zip(times, times[1:], strict=False):
        managers_on = sum(1 for p in people if p.role == "manager" and _on_duty(p, a))
        clerks_on = sum(1 for p in people if p.role == "clerk" and _on_duty(p, a))
        scan_open = min(scanners, managers_on)
        pb_open = min(eq.pollbook_stations, clerks_on + managers_on - scan_open)
        for pool, units, open_ in (("SCAN", scanners, scan_open), ("PB", eq.pollbook_stations, pb_open)):
            for u in range(open_, units):
                spans = closed[pool][u]
                if spans and spans[-1][1] == a:
                    spans[-1] = (spans[-1][0], b)
                else:
                    spans.append((a, b))
    for per_unit in closed.values():  # closed when the polls open: closed from the start (never handed to the morning line)
        for u, spans in enumerate(per_unit):
            if spans and spans[0][0] == opens:
                per_unit[u] = [(0.0, spans[0][1]), *spans[1:]]
    return StaffDay(people, t_open, ready, opens, {pool: tuple(tuple(s) for s in per_unit) for pool, per_unit in closed.items()})


def _changes(p: Person) -> list[float]:
    out = [clock_minutes(p.arrives)]
    if p.leaves is not None:
        out.append(clock_minutes(p.leaves))
    for b in p.breaks:
        out += [clock_minutes(b.at), clock_minutes(b.at) + b.minutes]
    return out


def _present(p: Person, t: float) -> bool:
    return clock_minutes(p.arrives) <= t and (p.leaves is None or t < clock_minutes(p.leaves))


def _on_duty(p: Person, t: float) -> bool:
    return _present(p, t) and not any(clock_minutes(b.at) <= t < clock_minutes(b.at) + b.minutes for b in p.breaks)


def _opening_done(people: list[Person], work: float, t_open: float) -> float:
    """When ``work`` person-minutes of opening procedures are done by the people as they arrive
    (and until they leave); never, if they cannot finish it."""
    if work <= 0:
        return min((clock_minutes(p.arrives) for p in people), default=t_open)
    times = sorted({t for p in people for t in (clock_minutes(p.arrives), *([clock_minutes(p.leaves)] if p.leaves else []))})
    done = 0.0
    for a, b in zip(times, [*times[1:], NEVER], strict=True):
        hands = sum(1 for p in people if _present(p, a))
        if hands and done + hands * (b - a) >= work:
            return a + (work - done) / hands
        done += hands * (b - a) if b < NEVER else 0.0
    return NEVER
