"""`harness report DIR` re-renders report.html and summary.md together."""

from __future__ import annotations

import json
from pathlib import Path

from harness.documents.publish import rerender_report
from harness.store.files import REPORT_HTML, RESULTS_JSON, SUMMARY_MD


def test_harness_report_rewrites_the_summary_too(tmp_path: Path) -> None:
    cell = {"id": "a×b", "base": "a", "depset": "b", "status": "passed", "repeat": 0}
    results = {"schema_version": 1, "run": {"id": "r1"}, "bases": [], "cells": [cell]}
    (tmp_path / RESULTS_JSON).write_text(json.dumps(results), encoding="utf-8")
    (tmp_path / SUMMARY_MD).write_text("stale\n", encoding="utf-8")
    rerender_report(tmp_path)
    assert (tmp_path / REPORT_HTML).exists()
    summary = (tmp_path / SUMMARY_MD).read_text(encoding="utf-8")
    assert summary.startswith("## Decision") and "| a | ✅ passed |" in summary


def test_the_console_names_at_most_forty_cells_not_passed() -> None:
    from harness.documents.publish import CONSOLE_CELLS, _console_summary
    from harness.model.results import Results

    cells = [
        {"id": f"a×d{i}", "base": "a", "depset": f"d{i}", "status": "failed", "repeat": 0}
        for i in range(CONSOLE_CELLS + 7)
    ]
    results = Results.from_dict({"schema_version": 1, "run": {"id": "r"}, "cells": cells})
    lines = list(_console_summary(results))
    assert len(lines) == 1 + CONSOLE_CELLS + 1
    assert lines[-1].endswith("… and 7 more not passed: see summary.md and report.html")
