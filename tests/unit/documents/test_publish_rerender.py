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
