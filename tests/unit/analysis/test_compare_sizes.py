"""Sizes in `harness compare` (and `harness diff`): a cell whose installs all passed keeps
the size it measured even when its test suite failed afterwards."""

from __future__ import annotations

from typing import Any

from harness.analysis.compare import compare_bases
from tests.unit.analysis.test_decision import MB, base, cell, install, results


def size_metric(first_status: str, steps: list[dict[str, object]]) -> tuple[Any, Any]:
    run = results(
        [base("a"), base("b")],
        [cell("a", "one", status=first_status, steps=steps), cell("b", "one")],
    )
    (row,) = compare_bases(run, "a", "b").rows
    (size,) = [m for m in row.metrics if m.name == "size added"]
    return size.a, size.b


def test_a_suite_that_failed_after_the_install_leaves_its_size() -> None:
    a, b = size_metric("failed", install(30.0))
    assert a is not None and a.values == (100.0 * MB,) and b is not None


def test_an_install_that_failed_has_no_size_to_compare() -> None:
    failed_install = [{**install(5.0)[0], "status": "failed"}]
    a, _b = size_metric("failed", failed_install)
    assert a is None
