"""Assembling the report: one function per section, then :func:`build_report` writes the page.

Tables stay short enough to read: up to :data:`SHOW_ROWS` rows are shown as they are; longer
ones are summarised (county totals, flagged precincts only, the busiest stations) with every row
folded away in a ``<details>`` element up to :data:`FOLD_ROWS` rows, and left to the run's CSV
files beyond that. The line plot shows each precinct up to :data:`SMALL_LINE_PANELS` precincts,
else all precincts together and the busiest few; device use becomes a histogram past
:data:`MAX_BARS` stations. A statewide run (1,765 precincts, 1.1 million voters) makes a page of
well under 1 MB in about 2 s on two free cores (docs/performance.md).
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

import pollsim
from pollsim.report import forked
from pollsim.report.data import ReportData, ReportError, gather
from pollsim.report.measures import line_lengths, measure
from pollsim.report.page import number, page, text
from pollsim.report.parts import PLOT_NAMES, Plots
from pollsim.report.roll import roll_section
from pollsim.report.staffing import staffing_section
from pollsim.rundir import RunDir, write_derived

DRAWING = ("pollsim.report.absentee", "pollsim.report.counting", "pollsim.report.day")
"""The sections that draw (matplotlib): imported when a report is made, while the run is read, and
matplotlib's fonts loaded (:func:`pollsim.report.plots.warm_up`) before any plot's child process is forked."""


def _import_drawing() -> None:
    try:
        for name in DRAWING:
            importlib.import_module(name)
        from pollsim.report.plots import warm_up

        warm_up()
    except Exception:  # noqa: BLE001 - render_report imports them again and raises the error where it is seen
        pass


# ------------------------------------------------------------------ the page
def render_report(run: ReportData, parallel: bool = False) -> tuple[str, dict[str, bytes]]:
    """The page's HTML and the plots (name -> PNG bytes) for a loaded run. With ``parallel`` the
    plots are drawn in forked child processes on the other CPUs while the page is assembled
    (:mod:`.forked`; the same bytes either way)."""
    with forked.forking(parallel):
        return _render_report(run)


def _render_report(run: ReportData) -> tuple[str, dict[str, bytes]]:
    from pollsim.report.absentee import absentee_section
    from pollsim.report.counting import accounting_section, audit_section, reconciliation_section, reporting_section
    from pollsim.report.day import device_section, queue_section, summary_section, wait_section

    pics = Plots()
    lines = line_lengths(run)
    queues = queue_section(run, lines, pics)  # first: its line plot, the longest to draw, starts at once (in a child when parallel)
    sections = [
        summary_section(run),
        queues,
        wait_section(run, pics),
        device_section(run, pics),
        accounting_section(run),
        reconciliation_section(run),
        reporting_section(run, pics),
        audit_section(run, pics),
    ]
    absentee = absentee_section(run, pics)  # with absentee voting only
    if absentee is not None:
        sections.insert(sections.index(next(x for x in sections if x.id == "reporting")) + 1, absentee)
    roll = roll_section(run)  # a run made with --roll only
    if roll is not None:
        sections.insert(sections.index(next(x for x in sections if x.id == "accounting")), roll)
    staffing = staffing_section(run)  # with a staff section only
    if staffing is not None:
        sections.insert(4, staffing)
    s = run.summary
    title = f"pollsim report: {s['scenario']}"
    subtitle = (f"seed {text(s['seed'])} &middot; {number(s['precincts'])} precinct(s) &middot; run directory "
                f"<code>{text(run.run_dir.name)}</code> (run SHA-256 <code>{text(run.run_sha256[:16])}</code>) &middot; "
                f"pollsim {text(s['pollsim_version'] if 'pollsim_version' in s else pollsim.__version__)}")  # fmt: skip
    html = pics.finish(page(title, subtitle, sections))
    return html, pics.made


def build_report(run_dir: Path) -> Path:
    """Write ``RUN_DIR/report.html`` (self-contained) and ``RUN_DIR/plots/*.png``; return the page's path.

    A missing run directory, or a missing, unreadable or changed required file, raises
    :class:`~pollsim.rundir.RunDirError` (a :class:`~pollsim.errors.PollsimError`) naming it.
    Same run directory, same bytes; the page names the run's SHA-256.
    """
    run_dir = Path(run_dir)
    rd = RunDir(run_dir)
    # matplotlib and the drawing sections are imported on a second thread while this one reads the
    # run (mostly inflating npz members, which lets go of the GIL): on two cores the import is
    # nearly free (issue 12)
    drawing = threading.Thread(target=_import_drawing, name="pollsim-report-imports", daemon=True)
    drawing.start()
    try:
        run = gather(run_dir)
        measure(run, until=lambda: not drawing.is_alive())  # while matplotlib is being imported
    finally:
        drawing.join()
    html, pngs = render_report(run, parallel=True)
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
