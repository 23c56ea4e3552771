"""What the report's sections share: table sizes, the plots made so far, folds and badges, and
the incidents as the report shows them."""

from __future__ import annotations

from pollsim.report import forked
from pollsim.report.data import ReportData
from pollsim.report.forked import Pending
from pollsim.report.page import image, text
from pollsim.scenario.incident_kinds import SILENT_KINDS

SHOW_ROWS = 15  # rows of a table shown as they are; more: a summary, and every row folded away
FOLD_ROWS = 300  # rows folded into a <details> element; more: the run's CSV files only
SMALL_LINE_PANELS = 4  # up to this many precincts: one line panel each
BUSIEST_PANELS = 6  # otherwise: all together plus the busiest this many
MAX_BARS = 40  # stations drawn as bars; more: a histogram
MAX_FLAGGED_ROWS = 500
PLOT_NAMES = ("queues", "waits", "wait-by-arrival", "utilisation", "incidents", "reporting", "canvass", "audit-risk")
WAIT_LIMIT = 30.0  # minutes: the Presidential Commission on Election Administration's aim
WARN_SHARE = 0.05  # more than this share of voters over WAIT_LIMIT: a plain warning


class Plots:
    """The PNGs made so far, by name (written to ``plots/NAME.png``).

    A plot not drawn yet (:class:`~pollsim.report.forked.Pending`: a child process draws it, or it
    waits for one) stands in the page as a marker until :meth:`finish` puts the picture in its place."""

    def __init__(self) -> None:
        self.made: dict[str, bytes] = {}
        self.pending: dict[str, tuple[Pending, str, str]] = {}

    def add(self, name: str, png: bytes, alt: str, caption: str = "") -> str:
        self.made[name] = png
        if isinstance(png, Pending):
            self.pending[name] = (png, alt, caption)
            return _marker(name)
        return image(png, alt, caption, name)

    def finish(self, html: str) -> str:
        """``html`` with every pending plot drawn (:func:`~pollsim.report.forked.drain`), collected
        and embedded (:attr:`made` then holds its PNG)."""
        forked.drain()
        for name, (png, alt, caption) in self.pending.items():
            self.made[name] = done = png.result()
            html = html.replace(_marker(name), image(done, alt, caption, name), 1)
        self.pending.clear()
        return html


def _marker(name: str) -> str:
    return f"\x00pending plot {name}\x00"


def fold(label: str, html: str) -> str:
    """``html`` folded away under a clickable ``label``."""
    return f"<details><summary>{text(label)}</summary>\n{html}\n</details>"


def badge(ok: bool, label: str) -> str:
    return f'<span class="badge {"ok" if ok else "bad"}">{text(label)}</span>'


def flagged_count(run: ReportData) -> int | None:
    rec = run.reconciliation
    return None if rec is None else sum(1 for r in rec["precincts"] if r.get("flagged"))




def minutes_of(value: object) -> float:
    """A time from summary.json as minutes after midnight: ``HH:MM`` (or a number, as runs made
    before the one clock convention wrote incident times)."""
    if isinstance(value, str):
        h, _, m = value.partition(":")
        return int(h) * 60.0 + int(m[:2])
    return float(value)  # type: ignore[arg-type]


def incidents(run: ReportData) -> list[dict]:
    """The incidents a trainee could see on the day, earliest first: ``{precinct, device, kind, at,
    out, back, minutes}`` (``out``/``back`` in minutes after midnight).

    Silent faults (:data:`SILENT_KINDS`: misrecording firmware, calibration drift) are left out:
    the unit never stops and nothing in the room shows them, so the report does not either (they
    are in summary.json's ``incidents``, for the trainer). An event that took no unit out of
    service (a power loss the battery rode through) is kept, with 0 minutes.
    """
    out = []
    for i in run.summary.get("incidents") or []:
        if i.get("kind") in SILENT_KINDS:
            continue
        start, back = minutes_of(i["out_from"]), minutes_of(i["back_at"])
        minutes = float(i["minutes_out"]) if "minutes_out" in i else back - start
        out.append({"precinct": str(i.get("precinct", "")), "device": str(i.get("device", "")), "kind": str(i.get("kind", "")),
                    "at": str(i.get("at", "")), "out": start, "back": back, "minutes": minutes})  # fmt: skip
    return sorted(out, key=lambda i: (i["out"], i["precinct"], i["device"]))


def outages(run: ReportData) -> list[dict]:
    """The incidents that took a unit out of service (more than 0 minutes)."""
    return [i for i in incidents(run) if i["minutes"] > 0]
