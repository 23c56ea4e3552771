"""What the audits that fit the paper share (§§23-15-617 to 617.5): batch comparison
(:mod:`.batch_audit`), SUITE-style hybrid and ONEAudit (:mod:`.strata_audit`).

- :class:`DesignAuditResult`: the common part of their result records (the decision, rounds and
  workload, as :class:`~pollsim.audit.rounds.AuditResult` has them for card-level audits);
- :func:`one_contest`: these designs audit one contest at a time (their samples and weights
  depend on the contest);
- :func:`batch_tallies`: a contest's reported votes per run batch (precinct x device), from the
  CVR layer by the vote-for-N rule (an overvoted contest counts for no one);
- :func:`hand_tallies`: what the audit boards count when they hand-count whole batches of paper
  (:class:`~pollsim.audit.boards.AuditBoards`' misreading model, ballot by ballot);
- :func:`conclude`: the full manual recount of an unconfirmed contest and the §23-15-617.4
  decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pollsim.audit.ballots import RunBallots
from pollsim.audit.boards import AuditBoards
from pollsim.audit.contest import ReportedOutcome, blank_overvotes
from pollsim.audit.errors import AuditError
from pollsim.audit.rounds import Decision, RoundPolicy, RoundRecord, decide, full_recount


@dataclass(eq=False)
class DesignAuditResult:
    """What every batch, hybrid or ONEAudit audit records (subclasses add their samples)."""

    design: str  # "batch", "hybrid" or "oneaudit"
    method_params: dict
    risk_limit: float
    seed: str
    policy: RoundPolicy
    boards: AuditBoards
    evidence: dict  # the evidence table and the run's equipment (:meth:`.evidence.BatchEvidence.summary`)
    outcomes: list[ReportedOutcome]  # the one contest audited
    rounds: list[RoundRecord]
    direct_to_count: list[str]
    recount: dict[str, tuple[int, ...]]
    decisions: list[Decision]
    workload: dict

    @property
    def method(self) -> str:
        return str(self.method_params["method"])


def one_contest(contest: str, design: str) -> str:
    """The single contest id of ``contest`` (a comma-separated list of one)."""
    ids = [c.strip() for c in str(contest).split(",") if c.strip()]
    if len(ids) != 1:
        raise AuditError(f"a {design} audit covers one contest at a time (its sample depends on the contest); got '{contest}'")
    return ids[0]


def check_risk_limit(risk_limit: float) -> float:
    if not 0 < risk_limit < 1:
        raise AuditError(f"risk limit {risk_limit} must be between 0 and 1")
    return float(risk_limit)


def batch_tallies(ballots: RunBallots, contest: str) -> np.ndarray:
    """``int64[n_batches, k]``: the reported votes of ``contest`` per run batch."""
    election = ballots.election
    if contest not in election.contest_slices:
        known = ", ".join(c.id for c in election.contests)
        raise AuditError(f"unknown contest '{contest}' (the election has: {known})")
    sl = election.contest_slices[contest]
    vote_for = election.contest(contest).vote_for
    cvr = np.asarray(ballots.cvr)
    k = sl.stop - sl.start
    nb = len(ballots.batches.counts)
    if vote_for == 1 and k <= 16:  # each card's marks as bits -> its choice, or k (no valid vote); one bincount
        bits = np.zeros(ballots.n, np.uint16)
        for j in range(k):
            bits |= cvr[:, sl.start + j].astype(np.uint16) << j
        choice = np.full(1 << k, k, np.int64)
        choice[1 << np.arange(k)] = np.arange(k)
        return np.bincount(ballots.row_batch * (k + 1) + choice[bits], minlength=nb * (k + 1)).reshape(nb, k + 1)[:, :k]
    block = cvr[:, sl]
    valid = block.sum(axis=1, dtype=np.int64) <= vote_for
    out = np.zeros((nb, k), np.int64)
    for j in range(k):
        out[:, j] = np.bincount(ballots.row_batch[(block[:, j] != 0) & valid], minlength=nb)
    return out


def hand_tallies(ballots: RunBallots, boards: AuditBoards, contest: str, run_batches: list[int], rng: np.random.Generator) -> np.ndarray:
    """``int64[m, k]``: the boards' hand count of ``contest`` in each of ``run_batches`` (the paper
    layer read ballot by ballot, with misreadings)."""
    election = ballots.election
    sl = election.contest_slices[contest]
    vote_for = election.contest(contest).vote_for
    out = np.zeros((len(run_batches), sl.stop - sl.start), np.int64)
    for i, rb in enumerate(run_batches):
        read = boards.read(ballots.paper[ballots.batch_rows(rb)], [sl], rng)[:, sl]
        out[i] = blank_overvotes(read, vote_for).sum(axis=0, dtype=np.int64)
    return out


def conclude(
    ballots: RunBallots, boards: AuditBoards, outcome: ReportedOutcome, confirmed: bool, risk: float, rng: np.random.Generator, echo: Callable[[str], None]
) -> tuple[dict[str, tuple[int, ...]], list[Decision]]:
    """(recount, decisions): a full manual recount when the contest is not confirmed, then the
    §23-15-617.4 decision (echoed)."""
    recount = {} if confirmed else full_recount(ballots, boards, [outcome], rng)
    decision = decide(outcome, confirmed, risk, recount.get(outcome.contest))
    echo(decision.statement)
    return recount, [decision]


def round_line(r: int, draws: int, new: int, what: str, risks: dict[str, float], risk_limit: float, confirmed: bool) -> str:
    """One round as ``pollsim audit`` prints it."""
    worst = max(risks.values()) if risks else 1.0
    verdict = f"<= {risk_limit:g} confirmed" if confirmed else f"> {risk_limit:g}"
    return f"round {r}: {draws} draws ({new} new), {what}; risk {worst:.4g} {verdict}"


def risk_of(log_t: np.ndarray) -> tuple[float, float]:
    """(max T so far, risk) from ln T along a path (risk 1 for an empty path)."""
    best = float(np.max(np.maximum(log_t, 0.0))) if len(log_t) else 0.0
    return (math.exp(best) if best < 700 else math.inf), float(min(1.0, math.exp(-best)))
