"""The report's sections about the day: summary, lines at the stations, waits, device use and incidents.

The day as it was: the lines at every station (pollbook, voting, and in a paper precinct the
scanner) on one clock with the polls' close and the units out of service; waits by time of
arrival; and a plain warning when many voters waited longer than :data:`parts.WAIT_LIMIT`
minutes. Silent faults (misrecording firmware, calibration drift) are not shown: nothing on the
day showed them (:func:`pollsim.report.parts.incidents`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pollsim.report import parts, plots
from pollsim.report.data import ReportData
from pollsim.report.measures import DeviceUse, Lines, device_table, precinct_p95, wait_percentiles, waits_by_arrival
from pollsim.report.page import Section, data_table, fact_table, number, paragraph, text
from pollsim.report.parts import Plots, badge, flagged_count, fold


# ------------------------------------------------------------------ summary
def _night_text(run: ReportData) -> tuple[str, str]:
    """(plain value, shown text) of "all ballots reported" (election night)."""
    night = run.summary.get("reporting")
    if not night:
        return "", "no election night in this run"
    at100 = (night.get("ballots_reported_at") or {}).get("100%")
    if at100:
        return at100, text(at100)
    cards = sum(1 for i in night.get("incidents") or [] if i.get("kind") == "card-missing")
    missing = night.get("missing_precincts") or []
    why = f"{cards:,} memory card(s) missing" if cards else f"{len(missing):,} precinct(s) never reported"
    return "not reached", f"not reached: {text(why)}" + (f" ({text(', '.join(map(str, missing[:10])))}{', …' if len(missing) > 10 else ''})" if missing else "")


def long_wait_warning(run: ReportData, link: bool = True) -> str:
    """A plain warning when more than :data:`parts.WARN_SHARE` of voters waited over the limit ("" otherwise)."""
    w = run.voters["wait"]
    w = w[np.isfinite(w)]
    over = int((w > parts.WAIT_LIMIT).sum())
    if not len(w) or over <= parts.WARN_SHARE * len(w):
        return ""
    when = _long_wait_hours(waits_by_arrival(run))
    return (f'<p class="warning" data-key="long_waits" data-value="{over}"><b>Long lines:</b> {over:,} of {len(w):,} voters '
            f"({100 * over / len(w):.0f} %) waited more than {parts.WAIT_LIMIT:g} minutes in line{text(when)}."
            + (' See <a href="#waits">Waiting times</a>.' if link else "") + "</p>")  # fmt: skip


def _long_wait_hours(windows: list[tuple[float, int, float, float, int]]) -> str:
    """", most of the voters who arrived 06:00–08:59 or 17:00–18:59": the runs of hours in which
    more than half the arrivals waited over the limit ("" if there is none)."""
    spans: list[list[float]] = []
    for t, n, _, _, over in windows:
        if 2 * over > n:
            if spans and spans[-1][1] == t:
                spans[-1][1] = t + 60
            else:
                spans.append([t, t + 60])
    if not spans:
        return ""
    return ": most of the voters who arrived " + " or ".join(f"{plots.clock(a)}–{plots.clock(b - 1)}" for a, b in spans)


def summary_section(run: ReportData) -> Section:
    s = run.summary
    w = s["wait_minutes"]
    flagged = flagged_count(run)
    reported, reported_text = _night_text(run)
    out = parts.outages(run)
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
        ("ballots_cast", "regular ballots cast (the form's (f))", s["ballots_cast"], number(s["ballots_cast"])),
        ("affidavit_ballots", "affidavit ballots (sealed, §23-15-573)", s["affidavit_ballots"], number(s["affidavit_ballots"])),
        ("spoiled_ballots", "spoiled ballots", s.get("spoiled_ballots", 0), number(s.get("spoiled_ballots", 0))),
        ("wait_p50", "wait in line: median", w["p50"], f"{w['p50']:.1f} min"),
        ("wait_p95", "wait in line: 95th percentile", w["p95"], f"{w['p95']:.1f} min"),
        ("wait_max", "wait in line: longest", w["max"], f"{w['max']:.1f} min"),
        *([("lost_voters", "voters who gave up on the line (not ballots)", s["lost_voters"]["total"],
            f"{number(s['lost_voters']['total'])} ({number(s['lost_voters']['balked'])} left at the door, "
            f"{number(s['lost_voters']['reneged'])} left the line)")] if "lost_voters" in s else []),
        ("last_voter_out", "last voter out", s["last_voter_out"], text(s["last_voter_out"])),
        ("incidents", "units out of service", len(out), number(len(out)) + (" (see Incidents)" if out else "")),
        ("flagged_precincts", "precincts flagged (§23-15-615)", "" if flagged is None else flagged,
         "not reconciled yet" if flagged is None else f"{number(flagged)} {badge(flagged == 0, 'balanced' if flagged == 0 else 'check')}"),
        ("reported_100", "all ballots reported (election night)", reported, reported_text),
        ("audit", "risk-limiting audit", audit_text, text(audit_text)),
    ]  # fmt: skip
    body = [paragraph("The day at a glance. Each figure below is explained in its own section; "
                      "the same numbers are in <code>summary.json</code>.", "lead"), long_wait_warning(run), fact_table(rows)]  # fmt: skip
    if s.get("notice"):
        items = '<ul class="notice">' + "".join(f"<li>{text(line)}</li>" for line in s["notice"]) + "</ul>"
        body.append("<h3>What to notice</h3>")
        body.append(fold("The drill's key, for the trainer (it names the faults the trainees are to find)", items))
    body += tally_tables(run)
    return Section("summary", "Summary", "\n".join(b for b in body if b))


def tally_tables(run: ReportData) -> list[str]:
    """The electronic tally (what the devices reported), with contests and candidates by name;
    the paper records' tally beside it folded away for the trainer: outside a drill it is known
    only after a hand count, and a difference gives a silent fault away."""
    s = run.summary
    tally, paper = s.get("tally") or {}, s.get("paper_tally") or {}
    if not tally:
        return []
    rows, both, cells = [], [], []
    for contest, choices in tally.items():
        title, choice_names = run.names.get(contest, (contest, {}))
        for k, (choice, votes) in enumerate(choices.items()):
            pv = (paper.get(contest) or {}).get(choice)
            lead = [title if k == 0 else "", choice_names.get(choice, choice)]
            rows.append([*lead, number(votes)])
            both.append([*lead, number(votes), "" if pv is None else number(pv)])
            cells.append(["", "", "", "flag" if pv is not None and pv != votes else ""])
    out = ["<h3>Tally</h3>",
           paragraph("Votes as the devices' electronic records have them (the results tapes and the unofficial results).", "note"),
           data_table(["contest", "choice", "votes"], rows, text_columns=2, table_id="tally")]  # fmt: skip
    if paper:
        out.append(fold("The paper records' tally, for the trainer (what a hand count would find; differences highlighted)",
                        data_table(["contest", "choice", "electronic", "paper"], both, text_columns=2, cell_class=cells, table_id="tally-paper")))  # fmt: skip
    return out


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
    close = run.polls("close")
    by_precinct: list[list[dict]] = [[] for _ in range(n)]
    index = {pid: i for i, pid in enumerate(run.precinct_ids)}
    for inc in parts.outages(run):
        if inc["precinct"] in index:
            by_precinct[index[inc["precinct"]]].append(inc)
    png = plots.line_plot(lines, names, run.polls_open, close, shown, big, by_precinct)
    what = (f"all {n:,} precincts added together, then the {len(shown)} precincts with the longest lines" if big else "each precinct")
    scanners = bool(lines.scanner.any())
    body = [
        paragraph("How many people stood in line, minute by minute: the <b>pollbook line</b> (arrived, not yet "
                  "checking in), the <b>voting line</b> (checked in, waiting for a DRE, a marking booth or a BMD; it "
                  "includes the half-minute walk to the voting area)" + (" and, in a paper precinct, the <b>scanner "
                  "line</b> (ballot marked, waiting to feed the scanner)" if scanners else "") + ". The line at opening "
                  "is the voters who came before the polls opened. Shaded bands are units out of service, on the same "
                  f"clock; the dotted line is the polls' close at {plots.clock(close)}: everyone in line then still votes.", "lead"),
        pics.add("queues", png, f"People in line at each station over the day: {what}", f"Lines over the day: {what}."),
    ]  # fmt: skip
    listed = lines.busiest(min(n, parts.SHOW_ROWS))
    at_close = lines.in_line_at(close)
    header = ["precinct", "longest pollbook line", "at", "longest voting line", "at"] + (["longest scanner line", "at"] if scanners else [])
    rows = []
    for p in listed.tolist():
        row = [run.precinct_ids[p], *_cells(lines.pollbook[p], lines.minutes), *_cells(lines.voting[p], lines.minutes)]
        rows.append(row + (_cells(lines.scanner[p], lines.minutes) if scanners else []) + [number(int(at_close[p]))])
    if big:
        body.append(f"<h3>The {len(listed)} precincts with the longest lines</h3>" if n > parts.SHOW_ROWS else "<h3>Longest lines</h3>")
    body.append(data_table([*header, f"in line at {plots.clock(close)}"], rows, table_id="queue-peaks"))
    return Section("queues", "Lines at the stations", "\n".join(body))


def _cells(series: np.ndarray, minutes: np.ndarray) -> list[str]:
    peak, at = _peak(series, minutes)
    return [number(peak), at]


# ------------------------------------------------------------------ waits
def wait_section(run: ReportData, pics: Plots) -> Section:
    waits = run.voters["wait"]
    st = wait_percentiles(waits)
    p95s = precinct_p95(run) if run.n_precincts > 1 else None
    windows = waits_by_arrival(run)
    close = run.polls("close")
    rows = [
        ("wait_p50", "median wait", st["p50"], f"{st['p50']:.1f} min"),
        ("wait_p95", "95th percentile (1 voter in 20 waited longer)", st["p95"], f"{st['p95']:.1f} min"),
        ("wait_mean", "mean wait", st["mean"], f"{st['mean']:.1f} min"),
        ("wait_max", "longest wait", st["max"], f"{st['max']:.1f} min"),
    ]
    over30 = int((waits[np.isfinite(waits)] > parts.WAIT_LIMIT).sum())
    rows.append(("over_30", f"voters who waited more than {parts.WAIT_LIMIT:g} minutes", over30, number(over30)))
    body = [
        paragraph("How long voters stood in line: from arrival to a voting unit, every line together (in a paper "
                  "precinct the wait at the scanner too), not counting the time spent checking in, marking or voting. "
                  "The median is the typical voter; the 95th percentile is the wait that only 1 voter in 20 exceeded, "
                  "the usual yardstick for a long line (the Presidential Commission on Election Administration's aim: "
                  f"no one waits more than {parts.WAIT_LIMIT:g} minutes).", "lead"),
        long_wait_warning(run, link=False),
        pics.add("wait-by-arrival", plots.arrival_plot(run.voters["arrival"], waits, windows, close, parts.WAIT_LIMIT, 20_000),
                 "Each voter's wait against the time they arrived, with the median and 95th percentile by hour of arrival",
                 "Waits by time of arrival: when the long waits came."),
        pics.add("waits", plots.wait_plot(waits, st["p50"], st["p95"], p95s), "Histogram of voters' waits with the median and 95th percentile marked", "Waits in line."),
        fact_table(rows),
        "<h3>By hour of arrival</h3>",
        data_table(["arrived", "voters", "median wait", "95th percentile", f"over {parts.WAIT_LIMIT:g} min"],
                   [[f"{plots.clock(t)}–{plots.clock(t + 59)}", number(k), f"{m:.1f} min", f"{q:.1f} min", number(o)] for t, k, m, q, o in windows],
                   table_id="waits-by-arrival"),
    ]  # fmt: skip
    return Section("waits", "Waiting times", "\n".join(b for b in body if b))


# ------------------------------------------------------------------ devices
def _share(u: DeviceUse) -> str:
    return f"{100 * u.busy_share:.0f} %" if np.isfinite(u.busy_share) else "not recorded"


def device_section(run: ReportData, pics: Plots) -> Section:
    table = device_table(run)
    one = run.n_precincts == 1
    timed = table.timed
    body = [
        paragraph("The share of the open hours (polls open to the close after the last voter) that each station "
                  "had a voter at it: pollbook stations, DREs, and in a paper precinct the marking booths, the BMD and "
                  "the scanner (from the voter starting to feed it to the cast). A station near 100 % is a bottleneck: "
                  "its line grows; one far below the others may be badly placed or out of service.", "lead"),
    ]  # fmt: skip
    if len(timed):
        body.append(pics.add("utilisation", plots.utilisation_plot(table, one, parts.MAX_BARS), "Busy share of each station", "Device use."))
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
    if len(table) <= 2 * parts.SHOW_ROWS:
        body.append(data_table(header, rows(table.records()), text_columns=cols, table_id="device-use"))
    else:
        busiest = []
        kinds = table.kind[timed]
        for kind in dict.fromkeys(kinds.tolist()):
            of_kind = timed[kinds == kind]
            share = table.share[of_kind]
            if len(of_kind) > 10:  # the 10 busiest have at least the 10th largest share
                of_kind = of_kind[share >= np.partition(share, len(share) - 10)[len(share) - 10]]
            busiest += sorted(table.records(of_kind), key=lambda u: (-u.busy_share, u.precinct, u.device_id))[:10]
        body.append(f"<h3>The busiest stations of {len(table):,}: up to 10 of each kind</h3>")
        body.append(data_table(header, rows(busiest), text_columns=cols, table_id="device-use"))
        untimed = np.flatnonzero(~np.isfinite(table.share))
        if len(untimed):
            by_kind = {k: table.ballots[untimed[table.kind[untimed] == k]] for k in sorted(set(table.kind[untimed].tolist()))}
            body.append(paragraph("Not timed: " + "; ".join(f"{len(v):,} {text(k)} device(s), {int(v.sum()):,} ballots" for k, v in by_kind.items()), "note"))
        if len(table) <= parts.FOLD_ROWS:
            body.append(fold(f"Every station ({len(table):,})", data_table(header, rows(table.records()), text_columns=cols, table_id="device-use-all")))
    body.append(incident_block(run, pics))
    return Section("devices", "Device use and incidents", "\n".join(body))


def incident_block(run: ReportData, pics: Plots) -> str:
    events = parts.incidents(run)
    out = ['<div id="incidents">', "<h3>Incidents</h3>"]
    if not events:
        out.append(paragraph("No device went out of service in this run.", "empty"))
        out.append("</div>")
        return "\n".join(out)
    out.append(paragraph("Each bar is a unit out of service: it goes out when its voter finishes (so a little after the "
                         "time the problem was reported) and is back when the technician or poll manager has fixed it. "
                         "Voters meanwhile share the other units, so look for the line growing during the bar (the same "
                         "periods are shaded on the lines above). A unit that rode through a power loss on its battery "
                         "stayed in service: 0 minutes, no bar.", "lead"))  # fmt: skip
    bars = [i for i in events if i["minutes"] > 0]
    if bars:
        t0 = min(7 * 60.0, np.floor(min(i["out"] for i in bars) / 60) * 60)
        t1 = max(19 * 60.0 + 30, np.ceil(max(i["back"] for i in bars) / 60) * 60)
        out.append(pics.add("incidents", plots.incident_plot(bars, t0, t1), "Timeline of devices out of service", "Incidents on the day's timeline."))
    rows = [[i["precinct"], i["device"], i["kind"], i["at"], plots.clock(i["out"]), plots.clock(i["back"]), number(i["minutes"], 0)] for i in events[:200]]
    if len(events) > 200:
        out.append(paragraph(f"The first 200 of {len(events):,} incidents; all are in <code>summary.json</code>.", "note"))
    out.append(data_table(["precinct", "device", "what", "reported", "out of service", "back", "minutes"], rows, text_columns=3, table_id="incident-table"))
    out.append("</div>")
    return "\n".join(out)
