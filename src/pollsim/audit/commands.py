"""The functions the ``pollsim audit ...`` commands call (the CLI only parses arguments), §§23-15-617
to 617.5.

- :func:`cli_sample_size`: how many ballots to plan for;
- :func:`cli_draw`: the sample a seed draws from a manifest CSV;
- :func:`run_audit`: audit a run's ballots (the stage's front door), by the method the paper
  supports: card-level comparison or ballot polling (:mod:`.rounds`), batch comparison
  (:mod:`.batch_audit`), hybrid or ONEAudit (:mod:`.strata_audit`);
- :func:`verify_package`: recompute a package (re-exported from :mod:`.package`);
- :func:`simulate_audits`, :func:`simulate_design`: measure the risk by simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pollsim.audit.ballots import RunBallots
from pollsim.audit.batch_audit import BATCH_METHODS, run_batch_audit
from pollsim.audit.bets import GAMMA
from pollsim.audit.boards import AuditBoards
from pollsim.audit.evidence import batch_evidence
from pollsim.audit.manifest import read_manifest_csv
from pollsim.audit.package import AnyAuditResult, verify_package
from pollsim.audit.risk import O1, O2, make_risk_function
from pollsim.audit.rounds import RiskLimitingAudit, RoundPolicy
from pollsim.audit.sample_size import sample_size
from pollsim.audit.sampling import make_sampler
from pollsim.audit.simulate import simulate_audits
from pollsim.audit.strata_audit import STRATA_METHODS, run_strata_audit
from pollsim.audit.strata_simulate import simulate_design

__all__ = ["RUN_METHODS", "cli_draw", "cli_sample_size", "run_audit", "simulate_audits", "simulate_design", "verify_package"]

RUN_METHODS = ("bravo", "kaplan-markov", "alpha", "batch", *BATCH_METHODS, *STRATA_METHODS)


def cli_sample_size(
    method: str, margin: float, risk_limit: float, ballots: int | None = None, o1: float = O1, o2: float = O2, *, simulate: bool = True, seed: int = 0, trials: int = 2000,
    formula: str = "arlo", u1: float | None = None, u2: float | None = None, bet: str = "adaptive",
) -> dict:  # fmt: skip
    """``{"sample_size": n, "quantiles": {"50": .., "90": .., "99": ..}}`` for a two-candidate
    contest (see :func:`pollsim.audit.sample_size.sample_size`: ``formula``, ``u1``, ``u2`` for
    Kaplan-Markov, ``bet`` for ALPHA); simulated quantiles by default."""
    return sample_size(method, margin, risk_limit, ballots, o1, o2, simulate=simulate, seed=seed, trials=trials, formula=formula, u1=u1, u2=u2, bet=bet)


def cli_draw(manifest_csv: Path, seed: str, count: int, with_replacement: bool = True, sampler: str = "consistent") -> list[dict]:
    """The first ``count`` draws from a manifest CSV: ``[{"batch", "position", "ticket",
    "times_drawn"}, ...]`` in draw order (``ticket`` is None for the ``colorado`` sampler)."""
    manifest = read_manifest_csv(Path(manifest_csv))
    return make_sampler(sampler, manifest, seed).draws(int(count), with_replacement).rows(manifest)


def _evidence_note(ballots: RunBallots, evidence: dict[str, str] | None, echo: Callable[[str], None]) -> None:
    """A card-level comparison assumes every ballot is tied to its CVR: say where the evidence
    table says it is not."""
    ev = batch_evidence(ballots, evidence)
    loose = ~ev.mask("card")
    if loose.any():
        kinds = sorted({e for e, x in zip(ev.equipment, loose.tolist(), strict=True) if x})
        echo(f"note: a card-level comparison ties each ballot to its CVR; the evidence table says {int(loose.sum())} of {len(loose)} batches "
             f"({', '.join(kinds)}) do not allow it (pollsim's records are matched by position; --method batch, hybrid or oneaudit fit that paper)")  # fmt: skip


def run_audit(
    ballots: RunBallots,
    contest: str,
    risk_limit: float,
    seed: str,
    method: str,
    echo: Callable[[str], None] = print,
    *,
    sampler: str = "consistent",
    manifest_csv: Path | None = None,
    boards: AuditBoards | None = None,
    policy: RoundPolicy | None = None,
    gamma: float = GAMMA,
    o1: float = O1,
    o2: float = O2,
    bet: str = "adaptive",
    evidence: dict[str, str] | None = None,
    combine: str = "product",
) -> AnyAuditResult:
    """Audit ``contest`` of a run's ballots: the audit stage's front door.

    ``method``: ``bravo``, ``kaplan-markov`` or ``alpha`` (several contests, comma-separated,
    from one sample; ``manifest_csv``: a county's manifest instead of the run's, with phantoms;
    ``bet``: ALPHA's bet), ``batch`` (= ``macro``, Arlo's) or ``alpha-batch`` (batch
    comparison), ``hybrid`` (SUITE-style, ``combine`` ``product`` or ``fisher``) or ``oneaudit``
    (one contest each; ``sampler`` as for card-level audits, batch comparison always draws by
    PPEB). ``evidence``: overrides of the equipment -> evidence table
    (:mod:`.evidence`). ``boards``: misreading rate and labour rates. Prints each round and the
    decision via ``echo``; returns the result record (:class:`~.rounds.AuditResult`,
    :class:`~.batch_audit.BatchAuditResult` or :class:`~.strata_audit.StrataAuditResult`),
    whose package files are :func:`pollsim.audit.package.package_files` of it.
    """
    m = str(method).strip().lower()
    if m in ("batch", *BATCH_METHODS):
        return run_batch_audit(ballots, contest, risk_limit, seed, m, echo, boards=boards, policy=policy, evidence=evidence)
    if m in STRATA_METHODS:
        return run_strata_audit(ballots, contest, risk_limit, seed, m, echo, boards=boards, policy=policy, evidence=evidence, combine=combine, sampler=sampler)
    fn = make_risk_function(method, gamma, o1, o2, bet=bet)
    if fn.comparison:
        _evidence_note(ballots, evidence, echo)
    manifest = read_manifest_csv(Path(manifest_csv)) if manifest_csv is not None else None
    contests = [c.strip() for c in str(contest).split(",") if c.strip()]
    audit = RiskLimitingAudit(ballots, contests, risk_limit, seed, fn, sampler=sampler, manifest=manifest, boards=boards, policy=policy)
    return audit.run(echo)
