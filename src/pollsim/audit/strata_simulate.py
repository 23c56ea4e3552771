"""Measuring the risk of hybrid audits: thousands of SUITE-style stratified audits and ONEAudits of
an election whose reported outcome is wrong (§23-15-617; the counterpart of :mod:`.simulate` for
:mod:`.stratified` and :mod:`.oneaudit`).

:func:`hybrid_election` builds a two-candidate contest of ``n_cvr`` cards with CVRs and
``n_pool`` cards in pools of ``pool_size`` with only a reported tally. Reported: w leads by
``margin`` of the cards in both parts. Wrong outcome: on paper l leads by one or two votes; the
votes that moved are split between the parts in proportion to their cards (CVR cards: a w CVR
whose paper says l, a 2-vote overstatement; pools: the tally counted some l votes for w).
Correct outcome: the paper agrees except for 1-vote overstatements at the planning rate.
Audits run in rounds (:class:`~pollsim.audit.rounds.RoundPolicy`), vectorized over audits.
"""

from __future__ import annotations

import math
import time

import numpy as np

from pollsim.audit.batch_simulate import simulate_batch_audits, wrong_batch_election
from pollsim.audit.errors import AuditError
from pollsim.audit.oneaudit import OneAuditContest
from pollsim.audit.rounds import RoundPolicy
from pollsim.audit.sample_size import arlo_size, bravo_asn
from pollsim.audit.simulate import binomial_quantile
from pollsim.audit.stratified import GRID, Strata, suite_p_values


def _moved(votes: int, total_moves: int, share: float) -> int:
    return min(votes, round(total_moves * share))


