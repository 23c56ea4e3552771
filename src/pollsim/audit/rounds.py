"""A risk-limiting audit in rounds, and the decision it leads to (§§23-15-617 to 617.5).

Not later than 24 hours after the count, the commissioners of each county, with the registrar,
audit the contest(s) the Secretary of State chose. The audit goes in rounds:

1. **Round sizes** (:class:`RoundPolicy`): the first round draws the closed-form sample size of
   the hardest assertion of the contests under audit (:mod:`.sample_size`; comparison methods with
   the planning rates o1 = 0.001, o2 = 0.0001). Each further round extends the sample to
   ``growth`` times the draws so far (default 2). After ``max_rounds`` rounds (default 4), or when
   the next round would draw more than there are ballots, the audit stops sampling. A contest
   whose first-round size already exceeds the ballots (or that is tied) goes straight to a full
   hand count. The sizes do not depend on what the boards find, so anyone can recompute them.
2. **Each round** the sampler extends the one seeded stream of draws (:mod:`.sampling`); the
   boards pull the newly drawn ballots and read their paper records (:mod:`.boards`); each
   assertion's risk is measured on all draws so far (:mod:`.risk`). A contest whose every
   assertion is at or under the risk limit is confirmed and leaves the audit; several contests
   share the sample.
3. **The decision** (§23-15-617.4): a confirmed contest's electronic record is the official
   record. Otherwise the commissioners conduct a full manual recount of the paper records; the
   paper record is the official record, and the recount's result is certified (the law: where
   the recount differs from the machine tabulation, the recount is certified).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from pollsim.audit.ballots import RunBallots
from pollsim.audit.boards import AuditBoards
from pollsim.audit.contest import ReportedOutcome, blank_overvotes, pair_values, reported_outcome
from pollsim.audit.errors import AuditError
from pollsim.audit.manifest import BallotManifest, ManifestCheck, check_manifest, manifest_from_run
from pollsim.audit.risk import O1, O2, RiskFunction
from pollsim.audit.sample_size import estimate
from pollsim.audit.sampling import Sample, canonical_seed, make_sampler


@dataclass(frozen=True)
class RoundPolicy:
    """How big each round is and when sampling gives way to a full hand count."""

    growth: float = 2.0  # each round's cumulative draws = growth x the previous round's
    max_rounds: int = 4
    max_draws: int | None = None  # None: the number of ballots in the manifest

    def cap(self, ballots: int) -> int:
        return ballots if self.max_draws is None else min(self.max_draws, ballots)

    def schedule(self, first: int, ballots: int) -> list[int]:
        """Cumulative draws at the end of each round (empty: no sampling, a full hand count)."""
        ends: list[int] = []
        n = max(1, int(first))
        while len(ends) < self.max_rounds and n <= self.cap(ballots):
            ends.append(n)
            n = max(n + 1, math.ceil(n * self.growth - 1e-9))
        return ends

    def to_dict(self) -> dict:
        return asdict(self)


def contest_estimate(fn: RiskFunction, outcome: ReportedOutcome, risk_limit: float, o1: float = O1, o2: float = O2) -> float:
    """Draws expected to confirm a contest: the largest estimate over its assertions."""
    return max(estimate(fn, a, risk_limit, o1, o2) for a in outcome.assertions)


def plan(fn: RiskFunction, outcomes: list[ReportedOutcome], risk_limit: float, policy: RoundPolicy, ballots: int) -> tuple[list[int], list[str]]:
    """(round ends, contests that go straight to a full hand count)."""
    cap = policy.cap(ballots)
    estimates = {o.contest: contest_estimate(fn, o, risk_limit) for o in outcomes}
    direct = [c for c, e in estimates.items() if not e <= cap]
    sampled = [e for c, e in estimates.items() if c not in direct]
    if not sampled:
        return [], direct
    return policy.schedule(math.ceil(max(sampled) - 1e-9), ballots), direct


def draw_classes(fn: RiskFunction, outcome: ReportedOutcome, cvr_block: np.ndarray, mvr_block: np.ndarray, phantom: np.ndarray) -> dict[str, np.ndarray]:
    """Class of every draw for every assertion of a contest (blocks: the contest's columns of the
    CVR and of the manual record of each draw, phantoms all zero)."""
    cvr = blank_overvotes(cvr_block, outcome.vote_for)
    mvr = blank_overvotes(mvr_block, outcome.vote_for)
    return {a.name: fn.classes(pair_values(cvr, a), pair_values(mvr, a), phantom) for a in outcome.assertions}


def measure(fn: RiskFunction, outcome: ReportedOutcome, classes: dict[str, np.ndarray], end: int) -> dict[str, tuple[float, float]]:
    """{assertion: (max T so far, risk)} after the first ``end`` draws."""
    out = {}
    for a in outcome.assertions:
        (risk,) = fn.risk(a, classes[a.name][:end], [end])
        out[a.name] = (1.0 / risk if risk > 0 else math.inf, risk)
    return out


@dataclass(frozen=True)
class RoundRecord:
    """One round: cumulative draws, distinct ballots examined, each contest's assertions' risks."""

    round: int
    draws: int
    new_draws: int
    ballots_examined: int
    risks: dict[str, dict[str, float]]  # contest -> assertion -> risk
    statistics: dict[str, dict[str, float]]  # contest -> assertion -> max T so far
    confirmed: tuple[str, ...]  # contests confirmed in this round


@dataclass(frozen=True)
class Decision:
    """The §23-15-617.4 decision for one contest."""

    contest: str
    risk_limit_met: bool
    measured_risk: float
    official_record: str  # "electronic" or "paper"
    full_hand_count: bool
    reported_votes: dict[str, int]
    certified_votes: dict[str, int]
    reported_winners: tuple[str, ...]
    certified_winners: tuple[str, ...]
    recount_differs: bool  # the recount's votes differ from the machine tabulation
    outcome_changed: bool

    @property
    def statement(self) -> str:
        if self.risk_limit_met:
            return (f"{self.contest}: risk limit met (measured risk {self.measured_risk:.4g}); the electronic record is the "
                    f"official record (§23-15-617.4); winners {', '.join(self.reported_winners)}")  # fmt: skip
        change = "the outcome changes" if self.outcome_changed else ("the votes differ from the machine tabulation" if self.recount_differs else "it matches the machine tabulation")
        return (f"{self.contest}: risk limit not met; full manual recount, the paper record is the official record "
                f"(§23-15-617.4) and the recount is certified: {change}; winners {', '.join(self.certified_winners)}")  # fmt: skip


def decide(outcome: ReportedOutcome, confirmed: bool, risk: float, recount: tuple[int, ...] | None) -> Decision:
    """The decision for a contest: confirmed -> electronic record; else the recount is certified."""
    reported = dict(zip(outcome.choices, outcome.votes, strict=True))
    winners = tuple(outcome.choices[i] for i in outcome.winners)
    if confirmed:
        return Decision(outcome.contest, True, risk, "electronic", False, reported, reported, winners, winners, False, False)
    if recount is None:
        raise AuditError(f"{outcome.contest}: the risk limit was not met and there is no recount")
    certified = dict(zip(outcome.choices, recount, strict=True))
    ranked = sorted(range(len(outcome.choices)), key=lambda i: (-recount[i], outcome.choices[i]))
    new_winners = tuple(outcome.choices[i] for i in ranked[: outcome.vote_for])
    return Decision(outcome.contest, False, risk, "paper", True, reported, certified, winners, new_winners, tuple(recount) != tuple(outcome.votes), set(new_winners) != set(winners))


def full_recount(ballots: RunBallots, boards: AuditBoards, outcomes: list[ReportedOutcome], rng: np.random.Generator) -> dict[str, tuple[int, ...]]:
    """The full manual recount: the boards read every paper record of these contests."""
    if not outcomes:
        return {}
    slices = ballots.election.contest_slices
    paper = boards.read(ballots.paper, [slices[o.contest] for o in outcomes], rng)
    return {o.contest: tuple(int(v) for v in blank_overvotes(paper[:, slices[o.contest]], o.vote_for).sum(axis=0, dtype=np.int64)) for o in outcomes}


@dataclass(eq=False)
class AuditResult:
    """Everything an audit did, as the package records it."""

    method: str
    method_params: dict
    risk_limit: float
    seed: str
    sampler: str
    policy: RoundPolicy
    boards: AuditBoards
    manifest: BallotManifest
    phantoms: np.ndarray  # int64[n_batches]: phantom positions per manifest batch
    outcomes: list[ReportedOutcome]
    sample: Sample
    draw_round: np.ndarray  # int32[n]: round of each draw
    cvr_blocks: dict[str, np.ndarray]  # contest -> uint8[n, k]: each draw's CVR (phantom: zeros)
    mvr_blocks: dict[str, np.ndarray]  # contest -> uint8[n, k]: each draw's manual record
    phantom: np.ndarray  # bool[n]
    rounds: list[RoundRecord]
    direct_to_count: list[str]
    recount: dict[str, tuple[int, ...]]  # contest -> paper votes (full manual recount)
    decisions: list[Decision]
    workload: dict = field(default_factory=dict)


def workload(boards: AuditBoards, manifest: BallotManifest, phantoms: np.ndarray, cards: np.ndarray, phantom: np.ndarray, escalated: bool) -> dict:
    """Board time and per diem for the audit as done, and for a full manual recount."""
    examined = manifest.ballots_per_container(np.asarray(cards)[~np.asarray(phantom, bool)])
    real = BallotManifest(manifest.batch_names, manifest.containers, manifest.tabulators, manifest.counts - phantoms)
    return boards.total(examined, boards.audit_ballots_per_hour, real.ballots_per_container(), escalated)


class RiskLimitingAudit:
    """A §23-15-617 audit of one or more contests of a run, against its ballot manifest."""

    def __init__(
        self,
        ballots: RunBallots,
        contests: list[str],
        risk_limit: float,
        seed: str,
        fn: RiskFunction,
        *,
        sampler: str = "consistent",
        manifest: BallotManifest | None = None,
        boards: AuditBoards | None = None,
        policy: RoundPolicy | None = None,
    ):
        if not 0 < risk_limit < 1:
            raise AuditError(f"risk limit {risk_limit} must be between 0 and 1")
        if not contests:
            raise AuditError("no contest to audit")
        self.ballots = ballots
        self.contests = list(dict.fromkeys(contests))
        self.risk_limit = float(risk_limit)
        self.seed = canonical_seed(seed)
        self.fn = fn
        self.sampler_name = sampler
        run_manifest = manifest_from_run(ballots.batches, ballots.source)
        self.manifest = manifest if manifest is not None else run_manifest
        self.check: ManifestCheck = check_manifest(self.manifest, ballots.batches)
        self.boards = boards or AuditBoards()
        self.policy = policy or RoundPolicy()
        for c in self.contests:
            if c not in ballots.election.contest_slices:
                known = ", ".join(x.id for x in ballots.election.contests)
                raise AuditError(f"unknown contest '{c}' (the election has: {known})")

    def _manual_records(self, cards: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(CVR rows, manual records, phantom flags) of distinct cards, in the order given."""
        batch, position = self.manifest.locate(cards)
        phantom = position > self.check.cvr_counts[batch]
        width = self.ballots.election.width
        cvr = np.zeros((len(cards), width), np.uint8)
        mvr = np.zeros((len(cards), width), np.uint8)
        real = np.flatnonzero(~phantom)
        if len(real):
            rows = self.ballots.rows(self.check.cvr_batch[batch[real]], position[real])
            cvr[real] = self.ballots.cvr[rows]
            slices = [self.ballots.election.contest_slices[c] for c in self.contests]
            mvr[real] = self.boards.read(self.ballots.paper[rows], slices, rng)
        return cvr, mvr, phantom


    def run(self, echo: Callable[[str], None] = lambda _line: None) -> AuditResult:
        """Plan, draw and measure round by round, recount what is not confirmed, decide."""
        election = self.ballots.election
        n_cards = self.manifest.total
        outcomes = [reported_outcome(election, c, self.ballots.cvr, n_cards) for c in self.contests]
        ends, direct = plan(self.fn, outcomes, self.risk_limit, self.policy, n_cards)
        seeds = np.random.SeedSequence(self.boards.seed).spawn(2)
        read_rng, count_rng = np.random.default_rng(seeds[0]), np.random.default_rng(seeds[1])
        sampler = make_sampler(self.sampler_name, self.manifest, self.seed)
        by_id = {o.contest: o for o in outcomes}
        active = [o.contest for o in outcomes if o.contest not in direct]
        for c in direct:
            echo(f"{c}: the sample would be as large as the count (or the reported result is a tie): full manual recount")
        sample = Sample(np.zeros(0, np.int64), (), np.zeros(0, np.int32))
        draw_round = np.zeros(0, np.int32)
        read: dict[int, int] = {}  # card -> row in the read arrays
        cvr_rows = np.zeros((0, election.width), np.uint8)
        mvr_rows = np.zeros((0, election.width), np.uint8)
        phantom_rows = np.zeros(0, bool)
        rounds: list[RoundRecord] = []
        risk_of: dict[str, float] = {c: 1.0 for c in self.contests}
        confirmed: set[str] = set()
        for r, end in enumerate(ends, start=1):
            if not active:
                break
            prev = len(sample)
            sample = sampler.draws(end)
            draw_round = np.concatenate([draw_round, np.full(end - prev, r, np.int32)])
            new_cards = [c for c in dict.fromkeys(sample.cards[prev:].tolist()) if c not in read]
            if new_cards:
                cv, mv, ph = self._manual_records(np.array(new_cards, np.int64), read_rng)
                for c in new_cards:
                    read[c] = len(read)
                cvr_rows, mvr_rows, phantom_rows = np.vstack([cvr_rows, cv]), np.vstack([mvr_rows, mv]), np.concatenate([phantom_rows, ph])
            idx = np.array([read[c] for c in sample.cards.tolist()], np.int64)
            risks, stats, newly = {}, {}, []
            for c in list(active):
                o = by_id[c]
                sl = election.contest_slices[c]
                classes = draw_classes(self.fn, o, cvr_rows[idx][:, sl], mvr_rows[idx][:, sl], phantom_rows[idx])
                m = measure(self.fn, o, classes, end)
                risks[c] = {k: v[1] for k, v in m.items()}
                stats[c] = {k: v[0] for k, v in m.items()}
                risk_of[c] = max(risks[c].values())
                if risk_of[c] <= self.risk_limit:
                    newly.append(c)
            for c in newly:
                active.remove(c)
                confirmed.add(c)
            rounds.append(RoundRecord(r, end, end - prev, len(read), risks, stats, tuple(newly)))
            parts = [f"{c} risk {risk_of[c]:.4g}{' <= ' if c in newly else ' > '}{self.risk_limit:g}{' confirmed' if c in newly else ''}" for c in risks]
            echo(f"round {r}: {end} draws ({end - prev} new), {len(read)} ballots examined; " + "; ".join(parts))
        if active and ends:
            echo(f"risk limit not met for {', '.join(active)} after {len(rounds)} round(s): full manual recount")
        to_count = [c for c in self.contests if c not in confirmed]
        recount = full_recount(self.ballots, self.boards, [by_id[c] for c in to_count], count_rng)
        decisions = [decide(by_id[c], c in confirmed, risk_of[c], recount.get(c)) for c in self.contests]
        for d in decisions:
            echo(d.statement)
        idx = np.array([read[c] for c in sample.cards.tolist()], np.int64)
        cvr_blocks = {c: cvr_rows[idx][:, election.contest_slices[c]] for c in self.contests}
        mvr_blocks = {c: mvr_rows[idx][:, election.contest_slices[c]] for c in self.contests}
        phantom = phantom_rows[idx]
        work = workload(self.boards, self.manifest, self.check.phantoms, sample.cards, phantom, bool(to_count))
        return AuditResult(
            method=self.fn.name, method_params=self.fn.params(), risk_limit=self.risk_limit, seed=self.seed,
            sampler=self.sampler_name, policy=self.policy, boards=self.boards, manifest=self.manifest,
            phantoms=self.check.phantoms, outcomes=outcomes, sample=sample, draw_round=draw_round,
            cvr_blocks=cvr_blocks, mvr_blocks=mvr_blocks, phantom=phantom, rounds=rounds, direct_to_count=direct,
            recount=recount, decisions=decisions, workload=work,
        )  # fmt: skip
