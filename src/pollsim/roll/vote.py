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


def _by_county(county: np.ndarray, category: np.ndarray, nc: int, k: int) -> np.ndarray:
    """Counts per county and category, ``int64[nc, k]``."""
    return np.bincount(county.astype(np.int64) * k + category, minlength=nc * k).reshape(nc, k)


BINS = 96


def latent_bins(latent: np.ndarray, spread: float) -> np.ndarray:
    """Each propensity's bin on [-6 spread, 6 spread] (the turnout solver works on these)."""
    lo, hi = -6.0 * spread, 6.0 * spread
    return np.clip(((latent - lo) / (hi - lo) * BINS).astype(np.intp), 0, BINS - 1)


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
    for e in elections:
        expected, _ = turnout(sim, e)
        beta = _betas(hist, expected, sim.rates.turnout_spread)
        rows = np.flatnonzero(active)
        p = 1 / (1 + np.exp(-(r.latent[rows] + beta[r.county[rows]])))
        voted = rows[sim.uniform(VOTE, rows, e.date) < p]
        r.last_vote[voted] = np.maximum(r.last_vote[voted], e.date)
    rows = np.flatnonzero(active)
    r.activity[rows] = np.maximum(r.last_vote[rows], r.reg_date[rows])


def hold_election(sim: Simulation, e: Election) -> None:
    """Hold election ``e``: draw who votes and how, record it if asked, and let the votes act on the roll."""
    r, rates, t = sim.roll, sim.rates, e.date
    hc = r.hcounty
    was_convicted = r.conv <= t
    can = (r.death > t) & (hc != GONE)
    can &= (r.reg_no > 0) | was_convicted
    convicted = np.flatnonzero(was_convicted)
    del was_convicted
    convicted = convicted[can[convicted]]
    inside = convicted[t < r.release[convicted]]
    can[inside] = False
    convicted = convicted[t >= r.release[convicted]]
    barred_rows = convicted[sim.barred(convicted, t)]
    onroll = r.status - np.uint8(1) <= np.uint8(1)  # active or inactive (the pollbook, with the deadline)
    on = onroll & (r.county == hc)
    kind = can.view(np.uint8) << np.uint8(1)  # 0, 1: may not come; 2: may, not on their county's roll; 3: on it
    kind |= on.view(np.uint8)
    del can
    p = np.array([0.0, 0.0, rates.unlisted_attempt, 1.0], dtype=np.float32).take(kind)
    p[barred_rows[r.custody_end[barred_rows] > t]] = rates.ineligible_attempt  # still on probation or parole
    expected, absentee_share = turnout(sim, e)
    beta = np.zeros(256, dtype=np.float32)
    hci = hc.astype(np.intp)
    beta[: sim.geo.n_counties] = _betas(_histogram(sim, hci, p), expected, rates.turnout_spread)
    np.negative(beta, out=beta)
    x = beta[hci]
    del hci
    x -= r.latent  # -(beta + latent), exactly
    np.exp(x, out=x)
    x += np.float32(1)
    p /= x  # the probability to vote
    v = np.flatnonzero(sim.uniform_all(VOTE, t) < p)
    del p, x
    vc, on_v = hc[v], on[v]
    barred = np.zeros(r.n, dtype=bool)
    barred[barred_rows] = True
    barred_v = barred[v]
    vs = r.status[v]
    listed = on_v & (r.reg_date[v] <= e.deadline)
    active = vs == Status.ACTIVE
    ab = listed & active & (sim.uniform(CHANNEL, v, t) < absentee_share[vc])
    right = r.precinct[v] == r.home[v]
    right |= listed & (sim.uniform(OLD_PLACE, v, t) < rates.old_precinct_share)  # back to the old polling place
    arrive = np.where(right & listed, r.precinct[v], r.home[v])
    code = np.full(len(v), int(RollStatus.NOT_ON_ROLL), dtype=np.intp)
    code[on_v & ~listed] = RollStatus.NEW_REGISTRANT
    code[listed & ~right] = RollStatus.WRONG_PRECINCT
    code[listed & right & ~active] = RollStatus.INACTIVE
    code[listed & right & active] = np.where(r.restored[v[listed & right & active]], RollStatus.RESTORED, RollStatus.ACTIVE)
    regular = ab | (code == RollStatus.ACTIVE) | (code == RollStatus.RESTORED)
    if sim.recording(e):
        people = _people(sim, t, np.flatnonzero(kind == 2), barred, inside)
        onroll &= r.reg_date <= e.deadline  # the pollbook: Roll.listed(e.deadline)
        rec = _record(sim, e, v, vc, code, ab, regular, barred_v, people, arrive, onroll)
        if sim.sink is not None:  # the pollbook goes to the writer now, not into memory
            sim.sink(rec)
            rec.drop_pollbook()
        sim.records.append(rec)
    del kind, on, onroll, barred
    # what the votes do to the roll
    voted = v[regular]
    r.last_vote[voted] = t
    r.activity[voted] = t
    back = v[~regular & listed]
    r.precinct[back] = r.home[back]  # the affidavit envelope gives the clerk the new address
    sim.set_status(back[r.status[back] == Status.INACTIVE], t, Status.ACTIVE)
    r.activity[back] = t
    r.last_vote[back] = t
    turned = v[(code == RollStatus.NOT_ON_ROLL) & ~barred_v]
    turned = turned[r.apply[turned] > t]
    turned = turned[sim.uniform(REGISTERS, turned, t) < rates.affidavit_registers]
    r.apply[turned] = t + exponential_days(sim.uniform(REGISTER_DAYS, turned, t), 45.0)
    sim.schedule("apply", turned, r.apply[turned])
    sim.counts[:] = 0


