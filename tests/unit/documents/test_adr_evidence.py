"""The ADR says exactly what was measured, and how to reproduce just that."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.documents.adr import render_adr
from harness.store.rundir import load_results

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1.json"


@pytest.fixture
def results() -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(load_results(FIXTURE))  # the JSON, edited
    data["bases"][0]["libc"] = {"family": "glibc", "version": "2.36", "loader": "/lib64/ld.so"}
    data["cells"] = [c for c in data["cells"] if c["depset"] != "torch"]  # a -k run
    return data


def test_only_depsets_with_cells_are_claimed(results: dict[str, Any]) -> None:
    text = render_adr(results, report_href="report.html", baseline="py311-slim")
    intro = next(line for line in text.splitlines() if "The harness measured" in line)
    assert "measured 2 dependency set(s) (`ffmpeg`, `spacy`)" in intro


def test_confirmation_reruns_the_compared_cells_only(results: dict[str, Any]) -> None:
    text = render_adr(
        results, report_href="report.html", baseline="py311-slim", candidates=["py313-slim"]
    )
    assert "harness run matrix.yaml -k '(py311-slim or py313-slim) and (ffmpeg or spacy)'" in text


def test_libc_reads_as_words(results: dict[str, Any]) -> None:
    text = render_adr(results, report_href="report.html", baseline="py311-slim")
    assert "glibc 2.36" in text and "/lib64/ld.so" not in text and "{'family'" not in text
