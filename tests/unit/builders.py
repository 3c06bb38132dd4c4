"""Builders the unit tests share: results as run/cell.py writes them, for the analysis
tests and the document tests that render the same data (one definition each)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.model.errors import ConfigurationError
from harness.model.matrix import load_matrix
from harness.model.records import SCHEMA_VERSION

FIXTURES = Path(__file__).parents[1] / "fixtures"

# -- pip vs uv (analysis/installers, documents/installers) ------------------------------------

UV = {"name": "uv", "version": "0.13.9", "index_strategy": "unsafe-best-match"}


def installer_record(
    cell_id: str,
    step_seconds: float,
    *,
    repeat: int = 0,
    status: str = "passed",
    versions: dict[str, str] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One repeat of a cell (``py311×spacy`` for pip, ``py311×spacy+uv`` for uv)."""
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


def cells_results(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "run": {"id": "r"}, "cells": list(cells)}


# -- a base rebuilt upstream (analysis/diff, documents/diff) -----------------------------------

OLD_DIGEST, NEW_DIGEST = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def digest_run(run_id: str, digest: str, image_id: str, **base: Any) -> dict[str, Any]:
    """A run of one pulled base (py311-slim) with one passing cell."""
    record = {
        "name": "py311-slim",
        "reference": "python:3.11-slim",
        "kind": "image",
        "origin": "pulled",
        "status": "available",
        "digest": digest,
        "image_id": image_id,
        **base,
    }
    cell = {"id": "py311-slim×spacy", "base": "py311-slim", "depset": "spacy", "repeat": 0}
    cell.update(status="passed", steps=[], seconds=1.0)
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {"id": run_id},
        "bases": [record],
        "depsets": [],
        "cells": [cell],
    }


# -- pybench (analysis/speed, documents/speed) -------------------------------------------------


def pybench_output(scale: float = 1.0, **medians: tuple[float, float]) -> dict[str, Any]:
    """A pybench-shaped output: workload -> (median_s, rel_iqr)."""
    return {
        "status": "passed",
        "settings": {"scale": scale},
        "startup": {"bare": {"median_s": 0.02, "rel_spread": 0.1, "rel_iqr": 0.02}},
        "workloads": {
            name: {"median_s": median, "rel_spread": iqr * 3, "rel_iqr": iqr}
            for name, (median, iqr) in medians.items()
        },
    }


# -- the nightly fixtures (analysis/compare, documents/compare) --------------------------------


def load_nightly(name: str) -> dict[str, Any]:
    results: dict[str, Any] = json.loads(
        (FIXTURES / "nightly" / f"{name}.json").read_text(encoding="utf-8")
    )
    return results


# -- matrix files with mistakes (model/matrix tests) -------------------------------------------


def write_matrix(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


def matrix_problems(tmp_path: Path, text: str) -> list[ConfigurationError]:
    """Every problem of a matrix file that does not load (exit 2, one or many)."""
    with pytest.raises(ConfigurationError) as caught:
        load_matrix(write_matrix(tmp_path, text))
    assert caught.value.exit_code == 2
    return list(caught.value.problems) or [caught.value]  # type: ignore[arg-type]
