"""Hybrid (SUITE-style) and ONEAudit audits of a run (§§23-15-617 to 617.5; issue 16, item 2):
one contest whose paper is of two kinds, some tied card by card to its CVR and some only to its
batch's tally (:mod:`.evidence` says which, per device).

**Hybrid** (``hybrid``; :mod:`.stratified` has the mathematics and its references: Ottoboni,
Stark, Lindeman & McBurnett 2018 as Arlo's hybrid audit; Spertus & Stark 2022). The batches with
``card`` evidence form the comparison stratum, all others the polling stratum; each stratum is
sampled on its own with Rivest's consistent sampler (or the ColoradoRLA-style one,
:func:`stratum_seed`) over its own manifest (the run's manifest
restricted to its batches, in run order), so the two samples are independent. Round 1 draws, per
stratum, Arlo's comparison size for the stratum's own diluted margin and BRAVO's ASN for the
polling stratum's reported shares (the largest over the contest's assertions; a stratum whose
reported margin is not positive draws its whole size); later rounds grow by the policy; a
stratum's draws never exceed its cards. The P-value is :func:`~.stratified.suite_p_value` (48
intervals of beta), per assertion; the contest's risk is the largest. ``combine``: ``product``
(the default) or ``fisher``. Why ``product``: the audit measures after every round and stops at
the first that meets the limit; the product of the strata's test supermartingales is itself one
(the strata are sampled independently), so by Ville's inequality the risk limit holds at any
stopping round. Fisher's combination of the two running P-values is a valid P-value at a fixed
sample size, but stopping at whichever round first meets the limit is not covered by that
argument (SUITE's own caveat); pollsim offers it for comparison with Arlo.

**ONEAudit** (``oneaudit``; :mod:`.oneaudit`, Stark 2023). Cards of ``card`` batches keep their
CVRs; every other batch is a pool whose cards get the batch's mean assorter value (from its
reported tally) as their CVR. The sample is drawn from the whole manifest with Rivest's
consistent sampler, as a card-level audit's; the bet is fixed from the reported figures; the
risk is 1 / max T per assertion.

Labour: ballots are pulled one by one (:attr:`~.boards.AuditBoards.audit_ballots_per_hour`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pollsim.audit.ballots import RunBallots
from pollsim.audit.boards import AuditBoards
from pollsim.audit.contest import ReportedOutcome, blank_overvotes, outcome_from_votes, pair_values
from pollsim.audit.designs import DesignAuditResult, batch_tallies, check_risk_limit, conclude, one_contest, risk_of, round_line
from pollsim.audit.errors import AuditError
from pollsim.audit.evidence import batch_evidence, require
from pollsim.audit.manifest import BallotManifest, manifest_from_run
from pollsim.audit.oneaudit import OneAuditContest
from pollsim.audit.rounds import RoundPolicy, RoundRecord
from pollsim.audit.sample_size import arlo_size, bravo_asn
from pollsim.audit.sampling import Sample, canonical_seed, make_sampler
from pollsim.audit.stratified import COMBINE, Strata, suite_p_value

STRATA_METHODS = ("hybrid", "oneaudit")
STRATA = {"hybrid": ("card", "poll"), "oneaudit": ("all",)}


@dataclass(eq=False)
class StrataAuditResult(DesignAuditResult):
    """A hybrid or ONEAudit audit: per stratum its manifest, draws and records."""

    sampler: str  # "consistent" or "colorado"
    manifest: BallotManifest  # the run's manifest (run order)
    stratum_of: tuple[str, ...]  # per manifest batch: "card"/"poll" (hybrid), "cvr"/"pool" (oneaudit)
    equipment: tuple[str, ...]  # per manifest batch
    reported: np.ndarray  # int64[n_batches, k]: reported votes per batch
    samples: dict[str, Sample]  # stratum -> its draws (card indexes into that stratum's manifest)
    draw_round: dict[str, np.ndarray]
    cvr_blocks: dict[str, np.ndarray]  # stratum -> uint8[n, k]: each draw's CVR
    mvr_blocks: dict[str, np.ndarray]  # stratum -> uint8[n, k]: the boards' reading of its paper


def stratum_seed(sampler: str, seed: str, stratum: str) -> str:
    """The seed a stratum's sampler hashes: the seed itself for Rivest's sampler (its tickets
    hash each ballot's name, so the strata's samples are independent); for the ColoradoRLA-style
    sampler, whose k-th pick hashes only the seed and k, the seed followed by ``:card`` or
    ``:poll``, so the two strata do not share their picks."""
    return seed if sampler == "consistent" or stratum == "all" else f"{seed}:{stratum}"


def sub_manifest(m: BallotManifest, keep: np.ndarray) -> BallotManifest | None:
    """The manifest restricted to the batches ``keep`` (bool), in order; None if empty."""
    idx = np.flatnonzero(keep)
    if not len(idx):
        return None
    return BallotManifest(tuple(m.batch_names[i] for i in idx), tuple(m.containers[i] for i in idx), tuple(m.tabulators[i] for i in idx), m.counts[idx], m.source)


def strata_of(method: str, level: tuple[str, ...]) -> tuple[str, ...]:
    """Each batch's stratum from its evidence level."""
    if method == "hybrid":
        return tuple("card" if x == "card" else "poll" for x in level)
    return tuple("cvr" if x == "card" else "pool" for x in level)


