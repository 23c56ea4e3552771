"""The run report: every section is there, and its numbers are the run directory's.

The page is parsed with the standard library's HTML parser; numbers a test checks carry
``data-key``/``data-value`` on their table row.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from pollsim.errors import PollsimError
from pollsim.precinct.election_day import run_election_day
from pollsim.report import ReportError, build_report, counting, gather, parts, render_report
from pollsim.report.measures import device_use, line_lengths
from pollsim.rundir import RunDirError
from tests.report.conftest import SECTIONS, full_scenario


class Page(HTMLParser):
    """What the tests look at in a report: sections, facts, tables, images, links."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.facts: dict[str, dict[str, str]] = {}  # section -> data-key -> data-value
        self.tables: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}  # id -> [(row class, [(cell class, text)])]
        self.images: list[dict[str, str]] = []
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.section_text: dict[str, str] = {}
        self._section = ""
        self._table: list[str] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "section":
            self._section = a["id"]
            self.section_text[self._section] = ""
        if tag == "tr" and "data-key" in a:
            self.facts.setdefault(self._section, {})[a["data-key"]] = a["data-value"]
        if tag == "table":
            self._table.append(a.get("id", ""))
            self.tables.setdefault(a.get("id", ""), [])
        if tag == "tr" and self._table:
            self.tables[self._table[-1]].append((a.get("class", ""), []))
        if tag in ("td", "th") and self._table:
            self._cell = [a.get("class", ""), ""]
        if tag == "img":
            self.images.append(a)
        if tag == "a":
            self.hrefs.append(a.get("href", ""))

    def handle_endtag(self, tag):
        if tag == "table":
            self._table.pop()
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table[-1]][-1][1].append((self._cell[0], self._cell[1].strip()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data
        if self._section:
            self.section_text[self._section] += data

    def rows(self, table: str) -> list[list[str]]:
        """The body rows' cell texts (the header row left out)."""
        return [[t for _, t in cells] for _, cells in self.tables[table][1:]]


def page_of(run: Path) -> Page:
    return Page((run / "report.html").read_text(encoding="utf-8"))


def num(text: str) -> float:
    return float(text.replace(",", "").replace(" %", "").replace(" min", ""))


@pytest.fixture(scope="module")
def full(full_run) -> Page:
    return page_of(full_run)


@pytest.fixture(scope="module")
def bare(bare_run) -> Page:
    return page_of(bare_run)


# ------------------------------------------------------------------ the page
def test_every_section_is_there_in_order(full, bare):
    for page in (full, bare):
        assert [i for i in page.ids if i in SECTIONS] == list(SECTIONS)


def test_the_page_is_self_contained(full_run, full):
    html = (full_run / "report.html").read_text(encoding="utf-8")
    assert not full.tags & {"script", "link", "iframe", "object", "embed"}
    assert "http://" not in html and "https://" not in html and "url(" not in html and "@import" not in html
    assert all(h.startswith("#") for h in full.hrefs)
    assert full.images and all(img["src"].startswith("data:image/png;base64,") for img in full.images)


def test_each_embedded_picture_is_the_png_in_plots(full_run, full):
    names = {img["data-plot"] for img in full.images}
    assert names == {"queues", "waits", "wait-by-arrival", "utilisation", "incidents", "reporting", "audit-risk"}
    assert {p.stem for p in (full_run / "plots").glob("*.png")} == names
    for img in full.images:
        png = base64.b64decode(img["src"].split(",", 1)[1])
        assert png == (full_run / "plots" / f"{img['data-plot']}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert (int(img["width"]), int(img["height"])) == struct.unpack(">II", png[16:24])


# ------------------------------------------------------------------ summary
def test_summary_numbers_are_summary_json(full_run, full):
    s = json.loads((full_run / "summary.json").read_text())
    f = full.facts["summary"]
    assert f["scenario"] == s["scenario"] and f["seed"] == str(s["seed"])
    for key in ("precincts", "voters", "ballots_cast", "affidavit_ballots", "spoiled_ballots"):
        assert int(f[key]) == s[key], key
    assert float(f["wait_p50"]) == s["wait_minutes"]["p50"] and float(f["wait_p95"]) == s["wait_minutes"]["p95"]
    assert f["last_voter_out"] == s["last_voter_out"]
    assert int(f["incidents"]) == len(s["incidents"]) == 2
    assert int(f["flagged_precincts"]) == 1
    assert f["reported_100"] == s["reporting"]["ballots_reported_at"]["100%"]
    el = json.loads((full_run / "election.json").read_text())
    titles = {c["title"]: c["id"] for c in el["contests"]}
    choice_ids = {c["id"]: {ch["name"]: ch["id"] for ch in c["choices"]} for c in el["contests"]}
    tally, contest = full.rows("tally"), ""
    assert len(tally) == sum(len(c) for c in s["tally"].values())
    for r in tally:  # contests and candidates by name; the contest's title on its first row only
        contest = titles[r[0]] if r[0] else contest
        assert num(r[2]) == s["tally"][contest][choice_ids[contest][r[1]]]
    paper = full.rows("tally-paper")
    assert [r[:3] for r in paper] == tally and all(r[3] == r[2] for r in paper)  # no fault in this run: paper = electronic


def test_the_bare_run_says_what_has_not_run(bare_run, bare):
    f = bare.facts["summary"]
    assert f["flagged_precincts"] == "" and f["audit"] == "no audit in this run" and f["reported_100"] == ""
    t = bare.section_text
    assert "No audit in this run" in t["audit"]
    assert "Not reconciled yet" in t["reconciliation"]
    assert "No election night in this run" in t["reporting"]
    assert "No device went out of service" in t["devices"]
    assert {p.stem for p in (bare_run / "plots").glob("*.png")} == {"queues", "waits", "wait-by-arrival", "utilisation"}


# ------------------------------------------------------------------ lines and waits
def test_line_lengths_are_a_head_count(full_run):
    run = gather(full_run)
    lines = line_lengths(run)
    v = run.voters
    for p in range(run.n_precincts):
        mine = v["precinct"] == p
        for t in (400.0, 420.0, 421.0, 600.0, 1079.0, 1150.0):
            k = int(np.flatnonzero(lines.minutes == t)[0])
            in_pollbook = (v["arrival"][mine] <= t) & (v["checkin_start"][mine] > t)
            in_voting = (v["checkin_end"][mine] <= t) & (v["vote_start"][mine] > t)
            at_scanner = (v["mark_end"][mine] <= t) & (v["scan_start"][mine] > t)
            assert lines.pollbook[p, k] == in_pollbook.sum()
            assert lines.voting[p, k] == in_voting.sum()
            assert lines.scanner[p, k] == at_scanner.sum()
    assert lines.pollbook[:, -1].sum() == 0 and lines.voting[:, -1].sum() == 0 and lines.scanner[:, -1].sum() == 0  # everyone served
    assert lines.scanner[run.precinct_ids.index("paper-1")].max() > 0 and lines.scanner[run.precinct_ids.index("training-1")].max() == 0


def test_the_line_table_gives_each_precinct_s_longest_lines(full_run, full):
    run = gather(full_run)
    lines = line_lengths(run)
    rows = {r[0]: r for r in full.rows("queue-peaks")}
    assert set(rows) == set(run.precinct_ids)
    v = run.voters
    for p, pid in enumerate(run.precinct_ids):
        assert num(rows[pid][1]) == lines.pollbook[p].max()
        assert num(rows[pid][3]) == lines.voting[p].max()
        assert num(rows[pid][5]) == lines.scanner[p].max()
        mine, t = v["precinct"] == p, 19 * 60.0  # the polls close at 19:00: how many still in a line
        lines_at_close = [(v["arrival"] <= t) & (v["checkin_start"] > t), (v["checkin_end"] <= t) & (v["vote_start"] > t),
                          (v["mark_end"] <= t) & (v["scan_start"] > t)]  # fmt: skip
        assert num(rows[pid][7]) == sum(int((m & mine).sum()) for m in lines_at_close)


def test_wait_percentiles_are_recomputed_from_the_voters(full_run, full):
    s = json.loads((full_run / "summary.json").read_text())["wait_minutes"]
    f = full.facts["waits"]
    assert {k: float(f[f"wait_{k}"]) for k in ("p50", "p95", "mean", "max")} == s
    with np.load(full_run / "voters.npz") as z:
        assert int(f["over_30"]) == int((z["wait"] > 30).sum())


# ------------------------------------------------------------------ devices and incidents
def test_busy_shares_are_the_precinct_model_s(full_run):
    """Pollbook stations and DREs, from the records, add up to the model's own pool utilisation
    exactly; booths, BMDs and scanners within 2 % (the model counts service times, the records
    the whole visit: a voter who spoiled a ballot keeps the first booth's time to the last
    marking, and only the last feed at the scanner is timed)."""
    model = run_election_day(full_scenario(), 3)
    uses = device_use(gather(full_run))
    for result in model.precincts:
        mine = [u for u in uses if u.precinct == result.precinct]
        groups = {"PB": [u for u in mine if u.kind == "pollbook"], "DRE": [u for u in mine if u.device_id.startswith("DRE-")],
                  "ADA": [u for u in mine if u.device_id.startswith("ADA-")]}  # fmt: skip
        for pool, members in groups.items():
            if members:
                share = sum(u.busy_minutes for u in members) / (len(members) * members[0].open_minutes)
                assert share == pytest.approx(result.utilisation[pool], rel=1e-9), (result.precinct, pool)
        for pool, kind in (("BOOTH", "booth"), ("SCAN", "scan-single"), ("BMD", "bmd")):
            members = [u for u in mine if u.kind == kind]
            if result.kind == "paper" and pool in result.utilisation:
                share = sum(u.busy_minutes for u in members) / (len(members) * members[0].open_minutes)
                assert share == pytest.approx(result.utilisation[pool], rel=2e-2), (result.precinct, pool)
        assert not any(np.isnan(u.busy_share) for u in mine)


def test_device_table_lists_every_station_with_its_count(full_run, full):
    devices = list(csv.DictReader((full_run / "devices.csv").open()))
    rows = {(r[0], r[1]): r for r in full.rows("device-use")}
    for d in devices:
        assert num(rows[(d["precinct"], d["device_id"])][3]) == int(d["public_count"])
    with np.load(full_run / "voters.npz") as z:
        checked_in = int(np.isfinite(z["checkin_start"]).sum())
    assert sum(num(r[3]) for r in rows.values() if r[2] == "pollbook") == checked_in
    assert rows[("paper-1", "SCAN-1")][6].endswith(" %") and num(rows[("paper-1", "SCAN-1")][6]) > 0
    assert {r[1] for r in rows.values() if r[0] == "paper-1" and r[2] == "booth"} == {f"BOOTH-{k}" for k in range(1, 9)}  # its 8 booths


def test_incidents_are_on_the_timeline(full_run, full):
    s = json.loads((full_run / "summary.json").read_text())
    rows = full.rows("incident-table")
    assert [(r[0], r[1], r[2]) for r in rows] == [(i["precinct"], i["device"], i["kind"]) for i in sorted(s["incidents"], key=lambda i: i["out_from"])]
    first = sorted(s["incidents"], key=lambda i: i["out_from"])[0]
    assert rows[0][3] == "10:00" and "10:00" <= rows[0][4] < "10:10"  # reported at 10:00, out once its voter had cast
    assert rows[0][4:] == [first["out_from"], first["back_at"], "45"] and first["minutes_out"] == 45.0
    assert "incidents" in full.ids


# ------------------------------------------------------------------ accounting and reconciliation
def test_accounting_totals_are_precincts_csv(full_run, full):
    with (full_run / "precincts.csv").open() as f:
        precincts = list(csv.DictReader(f))
    rows = full.rows("accounting-table")
    assert [r[0] for r in rows] == [p["precinct"] for p in precincts] + ["all precincts"]
    for j, (key, _) in enumerate(counting.ACCOUNTING):
        assert num(rows[-1][3 + j]) == sum(int(p[key]) for p in precincts), key
        for r, p in zip(rows, precincts):
            assert num(r[3 + j]) == int(p[key])


def test_the_flagged_precinct_is_highlighted(full_run, full):
    rec = json.loads((full_run / "reconciliation.json").read_text())
    flagged = [r["precinct"] for r in rec["precincts"] if r["flagged"]]
    assert flagged == ["training-2"]
    assert int(full.facts["reconciliation"]["flagged_precincts"]) == 1
    assert int(full.facts["reconciliation"]["counties_triggered"]) == 1
    table = full.tables["reconciliation-table"]
    header = [t for _, t in table[0][1]]
    marked = [(cells[0][1], header[i]) for cls, cells in table[1:] for i, (c, _) in enumerate(cells) if "flag" in c.split()]
    assert marked == [("training-2", "pollbook − receipt book")]
    assert [cells[0][1] for cls, cells in table[1:] if cls == "flagged"] == ["training-2"]
    row = next(r for r in rec["precincts"] if r["flagged"])
    cells = dict(zip(header, next(r for r in full.rows("reconciliation-table") if r[0] == "training-2")))
    assert num(cells["pollbook − receipt book"]) == row["diff_pollbook_vs_receipt_book"] == 25


# ------------------------------------------------------------------ election night and audit
def test_the_reporting_curve_is_there_when_night_ran(full_run, full):
    s = json.loads((full_run / "summary.json").read_text())["reporting"]
    f = full.facts["reporting"]
    assert {k: f[f"reported_{k.rstrip('%')}"] for k in s["ballots_reported_at"]} == s["ballots_reported_at"]
    assert int(f["missing_precincts"]) == len(s["missing_precincts"])
    assert any(img["data-plot"] == "reporting" for img in full.images)


def test_the_audit_s_risk_trace(full_run, full):
    doc = json.loads((full_run / "audit" / "audit.json").read_text())
    rows = full.rows("audit-rounds")
    assert len(rows) == len(doc["rounds"]) == 2
    contests = [h.removeprefix("risk: ") for _, h in full.tables["audit-rounds"][0][1] if h.startswith("risk: ")]
    for r, rd in zip(rows, doc["rounds"]):
        assert num(r[1]) == rd["draws"]
        for j, c in enumerate(contests):
            want = max(rd["risks"][c].values()) if c in rd["risks"] else None
            assert (r[3 + j] == "") if want is None else float(r[3 + j]) == pytest.approx(want, rel=1e-3)
    assert float(full.facts["audit"]["risk_limit"]) == doc["risk_limit"]
    assert all(d["statement"] in full.section_text["audit"] for d in doc["decisions"])


def test_a_rounds_json_is_read_when_there_is_no_package(scratch_copy):
    run = scratch_copy()
    shutil.rmtree(run / "audit")
    (run / "audit").mkdir()
    (run / "audit" / "rounds.json").write_text(json.dumps({"risk_limit": 0.1, "rounds": [
        {"round": 1, "draws": 40, "risks": {"mayor": 0.3}}, {"round": 2, "draws": 80, "risks": {"mayor": 0.04}, "confirmed": ["mayor"]}]}))  # fmt: skip
    page = Page(render_report(gather(run))[0])
    assert [r[1] for r in page.rows("audit-rounds")] == ["40", "80"] and page.rows("audit-rounds")[1][3] == "0.04"
    (run / "audit" / "rounds.json").write_text("{not json")
    page = Page(render_report(gather(run))[0])
    assert "No audit in this run (audit/rounds.json: unreadable" in page.section_text["audit"]


def test_a_big_run_is_aggregated(full_run, monkeypatch):
    """Past the table and panel limits: all precincts together, county totals, flagged rows, folded tables."""
    monkeypatch.setattr(parts, "SHOW_ROWS", 1)
    monkeypatch.setattr(parts, "SMALL_LINE_PANELS", 1)
    monkeypatch.setattr(parts, "MAX_BARS", 2)
    html, pngs = render_report(gather(full_run))
    page = Page(html)
    assert [r[0] for r in page.rows("accounting-table")] == ["Second", "Training", "all counties"]
    assert [r[0] for r in page.rows("reconciliation-table")] == ["training-2"]
    assert len(page.rows("reconciliation-all")) == 3 and len(page.rows("accounting-all")) == 4
    assert len(page.rows("queue-peaks")) == 1
    assert "<details>" in html and set(pngs) == {"queues", "waits", "wait-by-arrival", "utilisation", "incidents", "reporting", "audit-risk"}


# ------------------------------------------------------------------ determinism
def _png_chunks(png: bytes) -> list[bytes]:
    out, i = [], 8
    while i < len(png):
        n = int.from_bytes(png[i : i + 4], "big")
        out.append(png[i + 4 : i + 8])
        i += 12 + n
    return out


def _report_files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in [run / "report.html", *sorted((run / "plots").glob("*.png"))]}


def test_the_same_run_directory_gives_the_same_bytes(full_run, scratch_copy):
    """Another process (another hash seed), another directory of the same name, and a rebuild."""
    copy = scratch_copy("full")
    code = "import sys; from pollsim.report import build_report; build_report(sys.argv[1])"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(copy)], check=True, env=env, timeout=300)
    want = _report_files(full_run)
    assert _report_files(copy) == want
    build_report(copy)
    assert _report_files(copy) == want
    for name, data in want.items():
        if name.endswith(".png"):
            assert b"tIME" not in _png_chunks(data) and b"Software" not in data and b"matplotlib" not in data.lower()


