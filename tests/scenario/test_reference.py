"""docs/scenarios.md documents every scenario field, with its default and bounds, as the models have them.

The field list the doc must match is taken from the models' JSON schema (pydantic's own walk of
the models), not from pollsim.scenario.reference, so a generator that stops recursing cannot make
the doc and the check short alike.
"""

from __future__ import annotations

import re
from typing import Any

from pollsim.scenario.models import Scenario
from pollsim.scenario.reference import field_rows, markdown_table
from tests.conftest import ROOT

SCHEMA = Scenario.model_json_schema()
DOC = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    return _resolve(options[0]) if len(options) == 1 else node


def _below(node: dict[str, Any], path: str) -> tuple[str, dict[str, Any]] | None:
    """(path prefix, schema) of the object a field holds, through lists and mappings."""
    node = _resolve(node)
    if node.get("type") == "array":
        inner = _below(node["items"], f"{path}[]")
        return inner
    if "properties" in node:
        return path, node
    if isinstance(node.get("additionalProperties"), dict):
        return _below(node["additionalProperties"], f"{path}.*")
    return None


def schema_paths(node: dict[str, Any] = SCHEMA, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every field path of the scenario with its schema; a service time's fields once, as service_times.*."""
    out: dict[str, dict[str, Any]] = {}
    for name, field in node["properties"].items():
        path = f"{prefix}{name}"
        out[path] = field
        below = _below(field, path)
        if below is None:
            continue
        sub_prefix, sub = below
        if sub is SCHEMA["$defs"]["ServiceTime"]:
            out.update(schema_paths(sub, "service_times.*."))
        else:
            out.update(schema_paths(sub, f"{sub_prefix}."))
    return out


def doc_rows() -> dict[str, list[str]]:
    """The 'Every field' table of docs/scenarios.md: path -> its cells."""
    section = DOC[DOC.index("## Every field") :]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"^\| `([^`]+)` \|(.*)\|$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split(" | ")]
    return rows


def test_the_doc_names_every_field_of_the_models_and_no_other():
    expected, documented = set(schema_paths()), set(doc_rows())
    assert len(expected) > 120  # the nested sections are there, not only the top level
    for nested in ("precincts[].equipment.dre_units", "election.contests[].choices[].id", "polls.open", "arrivals.hourly_shares",
                   "service_times.dre_vote", "service_times.*.mean", "behaviour.vvpat_review_share", "incidents[].at", "errors[].kind",
                   "night.publish_every", "mississippi.ballots_per_dre", "procedures.opening[].minutes", "precincts[].scripted_voters[].at"):  # fmt: skip
        assert nested in expected
    assert sorted(expected - documented) == [], "missing from docs/scenarios.md"
    assert sorted(documented - expected) == [], "documented but not a field"


def test_the_doc_carries_the_generated_table():
    assert markdown_table() in DOC, "regenerate with: python -m pollsim.scenario.reference"


def _leaf_numbers(field: dict[str, Any]) -> list[dict[str, Any]]:
    """The number schemas a field holds (itself, its items, its mapping values)."""
    node = _resolve(field)
    if node.get("type") in ("number", "integer") and "enum" not in node and "const" not in node:
        return [node]
    if node.get("type") == "array":
        return _leaf_numbers(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        return _leaf_numbers(node["additionalProperties"])
    return []


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def test_every_number_is_bounded_both_ways_and_the_doc_gives_the_bounds():
    rows = doc_rows()
    numbers = 0
    for path, field in schema_paths().items():
        for leaf in _leaf_numbers(field):
            numbers += 1
            low = leaf.get("minimum", leaf.get("exclusiveMinimum"))
            high = leaf.get("maximum", leaf.get("exclusiveMaximum"))
            assert low is not None and high is not None, f"{path} is unbounded"
            allowed = rows[path][2]
            assert _num(low) in allowed and _num(high) in allowed, f"{path}: doc says {allowed!r}"
    assert numbers > 60


def test_every_list_and_mapping_of_items_is_bounded():
    for path, field in schema_paths().items():
        node = _resolve(field)
        if node.get("type") == "array":
            assert "maxItems" in node, path
        if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            assert "maxProperties" in node, path
            inner = _resolve(node["additionalProperties"])
            assert inner.get("type") != "object" or "properties" in inner or "maxProperties" in inner, path


def test_every_field_has_a_description():
    missing = [path for path, _, _, _, desc in field_rows() if not desc]
    assert not missing


def test_the_ballots_per_dre_arithmetic_in_the_doc_is_right():
    row = doc_rows()["mississippi.ballots_per_dre"]
    assert "94 %" in row[-1] and round(150 * 4.5 / 720 * 100) == 94
