"""docs/matrix-reference.md, rendered from the JSON Schema of matrix.yaml alone.

One section per mapping of the file (the top level, ``settings``, ``bases.<name>``, …), in
the order a reader meets them, each a table of its keys: type, default and description,
as the schema states them. ``harness schema --format markdown`` prints it; a unit test
fails when the committed page differs from what the schema renders.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

REGENERATE = "harness schema --format markdown > docs/matrix-reference.md"


class Node(BaseModel):
    """One node of the JSON Schema, with the keywords the page shows (others ignored).
    ``default`` and ``const`` may be any JSON value, null included: whether the schema
    gives one is ``given(...)``."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    ref: str | None = Field(None, alias="$ref")
    defs: dict[str, Node] = Field({}, alias="$defs")
    type: str | None = None
    description: str = ""
    properties: dict[str, Node] = {}
    required: tuple[str, ...] = ()
    any_of: tuple[Node, ...] = Field((), alias="anyOf")
    items: Node | None = None
    additional_properties: Node | bool | None = Field(None, alias="additionalProperties")
    property_names: Node | None = Field(None, alias="propertyNames")
    enum: tuple[object, ...] | None = None
    const: object = None
    default: object = None
    min_items: int | None = Field(None, alias="minItems")
    min_length: int | None = Field(None, alias="minLength")
    pattern: str | None = None
    exclusive_minimum: float | None = Field(None, alias="exclusiveMinimum")
    minimum: float | None = None
    exclusive_maximum: float | None = Field(None, alias="exclusiveMaximum")
    maximum: float | None = None

    def given(self, keyword: str) -> bool:
        return keyword in self.model_fields_set

    @property
    def mapping_values(self) -> Node | None:
        """``additionalProperties`` when it is a schema (not true/false)."""
        extra = self.additional_properties
        return extra if isinstance(extra, Node) else None


def render_markdown(schema: Mapping[str, object]) -> str:
    """The reference page of ``schema`` (a pydantic JSON Schema with ``$defs``)."""
    root = Node.model_validate(schema)
    defs = root.defs
    lines = [
        "# matrix.yaml reference",
        "",
        f"Generated from `harness/schema/matrix.schema.json` by `{REGENERATE}`;",
        "do not edit by hand. Paths in the file are relative to the matrix file. Every key",
        "not listed here is refused (exit 2, with a “did you mean …” for a misspelling).",
        "",
    ]
    # Breadth first from the top level, each mapping once, headed by every path reaching it.
    order: list[str] = []
    paths: dict[str, list[str]] = {}
    queue: deque[tuple[str, Node]] = deque([("", root)])
    while queue:
        path, node = queue.popleft()
        for key, prop in node.properties.items():
            for suffix, name in _refs(prop):
                if name not in paths:
                    order.append(name)
                    paths[name] = []
                    queue.append((f"{path}.{key}{suffix}".lstrip("."), defs[name]))
                paths[name].append(f"{path}.{key}{suffix}".lstrip("."))
    sections = [("The top level", root)]
    sections += [(", ".join(f"`{p}`" for p in paths[name]), defs[name]) for name in order]
    for title, node in sections:
        lines += [f"## {title}", ""]
        if node.description:
            lines += [_one_line(node.description), ""]
        lines += ["| key | type | default | description |", "|---|---|---|---|"]
        required = set(node.required)
        for key, prop in node.properties.items():
            default = "required" if key in required else _default(prop)
            lines.append(
                f"| `{key}` | {_cell(_type(prop))} | {_cell(default)} "
                f"| {_cell(_one_line(prop.description))} |"
            )
        lines.append("")
    return "\n".join(lines)


def _refs(prop: Node, suffix: str = "") -> list[tuple[str, str]]:
    """The definitions a property's value may be, each with the path suffix to reach it."""
    if prop.ref is not None:
        return [(suffix, prop.ref.rsplit("/", 1)[-1])]
    found = []
    for option in prop.any_of:
        found += _refs(option, suffix)
    if prop.items is not None:
        found += _refs(prop.items, suffix + "[]")
    if prop.mapping_values is not None:
        found += _refs(prop.mapping_values, suffix + ".<name>")
    return found


def _type(prop: Node) -> str:
    """The value's type in words: ``number > 0, ≤ 86400``, ``list of string``, …"""
    if prop.ref is not None:
        return "mapping (below)"
    if prop.given("const"):
        return f"`{json.dumps(prop.const)}`"
    if prop.enum is not None:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in prop.enum)
    if prop.any_of:
        return " or ".join(dict.fromkeys(_type(option) for option in prop.any_of))
    kind = prop.type or "any"
    if kind == "array":
        words = f"list of {_type(prop.items or Node())}"
        return words + (f", at least {prop.min_items}" if prop.min_items is not None else "")
    if kind == "object":
        names = prop.property_names.enum if prop.property_names is not None else None
        key = " or ".join(f"`{n}`" for n in names) if names else "name"
        return f"mapping of {key} → {_type(prop.mapping_values or Node())}"
    bounds = [
        f"{sign} {value:g}"
        for value, sign in (
            (prop.exclusive_minimum, ">"),
            (prop.minimum, "≥"),
            (prop.exclusive_maximum, "<"),
            (prop.maximum, "≤"),
        )
        if value is not None
    ]
    if prop.min_length is not None:
        bounds.append(f"at least {prop.min_length} character(s)")
    if prop.pattern is not None:
        bounds.append(f"matching `{prop.pattern}`")
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def _default(prop: Node) -> str:
    """The schema's default; a list, mapping or section left out is empty or all defaults."""
    if prop.given("default"):
        return f"`{json.dumps(prop.default)}`"
    if prop.ref is not None:
        return "its defaults"
    return {"array": "`[]`", "object": "`{}`"}.get(prop.type or "", "—")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
