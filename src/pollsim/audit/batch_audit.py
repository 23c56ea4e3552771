"""A batch-comparison audit of a run (§§23-15-617 to 617.5; issue 16, item 1): the audit boards
hand-count whole batches of paper and compare each count with the batch's reported tally.

The batches are the run's precinct x device batches (a DRE's VVPAT roll, a precinct scanner's
box), each with its reported tally of the contest (its results tape: the CVR layer's votes, by
the vote-for-N rule). As Arlo does, batches are keyed (jurisdiction, batch name) = (county,
``"<precinct> <device>"``) and sorted by key; the PPEB weights u_p / U are in that order
(:mod:`.batch` has the mathematics and its references: Stark's MACRO, Arlo's
``server/audit_math/macro.py`` and ``sampler.py``, SHANGRLA-style batch-level ALPHA).

1. **Round sizes**: round 1 is MACRO's ``ceil(ln alpha / ln(1 - 1/U))`` (``macro``) or batch
   ALPHA's size with clean batches (``alpha-batch``); later rounds grow by the
   :class:`~pollsim.audit.rounds.RoundPolicy`, capped at the number of batches. A first round
   that would draw every batch (or a tied contest, U infinite) goes straight to a full manual
   recount.
2. **Draws**: Arlo's ``draw_ppeb_sample``: numpy ``default_rng(int(sha256_hex(seed), 16))``
   choosing with the weights, all rounds one stream (each round's draws extend the last);
   each draw's ticket is the consistent sampler's ticket of its batch key (a batch drawn again
   gets the next ticket of its last, trimmed, one), as Arlo numbers them.
3. **Hand counts**: each newly drawn batch is counted once by the boards from the paper layer
   (with their misreadings, :mod:`.boards`).
4. **Risk**: ``macro``: Arlo's ``compute_risk``, the taints in ticket order, stopping at the first
   draw where the running P-value reaches the limit; ``alpha-batch``: each (winner, loser) pair's
   test supermartingale over the draws in draw order, risk 1 / max T so far, the contest's risk
   the largest. A confirmed contest's electronic record stands; otherwise a full manual recount
   decides (§23-15-617.4).

Labour: a drawn batch is counted whole, at the boards' sort-and-stack counting rate
(``recount_ballots_per_hour``), once however often it is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pollsim.audit.ballots import RunBallots
from pollsim.audit.batch import BETA, BatchContest, alpha_batch_sample_size, alpha_log_statistic, draw_ppeb, macro_risk, macro_sample_size, ppeb_weights
from pollsim.audit.boards import AuditBoards
from pollsim.audit.designs import DesignAuditResult, batch_tallies, check_risk_limit, conclude, hand_tallies, one_contest, risk_of, round_line
from pollsim.audit.errors import AuditError
from pollsim.audit.evidence import batch_evidence, require
from pollsim.audit.rounds import RoundPolicy, RoundRecord
from pollsim.audit.sampling import canonical_seed, first_ticket, next_ticket, sha256_hex, trim

BATCH_METHODS = ("macro", "alpha-batch")
MACRO = "macro"  # the name of MACRO's one test over all pairs, in risk tables


@dataclass(eq=False)
class BatchAuditResult(DesignAuditResult):
    """A batch-comparison audit: batches in Arlo's key order, the draws, the hand counts."""

    table: BatchContest  # reported votes and cards per batch, key order
    batch_names: tuple[str, ...]
    counties: tuple[str, ...]
    tabulators: tuple[str, ...]
    equipment: tuple[str, ...]
    draws: np.ndarray  # int64[n]: batch (key order) of each draw
    draw_round: np.ndarray  # int32[n]
    tickets: tuple[str, ...]
    times_drawn: np.ndarray  # int32[n]
    hand: dict[int, np.ndarray]  # batch -> int64[k] hand count, in the order first drawn


