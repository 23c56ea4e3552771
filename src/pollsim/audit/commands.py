"""The functions the ``pollsim audit ...`` commands call (the CLI only parses arguments).

- :func:`cli_sample_size`: how many ballots to plan for;
- :func:`cli_draw`: the sample a seed draws from a manifest CSV;
- :func:`run_audit`: audit a run's ballots (the stage's front door);
- :func:`verify_package`: recompute a package (re-exported from :mod:`.package`);
- :func:`simulate_audits`: measure the risk by simulation (re-exported from :mod:`.simulate`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pollsim.audit.ballots import RunBallots
from pollsim.audit.boards import AuditBoards
from pollsim.audit.manifest import read_manifest_csv
from pollsim.audit.package import verify_package
from pollsim.audit.risk import GAMMA, O1, O2, make_risk_function
from pollsim.audit.rounds import AuditResult, RiskLimitingAudit, RoundPolicy
from pollsim.audit.sample_size import sample_size
from pollsim.audit.sampling import make_sampler
from pollsim.audit.simulate import simulate_audits

__all__ = ["cli_draw", "cli_sample_size", "run_audit", "simulate_audits", "verify_package"]


def cli_sample_size(
    method: str, margin: float, risk_limit: float, ballots: int | None = None, o1: float = O1, o2: float = O2, *, simulate: bool = True, seed: int = 0, trials: int = 2000
) -> dict:
    """``{"sample_size": n, "quantiles": {"50": .., "90": .., "99": ..}}`` for a two-candidate
    contest (see :func:`pollsim.audit.sample_size.sample_size`); simulated quantiles by default."""
    return sample_size(method, margin, risk_limit, ballots, o1, o2, simulate=simulate, seed=seed, trials=trials)


def cli_draw(manifest_csv: Path, seed: str, count: int, with_replacement: bool = True, sampler: str = "consistent") -> list[dict]:
    """The first ``count`` draws from a manifest CSV: ``[{"batch", "position", "ticket",
    "times_drawn"}, ...]`` in draw order (``ticket`` is None for the ``colorado`` sampler)."""
    manifest = read_manifest_csv(Path(manifest_csv))
    return make_sampler(sampler, manifest, seed).draws(int(count), with_replacement).rows(manifest)


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
) -> AuditResult:
    """Audit ``contest`` (several: comma-separated ids, one sample) of a run's ballots: the audit
    stage's front door.

    Prints each round and the decision via ``echo`` and returns the :class:`AuditResult` (the
    package's files are :func:`pollsim.audit.package.package_files` of it; the run directory
    writes them). ``manifest_csv``: audit against a county's manifest instead of the run's own
    (phantoms where it lists more ballots than there are CVRs); ``boards``: misreading rate and
    labour rates.
    """
    manifest = read_manifest_csv(Path(manifest_csv)) if manifest_csv is not None else None
    contests = [c.strip() for c in str(contest).split(",") if c.strip()]
    fn = make_risk_function(method, gamma, o1, o2)
    audit = RiskLimitingAudit(ballots, contests, risk_limit, seed, fn, sampler=sampler, manifest=manifest, boards=boards, policy=policy)
    return audit.run(echo)
