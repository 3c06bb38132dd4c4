"""One classification rule for a cell, the same on every base (issue 25)."""

from __future__ import annotations

import pytest

from harness.model.matrix import LimitRule, load_matrix
from harness.model.results import CellRecord, Distribution
from harness.run.classify import classify, environment_limit, final_status
from tests.conftest import ROOT

NO_CPU_TORCH = "ERROR: No matching distribution found for torch==2.13.0+cpu\n"


@pytest.mark.parametrize("matrix", ["matrix.yaml", "matrices/installers.yaml"])
def test_the_same_missing_wheel_is_classified_alike_on_every_base(matrix: str) -> None:
    """torch's missing +cpu wheel: one environment limit on every glibc base, one declared
    expected failure (no musllinux wheel on any index) on every musl base."""
    loaded = load_matrix(ROOT / matrix)
    torch_cells = [
        c for c in loaded.cells if "torch==2.13.0+cpu" in (loaded.spec.depsets[c.depset].pip or [])
    ]
    bases = {c.base for c in torch_cells}
    assert any(b.endswith("-alpine") for b in bases) and any(b.endswith("-slim") for b in bases)
    outcomes: dict[str, set[str]] = {"musl": set(), "glibc": set()}
    for c in torch_cells:
        rules = loaded.spec.depsets[c.depset].environment_limits
        libc = "musl" if c.base.endswith("-alpine") else "glibc"
        outcomes[libc].add(classify(c, rules, "failed", NO_CPU_TORCH))
    assert outcomes == {"musl": {"expected-failure"}, "glibc": {"unavailable"}}


def test_a_declared_expected_failure_comes_before_an_environment_limit() -> None:
    loaded = load_matrix(ROOT / "matrix.yaml")
    musl = next(c for c in loaded.cells if c.base.endswith("-alpine") and c.depset == "torch-cpu")
    rules = loaded.spec.depsets["torch-cpu"].environment_limits
    assert environment_limit(rules, musl.base, NO_CPU_TORCH) is not None  # it would match
    assert classify(musl, rules, "failed", NO_CPU_TORCH) == "expected-failure"


def test_an_environment_limit_applies_on_the_bases_its_globs_cover() -> None:
    rules = [LimitRule(pattern="No matching distribution", reason="not reachable here")]
    assert environment_limit(rules, "py315-alpine", NO_CPU_TORCH) == "not reachable here"
    assert environment_limit(rules, "py315-alpine", "Successfully installed") is None
    scoped = [LimitRule(pattern="No matching", reason="r", bases=["*-slim"])]
    assert environment_limit(scoped, "py315-alpine", NO_CPU_TORCH) is None
    assert final_status("failed", expected=True) == "expected-failure"
    assert final_status("timeout", expected=True) == "expected-failure"
    assert final_status("passed", expected=True) == "unexpected-pass"
    assert final_status("unavailable", expected=True) == "unavailable"
    assert final_status("failed", expected=False) == "failed"


def test_built_from_source_names_only_builds_that_succeeded() -> None:
    cell = CellRecord.from_dict(
        {
            "id": "a×b",
            "base": "a",
            "depset": "b",
            "status": "failed",
            "distributions": [
                {"name": "psycopg2", "version": "2.9.10", "wheel": False, "failed": "build"},
                {"name": "pyyaml", "version": "6.0.2", "wheel": False},
                {"name": "six", "version": "1.17.0", "wheel": True},
            ],
        }
    )
    assert cell.built_from_source == ["pyyaml"]
    assert cell.failed_builds == ["psycopg2"]
    assert not Distribution(name="psycopg2", wheel=False, failed="build").built_from_source
    assert Distribution(name="pyyaml", wheel=False).built_from_source
    assert not Distribution(name="six", wheel=True).built_from_source
