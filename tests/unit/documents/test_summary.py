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


def _tests_probe(passed: int, failed: int, errors: int, skipped: int) -> dict[str, Any]:
    total = passed + failed + errors + skipped
    counts = {"tests": total, "passed": passed, "failed": failed, "errors": errors}
    return {"status": "failed" if failed + errors else "passed", "seconds": 2.5,
            "junit": {**counts, "skipped": skipped}}  # fmt: skip


def _grid(text: str) -> list[str]:
    """The grid's header and rows (its rule line left out)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| base \\ depset"))
    end = lines.index("", start)
    return [line for line in lines[start:end] if not line.startswith("|-")]


def test_the_grid_has_a_tests_column_when_a_depset_runs_its_suite() -> None:
    """#25: the team's own suite in summary.md's grid, "passed/total" and the failing
    count named; a base whose cells ran no suite shows a dash."""
    results: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert "tests" not in _grid(markdown_summary(results, None))[0]  # no suite: no column
    cells = {c["id"]: c for c in results["cells"]}
    cells["py311-slim×spacy"]["probes"]["tests"] = _tests_probe(190, 0, 0, 4)
    cells["py313-slim×ffmpeg"]["probes"]["tests"] = _tests_probe(186, 3, 1, 4)
    header, *rows = _grid(markdown_summary(results, None))
    assert header.rstrip().endswith("| tests |")
    by_base = {row.split("|")[1].split()[0]: row.rstrip() for row in rows}
    assert by_base["py311-slim"].endswith("| 190/194, 4 skipped |")  # not 4 failures
    assert by_base["py313-slim"].endswith("| 186/194, 4 failing, 4 skipped |")
    assert by_base["py312-slim"].endswith("| — |")
    # Two suites of one base: each named by its depset.
    cells["py311-slim×ffmpeg"]["probes"]["tests"] = _tests_probe(5, 0, 0, 0)
    rows = _grid(markdown_summary(results, None))[1:]
    row = next(r for r in rows if r.startswith("| py311-slim"))
    assert row.rstrip().endswith("| ffmpeg: 5/5 · spacy: 190/194, 4 skipped |")
