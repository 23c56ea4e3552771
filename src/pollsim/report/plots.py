"""The report's pictures, drawn with matplotlib's Agg renderer straight to PNG bytes.

No pyplot and no global state: each plot is a bare :class:`~matplotlib.figure.Figure` drawn under
a fixed style (:data:`STYLE`: the DejaVu Sans font that ships with matplotlib, fixed sizes and
colours, a fixed SVG hash salt) and saved without the ``Software`` text chunk, so the same run
directory always gives the same PNG bytes. Times of day are minutes after midnight on the data
side and ``HH:MM`` on the axes, on the run directory's clock (:func:`pollsim.rundir.hhmm`). Colours are the Okabe-Ito palette, readable with colour-blindness.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator, PercentFormatter

from pollsim.report import forked
from pollsim.report.data import AuditTrace
from pollsim.report.measures import DeviceTable, Lines
from pollsim.rundir import hhmm

BLUE, ORANGE, GREEN, RED, PURPLE, SKY, YELLOW, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#777777"
KIND_COLOURS = {"pollbook": SKY, "dre": BLUE, "booth": ORANGE, "scan-single": GREEN, "bmd": PURPLE}
KIND_NAMES = {"pollbook": "pollbook station", "dre": "DRE / accessible unit", "booth": "marking booth", "scan-single": "precinct scanner", "bmd": "BMD"}
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "mathtext.fontset": "dejavusans",
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titley": 1.0,  # titles just above the axes (no plot has tick labels on top): not placed by measuring every tick label
    "axes.grid": True,
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": "pollsim-report",
    "svg.fonttype": "path",
    "path.simplify": True,
    "image.interpolation": "nearest",
}
DPI = 100
MAX_INCIDENT_ROWS = 40


def clock(minutes: float) -> str:
    """``HH:MM`` for minutes after midnight, as the run directory writes times (after 24:00 the
    clock runs on: 25:10)."""
    return hhmm(float(minutes))


def _time_axis(ax, span: float, narrow: bool = False) -> None:
    step = 60 if span <= (8 if narrow else 16) * 60 else 120
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: clock(x)))


class Margins(NamedTuple):
    """Fixed room around and between the axes, in inches (the fonts and sizes are fixed, so the
    room the titles, labels and tick labels take is known): laid out once, without matplotlib's
    constrained layout, which measures every text of the figure several times and took most of a
    statewide report's drawing time. ``rows`` x ``cols``: the grid of panels the gaps are between."""

    left: float = 0.85
    right: float = 0.2
    top: float = 0.35
    bottom: float = 0.55
    hgap: float = 0.0
    wgap: float = 0.0
    rows: int = 1
    cols: int = 1

    def apply(self, fig: Figure, width: float, height: float) -> None:
        inner_h = height - self.top - self.bottom
        inner_w = width - self.left - self.right
        panel_h = (inner_h - (self.rows - 1) * self.hgap) / self.rows
        panel_w = (inner_w - (self.cols - 1) * self.wgap) / self.cols
        fig.subplots_adjust(left=self.left / width, right=1 - self.right / width, bottom=self.bottom / height, top=1 - self.top / height,
                            hspace=self.hgap / panel_h, wspace=self.wgap / panel_w)  # fmt: skip


PLAIN = Margins()
"""One panel with a title, an x label, a y label."""


def render(draw: Callable[[Figure], None], width: float, height: float, margins: Margins | None = None) -> bytes:
    """Draw on a fresh figure of ``width`` x ``height`` inches; the PNG's bytes. With ``margins``
    the axes are placed by them, else by matplotlib's constrained layout (plots whose tick labels
    are names of any length). Within :func:`pollsim.report.forked.forking` the plot may be drawn
    in a child process: a :class:`~pollsim.report.forked.Pending` placeholder is returned then."""
    return forked.run(lambda: _render(draw, width, height, margins))


def warm_up() -> None:
    """Draw a small throw-away text in the report's style: loads the font and fills matplotlib's
    caches once, here, rather than in each child that draws a plot (:mod:`.forked`). The caches
    change no pixel."""

    def draw(fig: Figure) -> None:
        fig.text(0.1, 0.5, "0123456789 :–,.% people in line")

    _render(draw, 3.0, 1.0, None)


def _render(draw: Callable[[Figure], None], width: float, height: float, margins: Margins | None) -> bytes:
    with matplotlib.rc_context(cast(Any, STYLE)):
        fig = Figure(figsize=(width, height), dpi=DPI, layout=None if margins is not None else "constrained")
        FigureCanvasAgg(fig)
        if margins is not None:
            margins.apply(fig, width, height)
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


