"""The run report's absentee and canvass section (issue 15; docs/absentee.md).

Shown when the run had absentee voting (summary.json's ``absentee``): the envelopes the
resolution board received, accepted and rejected (by reason, §23-15-639), the ballots by kind
(mail, in person at the clerk's office, UOCAVA) and the board's per diem; the affidavit ballots
the commissioners ruled on in the canvass (rejections by reason, §23-15-573); each county's
certification (§23-15-603) and the counties late for the state's deadline; and the reporting
curve from election night to certification (``canvass.csv``, read through the run directory's
reader in :mod:`.data`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from pollsim.report.data import ReportData, ReportError
from pollsim.report.page import Section, data_table, fact_table, number, paragraph, text
from pollsim.report.parts import SHOW_ROWS, Plots, badge, fold, minutes_of
from pollsim.report.plots import BLUE, PLAIN, render


def _label(reason: str) -> str:
    return reason.replace("_", " ")


def _curve(run: ReportData) -> tuple[np.ndarray, np.ndarray]:
    """(days after election day's midnight, share of ballots counted) of each row of canvass.csv."""
    days, share = [], []
    for line, r in enumerate(run.canvass_curve or [], start=2):
        try:
            days.append(minutes_of(r["time"]) / 1440.0)
            share.append(float(r["share_of_ballots"]))
        except (TypeError, ValueError):
            raise ReportError(f"{run.run_dir / 'canvass.csv'}:{line}: time {r.get('time')!r} or share_of_ballots {r.get('share_of_ballots')!r} is not valid") from None
    return np.array(days, float), np.array(share, float)


def canvass_plot(days: np.ndarray, share: np.ndarray) -> bytes:
    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        ax.step(days, 100 * share, where="post", color=BLUE, lw=1.6, marker="o", ms=3, label="ballots in the count")
        low = float(100 * share.min()) if len(share) else 0.0
        ax.set_ylim(max(0.0, low - 2 * (100 - low) - 1), 100.5)
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
        ax.set_ylabel("share of the certified ballots")
        ax.set_xlabel("days after election day (0 = election day)")
        ax.set_title("The canvass: counts after election night, to certification", loc="left")
        ax.legend(loc="lower right")

    return render(draw, 10, 3.0, PLAIN)


def absentee_section(run: ReportData, pics: Plots) -> Section | None:
    ab = run.summary.get("absentee")
    if not ab:
        return None
    cv = run.summary.get("canvass") or {}
    aff = cv.get("affidavit") or {}
    env, kinds = ab.get("envelopes") or {}, ab.get("by_kind") or {}
    late = cv.get("late_counties") or []
    certified = cv.get("certified") or {}
    facts = fact_table([
        ("envelopes_accepted", "absentee envelopes accepted", env.get("accepted", 0), number(env.get("accepted", 0))),
        ("envelopes_rejected", "absentee envelopes rejected (§23-15-639)", env.get("rejected", 0), number(env.get("rejected", 0))),
        ("envelopes_late", "envelopes received too late (kept, not counted)", env.get("late", 0), number(env.get("late", 0))),
        *((f"kind_{k}", f"absentee ballots: {_label(k)}", v, number(v)) for k, v in kinds.items()),
        ("absentee_counted", "absentee ballots counted", ab.get("ballots_counted", 0), number(ab.get("ballots_counted", 0))),
        ("absentee_per_diem", "resolution board per diem (§23-15-153)", ab.get("per_diem_dollars", 0), f"${ab.get('per_diem_dollars', 0):,.0f}"),
        ("affidavit_ballots", "affidavit ballots ruled on", aff.get("ballots", 0), number(aff.get("ballots", 0))),
        ("affidavit_accepted", "affidavit ballots accepted (§23-15-573)", aff.get("accepted", 0), number(aff.get("accepted", 0))),
        ("affidavit_counted", "affidavit ballots counted", aff.get("counted", 0), number(aff.get("counted", 0))),
        ("ballots_certified", "ballots certified", cv.get("ballots_certified", 0), number(cv.get("ballots_certified", 0))),
        ("late_counties", f"counties certified after the deadline ({cv.get('deadline', '')}, §23-15-603)", len(late),
         f"{number(len(late))} {badge(not late, 'on time' if not late else 'late')}"),
    ])  # fmt: skip
    body = [paragraph("The ballots counted away from the polling place: absentee envelopes checked and counted by the resolution "
                      "board, and the affidavit ballots the commissioners ruled on in the canvass, to each county's certification.", "lead"), facts]  # fmt: skip
    rows = [["absentee envelope", _label(k), v] for k, v in (ab.get("rejected_by_reason") or {}).items()]
    rows += [["affidavit ballot", _label(k), v] for k, v in (aff.get("rejected_by_reason") or {}).items()]
    body.append("<h3>Rejections by reason</h3>" + data_table(["ballot", "reason", "rejected"], rows, text_columns=2, table_id="absentee-rejections"))
    if certified:
        table = data_table(["county", "certified"], [[c, t or "not certified"] for c, t in certified.items()], text_columns=2,
                           row_class=["flagged" if c in late else "" for c in certified], table_id="canvass-certified")  # fmt: skip
        body.append("<h3>Certification, per county</h3>" + (table if len(certified) <= SHOW_ROWS else fold(f"all {len(certified)} counties", table)))
    if late:
        body.append(paragraph("Certified after the deadline: " + text(", ".join(late)), "warning"))
    days, share = _curve(run)
    if len(days):
        body.append(pics.add("canvass", canvass_plot(days, share), "Share of the certified ballots counted, from election night to certification",
                             "The reporting curve after election night (canvass.csv)."))  # fmt: skip
    return Section("absentee", "Absentee ballots and the canvass", "\n".join(body))
