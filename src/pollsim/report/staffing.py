"""The run report's staffing section: the poll managers of the day (scenario ``staff``).

Shown when the run had a ``staff`` section (summary.json's ``staffing``): the polling places that
opened late for want of hands and the check-in stations or scanners closed for want of a poll
manager, then the §23-15-239 compliance report per county (polling places without a certified
poll manager at a general election; people whose training does not count) and the pay bill
(§23-15-227 poll workers, §23-15-153 commissioners' election-day per diem).
"""

from __future__ import annotations

from pollsim.report.data import ReportData
from pollsim.report.page import Section, data_table, fact_table, number, paragraph, text
from pollsim.report.parts import SHOW_ROWS, badge, fold


def staffing_section(run: ReportData) -> Section | None:
    st = run.summary.get("staffing")
    if not st:
        return None
    state, day = st.get("state") or {}, st.get("day") or {}
    late = {p: d for p, d in day.items() if d.get("late_minutes", 0) > 0}
    closures = [(p, c) for p, d in day.items() for c in d.get("stations_closed") or []]
    flagged = st.get("flagged_precincts") or []
    facts = fact_table([
        ("staff_people", "poll workers", state.get("people", 0), number(state.get("people", 0))),
        ("opened_late", "polling places opened late (opening short of staff)", len(late), number(len(late))),
        ("stations_closed", "times a station closed for want of a poll manager", len(closures), number(len(closures))),
        ("no_certified_manager", "polling places without a certified poll manager (§23-15-239)", len(flagged),
         f"{number(len(flagged))} {badge(not flagged, 'compliant' if not flagged else 'flagged')}"),
        ("untrained", "poll workers whose training does not count", state.get("untrained", 0), number(state.get("untrained", 0))),
        ("pay_total", "pay for the day (§23-15-227, §23-15-153)", (st.get("pay") or {}).get("state", {}).get("total", 0),
         f"${(st.get('pay') or {}).get('state', {}).get('total', 0):,.0f}"),
    ])  # fmt: skip
    body = [paragraph("Who kept the stations: the opening procedures are done by the people who came (the units open when they "
                      "are done), and a check-in station or scanner without a poll manager is closed.", "lead"), facts]  # fmt: skip
    if late or closures:
        rows = [[p, d["opened"], f"{d['late_minutes']:.0f}", ""] for p, d in sorted(late.items())]
        rows += [[p, "", "", f"{c['station']} {c['closed_from']}–{c['open_at']}"] for p, c in closures]
        table = data_table(["precinct", "units opened", "minutes late", "station closed"], rows[:300], table_id="staffing-day")
        body.append(table if len(rows) <= SHOW_ROWS else fold(f"{len(rows):,} entries", table))
    counties = st.get("counties") or {}
    rows = [[c, v["precincts"], v["flagged"], v["people"], v["untrained"], f"${(st.get('pay') or {}).get(c, {}).get('total', 0):,.0f}"]
            for c, v in sorted(counties.items(), key=lambda kv: (-kv[1]["flagged"], kv[0]))]  # fmt: skip
    classes = ["flagged" if r[2] else "" for r in rows]
    table = data_table(["county", "polling places", "no certified manager", "poll workers", "training short", "pay"], rows,
                       row_class=classes, table_id="staffing-compliance")  # fmt: skip
    body.append("<h3>Compliance with §23-15-239, per county</h3>" + (table if len(rows) <= SHOW_ROWS else fold(f"all {len(rows)} counties", table)))
    if flagged:
        body.append(paragraph("Without a certified poll manager: " + text(", ".join(flagged[:50])) + (" …" if len(flagged) > 50 else ""), "warning"))
    people = st.get("untrained") or []
    if people:
        t = data_table(["precinct", "name", "why the training does not count"], [[x["precinct"], x["name"], x["problem"]] for x in people], text_columns=3)
        body.append(fold(f"{len(people):,} poll worker(s) whose training does not count", t))
    return Section("staffing", "Poll managers", "\n".join(body))