def hybrid_election(n_cvr: int, n_pool: int, pool_size: int, margin: float, wrong: bool, rng: np.random.Generator) -> dict:
    """Reported and paper pair values of every card (CVR cards first) and the pools' tallies."""
    if n_pool % pool_size:
        raise AuditError("n_pool must be a whole number of pools")
    n = n_cvr + n_pool
    reported = np.where(rng.random(n) < (1 + margin) / 2, 1, -1).astype(np.int8)
    paper = reported.copy()
    v = int(reported.sum())
    if v <= 0:
        raise AuditError("the synthetic reported outcome has no margin; raise the margin")
    if wrong:
        moves = v // 2 + 1
        m_cvr = _moved(int((reported[:n_cvr] == 1).sum()), moves, n_cvr / n)
        for lo, hi, m in ((0, n_cvr, m_cvr), (n_cvr, n, moves - m_cvr)):
            w_cards = lo + np.flatnonzero(reported[lo:hi] == 1)
            paper[rng.choice(w_cards, m, replace=False)] = -1
    else:
        slip = np.flatnonzero((reported == 1) & (rng.random(n) < 0.001))
        paper[slip] = 0  # the paper is blank where the record says w: a 1-vote overstatement
    pools = np.arange(n_pool) // pool_size
    rep_pool = reported[n_cvr:]
    return {
        "reported": reported,
        "paper": paper,
        "n_cvr": n_cvr,
        "pool_winner": np.bincount(pools, rep_pool == 1),
        "pool_loser": np.bincount(pools, rep_pool == -1),
        "pool_cards": np.full(n_pool // pool_size, pool_size),
    }


def _result(rounds: np.ndarray, ends: list, draws: np.ndarray) -> dict:
    confirmed = rounds <= len(ends)
    return {
        "round_draws": ends,
        "confirmed": int(confirmed.sum()),
        "confirmed_share": float(confirmed.mean()),
        "escalated": int((~confirmed).sum()),
        "draws": {"mean": round(float(draws.mean()), 2), **{str(q): int(np.ceil(np.percentile(draws, q))) for q in (50, 90, 99)}},
    }


def simulate_oneaudit(e: dict, risk_limit: float, audits: int, rng: np.random.Generator, policy: RoundPolicy | None = None) -> dict:
    """``audits`` ONEAudits of the election (uniform draws over all cards, rounds)."""
    policy = policy or RoundPolicy()
    oa = OneAuditContest(e["reported"][: e["n_cvr"]], e["pool_winner"], e["pool_loser"], e["pool_cards"])
    n = oa.cards
    first = oa.sample_size(risk_limit)
    ends = policy.schedule(math.ceil(first), n) if math.isfinite(first) else []
    table = oa.log_factors(e["paper"])
    rounds = np.full(audits, len(ends) + 1, np.int64)
    if ends:
        horizon, target = ends[-1], math.log(1 / risk_limit) - 1e-12
        chunk = max(1, 4_000_000 // horizon)
        for start in range(0, audits, chunk):
            size = min(chunk, audits - start)
            hit = np.cumsum(table[rng.integers(0, n, (size, horizon))], axis=1) >= target
            tau = np.where(hit.any(axis=1), np.argmax(hit, axis=1) + 1, horizon + 1)
            rounds[start : start + size] = np.searchsorted(np.array(ends), tau, side="left") + 1
    draws = np.where(rounds <= len(ends), np.array(ends + [n])[rounds - 1], n)
    return {"method": "oneaudit", "bet": oa.bet(), **_result(rounds, ends, draws)}


def simulate_suite(e: dict, risk_limit: float, audits: int, rng: np.random.Generator, combine: str = "fisher", policy: RoundPolicy | None = None, grid: int = GRID) -> dict:
    """``audits`` stratified audits: card-level comparison of the CVR cards, ballot polling of the
    pooled cards, combined over the allocation beta (:func:`~.stratified.suite_p_value`).
    First-round sizes: each stratum's own (Arlo's comparison size for its diluted margin, BRAVO's
    ASN for its reported shares); later rounds multiply both by the policy's growth. P-values
    are the unrefined grid bound of :func:`~.stratified.suite_p_value` (``grid`` intervals)."""
    policy = policy or RoundPolicy()
    nc = e["n_cvr"]
    rep, paper = e["reported"], e["paper"]
    n1, n2 = nc, len(rep) - nc
    s = Strata(n1, int(rep[:nc].sum()), n2, int(rep[nc:].sum()))
    omega = (rep[:nc] - paper[:nc]).astype(np.int8)
    m1 = s.margin_cvr / n1
    w2, l2 = (rep[nc:] == 1).mean(), (rep[nc:] == -1).mean()
    first1 = min(n1, int(arlo_size(m1, risk_limit))) if m1 > 0 else n1
    first2 = min(n2, math.ceil(bravo_asn(w2, l2, risk_limit)))
    ends2 = policy.schedule(first2, n2)
    k = len(ends2)
    ends1 = [min(n1, math.ceil(first1 * policy.growth**i)) for i in range(k)]
    rounds = np.full(audits, k + 1, np.int64)
    if k:
        chunk = max(1, 2_000_000 // ((ends1[-1] + ends2[-1]) * (grid + 1)))
        for start in range(0, audits, chunk):
            size = min(chunk, audits - start)
            d1 = omega[rng.integers(0, n1, (size, ends1[-1]))]
            d2 = paper[nc + rng.integers(0, n2, (size, ends2[-1]))]
            p = suite_p_values(s, d1, d2, ends1, ends2, combine, grid)  # (size, rounds)
            met = p <= risk_limit
            r = np.where(met.any(axis=1), np.argmax(met, axis=1) + 1, k + 1)
            rounds[start : start + size] = r
    draws = np.where(rounds <= k, np.array([a + b for a, b in zip(ends1, ends2, strict=True)] + [n1 + n2])[rounds - 1], n1 + n2)
    return {"method": f"suite-{combine}", "stratum_round_draws": [ends1, ends2], **_result(rounds, [a + b for a, b in zip(ends1, ends2, strict=True)], draws)}


DESIGNS = ("macro", "alpha-batch", "oneaudit", "suite-fisher", "suite-product")
ALIASES = {"batch": "macro", "hybrid": "suite-product", "suite": "suite-product"}  # as ``pollsim audit RUN_DIR --method``


def simulate_design(
    method: str, *, audits: int = 2000, risk_limit: float = 0.10, wrong_outcome: bool = True, ballots: int = 20_000, reported_margin: float = 0.08, share_without_cvr: float = 0.4, batch_size: int = 200, seed: int = 0
) -> dict:
    """The measured risk (wrong outcome) or workload (correct outcome) of a batch or hybrid
    design on a synthetic two-candidate contest of ``ballots`` cards: ``macro`` or
    ``alpha-batch`` over batches of ~``batch_size`` cards (``batch`` is ``macro``, Arlo's);
    ``oneaudit``, ``suite-product`` (``hybrid``, ``suite``: the default combination of
    ``pollsim audit RUN_DIR --method hybrid``) or ``suite-fisher`` with ``share_without_cvr`` of the
    cards in pools of ``batch_size``. Adds ``allowed_confirmed``, the 99.9 % quantile of
    Binomial(audits, risk_limit), and ``seconds``."""
    t0 = time.perf_counter()
    m = ALIASES.get(method, method)
    if m not in DESIGNS:
        raise AuditError(f"unknown audit design '{method}' (choose from: {', '.join(DESIGNS + tuple(ALIASES))})")
    rng = np.random.default_rng(seed)
    if m in ("macro", "alpha-batch"):
        bc, hand = wrong_batch_election(max(1, ballots // batch_size), batch_size, reported_margin, wrong_outcome, rng)
        out = simulate_batch_audits(bc, hand, m, risk_limit, audits, rng)
    else:
        n_pool = int(ballots * share_without_cvr) // batch_size * batch_size
        e = hybrid_election(ballots - n_pool, n_pool, batch_size, reported_margin, wrong_outcome, rng)
        out = simulate_oneaudit(e, risk_limit, audits, rng) if m == "oneaudit" else simulate_suite(e, risk_limit, audits, rng, m.split("-")[1])
    return {
        **out,
        "method": m,
        "risk_limit": risk_limit,
        "outcome_wrong": wrong_outcome,
        "allowed_confirmed": binomial_quantile(audits, risk_limit, 0.999),
        "seconds": round(time.perf_counter() - t0, 3),
    }
