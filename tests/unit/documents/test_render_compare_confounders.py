"""A comparison names what confounds it: busy host, concurrency, pip, venv seeding."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.compare import compare_bases
from harness.documents.compare import render_comparison_markdown
from harness.store.rundir import load_results

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1.json"


@pytest.fixture
def results() -> dict[str, Any]:
    return copy.deepcopy(load_results(FIXTURE))


def test_busy_host_concurrency_and_pip_versions_are_named(results: dict[str, Any]) -> None:
    results["run"]["warnings"] = ["busy host: the load average reached 5.0 on 2 cores"]
    for cell in results["cells"]:
        if cell["base"] == "py313-slim":
            cell["probes"].setdefault("env", {})["pip"] = {"version": "25.1.1"}
    comparison = compare_bases(results, "py311-slim", "py313-slim")
    words = " ".join(comparison.confounders)
    assert "busy host" in words
    assert "2 at a time" in words
    assert "pip 23.0.1" in words and "pip 25.1.1" in words
    assert "What else differs" in render_comparison_markdown(comparison)
