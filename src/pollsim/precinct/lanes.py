"""Many rooms at once: the day's lines for candidate configurations and simulated days (the planner's engine).

A *lane* is one polling place configuration (check-in stations, DREs, booths, scanners...) living
one simulated day. The voters of a day are the ones the SimPy day draws from the same seed
(:func:`DayDraws.from_seed` makes the same draws in the same order), so every lane that shares a
day compares configurations on the same voters (common random numbers), and each voter's waits are
the ones :func:`pollsim.precinct.simulate_precinct` gives in that configuration, to the last bit
(tests/precinct/test_lines.py). The voters' paths are the day's (:mod:`pollsim.precinct.day`):

- check in (paper roster or electronic pollbook; affidavit paperwork for voters the roll turns to
  an affidavit ballot, §23-15-573), where voters may give up (:mod:`pollsim.precinct.giving_up`);
- DRE precinct: a DRE, or the accessible unit for audio voters (§23-15-531.1(f)); affidavit voters
  mark a paper ballot in a booth. A DRE whose VVPAT roll runs out stops after its voter;
- paper precinct: a booth (or the BMD), then the scanner: a ballot spoiled for a mistake is
  re-marked; an overvoted ballot comes back, and the voter spoils and re-marks it or casts it as
  is; a misfed sheet is fed again (:mod:`pollsim.devices.scanner`).

What is left out, because it belongs to the day's story rather than to its lines: scripted
incidents and injected errors (drills), and the devices' records. A ballot spoiled in a paper
precinct sends its voter back to the booths, whose lines then depend on the scanner's: the two
are worked out together, repeating until no voter's return time changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pollsim.devices import PrecinctScanner
from pollsim.devices.dre import records_per_roll
from pollsim.devices.scanner import OVERVOTED, READABLE
from pollsim.election.definition import Election
from pollsim.election.roll import VoterNeed
from pollsim.precinct.draws import draw_voters
from pollsim.precinct.giving_up import checkin_minutes_per_voter, draw_patience
from pollsim.precinct.lines import LATER, CheckInDraws, Closures, Rolls, check_in_giving_up, clock, serve
from pollsim.scenario.models import PrecinctSpec, Scenario, clock_minutes
from pollsim.staff.roster import StaffDay

LINES = ("checkin", "voting", "scanner")
"""The lines a voter may wait in, as the planner reports them."""


@dataclass(frozen=True)
class DayDraws:
    """What the lines need of one simulated day of one precinct: per voter (arrival order) arrays."""

    arrival: np.ndarray  # on the day's clock (minutes after midnight, as SimPy reaches them from its start)
    t_start: float  # when the day's clock starts
    t_open: float  # the opening on the day's clock
    regular: np.ndarray  # bool: a regular ballot (else an affidavit ballot)
    audio: np.ndarray  # bool: the accessible unit / BMD
    checkin: np.ndarray  # minutes at the check-in table (affidavit paperwork included)
    walk: np.ndarray
    vote: np.ndarray
    remark: np.ndarray
    spoil_replace: np.ndarray
    scan: np.ndarray
    vvpat_reject: np.ndarray  # bool: the DRE voter rejects the first VVPAT record (a VOID record)
    spoil_mistake: np.ndarray  # bool
    misfeed: np.ndarray  # bool
    overvote_spoil: np.ndarray  # bool: the scanner returns the first ballot overvoted and the voter spoils it
    cast_as_is: np.ndarray  # bool: the first ballot comes back (blank, or overvoted and not spoiled) and is cast as is
    replaced_as_is: np.ndarray  # bool: the replacement ballot comes back blank and is cast as is
    paper_replace: np.ndarray  # minutes of the k-th VVPAT roll replaced (in the order rolls run out)
    patience: np.ndarray | None = None
    come_back: np.ndarray | None = None
    come_back_after: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.arrival)

    @classmethod
    def from_seed(cls, scenario: Scenario, election: Election, spec: PrecinctSpec, seed: np.random.SeedSequence) -> DayDraws:
        """The draws of the day :func:`pollsim.precinct.simulate_precinct` simulates with this seed."""
        rng = np.random.default_rng(seed)
        d = draw_voters(rng, scenario, election, spec)
        rng.spawn(1)  # the day draws its responses to incidents from this child
        regular = d.status <= 1
        audio = d.need == VoterNeed.AUDIO
        verdict_first = verdict_intent = np.zeros(d.n, np.int8)
        if spec.equipment.kind == "paper":
            scanner = PrecinctScanner("SCAN-1", election, precinct=spec.id, t=0.0)
            verdict_first = scanner.read(np.where(audio[:, None], d.intent, d.intent | d.overmarks))
            verdict_intent = scanner.read(d.intent)
        spoil = (verdict_first == OVERVOTED) & d.spoil_on_return
        extra: dict[str, np.ndarray] = {}
        if scenario.giving_up.enabled is True:
            patience, come_back, after = draw_patience(rng.spawn(1)[0], scenario.giving_up, d.n)
            extra = {"patience": patience, "come_back": come_back, "come_back_after": after}
        t_open = clock_minutes(scenario.polls.open)
        t_start = float(min(d.arrival[0], t_open) if d.n else t_open) - 1.0  # the day's clock starts here
        return cls(
            arrival=t_start + (d.arrival - t_start), t_start=t_start, t_open=t_start + (t_open - t_start), regular=regular, audio=audio, checkin=np.where(regular, d.checkin, d.checkin + d.affidavit),
            walk=d.walk, vote=d.vote, remark=d.remark, spoil_replace=d.spoil_replace, scan=d.scan,
            vvpat_reject=d.vvpat_reject, spoil_mistake=d.spoil_mistake & ~audio, misfeed=d.misfeed,
            overvote_spoil=spoil, cast_as_is=(verdict_first != READABLE) & ~spoil, replaced_as_is=verdict_intent != READABLE,
            paper_replace=d.paper_replace, **extra,
        )  # fmt: skip


@dataclass
class LaneWaits:
    """Each lane's voters (``[lane, voter]``, voters padded to the longest day with ``valid`` False)."""

    valid: np.ndarray  # bool: a voter of the lane's day
    arrival: np.ndarray
    wait: np.ndarray  # minutes in all lines (NaN: gave up, or padding)
    lines: dict[str, np.ndarray]  # minutes in each line of LINES (NaN where the voter never stood in it)
    outcome: np.ndarray  # int8: 0 went on to vote, 3 balked, 4 reneged (Outcome values); -1 padding


