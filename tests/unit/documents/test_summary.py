"""summary.md's grid with an installer axis: pip's cell, then its uv twin."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from harness.documents.summary import markdown_summary

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1.json"


def test_a_uv_twin_follows_its_pip_cell_in_the_grid() -> None:
    results: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    pip_cell = next(c for c in results["cells"] if c["status"] == "passed")
    twin = copy.deepcopy(pip_cell)
    twin["id"] = pip_cell["id"] + "+uv"
    twin["status"] = "failed"
    results["cells"].append(twin)
    text = markdown_summary(results, None, report_href="report.html")
    row = next(line for line in text.splitlines() if line.startswith(f"| {pip_cell['base']}"))
    uv_anchor = "report.html#cell-" + pip_cell["id"].replace("×", "_x_") + "_with_uv"
    assert f" · uv: [❌ failed]({uv_anchor})" in row
    assert f"**{pip_cell['id']}+uv**: failed" in text  # an unexpected result like any other
