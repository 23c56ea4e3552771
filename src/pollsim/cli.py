"""The ``pollsim`` command: parse arguments, call one function per verb, print.

Every user error (a :class:`~pollsim.errors.PollsimError`) is printed as one line per problem on
standard error, and the exit status is 2; nothing already written is touched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pollsim import __version__
from pollsim.errors import PollsimError


def _cmd_validate(args: argparse.Namespace) -> int:
    from pollsim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    voters = sum(p.registered_voters for p in scenario.precincts)
    print(f"{args.scenario}: ok ({len(scenario.precincts)} precinct(s), {voters:,} registered voters, "
          f"{len(scenario.election.contests)} contests)")  # fmt: skip
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from pollsim.rundir import write_run
    from pollsim.scale import executor
    from pollsim.scenario import load_scenario
    from pollsim.simulation import run_election_day
    from pollsim.tabulate.night import night_seed, simulate_night

    scenario = load_scenario(args.scenario)
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / scenario.scenario
    err = Console(stderr=True)
    n = len(scenario.precincts)
    if args.serial < 0:
        raise PollsimError(f"--serial {args.serial}: the number of precincts to read over serial must be 0 or more")
    with Progress(console=err, transient=True, disable=n < 20 or args.quiet) as bar, executor(args.workers, args.engine, args.scheduler) as ex:
        task = bar.add_task("precinct days", total=n)
        run = run_election_day(scenario, seed, progress=lambda k: bar.update(task, completed=k), executor=ex)
    night = simulate_night(run, night_seed(seed)) if n > 1 or args.night else None
    readin = None
    if args.serial:  # the first K precincts' devices read over real ptys, checked against the day's records
        from pollsim.tabulate.readin import serial_readin

        readin = serial_readin(run, args.serial)
    summ = write_run(run, out, night, serial_readin=readin)
    if not args.quiet:
        _print_summary(Console(), summ, out)
    return 0


def _print_summary(console, summ: dict, out: Path) -> None:
    from rich.table import Table

    t = Table(title=f"{summ['scenario']} (seed {summ['seed']})", show_header=False)
    w = summ["wait_minutes"]
    for k, v in [
        ("precincts", f"{summ['precincts']:,}"),
        ("voters arrived", f"{summ['voters']:,}"),
        ("regular ballots cast", f"{summ['ballots_cast']:,}"),
        ("affidavit ballots", f"{summ['affidavit_ballots']:,}"),
        ("spoiled ballots", f"{summ['spoiled_ballots']:,}"),
        ("wait (min) mean / p50 / p95 / max", f"{w['mean']:.1f} / {w['p50']:.1f} / {w['p95']:.1f} / {w['max']:.1f}"),
        ("last voter out", summ["last_voter_out"]),
        ("incidents", str(len(summ["incidents"]))),
    ] + (
        [("serial read-in", f"{summ['serial_readin']['devices']} devices of {summ['serial_readin']['precincts']} precincts, identical")]
        if "serial_readin" in summ
        else []
    ) + (
        [(f"ballots reported {k}", v or "never") for k, v in summ["reporting"]["ballots_reported_at"].items()]
        if "reporting" in summ
        else []
    ):
        t.add_row(k, v)
    console.print(t)
    r = Table(title="Tally (electronic record)")
    r.add_column("contest")
    r.add_column("choice")
    r.add_column("votes", justify="right")
    r.add_column("paper", justify="right")
    for contest, votes in summ["tally"].items():
        for k, (choice, v) in enumerate(votes.items()):
            r.add_row(contest if k == 0 else "", choice, f"{v:,}", f"{summ['paper_tally'][contest][choice]:,}")
    console.print(r)
    for line in summ.get("notice", []):
        console.print(f"[bold]notice:[/bold] {line}")
    console.print(f"written to {out}/")


def _cmd_reconcile(args: argparse.Namespace) -> int:
    from pollsim.reconcile import threshold

    if args.target == "threshold":
        try:
            votes = int(args.value)
            print(threshold(votes))
        except (TypeError, ValueError):
            print(f"pollsim: reconcile threshold: expected a whole number of votes >= 0, got {args.value!r}", file=sys.stderr)
            return 2
        return 0
    if args.value is not None:
        print(f"pollsim: reconcile: unexpected argument {args.value!r}", file=sys.stderr)
        return 2
    import json

    from rich.console import Console
    from rich.table import Table

    from pollsim.reconcile.report import write_report

    doc = write_report(Path(args.target))
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    t = Table(title="§23-15-615 reconciliation (flagged precincts)")
    for col in ("precinct", "county", "a", "b", "c", "d", "e", "f", "threshold", "checks at or over threshold"):
        t.add_column(col)
    flagged = [r for r in doc["precincts"] if r["flagged"]]
    for r in flagged:
        totals = [str(v) for k, v in r.items() if k[:2] in ("a_", "b_", "c_", "d_", "e_", "f_")]
        checks = ", ".join(k[5:] for k, v in r.items() if k.startswith("flag_") and v)
        t.add_row(r["precinct"], r["county"], *totals, str(r["threshold"]), checks)
    console = Console()
    console.print(t)
    triggered = [c for c, v in doc["counties"].items() if v]
    console.print(f"{len(doc['precincts'])} precincts, {len(flagged)} flagged; counties triggered: {', '.join(triggered) or 'none'}")
    console.print(f"written to {args.target}/reconciliation.csv and reconciliation.json")
    return 0


def _cmd_audit_schedule(args: argparse.Namespace) -> int:
    import csv
    import datetime as dt

    from pollsim.reconcile import deadlines, select_audits
    from pollsim.reconcile.report import RunDirError

    try:
        with open(args.counties, newline="", encoding="utf-8") as f:
            names = [row["county"] for row in csv.DictReader(f)]
    except (OSError, KeyError) as exc:
        raise RunDirError(f"{args.counties}: expected a CSV file with a 'county' column ({exc})") from None
    for sel in select_audits(names, args.year, args.seed, triggered=set(args.triggered or [])):
        extra = f"  precincts: {', '.join(sel.precincts)}" if sel.precincts else ""
        print(f"{args.year}  {sel.county:<16} {sel.reason}{extra}")
    if args.election_date:
        d = deadlines(dt.date.fromisoformat(args.election_date))
        print(f"report due {d.report_due}; audit window {d.audit_window[0]} to {d.audit_window[1]}; "
              f"public report by {d.public_report_due}; analysis by {d.analysis_due}")  # fmt: skip
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from pollsim.emulator.keyfile import read_key
    from pollsim.emulator.serve import EmulatorSettings, serve

    settings = EmulatorSettings(
        kind=args.kind, scenario=args.scenario, election=args.election, seed=args.seed, speed=args.speed,
        state=args.state, key=read_key(args.key) if args.key else None, number=args.device_id,
        election_code=args.election_code, test_mode=args.test_mode,
    )  # fmt: skip
    return serve(settings, link=args.link, baud=args.baud, corrupt=args.corrupt, drop=args.drop, seed=args.seed)


def _cmd_read(args: argparse.Namespace) -> int:
    from pollsim.emulator.keyfile import read_key
    from pollsim.emulator.read import read_command

    key = read_key(args.key) if args.key else None
    print(read_command(args.port, args.out, key=key, seen=args.seen, chunk=args.chunk, ack_timeout=args.ack_timeout))
    return 0


def _cmd_stress(args: argparse.Namespace) -> int:
    import yaml
    from rich.console import Console
    from rich.progress import Progress

    from pollsim.scale import executor
    from pollsim.scale.stress import load_faults, merge, stress, write_stress
    from pollsim.scenario import load_scenario
    from pollsim.scenario.models import Scenario

    scenario = load_scenario(args.scenario)
    if args.faults:
        raw = yaml.safe_load(Path(args.scenario).read_text(encoding="utf-8"))
        merged = merge(raw, load_faults(Path(args.faults)))
        try:
            scenario = Scenario.model_validate(merged)
        except ValueError as exc:
            from pollsim.errors import ScenarioError

            raise ScenarioError([f"{args.faults}: the faults do not fit the scenario: {str(exc).splitlines()[0]}"]) from None
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / f"{scenario.scenario}-stress"
    with Progress(console=Console(stderr=True), transient=True, disable=args.quiet) as bar, executor(args.workers, args.engine, args.scheduler) as ex:
        task = bar.add_task("simulated nights", total=args.nights)
        dist, rows = stress(scenario, seed, args.nights, contest=args.contest, risk_limit=args.risk_limit, executor=ex, progress=lambda k: bar.update(task, completed=k))
    write_stress(out, dist, rows)
    if not args.quiet:
        import json

        print(json.dumps({k: v for k, v in dist.items()}, indent=2))
        print(f"written to {out}/stress.json and stress.csv")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pollsim.report import build_report

    print(f"written to {build_report(Path(args.run_dir))}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pollsim.export import export_run

    summary = export_run(Path(args.run_dir), args.format, Path(args.out))
    print(f"{summary.path}: {summary.records:,} records ({summary.format})")
    return 0


_AUDIT_VERBS = ("sample-size", "draw", "verify", "simulate")


def _audit_parsers() -> dict[str, argparse.ArgumentParser]:
    """Parsers for ``pollsim audit VERB ...`` and for ``pollsim audit RUN_DIR ...``."""
    out = {}
    p = out["sample-size"] = argparse.ArgumentParser(prog="pollsim audit sample-size")
    p.add_argument("--method", required=True, choices=["polling", "comparison", "bravo", "kaplan-markov", "alpha"])
    p.add_argument("--margin", type=float, required=True, help="(diluted) margin, e.g. 0.05")
    p.add_argument("--risk-limit", type=float, required=True)
    p.add_argument("--ballots", type=int, default=None)
    p.add_argument("--o1", type=float, default=0.001, help="expected one-vote overstatement rate (comparison; default 0.001)")
    p.add_argument("--o2", type=float, default=0.0001, help="expected two-vote overstatement rate (comparison; default 0.0001)")
    p.add_argument("--json", action="store_true")
    p = out["draw"] = argparse.ArgumentParser(prog="pollsim audit draw")
    p.add_argument("--manifest", required=True, help="CSV with 'Batch Name' and 'Number of Ballots'")
    p.add_argument("--seed", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--with-replacement", action="store_true")
    p.add_argument("--sampler", choices=["arlo", "colorado"], default="arlo")
    p.add_argument("--json", action="store_true")
    p = out["verify"] = argparse.ArgumentParser(prog="pollsim audit verify")
    p.add_argument("package")
    p = out["simulate"] = argparse.ArgumentParser(prog="pollsim audit simulate")
    p.add_argument("--method", default="kaplan-markov", choices=["bravo", "kaplan-markov", "alpha"])
    p.add_argument("--audits", type=int, default=2000)
    p.add_argument("--risk-limit", type=float, default=0.10)
    p.add_argument("--correct-outcome", action="store_true", help="simulate a correct outcome (workload) instead of a wrong one (risk)")
    p.add_argument("--ballots", type=int, default=20_000)
    p.add_argument("--margin", type=float, default=0.05, help="reported margin")
    p.add_argument("--seed", type=int, default=0)
    p = out["run"] = argparse.ArgumentParser(prog="pollsim audit RUN_DIR")
    p.add_argument("run_dir")
    p.add_argument("--contest", required=True, help="contest id (several: comma-separated, one sample)")
    p.add_argument("--risk-limit", type=float, required=True)
    p.add_argument("--seed", required=True, help="20 dice digits (or any published string)")
    p.add_argument("--method", default="kaplan-markov", choices=["bravo", "kaplan-markov", "alpha"])
    p.add_argument("--sampler", choices=["arlo", "colorado"], default="arlo")
    p.add_argument("--out", default=None, help="package directory (default RUN_DIR/audit)")
    return out


def _cmd_audit(args: argparse.Namespace) -> int:
    import json

    from pollsim import audit

    rest = list(args.rest)
    verb = rest[0] if rest and rest[0] in _AUDIT_VERBS else "run"
    parser = _audit_parsers()[verb]
    a = parser.parse_args(rest[1:] if verb != "run" else rest)
    sampler = lambda name: "consistent" if name == "arlo" else name  # noqa: E731
    if verb == "sample-size":
        method = {"polling": "bravo", "comparison": "kaplan-markov"}.get(a.method, a.method)
        result = audit.cli_sample_size(method, a.margin, a.risk_limit, a.ballots, a.o1, a.o2)
        print(json.dumps(result, indent=2) if a.json else f"sample size {result['sample_size']}" + (
            f"; simulated quantiles {result['quantiles']}" if result.get("quantiles") else ""))  # fmt: skip
    elif verb == "draw":
        draws = audit.cli_draw(Path(a.manifest), a.seed, a.count, a.with_replacement, sampler(a.sampler))
        if a.json:
            print(json.dumps(draws, indent=2))
        else:
            for k, d in enumerate(draws, 1):
                print(f"{k:>5}  {d['batch']}  {d['position']}  {d['ticket'] if d['ticket'] is not None else ''}  x{d['times_drawn']}")
    elif verb == "verify":
        ok, problems = audit.verify_package(Path(a.package))
        for problem in problems:
            print(f"pollsim: {a.package}: {problem}", file=sys.stderr)
        print(f"{a.package}: {'verified: every number recomputed from the package agrees' if ok else 'does NOT verify'}")
        return 0 if ok else 1
    elif verb == "simulate":
        result = audit.simulate_audits(a.method, audits=a.audits, risk_limit=a.risk_limit, wrong_outcome=not a.correct_outcome, ballots=a.ballots, reported_margin=a.margin, seed=a.seed)
        print(json.dumps(result, indent=2))
    else:
        audit.run_audit(Path(a.run_dir), a.contest, a.risk_limit, a.seed, a.method, Path(a.out) if a.out else None, print, sampler=sampler(a.sampler))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pollsim", description="Poll-place hardware and tabulation simulator.")
    parser.add_argument("--version", action="version", version=f"pollsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a scenario file")
    p.add_argument("scenario")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("run", help="simulate a scenario's election day")
    p.add_argument("scenario")
    p.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's seed)")
    p.add_argument("--out", default=None, help="run directory (default: runs/SCENARIO)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    p.add_argument("--night", action="store_true", help="run election night even for one precinct")
    p.add_argument("--workers", type=int, default=1, help="worker processes (1: run here); the output does not depend on it")
    p.add_argument("--engine", choices=["process", "dask"], default="process", help="process pool, or Dask distributed (pollsim[dask])")
    p.add_argument("--scheduler", default=None, help="with --engine dask: address of an existing scheduler (default: a LocalCluster)")
    p.add_argument("--serial", type=int, default=0, metavar="K",
                   help="read the first K precincts' DREs and scanners over emulated serial ports and check them against the day's records")  # fmt: skip
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("stress", help="Monte Carlo of election days, nights, reconciliation and audits with faults")
    p.add_argument("scenario")
    p.add_argument("--nights", type=int, required=True)
    p.add_argument("--faults", default=None, help="YAML: a partial scenario merged over the scenario (docs/scale.md)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--contest", default=None, help="contest to audit (default: the first)")
    p.add_argument("--risk-limit", type=float, default=0.05)
    p.add_argument("--out", default=None)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--engine", choices=["process", "dask"], default="process")
    p.add_argument("--scheduler", default=None)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_stress)

    p = sub.add_parser("report", help="a self-contained HTML report of a run (report.html, plots/)")
    p.add_argument("run_dir")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("export", help="export a run: nist-cvr, nist-results, nist-eventlog, arlo-manifest, dominion-cvr")
    p.add_argument("run_dir")
    p.add_argument("--format", required=True, help="nist-cvr | nist-results | nist-eventlog | arlo-manifest | dominion-cvr")
    p.add_argument("--out", required=True, help="output file")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser(
        "audit",
        help="risk-limiting audits (§23-15-617): audit RUN_DIR ... | audit sample-size | draw | verify | simulate",
        description="pollsim audit RUN_DIR --contest ID --risk-limit A --seed DIGITS [--method M]; "
        "pollsim audit sample-size --method {polling,comparison} --margin M --risk-limit A [--json]; "
        "pollsim audit draw --manifest CSV --seed SEED --count N [--with-replacement] [--sampler {arlo,colorado}] [--json]; "
        "pollsim audit verify PACKAGE; pollsim audit simulate [--method M] [--audits N] [--risk-limit A]",
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("reconcile", help="§23-15-615 reconciliation of a run, or: reconcile threshold VOTES")
    p.add_argument("target", help="a run directory, or the word 'threshold'")
    p.add_argument("value", nargs="?", help="with 'threshold': total votes cast in the precinct")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_reconcile)

    p = sub.add_parser("audit-schedule", help="counties audited under §23-15-615 in a year")
    p.add_argument("--counties", required=True, help="CSV file with a 'county' column")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--seed", required=True, help="the published seed")
    p.add_argument("--triggered", nargs="*", help="counties with a discrepancy at or over threshold")
    p.add_argument("--election-date", help="YYYY-MM-DD: also print the deadlines")
    p.set_defaults(func=_cmd_audit_schedule)

    p = sub.add_parser("serve", help="emulate a device on a pseudo-terminal (first line printed: its path)")
    p.add_argument("kind", choices=["dre", "scanner", "bmd", "pollbook"])
    p.add_argument("--scenario", type=Path, help="live the first precinct's election day of this scenario")
    p.add_argument("--election", type=Path, help="load this scenario's election without living its day")
    p.add_argument("--speed", type=float, help="replay at this many times real time (default: as fast as possible)")
    p.add_argument("--state", type=Path, help="memory file (SQLite): the device survives restarts")
    p.add_argument("--link", help="keep a symlink to the port at this path")
    p.add_argument("--baud", type=int, help="pace the device's output to this line rate (10 bits per byte)")
    p.add_argument("--corrupt", type=float, default=0.0, help="share of sent bytes with one bit flipped")
    p.add_argument("--drop", type=float, default=0.0, help="share of sent bytes lost")
    p.add_argument("--seed", type=int, help="root seed of the simulated day and of the line faults")
    p.add_argument("--key", help="results key (hex, or a file of hex), loaded in test mode")
    p.add_argument("--device-id", type=int, default=1, help="device id on the wire, 1..65534 (default 1)")
    p.add_argument("--election-code", help="code OPEN_POLLS needs (default: first 8 hex digits of the definition SHA-256)")
    p.add_argument("--test-mode", action="store_true", help="put a device before the election into test mode")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("read", help="read and check a device's counters, records and event log")
    p.add_argument("port", help="device path (/dev/pts/N, a symlink) or pyserial URL (pollsim://dre?...)")
    p.add_argument("--out", type=Path, required=True, help="directory for the readout")
    p.add_argument("--key", help="results key (hex, or a file of hex): verify every seal")
    p.add_argument("--seen", type=Path, help="JSON file of the last seal counter accepted per device (read and updated)")
    p.add_argument("--chunk", type=int, default=0xFFFF, help="records asked for per chunk (lower on slow or noisy lines)")
    p.add_argument("--ack-timeout", type=float, default=0.5, help="seconds to wait for an acknowledgement")
    p.set_defaults(func=_cmd_read)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PollsimError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"pollsim: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pollsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