def method_check(method: str) -> str:
    m = {"batch": MACRO}.get(str(method), str(method))
    if m not in BATCH_METHODS:
        raise AuditError(f"unknown batch-comparison method '{method}' (choose from: batch, {', '.join(BATCH_METHODS)})")
    return m


def schedule(method: str, bc: BatchContest, risk_limit: float, policy: RoundPolicy, beta: float = BETA) -> list[int]:
    """Cumulative batch draws at the end of each round (empty: straight to a full manual
    recount). As in Arlo, a round whose draws would reach the number of batches is a full hand
    tally of every batch: the audit becomes the full manual recount instead."""
    total, n = bc.total_error_bound, len(bc.ballots)
    if not math.isfinite(total):
        return []
    first = macro_sample_size(total, risk_limit, n) if method == MACRO else alpha_batch_sample_size(total, risk_limit, n, beta)
    return [end for end in policy.schedule(first, n) if end < n]


def ppeb_tickets(seed: str, keys: list[tuple[str, str]], draws: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """(ticket, times drawn) of each draw: the consistent sampler's ticket of the batch key
    ``str((county, batch name))``; a repeat gets the next ticket of the batch's last one."""
    seed_hash = sha256_hex(canonical_seed(seed))
    last: dict[int, str] = {}
    count: dict[int, int] = {}
    tickets, times = [], []
    for b in np.asarray(draws, np.int64).tolist():
        t = trim(next_ticket(last[b]) if b in last else first_ticket(seed_hash, str(keys[b])))
        last[b] = t
        count[b] = count.get(b, 0) + 1
        tickets.append(t)
        times.append(count[b])
    return tuple(tickets), np.array(times, np.int32)


def measure(method: str, bc: BatchContest, draws: np.ndarray, hand: np.ndarray, tickets: tuple[str, ...], risk_limit: float, beta: float = BETA) -> dict[str, tuple[float, float]]:
    """{assertion: (statistic, risk)} after ``draws`` with hand counts ``hand`` (one row per
    draw): MACRO's one P-value over all pairs (taints in ticket order, as Arlo), or batch
    ALPHA's per pair (draw order). The statistic is 1 / risk for MACRO, max T for ALPHA."""
    total = bc.total_error_bound
    if method == MACRO:
        order = sorted(range(len(tickets)), key=lambda i: tickets[i])
        taints = bc.macro_taints(draws, hand)[np.array(order, np.int64)] if len(draws) else np.zeros(0)
        p, _ = macro_risk(total, taints, risk_limit)
        return {MACRO: (1 / p if p > 0 else math.inf, p)}
    log_t = alpha_log_statistic(total, bc.alpha_taints(draws, hand), beta) if len(draws) else np.zeros((0, len(bc.pairs)))
    return {a.name: risk_of(log_t[:, j]) for j, a in enumerate(bc.outcome.assertions)}


def batch_workload(boards: AuditBoards, table: BatchContest, counties: tuple[str, ...], counted: list[int], escalated: bool) -> dict:
    """Cards hand-counted per county (whole batches, at the counting rate), a full recount, per diem."""
    cards = np.asarray(table.ballots, np.int64)
    done: dict[str, int] = {}
    for b in counted:
        done[counties[b]] = done.get(counties[b], 0) + int(cards[b])
    everything: dict[str, int] = {}
    for c, n in zip(counties, cards.tolist(), strict=True):
        everything[c] = everything.get(c, 0) + n
    out = boards.total(dict(sorted(done.items())), boards.recount_ballots_per_hour, dict(sorted(everything.items())), escalated)
    out["audit"]["batches"] = len(counted)
    return out


def run_batch_audit(
    ballots: RunBallots,
    contest: str,
    risk_limit: float,
    seed: str,
    method: str = MACRO,
    echo: Callable[[str], None] = print,
    *,
    boards: AuditBoards | None = None,
    policy: RoundPolicy | None = None,
    evidence: dict[str, str] | None = None,
    beta: float = BETA,
) -> BatchAuditResult:
    """Audit one contest of a run by batch comparison (see the module doc)."""
    method = method_check(method)
    cid = one_contest(contest, "batch-comparison")
    risk_limit = check_risk_limit(risk_limit)
    boards, policy = boards or AuditBoards(), policy or RoundPolicy()
    seed = canonical_seed(seed)
    b = ballots.batches
    ev = batch_evidence(ballots, evidence)
    require(ev, ("card", "batch"), "a batch-comparison audit", b.names)
    reported = batch_tallies(ballots, cid)
    order = sorted(range(len(b.names)), key=lambda i: (b.containers[i], b.names[i]))  # Arlo's batch keys
    c = ballots.election.contest(cid)
    bc = BatchContest(cid, tuple(ch.id for ch in c.choices), reported[order], b.counts[order], c.vote_for, c.kind)
    names, counties = tuple(b.names[i] for i in order), tuple(b.containers[i] for i in order)
    keys = list(zip(counties, names, strict=True))
    weights = ppeb_weights(bc)
    ends = schedule(method, bc, risk_limit, policy, beta)
    direct = [] if ends else [cid]
    if direct:
        echo(f"{cid}: the sample would draw every batch (or the reported result is a tie): full manual recount")
    read_rng, count_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(boards.seed).spawn(2))
    draws, draw_round = np.zeros(0, np.int64), np.zeros(0, np.int32)
    tickets: tuple[str, ...] = ()
    times = np.zeros(0, np.int32)
    hand: dict[int, np.ndarray] = {}
    rounds: list[RoundRecord] = []
    risk, confirmed = 1.0, False
    for r, end in enumerate(ends, start=1):
        prev = len(draws)
        draws = draw_ppeb(seed, weights, end)
        draw_round = np.concatenate([draw_round, np.full(end - prev, r, np.int32)])
        tickets, times = ppeb_tickets(seed, keys, draws)
        new = [x for x in dict.fromkeys(draws.tolist()) if x not in hand]
        for x, row in zip(new, hand_tallies(ballots, boards, cid, [order[x] for x in new], read_rng), strict=True):
            hand[x] = row
        m = measure(method, bc, draws, np.array([hand[x] for x in draws.tolist()]), tickets, risk_limit, beta)
        risk = max(v[1] for v in m.values())
        confirmed = risk <= risk_limit
        cards = int(np.asarray(bc.ballots)[list(hand)].sum())
        rounds.append(RoundRecord(r, end, end - prev, cards, {cid: {k: v[1] for k, v in m.items()}}, {cid: {k: v[0] for k, v in m.items()}}, (cid,) if confirmed else ()))
        echo(round_line(r, end, end - prev, f"{len(hand)} batches ({cards} ballots) hand-counted", {cid: risk}, risk_limit, confirmed))
        if confirmed:
            break
    if ends and not confirmed:
        echo(f"risk limit not met for {cid} after {len(rounds)} round(s): full manual recount")
    recount, decisions = conclude(ballots, boards, bc.outcome, confirmed, risk, count_rng, echo)
    params = {"method": method, "beta": beta} if method == "alpha-batch" else {"method": method}
    return BatchAuditResult(
        design="batch", method_params=params, risk_limit=risk_limit, seed=seed, policy=policy, boards=boards,
        evidence=ev.summary(b.counts), outcomes=[bc.outcome], rounds=rounds, direct_to_count=direct, recount=recount,
        decisions=decisions, workload=batch_workload(boards, bc, counties, list(hand), not confirmed),
        table=bc, batch_names=names, counties=counties, tabulators=tuple(b.tabulators[i] for i in order),
        equipment=tuple(ev.equipment[i] for i in order), draws=draws, draw_round=draw_round, tickets=tickets,
        times_drawn=times, hand=hand,
    )  # fmt: skip
