"""What the ``pollsim audit ...`` verbs do (§23-15-617): call the audit library, print the result.

One function per sub-verb, each taking the parsed arguments (:mod:`pollsim.cli`) and returning the
exit status; :mod:`pollsim.verbs` re-exports them for the command line's dispatch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _sampler(name: str) -> str:
    return "consistent" if name == "arlo" else name


def audit_run(args: argparse.Namespace) -> int:
    from pollsim.audit.evidence import parse_overrides
    from pollsim.rundir import audit_run_dir

    audit_run_dir(args.run_dir, args.contest, args.risk_limit, args.seed, args.method, args.out, print, sampler=_sampler(args.sampler),
                  bet=args.bet, combine=args.combine, evidence=parse_overrides(args.evidence))  # fmt: skip
    return 0


def audit_sample_size(args: argparse.Namespace) -> int:
    from pollsim.audit import cli_sample_size

    method = {"polling": "bravo", "comparison": "kaplan-markov"}.get(args.method, args.method)
    result = cli_sample_size(method, args.margin, args.risk_limit, args.ballots, args.o1, args.o2, formula=args.formula, u1=args.u1, u2=args.u2, bet=args.bet)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    q = result.get("quantiles")
    extra = f"; by simulation, 50/90/99 % of audits stop within {q['50']:,} / {q['90']:,} / {q['99']:,} ballots" if q else ""
    print(f"{method} audit at margin {args.margin:g}, risk limit {args.risk_limit:g}: plan for {result['sample_size']:,} ballots{extra}")
    return 0


def audit_draw(args: argparse.Namespace) -> int:
    from pollsim.audit import cli_draw

    draws = cli_draw(Path(args.manifest), args.seed, args.count, args.with_replacement, _sampler(args.sampler))
    if args.json:
        print(json.dumps(draws, indent=2))
        return 0
    for k, d in enumerate(draws, 1):
        print(f"{k:>5}  {d['batch']}  {d['position']}  {d['ticket'] if d['ticket'] is not None else ''}  x{d['times_drawn']}")
    return 0


def audit_verify(args: argparse.Namespace) -> int:
    from pollsim.audit import verify_package
    from pollsim.rundir import RunDir, is_run_dir

    package = Path(args.package)
    ok, problems = verify_package(package)
    run_dir = Path(args.run) if args.run else (package.parent if is_run_dir(package.parent) else None)
    if run_dir is not None:
        try:
            doc = json.loads((package / "audit.json").read_text(encoding="utf-8"))
            made_from = doc.get("run_sha256") if isinstance(doc, dict) else None
        except (OSError, ValueError):
            made_from = None
        rd = RunDir(run_dir)
        if made_from != rd.run_sha256:
            problems.append(f"{package}: made from another run than the one in {run_dir} (run SHA-256 {str(made_from)[:12]}..., the run is {rd.run_sha256[:12]}...)")
        problems += rd.check_files()
    for problem in problems:
        print(f"pollsim: {problem}" if problem.startswith(str(package)) or problem.startswith(str(run_dir)) else f"pollsim: {package}: {problem}", file=sys.stderr)
    verified = not problems
    what = f" and was made from the run in {run_dir}" if run_dir is not None else ""
    print(f"{package}: {'verified: every number recomputed from the package agrees' + what if verified else 'does NOT verify'}")
    return 0 if ok and verified else 1


def audit_simulate(args: argparse.Namespace) -> int:
    from pollsim.audit import simulate_audits, simulate_design

    if args.method in ("bravo", "kaplan-markov", "alpha"):
        result = simulate_audits(args.method, audits=args.audits, risk_limit=args.risk_limit, wrong_outcome=not args.correct_outcome,
                                 ballots=args.ballots, reported_margin=0.05 if args.margin is None else args.margin, seed=args.seed, bet=args.bet)  # fmt: skip
    else:
        result = simulate_design(args.method, audits=args.audits, risk_limit=args.risk_limit, wrong_outcome=not args.correct_outcome, ballots=args.ballots,
                                 reported_margin=0.08 if args.margin is None else args.margin, share_without_cvr=args.share_without_cvr,
                                 batch_size=args.batch_size, seed=args.seed)  # fmt: skip
    print(json.dumps(result, indent=2))
    return 0


def audit_plan(args: argparse.Namespace) -> int:
    from pollsim.audit import plan_audit
    from pollsim.audit.evidence import parse_overrides
    from pollsim.audit.plan import plan_text
    from pollsim.rundir import RunDir

    doc = plan_audit(RunDir(args.run_dir).audit_ballots(), args.contest, args.risk_limit, evidence=parse_overrides(args.evidence), trials=args.trials, seed=args.seed)
    print(json.dumps(doc, indent=2) if args.json else plan_text(doc))
    return 0
