"""bench/summarize.py: the structural overhead is shown with and without the measuring."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _summarize() -> Any:
    spec = importlib.util.spec_from_file_location("bench_summarize", ROOT / "bench/summarize.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pass(kind: str, seconds: float, steps: list[list[Any]], measure: float | None) -> Any:
    cell: dict[str, Any] = {"seconds": seconds, "status": "passed", "steps": steps}
    if measure is not None:
        cell["measure_seconds"] = measure
    return {
        "kind": kind,
        "jobs": 1,
        "round": 1,
        "warm": False,
        "wall_seconds": seconds + 1.0,
        "startup_seconds": 0.5,
        "finish_seconds": 0.5,
        "cells": {"b×d": cell},
        "cell_order": ["b×d"],
    }


def test_measuring_is_counted_beside_the_structural_overhead_not_in_it() -> None:
    summarize = _summarize()
    work = [["venv", 3.0], ["pip-install", 5.0], ["probe:env", 1.0]]
    record = {
        "passes": [
            _pass("harness", 12.0, work, measure=1.0),  # non-work 3 s, of which 1 s measuring
            _pass("shell", 10.0, work, measure=None),  # non-work 1 s
        ]
    }
    o = summarize.overhead(record)
    assert o["all_cells_structural_ratio"] == (3.0 - 1.0) / 10.0
    assert o["all_cells_measure_seconds"] == 1.0
    assert o["all_cells_structural_excl_measure_ratio"] == (3.0 - 1.0 - 1.0) / 10.0


def test_records_made_before_measuring_was_recorded_count_none() -> None:
    summarize = _summarize()
    work = [["venv", 3.0]]
    record = {"passes": [_pass("harness", 5.0, work, None), _pass("shell", 4.0, work, None)]}
    o = summarize.overhead(record)
    assert o["all_cells_measure_seconds"] == 0.0
    assert o["all_cells_structural_excl_measure_ratio"] == o["all_cells_structural_ratio"]
