"""pip vs uv on one base × depset: install times under the noise rule, and what resolved
differently. Results are built here, field by field, as run/cell.py writes them."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from harness.analysis.installers import (
    fairness_note,
    installer_pairs,
)
from harness.documents.installers import render_installers_html, render_installers_markdown
from harness.model.records import SCHEMA_VERSION

UV = {"name": "uv", "version": "0.13.9", "index_strategy": "unsafe-best-match"}


def record(
    cell_id: str,
    step_seconds: float,
    *,
    repeat: int = 0,
    status: str = "passed",
    versions: dict[str, str] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    base, _, rest = cell_id.partition("×")
    depset, _, installer = rest.partition("+")
    installer = installer or "pip"
    steps = [
        {"name": "venv", "kind": "install", "status": "passed", "seconds": 3.0},
        {"name": f"{installer}-install", "kind": "install", "status": status,
         "seconds": step_seconds},
    ]  # fmt: skip
    dists = [
        {"name": name, "version": version, "wheel": True, "tag": "py3-none-any"}
        for name, version in (versions or {"spacy": "3.8.18", "numpy": "2.4.6"}).items()
    ]
    return {
        "id": cell_id,
        "base": base,
        "depset": depset,
        "repeat": repeat,
        "status": status,
        "reason": reason,
        "steps": steps,
        "distributions": dists if status == "passed" else [],
        "installer": UV if installer == "uv" else {"name": "pip", "version": "23.0.1"},
        "warm": False,
    }


def results(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "run": {"id": "r"}, "cells": list(cells)}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_rendered_sections_escape_and_link_both_cells() -> None:
    run = results(
        record("a×d", 4.0, versions={"x<y": "1"}),
        record("a×d+uv", 1.0, versions={"x<y": "2"}),
    )
    pairs = installer_pairs(run)
    markdown = "\n".join(render_installers_markdown(pairs, fairness_note(run)))
    assert "(report.html#cell-a_x_d)" in markdown and "(report.html#cell-a_x_d_with_uv)" in markdown
    assert "x\\<y" in markdown and "| 0.25× |" in markdown
    html = render_installers_html(pairs, fairness_note(run))
    assert "x&lt;y" in html and 'href="#cell-a_x_d_with_uv"' in html
    parser = _Text()
    parser.feed(html)
    assert "Installers: pip vs uv" in "".join(parser.text)
    assert render_installers_html([], []) == "" and render_installers_markdown([], []) == []