def _pad(days: Sequence[DayDraws], lane_day: np.ndarray, name: str, fill: float | int | bool) -> np.ndarray:
    width = max((d.n for d in days), default=0)
    first = getattr(days[0], name) if days else np.zeros(0)
    table = np.full((len(days), width), fill, dtype=np.asarray(first).dtype if not isinstance(fill, float) else float)
    for k, d in enumerate(days):
        table[k, : d.n] = getattr(d, name)
    return table[lane_day]


class Lanes:
    """The lanes of one precinct: its days, which day each lane lives and its units per line.

    ``units``: pool name (PB, DRE, ADA, BOOTH, SCAN, BMD) -> ``int[lanes]``; ``staff``: each lane's
    :class:`~pollsim.staff.StaffDay` (when the units open, and the stations closed for want of a poll
    manager), with a ``staff`` section; ``cache``: check-in lines already worked out (shared between
    batches of the same days).
    """

    def __init__(self, scenario: Scenario, spec: PrecinctSpec, days: Sequence[DayDraws], lane_day: np.ndarray,
                 units: dict[str, np.ndarray], staff: Sequence[StaffDay] | None = None, cache: dict | None = None):  # fmt: skip
        self.scenario, self.spec, self.days = scenario, spec, list(days)
        self.lane_day = np.asarray(lane_day, np.int64)
        self.units = units
        self.closures: dict[str, Closures] = {}
        self.cache = cache if cache is not None else {}  # check-in lines worked out, by (day, stations, closures, opening)
        self.t_open = np.array([d.t_open for d in self.days])[self.lane_day] if self.days else np.zeros(0)
        self.t_close = clock_minutes(scenario.polls.close)
        if staff is not None:
            self._staff(staff)

    def _staff(self, staff: Sequence[StaffDay]) -> None:
        """Each lane's opening and closures on its day's clock (as the SimPy day reaches them)."""
        t_start = np.array([d.t_start for d in self.days])[self.lane_day]
        opens = np.array([s.opens for s in staff])
        self.t_open = t_start + (opens - t_start)
        for pool in ("PB", "SCAN"):
            most = max((len(spans) for s in staff for spans in s.closures(pool)), default=0)
            if not most:
                continue
            units = max(1, int(self.units[pool].max()))
            start, end = np.full((len(staff), units, most), np.inf), np.full((len(staff), units, most), np.inf)
            for lane, s in enumerate(staff):
                for u, spans in enumerate(s.closures(pool)[:units]):
                    for m, (a, b) in enumerate(spans):
                        start[lane, u, m], end[lane, u, m] = clock(float(t_start[lane]), a, b)
            self.closures[pool] = Closures(start, end)

    def pad(self, name: str, fill: float | int | bool = np.inf) -> np.ndarray:
        return _pad(self.days, self.lane_day, name, fill)

    def _serve(self, pool: str, times: np.ndarray, service: np.ndarray, **kw) -> np.ndarray:
        return serve(times, service, self.units[pool], self.t_open, closures=self.closures.get(pool), **kw)

    def run(self, until: str = "") -> LaneWaits:
        """Every lane's voters; ``until="checkin"``: the check-in line only (the other lines NaN)."""
        with np.errstate(invalid="ignore"):  # inf - inf for voters who never stood in a line
            return self._run(until)

    def _run(self, until: str) -> LaneWaits:
        arrival = self.pad("arrival")
        valid = np.isfinite(arrival)
        checkin = self.pad("checkin")
        requested, called, outcome = self._check_in(arrival.shape)
        gone = outcome != 0
        outcome[~valid] = -1
        wait_pb = called - requested
        nan = ~valid | gone
        if until == "checkin":
            empty = np.full(arrival.shape, np.nan)
            wait_pb[nan] = np.nan
            return LaneWaits(valid, arrival, wait_pb, {"checkin": wait_pb, "voting": empty, "scanner": empty}, outcome.astype(np.int8))
        walked = called + checkin + self.pad("walk")
        regular = self.pad("regular", False) & ~gone & valid
        affidavit = ~self.pad("regular", True) & ~gone & valid
        audio = self.pad("audio", False)
        if self.spec.equipment.kind == "dre":
            waits = self._dre(walked, regular, affidavit, audio, wait_pb)
        else:
            waits = self._paper(walked, regular, affidavit, audio, wait_pb)
        wait, voting, scanner = waits
        for w in (wait, voting, scanner):
            w[nan] = np.nan
        wait_pb[nan] = np.nan
        return LaneWaits(valid, arrival, wait, {"checkin": wait_pb, "voting": voting, "scanner": scanner}, outcome.astype(np.int8))

    # ------------------------------------------------------------------ check-in
    def _check_in(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(request time, time called, outcome) of every lane's voters at the check-in line. Lanes
        with the same day, stations and closures share one answer (kept in :attr:`cache`)."""
        lanes, width = shape
        requested, called, outcome = np.full(shape, np.inf), np.full(shape, np.inf), np.zeros(shape, np.int64)
        closures = self.closures.get("PB")
        keys = []
        for lane in range(lanes):
            units = int(self.units["PB"][lane])
            closed = None
            if closures is not None:
                closed = tuple(tuple((float(a), float(b)) for a, b in zip(closures.start[lane, u], closures.end[lane, u], strict=True) if a < np.inf)
                               for u in range(units))  # fmt: skip
            keys.append((int(self.lane_day[lane]), units, closed, float(self.t_open[lane])))
        todo = [k for k in dict.fromkeys(keys) if k not in self.cache]
        if self.scenario.giving_up.enabled is True:
            for key in todo:
                self.cache[key] = self._giving_up(*key)
        elif todo:  # one batch of lanes, one per distinct (day, stations, closures)
            days = [self.days[k[0]] for k in todo]
            n = max(d.n for d in days)
            times, service = np.full((len(todo), n), np.inf), np.full((len(todo), n), np.inf)
            for j, d in enumerate(days):
                times[j, : d.n], service[j, : d.n] = d.arrival, d.checkin
            shut = None
            if closures is not None:
                most = max(1, max((len(c) for k in todo for c in k[2] or ()), default=1))
                cmax = max(k[1] for k in todo)
                start, end = np.full((len(todo), cmax, most), np.inf), np.full((len(todo), cmax, most), np.inf)
                for j, k in enumerate(todo):
                    for u, spans in enumerate(k[2] or ()):
                        for m, (a, b) in enumerate(spans):
                            start[j, u, m], end[j, u, m] = a, b
                shut = Closures(start, end)
            got = serve(times, service, np.array([k[1] for k in todo]), np.array([k[3] for k in todo]), closures=shut)
            for j, (key, d) in enumerate(zip(todo, days, strict=True)):
                self.cache[key] = (d.arrival, got[j, : d.n], np.zeros(d.n, np.int64))
        for lane, key in enumerate(keys):
            r, c, o = self.cache[key]
            requested[lane, : len(r)], called[lane, : len(r)], outcome[lane, : len(r)] = r, c, o
        return requested, called, outcome

    def _giving_up(self, day: int, units: int, closed: tuple | None, t_open: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d, gu = self.days[day], self.scenario.giving_up
        line = CheckInDraws(d.arrival.tolist(), d.checkin.tolist(), d.patience.tolist(), d.come_back.tolist(), d.come_back_after.tolist())  # type: ignore[union-attr]
        per_voter = checkin_minutes_per_voter(self.scenario, self.spec.equipment.pollbook == "electronic", units)
        r, c, o = check_in_giving_up(line, units, t_open, self.t_close, per_voter, gu.balking, gu.reneging,
                                     [list(spans) for spans in closed] if closed is not None else None)  # fmt: skip
        return np.array(r), np.array(c), np.array(o, np.int64)

    # ------------------------------------------------------------------ DRE precinct
    def _dre(self, walked, regular, affidavit, audio, wait_pb) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        vote = self.pad("vote")
        eq = self.spec.equipment
        style = next(b for b in self.scenario.election.ballot_styles if b.id == self.spec.ballot_style)
        start = np.full(walked.shape, np.nan)
        lines = (("DRE", regular & ~audio), ("ADA", regular & audio))
        if not eq.vvpat_roll_feet:
            for pool, who in lines:
                start = np.where(who, self._serve(pool, np.where(who, walked, np.inf), vote), start)
        else:
            start = self._dres(lines, walked, vote, records_per_roll(len(style.contests), eq.vvpat_roll_feet), start)
        wait = (wait_pb + start) - walked  # added up in the order the day adds them
        booth = self._serve("BOOTH", np.where(affidavit, walked, np.inf), self.pad("remark"))
        start = np.where(affidavit, booth, start)
        voting = start - walked
        wait = np.where(affidavit, wait_pb + voting, wait)
        return wait, voting, np.full(walked.shape, np.nan)

    def _dres(self, lines, walked, vote, capacity: int, start: np.ndarray) -> np.ndarray:
        """The DREs' lines when rolls run out: the day replaces the k-th roll to run out (in time,
        over both lines) in its k-th drawn time, so the times are given out again by when the rolls
        ran out until that order no longer changes."""
        lanes = len(walked)
        rejects = self.pad("vvpat_reject", False).astype(np.int64)
        size = 2 * walked.shape[1] // capacity + 2
        stock = np.full((lanes, 2 * size), 5.0)  # after the day's drawn times: 5 minutes each
        drawn = np.stack([d.paper_replace for d in self.days])[self.lane_day][:, ::-1][:, : 2 * size]  # taken from the end
        stock[:, : drawn.shape[1]] = drawn
        minutes = [stock[:, :size], stock[:, size:]]  # first guess: DRE rolls first, then the accessible unit's
        rows = np.arange(lanes)[:, None]
        for _ in range(4 * size + 4):
            ends: list[np.ndarray] = []
            for (pool, who), m in zip(lines, minutes, strict=True):
                rolls = Rolls(capacity, rejects, m)
                start = np.where(who, self._serve(pool, np.where(who, walked, np.inf), vote, rolls=rolls), start)
                assert rolls.ends is not None
                ends.append(rolls.ends)
            when = np.concatenate(ends, axis=1)
            rank = np.argsort(np.argsort(when, axis=1, kind="stable"), axis=1)
            given = stock[rows, rank]
            new = [given[:, :size], given[:, size:]]
            if all(np.array_equal(a, b) for a, b in zip(new, minutes, strict=True)):
                return start
            minutes = new
        raise RuntimeError("the order in which VVPAT rolls ran out did not settle")  # pragma: no cover

    # ------------------------------------------------------------------ paper precinct
    def _paper(self, walked, regular, affidavit, audio, wait_pb) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        vote, remark, scan, spoil = self.pad("vote"), self.pad("remark"), self.pad("scan"), self.pad("spoil_replace")
        mistake = _Few(self.pad("spoil_mistake", False) & regular)  # back to the booths after spoiling a ballot
        over = _Few(self.pad("overvote_spoil", False) & regular)  # back after the scanner returned it overvoted
        zero = np.zeros(walked.shape)
        refeed = np.where(self.pad("misfeed", False), scan, zero)  # the first feed misfeeds: fed again
        as_is = np.where(self.pad("cast_as_is", False), scan, zero)  # the first ballot comes back and is cast as is
        as_is2 = over.take(np.where(self.pad("replaced_as_is", False), scan, zero), 0.0)
        # the BMD line (audio voters: no spoiled ballot comes back to it) is settled at once
        bmd = self._serve("BMD", np.where(regular & audio, walked, np.inf), vote)
        first = np.where((regular & ~audio) | affidavit, walked, np.inf)
        at_mistake, at_over = mistake.later(), over.later()  # when voters come back to re-mark: not known yet
        remark_m, remark_o, scan_o = mistake.take(remark), over.take(remark), over.take(scan)
        for _ in range(2 * walked.shape[1] + 2):  # each round settles at least the earliest return
            booth = self._serve("BOOTH", np.concatenate([first, at_mistake, at_over], axis=1), np.concatenate([vote, remark_m, remark_o], axis=1))
            b1, b2, b3 = np.split(booth, np.cumsum([first.shape[1], at_mistake.shape[1]]), axis=1)
            marked = np.where(audio, bmd + vote, b1 + vote)  # the first ballot marked
            feed1 = np.where(regular, marked, np.inf)
            feed1 = mistake.put(feed1, b2 + remark_m)  # a replacement, after a mistake
            feed2 = b3 + remark_o
            s1, s2 = np.split(self._serve("SCAN", np.concatenate([feed1, feed2], axis=1), np.concatenate([scan, scan_o], axis=1),
                                          more=[np.concatenate([refeed, 0 * scan_o], axis=1), np.concatenate([as_is, as_is2], axis=1)]),
                              [feed1.shape[1]], axis=1)  # fmt: skip
            new_mistake = mistake.take(marked + spoil)
            new_over = over.take(s1 + scan + refeed + spoil)  # handed back after the (re)feed
            if np.array_equal(new_mistake, at_mistake) and np.array_equal(new_over, at_over):
                break
            at_mistake, at_over = new_mistake, new_over
        voting = np.where(regular & audio, bmd, b1) - walked  # the waits add up in the order the voter waited
        wait = wait_pb + voting
        again = mistake.put(zero, b2 - at_mistake)
        wait = np.where(mistake.mask, wait + again, wait)
        scanner = s1 - feed1
        wait = np.where(regular, wait + scanner, wait)
        back, second = over.put(zero, b3 - at_over), over.put(zero, s2 - feed2)
        wait = np.where(over.mask, wait + back + second, wait)
        voting = np.where(mistake.mask, voting + again, voting)
        voting = np.where(over.mask, voting + back, voting)
        scanner = np.where(over.mask, scanner + second, np.where(regular, scanner, np.nan))
        return wait, voting, scanner


class _Few:
    """The few voters of each lane that a mask picks, as columns of their own (``-1`` pads): a
    spoiled ballot's second trip to the booths concerns 1 % of the voters, not every column."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask
        counts = mask.sum(axis=1)
        rows, cols = np.nonzero(mask)
        self.index = np.full((len(mask), int(counts.max()) if len(mask) else 0), -1)
        self.index[rows, np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)] = cols
        self.rows = np.broadcast_to(np.arange(len(mask))[:, None], self.index.shape)
        self.here = self.index >= 0

    def later(self) -> np.ndarray:
        return np.where(self.here, LATER, np.inf)

    def take(self, values: np.ndarray, fill: float = np.inf) -> np.ndarray:
        return np.where(self.here, np.take_along_axis(values, np.maximum(self.index, 0), 1), fill)

    def put(self, base: np.ndarray, values: np.ndarray) -> np.ndarray:
        out = base.copy()
        out[self.rows[self.here], self.index[self.here]] = values[self.here]
        return out
