"""The report's "Voter roll" section in a real browser (issue 17, item 5): a run made with ``--roll``.

Adams County's roll 2020-2028 under both suffrage laws (``pollsim roll simulate --compare``), the
Adams scenario run on the pollbooks of the November 2028 general, its report opened by headless
Chromium as in test_report_browser.py: the section is on screen, the page has no console error, and
the two-law table the browser shows holds roll_policy.csv's figures, the earlier law with more
affidavit ballots from people whose sentence is complete. A run made without ``--roll`` has no such
section.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from pollsim.cli import main
from pollsim.report import build_report
from tests.conftest import SCENARIOS
from tests.report.test_report_browser import body_attr, checked_dom

ELECTION = "2028-11-07"


@pytest.fixture(scope="module")
def roll_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("report-roll")
    roll, run = base / "roll", base / "run"
    assert main(["roll", "simulate", "--counties", "Adams", "--compare", "--out", str(roll), "--quiet"]) == 0
    assert main(["run", str(SCENARIOS / "ms-2020-adams.yaml"), "--roll", str(roll), "--election", ELECTION, "--out", str(run), "--quiet"]) == 0
    build_report(run)
    return run


def _cells(dom: str, table_id: str) -> dict[str, list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', dom, re.S)
    assert table, table_id
    rows = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_voter_roll_section_shows_both_laws_in_chromium(roll_run, tmp_path):
    dom, problems = checked_dom(tmp_path, (roll_run / "report.html").read_text(encoding="utf-8"))
    assert problems == []
    shown = dict(item.split(":") for item in body_attr(dom, "data-sections").split(","))
    assert shown.get("roll") == "shown" and shown.get("accounting") == "shown", shown
    policy = {r["measure"]: r for r in csv.DictReader(io.StringIO((roll_run / "roll_policy.csv").read_text())) if r["county"] == "total"}
    seen = _cells(dom, "roll-policy")
    assert seen["measure"] == ["earlier law", "2024 bill", "difference"]
    for measure in ("affidavit_completed_sentence", "restored", "barred_residents", "affidavit_not_on_roll"):
        r = policy[measure]
        assert seen[measure.replace("_", " ")] == [f"{int(r['pre2024']):,}", f"{int(r['2024']):,}", f"{int(r['difference']):+,}"], measure
    before, bill = (int(v.replace(",", "")) for v in seen["affidavit completed sentence"][:2])
    assert before > bill
    # the day's affidavit ballots by reason, as summary.json counted them from voters.npz
    import json

    by = json.loads((roll_run / "summary.json").read_text())["roll"]["affidavit_by_reason"]
    reasons = _cells(dom, "roll-affidavit")
    assert all(reasons[k.replace("_", " ")][1] == f"{v:,}" for k, v in by.items())


def test_a_run_without_a_roll_has_no_roll_section(bare_run):
    html = (bare_run / "report.html").read_text(encoding="utf-8")
    assert 'id="roll"' not in html and "Voter roll" not in html
