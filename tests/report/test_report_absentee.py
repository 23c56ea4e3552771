"""The report's absentee and canvass section, on the VOTED AB drill run with absentee voting and a
canvass: its counts are summary.json's (written by the absentee and canvass stages), its
rejections table lists every reason, and its plot is the curve of canvass.csv; a run without
absentee voting has no such section."""

from __future__ import annotations

import csv
import json
import re

from pollsim.report import build_report


def fact(html: str, key: str) -> str:
    m = re.search(rf'data-key="{key}" data-value="([^"]*)"', html)
    assert m, key
    return m.group(1)


def test_the_section_shows_the_absentee_and_affidavit_counts(absentee_run):
    s = json.loads((absentee_run / "summary.json").read_text())
    html = (absentee_run / "report.html").read_text(encoding="utf-8")
    assert '<section id="absentee"' in html or 'id="absentee"' in html
    ab, aff = s["absentee"], s["canvass"]["affidavit"]
    assert fact(html, "envelopes_accepted") == str(ab["envelopes"]["accepted"]) and fact(html, "envelopes_late") == str(ab["envelopes"]["late"])
    assert fact(html, "kind_uocava") == str(ab["by_kind"]["uocava"]) and fact(html, "absentee_counted") == str(ab["ballots_counted"])
    assert fact(html, "affidavit_ballots") == str(aff["ballots"]) and fact(html, "affidavit_counted") == str(aff["counted"])
    assert fact(html, "ballots_certified") == str(s["canvass"]["ballots_certified"]) and fact(html, "late_counties") == "0"
    table = html[html.index('id="absentee-rejections"') :].split("</table>")[0].split("<tbody>")[1]
    assert len(re.findall("<tr>", table)) == len(ab["rejected_by_reason"]) + len(aff["rejected_by_reason"])
    assert "<td>1</td>" in table.split("absentee accepted")[1][:40]  # the drill's voter whose absentee ballot was accepted
    assert "Training" in html[html.index('id="canvass-certified"') :][:600] and s["canvass"]["certified"]["Training"] in html


def test_the_plot_is_the_canvass_curve(absentee_run):
    with (absentee_run / "canvass.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 2 and rows[-1]["share_of_ballots"] == "1.000000"
    png = (absentee_run / "plots" / "canvass.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 'data-plot="canvass"' in (absentee_run / "report.html").read_text(encoding="utf-8")


def test_same_run_same_report_bytes(absentee_run, tmp_path):
    first = (absentee_run / "report.html").read_bytes()
    build_report(absentee_run)
    assert (absentee_run / "report.html").read_bytes() == first


def test_a_run_without_absentee_voting_has_no_section(bare_run):
    html = (bare_run / "report.html").read_text(encoding="utf-8")
    assert 'id="absentee"' not in html and not (bare_run / "plots" / "canvass.png").exists()
