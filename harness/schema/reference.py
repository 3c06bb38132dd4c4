"""docs/matrix-reference.md, rendered from the JSON Schema of matrix.yaml alone.

One section per mapping of the file (the top level, ``settings``, ``bases.<name>``, …), in
the order a reader meets them, each a table of its keys: type, default and description,
as the schema states them. ``harness schema --format markdown`` prints it; a unit test
fails when the committed page differs from what the schema renders.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

Schema = dict[str, Any]

REGENERATE = "harness schema --format markdown > docs/matrix-reference.md"


def render_markdown(schema: Schema) -> str:
    """The reference page of ``schema`` (a pydantic JSON Schema with ``$defs``)."""
    defs: dict[str, Schema] = schema.get("$defs", {})
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
    queue: deque[tuple[str, Schema]] = deque([("", schema)])
    while queue:
        path, node = queue.popleft()
        for key, prop in node.get("properties", {}).items():
            for suffix, name in _refs(prop):
                if name not in paths:
                    order.append(name)
                    paths[name] = []
                    queue.append((f"{path}.{key}{suffix}".lstrip("."), defs[name]))
                paths[name].append(f"{path}.{key}{suffix}".lstrip("."))
    sections = [("The top level", schema)]
    sections += [(", ".join(f"`{p}`" for p in paths[name]), defs[name]) for name in order]
    for title, node in sections:
        lines += [f"## {title}", ""]
        if node.get("description"):
            lines += [_one_line(node["description"]), ""]
        lines += ["| key | type | default | description |", "|---|---|---|---|"]
        required = set(node.get("required", []))
        for key, prop in node.get("properties", {}).items():
            default = "required" if key in required else _default(prop)
            lines.append(
                f"| `{key}` | {_cell(_type(prop))} | {_cell(default)} "
                f"| {_cell(_one_line(prop.get('description', '')))} |"
            )
        lines.append("")
    return "\n".join(lines)


def _refs(prop: Schema, suffix: str = "") -> list[tuple[str, str]]:
    """The definitions a property's value may be, each with the path suffix to reach it."""
    if "$ref" in prop:
        return [(suffix, prop["$ref"].rsplit("/", 1)[-1])]
    found = []
    for option in prop.get("anyOf", []):
        found += _refs(option, suffix)
    if isinstance(prop.get("items"), dict):
        found += _refs(prop["items"], suffix + "[]")
    if isinstance(prop.get("additionalProperties"), dict):
        found += _refs(prop["additionalProperties"], suffix + ".<name>")
    return found


def _type(prop: Schema) -> str:
    """The value's type in words: ``number > 0, ≤ 86400``, ``list of string``, …"""
    if "$ref" in prop:
        return "mapping (below)"
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(dict.fromkeys(_type(option) for option in prop["anyOf"]))
    kind = prop.get("type", "any")
    if kind == "array":
        words = f"list of {_type(prop.get('items', {}))}"
        return words + (f", at least {prop['minItems']}" if "minItems" in prop else "")
    if kind == "object":
        names = prop.get("propertyNames", {}).get("enum")
        key = " or ".join(f"`{n}`" for n in names) if names else "name"
        return f"mapping of {key} → {_type(prop.get('additionalProperties', {}))}"
    bounds = [
        f"{sign} {prop[word]:g}"
        for word, sign in (
            ("exclusiveMinimum", ">"),
            ("minimum", "≥"),
            ("exclusiveMaximum", "<"),
            ("maximum", "≤"),
        )
        if word in prop
    ]
    if "minLength" in prop:
        bounds.append(f"at least {prop['minLength']} character(s)")
    if "pattern" in prop:
        bounds.append(f"matching `{prop['pattern']}`")
    return str(kind) + (f" ({', '.join(bounds)})" if bounds else "")


def _default(prop: Schema) -> str:
    """The schema's default; a list, mapping or section left out is empty or all defaults."""
    if "default" in prop:
        return f"`{json.dumps(prop['default'])}`"
    if "$ref" in prop:
        return "its defaults"
    return {"array": "`[]`", "object": "`{}`"}.get(str(prop.get("type", "")), "—")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
