"""Measuring the risk: thousands of audits of an election whose reported outcome is wrong (§23-15-617).

A risk limit is a promise: if the reported outcome is wrong, the audit confirms it with
probability at most alpha, and otherwise leads to the full manual recount that corrects it. This
module checks the promise by running the audit many times. It builds an election whose
*electronic* record reports the wrong winner, as misrecording firmware would: the paper records
say W wins, and enough of W's votes are flipped to the runner-up L in the CVR layer that the
machine tabulation reports L (:func:`wrong_outcome_election`). It then runs ``audits`` audits
with the same method, round policy and risk limit as :class:`~pollsim.audit.rounds.RiskLimitingAudit`
and counts how many wrongly confirm. On a correct outcome it reports the workload instead
(draws, ballots examined, rounds, escalations to a full hand count).

Speed: the audits are vectorized, not looped. Each card's class for each assertion (pair value or
overstatement, :mod:`.risk`) is computed once; the draws of all audits are one
``rng.integers(0, N, (audits, draws))`` (numpy's generator stands in for the SHA-256 sampler,
which is only needed to make a real sample publicly verifiable: any uniform draw with
replacement has the same distribution); ln T is a ``cumsum`` of a per-class table; a round
confirms an audit when every assertion's first crossing of ln(1/alpha) is within the round's
draws. Audits are processed in chunks so memory stays near 40 MB.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from pollsim.audit.ballots import RunBallots
from pollsim.audit.contest import ReportedOutcome, blank_overvotes, outcome_from_votes, pair_values
from pollsim.audit.errors import AuditError
from pollsim.audit.risk import GAMMA, O1, O2, OFFSET, RiskFunction, make_risk_function, method_name
from pollsim.audit.rounds import RoundPolicy, plan
from pollsim.audit.sample_size import QUANTILES


@dataclass(frozen=True, eq=False)
class SimulatedElection:
    """One contest reduced to what audits need: the reported outcome and, per card, the CVR and
    paper pair value of every assertion."""

    outcome: ReportedOutcome  # from the CVRs
    paper_votes: tuple[int, ...]  # what a full hand count of the paper finds
    cvr_pairs: dict[str, np.ndarray]  # assertion -> int8[N]
    paper_pairs: dict[str, np.ndarray]  # assertion -> int8[N]

    @property
    def paper_winners(self) -> tuple[str, ...]:
        o = self.outcome
        ranked = sorted(range(len(o.choices)), key=lambda i: (-self.paper_votes[i], o.choices[i]))
        return tuple(o.choices[i] for i in ranked[: o.vote_for])

    @property
    def wrong(self) -> bool:
        return set(self.paper_winners) != {self.outcome.choices[i] for i in self.outcome.winners}


def election_from_blocks(contest: str, kind: str, vote_for: int, choices: tuple[str, ...], cvr: np.ndarray, paper: np.ndarray) -> SimulatedElection:
    """A :class:`SimulatedElection` from a contest's CVR and paper columns (``uint8[N, k]``)."""
    cvr, paper = blank_overvotes(cvr, vote_for), blank_overvotes(paper, vote_for)
    votes = tuple(int(v) for v in cvr.sum(axis=0, dtype=np.int64))
    outcome = outcome_from_votes(contest, kind, vote_for, choices, votes, len(cvr))
    pv = tuple(int(v) for v in paper.sum(axis=0, dtype=np.int64))
    return SimulatedElection(
        outcome, pv, {a.name: pair_values(cvr, a) for a in outcome.assertions}, {a.name: pair_values(paper, a) for a in outcome.assertions}
    )


def flip_votes(cvr: np.ndarray, paper: np.ndarray, vote_for: int, reported_margin: float, rng: np.random.Generator) -> np.ndarray:
    """Misrecording firmware: flip CVR votes from the paper's last winner W to its first loser L
    (top two for vote for 1) until the machine tabulation puts L ahead of W by
    ``reported_margin`` x N votes (at least one vote). Returns the new CVR block."""
    paper_b = blank_overvotes(paper, vote_for)
    votes = paper_b.sum(axis=0, dtype=np.int64)
    ranked = np.lexsort((np.arange(len(votes)), -votes))
    w, lo = int(ranked[vote_for - 1]), int(ranked[vote_for])
    cvr = np.array(cvr, np.uint8, copy=True)
    tally = blank_overvotes(cvr, vote_for).sum(axis=0, dtype=np.int64)
    target = max(1, math.ceil(reported_margin * len(cvr)))
    need = max(0, math.ceil((target - (int(tally[lo]) - int(tally[w]))) / 2))
    valid = cvr.sum(axis=1, dtype=np.int64) <= vote_for
    eligible = np.flatnonzero(valid & (cvr[:, w] == 1) & (cvr[:, lo] == 0))
    if need > len(eligible):
        raise AuditError(f"cannot flip {need} votes: only {len(eligible)} CVRs vote for the paper winner")
    chosen = rng.choice(eligible, need, replace=False)
    cvr[chosen, w], cvr[chosen, lo] = 0, 1
    return cvr


