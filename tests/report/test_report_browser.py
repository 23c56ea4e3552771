"""The report in a real browser: headless Chromium opens report.html from disk, offline.

Three runs of Chromium (Debian's ``chromium``; ``.ci/run`` installs it in CI):

1. ``--dump-dom`` of a copy of the page with a small checking script added at the end, after
   ``--virtual-time-budget`` lets the page settle: the script marks ``<body>`` with whether every
   ``<img>`` decoded (``naturalWidth > 0``) and which sections have a height on screen. The
   browser's log (``--enable-logging=stderr``) must have no console message: the page has no
   script of its own, so any ``CONSOLE`` line is an error (a failed load, a blocked resource).
2. The same on a page with a deliberate script error and a broken image, to show that the checks
   catch them.
3. ``--screenshot`` of the report itself, which must not be blank.
4. The drills a trainer runs first, seen as the trainee sees them: the misrecording drill's page
   shows no unit out of service (no bar, no shaded band: nothing on the day showed the fault),
   and the scanner-jam drill's page shows the scanner's line (the plot's green) and the jam (the
   incident bar's red). The pixels are counted in a full-page screenshot, inside the boxes the
   browser itself reports for the plots and the incidents block.

Chromium runs with the flags this machine needs (root: no sandbox; no network: no background
networking) and a fresh profile in the test's temporary directory. Without Chromium the test is
skipped on a developer's machine and fails in CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.report.conftest import SECTIONS

CHECK = """<script>
window.addEventListener("load", function () {
  var body = document.body;
  var imgs = Array.prototype.slice.call(document.images);
  var shown = Array.prototype.map.call(document.querySelectorAll("section[id], div[id]"), function (s) {
    return s.id + ":" + (s.getBoundingClientRect().height > 0 ? "shown" : "hidden");
  });
  body.setAttribute("data-sections", shown.join(","));
  body.setAttribute("data-images", String(imgs.length));
  // decoded: a size, and opaque pixels all over (the plots have a white background; a PNG cut
  // short decodes to transparent rows at the bottom)
  function decoded(img) {
    if (!img.complete || img.naturalWidth === 0) return false;
    var c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    var g = c.getContext("2d");
    g.drawImage(img, 0, 0);
    var px = g.getImageData(0, 0, c.width, c.height).data;
    for (var y = 0.05; y < 1; y += 0.1) {
      for (var x = 0.05; x < 1; x += 0.1) {
        if (px[4 * (Math.floor(y * c.height) * c.width + Math.floor(x * c.width)) + 3] !== 255) return false;
      }
    }
    return true;
  }
  body.setAttribute("data-images-ok", imgs.length > 0 && imgs.every(decoded) ? "yes" : "no");
  // where things are on the page (CSS pixels from the top left of the document)
  var boxes = Array.prototype.map.call(document.querySelectorAll("img[data-plot], div#incidents"), function (e) {
    var r = e.getBoundingClientRect();
    var name = e.getAttribute("data-plot") || "div-" + e.id;
    return [name, Math.round(r.left + window.scrollX), Math.round(r.top + window.scrollY), Math.round(r.width), Math.round(r.height)].join(":");
  });
  body.setAttribute("data-boxes", boxes.join(","));
  body.setAttribute("data-page-height", String(document.documentElement.scrollHeight));
});
</script>
"""
BROKEN = """<!DOCTYPE html><html><body><section id="summary"><p>x</p></section>
<img src="data:image/png;base64,%s">
<script>notDefinedAnywhere();</script></body></html>
"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium and chromium-driver before the tests")
        pytest.skip("chromium is not installed (apt-get install chromium chromium-driver)")
    return exe


def run_chromium(tmp: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    args = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}", *extra, url,
    ]  # fmt: skip
    return subprocess.run(args, check=False, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


def console_problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line or "Not allowed to load" in line]


