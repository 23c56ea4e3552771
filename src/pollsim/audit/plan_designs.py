"""Monte Carlo of statewide audit designs on a run's *reported* data, for planning (§§23-15-617 to
617.5; issue 16, item 3). Used by :mod:`.plan`.

Planning uses only what a county knows before the audit: the CVR layer (the reported votes,
card by card and per batch), the manifest and the equipment's evidence. The paper is assumed to
agree with the reported records except for **planning discrepancies**: each reported vote for a
reported winner is blank on the paper with probability ``o1`` (default 0.001, the usual 1-vote
overstatement rate). Each design is simulated ``trials`` times exactly as :func:`~.commands.run_audit`
would run it (its round sizes, its risk measure, its stopping rule); numpy draws stand in for the
public samplers (the same distribution). For each simulated audit the result is the work per
county — distinct ballots pulled, or the cards of distinct batches hand-counted — and whether it
escalated to a full manual recount.

Designs (each statewide, one test for the contest):

- ``polling``: BRAVO over every card (:class:`~.risk.BallotPollingBravo`; round sizes of
  :func:`~.rounds.plan`);
- ``card``: card-level comparison, Kaplan-Markov (every batch must have ``card`` evidence);
- ``batch``: MACRO over every batch (:mod:`.batch_audit`; every batch needs a tally);
- ``hybrid``: SUITE-style, product combination (:mod:`.strata_audit`): ``card`` batches by
  comparison, all others by polling (needs some ``card`` batches);
- ``oneaudit``: ONEAudit, ``card`` batches with their CVRs, the others as pools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from pollsim.audit.batch import BatchContest, ppeb_weights
from pollsim.audit.batch_audit import schedule as batch_schedule
from pollsim.audit.contest import ReportedOutcome
from pollsim.audit.risk import OFFSET, BallotPollingBravo, KaplanMarkov
from pollsim.audit.rounds import RoundPolicy, plan
from pollsim.audit.strata_audit import hybrid_schedule, hybrid_strata, one_audit_contests, oneaudit_schedule, strata_of
from pollsim.audit.stratified import suite_p_values

CHUNK = 2_000_000  # draws held at once per array


@dataclass(frozen=True, eq=False)
class PlanData:
    """A contest's reported data, as planning sees it."""

    outcome: ReportedOutcome
    block: np.ndarray  # uint8[N, k]: the contest's CVR marks, overvotes blanked
    row_batch: np.ndarray  # int64[N]
    reported: np.ndarray  # int64[B, k]
    batch_cards: np.ndarray  # int64[B]
    batch_county: np.ndarray  # int64[B]: index into counties
    counties: tuple[str, ...]
    batch_names: tuple[str, ...]
    level: tuple[str, ...]  # evidence of each batch

    @cached_property
    def row_county(self) -> np.ndarray:
        return self.batch_county[self.row_batch]

    def pairs(self, a_index: int) -> np.ndarray:
        """``int8[N]``: each card's reported pair value for assertion number ``a_index``."""
        return self._pairs[a_index]

    @cached_property
    def _pairs(self) -> list[np.ndarray]:
        b = self.block
        return [b[:, a.winner_index].astype(np.int8) - b[:, a.loser_index].astype(np.int8) for a in self.outcome.assertions]


@dataclass
class Simulated:
    """Per simulated audit: work per county (``units``), escalation, draws; round 1 size."""

    units: np.ndarray  # float64[trials, C]: ballots pulled, or cards of the batches counted
    escalated: np.ndarray  # bool[trials]
    draws: np.ndarray  # int64[trials]: draws made (to the stopping round, or all rounds)
    first: str  # round 1 size, as text
    counted: str  # "ballots pulled" or "cards hand-counted"
    batches: np.ndarray | None = field(default=None)  # int64[trials]: batches counted (batch design)


def _rounds(tau: np.ndarray, ends: list[int]) -> np.ndarray:
    """Round index (0-based; len(ends): escalated) where each audit stops, from its stopping draw."""
    return np.searchsorted(np.asarray(ends), tau, side="left")


def _first_hit(log_t: np.ndarray, target: float) -> np.ndarray:
    hit = log_t >= target
    return np.where(hit.any(axis=1), np.argmax(hit, axis=1) + 1, log_t.shape[1] + 1)


def _tally(unit_rows: list[np.ndarray], unit_county: np.ndarray, unit_weight: np.ndarray, counties: int) -> tuple[np.ndarray, np.ndarray]:
    """(weight per county, distinct units) of each audit's drawn units."""
    out = np.zeros((len(unit_rows), counties))
    distinct = np.zeros(len(unit_rows), np.int64)
    for t, units in enumerate(unit_rows):
        u = np.unique(units)
        distinct[t] = len(u)
        out[t] = np.bincount(unit_county[u], weights=unit_weight[u], minlength=counties)
    return out, distinct