def two_candidate_election(ballots: int, margin: float, wrong: bool, o1: float, o2: float, rng: np.random.Generator) -> SimulatedElection:
    """A two-candidate contest of ``ballots`` cards (every card a vote).

    Wrong outcome: on paper ``a`` beats ``b`` by the smallest possible margin (1 or 2 votes: the
    hardest case for an audit, the truth next to a tie), and the CVRs flip ``a`` votes to ``b`` so
    that ``b`` is reported the winner by ``margin`` x N. Correct outcome: ``a`` wins on paper by
    ``margin`` x N and the CVRs agree except for random overstatements of ``a``'s margin at the
    rates o1 (a ``b`` vote recorded blank) and o2 (a ``b`` vote recorded for ``a``).
    """
    n = int(ballots)
    paper = np.zeros((n, 2), np.uint8)
    a_votes = n // 2 + 1 if wrong else math.ceil(n * (1 + margin) / 2)
    paper[:a_votes, 0] = 1
    paper[a_votes:, 1] = 1
    if wrong:
        cvr = flip_votes(paper, paper, 1, margin, rng)
    else:
        cvr = paper.copy()
        b_cards = np.arange(a_votes, n)
        u = rng.random(len(b_cards))
        one, two = b_cards[u < o1], b_cards[(u >= o1) & (u < o1 + o2)]
        cvr[one, 1] = 0
        cvr[two, 1], cvr[two, 0] = 0, 1
    perm = rng.permutation(n)
    return election_from_blocks("contest", "candidate", 1, ("a", "b"), cvr[perm], paper[perm])


def run_election(ballots: RunBallots, contest: str, wrong: bool, margin: float, rng: np.random.Generator) -> SimulatedElection:
    """A run's contest: the paper layer is the truth; with ``wrong`` the CVR layer is flipped."""
    election = ballots.election
    if contest not in election.contest_slices:
        raise AuditError(f"unknown contest '{contest}'")
    c = election.contest(contest)
    sl = election.contest_slices[contest]
    cvr, paper = ballots.cvr[:, sl], ballots.paper[:, sl]
    if wrong:
        cvr = flip_votes(cvr, paper, c.vote_for, margin, rng)
    return election_from_blocks(contest, c.kind, c.vote_for, tuple(ch.id for ch in c.choices), cvr, paper)


def binomial_quantile(n: int, p: float, q: float = 0.999) -> int:
    """The smallest k with P(Binomial(n, p) <= k) >= q (exact, from log-gamma)."""
    if p <= 0:
        return 0
    if p >= 1:
        return n
    k = np.arange(n + 1)
    lg = np.array([math.lgamma(i + 1) for i in range(n + 1)])
    logpmf = lg[n] - lg[k] - lg[n - k] + k * math.log(p) + (n - k) * math.log1p(-p)
    cdf = np.cumsum(np.exp(logpmf - logpmf.max())) * math.exp(logpmf.max())
    return int(np.searchsorted(cdf, q - 1e-12))


def _quantiles(x: np.ndarray) -> dict:
    if len(x) == 0:
        return {}
    return {"mean": round(float(x.mean()), 2), **{str(q): int(np.ceil(np.percentile(x, q))) for q in QUANTILES}}