def checked_dom(tmp: Path, html: str, *extra: str) -> tuple[str, list[str]]:
    page = tmp / "checked.html"
    page.write_text(html.replace("</body>", CHECK + "</body>", 1) if "</body>" in html else html + CHECK, encoding="utf-8")
    proc = run_chromium(tmp, page.as_uri(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", *extra, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, console_problems(proc.stderr)


def body_attr(dom: str, name: str) -> str:
    m = re.search(r"<body[^>]*\s" + name + r'="([^"]*)"', dom)
    return m.group(1) if m else ""


def test_the_report_renders_in_chromium_with_every_section(full_run, tmp_path):
    dom, problems = checked_dom(tmp_path, (full_run / "report.html").read_text(encoding="utf-8"))
    assert problems == []
    assert body_attr(dom, "data-images-ok") == "yes"
    assert int(body_attr(dom, "data-images")) == len(list((full_run / "plots").glob("*.png"))) == 7
    shown = dict(item.split(":") for item in body_attr(dom, "data-sections").split(","))
    assert all(shown.get(s) == "shown" for s in SECTIONS), shown
    for s in SECTIONS:
        assert re.search(rf'<(section|div) id="{s}"', dom)
    assert "pollsim report: " in dom


def test_the_browser_checks_catch_a_broken_page(full_run, tmp_path):
    png = (full_run / "plots" / "waits.png").read_bytes()
    truncated = base64.b64encode(png[: len(png) // 2]).decode()  # a PNG cut in half: its header is fine
    dom, problems = checked_dom(tmp_path, BROKEN % truncated)
    assert any("notDefinedAnywhere" in p for p in problems)
    assert body_attr(dom, "data-images-ok") == "no"


def test_a_screenshot_of_the_report_is_not_blank(full_run, tmp_path):
    shot = tmp_path / "report.png"
    proc = run_chromium(tmp_path, (full_run / "report.html").as_uri(), "--window-size=1280,2400", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    with Image.open(shot) as im:
        rgb = np.asarray(im.convert("RGB")).astype(np.int16)
    assert rgb.shape == (2400, 1280, 3)
    white = (rgb.min(axis=2) > 245).mean()
    assert white < 0.95  # text, tables and plots, not an empty page
    assert len(np.unique(rgb[::4, ::4].reshape(-1, 3), axis=0)) > 50
    # the header's rule in the report's accent blue (#0072B2) runs across the top of the page
    accent = (np.abs(rgb[:200] - np.array([0x00, 0x72, 0xB2])) < 30).all(axis=2)
    assert accent.sum(axis=1).max() > 1000


# report/plots.py's colours as they land on the white page: the scanner line; an outage's bar
# (RED at alpha 0.8) and its band over the lines (RED at alpha 0.13)
GREEN, BAR, BAND = (0x00, 0x9E, 0x73), (221, 126, 51), (250, 234, 222)


def colour_pixels(rgb: np.ndarray, box: tuple[int, ...], colour: tuple[int, int, int], tol: int) -> int:
    x, y, w, h = box
    part = rgb[y : y + h, x : x + w].astype(np.int16)
    return int((np.abs(part - np.array(colour)) < tol).all(axis=2).sum())


def seen(tmp: Path, run: Path) -> tuple[dict[str, tuple[int, ...]], np.ndarray, str]:
    """The boxes of the page's plots and incidents block, a full-page screenshot, and the DOM."""
    tmp.mkdir()
    dom, problems = checked_dom(tmp, (run / "report.html").read_text(encoding="utf-8"), "--window-size=1280,1000")
    assert problems == [] and body_attr(dom, "data-images-ok") == "yes"
    boxes = {}
    for item in body_attr(dom, "data-boxes").split(","):
        name, *nums = item.split(":")
        boxes[name] = tuple(int(v) for v in nums)
    height = int(body_attr(dom, "data-page-height"))
    shot = tmp / "page.png"
    proc = run_chromium(tmp, (run / "report.html").as_uri(), f"--window-size=1280,{height}", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    with Image.open(shot) as im:
        rgb = np.asarray(im.convert("RGB"))
    assert rgb.shape[:2] == (height, 1280)
    return boxes, rgb, dom


def test_the_misrecording_drill_shows_no_outage_and_the_scanner_jam_its_scanner_line(drill_run, tmp_path):
    mis_boxes, mis, mis_dom = seen(tmp_path / "mis", drill_run("misrecording-audit"))
    jam_boxes, jam, jam_dom = seen(tmp_path / "jam", drill_run("scanner-jam"))
    counts = {
        (name, what): colour_pixels(rgb, boxes[box], colour, tol)
        for name, boxes, rgb in (("mis", mis_boxes, mis), ("jam", jam_boxes, jam))
        for what, box, colour, tol in (("scanner line", "queues", GREEN, 20), ("band", "queues", BAND, 5), ("bar", "div-incidents", BAR, 12))
    }  # fmt: skip
    # the misrecording drill: out of service 0; no incident plot, no bar, no band on the lines; a DRE precinct, no scanner line
    assert re.search(r'data-key="incidents" data-value="0"', mis_dom) and "No device went out of service" in mis_dom
    assert "incidents" not in mis_boxes
    assert counts["mis", "bar"] == counts["mis", "scanner line"] == 0, counts
    assert counts["mis", "band"] < 30, counts  # a few anti-aliased pixels at most: a band one minute wide is ~300
    # the scanner jam: its scanner line, the jam shaded over the lines and barred in the incidents
    assert re.search(r'data-key="incidents" data-value="1"', jam_dom)
    assert counts["jam", "scanner line"] > 100 and counts["jam", "band"] > 100 and counts["jam", "bar"] > 100, counts



def test_the_absentee_and_canvass_section_renders_with_its_curve(absentee_run, tmp_path):
    boxes, rgb, dom = seen(tmp_path / "ab", absentee_run)
    shown = dict(item.split(":") for item in body_attr(dom, "data-sections").split(","))
    assert shown.get("absentee") == "shown" and shown.get("reporting") == "shown", shown
    assert re.search(r'data-key="affidavit_counted" data-value="[1-9]', dom) and "absentee-rejections" in dom
    # the canvass curve is drawn: the report's blue (#0072B2) inside the plot's box
    assert colour_pixels(rgb, boxes["canvass"], (0x00, 0x72, 0xB2), 20) > 100
