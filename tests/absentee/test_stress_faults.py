"""`pollsim stress --faults` injects errors in absentee handling like any other fault: a faults file
with ``absentee: {errors: [...]}`` flags those precincts night after night."""

from __future__ import annotations

import yaml

from pollsim.scale.stress import stress, with_faults
from tests.conftest import SCENARIOS


def test_a_faults_file_injects_absentee_errors_into_every_night(tmp_path):
    d = yaml.safe_load((SCENARIOS / "ms-2020-general.yaml").read_text())
    d["mississippi"]["counties"] = ["Tunica"]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    faults = {"absentee": {"errors": [{"precinct": "28143-001", "kind": "box_not_counted", "count": 40}, {"precinct": "28143-003", "kind": "envelope_accepted_twice", "count": 40}]}}
    (tmp_path / "f.yaml").write_text(yaml.safe_dump(faults))
    sc = with_faults(tmp_path / "s.yaml", tmp_path / "f.yaml")
    assert sc.absentee is not None and len(sc.absentee.errors) == 2
    _, rows = stress(sc, 1, 2, risk_limit=0.05)
    assert [r["precincts_flagged"] for r in rows] == [2, 2]
