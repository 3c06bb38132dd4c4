"""docs/matrix-reference.md is rendered from the schema alone and stays current with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.entry import main
from harness.model.matrix import json_schema
from harness.schema.reference import REGENERATE, render_markdown

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "docs" / "matrix-reference.md"


def test_the_committed_reference_is_what_the_schema_renders() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_markdown(json_schema()), (
        f"docs/matrix-reference.md is out of date with the schema; regenerate: {REGENERATE}"
    )


def test_every_key_of_every_mapping_is_in_the_reference_with_a_description() -> None:
    schema = json_schema()
    text = render_markdown(schema)
    for node in [schema, *schema["$defs"].values()]:
        for key, prop in node["properties"].items():
            assert f"| `{key}` |" in text, key
            assert prop.get("description"), f"{node.get('title')}.{key} has no description"


def test_types_defaults_and_bounds_are_spelled_out() -> None:
    text = render_markdown(json_schema())
    assert "| `jobs` | integer (≥ 1) | `2` | cells run at once |" in text
    assert "| `install_timeout` | number (> 0, ≤ 86400) | `1800.0` |" in text
    assert "| `system` | mapping of `apt` or `apk` → list of string | `{}` |" in text
    assert "## `cells.include[]`, `cells.exclude[]`" in text
    assert "| `bases` | mapping of name → mapping (below) | required |" in text


def test_a_changed_schema_changes_the_page() -> None:
    schema = json_schema()
    schema["$defs"]["Settings"]["properties"]["jobs"]["description"] = "a new | sentence"
    assert "a new \\| sentence" in render_markdown(schema)


def test_harness_schema_prints_the_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == REFERENCE.read_text(encoding="utf-8")