def _misread(cls: np.ndarray, u: np.ndarray, o1: float) -> np.ndarray:
    """Paper pair values: a reported winner vote (+1) is blank (0) with probability o1."""
    return np.where((cls == 1) & (u < o1), 0, cls).astype(np.int8)


def simulate_uniform(d: PlanData, ends: list[int], trials: int, rng: np.random.Generator, o1: float, risk_limit: float, log_f, first: str) -> Simulated:
    """Audits drawing cards uniformly from all N cards; ``log_f(a, pair, paper, rows)`` gives
    ln f per draw for assertion number ``a`` (reported and paper pair values of the drawn rows)."""
    n, c = len(d.row_batch), len(d.counties)
    if not ends:
        return Simulated(np.zeros((trials, c)), np.ones(trials, bool), np.zeros(trials, np.int64), first, "ballots pulled")
    horizon, target = ends[-1], math.log(1 / risk_limit) - 1e-12
    rounds = np.zeros(trials, np.int64)
    rows_used: list[np.ndarray] = []
    chunk = max(1, CHUNK // horizon)
    for start in range(0, trials, chunk):
        size = min(chunk, trials - start)
        idx = rng.integers(0, n, (size, horizon))
        u = rng.random((size, horizon))
        tau = np.zeros(size, np.int64)
        for a in range(len(d.outcome.assertions)):
            pair = d.pairs(a)[idx]
            tau = np.maximum(tau, _first_hit(np.cumsum(log_f(a, pair, _misread(pair, u, o1), idx), axis=1), target))
        r = _rounds(tau, ends)
        rounds[start : start + size] = r
        drawn = np.asarray(ends)[np.minimum(r, len(ends) - 1)]
        rows_used += [idx[t, : drawn[t]] for t in range(size)]
    units, _ = _tally(rows_used, d.row_county, np.ones(n), c)
    return Simulated(units, rounds >= len(ends), np.array([len(x) for x in rows_used], np.int64), first, "ballots pulled")


def simulate_polling(d: PlanData, risk_limit: float, policy: RoundPolicy, trials: int, rng: np.random.Generator, o1: float) -> Simulated:
    """BRAVO over every card."""
    fn = BallotPollingBravo()
    ends, direct = plan(fn, [d.outcome], risk_limit, policy, len(d.row_batch))
    tables = [fn.log_factors(a) for a in d.outcome.assertions]
    return simulate_uniform(d, [] if direct else ends, trials, rng, o1, risk_limit, lambda a, pair, paper, idx: tables[a][paper + OFFSET], f"{ends[0]:,} ballots" if ends else "full count")


def simulate_card(d: PlanData, risk_limit: float, policy: RoundPolicy, trials: int, rng: np.random.Generator, o1: float) -> Simulated:
    """Card-level comparison (Kaplan-Markov) over every card."""
    fn = KaplanMarkov()
    ends, direct = plan(fn, [d.outcome], risk_limit, policy, len(d.row_batch))
    tables = [fn.log_factors(a) for a in d.outcome.assertions]
    return simulate_uniform(d, [] if direct else ends, trials, rng, o1, risk_limit, lambda a, pair, paper, idx: tables[a][pair - paper + OFFSET], f"{ends[0]:,} ballots" if ends else "full count")


def simulate_oneaudit(d: PlanData, risk_limit: float, policy: RoundPolicy, trials: int, rng: np.random.Generator, o1: float) -> Simulated:
    """ONEAudit: ``card`` batches' cards with their CVRs, every other batch a pool."""
    o = d.outcome
    stratum = strata_of("oneaudit", d.level)
    pool = np.array([s == "pool" for s in stratum], bool)
    own_rows = ~pool[d.row_batch]
    contests = one_audit_contests(o, {a.name: d.pairs(i)[own_rows] for i, a in enumerate(o.assertions)}, d.reported, d.batch_cards, pool)
    ends = oneaudit_schedule(contests, risk_limit, policy, len(d.row_batch))
    rank = np.cumsum(pool) - 1
    x = [contests[a.name] for a in o.assertions]
    bets = [c.bet() for c in x]

    def log_f(a: int, pair: np.ndarray, paper: np.ndarray, idx: np.ndarray) -> np.ndarray:
        b = d.row_batch[idx]
        means = x[a].pool_means
        abar = np.where(pool[b], means[np.maximum(rank[b], 0)] if len(means) else 0.0, (1 + pair) / 2)
        return x[a].log_factors(paper, bets[a], reported=abar)

    return simulate_uniform(d, ends, trials, rng, o1, risk_limit, log_f, f"{ends[0]:,} ballots" if ends else "full count")


def simulate_batch(d: PlanData, risk_limit: float, policy: RoundPolicy, trials: int, rng: np.random.Generator, o1: float) -> Simulated:
    """MACRO over every batch (Arlo's), each batch's reported winner votes short by Binomial(v, o1)."""
    o = d.outcome
    bc = BatchContest(o.contest, o.choices, d.reported, d.batch_cards, o.vote_for, o.kind)
    ends = batch_schedule("macro", bc, risk_limit, policy)
    nb, c = len(d.batch_cards), len(d.counties)
    first = f"{ends[0]:,} batches" if ends else "full count"
    if not ends:
        return Simulated(np.zeros((trials, c)), np.ones(trials, bool), np.zeros(trials, np.int64), first, "cards hand-counted", np.zeros(trials, np.int64))
    total, u = bc.total_error_bound, bc.error_bounds
    taint = np.zeros((trials, nb))
    margins = {(p[0], p[1]): m for p, m in zip(bc.pairs.tolist(), bc.margins.tolist(), strict=True)}
    for w in o.winners:
        vmin = min(m for (pw, _), m in margins.items() if pw == w)
        lost = rng.binomial(d.reported[:, w], o1, (trials, nb))
        with np.errstate(divide="ignore", invalid="ignore"):
            taint = np.maximum(taint, np.where(u > 0, lost / (vmin * np.where(u > 0, u, 1)), 0.0))
    with np.errstate(divide="ignore"):
        table = np.log1p(-np.minimum(taint, 1.0)) - math.log1p(-1 / total)
    cdf = np.cumsum(ppeb_weights(bc))
    horizon, target = ends[-1], math.log(1 / risk_limit) - 1e-12
    idx = np.minimum(cdf.searchsorted(rng.random((trials, horizon)) * cdf[-1], side="right"), nb - 1)
    r = _rounds(_first_hit(np.cumsum(np.take_along_axis(table, idx, axis=1), axis=1), target), ends)
    drawn = np.asarray(ends)[np.minimum(r, len(ends) - 1)]
    units, distinct = _tally([idx[t, : drawn[t]] for t in range(trials)], d.batch_county, d.batch_cards.astype(float), c)
    return Simulated(units, r >= len(ends), drawn, first, "cards hand-counted", distinct)


def simulate_hybrid(d: PlanData, risk_limit: float, policy: RoundPolicy, trials: int, rng: np.random.Generator, o1: float) -> Simulated:
    """SUITE-style (product): ``card`` batches by comparison, the rest by polling."""
    o = d.outcome
    stratum = strata_of("hybrid", d.level)
    strata = hybrid_strata(o, d.batch_cards, d.reported, stratum)
    plan_ends = hybrid_schedule(strata, o, d.reported, stratum, risk_limit, policy)
    c = len(d.counties)
    first = f"{plan_ends[0][0]:,} + {plan_ends[0][1]:,} ballots" if plan_ends else "full count"
    if not plan_ends:
        return Simulated(np.zeros((trials, c)), np.ones(trials, bool), np.zeros(trials, np.int64), first, "ballots pulled")
    card_batch = np.array([s == "card" for s in stratum], bool)
    rows = [np.flatnonzero(card_batch[d.row_batch]), np.flatnonzero(~card_batch[d.row_batch])]
    e1, e2 = [e[0] for e in plan_ends], [e[1] for e in plan_ends]
    target = risk_limit
    rounds = np.zeros(trials, np.int64)
    used: list[np.ndarray] = []
    chunk = max(1, CHUNK // (50 * max(1, e1[-1] + e2[-1])))
    for start in range(0, trials, chunk):
        size = min(chunk, trials - start)
        idx1 = rows[0][rng.integers(0, max(1, len(rows[0])), (size, e1[-1]))] if len(rows[0]) else np.zeros((size, 0), np.int64)
        idx2 = rows[1][rng.integers(0, max(1, len(rows[1])), (size, e2[-1]))] if len(rows[1]) else np.zeros((size, 0), np.int64)
        u1, u2 = rng.random(idx1.shape), rng.random(idx2.shape)
        r = np.zeros(size, np.int64)
        for i, a in enumerate(o.assertions):
            p1, p2 = d.pairs(i)[idx1], d.pairs(i)[idx2]
            p = suite_p_values(strata[a.name], p1 - _misread(p1, u1, o1), _misread(p2, u2, o1), e1, e2, "product")
            met = p <= target
            r = np.maximum(r, np.where(met.any(axis=1), np.argmax(met, axis=1), len(plan_ends)))
        rounds[start : start + size] = r
        k = np.minimum(r, len(plan_ends) - 1)
        used += [np.concatenate([idx1[t, : e1[k[t]]], idx2[t, : e2[k[t]]]]) for t in range(size)]
    units, _ = _tally(used, d.row_county, np.ones(len(d.row_batch)), c)
    return Simulated(units, rounds >= len(plan_ends), np.array([len(x) for x in used], np.int64), first, "ballots pulled")
