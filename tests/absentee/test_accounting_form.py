"""The precinct's ballot accounting form carries the absentee parts of (b) and (f) (§23-15-615(1))."""

from __future__ import annotations

import re
import subprocess
import sys

from pollsim.rundir import reconcile_run_dir
from tests.conftest import SCENARIOS


def test_the_forms_b_and_f_are_the_reconciliations(tmp_path):
    out = tmp_path / "D"
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "run", str(SCENARIOS / "drills" / "voted-ab-affidavit.yaml"), "--seed", "1", "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = reconcile_run_dir(out)
    with_absentee = 0
    for row in doc["precincts"]:
        form = (out / "forms" / f"{row['precinct']}-ballot-accounting.txt").read_text()
        b = int(re.search(r"^\(b\) receipt-book signatures \d+ \+ absentee (\d+) = (\d+)$", form, re.M).group(2))
        f = int(re.search(r"^\(f\) total ballots cast \.+ +(\d+)", form, re.M).group(1))
        assert (b, f) == (row["b_receipt_book_plus_absentee"], row["f_total_cast"]), row["precinct"]
        with_absentee += int(re.search(r"\+ absentee (\d+) =", form).group(1)) > 0
    assert with_absentee > 0  # the drill has absentee voters: the check is not vacuous
