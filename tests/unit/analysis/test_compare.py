"""harness.compare: side by side of two bases of one run (tests/fixtures/nightly)."""

from __future__ import annotations

import copy
import json
import statistics
from typing import Any

import pytest

from harness.analysis.compare import compare_bases
from harness.model import format as fmt
from harness.model.errors import ConfigurationError
from tests.unit.builders import FIXTURES


def verdicts(results: dict[str, Any], a: str, b: str) -> dict[str, str]:
    return {r.depset: r.verdict for r in compare_bases(results, a, b).rows}


def install_seconds(results: dict[str, Any], cell_id: str) -> list[float]:
    """Per repeat, the sum of the install steps: computed here from the raw fixture."""
    return [
        sum(s["seconds"] for s in c["steps"] if s["kind"] == "install")
        for c in results["cells"]
        if c["id"] == cell_id
    ]


def test_verdicts(run_b: dict[str, Any]) -> None:
    slim = verdicts(run_b, "py311-slim", "py313-slim")
    assert slim["spacy"] == (
        "breaks on py313-slim (failed: pip-install failed (exit 1): Failed building wheel for blis)"
    )
    assert slim["torch"].startswith("works on both; faster on py313-slim by ")
    reverse = verdicts(run_b, "py313-slim", "py311-slim")
    assert reverse["spacy"].startswith("works only on py311-slim; fails on py313-slim (failed:")
    musl = verdicts(run_b, "py313-slim", "alpine")
    assert musl["ffmpeg"] == "works on both"  # same install time within noise
    assert musl["spacy"].startswith("fails on both (py313-slim: failed: ")
    assert "alpine: expected failure: no musllinux wheels for blis/thinc" in musl["spacy"]
    assert musl["torch"].startswith("works on both; slower on alpine by ")
    assert verdicts(run_b, "py311-slim", "alpine")["spacy"] == (
        "breaks on alpine (expected failure: no musllinux wheels for blis/thinc; "
        "building them needs a compiler)"
    )
    unavailable = verdicts(run_b, "py311-slim", "custom")
    assert unavailable["torch"] == (
        "not comparable: custom unavailable (base unavailable: docker build failed: "
        "FROM python:3.12-slim cannot be pulled (no registry))"
    )


def test_slower_by_x_plus_minus_y(run_b: dict[str, Any]) -> None:
    """X = difference of the medians, Y = sum of the half ranges, from the raw values."""
    a = install_seconds(run_b, "py313-slim×torch")
    b = install_seconds(run_b, "alpine×torch")
    x = statistics.median(b) - statistics.median(a)
    y = (max(a) - min(a)) / 2 + (max(b) - min(b)) / 2
    verdict = verdicts(run_b, "py313-slim", "alpine")["torch"]
    assert verdict == f"works on both; slower on alpine by {fmt.seconds_spread(x, y)} (install)"
    row = next(r for r in compare_bases(run_b, "py313-slim", "alpine").rows if r.depset == "torch")
    install = next(m for m in row.metrics if m.name == "install")
    assert install.a is not None and install.a.values == tuple(a)
    assert install.delta is not None and install.delta.significant


def test_missing_cell_is_not_comparable(run_b: dict[str, Any]) -> None:
    results = copy.deepcopy(run_b)
    results["cells"] = [c for c in results["cells"] if c["id"] != "alpine×ffmpeg"]
    assert verdicts(results, "py311-slim", "alpine")["ffmpeg"] == (
        "not comparable: the run has no alpine×ffmpeg cell"
    )


def test_metrics_and_distributions(run_b: dict[str, Any]) -> None:
    comparison = compare_bases(run_b, "py311-slim", "alpine", ["torch"])
    [row] = comparison.rows
    assert [m.name for m in row.metrics] == [
        "install",
        "size added",
        "import time",
        "smoke smoke_torch",
    ]
    imports = next(m for m in row.metrics if m.name == "import time")
    assert imports.a is not None and imports.a.median == 1.9
    assert imports.b is not None and imports.b.median == 2.1
    differences = {(d.name, d.a, d.b, d.kind) for d in row.distributions}
    assert differences == {
        ("numpy", "2.3.1 wheel", "2.3.1 sdist", "wheel availability"),
        ("filelock", "3.20.0 wheel", "3.20.1 wheel", "version"),
    }
    assert row.same_distributions == 1  # torch: same version, wheels on both


def test_depset_selection_and_errors(run_b: dict[str, Any]) -> None:
    assert [r.depset for r in compare_bases(run_b, "py311-slim", "alpine", ["spacy"]).rows] == [
        "spacy"
    ]
    with pytest.raises(ConfigurationError, match="nope"):
        compare_bases(run_b, "py311-slim", "nope")
    with pytest.raises(ConfigurationError, match="whisper"):
        compare_bases(run_b, "py311-slim", "alpine", ["whisper"])


def test_report_fixture() -> None:
    """The report's own fixture (a single run, one base unavailable) compares too."""
    results = json.loads((FIXTURES / "results_v1.json").read_text(encoding="utf-8"))
    got = verdicts(results, "py311-slim", "py313-slim")
    assert got["ffmpeg"].startswith("works on both")
    assert got["spacy"].startswith("breaks on py313-slim")
    assert verdicts(results, "py311-slim", "py312-slim")["ffmpeg"].startswith(
        "not comparable: py312-slim unavailable"
    )


def test_a_dockerfile_built_on_a_standin_is_compared_as_on_a_standin() -> None:
    from tests.unit.analysis.test_decision import cell, dockerfile_bases, results

    run = results(
        [
            *dockerfile_bases(),
        ],
        [cell("team", "one"), cell("mine", "one")],
    )
    compared = compare_bases(run, "team", "mine")
    assert "FROM py311-slim (stand-in for x)" in str(compared.base_a.standin)
    assert compared.base_b.standin is None
