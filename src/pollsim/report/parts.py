"""What the report's sections share: table sizes, the plots made so far, folds and badges."""

from __future__ import annotations

from pollsim.report.data import ReportData
from pollsim.report.page import image, text

SHOW_ROWS = 15  # rows of a table shown as they are; more: a summary, and every row folded away
FOLD_ROWS = 300  # rows folded into a <details> element; more: the run's CSV files only
SMALL_LINE_PANELS = 4  # up to this many precincts: one line panel each
BUSIEST_PANELS = 6  # otherwise: all together plus the busiest this many
MAX_BARS = 40  # stations drawn as bars; more: a histogram
MAX_FLAGGED_ROWS = 500
PLOT_NAMES = ("queues", "waits", "utilisation", "incidents", "reporting", "audit-risk")


class Plots:
    """The PNGs made so far, by name (written to ``plots/NAME.png``)."""

    def __init__(self) -> None:
        self.made: dict[str, bytes] = {}

    def add(self, name: str, png: bytes, alt: str, caption: str = "") -> str:
        self.made[name] = png
        return image(png, alt, caption, name)


def fold(label: str, html: str) -> str:
    """``html`` folded away under a clickable ``label``."""
    return f"<details><summary>{text(label)}</summary>\n{html}\n</details>"


def badge(ok: bool, label: str) -> str:
    return f'<span class="badge {"ok" if ok else "bad"}">{text(label)}</span>'


def flagged_count(run: ReportData) -> int | None:
    rec = run.reconciliation
    return None if rec is None else sum(1 for r in rec["precincts"] if r.get("flagged"))


