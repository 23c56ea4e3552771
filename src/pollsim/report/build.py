"""Assembling the report: one function per section, then :func:`build_report` writes the page.

Tables stay short enough to read: up to :data:`SHOW_ROWS` rows are shown as they are; longer
ones are summarised (county totals, flagged precincts only, the busiest stations) with every row
folded away in a ``<details>`` element up to :data:`FOLD_ROWS` rows, and left to the run's CSV
files beyond that. The line plot shows each precinct up to :data:`SMALL_LINE_PANELS` precincts,
else all precincts together and the busiest few; device use becomes a histogram past
:data:`MAX_BARS` stations. A statewide run (1,765 precincts, 1.3 million voters) makes a page of
well under 1 MB in a few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pollsim import __version__
from pollsim.report import plots
from pollsim.report.measures import DeviceUse, Lines, device_use, line_lengths, precinct_p95, wait_percentiles
from pollsim.rundir import RunDir, write_derived
from pollsim.report.page import Section, data_table, fact_table, image, number, page, paragraph, text
from pollsim.report.data import ReportError, ReportData, gather

SHOW_ROWS = 15  # rows of a table shown as they are; more: a summary, and every row folded away
FOLD_ROWS = 300  # rows folded into a <details> element; more: the run's CSV files only
SMALL_LINE_PANELS = 4  # up to this many precincts: one line panel each
BUSIEST_PANELS = 6  # otherwise: all together plus the busiest this many
MAX_BARS = 40  # stations drawn as bars; more: a histogram
MAX_FLAGGED_ROWS = 500
PLOT_NAMES = ("queues", "waits", "utilisation", "incidents", "reporting", "audit-risk")


class _Plots:
    """The PNGs made so far, by name (written to ``plots/NAME.png``)."""

    def __init__(self) -> None:
        self.made: dict[str, bytes] = {}

    def add(self, name: str, png: bytes, alt: str, caption: str = "") -> str:
        self.made[name] = png
        return image(png, alt, caption, name)


def _fold(label: str, html: str) -> str:
    """``html`` folded away under a clickable ``label``."""
    return f"<details><summary>{text(label)}</summary>\n{html}\n</details>"


def _badge(ok: bool, label: str) -> str:
    return f'<span class="badge {"ok" if ok else "bad"}">{text(label)}</span>'


def _flagged_count(run: ReportData) -> int | None:
    rec = run.reconciliation
    return None if rec is None else sum(1 for r in rec["precincts"] if r.get("flagged"))


# ------------------------------------------------------------------ summary
def summary_section(run: ReportData) -> Section:
    s = run.summary
    w = s["wait_minutes"]
    flagged = _flagged_count(run)
    night = s.get("reporting") or {}
    at100 = (night.get("ballots_reported_at") or {}).get("100%")
    audit = run.audit
    if audit is None:
        audit_text = "no audit in this run"
    elif audit.decisions:
        audit_text = "; ".join(f"{d.get('contest')}: {'risk limit met' if d.get('risk_limit_met') else 'full manual recount'}" for d in audit.decisions)
    else:
        audit_text = f"{len(audit.rounds)} round(s)"
    rows = [
        ("scenario", "scenario", s["scenario"], text(s["scenario"])),
        ("seed", "seed", s["seed"], text(s["seed"])),
        ("election", "election", (s.get("election") or {}).get("id", ""), text((s.get("election") or {}).get("id", ""))),
        ("precincts", "precincts", s["precincts"], number(s["precincts"])),
        ("voters", "voters arrived", s["voters"], number(s["voters"])),
        ("ballots_cast", "regular ballots cast", s["ballots_cast"], number(s["ballots_cast"])),
        ("affidavit_ballots", "affidavit ballots (sealed, §23-15-573)", s["affidavit_ballots"], number(s["affidavit_ballots"])),
        ("spoiled_ballots", "spoiled ballots", s.get("spoiled_ballots", 0), number(s.get("spoiled_ballots", 0))),
        ("wait_p50", "wait in line: median", w["p50"], f"{w['p50']:.1f} min"),
        ("wait_p95", "wait in line: 95th percentile", w["p95"], f"{w['p95']:.1f} min"),
        ("wait_max", "wait in line: longest", w["max"], f"{w['max']:.1f} min"),
        ("last_voter_out", "last voter out", s["last_voter_out"], text(s["last_voter_out"])),
        ("incidents", "devices out of service", len(s["incidents"]), number(len(s["incidents"]))),
        ("flagged_precincts", "precincts flagged (§23-15-615)", "" if flagged is None else flagged,
         "not reconciled yet" if flagged is None else f"{number(flagged)} {_badge(flagged == 0, 'balanced' if flagged == 0 else 'check')}"),
        ("reported_100", "all ballots reported (election night)", at100 or "", text(at100) if at100 else "no election night in this run"),
        ("audit", "risk-limiting audit", audit_text, text(audit_text)),
    ]  # fmt: skip
    body = [paragraph("The day at a glance. Each figure below is explained in its own section; "
                      "the same numbers are in <code>summary.json</code>.", "lead"), fact_table(rows)]  # fmt: skip
    if s.get("notice"):
        body.append("<h3>What to notice</h3>")
        body.append('<ul class="notice">' + "".join(f"<li>{text(line)}</li>" for line in s["notice"]) + "</ul>")
    tally, paper = s.get("tally") or {}, s.get("paper_tally") or {}
    if tally:
        trows, cells = [], []
        for contest, choices in tally.items():
            for choice, votes in choices.items():
                pv = (paper.get(contest) or {}).get(choice)
                trows.append([contest, choice, number(votes), "" if pv is None else number(pv)])
                cells.append(["", "", "", "flag" if pv is not None and pv != votes else ""])
        body.append("<h3>Tally</h3>")
        body.append(paragraph("Votes from the devices' electronic records and from the paper records (VVPAT or paper "
                              "ballots); a highlighted cell is a difference between the two.", "note"))  # fmt: skip
        body.append(data_table(["contest", "choice", "electronic", "paper"], trows, text_columns=2, cell_class=cells, table_id="tally"))
    return Section("summary", "Summary", "\n".join(body))


# ------------------------------------------------------------------ lines
def _peak(series: np.ndarray, minutes: np.ndarray) -> tuple[int, str]:
    if len(series) == 0 or series.max() <= 0:
        return 0, ""
    k = int(np.argmax(series))
    return int(series[k]), plots.clock(minutes[k])


def queue_section(run: ReportData, lines: Lines, pics: _Plots) -> Section:
    names = [f"{p['precinct']} ({p['county']})" for p in run.precincts]
    n = run.n_precincts
    big = n > SMALL_LINE_PANELS
    shown = lines.busiest(BUSIEST_PANELS) if big else np.arange(n)
    png = plots.line_plot(lines, names, run.polls_open, shown, with_total=big)
    what = (f"all {n:,} precincts added together, then the {len(shown)} precincts with the longest lines" if big else "each precinct")
    body = [
        paragraph("How many people stood in line, minute by minute: the <b>pollbook line</b> (arrived, not yet "
                  "checking in) and the <b>voting line</b> (checked in, waiting for a voting unit or booth; it "
                  "includes the half-minute walk to the voting area). The line at opening is the voters who came "
                  "before 7:00. A line that keeps growing means the stations cannot keep up with arrivals.", "lead"),
        pics.add("queues", png, f"People in the pollbook and voting lines over the day: {what}", f"Lines over the day: {what}."),
    ]  # fmt: skip
    listed = lines.busiest(min(n, SHOW_ROWS))
    rows = []
    for p in listed.tolist():
        pb, pb_at = _peak(lines.pollbook[p], lines.minutes)
        vl, vl_at = _peak(lines.voting[p], lines.minutes)
        rows.append([run.precinct_ids[p], number(pb), pb_at, number(vl), vl_at])
    if big:
        body.append(f"<h3>The {len(listed)} precincts with the longest lines</h3>" if n > SHOW_ROWS else "<h3>Longest lines</h3>")
    body.append(data_table(["precinct", "longest pollbook line", "at", "longest voting line", "at"], rows, table_id="queue-peaks"))
    return Section("queues", "Lines at the stations", "\n".join(body))


# ------------------------------------------------------------------ waits
def wait_section(run: ReportData, pics: _Plots) -> Section:
    waits = run.voters["wait"]
    st = wait_percentiles(waits)
    p95s = precinct_p95(run) if run.n_precincts > 1 else None
    png = plots.wait_plot(waits, st["p50"], st["p95"], p95s)
    rows = [
        ("wait_p50", "median wait", st["p50"], f"{st['p50']:.1f} min"),
        ("wait_p95", "95th percentile (1 voter in 20 waited longer)", st["p95"], f"{st['p95']:.1f} min"),
        ("wait_mean", "mean wait", st["mean"], f"{st['mean']:.1f} min"),
        ("wait_max", "longest wait", st["max"], f"{st['max']:.1f} min"),
    ]
    over30 = int((waits[np.isfinite(waits)] > 30).sum())
    rows.append(("over_30", "voters who waited more than 30 minutes", over30, number(over30)))
    body = [
        paragraph("How long voters stood in line: from arrival to a voting unit, both lines together, not counting "
                  "the time spent checking in or voting. The median is the typical voter; the 95th percentile "
                  "is the wait that only 1 voter in 20 exceeded, the usual yardstick for a long line "
                  "(the Presidential Commission on Election Administration's aim: no one waits more than 30 minutes).", "lead"),
        pics.add("waits", png, "Histogram of voters' waits with the median and 95th percentile marked", "Waits in line."),
        fact_table(rows),
    ]  # fmt: skip
    return Section("waits", "Waiting times", "\n".join(body))


# ------------------------------------------------------------------ devices
def _share(u: DeviceUse) -> str:
    return f"{100 * u.busy_share:.0f} %" if np.isfinite(u.busy_share) else "not recorded"


def device_section(run: ReportData, pics: _Plots) -> Section:
    uses = device_use(run)
    one = run.n_precincts == 1
    timed = [u for u in uses if np.isfinite(u.busy_share)]
    body = [
        paragraph("The share of the open hours (polls open to the close after the last voter) that each station "
                  "had a voter at it. A pollbook station or DRE near 100 % is a bottleneck: its line grows; one "
                  "far below the others may be badly placed or out of service. Precinct scanners and BMDs show "
                  "their ballot counts only: the run keeps when a ballot was cast, not when feeding began.", "lead"),
    ]  # fmt: skip
    if timed:
        body.append(pics.add("utilisation", plots.utilisation_plot(uses, one, MAX_BARS), "Busy share of each pollbook station and voting unit", "Device use."))
    header = ["station"] if one else ["precinct", "station"]
    header += ["kind", "voters / ballots", "busy minutes", "open minutes", "busy share"]

    def rows(listed: Sequence[DeviceUse]) -> list[list[str]]:
        out = []
        for u in listed:
            lead = [u.device_id] if one else [u.precinct, u.device_id]
            busy = number(u.busy_minutes, 1) if np.isfinite(u.busy_minutes) else ""
            out.append([*lead, u.kind, number(u.ballots), busy, number(u.open_minutes, 1), _share(u)])
        return out

    cols = len(header) - 4
    if len(uses) <= 2 * SHOW_ROWS:
        body.append(data_table(header, rows(uses), text_columns=cols, table_id="device-use"))
    else:
        busiest = []
        for kind in ("pollbook", "dre"):
            busiest += sorted((u for u in timed if u.kind == kind), key=lambda u: (-u.busy_share, u.precinct, u.device_id))[:10]
        body.append(f"<h3>The busiest stations of {len(uses):,}: up to 10 pollbook stations and 10 DREs</h3>")
        body.append(data_table(header, rows(busiest), text_columns=cols, table_id="device-use"))
        untimed = [u for u in uses if not np.isfinite(u.busy_share)]
        if untimed:
            by_kind: dict[str, list[int]] = {}
            for u in untimed:
                by_kind.setdefault(u.kind, []).append(u.ballots)
            body.append(paragraph("Not timed: " + "; ".join(f"{len(v):,} {text(k)} device(s), {sum(v):,} ballots" for k, v in sorted(by_kind.items())), "note"))
        if len(uses) <= FOLD_ROWS:
            body.append(_fold(f"Every station ({len(uses):,})", data_table(header, rows(uses), text_columns=cols, table_id="device-use-all")))
    body.append(incident_block(run, pics))
    return Section("devices", "Device use and incidents", "\n".join(body))


def incident_block(run: ReportData, pics: _Plots) -> str:
    incidents = sorted(run.summary["incidents"], key=lambda i: (float(i.get("out_from", 0)), str(i.get("precinct", "")), str(i.get("device", ""))))
    out = ['<div id="incidents">', "<h3>Incidents</h3>"]
    if not incidents:
        out.append(paragraph("No device went out of service in this run.", "empty"))
        out.append("</div>")
        return "\n".join(out)
    out.append(paragraph("Each bar is a unit out of service: it goes out when its voter finishes (so a little after the "
                         "time the problem was reported) and is back when the technician or poll manager has fixed it. Voters meanwhile share the other units, so look "
                         "for the voting line growing during the bar.", "lead"))  # fmt: skip
    starts = [float(i["out_from"]) for i in incidents]
    ends = [float(i["back_at"]) for i in incidents]
    t0 = min(7 * 60.0, np.floor(min(starts) / 60) * 60)
    t1 = max(19 * 60.0 + 30, np.ceil(max(ends) / 60) * 60)
    out.append(pics.add("incidents", plots.incident_plot(incidents, t0, t1), "Timeline of devices out of service", "Incidents on the day's timeline."))
    rows = [[i.get("precinct", ""), i.get("device", ""), i.get("kind", ""), i.get("at", ""), plots.clock(float(i["out_from"])),
             plots.clock(float(i["back_at"])), number(float(i["back_at"]) - float(i["out_from"]), 0)] for i in incidents[:200]]  # fmt: skip
    if len(incidents) > 200:
        out.append(paragraph(f"The first 200 of {len(incidents):,} incidents; all are in <code>summary.json</code>.", "note"))
    out.append(data_table(["precinct", "device", "what", "reported", "out of service", "back", "minutes"], rows, text_columns=3, table_id="incident-table"))
    out.append("</div>")
    return "\n".join(out)


# ------------------------------------------------------------------ accounting
ACCOUNTING = [
    ("voters_arrived", "voters"), ("pollbook_marked_voted", "(a) pollbook VOTED"), ("receipt_book_signatures", "(b) receipt book"),
    ("ballots_received", "(c) paper received"), ("paper_ballots_voted", "paper voted"), ("paper_ballots_unused", "paper unused"),
    ("paper_ballots_spoiled", "paper spoiled"), ("bmd_cards_cast", "BMD cards"), ("electronic_ballots_cast", "(e) DRE public counters"),
    ("ballots_cast", "regular ballots"), ("affidavit_ballots", "affidavit"), ("total_ballots_cast", "total incl. affidavit"),
]  # fmt: skip


def _int(row: dict, key: str) -> int:
    try:
        return int(row.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def accounting_section(run: ReportData) -> Section:
    keys = [k for k, _ in ACCOUNTING]
    labels = [label for _, label in ACCOUNTING]
    totals = [sum(_int(r, k) for r in run.precincts) for k in keys]
    body = [paragraph("The ballot accounting form of each precinct (§23-15-615(1)), from <code>precincts.csv</code>. "
                      "Paper stock received should equal paper voted + unused + spoiled; regular ballots should equal "
                      "voters marked VOTED in the pollbook. Affidavit ballots are sealed and counted later.", "lead")]  # fmt: skip
    header = ["precinct", "county", "equipment", *labels, "last voter out"]
    rows = [[r["precinct"], r["county"], r["equipment"], *(number(_int(r, k)) for k in keys), r.get("last_voter_out", "")] for r in run.precincts]
    rows.append(["all precincts", "", "", *(number(t) for t in totals), run.summary["last_voter_out"]])
    classes = [""] * run.n_precincts + ["total"]
    if run.n_precincts <= SHOW_ROWS:
        body.append(data_table(header, rows, text_columns=3, row_class=classes, table_id="accounting-table"))
    else:
        by_county: dict[str, list[dict]] = {}
        for r in run.precincts:
            by_county.setdefault(r["county"], []).append(r)
        county_rows = [[c, number(len(rs)), *(number(sum(_int(r, k) for r in rs)) for k in keys), max(r.get("last_voter_out", "") for r in rs)] for c, rs in sorted(by_county.items())]
        county_rows.append(["all counties", number(run.n_precincts), *(number(t) for t in totals), run.summary["last_voter_out"]])
        body.append(f"<h3>County totals ({run.n_precincts:,} precincts)</h3>")
        body.append(data_table(["county", "precincts", *labels, "last voter out"], county_rows, row_class=[""] * len(by_county) + ["total"], table_id="accounting-table"))
        if run.n_precincts <= FOLD_ROWS:
            body.append(_fold(f"Every precinct ({run.n_precincts:,})", data_table(header, rows, text_columns=3, row_class=classes, table_id="accounting-all")))
        else:
            body.append(paragraph("Every precinct's form is in <code>precincts.csv</code>.", "note"))
    return Section("accounting", "Ballot accounting", "\n".join(body))


# ------------------------------------------------------------------ reconciliation
CHECKS = [
    ("pollbook_vs_receipt_book", "pollbook − receipt book"), ("ballots_received_vs_accounted", "paper received − accounted"),
    ("voters_vs_ballots", "voters − ballots"), ("ballots_vs_counters", "ballots − counters"),
]  # fmt: skip
TOTALS = [("a_pollbook_voted", "(a)"), ("b_receipt_book_plus_absentee", "(b)"), ("c_ballots_received", "(c)"),
          ("d_paper_voted_unused_spoiled", "(d)"), ("e_electronic_cast", "(e)"), ("f_total_cast", "(f)")]  # fmt: skip


def reconciliation_section(run: ReportData) -> Section:
    rec = run.reconciliation
    if rec is None:
        why = f" ({text(run.reconciliation_problem)})" if run.reconciliation_problem else ""
        body = paragraph(f"Not reconciled yet{why}: run <code>pollsim reconcile RUN_DIR</code>, then make the report again.", "empty")
        return Section("reconciliation", "Reconciliation (§23-15-615)", body)
    rows_all = rec["precincts"]
    flagged = [r for r in rows_all if r.get("flagged")]
    counties = rec.get("counties") or {}
    triggered = [c for c, t in counties.items() if t]
    facts = [
        ("reconciled_precincts", "precincts reconciled", len(rows_all), number(len(rows_all))),
        ("flagged_precincts", "precincts flagged", len(flagged), f"{number(len(flagged))} {_badge(not flagged, 'none' if not flagged else 'see below')}"),
        ("counties_triggered", "counties eligible for audit", len(triggered), text(", ".join(triggered) if triggered else "none")),
    ]
    body = [
        paragraph("The registrar's six totals per precinct and the four differences pollsim compares "
                  "(docs/reconciliation.md). A difference at or over the precinct's threshold (§23-15-615(4)) "
                  "is <span class=\"badge bad\">flagged</span>: the cell points at what to look for, and the county "
                  "becomes eligible for an audit.", "lead"),
        fact_table(facts),
    ]  # fmt: skip
    header = ["precinct", "county", *(lab for _, lab in TOTALS), "threshold", *(lab for _, lab in CHECKS)]

    def table(listed: list[dict], ident: str) -> str:
        rows, cells, classes = [], [], []
        for r in listed:
            rows.append([r.get("precinct", ""), r.get("county", ""), *(number(_int(r, k)) for k, _ in TOTALS), number(_int(r, "threshold")),
                         *(number(_int(r, f"diff_{c}")) for c, _ in CHECKS)])  # fmt: skip
            cells.append([""] * (3 + len(TOTALS)) + ["flag" if r.get(f"flag_{c}") else "" for c, _ in CHECKS])
            classes.append("flagged" if r.get("flagged") else "")
        return data_table(header, rows, text_columns=2, row_class=classes, cell_class=cells, table_id=ident)

    if len(rows_all) <= SHOW_ROWS:
        body.append(table(rows_all, "reconciliation-table"))
    else:
        if flagged:
            more = f" (the first {MAX_FLAGGED_ROWS:,} of {len(flagged):,})" if len(flagged) > MAX_FLAGGED_ROWS else ""
            body.append(f"<h3>Flagged precincts{more}</h3>")
            body.append(table(flagged[:MAX_FLAGGED_ROWS], "reconciliation-table"))
        if len(rows_all) <= FOLD_ROWS:
            body.append(_fold(f"Every precinct ({len(rows_all):,})", table(rows_all, "reconciliation-all")))
        else:
            body.append(paragraph("Every precinct's row is in <code>reconciliation.csv</code>.", "note"))
    return Section("reconciliation", "Reconciliation (§23-15-615)", "\n".join(body))


# ------------------------------------------------------------------ election night
def _minutes(times: Sequence[str]) -> np.ndarray:
    """HH:MM strings in publication order; past midnight the clock runs on (00:30 -> 24:30)."""
    out, day, last = [], 0.0, -1.0
    for t in times:
        h, m = t.split(":")
        v = int(h) * 60 + int(m) + day
        if v < last:
            day += 24 * 60
            v += 24 * 60
        out.append(v)
        last = v
    return np.array(out, np.float64)


def reporting_section(run: ReportData, pics: _Plots) -> Section:
    title = "Election night reporting"
    if run.reporting is None or not run.reporting:
        return Section("reporting", title, paragraph("No election night in this run (it runs for several precincts, or with <code>pollsim run --night</code>).", "empty"))
    rows = run.reporting
    try:
        minutes = _minutes([r["time"] for r in rows])
        prec = np.array([float(r["share_of_precincts"]) for r in rows])
        ball = np.array([float(r["share_of_ballots"]) for r in rows])
        flagged = np.array([int(r.get("precincts_flagged") or 0) for r in rows])
    except ValueError as exc:
        raise ReportError(f"{run.run_dir / 'reporting.csv'}: bad value ({exc})") from None
    night = run.summary.get("reporting") or {}
    at = night.get("ballots_reported_at") or {}
    facts = [(f"reported_{k.rstrip('%')}", f"{k} of ballots reported", v or "", text(v or "not reached")) for k, v in at.items()]
    missing = night.get("missing_precincts") or []
    facts.append(("missing_precincts", "precincts that never reported", len(missing), text(", ".join(map(str, missing)) or "none")))
    body = [
        paragraph("Each point is a publication of unofficial results: the share of precincts whose memory cards "
                  "the county has read, and the share of the ballots they carry. Flat stretches are cards on the "
                  "road or waiting to be read; the dashed red line counts reported precincts already flagged by "
                  "the reconciliation.", "lead"),
        pics.add("reporting", plots.reporting_plot(minutes, prec, ball, flagged), "Share of precincts and ballots reported over election night", "The reporting curve."),
        fact_table(facts),
    ]  # fmt: skip
    incidents = night.get("incidents") or []
    if incidents:
        body.append("<h3>Election-night incidents</h3>")
        keys = list(incidents[0])
        body.append(data_table(keys, [[i.get(k, "") for k in keys] for i in incidents[:200]], text_columns=len(keys)))
    return Section("reporting", title, "\n".join(body))


# ------------------------------------------------------------------ audit
def audit_section(run: ReportData, pics: _Plots) -> Section:
    title = "Risk-limiting audit (§23-15-617)"
    audit = run.audit
    if audit is None:
        extra = f" ({text(run.audit_problem)})" if run.audit_problem else ""
        return Section("audit", title, paragraph(f"No audit in this run{extra}.", "empty"))
    body = [
        paragraph("After each round of hand-examined ballots, the measured risk: the largest chance that a wrong "
                  "reported outcome would have produced a sample this clean. Once a contest's risk is at or under "
                  "the risk limit it is confirmed and leaves the audit; a contest that never gets there goes to a "
                  f"full manual recount. Read from <code>{text(audit.source)}</code>.", "lead"),
    ]  # fmt: skip
    if audit.rounds:
        body.append(pics.add("audit-risk", plots.risk_plot(audit), "Measured risk per contest after each audit round", "The audit's risk trace."))
        contests = audit.contests()
        rows = []
        for r in audit.rounds:
            risks = [f"{max(r['risks'][c].values()):.4g}" if r["risks"].get(c) else "" for c in contests]
            examined = "" if r.get("ballots_examined") is None else number(int(r["ballots_examined"]))
            rows.append([str(r["round"]), number(r["draws"]), examined, *risks, ", ".join(r["confirmed"])])
        body.append(data_table(["round", "draws", "ballots examined", *(f"risk: {c}" for c in contests), "confirmed"], rows, table_id="audit-rounds"))
    facts = [("risk_limit", "risk limit", "" if audit.risk_limit is None else audit.risk_limit, "" if audit.risk_limit is None else f"{audit.risk_limit:g}"),
             ("audit_rounds", "rounds", len(audit.rounds), number(len(audit.rounds)))]  # fmt: skip
    if audit.method:
        facts.append(("audit_method", "method", audit.method, text(audit.method)))
    if audit.direct_to_count:
        facts.append(("direct_to_count", "straight to a full hand count", ", ".join(audit.direct_to_count), text(", ".join(audit.direct_to_count))))
    body.append(fact_table(facts))
    if audit.decisions:
        body.append("<h3>Decisions (§23-15-617.4)</h3>")
        body.append("<ul>" + "".join(f"<li>{text(d.get('statement', d))}</li>" for d in audit.decisions) + "</ul>")
    return Section("audit", title, "\n".join(body))


# ------------------------------------------------------------------ the page
def render_report(run: ReportData) -> tuple[str, dict[str, bytes]]:
    """The page's HTML and the plots (name -> PNG bytes) for a loaded run."""
    pics = _Plots()
    lines = line_lengths(run)
    sections = [
        summary_section(run),
        queue_section(run, lines, pics),
        wait_section(run, pics),
        device_section(run, pics),
        accounting_section(run),
        reconciliation_section(run),
        reporting_section(run, pics),
        audit_section(run, pics),
    ]
    s = run.summary
    title = f"pollsim report: {s['scenario']}"
    subtitle = (f"seed {text(s['seed'])} &middot; {number(s['precincts'])} precinct(s) &middot; run directory "
                f"<code>{text(run.run_dir.name)}</code> (run SHA-256 <code>{text(run.run_sha256[:16])}</code>) &middot; "
                f"pollsim {text(s.get('pollsim_version', __version__))}")  # fmt: skip
    return page(title, subtitle, sections), pics.made


def build_report(run_dir: Path) -> Path:
    """Write ``RUN_DIR/report.html`` (self-contained) and ``RUN_DIR/plots/*.png``; return the page's path.

    A missing run directory, or a missing, unreadable or changed required file, raises
    :class:`~pollsim.rundir.RunDirError` (a :class:`~pollsim.errors.PollsimError`) naming it.
    Same run directory, same bytes; the page names the run's SHA-256.
    """
    run_dir = Path(run_dir)
    rd = RunDir(run_dir)
    html, pngs = render_report(gather(run_dir))
    folder = run_dir / "plots"
    try:
        folder.mkdir(exist_ok=True)
        for name in PLOT_NAMES:  # a plot of an earlier report that this one does not have
            stale = folder / f"{name}.png"
            if name not in pngs and stale.exists():
                stale.unlink()
    except OSError as exc:
        raise ReportError(f"{exc.filename or run_dir}: cannot write the report ({exc.strerror})") from None
    for name, png in pngs.items():
        write_derived(rd, f"plots/{name}.png", png)
    return write_derived(rd, "report.html", html)
