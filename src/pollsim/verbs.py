"""What each ``pollsim`` verb does: call the library's front doors, print the result.

One function per verb, each taking the parsed arguments (:mod:`pollsim.cli`) and returning the
exit status (the ``audit`` sub-verbs are in :mod:`pollsim.verbs_audit`). The work is done by library functions users can call from Python too:
:func:`pollsim.pipeline.run_election`, :func:`pollsim.rundir.write_run`,
:class:`pollsim.rundir.RunDir`, :func:`pollsim.reconcile.reconcile_precincts`,
:func:`pollsim.audit.run_audit`, :func:`pollsim.export.export_run`,
:func:`pollsim.report.build_report`, :func:`pollsim.scale.stress.stress`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pollsim.errors import PollsimError


def validate(args: argparse.Namespace) -> int:
    from pollsim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    voters = sum(p.registered_voters for p in scenario.precincts)
    print(f"{args.scenario}: ok ({len(scenario.precincts)} precinct(s), {voters:,} registered voters, "
          f"{len(scenario.election.contests)} contests)")  # fmt: skip
    return 0


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from pollsim.scale import executor  # light: the pool starts before the chain's modules are imported

    if args.serial < 0:
        raise PollsimError(f"--serial {args.serial}: the number of precincts to read over serial must be 0 or more")
    with ExitStack() as pool:
        # the workers start (and import the precinct day) while this process imports the chain,
        # reads the scenario and the roll and runs the stages before the day; the pool is closed
        # before the writing
        ex = pool.enter_context(executor(args.workers, args.engine, args.scheduler))
        from rich.console import Console
        from rich.progress import Progress

        from pollsim.pipeline import run_election
        from pollsim.rundir import DaySpool, write_run
        from pollsim.rundir.write import check_target

        scenario, roll = _run_inputs(args)
        seed = scenario.seed if args.seed is None else args.seed
        out = Path(args.out) if args.out else Path("runs") / scenario.scenario
        check_target(out, args.force)  # before hours of simulation, not after
        n = len(scenario.precincts)
        with DaySpool(out, force=args.force) as spool:  # the day streams into the run's staging folder (issue 12)
            with Progress(console=Console(stderr=True), transient=True, disable=n < 20 or args.quiet) as bar:
                task = bar.add_task("precinct days", total=n)
                result = run_election(scenario, seed, night=True if args.night else None, serial=args.serial, executor=ex,
                                      progress=lambda k: bar.update(task, completed=k), sink=spool)  # fmt: skip
            pool.close()
            summ = write_run(result, out, force=args.force, roll=roll)
    if not args.quiet:
        _print_summary(summ, out)
    return 0


def _run_inputs(args: argparse.Namespace) -> tuple:
    """``pollsim run``'s scenario, its pollbooks taken from the roll with ``--roll``, and the
    roll's part of the run (None without)."""
    from pollsim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if (args.roll is None) != (args.election is None):
        raise PollsimError("--roll and --election go together: the roll directory and the election date (YYYY-MM-DD) whose pollbooks to use")
    if args.roll is None:
        return scenario, None
    from pollsim.roll import RollDir
    from pollsim.roll.attach import roll_attachment
    from pollsim.roll.pollbook import scenario_from_roll

    book = RollDir(args.roll)
    scenario = scenario_from_roll(scenario, book, args.election)
    return scenario, roll_attachment(book, args.election, [p.id for p in scenario.precincts])  # copied into the run for its report


