"""``pollsim reconcile RUN_DIR``'s table: readable at 80 columns, with a legend, and a plain
sentence when nothing is flagged (issue 13, item 5)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from pollsim.reconcile import CHECKS
from pollsim.verbs import RECONCILE_CHECKS, reconcile_table


def test_the_flagged_table_fits_80_columns_with_its_key_columns_whole(scratch_copy):
    run = scratch_copy()
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "reconcile", str(run)], capture_output=True, text=True, timeout=300,
                          env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[-1] == f"written to {run}/reconciliation.csv and reconciliation.json"  # a path: as long as it is
    out = out[:-1]
    assert max(len(line) for line in out) <= 80, out
    doc = json.loads((run / "reconciliation.json").read_text())
    [flagged] = [r for r in doc["precincts"] if r["flagged"]]
    [row] = [line for line in out if line.startswith(flagged["precinct"] + " ")]
    totals = [str(v) for k, v in flagged.items() if re.match(r"[a-f]_", k)]
    assert row.split()[:9] == [flagged["precinct"], flagged["county"], *totals, str(flagged["threshold"])]
    assert "pb-rb" in row  # the flagged check: pollbook against receipt book
    header = next(line for line in out if line.startswith("precinct "))
    assert header.split()[2:9] == ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "thr"]
    legend = "\n".join(out)
    for letter in "abcdef":
        assert f"({letter}) " in legend.split(header)[1]
    assert "pb-rb (a) + absentee - (b)" in legend and "no precinct flagged" not in legend


def test_nothing_flagged_says_so_instead_of_an_empty_table(full_run):
    doc = json.loads((full_run / "reconciliation.json").read_text())
    for r in doc["precincts"]:
        r["flagged"] = False
    doc["counties"] = dict.fromkeys(doc["counties"], False)
    text = reconcile_table(doc)
    assert "no precinct flagged" in text and "precinct " not in text.split("no precinct flagged")[0]
    assert "(a)" not in text and text.splitlines()[-1] == f"{len(doc['precincts'])} precincts, 0 flagged; counties triggered: none"


def test_a_long_check_list_moves_to_its_own_line(full_run):
    doc = json.loads((full_run / "reconciliation.json").read_text())
    r = next(r for r in doc["precincts"] if r["flagged"])
    r.update(precinct="a-rather-long-precinct-id", county="Jefferson Davis", **{k: True for k in r if k.startswith("flag_")})
    lines = reconcile_table(doc).splitlines()
    assert max(map(len, lines)) <= 80
    i = next(k for k, line in enumerate(lines) if line.startswith("a-rather-long-precinct-id"))
    assert lines[i + 1].split() == [RECONCILE_CHECKS[c] for c in CHECKS]
