"""Election day as the roll sees it: who comes to which pollbook, and what the poll manager finds.

Each person living in the state who has ever been on the roll (or was convicted) may vote: with
probability ``expit(latent + beta)``, where ``beta`` is set per county so that the expected votes
match the election's turnout (2020 general: EAVS 2020 participants per county; 2024 general: the
county's presidential votes; other elections: the :class:`~pollsim.roll.rates.Rates` settings).
People not on their county's roll (removed, moved from another county without registering, or
barred after completing a sentence under the earlier law) come with a small probability only
(``Rates.unlisted_attempt``): the law decides whether a person is on the roll, not whether they come.
People still on probation or parole for a disenfranchising crime come more rarely; the incarcerated
do not come.

Active voters on the pollbook vote absentee with the county's absentee share ("VOTED AB" in the
pollbook); everyone else comes to the precinct where they live (a voter who moved within the county
without telling the clerk may go back to the old polling place instead), and the poll manager finds
them (:class:`pollsim.election.roll.RollStatus`): ACTIVE or RESTORED (regular ballot), INACTIVE,
WRONG_PRECINCT (on the county's pollbook in another precinct), NEW_REGISTRANT (registered after the
books closed), NOT_ON_ROLL: the last four vote by affidavit (§23-15-573). A vote, or an affidavit
ballot at the right precinct, is a response to a confirmation notice (the voter is active again,
52 U.S.C. §20507(d)(2)); an affidavit envelope gives the clerk a new address in the county; some
people turned away register afterwards.

The election's record (:class:`ElectionRecord`): the pollbook (rows listed, status, how each voted),
arrivals per precinct by status, and per county the measures of :data:`METRICS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from pollsim.election.roll import RollStatus
from pollsim.roll.calendar import Election, day
from pollsim.roll.engine import MEASURES
from pollsim.roll.table import GONE, Reason, Status, exponential_days

if TYPE_CHECKING:
    from pollsim.roll.engine import Simulation

VOTE, CHANNEL, REGISTERS, REGISTER_DAYS, OLD_PLACE = 21, 22, 23, 24, 25
VOTED_REGULAR, VOTED_AB, VOTED_AFFIDAVIT = 1, 2, 3
ROLL = ("active", "inactive", "restored", "removed_kept", "barred_residents", "eligible_inactive", "eligible_off_roll",
        "wrongly_removed", "restored_off_roll", "deadwood_dead", "deadwood_moved_away", "deadwood_other_county",
        "deadwood_barred", "deadwood_under_1y", "deadwood_1_2y", "deadwood_2_4y", "deadwood_over_4y")  # fmt: skip
BALLOTS = ("votes", "regular", "restored_regular", "absentee", "affidavit", "affidavit_inactive", "affidavit_not_on_roll",
           "affidavit_wrong_precinct", "affidavit_new_registrant", "affidavit_completed_sentence", "ineligible_regular")  # fmt: skip
METRICS = (*ROLL, *BALLOTS, *MEASURES, "revision_cost")
"""Per county at each election: the roll (listed records by status; eligible people inactive or off
the roll; deadwood: ineligible records still listed, by cause and by years since the person became
ineligible), the ballots (by how the poll manager found the voter), what the clerk did since the
previous election (:data:`pollsim.roll.engine.MEASURES`), and the commissioners' per diem for
revising the roll (§23-15-153)."""


@dataclass
class ElectionRecord:
    election: Election
    rows: np.ndarray  # int32 listed rows
    precinct: np.ndarray  # int16 their precinct
    status: np.ndarray  # uint8 Status (ACTIVE, INACTIVE) | 4 if restored
    reg_date: np.ndarray  # int32 their registration date then
    voted: np.ndarray  # uint8 0, VOTED_REGULAR, VOTED_AB, VOTED_AFFIDAVIT
    arrivals: np.ndarray  # int64 [precincts, len(RollStatus)]: in-person arrivals by status
    absentee: np.ndarray  # int64 [precincts]: VOTED AB
    metrics: np.ndarray  # int64 [counties, len(METRICS)]

    def drop_pollbook(self) -> None:
        """Forget the per-voter arrays (written elsewhere); the counts stay."""
        empty = np.zeros(0, dtype=np.int32)
        self.rows, self.precinct, self.status, self.reg_date, self.voted = empty, empty.astype(np.int16), empty.astype(np.uint8), empty, empty.astype(np.uint8)


def turnout(sim: Simulation, e: Election) -> tuple[np.ndarray, np.ndarray]:
    """Expected votes per county (scaled) and absentee share, for election ``e``."""
    geo, rates = sim.geo, sim.rates
    reg = geo.registered_2020.astype(np.float64)
    t2020 = geo.participants_2020 / reg
    rel = t2020 / (geo.participants_2020.sum() / reg.sum())
    year = int(e.iso[:4])
    if e.federal_general and year % 4 == 0:
        share = geo.votes_2024 / reg if year >= 2024 else t2020
    elif e.federal_general:
        share = rates.turnout_midterm * rel
    elif e.governor:
        share = rates.turnout_governor * rel
    else:
        share = rates.turnout_primary * rel
    absentee = geo.absentee_2020 / geo.participants_2020 if e.date == day("2020-11-03") else np.full(len(reg), rates.absentee_share)
    return np.minimum(share, 0.95) * reg * sim.plan.scale, absentee


BINS = 96


def latent_bins(latent: np.ndarray, spread: float) -> np.ndarray:
    """Each propensity's bin on [-6 spread, 6 spread] (the turnout solver works on these)."""
    lo, hi = -6.0 * spread, 6.0 * spread
    return np.clip(((latent - lo) / (hi - lo) * BINS).astype(np.intp), 0, BINS - 1).astype(np.uint16)