def test_a_plot_the_report_no_longer_has_is_removed(scratch_copy):
    run = scratch_copy()
    build_report(run)
    assert (run / "plots" / "audit-risk.png").exists()
    shutil.rmtree(run / "audit")
    build_report(run)
    assert not (run / "plots" / "audit-risk.png").exists()
    assert "No audit in this run" in page_of(run).section_text["audit"]


# ------------------------------------------------------------------ errors
def test_a_missing_run_directory_is_named(tmp_path):
    with pytest.raises(RunDirError) as err:
        build_report(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(err.value) and "\n" not in str(err.value)
    assert issubclass(ReportError, PollsimError) and issubclass(RunDirError, PollsimError)


@pytest.mark.parametrize("name", ["summary.json", "precincts.csv", "devices.csv", "voters.npz", "ballots.npz", "eventlog.npz"])
def test_a_missing_required_file_is_named(scratch_copy, name):
    run = scratch_copy()
    (run / name).unlink()
    with pytest.raises(RunDirError) as err:
        build_report(run)
    msg = str(err.value)
    assert msg.startswith(str(run / name)) and "missing" in msg and "\n" not in msg
    assert not (run / "report.html").exists()


@pytest.mark.parametrize(("name", "content"), [("summary.json", b"{broken"), ("voters.npz", b"not a zip"), ("precincts.csv", b"id,name\n1,x\n"), ("summary.json", b"{}")])
def test_a_broken_required_file_is_named(scratch_copy, name, content):
    run = scratch_copy()
    (run / name).write_bytes(content)
    with pytest.raises(RunDirError) as err:
        build_report(run)
    assert str(err.value).startswith(str(run / name)) and "\n" not in str(err.value)


def test_a_drills_notice_is_in_the_report(tmp_path):
    import subprocess
    import sys

    from pollsim.report import build_report
    from tests.conftest import SCENARIOS

    out = tmp_path / "D"
    subprocess.run([sys.executable, "-m", "pollsim.cli", "run", str(SCENARIOS / "drills" / "vvpat-rejection.yaml"), "--out", str(out), "--quiet"], check=True, timeout=300)
    html = build_report(out).read_text()
    assert "What to notice" in html and "VVPAT" in html.split("What to notice")[1][:2000]


# ------------------------------------------------------------------ plots drawn in child processes (issue 12)
@pytest.mark.skipif(not hasattr(os, "fork"), reason="plots are drawn in forked children only where os.fork exists")
def test_plots_drawn_in_children_give_the_same_page(full_run, monkeypatch):
    """Drawn in forked children (as many as there are plots) or here: the same page, the same PNGs."""
    from pollsim.report import forked

    run = gather(full_run)
    html, pngs = render_report(run)
    monkeypatch.setattr(forked, "spare_cpus", lambda: 8)
    assert render_report(run, parallel=True) == (html, pngs)
    assert list(render_report(run, parallel=True)[1]) == list(pngs)  # the files in the same order
    assert "\x00" not in html


@pytest.mark.skipif(not hasattr(os, "fork"), reason="plots are drawn in forked children only where os.fork exists")
def test_a_plot_a_child_failed_to_draw_is_drawn_here(full_run, monkeypatch):
    from pollsim.report import forked, plots

    run = gather(full_run)
    expected = render_report(run)
    parent, draw = os.getpid(), plots._render

    def only_here(*args):
        if os.getpid() != parent:
            raise RuntimeError("a child that fails")
        return draw(*args)

    monkeypatch.setattr(plots, "_render", only_here)
    monkeypatch.setattr(forked, "spare_cpus", lambda: 8)
    assert render_report(run, parallel=True) == expected
    monkeypatch.setattr(forked, "spare_cpus", lambda: 1)  # the plots queued, then handed to children as they free up
    assert render_report(run, parallel=True) == expected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="plots are drawn in forked children only where os.fork exists")