def _people(sim: Simulation, t: int, off: np.ndarray, barred: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Per county of residence: barred by a conviction; eligible with no record in their county (of whom
    removed for not answering a notice, and of whom enfranchised again by the 2024 bill). ``off``: the
    rows who may vote but are not on their county's roll."""
    r, nc = sim.roll, sim.geo.n_counties
    hc = r.hcounty
    out = np.zeros((nc, 4), dtype=np.int64)
    out[:, 0] = np.bincount(hc[barred], minlength=256)[:nc] + np.bincount(hc[inside], minlength=256)[:nc]
    off = off[(r.reg_no[off] > 0) & ~barred[off]]
    oc = hc[off]
    out[:, 1] = np.bincount(oc, minlength=256)[:nc]
    wrong = (r.status[off] >= Status.REMOVED) & (r.removed_reason[off] == Reason.NO_RESPONSE) & (r.county[off] == oc)
    out[:, 2] = np.bincount(oc[wrong], minlength=256)[:nc]
    out[:, 3] = np.bincount(oc[r.conv[off] <= t], minlength=256)[:nc]
    return out


def _record(sim: Simulation, e: Election, v: np.ndarray, vc: np.ndarray, code: np.ndarray, ab: np.ndarray, regular: np.ndarray,
            barred_v: np.ndarray, people: np.ndarray, arrive: np.ndarray, listed: np.ndarray) -> ElectionRecord:  # fmt: skip
    r, geo, t = sim.roll, sim.geo, e.date
    np_, nc, ns = len(geo.precinct_ids), geo.n_counties, len(RollStatus)
    m = np.zeros((nc, len(METRICS)), dtype=np.int64)

    def put(name: str, counts: np.ndarray) -> None:
        m[:, METRICS.index(name)] = counts

    # the pollbook: status (active, restored, inactive) x deadwood cause x years since ineligible
    rows = np.flatnonzero(listed)  # mask of Roll.listed(e.deadline)
    st, county, restored = r.status[rows], r.county[rows], r.restored[rows]
    cat = county.astype(np.intp)  # county x 60 + kind x 20 + cause x 4 + age, kind: 0 active, 1 restored, 2 inactive
    cat *= 60
    kind = restored.view(np.uint8) * np.uint8(20)
    kind[st == Status.INACTIVE] = 40
    cat += kind
    del kind
    # deadwood (cause 1-4), found on the whole columns: few rows
    wr = np.flatnonzero(listed & ((r.hcounty != r.county) | (r.death <= t) | (r.conv <= t)))
    hc = r.hcounty[wr]
    cause = (hc != r.county[wr]).view(np.uint8) * np.uint8(3)  # lives in another county
    cause -= (hc == GONE).view(np.uint8)  # 2: left the state
    conv = np.flatnonzero((r.conv[wr] <= t) & (cause == 0))
    cause[conv[sim.barred(wr[conv], t)]] = 4
    cause[r.death[wr] <= t] = 1
    wood = np.flatnonzero(cause)
    wr, wc = wr[wood], cause[wood]
    since = np.select([wc == 1, wc == 4], [r.death[wr], r.conv[wr]], r.moved[wr])
    since -= t  # minus whole days since: past 1, 2, 4 years of 365.25 days
    age = (since <= -366).view(np.uint8) + (since <= -731).view(np.uint8) + (since <= -1461).view(np.uint8)
    cell = r.county[wr].astype(np.intp) * 60 + np.where(r.status[wr] == Status.INACTIVE, 40, r.restored[wr] * 20)  # as if cause 0
    moved = np.bincount(cell + wc * 4 + age, minlength=nc * 60) - np.bincount(cell, minlength=nc * 60)
    book = (np.bincount(cat, minlength=nc * 60) + moved).reshape(nc, 3, 5, 4)
    put("active", book[:, :2].sum(axis=(1, 2, 3)))
    put("restored", book[:, 1].sum(axis=(1, 2)))
    put("inactive", book[:, 2].sum(axis=(1, 2)))
    put("eligible_inactive", book[:, 2, 0].sum(axis=1))
    for k, name in enumerate(("dead", "moved_away", "other_county", "barred"), start=1):
        put(f"deadwood_{name}", book[:, :, k].sum(axis=(1, 2)))
    for k, name in enumerate(("under_1y", "1_2y", "2_4y", "over_4y")):
        put(f"deadwood_{name}", book[:, :, 1:, k].sum(axis=(1, 2)))
    put("removed_kept", np.bincount(r.county[r.status == Status.REMOVED], minlength=nc))
    for k, name in enumerate(("barred_residents", "eligible_off_roll", "wrongly_removed", "restored_off_roll")):
        put(name, people[:, k])
    # ballots, counted in the county where the voter lives
    done = (r.conv[v] <= t) & (r.custody_end[v] <= t)
    ballots = _by_county(vc, ((code * 2 + ab) * 2 + done) * 4 + regular * 2 + (regular & barred_v), nc, ns * 16).reshape(nc, ns, 2, 2, 4)
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
    inperson = ~ab
    arrivals = np.bincount(arrive[inperson].astype(np.intp) * ns + code[inperson], minlength=np_ * ns).reshape(np_, ns)
    absentee = np.bincount(r.precinct[v[ab]].astype(np.intp), minlength=np_)
    how = np.full(len(v), VOTED_AFFIDAVIT, dtype=np.uint8)
    how[regular] = VOTED_REGULAR
    how[ab] = VOTED_AB
    marks = np.zeros(r.n, dtype=np.uint8)
    marks[v] = how
    status = st | (restored.astype(np.uint8) << 2)
    return ElectionRecord(e, rows.astype(np.int32), r.precinct[rows], status, r.reg_date[rows], marks[rows], arrivals, absentee, m)
