"""The decision block's reference says what the documents apply: its default drivers (not
`[]`) and compatibility's rule as analysis.decision words it."""

from __future__ import annotations

from harness.analysis.decision import DRIVER_RULES
from harness.model.matrix import MUST_DRIVERS, PREFERRED_DRIVERS, DecisionSpec, json_schema
from harness.schema.reference import render_markdown


def test_the_reference_shows_the_default_drivers() -> None:
    props = json_schema()["$defs"]["DecisionSpec"]["properties"]
    assert props["must"]["default"] == list(MUST_DRIVERS) == DecisionSpec().must
    assert props["prefer"]["default"] == list(PREFERRED_DRIVERS) == DecisionSpec().prefer
    text = render_markdown(json_schema())
    assert '| `["compatibility", "tests"]` |' in text


def test_compatibility_is_described_as_the_analysis_applies_it() -> None:
    described = DecisionSpec.model_fields["must"].description or ""
    assert f"compatibility ({DRIVER_RULES['compatibility']})" in described