def hybrid_strata(outcome: ReportedOutcome, cards: np.ndarray, reported: np.ndarray, stratum: tuple[str, ...]) -> dict[str, Strata]:
    """{assertion: Strata} from the batches' cards and reported votes."""
    card = np.array([s == "card" for s in stratum], bool)
    n1, n2 = int(cards[card].sum()), int(cards[~card].sum())
    v1, v2 = reported[card].sum(axis=0), reported[~card].sum(axis=0)
    return {a.name: Strata(n1, int(v1[a.winner_index] - v1[a.loser_index]), n2, int(v2[a.winner_index] - v2[a.loser_index])) for a in outcome.assertions}


def hybrid_schedule(strata: dict[str, Strata], outcome: ReportedOutcome, reported: np.ndarray, stratum: tuple[str, ...], risk_limit: float, policy: RoundPolicy) -> list[tuple[int, int]]:
    """(comparison draws, polling draws) at the end of each round (empty: a full manual recount)."""
    s = next(iter(strata.values()))
    caps = (policy.cap(s.cards_cvr), policy.cap(s.cards_poll))
    poll = reported[np.array([x == "poll" for x in stratum], bool)].sum(axis=0)
    first = [0, 0]
    for a in outcome.assertions:
        st = strata[a.name]
        if st.cards_cvr:
            m1 = st.margin_cvr / st.cards_cvr
            first[0] = max(first[0], int(min(caps[0] + 1, arlo_size(m1, risk_limit))) if m1 > 0 else caps[0] + 1)
        if st.cards_poll:
            asn = bravo_asn(poll[a.winner_index] / st.cards_poll, poll[a.loser_index] / st.cards_poll, risk_limit)
            first[1] = max(first[1], math.ceil(asn - 1e-9) if math.isfinite(asn) else caps[1] + 1)
    if all(f > c for f, c in zip(first, caps, strict=True) if c > 0):
        return []
    ends: list[tuple[int, int]] = []
    for i in range(policy.max_rounds):
        e = (min(caps[0], math.ceil(first[0] * policy.growth**i - 1e-9)), min(caps[1], math.ceil(first[1] * policy.growth**i - 1e-9)))
        if ends and e == ends[-1]:
            break
        ends.append(e)
    return ends


def one_audit_contests(outcome: ReportedOutcome, cvr_pairs: dict[str, np.ndarray], reported: np.ndarray, cards: np.ndarray, pool: np.ndarray) -> dict[str, OneAuditContest]:
    """{assertion: OneAuditContest}: CVR cards' pair values and the pools' tallies."""
    r = reported[pool]
    return {a.name: OneAuditContest(cvr_pairs[a.name], r[:, a.winner_index], r[:, a.loser_index], cards[pool]) for a in outcome.assertions}


def oneaudit_schedule(contests: dict[str, OneAuditContest], risk_limit: float, policy: RoundPolicy, n: int) -> list[int]:
    first = max(c.sample_size(risk_limit) for c in contests.values())
    return policy.schedule(math.ceil(first - 1e-9), n) if math.isfinite(first) else []


def measure_hybrid(outcome: ReportedOutcome, strata: dict[str, Strata], cvr: np.ndarray, mvr: dict[str, np.ndarray], ends: tuple[int, int], combine: str) -> dict[str, tuple[float, float]]:
    """{assertion: (1/P, P)} after ``ends`` draws: comparison draws' CVR ``cvr`` and readings
    ``mvr["card"]``, polling draws' readings ``mvr["poll"]`` (contest blocks, overvotes blanked)."""
    out = {}
    for a in outcome.assertions:
        omega = pair_values(cvr[: ends[0]], a) - pair_values(mvr["card"][: ends[0]], a)
        p = suite_p_value(strata[a.name], omega, pair_values(mvr["poll"][: ends[1]], a), combine)
        out[a.name] = (1 / p if p > 0 else math.inf, p)
    return out


