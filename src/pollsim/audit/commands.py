"""The functions the ``pollsim audit ...`` commands call (the CLI only parses arguments).

- :func:`cli_sample_size`: how many ballots to plan for;
- :func:`cli_draw`: the sample a seed draws from a manifest CSV;
- :func:`run_audit`: audit a run directory and write the package;
- :func:`verify_package`: recompute a package (re-exported from :mod:`.package`);
- :func:`simulate_audits`: measure the risk by simulation (re-exported from :mod:`.simulate`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pollsim.audit.ballots import load_run
from pollsim.audit.boards import AuditBoards
from pollsim.audit.manifest import read_manifest_csv
from pollsim.audit.package import verify_package, write_package
from pollsim.audit.risk import GAMMA, O1, O2, make_risk_function
from pollsim.audit.rounds import RiskLimitingAudit, RoundPolicy
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
    run_dir: Path,
    contest: str,
    risk_limit: float,
    seed: str,
    method: str,
    out: Path | None = None,
    echo: Callable[[str], None] = print,
    *,
    sampler: str = "consistent",
    manifest_csv: Path | None = None,
    boards: AuditBoards | None = None,
    policy: RoundPolicy | None = None,
    gamma: float = GAMMA,
    o1: float = O1,
    o2: float = O2,
) -> dict:
    """Audit ``contest`` (several: comma-separated ids, one sample) of a run directory.

    Prints each round and the decision via ``echo``, writes the package to ``out`` (default
    ``run_dir / "audit"``) and returns its ``audit.json`` document plus ``"package"`` (the path).
    ``manifest_csv``: audit against a county's manifest instead of the run's own (phantoms where
    it lists more ballots than there are CVRs); ``boards``: misreading rate and labour rates.
    """
    run_dir = Path(run_dir)
    ballots = load_run(run_dir)
    manifest = read_manifest_csv(Path(manifest_csv)) if manifest_csv is not None else None
    contests = [c.strip() for c in str(contest).split(",") if c.strip()]
    fn = make_risk_function(method, gamma, o1, o2)
    audit = RiskLimitingAudit(ballots, contests, risk_limit, seed, fn, sampler=sampler, manifest=manifest, boards=boards, policy=policy)
    result = audit.run(echo)
    out = Path(out) if out is not None else run_dir / "audit"
    doc = write_package(result, out, election_id=ballots.election.id, definition_sha256=ballots.election.definition_hash, run_dir=str(run_dir))
    echo(f"audit package written to {out}/")
    return {"package": str(out), **doc}