def _betas(hist: np.ndarray, target: np.ndarray, spread: float) -> np.ndarray:
    """Per-county shift so that the expected votes, sum over bins of hist * expit(mid + beta), hit ``target``."""
    lo, hi = -6.0 * spread, 6.0 * spread
    mid = lo + (np.arange(BINS) + 0.5) * (hi - lo) / BINS
    nc = len(target)
    a, z = np.full(nc, -30.0), np.full(nc, 30.0)
    for _ in range(50):
        m = (a + z) / 2
        got = (hist / (1 + np.exp(-(mid[None, :] + m[:, None])))).sum(axis=1)
        a, z = np.where(got < target, m, a), np.where(got < target, z, m)
    return (a + z) / 2


def _exact(n: int, weights: tuple[float, ...]) -> bool:
    """Whether any sum in float64 of ``n`` numbers among 1 and the float32 ``weights`` is exact (in every order):
    all are multiples of 2**-q, and n times the largest, in units of 2**-q, fits in float64's 53 bits."""
    q = max(Fraction(float(np.float32(w))).denominator.bit_length() - 1 for w in weights)
    return n * max(1.0, *weights) * 2**q < 2**53


def _attempts(sim: Simulation, cell: np.ndarray, can: np.ndarray, on: np.ndarray, p: np.ndarray, probation: np.ndarray) -> np.ndarray:
    """The sum of ``p`` per county and propensity bin (``cell``), as ``_histogram``: from integer counts of each
    value of ``p`` when that sum is exact (it then is the same number, bit for bit), else from ``p`` itself."""
    nc, rates = sim.geo.n_counties, sim.rates
    if not _exact(sim.roll.n, (rates.unlisted_attempt, rates.ineligible_attempt)):
        return np.bincount(cell, weights=p, minlength=256 * BINS)[: nc * BINS].reshape(nc, BINS)
    key = cell << 2
    key |= (can.view(np.uint8) << np.uint8(1)) | on.view(np.uint8)  # 2: p is unlisted_attempt, 3: p is 1 (but for ``probation``)
    counts = np.bincount(key, minlength=256 * BINS * 4).reshape(256 * BINS, 4)
    moved = np.bincount(key[probation], minlength=256 * BINS * 4).reshape(256 * BINS, 4)
    counts -= moved
    hist = counts[:, 3] + float(np.float32(rates.unlisted_attempt)) * counts[:, 2] + float(np.float32(rates.ineligible_attempt)) * moved.sum(axis=1)
    return hist[: nc * BINS].reshape(nc, BINS)


