"""Bad absentee and canvass settings are one line naming the file, line and field, exit 2, no traceback."""

from __future__ import annotations

import pytest
import yaml

from pollsim.cli import main
from tests.conftest import SCENARIOS

DRILL = SCENARIOS / "drills" / "voted-ab-affidavit.yaml"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["absentee"].update(errors=[{"precinct": "nowhere", "kind": "box_not_counted", "count": 2}]), "absentee.errors[0].precinct", "unknown precinct"),
        (lambda d: d["absentee"].update(returns=[{"days_before": 10, "share": 0.5}, {"days_before": 12, "share": 1.0}]), "absentee.returns[1].days_before", "days must go down"),
        (lambda d: d["absentee"].update(rejection={"no_witness": 0.6}), "absentee.rejection", "50 % or more"),
        (lambda d: d["absentee"].update(share=0.7, uocava_share=0.4), "absentee.share", "leave some ballots for election day"),
        (lambda d: d["absentee"].update(board={"day_start": "17:00", "day_end": "08:00"}), "absentee.board.day_end", "must stop after it starts"),
        (lambda d: d.update(canvass={"deadline_days": 0}), "canvass.deadline_days", "greater than or equal to 1"),
        (lambda d: (d.pop("absentee"), d["precincts"][0].update(absentee_ballots=5)), "precincts[0].absentee_ballots", "needs an absentee section"),
    ],
)
def test_bad_absentee_settings_are_one_line(tmp_path, capsys, change, field, words):
    d = yaml.safe_load(DRILL.read_text())
    change(d)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 2
    out, err = capsys.readouterr()
    [line] = err.strip().splitlines()
    assert line.startswith(f"pollsim: {path}:") and f": {field}" in line and words in line, line
    assert "Traceback" not in err and not (tmp_path / "run").exists()
