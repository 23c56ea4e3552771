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
    from pollsim.scenario import load_scenario
    from pollsim.simulation import run_election_day

    scenario = load_scenario(args.scenario)
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / scenario.scenario
    err = Console(stderr=True)
    n = len(scenario.precincts)
    with Progress(console=err, transient=True, disable=n < 20 or args.quiet) as bar:
        task = bar.add_task("precinct days", total=n)
        run = run_election_day(scenario, seed, progress=lambda k: bar.update(task, completed=k))
    summ = write_run(run, out)
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
    ]:
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
    console.print(f"written to {out}/")


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
    p.set_defaults(func=_cmd_run)
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
