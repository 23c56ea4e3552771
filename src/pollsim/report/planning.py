"""The planning report: ``pollsim plan ... --out DIR`` writes DIR/report.html with its planning section.

One self-contained page (inline style, pictures as PNG ``data:`` URIs, no script), in the run
report's style (:mod:`pollsim.report.page`), for the official deciding how many units each
polling place needs:

- ``planning``: the targets and how they were checked (days, replications, common random numbers),
  the table per precinct (units today and recommended; 95th-percentile wait and voters lost, mean
  and the interval of the middle 90 % of days), and the what-if chart: the 95th-percentile wait as
  each resource's units vary around the recommendation, for the precincts given curves;
- ``sensitivity``: the same plan at other turnouts (``--turnout``);
- ``fleet``: a fixed fleet shared out (``--fleet``), with the value of one more unit.

Numbers a test checks carry ``data-key``/``data-value`` attributes. Same plan, same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pollsim import __version__
from pollsim.files import atomic_text
from pollsim.plan.fleet import FleetResult
from pollsim.plan.result import PlanResult, spread
from pollsim.report.page import Section, data_table, fact_table, image, number, page, paragraph, text
from pollsim.report.plots import BLUE, GREEN, ORANGE, PURPLE, RED, render

SHOW = 40  # precincts in the table; more: the ones with the longest waits today
COLOURS = {"pollbooks": BLUE, "voting": ORANGE, "scanners": GREEN, "managers": PURPLE}
NAMES = {"pollbooks": "check-in stations", "voting": "voting units", "scanners": "scanners", "managers": "poll managers"}


def _interval(values: np.ndarray) -> str:
    m, lo, hi = spread(values)
    return f"{m:.1f} [{lo:.1f}–{hi:.1f}]"


def whatif_png(result: PlanResult) -> bytes | None:
    """Waits vs units: one panel per resource, one line per precinct given curves (up to 8)."""
    given = [p for p in result.precincts if p.whatif][:8]
    if not given:
        return None
    resources = [r for r in result.resources if any(r in p.whatif for p in given)]
    limits = [t.limit for t in result.settings.targets if t.measure.startswith("p")]

    def draw(fig) -> None:
        axes = fig.subplots(1, len(resources), squeeze=False)[0]
        for ax, r in zip(axes, resources, strict=True):
            for k, p in enumerate(given):
                curve = p.whatif.get(r)
                if not curve:
                    continue
                j = p.search.resources.index(r)
                x = [f.config[j] for f in curve]
                mid = [spread(f.p95)[0] for f in curve]
                lo = [spread(f.p95)[1] for f in curve]
                hi = [spread(f.p95)[2] for f in curve]
                colour = COLOURS.get(r, BLUE) if k == 0 else None
                line = ax.plot(x, mid, marker="o", ms=3, lw=1.4, color=colour, alpha=1.0 if k == 0 else 0.55, label=p.precinct if k < 4 else None)[0]
                ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.10, lw=0)
                rec = p.search.recommended.config[j]
                ax.plot([rec], [spread(p.search.recommended.p95)[0]], marker="D", ms=6, color=line.get_color(), mec="black", mew=0.6)
            for limit in limits:
                ax.axhline(limit, color=RED, lw=1.0, ls="--")
            ax.set_xlabel(NAMES.get(r, r))
            ax.set_ylabel("95th-percentile wait (min)")
            ax.set_title(f"waits vs {NAMES.get(r, r)}")
            ax.set_ylim(bottom=0)
        axes[0].legend(fontsize=8, loc="upper right")

    return render(draw, 3.6 * len(resources) + 0.8, 3.3)


def planning_section(result: PlanResult) -> Section:
    s = result.settings
    facts = fact_table([
        ("targets", "targets", s.target_text, text(s.target_text)),
        ("meet", "days the targets must hold", f"{s.meet}/{s.replications}", f"{s.meet} of {s.replications} simulated days"),
        ("scope", "targets apply to", s.scope, "each voter's whole wait" if s.scope == "voter" else "each line on its own"),
        ("giving_up", "voters may give up", str(s.giving_up).lower(), "yes (balking and reneging, docs/planning.md)" if s.giving_up else "no"),
        ("seed", "days simulated", s.seed, f"replication r is the day of seed {s.seed} + r, the same days for every configuration"),
        ("precincts", "precincts", len(result.precincts), number(len(result.precincts))),
        ("unreachable", "precincts where no configuration meets the targets", sum(not p.search.reachable for p in result.precincts),
         number(sum(not p.search.reachable for p in result.precincts))),
    ])  # fmt: skip
    shown = result.precincts
    note = ""
    if len(shown) > SHOW:
        shown = sorted(shown, key=lambda p: -spread(p.search.today.p95)[0])[:SHOW]
        note = paragraph(f"The {SHOW} precincts with the longest waits today of {len(result.precincts):,}; every precinct is in plan.csv.", "note")
    header = ["precinct", "county"] + [f"{NAMES.get(r, r)} today → recommended" for r in result.resources] + [
        "p95 wait today", "p95 wait recommended", "lost a day, recommended", "days meeting", "one fewer: days meeting"]  # fmt: skip
    rows, classes = [], []
    for p in shown:
        x = p.search
        units = dict(zip(x.resources, zip(x.today.config, x.recommended.config, strict=True), strict=True))
        fewer = ", ".join(f"{NAMES.get(r, r)} {f.days_meeting(s.targets)}" for r, f in x.one_fewer.items())
        rows.append([p.precinct, p.county, *(f"{units[r][0]} → {units[r][1]}" if r in units else "–" for r in result.resources),
                     _interval(x.today.p95), _interval(x.recommended.p95), _interval(x.recommended.lost),
                     f"{x.recommended.days_meeting(s.targets)}/{s.replications}", fewer or "–"])  # fmt: skip
        classes.append("" if x.reachable else "flagged")
    body = [paragraph("For each precinct, the fewest units meeting the targets, tried on the same simulated days (common random numbers). "
                      "Waits are in minutes: the mean over the days and, in brackets, the range of the middle 90 % of days.", "lead"),
            facts, data_table(header, rows, text_columns=2, row_class=classes, table_id="plan-table"), note]  # fmt: skip
    png = whatif_png(result)
    if png is not None:
        body.append(image(png, "95th-percentile wait against units, per resource", "What if: the 95th-percentile wait (mean and middle 90 % of days) "
                          "as each resource's units vary, the others as recommended; diamonds mark the recommendation, the dashed line the target.", "whatif"))  # fmt: skip
    return Section("planning", "Planning", "\n".join(body))


def sensitivity_section(result: PlanResult) -> Section | None:
    if not result.sensitivity:
        return None
    header = ["turnout", *(f"{NAMES.get(r, r)} recommended" for r in result.resources), "precincts needing more", "worst p95 wait (mean)"]
    rows = []
    for r in [result, *result.sensitivity]:
        totals = [sum(p.search.recommended.config[p.search.resources.index(x)] for p in r.precincts if x in p.search.resources) for x in result.resources]
        more = sum(q.search.recommended.config != p.search.recommended.config for p, q in zip(result.precincts, r.precincts, strict=True))
        worst = max((spread(p.search.recommended.p95)[0] for p in r.precincts), default=0.0)
        rows.append([f"x{r.settings.turnout:g}", *totals, more, f"{worst:.1f}"])
    return Section("sensitivity", "Turnout sensitivity", paragraph("The same plan with every precinct's turnout scaled.", "lead") + data_table(header, rows, table_id="sensitivity-table"))


def fleet_section(fleet: FleetResult) -> Section:
    rows = fleet.rows()
    order = sorted(range(len(rows)), key=lambda k: -float(str(rows[k][5])))[:SHOW]
    header = ["precinct", "county", "today", "allocated", "p95 score today", "p95 score allocated", "lost today", "lost allocated",
              "one more unit: minutes", "one more unit: voters"]  # fmt: skip
    shown = [[rows[k][0], rows[k][1], *rows[k][3:]] for k in order]
    lead = (f"Today's {NAMES.get(fleet.resource, fleet.resource)} shared out within each {fleet.within} to make "
            f"{'the worst precinct' + chr(39) + 's 95th-percentile wait' if fleet.objective == 'wait' else 'the voters lost'} as small as possible. "
            "The score is the wait met on the required share of days; the last two columns are what one more unit would gain there.")  # fmt: skip
    return Section("fleet", "Sharing out the fleet", paragraph(text(lead), "lead") + data_table(header, shown, text_columns=2, table_id="fleet-table"))


def render_plan_report(result: PlanResult, fleet: FleetResult | None = None) -> str:
    sections = [planning_section(result)]
    sens = sensitivity_section(result)
    if sens is not None:
        sections.append(sens)
    if fleet is not None:
        sections.append(fleet_section(fleet))
    subtitle = (f"targets {text(result.settings.target_text)} &middot; {number(len(result.precincts))} precinct(s) &middot; "
                f"{result.settings.replications} simulated days each &middot; pollsim {text(__version__)}")  # fmt: skip
    return page(f"pollsim plan: {result.scenario}", subtitle, sections)


def build_plan_report(result: PlanResult, out: Path | str, fleet: FleetResult | None = None) -> Path:
    """Write ``out/report.html`` (the planning report); return its path."""
    path = Path(out) / "report.html"
    atomic_text(path, render_plan_report(result, fleet))
    return path
