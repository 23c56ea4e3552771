"""Whatever a scenario file holds, loading it gives a Scenario or ScenarioError lines, nothing else.

Random edits of a real scenario (a value replaced by a random one of any YAML type, a field
dropped or added) and random text and bytes: the loader must never raise anything but
:class:`ScenarioError`, and each of its lines must be ``FILE:LINE: FIELD: message``.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollsim.errors import ScenarioError
from pollsim.scenario import Scenario, load_scenario
from tests.conftest import SCENARIOS

BASE = yaml.safe_load((SCENARIOS / "training-precinct.yaml").read_text())
ADAMS = yaml.safe_load((SCENARIOS / "ms-2020-adams.yaml").read_text())  # precincts generated from the mississippi section
NAMES = st.text("abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=12)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.dates(), st.sampled_from(["07:00", "19:30", "25:00", "DRE-1", "PB-2", "gamma", "paper", "dre", "c1", ""]),
)  # fmt: skip
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(NAMES, inner, max_size=4)), max_leaves=8)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, prefix + (i,))
    return out


EDITS = st.one_of(st.tuples(st.just(BASE), st.sampled_from(paths(BASE))), st.tuples(st.just(ADAMS), st.sampled_from(paths(ADAMS))))


def check(path: Path) -> Scenario | None:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems
        for line in exc.problems:
            assert re.match(rf"^{re.escape(str(path))}:\d+: \S.*?: \S", line), line
            assert "\n" not in line
        return None


@SETTINGS
@given(EDITS, VALUES, st.sampled_from(["replace", "drop", "add"]), NAMES)
def test_a_randomly_edited_scenario_loads_or_is_told_plainly(tmp_path_factory, edit, value, how, name):
    base, where = edit
    doc = copy.deepcopy(base)
    *parent_path, last = where
    parent = doc
    for part in parent_path:
        parent = parent[part]
    if how == "replace":
        parent[last] = value
    elif how == "drop":
        del parent[last]
    elif isinstance(parent, dict):
        parent[f"x_{name}"] = value
    else:
        parent.append(value)
    path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    scenario = check(path)
    if scenario is not None:  # accepted: then every number in it is finite and within its bounds
        assert scenario.seed >= 0 and scenario.precincts


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_are_refused_plainly(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_bytes(data)
    check(path)


@SETTINGS
@given(st.integers(0, 4000), st.text(min_size=1, max_size=5))
def test_random_characters_inserted_into_a_real_file_are_told_plainly(tmp_path_factory, at, text):
    base = (SCENARIOS / "training-precinct.yaml").read_text()
    at = min(at, len(base))
    path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_bytes((base[:at] + text + base[at:]).encode("utf-8", "surrogatepass"))
    check(path)


def test_dates_and_times_survive_a_round_trip(tmp_path):
    doc = copy.deepcopy(BASE)
    doc["election"]["date"] = dt.date(2027, 11, 2)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    scenario = load_scenario(path)
    assert scenario.election.date == dt.date(2027, 11, 2)