def simulate(election: SimulatedElection, fn: RiskFunction, risk_limit: float, audits: int, policy: RoundPolicy, rng: np.random.Generator) -> dict:
    """Run ``audits`` vectorized audits of one contest; see :func:`simulate_audits` for the result."""
    o = election.outcome
    n_cards = o.ballots
    ends, direct = plan(fn, [o], risk_limit, policy, n_cards)
    target = math.log(1 / risk_limit) - 1e-12
    phantom = np.zeros(n_cards, bool)
    tables = []  # per assertion: (class index of each card, ln f per class, the assertion)
    for a in o.assertions:
        cls = (fn.classes(election.cvr_pairs[a.name], election.paper_pairs[a.name], phantom) + OFFSET).astype(np.int8)
        tables.append((cls, fn.log_factors(a), a))
    rounds = np.full(audits, len(ends) + 1 if ends else 1, np.int64)  # len(ends)+1: full hand count
    draws = np.zeros(audits, np.int64)
    examined = np.zeros(audits, np.int64)
    if ends and not direct:
        horizon = ends[-1]
        chunk = max(1, min(audits, 4_000_000 // horizon))
        ends_arr = np.array(ends)
        for start in range(0, audits, chunk):
            size = min(chunk, audits - start)
            idx = rng.integers(0, n_cards, (size, horizon))
            tau = np.zeros(size, np.int64)
            for cls, table, a in tables:
                if not a.testable:
                    tau[:] = horizon + 1
                    continue
                log_t = fn.log_statistic(a, cls[idx] - OFFSET) if fn.adaptive else np.cumsum(table[cls[idx]], axis=1)
                hit = log_t >= target
                first = np.where(hit.any(axis=1), np.argmax(hit, axis=1) + 1, horizon + 1)
                tau = np.maximum(tau, first)
                del log_t, hit
            r = np.searchsorted(ends_arr, tau, side="left")  # round index where confirmed
            sl = slice(start, start + size)
            rounds[sl] = r + 1
            draws[sl] = ends_arr[np.minimum(r, len(ends) - 1)]
            masked = np.where(np.arange(horizon)[None, :] < draws[sl][:, None], idx, -1)
            masked.sort(axis=1)
            examined[sl] = np.count_nonzero((np.diff(masked, axis=1) != 0) & (masked[:, 1:] >= 0), axis=1) + (masked[:, 0] >= 0)
    confirmed = rounds <= len(ends)
    full = ~confirmed
    with_count = np.where(full, n_cards, examined)
    counts = {str(r): int((rounds == r).sum()) for r in range(1, len(ends) + 1)}
    counts["full_hand_count"] = int(full.sum())
    return {
        "round_draws": list(ends),
        "confirmed": int(confirmed.sum()),
        "confirmed_share": float(confirmed.mean()),
        "escalated": int(full.sum()),
        "escalated_share": float(full.mean()),
        "rounds": counts,
        "draws": _quantiles(draws),
        "ballots_examined": _quantiles(examined),
        "ballots_examined_with_full_counts": _quantiles(with_count),
    }


def simulate_audits(
    method: str = "kaplan-markov",
    *,
    audits: int = 2000,
    risk_limit: float = 0.10,
    wrong_outcome: bool = True,
    ballots: int = 20_000,
    reported_margin: float = 0.05,
    run: RunBallots | None = None,
    contest: str | None = None,
    o1: float = O1,
    o2: float = O2,
    gamma: float = GAMMA,
    policy: RoundPolicy | None = None,
    seed: int = 0,
    bet: str = "adaptive",
) -> dict:
    """Run ``audits`` simulated audits and report how often they confirm, and their workload.

    Parameters:

    - ``method``: ``bravo``, ``kaplan-markov`` (``km``, ``super-simple``) or ``alpha``.
    - ``audits``: number of simulated audits (default 2,000).
    - ``risk_limit``: alpha (default 10 %).
    - ``wrong_outcome``: build an election whose reported winner is not the paper winner
      (default). Otherwise the outcome is correct and the CVRs carry random overstatements at the
      planning rates ``o1``, ``o2``.
    - ``ballots``, ``reported_margin``: the synthetic two-candidate contest: N cards (default
      20,000) and the reported diluted margin (default 0.05; with a wrong outcome, by how much the
      flipped CVRs report the loser ahead).
    - ``run``, ``contest``: use a run's contest instead (paper layer = truth; with a wrong
      outcome the CVR layer is flipped between the paper's last winner and first loser).
    - ``o1``, ``o2``, ``gamma``: planning rates (ALPHA's bet; sample sizes) and Kaplan-Markov's
      gamma; ``policy``: the round policy (default :class:`RoundPolicy`); ``seed``: numpy seed;
      ``bet``: ALPHA's bet (``adaptive``, ``fixed``, ``kelly``; :mod:`.bets`).

    Returns a dict: the election (``ballots``, ``reported_winners``, ``paper_winners``,
    ``outcome_wrong``, margins), ``round_draws``, ``confirmed`` (count and share),
    ``allowed_confirmed`` (the 99.9 % quantile of Binomial(audits, risk_limit): a wrong outcome
    confirmed more often than this refutes the risk limit), ``escalated``, ``rounds`` (audits per
    stopping round, and full hand counts), quantiles (mean, 50/90/99 %) of ``draws``,
    ``ballots_examined`` (distinct ballots sampled) and ``ballots_examined_with_full_counts``,
    and ``seconds``.
    """
    t0 = time.perf_counter()
    m = method_name(method)
    fn = make_risk_function(m, gamma=gamma, o1=o1, o2=o2, bet=bet)
    rng = np.random.default_rng(seed)
    if run is not None:
        if contest is None:
            raise AuditError("simulate_audits: a run's ballots need a contest")
        election = run_election(run, contest, wrong_outcome, reported_margin, rng)
    else:
        election = two_candidate_election(ballots, reported_margin, wrong_outcome, o1, o2, rng)
    o = election.outcome
    closest = o.closest
    paper_margin = None
    if len(election.paper_votes) >= 2:
        pv = sorted(election.paper_votes, reverse=True)
        paper_margin = (pv[o.vote_for - 1] - pv[o.vote_for]) / o.ballots
    result = simulate(election, fn, risk_limit, audits, policy or RoundPolicy(), rng)
    return {
        "method": m,
        **({"bet": bet} if m == "alpha" else {}),
        "audits": audits,
        "risk_limit": risk_limit,
        "ballots": o.ballots,
        "contest": o.contest,
        "reported_votes": dict(zip(o.choices, o.votes, strict=True)),
        "paper_votes": dict(zip(o.choices, election.paper_votes, strict=True)),
        "reported_winners": [o.choices[i] for i in o.winners],
        "paper_winners": list(election.paper_winners),
        "outcome_wrong": election.wrong,
        "reported_margin": closest.diluted_margin,
        "paper_margin": paper_margin,
        **result,
        "allowed_confirmed": binomial_quantile(audits, risk_limit, 0.999),
        "seconds": round(time.perf_counter() - t0, 3),
    }
