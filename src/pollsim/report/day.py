"""The report's sections about the day: summary, lines at the stations, waits, device use and incidents."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pollsim.report import parts, plots
from pollsim.report.data import ReportData
from pollsim.report.measures import DeviceUse, Lines, device_use, precinct_p95, wait_percentiles
from pollsim.report.page import Section, data_table, fact_table, number, paragraph, text
from pollsim.report.parts import Plots, badge, flagged_count, fold


# ------------------------------------------------------------------ summary
def summary_section(run: ReportData) -> Section:
    s = run.summary
    w = s["wait_minutes"]
    flagged = flagged_count(run)
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
         "not reconciled yet" if flagged is None else f"{number(flagged)} {badge(flagged == 0, 'balanced' if flagged == 0 else 'check')}"),
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


def queue_section(run: ReportData, lines: Lines, pics: Plots) -> Section:
    names = [f"{p['precinct']} ({p['county']})" for p in run.precincts]
    n = run.n_precincts
    big = n > parts.SMALL_LINE_PANELS
    shown = lines.busiest(parts.BUSIEST_PANELS) if big else np.arange(n)
    png = plots.line_plot(lines, names, run.polls_open, shown, with_total=big)
    what = (f"all {n:,} precincts added together, then the {len(shown)} precincts with the longest lines" if big else "each precinct")
    body = [
        paragraph("How many people stood in line, minute by minute: the <b>pollbook line</b> (arrived, not yet "
                  "checking in) and the <b>voting line</b> (checked in, waiting for a voting unit or booth; it "
                  "includes the half-minute walk to the voting area). The line at opening is the voters who came "
                  "before 7:00. A line that keeps growing means the stations cannot keep up with arrivals.", "lead"),
        pics.add("queues", png, f"People in the pollbook and voting lines over the day: {what}", f"Lines over the day: {what}."),
    ]  # fmt: skip
    listed = lines.busiest(min(n, parts.SHOW_ROWS))
    rows = []
    for p in listed.tolist():
        pb, pb_at = _peak(lines.pollbook[p], lines.minutes)
        vl, vl_at = _peak(lines.voting[p], lines.minutes)
        rows.append([run.precinct_ids[p], number(pb), pb_at, number(vl), vl_at])
    if big:
        body.append(f"<h3>The {len(listed)} precincts with the longest lines</h3>" if n > parts.SHOW_ROWS else "<h3>Longest lines</h3>")
    body.append(data_table(["precinct", "longest pollbook line", "at", "longest voting line", "at"], rows, table_id="queue-peaks"))
    return Section("queues", "Lines at the stations", "\n".join(body))


# ------------------------------------------------------------------ waits
def wait_section(run: ReportData, pics: Plots) -> Section:
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


def device_section(run: ReportData, pics: Plots) -> Section:
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
        body.append(pics.add("utilisation", plots.utilisation_plot(uses, one, parts.MAX_BARS), "Busy share of each pollbook station and voting unit", "Device use."))
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
    if len(uses) <= 2 * parts.SHOW_ROWS:
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
        if len(uses) <= parts.FOLD_ROWS:
            body.append(fold(f"Every station ({len(uses):,})", data_table(header, rows(uses), text_columns=cols, table_id="device-use-all")))
    body.append(incident_block(run, pics))
    return Section("devices", "Device use and incidents", "\n".join(body))


def incident_block(run: ReportData, pics: Plots) -> str:
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


