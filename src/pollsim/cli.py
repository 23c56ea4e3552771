"""The ``pollsim`` command: parse arguments and call one function of :mod:`pollsim.verbs` per verb
(:mod:`pollsim.verbs_audit` for ``pollsim audit ...``).

Every user error (a :class:`~pollsim.errors.PollsimError`) is printed as one line per problem on
standard error, and the exit status is 2; nothing already written is touched. Help for every
verb and option shows its default (``pollsim VERB --help``; docs/reference.md is checked against
these parsers by a test).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

AUDIT_VERBS = ("run", "sample-size", "draw", "verify", "simulate", "plan")
METHODS = ["bravo", "kaplan-markov", "alpha"]
RUN_METHODS = [*METHODS, "batch", "macro", "alpha-batch", "hybrid", "oneaudit"]
SIMULATE_METHODS = [*METHODS, "batch", "macro", "alpha-batch", "hybrid", "suite-product", "suite-fisher", "oneaudit"]
BETS = ["adaptive", "fixed", "kelly"]


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, but not "(default: None)" or for flags."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, argparse.SUPPRESS) or not action.help:
            return action.help or ""
        return super()._get_help_string(action) or ""


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=1, help="worker processes (1: run here); the output does not depend on it")
    p.add_argument("--engine", choices=["process", "dask"], default="process", help="process pool, or Dask distributed (pip install 'pollsim[dask]')")
    p.add_argument("--scheduler", default=None, help="with --engine dask: address of an existing scheduler (default: a LocalCluster)")


def _evidence_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--evidence", action="append", metavar="EQUIPMENT=LEVEL",
                   help="override the evidence table (docs/audit.md), e.g. precinct-scanner=card for imprinting scanners; repeatable")  # fmt: skip


def _audit_parsers(audit: argparse.ArgumentParser) -> None:
    sub = audit.add_subparsers(dest="audit_verb", required=True, metavar="{RUN_DIR,run,sample-size,draw,verify,simulate,plan}")
    p = sub.add_parser("run", formatter_class=_Help, help="audit a run directory and write the audit package (also: pollsim audit RUN_DIR ...)")
    p.add_argument("run_dir", help="the run directory")
    p.add_argument("--contest", required=True, help="contest id (several, comma-separated, one sample: bravo, kaplan-markov, alpha)")
    p.add_argument("--risk-limit", type=float, required=True, help="the risk limit, e.g. 0.05")
    p.add_argument("--seed", required=True, help="20 dice digits (or any published string)")
    p.add_argument("--method", default="kaplan-markov", choices=RUN_METHODS, help="risk measure or audit design")
    p.add_argument("--bet", default="adaptive", choices=BETS, help="ALPHA's bet (--method alpha)")
    p.add_argument("--combine", default="product", choices=["product", "fisher"], help="hybrid: how the strata combine")
    _evidence_option(p)
    p.add_argument("--sampler", choices=["arlo", "colorado"], default="arlo", help="Rivest's consistent sampler (as Arlo) or ColoradoRLA's")
    p.add_argument("--out", default=None, help="package directory (default: RUN_DIR/audit)")
    p = sub.add_parser("sample-size", formatter_class=_Help, help="ballots to plan for, for a two-candidate contest")
    p.add_argument("--method", required=True, choices=["polling", "comparison", *METHODS], help="polling = bravo, comparison = kaplan-markov")
    p.add_argument("--margin", type=float, required=True, help="(diluted) margin, e.g. 0.05")
    p.add_argument("--risk-limit", type=float, required=True, help="the risk limit, e.g. 0.05")
    p.add_argument("--ballots", type=int, default=None, help="ballots cast (for the simulated quantiles)")
    p.add_argument("--o1", type=float, default=0.001, help="expected one-vote overstatement rate (comparison)")
    p.add_argument("--o2", type=float, default=0.0001, help="expected two-vote overstatement rate (comparison)")
    p.add_argument("--u1", type=float, default=None, help="expected one-vote understatement rate (kaplan-markov; default: --o1)")
    p.add_argument("--u2", type=float, default=None, help="expected two-vote understatement rate (kaplan-markov; default: --o2)")
    p.add_argument("--formula", default="arlo", choices=["arlo", "rlacalc", "super-simple"], help="Kaplan-Markov sample-size formula")
    p.add_argument("--bet", default="adaptive", choices=BETS, help="ALPHA's bet (--method alpha)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("draw", formatter_class=_Help, help="the sample a seed draws from a ballot manifest")
    p.add_argument("--manifest", required=True, help="CSV with 'Batch Name' and 'Number of Ballots'")
    p.add_argument("--seed", required=True, help="the public seed")
    p.add_argument("--count", type=int, required=True, help="draws")
    p.add_argument("--with-replacement", action="store_true", help="draw with replacement")
    p.add_argument("--sampler", choices=["arlo", "colorado"], default="arlo", help="sampler")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("verify", formatter_class=_Help, help="recompute an audit package, and check it was made from the run beside it")
    p.add_argument("package", help="the audit package directory")
    p.add_argument("--run", default=None, help="the run directory it was made from (default: the package's parent, if a run)")
    p = sub.add_parser("simulate", formatter_class=_Help, help="measure risk (wrong outcome) or workload (correct outcome) by simulation")
    p.add_argument("--method", default="kaplan-markov", choices=SIMULATE_METHODS, help="risk function or design (batch = macro, hybrid = suite-product)")
    p.add_argument("--bet", default="adaptive", choices=BETS, help="ALPHA's bet (--method alpha)")
    p.add_argument("--audits", type=int, default=2000, help="simulated audits")
    p.add_argument("--risk-limit", type=float, default=0.10, help="the risk limit")
    p.add_argument("--correct-outcome", action="store_true", help="simulate a correct outcome (workload) instead of a wrong one (risk)")
    p.add_argument("--ballots", type=int, default=20_000, help="ballots in the synthetic contest")
    p.add_argument("--margin", type=float, default=None, help="reported margin (default: 0.05 card-level, 0.08 batch and hybrid designs)")
    p.add_argument("--batch-size", type=int, default=200, help="cards per batch or pool (batch, hybrid, oneaudit)")
    p.add_argument("--share-without-cvr", type=float, default=0.4, help="share of the cards without their own CVR (hybrid, oneaudit)")
    p.add_argument("--seed", type=int, default=0, help="numpy seed")
    p = sub.add_parser("plan", formatter_class=_Help, help="propose a statewide design fitted to the paper, its workload, and the alternatives")
    p.add_argument("run_dir", help="the run directory")
    p.add_argument("--contest", required=True, help="the contest id")
    p.add_argument("--risk-limit", type=float, required=True, help="the risk limit, e.g. 0.05")
    _evidence_option(p)
    p.add_argument("--trials", type=int, default=400, help="simulated audits per design")
    p.add_argument("--seed", type=int, default=0, help="numpy seed of the simulations")
    p.add_argument("--json", action="store_true", help="print JSON")


class _Version(argparse.Action):
    """``--version``: argparse's version action, with the version looked up only when asked for
    (the package metadata costs more than the rest of ``pollsim --help``)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, default: str = argparse.SUPPRESS, help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option_string: str | None = None) -> None:
        from pollsim import __version__

        print(f"pollsim {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pollsim", description="Poll-place hardware and tabulation simulator.")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True)

    def verb(name: str, help: str, **kw) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=kw.pop("description", help), formatter_class=_Help, **kw)

    p = verb("validate", "check a scenario file")
    p.add_argument("scenario", help="scenario YAML file")

    p = verb("run", "simulate a scenario's election day (and night), write the run directory")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's seed)")
    p.add_argument("--out", default=None, help="run directory (default: runs/SCENARIO)")
    p.add_argument("--force", action="store_true", help="replace a run already in --out, with everything made from it")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    p.add_argument("--night", action="store_true", help="run election night even for one precinct")
    _engine_options(p)
    p.add_argument("--roll", default=None, help="a roll directory (pollsim roll simulate): take each precinct's pollbook from it")
    p.add_argument("--election", default=None, metavar="DATE", help="with --roll: the election (YYYY-MM-DD) whose pollbooks to use")
    p.add_argument("--serial", type=int, default=0, metavar="K",
                   help="read the first K precincts' DREs and scanners over emulated serial ports and check them against the day's records")  # fmt: skip

    p = verb("stress", "Monte Carlo of election days, nights, reconciliation and audits with faults")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--nights", type=int, required=True, help="simulated nights")
    p.add_argument("--faults", default=None, help="YAML: a partial scenario merged over the scenario (docs/scale.md)")
    p.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's seed)")
    p.add_argument("--contest", default=None, help="contest to audit (default: the first)")
    p.add_argument("--risk-limit", type=float, default=0.05, help="the audits' risk limit")
    p.add_argument("--out", default=None, help="output directory (default: runs/SCENARIO-stress)")
    _engine_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar or printed distributions")

    p = verb("report", "a self-contained HTML report of a run (report.html, plots/)")
    p.add_argument("run_dir", help="the run directory")

    p = verb("export", "export a run: nist-cvr, nist-results, nist-eventlog, arlo-manifest, dominion-cvr")
    p.add_argument("run_dir", help="the run directory")
    p.add_argument("--format", required=True, help="nist-cvr | nist-results | nist-eventlog | arlo-manifest | dominion-cvr")
    p.add_argument("--out", required=True, help="output file")

    p = verb("audit", "risk-limiting audits (§23-15-617): audit RUN_DIR ... | sample-size | draw | verify | simulate | plan",
             description="pollsim audit RUN_DIR --contest ID --risk-limit A --seed DIGITS (same as 'audit run RUN_DIR ...'), "
                         "or one of the verbs below; 'pollsim audit VERB --help' for each.")  # fmt: skip
    _audit_parsers(p)

    p = verb("reconcile", "§23-15-615 reconciliation of a run, or: reconcile threshold VOTES")
    p.add_argument("target", help="a run directory, or the word 'threshold'")
    p.add_argument("value", nargs="?", help="with 'threshold': total votes cast in the precinct")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = verb("audit-schedule", "counties audited under §23-15-615 in a year")
    p.add_argument("--counties", required=True, help="CSV file with a 'county' column")
    p.add_argument("--year", type=int, required=True, help="the year")
    p.add_argument("--seed", required=True, help="the published seed")
    p.add_argument("--triggered", nargs="*", help="counties with a discrepancy at or over threshold")
    p.add_argument("--election-date", help="YYYY-MM-DD: also print the deadlines")

    p = verb("serve", "emulate a device on a pseudo-terminal (first line printed: its path), or a county's devices at once",
             description="pollsim serve KIND ...: one device (first line printed: its port). pollsim serve --scenario S "
                         "(--county NAME | --precincts K) --manifest FILE: every DRE and scanner of those precincts after "
                         "their day, each on its own port (first line printed: the manifest).")  # fmt: skip
    p.add_argument("kind", nargs="?", choices=["dre", "scanner", "bmd", "pollbook"], help="device kind (leave out to serve a county's devices)")
    p.add_argument("--scenario", type=Path, help="live the first precinct's election day of this scenario")
    p.add_argument("--election", type=Path, help="load this scenario's election without living its day")
    p.add_argument("--speed", type=float, help="replay at this many times real time (default: as fast as possible)")
    p.add_argument("--state", type=Path, help="memory file (SQLite): the device survives restarts")
    p.add_argument("--link", help="keep a symlink to the port at this path")
    p.add_argument("--baud", type=int, help="pace the device's output to this line rate (10 bits per byte)")
    p.add_argument("--corrupt", type=float, default=0.0, help="share of bytes with one bit flipped, each way")
    p.add_argument("--drop", type=float, default=0.0, help="share of bytes lost, each way")
    p.add_argument("--seed", type=int, help="root seed of the simulated day and of the line faults")
    p.add_argument("--key", help="results key (hex, or a file of hex), loaded in test mode")
    p.add_argument("--device-id", type=int, default=1, help="device id on the wire, 1..65534")
    p.add_argument("--election-code", help="code OPEN_POLLS needs (default: first 8 hex digits of the definition SHA-256)")
    p.add_argument("--test-mode", action="store_true", help="put a device before the election into test mode")
    many = p.add_mutually_exclusive_group()
    many.add_argument("--county", metavar="NAME", help="no KIND: serve every DRE and scanner of this county's precincts of --scenario")
    many.add_argument("--precincts", type=int, metavar="K", help="no KIND: serve every DRE and scanner of the first K precincts of --scenario")
    p.add_argument("--manifest", type=Path, help="with --county or --precincts: write the manifest of ports here (CSV), once every port is open")

    p = verb("read", "read and check a device's counters, records and event log (or every device of a manifest)")
    p.add_argument("port", nargs="?", help="device path (/dev/pts/N, a symlink) or pyserial URL (pollsim://dre?...); leave out with --manifest")
    p.add_argument("--out", type=Path, help="directory for the readout (required with PORT; with --manifest: OUT/PRECINCT/UNIT/ and OUT/summary.json)")
    p.add_argument("--manifest", type=Path, help="read every device this manifest lists (pollsim serve --county), instead of PORT")
    p.add_argument("--ports", type=int, default=2, help="with --manifest: devices read at once (the station's reader ports)")
    p.add_argument("--key", help="results key (hex, or a file of hex): verify every seal")
    p.add_argument("--seen", type=Path, help="JSON object of the last seal counter accepted, keyed 'serial|definition_hash|memory_card' (read and updated)")
    p.add_argument("--chunk", type=int, default=0xFFFF, help="records asked for per chunk (lower on slow or noisy lines)")
    p.add_argument("--ack-timeout", type=float, default=0.5, help="seconds to wait for an acknowledgement")
    p.add_argument("--deadline", type=float, default=600.0, help="seconds the whole readout may take before it gives up with one line saying why")

    p = verb("conformance", "check a device on a serial port against every numbered rule of docs/protocol.md")
    p.add_argument("port", help="device path (/dev/pts/N, a symlink, a serial port) or pyserial URL")
    p.add_argument("--key", help="results key (hex, or a file of hex): verify the seals (S rules; n/a without it)")
    p.add_argument("--baud", type=int, default=115200, help="line rate of a real serial port (a pty ignores it)")
    p.add_argument("--rule", nargs="+", metavar="RULE", help="check only these rules, e.g. L3 S1 (default: all)")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON to this file")
    p.add_argument("--rule-deadline", type=float, default=10.0, help="seconds each rule's check may take before it fails")

    p = verb("plan", "the fewest check-in stations, voting units and scanners meeting a service target, per precinct")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--target", action="append", metavar="MEASURE<=LIMIT",
                   help='service target, e.g. "p95<=30" (minutes), "mean<=10", "lost<=1%%"; repeatable (default: the scenario\'s plan.targets, p95<=30)')
    p.add_argument("--replications", type=int, default=None, help="simulated days per configuration (default: the scenario's plan.replications, 20)")
    p.add_argument("--meet", type=int, default=None, help="days on which the targets must hold (default: 95 %% of the replications, 19 of 20)")
    p.add_argument("--scope", choices=["voter", "line"], default=None, help="targets on each voter's whole wait, or on each line (default: the scenario's plan.scope, voter)")
    p.add_argument("--resources", default=None, help="comma-separated: pollbooks, voting, scanners, managers (default: all that apply)")
    p.add_argument("--giving-up", choices=["on", "off"], default=None, help="voters may leave a long line (default: on, unless the scenario's giving_up.enabled is false)")
    p.add_argument("--turnout", action="append", metavar="CHANGE", help='also plan at another turnout, e.g. "+20%%" or "x1.2"; repeatable')
    p.add_argument("--fleet", choices=["pollbooks", "voting", "scanners"], default=None, help="also share out the units of this resource that exist today")
    p.add_argument("--fleet-within", choices=["county", "state"], default="county", help="--fleet: units move between precincts of one county, or statewide")
    p.add_argument("--objective", choices=["wait", "lost"], default="wait", help="--fleet: make the worst precinct's p95 wait, or the voters lost, as small as possible")
    p.add_argument("--whatif", type=int, default=12, help="precincts given what-if curves (waits vs units), the busiest first")
    p.add_argument("--seed", type=int, default=None, help="root seed: replication r is the day of seed SEED+r (default: the scenario's seed)")
    p.add_argument("--out", default=None, help="output directory: plan.csv, plan.json, whatif.csv, recommended.yaml, report.html (default: runs/SCENARIO-plan)")
    _engine_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar or table")

    p = verb("roll", "the voter roll across election cycles: roll simulate | roll pollbook")
    roll = p.add_subparsers(dest="roll_verb", required=True, metavar="{simulate,pollbook}")
    p = roll.add_parser("simulate", formatter_class=_Help, help="simulate the roll (registration, list maintenance, restored suffrage) and write it")
    p.add_argument("--start", default="2020-01-01", help="first day whose elections are written (YYYY-MM-DD)")
    p.add_argument("--end", default="2028-12-31", help="last day simulated (YYYY-MM-DD)")
    p.add_argument("--out", required=True, help="roll directory to write")
    p.add_argument("--law", choices=["2024", "pre2024"], default="2024", help="suffrage law: the 2024 bill (from its effective date) or the earlier law")
    p.add_argument("--compare", action="store_true", help="also run the other law on the same population; write policy.csv and print the comparison")
    p.add_argument("--seed", type=int, default=1, help="root seed")
    p.add_argument("--scale", type=float, default=1.0, help="share of every county's population to simulate (quick runs)")
    p.add_argument("--counties", default=None, help="comma-separated county names (default: all 82)")
    p.add_argument("--force", action="store_true", help="replace a roll already in --out")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p = roll.add_parser("pollbook", formatter_class=_Help, help="print a precinct's pollbook at an election (§23-15-125 columns, synthetic names)")
    p.add_argument("roll_dir", help="the roll directory")
    p.add_argument("--election", required=True, help="election day, YYYY-MM-DD")
    p.add_argument("--precinct", required=True, help="precinct id, FIPS-NNN (e.g. 28049-012)")
    p.add_argument("--csv", action="store_true", help="print CSV instead of the printed page")
    return parser


def _normalise(argv: list[str]) -> list[str]:
    """``pollsim audit RUN_DIR ...`` is ``pollsim audit run RUN_DIR ...``."""
    if argv and argv[0] == "audit" and len(argv) > 1 and argv[1] not in AUDIT_VERBS and not argv[1].startswith("-"):
        return ["audit", "run", *argv[1:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    from pollsim.errors import PollsimError

    args = build_parser().parse_args(_normalise(list(sys.argv[1:] if argv is None else argv)))
    try:
        from pollsim import verbs, verbs_audit

        name = {"audit": f"audit_{getattr(args, 'audit_verb', '')}", "roll": f"roll_{getattr(args, 'roll_verb', '')}"}.get(args.command, args.command)
        return int(getattr(verbs_audit if args.command == "audit" else verbs, name.replace("-", "_"))(args))
    except PollsimError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"pollsim: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pollsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
