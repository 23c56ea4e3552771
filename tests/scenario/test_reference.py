"""docs/scenarios.md documents every scenario field with its default, as the loader has them."""

from pollsim.scenario.reference import field_rows, markdown_table
from tests.conftest import ROOT


def test_the_scenario_doc_carries_the_current_field_table():
    doc = (ROOT / "docs" / "scenarios.md").read_text()
    assert markdown_table() in doc, "regenerate with: python -m pollsim.scenario.reference"


def test_every_field_has_a_description():
    missing = [path for path, _, _, desc in field_rows() if not desc]
    assert not missing
