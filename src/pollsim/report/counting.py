"""The report's sections about the count: ballot accounting, reconciliation (§23-15-615), election night and the audit (§23-15-617)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pollsim.report import parts, plots
from pollsim.report.data import ReportData, ReportError
from pollsim.report.page import Section, data_table, fact_table, number, paragraph, text
from pollsim.report.parts import Plots, badge, fold

# ------------------------------------------------------------------ accounting
ACCOUNTING = [
    ("voters_arrived", "voters"), ("pollbook_marked_voted", "(a) pollbook VOTED"), ("receipt_book_signatures", "(b) receipt book"),
    ("ballots_received", "(c) paper received"), ("paper_ballots_voted", "paper voted"), ("paper_ballots_unused", "paper unused"),
    ("paper_ballots_spoiled", "paper spoiled"), ("bmd_cards_cast", "BMD cards"), ("electronic_ballots_cast", "(e) DRE public counters"),
    ("total_ballots_cast", "(f) total ballots cast"), ("affidavit_ballots", "affidavit (sealed, not in (f))"),
]  # fmt: skip


def _int(row: dict, key: str) -> int:
    try:
        return int(row.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def accounting_section(run: ReportData) -> Section:
    keys = [k for k, _ in ACCOUNTING]
    labels = [label for _, label in ACCOUNTING]
    counts = [[_int(r, k) for k in keys] for r in run.precincts]  # each precinct's form, read once
    totals = [sum(c[j] for c in counts) for j in range(len(keys))]
    body = [paragraph("The ballot accounting form of each precinct (§23-15-615(1)), from <code>precincts.csv</code>. "
                      "Paper stock received should equal paper voted + unused + spoiled; (f), the regular ballots cast, should "
                      "equal voters marked VOTED in the pollbook. Affidavit ballots are sealed, counted later, and not in (f).", "lead")]  # fmt: skip
    header = ["precinct", "county", "equipment", *labels, "last voter out"]
    classes = [""] * run.n_precincts + ["total"]

    def every_precinct() -> list[list]:
        rows = [[r["precinct"], r["county"], r["equipment"], *(number(x) for x in c), r.get("last_voter_out", "")] for r, c in zip(run.precincts, counts, strict=True)]
        return rows + [["all precincts", "", "", *(number(t) for t in totals), run.summary["last_voter_out"]]]

    if run.n_precincts <= parts.SHOW_ROWS:
        body.append(data_table(header, every_precinct(), text_columns=3, row_class=classes, table_id="accounting-table"))
    else:
        by_county: dict[str, list[int]] = {}
        for i, r in enumerate(run.precincts):
            by_county.setdefault(r["county"], []).append(i)
        county_rows = [[c, number(len(ix)), *(number(sum(counts[i][j] for i in ix)) for j in range(len(keys))),
                        max(run.precincts[i].get("last_voter_out", "") for i in ix)] for c, ix in sorted(by_county.items())]  # fmt: skip
        county_rows.append(["all counties", number(run.n_precincts), *(number(t) for t in totals), run.summary["last_voter_out"]])
        body.append(f"<h3>County totals ({run.n_precincts:,} precincts)</h3>")
        body.append(data_table(["county", "precincts", *labels, "last voter out"], county_rows, row_class=[""] * len(by_county) + ["total"], table_id="accounting-table"))
        if run.n_precincts <= parts.FOLD_ROWS:
            body.append(fold(f"Every precinct ({run.n_precincts:,})", data_table(header, every_precinct(), text_columns=3, row_class=classes, table_id="accounting-all")))
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
        empty = paragraph(f"Not reconciled yet{why}: run <code>pollsim reconcile RUN_DIR</code>, then make the report again.", "empty")
        return Section("reconciliation", "Reconciliation (§23-15-615)", empty)
    rows_all = rec["precincts"]
    flagged = [r for r in rows_all if r.get("flagged")]
    counties = rec.get("counties") or {}
    triggered = [c for c, t in counties.items() if t]
    facts = [
        ("reconciled_precincts", "precincts reconciled", len(rows_all), number(len(rows_all))),
        ("flagged_precincts", "precincts flagged", len(flagged), f"{number(len(flagged))} {badge(not flagged, 'none' if not flagged else 'see below')}"),
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

    if len(rows_all) <= parts.SHOW_ROWS:
        body.append(table(rows_all, "reconciliation-table"))
    else:
        if flagged:
            more = f" (the first {parts.MAX_FLAGGED_ROWS:,} of {len(flagged):,})" if len(flagged) > parts.MAX_FLAGGED_ROWS else ""
            body.append(f"<h3>Flagged precincts{more}</h3>")
            body.append(table(flagged[:parts.MAX_FLAGGED_ROWS], "reconciliation-table"))
        if len(rows_all) <= parts.FOLD_ROWS:
            body.append(fold(f"Every precinct ({len(rows_all):,})", table(rows_all, "reconciliation-all")))
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


def reporting_section(run: ReportData, pics: Plots) -> Section:
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
    cards = sum(1 for i in night.get("incidents") or [] if i.get("kind") == "card-missing")
    facts.append(("missing_precincts", "precincts that never reported", len(missing), text(", ".join(map(str, missing)) or "none")))
    facts.append(("cards_missing", "memory cards that never arrived", cards, number(cards)))
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
def audit_section(run: ReportData, pics: Plots) -> Section:
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


