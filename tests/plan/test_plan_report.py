"""The planning report in a real browser: headless Chromium opens ``pollsim plan``'s report.html.

The same checks as the run report's (tests/report/test_report_browser.py, whose helpers this
uses): no console message (the page has no script of its own), every picture decoded, and the
planning, sensitivity and fleet sections on screen, with the what-if chart and the plan table.
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from pollsim.cli import main
from tests.conftest import SCENARIOS
from tests.report.test_report_browser import body_attr, checked_dom, run_chromium


def test_the_planning_report_renders_in_chromium(tmp_path):
    out = tmp_path / "plan"
    args = ["plan", str(SCENARIOS / "training-precinct.yaml"), "--out", str(out), "--quiet", "--turnout", "+20%", "--fleet", "voting"]
    assert main(args) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    dom, problems = checked_dom(tmp_path, html)
    assert problems == []
    assert body_attr(dom, "data-images-ok") == "yes" and body_attr(dom, "data-images") == "1"
    shown = dict(item.split(":") for item in body_attr(dom, "data-sections").split(","))
    assert shown.get("planning") == shown.get("sensitivity") == shown.get("fleet") == "shown", shown
    assert 'data-plot="whatif"' in dom and 'id="plan-table"' in dom
    assert re.search(r'data-key="targets" data-value="p95&lt;=30"', dom)
    assert "training-1" in dom and "2 → " in dom  # today's two check-in stations, and what they become
    shot = tmp_path / "plan.png"
    proc = run_chromium(tmp_path, (out / "report.html").as_uri(), "--window-size=1280,1600", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.exists()
    with Image.open(shot) as im:
        rgb = np.asarray(im.convert("RGB")).astype(np.int16)
    assert (rgb.min(axis=2) > 245).mean() < 0.97 and len(np.unique(rgb[::4, ::4].reshape(-1, 3), axis=0)) > 50
