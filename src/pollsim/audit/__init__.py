"""Risk-limiting audits under Miss. Code §§23-15-617 to 617.5.

After the count, the commissioners of each county draw paper records at random from the ballot
manifest with a seed from 20 rolls of a ten-sided die, read them, and measure how strongly they
confirm the reported outcome of the statewide contest the Secretary of State chose. If the risk
limit is met, the electronic record is official; if not, a full manual recount of the paper
records decides and is certified (§23-15-617.4).

The stages, one module each:

- :mod:`.manifest`: the ballot manifest (from a run or a county's CSV), checked against the CVRs,
  with phantoms;
- :mod:`.ballots`: the CVR and paper layers of a run (:class:`RunBallots`, the stage's input record);
- :mod:`.sampling`: the public dice seed; Rivest's consistent sampler (as Arlo uses it) and a
  ColoradoRLA-style sampler;
- :mod:`.contest`: reported outcomes and the winner > loser assertions;
- :mod:`.risk`: BRAVO ballot polling, Kaplan-Markov ("super-simple") and ALPHA comparison;
- :mod:`.sample_size`: closed forms and Monte Carlo quantiles;
- :mod:`.boards`: audit boards reading the paper (with misreadings), labour and per diem;
- :mod:`.rounds`: :class:`RiskLimitingAudit`, its rounds and the §617.4 decision;
- :mod:`.evidence`: which audit each kind of paper supports (equipment -> card, batch or paper);
- :mod:`.batch`, :mod:`.batch_audit`: batch-comparison audits (MACRO as Arlo, batch ALPHA);
- :mod:`.stratified`, :mod:`.oneaudit`, :mod:`.strata_audit`: hybrid (SUITE-style) and ONEAudit;
- :mod:`.package` (with :mod:`.package_batch`, :mod:`.package_strata`): the published audit
  package and :func:`verify_package`;
- :mod:`.simulate`, :mod:`.batch_simulate`, :mod:`.strata_simulate`: thousands of audits of a
  wrong outcome, to measure the risk;
- :mod:`.plan`: a statewide design fitted to the paper, its workload, and the alternatives;
- :mod:`.commands`: the entry points the command line calls; :func:`run_audit` is the stage's
  front door (:class:`RunBallots` in, an :data:`AnyAuditResult` out).

Names are imported on first use (as in ``pollsim/__init__.py``), so that a reader of the ballots
(:mod:`.ballots`, which the run directory uses) does not load every audit method (issue 12).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pollsim import lazy_names

_EXPORTS = {
    "RunBallots": "pollsim.audit.ballots",
    "BatchAuditResult": "pollsim.audit.batch_audit",
    "AuditBoards": "pollsim.audit.boards",
    "cli_draw": "pollsim.audit.commands",
    "cli_sample_size": "pollsim.audit.commands",
    "run_audit": "pollsim.audit.commands",
    "AuditError": "pollsim.audit.errors",
    "ManifestError": "pollsim.audit.errors",
    "SeedError": "pollsim.audit.errors",
    "BallotManifest": "pollsim.audit.manifest",
    "read_manifest_csv": "pollsim.audit.manifest",
    "AnyAuditResult": "pollsim.audit.package",
    "verify_package": "pollsim.audit.package",
    "plan_audit": "pollsim.audit.plan",
    "AuditResult": "pollsim.audit.rounds",
    "RiskLimitingAudit": "pollsim.audit.rounds",
    "RoundPolicy": "pollsim.audit.rounds",
    "sample_size": "pollsim.audit.sample_size",
    "colorado_draws": "pollsim.audit.sampling",
    "consistent_draws": "pollsim.audit.sampling",
    "format_dice_seed": "pollsim.audit.sampling",
    "parse_dice_seed": "pollsim.audit.sampling",
    "simulate_audits": "pollsim.audit.simulate",
    "StrataAuditResult": "pollsim.audit.strata_audit",
    "simulate_design": "pollsim.audit.strata_simulate",
}

__all__ = [
    "AnyAuditResult", "AuditBoards", "AuditError", "AuditResult", "BatchAuditResult", "RunBallots", "BallotManifest", "ManifestError",
    "RiskLimitingAudit", "RoundPolicy", "SeedError", "StrataAuditResult",
    "cli_draw", "cli_sample_size", "colorado_draws", "consistent_draws", "format_dice_seed", "parse_dice_seed", "plan_audit",
    "read_manifest_csv", "run_audit", "sample_size", "simulate_audits", "simulate_design", "verify_package",
]  # fmt: skip


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # for type checkers and IDEs: the names __getattr__ serves
    from pollsim.audit.ballots import RunBallots
    from pollsim.audit.batch_audit import BatchAuditResult
    from pollsim.audit.boards import AuditBoards
    from pollsim.audit.commands import cli_draw, cli_sample_size, run_audit
    from pollsim.audit.errors import AuditError, ManifestError, SeedError
    from pollsim.audit.manifest import BallotManifest, read_manifest_csv
    from pollsim.audit.package import AnyAuditResult, verify_package
    from pollsim.audit.plan import plan_audit
    from pollsim.audit.rounds import AuditResult, RiskLimitingAudit, RoundPolicy
    from pollsim.audit.sample_size import sample_size
    from pollsim.audit.sampling import colorado_draws, consistent_draws, format_dice_seed, parse_dice_seed
    from pollsim.audit.simulate import simulate_audits
    from pollsim.audit.strata_audit import StrataAuditResult
    from pollsim.audit.strata_simulate import simulate_design