def _histogram(sim: Simulation, county: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Sum of ``weight`` per county and propensity bin (counties past the last, e.g. GONE, dropped)."""
    nc = sim.geo.n_counties
    key = county * BINS if county.dtype == np.intp else county.astype(np.intp) * BINS
    key += sim.latent_bin
    return np.bincount(key, weights=weight, minlength=256 * BINS)[: nc * BINS].reshape(nc, BINS)


def votes_before(sim: Simulation, elections: list[Election]) -> None:
    """The first day's registrants' votes in the elections before it (their last vote starts the no-vote clock)."""
    r = sim.roll
    active = (r.status == Status.ACTIVE).astype(np.float32)
    hist = _histogram(sim, r.county, active)
    rows = np.flatnonzero(active)
    latent, county = r.latent[rows], r.county[rows].astype(np.intp)
    for e in elections:
        expected, _ = turnout(sim, e)
        beta = _betas(hist, expected, sim.rates.turnout_spread)
        p = 1 / (1 + np.exp(-(latent + beta[county])))
        voted = rows[sim.uniform(VOTE, rows, e.date) < p]
        r.last_vote[voted] = np.maximum(r.last_vote[voted], e.date)
    r.activity[rows] = np.maximum(r.last_vote[rows], r.reg_date[rows])


def _attempt(can: np.ndarray, on: np.ndarray, unlisted: float) -> np.ndarray:
    """Who comes if they can: 0 (may not vote), ``unlisted`` (may, not on their county's roll), 1 (on it), as float32.

    Made from the float32 bit patterns with integer arithmetic (modulo 2**32, so ``unlisted``'s pattern
    plus the difference to 1.0's is 1.0's exactly): no lookup over every row."""
    ub = int(np.float32(unlisted).view(np.uint32))
    x = on.view(np.uint8).astype(np.uint32)
    x *= np.uint32((int(np.float32(1.0).view(np.uint32)) - ub) % 2**32)
    x += np.uint32(ub)
    x *= can
    return x.view(np.float32)


LISTED, ON, ACTIVE, RESTORED, BARRED, DONE, RIGHT = 1, 2, 4, 8, 16, 32, 16
"""Bits of a row's flags at an election (RIGHT, at the precinct of the record, replaces BARRED in ``_ARRIVAL``'s index)."""


def _arrival_codes() -> np.ndarray:
    """How the poll manager finds a voter (RollStatus), by flags LISTED | ON | ACTIVE | RESTORED | RIGHT."""
    out = np.full(32, RollStatus.NOT_ON_ROLL, dtype=np.uint8)
    for f in range(32):
        listed, on, active, restored, right = (bool(f & b) for b in (LISTED, ON, ACTIVE, RESTORED, RIGHT))
        if on and not listed:
            out[f] = RollStatus.NEW_REGISTRANT
        if listed and not right:
            out[f] = RollStatus.WRONG_PRECINCT
        if listed and right:
            out[f] = (RollStatus.RESTORED if restored else RollStatus.ACTIVE) if active else RollStatus.INACTIVE
    return out


_ARRIVAL = _arrival_codes()


def hold_election(sim: Simulation, e: Election) -> None:
    """Hold election ``e``: draw who votes and how, record it if asked, and let the votes act on the roll."""
    r, rates, t = sim.roll, sim.rates, e.date
    hc = r.hcounty
    was_convicted = r.conv <= t
    alive = r.death > t
    registered = r.reg_no > 0
    can = alive & (hc != GONE)
    can &= registered | was_convicted
    ever = convicted = np.flatnonzero(was_convicted)
    convicted = convicted[can[convicted]]
    inside = convicted[t < r.release[convicted]]
    can[inside] = False
    convicted = convicted[t >= r.release[convicted]]
    barred_rows = convicted[sim.barred(convicted, t)]
    onroll = r.status - np.uint8(1) <= np.uint8(1)  # active or inactive (the pollbook, with the deadline)
    on = onroll & (r.county == hc)  # on the roll of the county they live in
    p = _attempt(can, on, rates.unlisted_attempt)
    probation = barred_rows[r.custody_end[barred_rows] > t]
    p[probation] = rates.ineligible_attempt  # still on probation or parole
    expected, absentee_share = turnout(sim, e)
    cell = hc.astype(np.uint16)
    cell *= np.uint16(BINS)
    cell += sim.latent_bin
    cell = cell.astype(np.intp)  # county x BINS + propensity bin
    beta = np.zeros(256, dtype=np.float32)
    beta[: sim.geo.n_counties] = _betas(_attempts(sim, cell, can, on, p, probation), expected, rates.turnout_spread)
    np.negative(beta, out=beta)
    x = np.repeat(beta, BINS)[cell]
    del cell
    x -= r.latent  # -(beta + latent), exactly
    np.exp(x, out=x)
    x += np.float32(1)
    p /= x  # the probability to vote
    v = np.flatnonzero(sim.uniform_all(VOTE, t) < p)
    del p, x
    # each row's flags, gathered once per voter
    in_time = r.reg_date <= e.deadline
    flags = (on & in_time).view(np.uint8)
    flags |= on.view(np.uint8) << np.uint8(1)
    flags |= (r.status == Status.ACTIVE).view(np.uint8) << np.uint8(2)
    flags |= r.restored.view(np.uint8) << np.uint8(3)
    flags[barred_rows] |= np.uint8(BARRED)
    recording = sim.recording(e)
    if recording:
        flags[ever[r.custody_end[ever] <= t]] |= np.uint8(DONE)  # sentence complete
    fv = flags[v]
    vc, pv, hv = hc[v], r.precinct[v], r.home[v]
    listed = (fv & np.uint8(LISTED)).view(bool)
    right = pv == hv
    moved = np.flatnonzero(listed & ~right)
    right[moved] = sim.uniform(OLD_PLACE, v[moved], t) < rates.old_precinct_share  # back to the old polling place
    code = _ARRIVAL.take((fv & np.uint8(LISTED | ON | ACTIVE | RESTORED)) | (right.view(np.uint8) << np.uint8(4)))
    arrive = hv + (pv - hv) * (right & listed)  # the precinct of the record, or where they live
    ab = listed & ((fv & np.uint8(ACTIVE)) != 0)
    ab &= sim.uniform(CHANNEL, v, t) < absentee_share[vc.astype(np.intp)]
    regular = ab | (code <= RollStatus.RESTORED)
    if recording:
        people = _people(sim, t, can, on, registered, was_convicted, barred_rows, inside)
        fine = on & alive & ~was_convicted  # on the roll of the county they live in, alive, never convicted: not deadwood
        rec = _record(sim, e, v, vc, code, ab, regular, fv, people, arrive, pv, onroll, in_time, fine)
        if sim.sink is not None:  # the pollbook goes to the writer now, not into memory
            sim.sink(rec)
            rec.drop_pollbook()
        sim.records.append(rec)
    del on, onroll, flags, can, alive, registered, was_convicted, in_time
    # what the votes do to the roll
    came = v[regular | listed]  # a vote, or an affidavit ballot at the right precinct: a response to a notice
    r.last_vote[came] = t
    r.activity[came] = t
    back = v[~regular & listed]
    r.precinct[back] = r.home[back]  # the affidavit envelope gives the clerk the new address
    sim.set_status(back[r.status[back] == Status.INACTIVE], t, Status.ACTIVE)
    turned = v[(code == RollStatus.NOT_ON_ROLL) & ((fv & np.uint8(BARRED)) == 0)]
    turned = turned[r.apply[turned] > t]
    turned = turned[sim.uniform(REGISTERS, turned, t) < rates.affidavit_registers]
    r.apply[turned] = t + exponential_days(sim.uniform(REGISTER_DAYS, turned, t), 45.0)
    sim.schedule("apply", turned, r.apply[turned])
    sim.counts[:] = 0


def _people(sim: Simulation, t: int, can: np.ndarray, on: np.ndarray, registered: np.ndarray, was_convicted: np.ndarray,
            barred: np.ndarray, inside: np.ndarray) -> np.ndarray:  # fmt: skip
    """Per county of residence: barred by a conviction (``barred``, ``inside``: rows); eligible with no record in
    their county (of whom removed for not answering a notice, and of whom enfranchised again by the 2024 bill)."""
    r, nc = sim.roll, sim.geo.n_counties
    hc = r.hcounty
    out = np.zeros((nc, 4), dtype=np.int64)
    out[:, 0] = np.bincount(hc[barred], minlength=256)[:nc] + np.bincount(hc[inside], minlength=256)[:nc]
    off = can & registered & ~on  # may vote, not on their county's roll
    off[barred] = False
    off = np.flatnonzero(off)
    oc = hc[off]
    wrong = (r.status[off] >= Status.REMOVED) & (r.removed_reason[off] == Reason.NO_RESPONSE) & (r.county[off] == oc)
    key = oc.astype(np.intp) * 4 + wrong + was_convicted[off] * 2
    kinds = np.bincount(key, minlength=256 * 4).reshape(256, 4)[:nc]
    out[:, 1] = kinds.sum(axis=1)
    out[:, 2] = kinds[:, 1] + kinds[:, 3]
    out[:, 3] = kinds[:, 2] + kinds[:, 3]
    return out


@cache
def _cells(nc: int) -> np.ndarray:
    """The pollbook's cell, county x 60 + kind x 20 (0 active, 1 restored, 2 inactive), by county << 3 | status | restored << 2."""
    k = np.arange(nc * 8)
    return (k >> 3) * 60 + np.array([0, 0, 2, 0, 0, 1, 2, 0])[k & 7] * 20


def _record(sim: Simulation, e: Election, v: np.ndarray, vc: np.ndarray, code: np.ndarray, ab: np.ndarray, regular: np.ndarray,
            fv: np.ndarray, people: np.ndarray, arrive: np.ndarray, pv: np.ndarray, onroll: np.ndarray, in_time: np.ndarray,
            fine: np.ndarray) -> ElectionRecord:  # fmt: skip
    r, geo, t = sim.roll, sim.geo, e.date
    np_, nc, ns = len(geo.precinct_ids), geo.n_counties, len(RollStatus)
    m = np.zeros((nc, len(METRICS)), dtype=np.int64)

    def put(name: str, counts: np.ndarray) -> None:
        m[:, METRICS.index(name)] = counts

    # the pollbook (Roll.listed(e.deadline)): status (active, restored, inactive) x deadwood cause x years since ineligible
    listed = onroll & in_time
    rows = np.flatnonzero(listed)
    st = r.restored.view(np.uint8) << np.uint8(2)
    st |= r.status  # status | restored << 2, every row
    key = r.county.astype(np.uint16) << np.uint16(3)
    key |= st
    late = np.flatnonzero(onroll > in_time)  # on the roll, registered after the books closed
    counts = (np.bincount(key, minlength=nc * 8) - np.bincount(key[late], minlength=nc * 8)).reshape(nc, 8)
    book = np.zeros((nc, 3, 5, 4), dtype=np.int64)
    book[:, 0, 0, 0] = counts[:, Status.ACTIVE]
    book[:, 1, 0, 0] = counts[:, Status.ACTIVE | 4]
    book[:, 2, 0, 0] = counts[:, Status.INACTIVE] + counts[:, Status.INACTIVE | 4]
    removed_kept = counts[:, Status.REMOVED] + counts[:, Status.REMOVED | 4]
    # deadwood (cause 1-4): listed records of people who live in another county or state, died, or were convicted
    wr = np.flatnonzero(listed > fine)
    kw = key[wr]
    del key
    hc = r.hcounty[wr]
    cause = (hc != (kw >> np.uint16(3))).view(np.uint8) * np.uint8(3)  # lives in another county
    cause -= (hc == GONE).view(np.uint8)  # 2: left the state
    since = r.moved[wr]  # the day the person became ineligible
    conv = np.flatnonzero((r.conv[wr] <= t) & (cause == 0))
    conv = conv[sim.barred(wr[conv], t)]
    cause[conv] = 4
    since[conv] = r.conv[wr[conv]]
    dead = np.flatnonzero(r.death[wr] <= t)
    cause[dead] = 1
    since[dead] = r.death[wr[dead]]
    since -= t  # minus whole days since: past 1, 2, 4 years of 365.25 days
    age = (since <= -366).view(np.uint8) + (since <= -731).view(np.uint8) + (since <= -1461).view(np.uint8)
    age *= cause != 0  # cause 0 (convicted, not barred): not deadwood, stays where it is
    cell = _cells(nc).take(kw)  # county x 60 + kind x 20, as if cause 0
    moved = np.bincount(cell + cause * np.uint8(4) + age, minlength=nc * 60) - np.bincount(cell, minlength=nc * 60)
    book = (book.reshape(-1) + moved).reshape(nc, 3, 5, 4)
    put("active", book[:, :2].sum(axis=(1, 2, 3)))
    put("restored", book[:, 1].sum(axis=(1, 2)))
    put("inactive", book[:, 2].sum(axis=(1, 2)))
    put("eligible_inactive", book[:, 2, 0].sum(axis=1))
    for k, name in enumerate(("dead", "moved_away", "other_county", "barred"), start=1):
        put(f"deadwood_{name}", book[:, :, k].sum(axis=(1, 2)))
    for k, name in enumerate(("under_1y", "1_2y", "2_4y", "over_4y")):
        put(f"deadwood_{name}", book[:, :, 1:, k].sum(axis=(1, 2)))
    put("removed_kept", removed_kept)
    for k, name in enumerate(("barred_residents", "eligible_off_roll", "wrongly_removed", "restored_off_roll")):
        put(name, people[:, k])
    # ballots, counted in the county where the voter lives: status, absentee, completed sentence, regular, barred
    cat = code << np.uint8(4)
    cat |= ab.view(np.uint8) << np.uint8(3)
    cat |= (fv & np.uint8(DONE)) >> np.uint8(3)
    cat |= regular.view(np.uint8) << np.uint8(1)
    cat |= (regular & ((fv & np.uint8(BARRED)) != 0)).view(np.uint8)
    ballots = np.bincount(vc.astype(np.intp) * (ns * 16) + cat, minlength=nc * ns * 16).reshape(nc, ns, 2, 2, 4)
    aff = ballots[..., 0]  # not regular: [county, status, absentee, completed sentence]
    put("votes", ballots.sum(axis=(1, 2, 3, 4)))
    put("regular", ballots[..., 2:].sum(axis=(1, 2, 3, 4)))
    put("restored_regular", ballots[:, RollStatus.RESTORED, ..., 2:].sum(axis=(1, 2, 3)))
    put("absentee", ballots[:, :, 1].sum(axis=(1, 2, 3)))
    put("affidavit", aff.sum(axis=(1, 2, 3)))
    for status, name in ((RollStatus.INACTIVE, "inactive"), (RollStatus.NOT_ON_ROLL, "not_on_roll"),
                         (RollStatus.WRONG_PRECINCT, "wrong_precinct"), (RollStatus.NEW_REGISTRANT, "new_registrant")):  # fmt: skip
        put(f"affidavit_{name}", aff[:, status].sum(axis=(1, 2)))
    put("affidavit_completed_sentence", aff[:, :, :, 1].sum(axis=(1, 2)))
    put("ineligible_regular", ballots[..., 3].sum(axis=(1, 2, 3)))
    for k, name in enumerate(MEASURES):
        put(name, sim.counts[:, k])
    rate = [d for since_, d in sim.rates.per_diem if day(since_) <= t] or [sim.rates.per_diem[0][1]]
    put("revision_cost", -(-sim.counts[:, MEASURES.index("changes")] // sim.rates.records_per_revision_day) * rate[-1])
    # in person by the precinct they came to and status; VOTED AB by the precinct of the record (past the last)
    where = arrive.astype(np.uint32) * np.uint32(ns) + code
    where += (pv.astype(np.uint32) + np.uint32(np_ * ns) - where) * ab
    places = np.bincount(where, minlength=np_ * (ns + 1))
    arrivals, absentee = places[: np_ * ns].reshape(np_, ns), places[np_ * ns :]
    how = np.full(len(v), VOTED_AFFIDAVIT << 3, dtype=np.uint8)
    how -= regular.view(np.uint8) << np.uint8(4)  # VOTED_REGULAR
    how += ab.view(np.uint8) << np.uint8(3)  # VOTED_AB (absentee ballots are regular ones)
    st[v] |= how  # how each voted, above the status bits
    listed_st = st[rows]
    voted = listed_st >> np.uint8(3)
    listed_st &= np.uint8(7)
    return ElectionRecord(e, rows.astype(np.int32), r.precinct[rows], listed_st, r.reg_date[rows], voted, arrivals, absentee, m)