# ------------------------------------------------------------------ lines
def _line_panel(ax, lines: Lines, p: int | None, title: str, opened: float | None, close: float, outages: Sequence[dict], narrow: bool) -> None:
    """One precinct's lines (``p``), or every precinct's added up (``p`` None), with the polls'
    opening and close and the units out of service (``outages``) on the same clock."""
    minutes = lines.minutes
    series = [(a.sum(axis=0) if p is None else a[p]) for a in (lines.pollbook, lines.voting, lines.scanner)]
    ax.step(minutes, series[0], where="post", color=ORANGE, lw=1.3, label="pollbook line")
    ax.step(minutes, series[1], where="post", color=BLUE, lw=1.3, label="voting line (DRE, booth or BMD)")
    if series[2].any():
        ax.step(minutes, series[2], where="post", color=GREEN, lw=1.3, label="scanner line")
    for k, inc in enumerate(outages):
        ax.axvspan(inc["out"], max(inc["back"], inc["out"] + 1.0), color=RED, alpha=0.13, lw=0, label="unit out of service" if k == 0 else None)
        ax.annotate(f"{inc['device']}", (inc["out"], 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2), textcoords="offset points",
                    va="top", ha="left", fontsize=7.5, color=RED)  # fmt: skip
    if opened is not None and np.isfinite(opened):
        ax.axvline(opened, color=GREY, ls="--", lw=0.9, label="polls open")
    k = int(np.clip(np.searchsorted(minutes, close, side="right") - 1, 0, len(minutes) - 1))
    still = int(series[0][k] + series[1][k] + series[2][k])
    ax.axvline(close, color="black", ls=":", lw=1.1, label="polls close")
    left = minutes[-1] - close < 0.22 * (minutes[-1] - minutes[0])  # no room on the right: the label on the line's left
    ax.annotate(f"{clock(close)} close:\n{still:,} in line", (close, 0.97), xycoords=("data", "axes fraction"), xytext=(-4 if left else 4, 0),
                textcoords="offset points", va="top", ha="right" if left else "left", fontsize=8)  # fmt: skip
    ax.set_title(title, loc="left")
    ax.set_ylabel("people in line")
    ax.set_ylim(bottom=0)
    ax.set_xlim(minutes[0], minutes[-1])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _time_axis(ax, minutes[-1] - minutes[0], narrow)


