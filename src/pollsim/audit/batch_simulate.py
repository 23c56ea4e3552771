"""Measuring the risk of batch-comparison audits: thousands of MACRO or batch-level ALPHA audits of
an election whose reported outcome is wrong (§23-15-617; the batch counterpart of
:mod:`.simulate`).

:func:`wrong_batch_election` builds reported batch tallies in which W leads L by ``margin`` of
the cards, and hand tallies in which just enough of W's votes belong to L that L wins the paper
count by one or two votes, the flips put in batches taken in random order, each batch tainted
by ``taint`` (default 1/2: a clean draw grows T, a tainted one shrinks it, and most of the
risk budget is spent; a fully tainted batch would end MACRO at once). With ``wrong=False`` the hand tallies equal
the reported ones except for a few 1-vote errors. :func:`simulate_batch_audits` runs ``audits``
PPEB audits with rounds (:class:`~pollsim.audit.rounds.RoundPolicy`, batch draws capped at the
number of batches, past which the audit is a full hand count) and counts how many confirm. Draws
are vectorized: a per-batch table of ln f, an ``(audits, draws)`` array of batch indexes, a
``cumsum``.
"""

from __future__ import annotations

import math

import numpy as np

from pollsim.audit.batch import BETA, BatchContest, alpha_batch_sample_size, macro_sample_size, ppeb_weights
from pollsim.audit.errors import AuditError
from pollsim.audit.rounds import RoundPolicy

BATCH_METHODS = ("macro", "alpha-batch")


def wrong_batch_election(n_batches: int, batch_size: int, margin: float, wrong: bool, rng: np.random.Generator, taint: float = 0.5) -> tuple[BatchContest, np.ndarray]:
    """(reported contest, hand tallies ``int64[B, 2]``) for a two-choice contest (see module doc)."""
    sizes = rng.integers(batch_size // 2, batch_size * 3 // 2 + 1, n_batches).astype(np.int64)
    share = np.clip(rng.normal((1 + margin) / 2, 0.08, n_batches), 0.05, 0.95)
    w = np.round(sizes * share).astype(np.int64)
    lo = sizes - w
    reported = np.stack([w, lo], axis=1)
    hand = reported.copy()
    v = int(w.sum() - lo.sum())
    if v <= 0:
        raise AuditError("the synthetic reported outcome has no margin; raise the margin")
    if wrong:  # flip W votes to L, batch by batch in random order, each batch to taint ``taint``
        contest = BatchContest("contest", ("w", "l"), reported, sizes)
        need = v // 2 + 1  # L then leads on paper by 1 or 2 votes
        for p in rng.permutation(n_batches):
            f = min(int(w[p]), need, max(1, round(taint * contest.error_bounds[p] * v / 2)))
            hand[p] += (-f, f)
            need -= f
            if need == 0:
                break
    else:
        errs = rng.random(n_batches) < 0.05  # a misread ballot in 5 % of batches: W's vote was blank
        hand[errs, 0] -= np.minimum(1, hand[errs, 0])
    return BatchContest("contest", ("w", "l"), reported, sizes), hand


def _quantiles(x: np.ndarray) -> dict:
    return {"mean": round(float(x.mean()), 2), **{str(q): int(np.ceil(np.percentile(x, q))) for q in (50, 90, 99)}}


def simulate_batch_audits(
    bc: BatchContest, hand: np.ndarray, method: str, risk_limit: float, audits: int, rng: np.random.Generator, policy: RoundPolicy | None = None, beta: float = BETA
) -> dict:
    """Run ``audits`` PPEB audits (``macro`` or ``alpha-batch``); confirmed count and share, and
    the batches and cards hand-counted (distinct batches drawn; all of them after a full count)."""
    if method not in BATCH_METHODS:
        raise AuditError(f"unknown batch audit method '{method}' (choose from: {', '.join(BATCH_METHODS)})")
    policy = policy or RoundPolicy()
    n = len(bc.ballots)
    total = bc.total_error_bound
    everything = np.arange(n)
    if method == "macro":
        first = macro_sample_size(total, risk_limit, n)
        with np.errstate(divide="ignore"):
            table = (np.log1p(-bc.macro_taints(everything, hand)) - math.log1p(-1 / total))[:, None]
    else:
        first = alpha_batch_sample_size(total, risk_limit, n, beta)
        mu0 = 1 - 1 / total
        with np.errstate(divide="ignore"):
            table = np.log1p((beta / mu0) * ((1 - bc.alpha_taints(everything, hand)) - mu0))
    ends = policy.schedule(first, n) if total > 1 and math.isfinite(total) else []
    cdf = np.cumsum(ppeb_weights(bc))
    target = math.log(1 / risk_limit) - 1e-12
    rounds = np.full(audits, len(ends) + 1, np.int64)
    counted = np.full(audits, n, np.int64)
    cards = np.full(audits, int(np.asarray(bc.ballots).sum()), np.int64)
    if total <= 1:  # no possible error changes the outcome
        rounds[:], counted[:], cards[:] = 1, 0, 0
    elif ends:
        horizon = ends[-1]
        chunk = max(1, 4_000_000 // (horizon * table.shape[1]))
        for start in range(0, audits, chunk):
            size = min(chunk, audits - start)
            idx = np.minimum(cdf.searchsorted(rng.random((size, horizon)) * cdf[-1], side="right"), n - 1)
            log_t = np.cumsum(table[idx], axis=1)  # (size, horizon, pairs)
            hit = log_t >= target
            first_hit = np.where(hit.any(axis=1), np.argmax(hit, axis=1) + 1, horizon + 1).max(axis=1)
            r = np.searchsorted(np.array(ends), first_hit, side="left")
            sl = slice(start, start + size)
            rounds[sl] = r + 1
            drawn = np.array(ends)[np.minimum(r, len(ends) - 1)]
            ok = r < len(ends)
            masked = np.where(np.arange(horizon)[None, :] < drawn[:, None], idx, -1)
            distinct = [np.unique(row[row >= 0]) for row in masked[ok]]
            counted[sl][ok] = [len(d) for d in distinct]
            cards[sl][ok] = [int(np.asarray(bc.ballots)[d].sum()) for d in distinct]
    confirmed = rounds <= len(ends)
    return {
        "method": method,
        "audits": audits,
        "round_draws": list(ends),
        "confirmed": int(confirmed.sum()),
        "confirmed_share": float(confirmed.mean()),
        "escalated": int((~confirmed).sum()),
        "batches_counted": _quantiles(counted),
        "cards_counted": _quantiles(cards),
    }