def _print_summary(summ: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from pollsim.scenario.incident_kinds import SILENT_KINDS

    console = Console()
    t = Table(title=f"{summ['scenario']} (seed {summ['seed']})", show_header=False)
    w = summ["wait_minutes"]
    rows = [
        ("precincts", f"{summ['precincts']:,}"),
        ("voters arrived", f"{summ['voters']:,}"),
        ("regular ballots cast", f"{summ['ballots_cast']:,}"),
        ("affidavit ballots", f"{summ['affidavit_ballots']:,}"),
        ("spoiled ballots", f"{summ['spoiled_ballots']:,}"),
        ("wait (min) mean / p50 / p95 / max", f"{w['mean']:.1f} / {w['p50']:.1f} / {w['p95']:.1f} / {w['max']:.1f}"),
        *([("voters who gave up (balked / reneged)", f"{summ['lost_voters']['total']:,} ({summ['lost_voters']['balked']:,} / {summ['lost_voters']['reneged']:,})")]
          if "lost_voters" in summ else []),
        ("last voter out", summ["last_voter_out"]),
        ("incidents", str(sum(1 for i in summ["incidents"] if i.get("kind") not in SILENT_KINDS))),  # a silent fault is no incident a poll manager sees
    ]
    if "serial_readin" in summ:
        s = summ["serial_readin"]
        rows.append(("serial read-in", f"{s['devices']} devices of {s['precincts']} precincts, identical"))
    if "reporting" in summ:
        rows += [(f"ballots reported {k}", v or "never") for k, v in summ["reporting"]["ballots_reported_at"].items()]
    for label, value in rows:
        t.add_row(label, value)
    console.print(t)
    r = Table(title="Tally (electronic record)")
    for col, justify in (("contest", "left"), ("choice", "left"), ("votes", "right"), ("paper", "right")):
        r.add_column(col, justify=justify)  # type: ignore[arg-type]
    for contest, votes in summ["tally"].items():
        for k, (choice, v) in enumerate(votes.items()):
            r.add_row(contest if k == 0 else "", choice, f"{v:,}", f"{summ['paper_tally'][contest][choice]:,}")
    console.print(r)
    canvass = summ.get("canvass") or {}
    if canvass.get("tally"):  # with absentee voting: the count certified after the canvass (§23-15-603)
        c = Table(title=f"Certified tally ({canvass.get('ballots_certified', 0):,} ballots: election day, absentee and affidavit)")
        for col, justify in (("contest", "left"), ("choice", "left"), ("votes", "right"), ("paper", "right")):
            c.add_column(col, justify=justify)  # type: ignore[arg-type]
        paper = canvass.get("paper_tally") or {}
        for contest, votes in canvass["tally"].items():
            for k, (choice, v) in enumerate(votes.items()):
                c.add_row(contest if k == 0 else "", choice, f"{v:,}", f"{paper[contest][choice]:,}" if choice in paper.get(contest, {}) else "")
        console.print(c)
    for line in summ.get("notice", []):
        console.print(f"[bold]notice:[/bold] {line}")
    console.print(f"written to {out}/")


def reconcile(args: argparse.Namespace) -> int:
    from pollsim.reconcile import threshold

    if args.target == "threshold":
        try:
            votes = int(args.value)
            if votes < 0:
                raise ValueError(votes)
        except (TypeError, ValueError):
            raise PollsimError(f"reconcile threshold: expected a whole number of votes >= 0, got {args.value!r}") from None
        print(threshold(votes))
        return 0
    if args.value is not None:
        raise PollsimError(f"reconcile: unexpected argument {args.value!r}")
    from pollsim.rundir import reconcile_run_dir

    doc = reconcile_run_dir(args.target)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(reconcile_table(doc))
    print(f"written to {args.target}/reconciliation.csv and reconciliation.json")
    return 0


RECONCILE_CHECKS = {"pollbook_vs_receipt_book": "pb-rb", "ballots_received_vs_accounted": "rcv-acc", "voters_vs_ballots": "vot-bal", "ballots_vs_counters": "bal-ctr",
                    "absentee_receipts_vs_counted": "ab-cnt"}  # fmt: skip
RECONCILE_LEGEND = """\
(a) voters marked VOTED in the pollbook   (b) receipt-book signatures + absentee
(c) paper ballots received                (d) paper voted + unused + spoiled
(e) DRE public counters                   (f) total ballots cast (no affidavit)
thr: the precinct's threshold (§23-15-615(4)): a difference this big is flagged
checks (docs/reconciliation.md): pb-rb (a) + absentee - (b)    rcv-acc (c) - (d)
  vot-bal (a) + absentee - (f)   bal-ctr (f) - absentee - (e) - scanner counters
  ab-cnt absentee in the receipt book - absentee ballots counted"""


def reconcile_table(doc: dict, width: int = 80) -> str:
    """The flagged precincts of a reconciliation (``reconciliation.json``) as text at most
    ``width`` columns wide: the key columns never wrap; a legend for (a)-(f) and the checks;
    "no precinct flagged" instead of an empty table."""
    flagged = [r for r in doc["precincts"] if r["flagged"]]
    triggered = [c for c, v in doc["counties"].items() if v]
    lines = ["§23-15-615 reconciliation"]
    if flagged:
        head = ["precinct", "county", "(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "thr", "checks flagged"]
        rows = [[str(r["precinct"]), str(r["county"]), *(str(v) for k, v in r.items() if k[:2] in ("a_", "b_", "c_", "d_", "e_", "f_")),
                 str(r["threshold"]), " ".join(RECONCILE_CHECKS.get(k[5:], k[5:]) for k, v in r.items() if k.startswith("flag_") and v)]
                for r in flagged]  # fmt: skip
        cols = list(zip(head, *rows, strict=True))
        wide = [max(len(c) for c in col) for col in cols]
        beside = width - sum(wide[:-1]) - 2 * (len(wide) - 1) >= wide[-1]  # the checks fit on the row, or go below it

        def line(cells: list[str]) -> str:
            out = "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells[:-1], wide[:-1], strict=True)))
            return out + "  " + cells[-1] if beside else out + "\n    " + cells[-1]

        lines += [line(head), "  ".join("-" * w for w in (wide if beside else wide[:-1]))]
        lines += [line(r) for r in rows]
        lines += ["", RECONCILE_LEGEND]
    else:
        lines.append("no precinct flagged: every difference is under its precinct's threshold")
    lines.append(f"{len(doc['precincts']):,} precincts, {len(flagged):,} flagged; counties triggered: {', '.join(triggered) or 'none'}")
    return "\n".join(lines)


def audit_schedule(args: argparse.Namespace) -> int:
    import csv
    import datetime as dt

    from pollsim.reconcile import deadlines, select_audits

    try:
        with open(args.counties, newline="", encoding="utf-8") as f:
            names = [row["county"] for row in csv.DictReader(f)]
    except (OSError, KeyError, UnicodeDecodeError, csv.Error) as exc:
        raise PollsimError(f"{args.counties}: expected a CSV file with a 'county' column ({exc})") from None
    for sel in select_audits(names, args.year, args.seed, triggered=set(args.triggered or [])):
        extra = f"  precincts: {', '.join(sel.precincts)}" if sel.precincts else ""
        print(f"{args.year}  {sel.county:<16} {sel.reason}{extra}")
    if args.election_date:
        try:
            d = deadlines(dt.date.fromisoformat(args.election_date))
        except ValueError:
            raise PollsimError(f"--election-date {args.election_date!r}: expected YYYY-MM-DD") from None
        print(f"report due {d.report_due}; audit window {d.audit_window[0]} to {d.audit_window[1]}; "
              f"public report by {d.public_report_due}; analysis by {d.analysis_due}")  # fmt: skip
    return 0


def serve(args: argparse.Namespace) -> int:
    from pollsim.emulator.keyfile import read_key
    from pollsim.emulator.serve import EmulatorSettings
    from pollsim.emulator.serve import serve as serve_device

    many = args.county is not None or args.precincts is not None
    if args.kind is None or many or args.manifest is not None:
        from pollsim.emulator.county import serve_county
        from pollsim.scenario import load_scenario

        one = [flag for flag, value in (("KIND", args.kind), ("--election", args.election), ("--speed", args.speed),
               ("--state", args.state), ("--link", args.link), ("--test-mode", args.test_mode),
               ("--election-code", args.election_code), ("--device-id", args.device_id != 1 or None)) if value]  # fmt: skip
        if one:
            raise PollsimError(f"{', '.join(one)}: for one device (pollsim serve KIND); a county's devices take "
                               "--scenario, --county or --precincts, --manifest, --seed, --baud, --corrupt, --drop, --key")  # fmt: skip
        if args.scenario is None or not many or args.manifest is None:
            raise PollsimError("pollsim serve: give a device KIND, or --scenario S with --county NAME or --precincts K "
                               "and --manifest FILE to serve those precincts' devices")  # fmt: skip
        key = read_key(args.key) if args.key else None
        scenario = load_scenario(args.scenario)
        seed = scenario.seed if args.seed is None else args.seed
        if scenario.absentee is not None:  # as pollsim run: the pollbooks mark VOTED AB
            from pollsim.absentee import run_absentee, with_voted_ab

            scenario = with_voted_ab(scenario, run_absentee(scenario, seed))
        return serve_county(scenario, seed, county=args.county, precincts=args.precincts, manifest=args.manifest,
                            baud=args.baud, corrupt=args.corrupt, drop=args.drop, key=key)  # fmt: skip
    settings = EmulatorSettings(
        kind=args.kind, scenario=args.scenario, election=args.election, seed=args.seed, speed=args.speed,
        state=args.state, key=read_key(args.key) if args.key else None, number=args.device_id,
        election_code=args.election_code, test_mode=args.test_mode,
    )  # fmt: skip
    return serve_device(settings, link=args.link, baud=args.baud, corrupt=args.corrupt, drop=args.drop, seed=args.seed)


def read(args: argparse.Namespace) -> int:
    from pollsim.emulator.keyfile import read_key
    from pollsim.emulator.read import read_command

    key = read_key(args.key) if args.key else None
    if args.manifest is not None:
        from pollsim.emulator.station import station_command

        if args.port is not None:
            raise PollsimError(f"pollsim read: give PORT or --manifest, not both ({args.port} and {args.manifest})")
        return station_command(args.manifest, ports=args.ports, out=args.out, key=key, seen=args.seen, chunk=args.chunk,
                               ack_timeout=args.ack_timeout, deadline=args.deadline)  # fmt: skip
    if args.port is None or args.out is None:
        raise PollsimError("pollsim read: give PORT and --out DIR (or --manifest FILE)")
    print(read_command(args.port, args.out, key=key, seen=args.seen, chunk=args.chunk, ack_timeout=args.ack_timeout, deadline=args.deadline))
    return 0


def conformance(args: argparse.Namespace) -> int:
    """``pollsim conformance``: 0 if every required rule passes, 1 if one fails (2: bad arguments)."""
    from pollsim.conformance import check_port, exit_status, format_table, write_json
    from pollsim.emulator.keyfile import read_key

    key = read_key(args.key) if args.key else None
    if args.rule_deadline <= 0:
        raise PollsimError(f"--rule-deadline {args.rule_deadline}: must be positive")
    if args.json is not None and not args.json.parent.is_dir():
        raise PollsimError(f"--json {args.json}: no directory {args.json.parent}")
    results = check_port(args.port, key=key, baud=args.baud, numbers=args.rule, budget=args.rule_deadline)
    print(format_table(results, args.port))
    if args.json is not None:
        write_json(results, args.port, args.json)
    return exit_status(results)

def stress(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from pollsim.scale import executor
    from pollsim.scale.stress import stress as stress_nights
    from pollsim.scale.stress import with_faults, write_stress
    from pollsim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.faults:
        scenario = with_faults(Path(args.scenario), Path(args.faults))
    seed = scenario.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / f"{scenario.scenario}-stress"
    with Progress(console=Console(stderr=True), transient=True, disable=args.quiet) as bar, executor(args.workers, args.engine, args.scheduler) as ex:
        task = bar.add_task("simulated nights", total=args.nights)
        dist, rows = stress_nights(scenario, seed, args.nights, contest=args.contest, risk_limit=args.risk_limit, executor=ex,
                                   progress=lambda k: bar.update(task, completed=k))  # fmt: skip
    write_stress(out, dist, rows)
    if not args.quiet:
        print(json.dumps(dist, indent=2))
        print(f"written to {out}/stress.json and stress.csv")
    return 0


def report(args: argparse.Namespace) -> int:
    from pollsim.report import build_report

    print(f"written to {build_report(Path(args.run_dir))}")
    return 0


def export(args: argparse.Namespace) -> int:
    from pollsim.export import export_run

    summary = export_run(Path(args.run_dir), args.format, Path(args.out))
    print(f"{summary.path}: {summary.records:,} records ({summary.format})")
    return 0


def roll_simulate(args: argparse.Namespace) -> int:
    from pollsim.roll import compare_laws, headline, policy_csv, simulate_roll
    from pollsim.roll.store import RollWriter

    counties = tuple(c.strip() for c in args.counties.split(",") if c.strip()) if args.counties else ()
    with RollWriter(Path(args.out), args.force) as writer:  # refuses a bad --out before minutes of simulation
        if args.compare:
            runs = compare_laws(args.start, args.end, seed=args.seed, scale=args.scale, counties=counties, sink=writer.election, sink_law=args.law)
            run = runs[args.law]
            doc = writer.finish(run, policy_csv(runs["pre2024"], runs["2024"]))
        else:
            run = simulate_roll(args.start, args.end, law=args.law, seed=args.seed, scale=args.scale, counties=counties, sink=writer.election)
            doc = writer.finish(run)
    if not args.quiet:
        n = len(doc["counties"])
        print(f"{args.out}: roll of {n} count{'y' if n == 1 else 'ies'}, {doc['persons']:,} people, "
              f"{len(doc['elections'])} elections from {doc['start']} to {doc['end']} under the {args.law} law")  # fmt: skip
        print(run.summary())
        if args.compare:
            print(headline(runs["pre2024"], runs["2024"]), end="")
    return 0


def roll_pollbook(args: argparse.Namespace) -> int:
    from pollsim.roll import print_pollbook

    sys.stdout.write(print_pollbook(args.roll_dir, args.election, args.precinct, as_csv=args.csv))
    return 0


def plan(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from pollsim.plan import plan_scenario, settings_for, table_text
    from pollsim.plan.fleet import allocate_fleet, fleet_text, turnout_factor
    from pollsim.plan.output import write_fleet, write_plan
    from pollsim.report.planning import build_plan_report
    from pollsim.scale import executor
    from pollsim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    resources = [r.strip() for r in args.resources.split(",") if r.strip()] if args.resources else None
    giving_up = None if args.giving_up is None else args.giving_up == "on"
    settings = settings_for(scenario, seed=args.seed, targets=args.target, replications=args.replications, meet=args.meet,
                            scope=args.scope, resources=resources, giving_up=giving_up)  # fmt: skip
    factors = [turnout_factor(t) for t in args.turnout or []]
    out = Path(args.out) if args.out else Path("runs") / f"{scenario.scenario}-plan"
    n = len(scenario.precincts)
    with Progress(console=Console(stderr=True), transient=True, disable=n < 20 or args.quiet) as bar, executor(args.workers, args.engine, args.scheduler) as ex:
        task = bar.add_task("precincts planned", total=n * (1 + len(factors)))
        result = plan_scenario(scenario, settings, sensitivity=factors, whatif=args.whatif, executor=ex, progress=lambda k: bar.update(task, completed=k))
        fleet = allocate_fleet(scenario, settings, args.fleet, within=args.fleet_within, objective=args.objective, executor=ex) if args.fleet else None
    write_plan(result, scenario, out)
    if fleet is not None:
        write_fleet(fleet, out)
    report = build_plan_report(result, out, fleet)
    if not args.quiet:
        print(table_text(result))
        if fleet is not None:
            print(fleet_text(fleet))
        print(f"written to {out}/ (plan.csv, plan.json, whatif.csv, recommended.yaml{', fleet.csv' if fleet else ''}, {report.name})")
    return 0