def test_with_one_spare_cpu_every_plot_is_still_drawn_in_a_child(full_run, monkeypatch):
    """With one CPU to spare the page's tables are made while one child draws; the plots asked
    for meanwhile wait, and are then handed to children, two at a time, while this process waits."""
    from pollsim.report import forked

    run = gather(full_run)
    expected = render_report(run)
    started, most = [], [0]
    start = forked._start

    def counted(pending):
        start(pending)
        started.append(pending)
        most[0] = max(most[0], sum(1 for j in forked._jobs or [] if j.running()))

    monkeypatch.setattr(forked, "_start", counted)
    monkeypatch.setattr(forked, "spare_cpus", lambda: 1)
    assert render_report(run, parallel=True) == expected
    assert len(started) == len(expected[1]) >= 6  # every plot, in a child
    assert most[0] <= 2  # never more children at once than CPUs
    assert forked._jobs is None and not forked._queue  # nothing left over


def test_the_busiest_stations_of_each_kind_are_listed(full_run, monkeypatch):
    """Past 2 x SHOW_ROWS stations the device table lists the 10 busiest of each kind, busiest first
    (ties by precinct and station), and counts the untimed ones by kind."""
    import math

    from pollsim.report.day import device_section
    from pollsim.report.parts import Plots

    monkeypatch.setattr(parts, "SHOW_ROWS", 2)
    monkeypatch.setattr(parts, "FOLD_ROWS", 0)
    run = gather(full_run)
    uses = device_use(run)
    timed = [u for u in uses if math.isfinite(u.busy_share)]
    assert len(uses) > 4 and len(timed) > 10
    want = []
    for kind in dict.fromkeys(u.kind for u in timed):
        want += sorted((u for u in timed if u.kind == kind), key=lambda u: (-u.busy_share, u.precinct, u.device_id))[:10]
    page = Page(f'<section id="devices">{device_section(run, Plots()).body}</section>')
    assert [(r[0], r[1]) for r in page.rows("device-use")] == [(u.precinct, u.device_id) for u in want]
    assert [r[6] for r in page.rows("device-use")] == [f"{100 * u.busy_share:.0f} %" for u in want]
    assert "device-use-all" not in page.tables
    run = gather(full_run)
    run.polls_open[0] = 24 * 60.0  # a precinct never open: its stations' busy share is not known
    untimed = [u for u in device_use(run) if not math.isfinite(u.busy_share)]
    assert untimed and all(u.precinct == run.precinct_ids[0] for u in untimed)
    kinds = sorted({u.kind for u in untimed})
    note = "Not timed: " + "; ".join(f"{sum(u.kind == k for u in untimed):,} {k} device(s), {sum(u.ballots for u in untimed if u.kind == k):,} ballots" for k in kinds)
    assert note in device_section(run, Plots()).body
