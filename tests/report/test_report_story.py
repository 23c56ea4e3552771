"""The report tells the day as it was (issue 13, item 3).

- A silent fault (misrecording firmware) is not an outage: no bar, no count, no band; the drill's
  key and the paper records' tally are folded away for the trainer.
- A paper precinct's scanner has its line: during the scanner-jam drill the voters holding marked
  ballots are in the scanner line, not in the voting line.
- The close of the polls and the incidents are on the lines' clock; waits are given by time of
  arrival; many long waits give a plain warning.
- Election night that never reached 100 % says so, with the cards that never came.

Expected values are recomputed here from the run directory's own files (voters.npz,
summary.json), with plain numpy, never read back from the report's code.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np

from pollsim.night import simulate_night
from pollsim.pipeline import ElectionRun
from pollsim.precinct.election_day import run_election_day
from pollsim.report import build_report, day, gather, plots, render_report
from pollsim.report.measures import line_lengths
from pollsim.rundir import write_run
from pollsim.scenario import Scenario
from tests.conftest import reseal
from tests.report.conftest import full_dict
from tests.report.test_report import Page, num, page_of


def voters(run_dir) -> dict[str, np.ndarray]:
    with np.load(run_dir / "voters.npz") as z:
        return {k: z[k] for k in z.files}


# ------------------------------------------------------------------ silent faults
def test_a_silent_fault_is_not_an_outage(drill_run):
    run = drill_run("misrecording-audit")
    s = json.loads((run / "summary.json").read_text())
    assert [i["kind"] for i in s["incidents"]] == ["misrecording", "misrecording"]  # kept for the trainer
    page = page_of(run)
    assert page.facts["summary"]["incidents"] == "0"
    assert "No device went out of service" in page.section_text["devices"]
    assert "incident-table" not in page.tables and not (run / "plots" / "incidents.png").exists()
    for section in ("summary", "queues", "devices"):
        visible = page.section_text[section].split("What to notice")[0].replace(s["scenario"], "")  # the drill's name aside
        assert "misrecord" not in visible.lower() and "out of service: 2" not in visible
    html = (run / "report.html").read_text()
    key = html[html.index("What to notice") :]
    assert key.index("<details>") < key.index("misrecord")  # the drill's key: folded away
    # the reported tally shows no difference; the paper records' tally, folded, shows the fault
    assert not any("flag" in c for _, cells in page.tables["tally"] for c, _ in cells)
    flagged = {cells[1][1] for _, cells in page.tables["tally-paper"][1:] if "flag" in cells[3][0]}
    assert flagged == {"Eleanor Dawson", "Marcus Pruitt", "Lyle Odom"}
    assert html.index('id="tally-paper"') > html.rindex("<details>", 0, html.index('id="tally-paper"'))


# ------------------------------------------------------------------ the scanner's line
def test_voters_held_at_a_jammed_scanner_are_in_the_scanner_line(drill_run):
    run = drill_run("scanner-jam")
    v = voters(run)
    s = json.loads((run / "summary.json").read_text())
    [jam] = s["incidents"]
    assert (jam["out_from"], jam["back_at"]) == ("12:15", "12:25")
    lines = line_lengths(gather(run))
    k = {t: int(np.flatnonzero(lines.minutes == t)[0]) for t in (12 * 60 + 14, 12 * 60 + 24)}
    for t, j in k.items():
        at_scanner = (v["mark_end"] <= t) & (v["scan_start"] > t)
        waiting_for_booth = (v["checkin_end"] <= t) & (v["vote_start"] > t)
        assert lines.scanner[0, j] == at_scanner.sum() and lines.voting[0, j] == waiting_for_booth.sum()
        assert not (at_scanner & waiting_for_booth).any()  # time at the jammed scanner is not "voting"
    assert lines.scanner[0, k[12 * 60 + 24]] >= 5 > lines.scanner[0, k[12 * 60 + 14]]  # the line grows while it is jammed
    page = page_of(run)
    header = [t for _, t in page.tables["queue-peaks"][0][1]]
    assert header[5] == "longest scanner line" and num(page.rows("queue-peaks")[0][5]) == lines.scanner[0].max()
    uses = {r[0]: r for r in page.rows("device-use")}
    assert {"SCAN-1", "BMD-1", *(f"BOOTH-{k}" for k in range(1, 9))} <= set(uses)
    fed = np.isfinite(v["scan_start"])
    assert num(uses["SCAN-1"][2]) == fed.sum() and num(uses["SCAN-1"][3]) == round(float((v["vote_end"][fed] - v["scan_start"][fed]).sum()), 1)


# ------------------------------------------------------------------ the clock of the lines
def test_the_close_and_the_outages_are_drawn_on_the_lines(full_run, monkeypatch):
    seen = {}
    real = plots.line_plot

    def spy(lines, names, opened, close, shown, with_total, outages):
        seen.update(close=close, outages=outages)
        return real(lines, names, opened, close, shown, with_total, outages)

    monkeypatch.setattr(plots, "line_plot", spy)
    run = gather(full_run)
    render_report(run)
    s = json.loads((full_run / "summary.json").read_text())
    assert seen["close"] == 19 * 60.0 and s["polls"] == {"open": "07:00", "close": "19:00"}
    drawn = {(run.precinct_ids[p], i["device"], plots.clock(i["out"]), plots.clock(i["back"])) for p, incs in enumerate(seen["outages"]) for i in incs}
    assert drawn == {(i["precinct"], i["device"], i["out_from"], i["back_at"]) for i in s["incidents"]}


def test_the_close_comes_from_the_run(scratch_copy):
    run = scratch_copy()
    doc = json.loads((run / "summary.json").read_text())
    doc["polls"]["close"] = "18:00"
    (run / "summary.json").write_text(json.dumps(doc, indent=2) + "\n")
    reseal(run)
    page = Page(render_report(gather(run))[0])
    v = voters(run)
    header = [t for _, t in page.tables["queue-peaks"][0][1]]
    assert header[-1] == "in line at 18:00"
    t = 18 * 60.0
    ids = [r["precinct"] for r in gather(run).precincts]
    for row in page.rows("queue-peaks"):
        mine = v["precinct"] == ids.index(row[0])
        in_line = [(v["arrival"] <= t) & (v["checkin_start"] > t), (v["checkin_end"] <= t) & (v["vote_start"] > t), (v["mark_end"] <= t) & (v["scan_start"] > t)]
        assert num(row[-1]) == sum(int((m & mine).sum()) for m in in_line)


# ------------------------------------------------------------------ waits
def test_waits_by_hour_of_arrival_are_the_voters(bare_run):
    v = voters(bare_run)
    rows = page_of(bare_run).rows("waits-by-arrival")
    hours = np.floor(v["arrival"] / 60).astype(int)
    assert [r[0] for r in rows] == [f"{h:02d}:00–{h:02d}:59" for h in sorted(set(hours.tolist()))]
    for r in rows:
        w = v["wait"][hours == int(r[0][:2])]
        assert (num(r[1]), r[2], r[3], num(r[4])) == (len(w), f"{np.median(w):.1f} min", f"{np.percentile(w, 95):.1f} min", (w > 30).sum())
    assert {img["data-plot"] for img in page_of(bare_run).images} >= {"wait-by-arrival"}


def test_many_long_waits_give_a_plain_warning(bare_run):
    w = voters(bare_run)["wait"]
    over = int((w > 30).sum())
    assert over > 0.05 * len(w)  # the training precinct's day: long lines at opening and before the close
    html = (bare_run / "report.html").read_text()
    m = re.search(r'<p class="warning" data-key="long_waits" data-value="(\d+)"><b>Long lines:</b> ([\d,]+) of ([\d,]+) voters \((\d+) %\)', html)
    assert m and int(m[1]) == num(m[2]) == over and num(m[3]) == len(w) and int(m[4]) == round(100 * over / len(w))
    hours = np.floor(voters(bare_run)["arrival"] / 60).astype(int)
    worst = [h for h in sorted(set(hours.tolist())) if 2 * (w[hours == h] > 30).sum() > (hours == h).sum()]
    assert f"arrived {worst[0]:02d}:00–" in html.split("Long lines:")[1][:400]
    run = gather(bare_run)
    run.voters["wait"] = np.minimum(run.voters["wait"], 5.0)  # a day without long lines: no warning
    assert day.long_wait_warning(run) == "" and 'class="warning"' not in render_report(run)[0]


# ------------------------------------------------------------------ election night
def test_a_night_that_never_reaches_all_ballots_says_which_cards_are_missing(tmp_path):
    d = full_dict()
    d["night"] = {"missing_card_rate": 0.3}
    scenario = Scenario.model_validate(d)
    day_run = run_election_day(scenario, 3)
    night = simulate_night(day_run, np.random.SeedSequence(5))
    out = tmp_path / "run"
    write_run(ElectionRun.of_day(day_run, night), out)
    build_report(out)
    s = json.loads((out / "summary.json").read_text())["reporting"]
    missing = [i for i in s["incidents"] if i["kind"] == "card-missing"]
    assert missing and s["ballots_reported_at"]["100%"] is None
    page = page_of(out)
    assert page.facts["summary"]["reported_100"] == "not reached"
    shown = page.section_text["summary"]
    assert f"not reached: {len(missing)} memory card(s) missing" in shown and "no election night" not in shown
    assert all(p in shown for p in s["missing_precincts"])
    assert int(page.facts["reporting"]["cards_missing"]) == len(missing)


def test_the_report_of_an_old_run_without_scanner_times_still_builds(scratch_copy):
    """A run made before voters.npz had the paper columns: no scanner line, scanners untimed."""
    run = scratch_copy()
    with np.load(run / "voters.npz") as z:
        old = {k: z[k] for k in z.files if k not in ("mark_end", "scan_start", "marking_station")}
    np.savez(run / "voters.npz", **old)
    doc = json.loads((run / "summary.json").read_text())
    for i in doc["incidents"]:  # and the incident times as raw minutes, as pollsim 0.1 wrote them
        i["out_from"], i["back_at"] = float(i["out_from"][:2]) * 60 + float(i["out_from"][3:]), float(i["back_at"][:2]) * 60 + float(i["back_at"][3:])
        del i["minutes_out"]
    (run / "summary.json").write_text(json.dumps(doc))
    reseal(run)
    page = Page(render_report(gather(run))[0])
    assert len(page.tables["queue-peaks"][0][1]) == 6  # no scanner columns
    rows = {(r[0], r[1]): r for r in page.rows("device-use")}
    assert rows[("paper-1", "SCAN-1")][6] == "not recorded"
    assert [r[6] for r in page.rows("incident-table")] == ["45", "20"]
    shutil.rmtree(run)
