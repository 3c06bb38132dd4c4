"""A comparison names what confounds it: busy host, concurrency, pip, venv seeding."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.compare import compare_bases
from harness.store.rundir import load_results

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1.json"


@pytest.fixture
def results() -> dict[str, Any]:
    return copy.deepcopy(load_results(FIXTURE))


def test_a_distribution_seeded_in_the_other_venv_is_not_only_on_one_side(
    results: dict[str, Any],
) -> None:
    a = next(c for c in results["cells"] if c["id"] == "py311-slim×ffmpeg")
    b = next(c for c in results["cells"] if c["id"] == "py313-slim×ffmpeg")
    a["distributions"] = [{"name": "six", "version": "1.17.0", "wheel": True}]
    b["distributions"] = [
        {"name": "six", "version": "1.17.0", "wheel": True},
        {"name": "setuptools", "version": "80.0", "wheel": True},
    ]
    a["probes"]["contents"] = {"distributions": [{"name": "setuptools"}, {"name": "six"}]}
    comparison = compare_bases(results, "py311-slim", "py313-slim", ["ffmpeg"])
    kinds = {d.name: d.kind for d in comparison.rows[0].distributions}
    assert kinds["setuptools"] == "seeded in A's venv (pip did not install it)"


def test_interpreter_timings_from_different_moments_are_named(results: dict[str, Any]) -> None:
    speeds = {
        "py311-slim": {"at": "2026-12-01T09:40:00Z", "host_load1_max": 13.0, "host_cpus": 2},
        "py313-slim": {"at": "2026-12-01T10:35:00Z", "host_load1_max": 3.0, "host_cpus": 2},
    }
    for base in results["bases"]:
        if base["name"] in speeds:
            base["interpreter_speed"] = {"status": "passed", "measured": speeds[base["name"]]}
    words = " ".join(compare_bases(results, "py311-slim", "py313-slim").confounders)
    assert "interpreter timings measured at different moments" in words
    assert "load 13.0" in words and "load 3.0" in words
