"""A scenario file is validated, and every problem is told as FILE:LINE: FIELD: expectation."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pollsim.errors import ScenarioError
from pollsim.scenario import load_scenario
from tests.conftest import SCENARIOS

GOOD_HEAD = """\
scenario: s
election:
  id: e
  name: E
  date: 2026-11-03
  contests:
    - id: c1
      title: Contest
      choices:
        - {id: a, name: A}
        - {id: b, name: B}
  ballot_styles:
    - {id: st, contests: [c1]}
precincts:
  - id: p1
    ballot_style: st
    registered_voters: 100
"""


def problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    return exc.value.problems


@pytest.mark.parametrize("name", ["training-precinct.yaml", "training-precinct-paper.yaml"])
def test_bundled_scenarios_are_valid(name):
    s = load_scenario(SCENARIOS / name)
    assert s.precincts[0].registered_voters == 900
    assert len(s.election.contests) >= 6


def test_a_minimal_scenario_takes_the_documented_defaults(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD_HEAD)
    s = load_scenario(path)
    assert (s.polls.open, s.polls.close) == ("07:00", "19:00")  # §23-15-581
    assert s.arrivals.hourly_shares == [10, 5, 5, 5, 10, 10, 5, 5, 5, 10, 10, 10]  # Edelstein 2010, 7:00-19:00
    assert s.arrivals.before_opening_share == 10
    assert s.service_times.checkin_electronic.mean == 0.5


def test_a_wrong_value_names_file_line_and_field(tmp_path):
    text = GOOD_HEAD.replace("registered_voters: 100", "registered_voters: -5")
    [p] = problems(tmp_path, text)
    assert p.startswith(f"{tmp_path / 's.yaml'}:17: precincts[0].registered_voters: ")
    assert "greater than or equal to 0" in p


def test_a_misspelt_field_is_an_error_not_ignored_and_the_valid_names_are_listed(tmp_path):
    [p] = problems(tmp_path, GOOD_HEAD + "    turnot: 0.5\n")
    assert ":18: precincts[0].turnot: unknown field; did you mean 'turnout'?" in p
    from pollsim.scenario.models import PrecinctSpec

    assert p.endswith("valid here: " + ", ".join(PrecinctSpec.model_fields))


def test_a_missing_field_points_at_its_parent(tmp_path):
    [p] = problems(tmp_path, GOOD_HEAD.replace("    registered_voters: 100\n", ""))
    assert ":15: precincts[0].registered_voters: required field is missing" in p


def test_every_problem_is_reported_once(tmp_path):
    text = GOOD_HEAD.replace("registered_voters: 100", "registered_voters: lots").replace("title: Contest", "title: Contest\n      vote_for: 0")
    ps = problems(tmp_path, text)
    assert len(ps) == 2
    assert any("election.contests[0].vote_for" in p for p in ps)
    assert any("precincts[0].registered_voters: expected a whole number, got the text 'lots'" in p for p in ps)


def test_cross_field_problems_name_the_field(tmp_path):
    [p] = problems(tmp_path, GOOD_HEAD.replace("ballot_style: st", "ballot_style: nowhere"))
    assert ":16: precincts[0].ballot_style: unknown ballot style 'nowhere'" in p
    [p] = problems(tmp_path, GOOD_HEAD.replace("contests: [c1]", "contests: [c1, c9]"))
    assert "election.ballot_styles[0].contests[1]: unknown contest 'c9'" in p


def test_hourly_shares_must_cover_the_polling_hours(tmp_path):
    [p] = problems(tmp_path, GOOD_HEAD + "arrivals:\n  hourly_shares: [1, 2, 3]\n")
    assert ":19: arrivals.hourly_shares: 3 entries given; expected one per hour the polls are open (12: 07:00-19:00)" in p


def test_an_incident_must_name_a_device_the_precinct_has(tmp_path):
    text = GOOD_HEAD + "incidents:\n  - {at: '09:30', device: DRE-9, kind: paper_out}\n"
    [p] = problems(tmp_path, text)
    assert ":19: incidents[0].device: precinct 'p1' has no DRE-9" in p


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ":1: (top level): the file is empty"),
        ("scenario: [unclosed\n", ":1: (YAML): syntax: did not find expected ',' or ']'"),
        ("scenario: a\nscenario: b\n", ":2: scenario: the field is given twice"),
        ("- a\n- b\n", ":1: (top level): expected a mapping"),
    ],
)
def test_broken_yaml_is_told_plainly(tmp_path, text, expected):
    [p] = problems(tmp_path, text)
    assert expected in p


def test_cli_validate_exits_2_with_one_line_per_problem_and_no_traceback(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text(textwrap.dedent(GOOD_HEAD).replace("registered_voters: 100", "registered_voters: -1"))
    proc = subprocess.run([sys.executable, "-m", "pollsim.cli", "validate", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{bad}:17: precincts[0].registered_voters" in lines[0]
    ok = subprocess.run([sys.executable, "-m", "pollsim.cli", "validate", str(SCENARIOS / "training-precinct.yaml")], capture_output=True, text=True)
    assert ok.returncode == 0 and "ok" in ok.stdout


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match=r"nope.yaml:1: \(file\): cannot read the scenario file"):
        load_scenario(tmp_path / "nope.yaml")


def test_yaml_conveniences_read_as_a_person_means_them(tmp_path):
    """Unquoted times stay times, 1e-3 is a number, anchors and merge keys work (own keys win)."""
    text = GOOD_HEAD + (
        "    scripted_voters:\n      - {at: 19:00}\n      - {at: 10:15}\n"
        "polls: {close: 20:00}\n"
        "service_times:\n"
        "  checkin_paper: &slow {distribution: gamma, mean: 2.0, sd: 1e-1}\n"
        "  affidavit_paperwork:\n    <<: *slow\n    mean: 5\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text)
    s = load_scenario(path)
    assert [v.at for v in s.precincts[0].scripted_voters] == ["19:00", "10:15"] and s.polls.close == "20:00"
    assert s.service_times.checkin_paper.sd == 0.1
    assert (s.service_times.affidavit_paperwork.mean, s.service_times.affidavit_paperwork.sd) == (5.0, 0.1)