def measure_oneaudit(outcome: ReportedOutcome, contests: dict[str, OneAuditContest], abar: dict[str, np.ndarray], mvr: np.ndarray, end: int) -> dict[str, tuple[float, float]]:
    """{assertion: (max T, risk)} after ``end`` draws; ``abar``: each draw's reported assorter value."""
    return {a.name: risk_of(np.cumsum(contests[a.name].log_factors(pair_values(mvr[:end], a), reported=abar[a.name][:end]))) for a in outcome.assertions}


def pool_index(manifest: BallotManifest, pool: np.ndarray, cards: np.ndarray) -> np.ndarray:
    """Each drawn card's pool (its batch's rank among the pool batches), -1 for a card with its own CVR."""
    batch, _ = manifest.locate(cards)
    rank = np.cumsum(pool) - 1
    return np.where(pool[batch], rank[batch], -1)


def draw_values(outcome: ReportedOutcome, contests: dict[str, OneAuditContest], pool_index: np.ndarray, cvr: np.ndarray) -> dict[str, np.ndarray]:
    """Each draw's reported assorter value per assertion: its pool's mean (``pool_index`` >= 0)
    or its own CVR's (1 + pair)/2."""
    out = {}
    for a in outcome.assertions:
        own = (1 + pair_values(cvr, a).astype(float)) / 2
        out[a.name] = np.where(pool_index >= 0, contests[a.name].pool_means[np.maximum(pool_index, 0)] if len(contests[a.name].pool_means) else 0.0, own)
    return out


def strata_workload(boards: AuditBoards, manifests: dict[str, BallotManifest], samples: dict[str, Sample], everything: BallotManifest, escalated: bool) -> dict:
    """Distinct ballots pulled per county (all strata, at the audit rate), a full recount, per diem."""
    pulled: dict[str, int] = {}
    for s, sample in samples.items():
        for c, n in manifests[s].ballots_per_container(sample.cards).items():
            pulled[c] = pulled.get(c, 0) + n
    return boards.total(dict(sorted(pulled.items())), boards.audit_ballots_per_hour, everything.ballots_per_container(), escalated)