def line_plot(lines: Lines, names: Sequence[str], opened: np.ndarray, close: float, shown: np.ndarray, with_total: bool,
              outages: Sequence[Sequence[dict]]) -> bytes:  # fmt: skip
    """One panel per precinct in ``shown`` (with its outages: ``outages[p]``); with ``with_total``
    a first panel sums every precinct."""
    panels = len(shown) + int(with_total)
    cols = 1 if panels <= 3 else 2
    rows_below = int(np.ceil(len(shown) / cols))
    height = 2.6 * (rows_below + int(with_total)) + 0.4

    def draw(fig: Figure) -> None:
        grid = fig.add_gridspec(rows_below + int(with_total), cols)
        first_open = float(np.nanmin(opened)) if np.isfinite(opened).any() else None
        if with_total:
            ax = fig.add_subplot(grid[0, :])
            _line_panel(ax, lines, None, f"All {len(names):,} precincts together", first_open, close, (), False)
            ax.legend(loc="upper center", fontsize=8)
        for j, p in enumerate(shown.tolist()):
            ax = fig.add_subplot(grid[int(with_total) + j // cols, j % cols])
            _line_panel(ax, lines, p, names[p], float(opened[p]), close, outages[p], cols > 1)
            if j == 0 and not with_total:
                ax.legend(loc="upper center", fontsize=8)

    return render(draw, 10, height, Margins(bottom=0.4, hgap=0.7, wgap=0.85, rows=rows_below + int(with_total), cols=cols))


# ------------------------------------------------------------------ waits
def wait_plot(waits: np.ndarray, p50: float, p95: float, precinct_p95: np.ndarray | None) -> bytes:
    w = waits[np.isfinite(waits)]

    def hist(ax, values: np.ndarray, colour: str) -> None:
        top = float(values.max()) if len(values) else 1.0
        edges = np.linspace(0.0, max(top, 1.0), 41)
        counts, _ = np.histogram(values, edges)
        ax.stairs(counts, edges, fill=True, color=colour, alpha=0.85)
        ax.set_xlim(0, edges[-1])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    def draw(fig: Figure) -> None:
        axes = fig.subplots(1, 2 if precinct_p95 is not None else 1, squeeze=False)[0]
        ax = axes[0]
        hist(ax, w, SKY)
        right = ax.get_xlim()[1]
        for value, name, colour in ((p50, "median", BLUE), (p95, "95th percentile", RED)):
            ax.axvline(value, color=colour, lw=1.6)
            left = value > 0.7 * right  # near the right edge: label on the line's left
            ax.annotate(f"{name}\n{value:.1f} min", (value, 0.97), xycoords=("data", "axes fraction"), xytext=(-4 if left else 4, 0), textcoords="offset points",
                        va="top", ha="right" if left else "left", fontsize=8.5, color=colour)
        ax.set_title(f"Every voter's wait ({len(w):,} voters)", loc="left")
        ax.set_xlabel("minutes in line (arrival to a unit, every line)")
        ax.set_ylabel("voters")
        if precinct_p95 is not None:
            ax = axes[1]
            hist(ax, precinct_p95, ORANGE)
            ax.set_title(f"Precincts by their 95th-percentile wait ({len(precinct_p95):,})", loc="left")
            ax.set_xlabel("95th-percentile wait in the precinct (minutes)")
            ax.set_ylabel("precincts")

    return render(draw, 10, 3.6, Margins(wgap=0.85, cols=2 if precinct_p95 is not None else 1))


def arrival_plot(arrival: np.ndarray, waits: np.ndarray, windows: Sequence[tuple[float, int, float, float, int]], close: float, limit: float, max_points: int) -> bytes:
    """Each voter's wait against the time they arrived (up to ``max_points`` voters as dots), with
    the median and 95th percentile of each arrival window and the ``limit`` line."""
    ok = np.isfinite(arrival) & np.isfinite(waits)
    a, w = arrival[ok], waits[ok]

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        if 0 < len(a) <= max_points:
            ax.scatter(a, w, s=5, color=SKY, alpha=0.55, lw=0, label=f"a voter ({len(a):,})")
        if windows:
            mid = [t + 30.0 for t, *_ in windows]
            ax.plot(mid, [m for _, _, m, _, _ in windows], color=BLUE, lw=1.8, marker="o", ms=3, label="median, by hour of arrival")
            ax.plot(mid, [q for _, _, _, q, _ in windows], color=RED, lw=1.8, marker="o", ms=3, label="95th percentile, by hour of arrival")
        ax.axhline(limit, color=GREY, ls="--", lw=1.0)
        ax.annotate(f"{limit:g} minutes", (0, limit), xycoords=("axes fraction", "data"), xytext=(4, 3), textcoords="offset points", fontsize=8, color=GREY)
        ax.axvline(close, color="black", ls=":", lw=1.1)
        lo = min(float(a.min()) if len(a) else 7 * 60.0, 7 * 60.0)
        ax.set_xlim(np.floor(lo / 60) * 60, max(close, float(a.max()) if len(a) else close) + 30)
        ax.set_ylim(bottom=0)
        _time_axis(ax, ax.get_xlim()[1] - ax.get_xlim()[0])
        ax.set_xlabel("time of arrival")
        ax.set_ylabel("minutes in line")
        ax.set_title("Waits by time of arrival", loc="left")
        ax.legend(loc="upper right", fontsize=8)

    return render(draw, 10, 3.6, PLAIN)


# ------------------------------------------------------------------ devices
def utilisation_plot(table: DeviceTable, one_precinct: bool, max_bars: int) -> bytes:
    """Bars per station (few stations), else histograms of busy share by kind."""
    if len(table.timed) <= max_bars:
        timed = table.records(table.timed)

        def draw(fig: Figure) -> None:
            ax = fig.subplots()
            labels = [u.device_id if one_precinct else u.label for u in timed]
            y = np.arange(len(timed))[::-1]
            ax.barh(y, [100 * u.busy_share for u in timed], color=[KIND_COLOURS.get(u.kind, GREY) for u in timed], height=0.7)
            for yy, u in zip(y.tolist(), timed, strict=True):
                ax.annotate(f"{100 * u.busy_share:.0f} %", (100 * u.busy_share, yy), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
            ax.set_yticks(y, labels)
            ax.set_xlim(0, 110)
            ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
            ax.set_xlabel("share of the open hours with a voter at the station")
            ax.set_title("Busy share of each station", loc="left")
            handles = [Patch(color=KIND_COLOURS[k], label=name) for k, name in KIND_NAMES.items() if any(u.kind == k for u in timed)]
            ax.legend(handles=handles, loc="lower right")

        return render(draw, 10, 0.8 + 0.24 * max(len(timed), 3))
    kinds, shares_all = table.kind[table.timed], 100 * table.share[table.timed]

    def draw_hist(fig: Figure) -> None:
        ax = fig.subplots()
        edges = np.linspace(0, 100, 41)
        for kind, name in KIND_NAMES.items():
            shares = shares_all[kinds == kind]
            if len(shares):
                counts, _ = np.histogram(np.clip(shares, 0, 100), edges)
                ax.stairs(counts, edges, color=KIND_COLOURS[kind], lw=1.8, label=f"{name}s ({len(shares):,}, median {np.median(shares):.0f} %)")
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_xlabel("share of the open hours with a voter at the station")
        ax.set_ylabel("stations")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"Busy share across {len(kinds):,} stations", loc="left")
        ax.legend(loc="upper left")

    return render(draw_hist, 10, 3.6, PLAIN)


def incident_plot(incidents: Sequence[dict], t0: float, t1: float) -> bytes:
    """Each incident as a bar from out of service to back in service, earliest at the top."""
    shown = list(incidents)[:MAX_INCIDENT_ROWS]

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        y = np.arange(len(shown))[::-1]
        for yy, inc in zip(y.tolist(), shown, strict=True):
            start, end = inc["out"], inc["back"]
            ax.barh(yy, max(end - start, 1.0), left=start, height=0.6, color=RED, alpha=0.8)
            ax.annotate(f"{inc.get('kind', '')} ({end - start:.0f} min)", (end, yy), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(y, [f"{inc.get('precinct', '')} {inc.get('device', '')}".strip() for inc in shown])
        ax.set_xlim(t0, t1)
        ax.set_ylim(-0.8, len(shown) - 0.2)
        _time_axis(ax, t1 - t0)
        more = f" (first {len(shown)} of {len(incidents):,})" if len(incidents) > len(shown) else ""
        ax.set_title(f"Devices out of service{more}", loc="left")

    return render(draw, 10, 1.0 + 0.28 * max(len(shown), 2))


# ------------------------------------------------------------------ election night
def reporting_plot(minutes: np.ndarray, precincts: np.ndarray, ballots: np.ndarray, flagged: np.ndarray | None) -> bytes:
    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        ax.step(minutes, 100 * precincts, where="post", color=ORANGE, lw=1.6, marker="o", ms=3, label="precincts reported")
        ax.step(minutes, 100 * ballots, where="post", color=BLUE, lw=1.6, marker="o", ms=3, label="ballots reported")
        ax.set_ylim(0, 105)
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_ylabel("share reported")
        span = float(minutes[-1] - minutes[0]) if len(minutes) > 1 else 60.0
        ax.set_xlim(minutes[0] - 10, minutes[-1] + 10)
        _time_axis(ax, span)
        ax.set_xlabel("publication of unofficial results")
        ax.set_title("Election night: unofficial results published", loc="left")
        handles, labels = ax.get_legend_handles_labels()
        if flagged is not None and flagged.max(initial=0) > 0:
            ax2 = ax.twinx()
            ax2.step(minutes, flagged, where="post", color=RED, lw=1.2, ls="--", label="reported precincts flagged (§23-15-615)")
            ax2.set_ylabel("precincts flagged", color=RED)
            ax2.set_ylim(0, max(1, int(flagged.max())) * 1.15)
            ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax2.grid(False)
            ax2.spines["right"].set_visible(True)
            h2, l2 = ax2.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        ax.legend(handles, labels, loc="upper left")

    return render(draw, 10, 3.4, Margins(right=0.8) if flagged is not None and flagged.max(initial=0) > 0 else PLAIN)


# ------------------------------------------------------------------ audit
def risk_plot(audit: AuditTrace) -> bytes:
    colours = [BLUE, ORANGE, GREEN, RED, PURPLE, SKY]

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        for k, contest in enumerate(audit.contests()):
            pts = audit.contest_risk(contest)
            x = [0] + [d for d, _ in pts]  # before the first draw the risk is 1
            y = [1.0] + [max(r, 1e-300) for _, r in pts]
            ax.plot(x, y, marker="o", color=colours[k % len(colours)], lw=1.6, label=contest)
        if audit.risk_limit is not None:
            ax.axhline(audit.risk_limit, color=GREY, ls="--", lw=1.1)
            ax.annotate(f"risk limit {audit.risk_limit:g}", (0, audit.risk_limit), xycoords=("axes fraction", "data"), xytext=(4, 3), textcoords="offset points", fontsize=8.5, color=GREY)
        ax.set_yscale("log")
        ax.set_ylim(top=1.5)
        ax.set_xlabel("ballots drawn so far")
        ax.set_ylabel("measured risk")
        ax.set_title("Risk-limiting audit: measured risk after each round", loc="left")
        ax.legend(loc="lower left")

    return render(draw, 10, 3.6, PLAIN)