def _read(ballots: RunBallots, boards: AuditBoards, cid: str, m: BallotManifest, run_batch: np.ndarray, cards: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(CVR, the boards' reading) of the contest for manifest cards ``cards`` (overvotes blanked)."""
    sl, vote_for = ballots.election.contest_slices[cid], ballots.election.contest(cid).vote_for
    batch, position = m.locate(cards)
    rows = ballots.rows(run_batch[batch], position)
    mvr = boards.read(ballots.paper[rows], [sl], rng)[:, sl]
    return blank_overvotes(ballots.cvr[rows][:, sl], vote_for), blank_overvotes(mvr, vote_for)


def run_strata_audit(
    ballots: RunBallots, contest: str, risk_limit: float, seed: str, method: str = "hybrid", echo: Callable[[str], None] = print, *,
    boards: AuditBoards | None = None, policy: RoundPolicy | None = None, evidence: dict[str, str] | None = None, combine: str = "product",
    sampler: str = "consistent",
) -> StrataAuditResult:  # fmt: skip
    """Audit one contest of a run by a hybrid (SUITE-style) design or ONEAudit (module doc)."""
    if method not in STRATA_METHODS:
        raise AuditError(f"unknown stratified design '{method}' (choose from: {', '.join(STRATA_METHODS)})")
    if combine not in COMBINE:
        raise AuditError(f"unknown combining function '{combine}' (choose from: {', '.join(COMBINE)})")
    cid, risk_limit = one_contest(contest, method), check_risk_limit(risk_limit)
    boards, policy, seed = boards or AuditBoards(), policy or RoundPolicy(), canonical_seed(seed)
    b = ballots.batches
    manifest = manifest_from_run(b, ballots.source)
    ev = batch_evidence(ballots, evidence)
    if method == "oneaudit":
        require(ev, ("card", "batch"), "ONEAudit", b.names)
    reported = batch_tallies(ballots, cid)
    c = ballots.election.contest(cid)
    outcome = outcome_from_votes(cid, c.kind, c.vote_for, tuple(ch.id for ch in c.choices), tuple(int(v) for v in reported.sum(axis=0)), manifest.total)
    stratum = strata_of(method, ev.level)
    names = STRATA[method]
    manifests = {s: m for s, m in ((s, manifest if s == "all" else sub_manifest(manifest, np.array([x == s for x in stratum]))) for s in names) if m is not None}
    where = {name: i for i, name in enumerate(b.names)}
    run_batch = {s: np.array([where[x] for x in m.batch_names], np.int64) for s, m in manifests.items()}
    read_rng, count_rng = (np.random.default_rng(x) for x in np.random.SeedSequence(boards.seed).spawn(2))
    samplers = {s: make_sampler(sampler, m, stratum_seed(sampler, seed, s)) for s, m in manifests.items()}
    k = len(outcome.choices)
    samples = {s: Sample(np.zeros(0, np.int64), (), np.zeros(0, np.int32)) for s in manifests}
    rounds_of = {s: np.zeros(0, np.int32) for s in manifests}
    cvr = {s: np.zeros((0, k), np.uint8) for s in names}
    mvr = {s: np.zeros((0, k), np.uint8) for s in names}
    if method == "hybrid":
        strata = hybrid_strata(outcome, manifest.counts, reported, stratum)
        plan = [{s: n for s, n in zip(("card", "poll"), e, strict=True) if s in manifests} for e in hybrid_schedule(strata, outcome, reported, stratum, risk_limit, policy)]
        params: dict = {"method": "hybrid", "combine": combine}
    else:
        pool = np.array([x == "pool" for x in stratum], bool)
        rows = np.flatnonzero(~pool[ballots.row_batch]) if (~pool).any() else np.zeros(0, np.int64)
        own = blank_overvotes(ballots.cvr[rows][:, ballots.election.contest_slices[cid]], c.vote_for)
        contests = one_audit_contests(outcome, {a.name: pair_values(own, a) for a in outcome.assertions}, reported, manifest.counts, pool)
        plan = [{"all": e} for e in oneaudit_schedule(contests, risk_limit, policy, manifest.total)]
        params = {"method": "oneaudit", "bets": {a: x.bet() for a, x in contests.items()}}
    direct = [] if plan else [cid]
    if direct:
        echo(f"{cid}: the sample would be as large as the count (or the reported result is a tie): full manual recount")
    rounds: list[RoundRecord] = []
    risk, confirmed, total = 1.0, False, 0
    for r, ends in enumerate(plan, start=1):
        for s, end in ends.items():
            prev = len(samples[s])
            if end > prev:
                samples[s] = samplers[s].draws(end)
                rounds_of[s] = np.concatenate([rounds_of[s], np.full(end - prev, r, np.int32)])
                cv, mv = _read(ballots, boards, cid, manifests[s], run_batch[s], samples[s].cards[prev:], read_rng)
                cvr[s], mvr[s] = np.vstack([cvr[s], cv]), np.vstack([mvr[s], mv])
        if method == "hybrid":
            m = measure_hybrid(outcome, strata, cvr["card"], mvr, (ends.get("card", 0), ends.get("poll", 0)), combine)
        else:
            abar = draw_values(outcome, contests, pool_index(manifest, pool, samples["all"].cards), cvr["all"])
            m = measure_oneaudit(outcome, contests, abar, mvr["all"], ends["all"])
        risk = max(v[1] for v in m.values())
        confirmed = risk <= risk_limit
        drawn = sum(ends.values())
        examined = sum(len(set(samples[s].cards.tolist())) for s in manifests)
        rounds.append(RoundRecord(r, drawn, drawn - total, examined, {cid: {a: v[1] for a, v in m.items()}}, {cid: {a: v[0] for a, v in m.items()}}, (cid,) if confirmed else ()))
        echo(round_line(r, drawn, drawn - total, f"{ends.get('card', 0)} comparison + {ends.get('poll', 0)} polling draws, " * (method == "hybrid") + f"{examined} ballots examined", {cid: risk}, risk_limit, confirmed))
        total = drawn
        if confirmed:
            break
    if plan and not confirmed:
        echo(f"risk limit not met for {cid} after {len(rounds)} round(s): full manual recount")
    recount, decisions = conclude(ballots, boards, outcome, confirmed, risk, count_rng, echo)
    return StrataAuditResult(
        design=method, method_params=params, risk_limit=risk_limit, seed=seed, policy=policy, boards=boards, sampler=sampler,
        evidence=ev.summary(b.counts), outcomes=[outcome], rounds=rounds, direct_to_count=direct, recount=recount, decisions=decisions,
        workload=strata_workload(boards, manifests, samples, manifest, not confirmed), manifest=manifest, stratum_of=stratum,
        equipment=ev.equipment, reported=reported, samples=samples, draw_round=rounds_of,
        cvr_blocks={s: cvr[s] for s in manifests}, mvr_blocks={s: mvr[s] for s in manifests},
    )  # fmt: skip
