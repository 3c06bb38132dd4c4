"""The depset's own test suite as documents read it, and two bases' suites compared."""

from __future__ import annotations

from typing import Any

from harness.analysis.suites import compare_suites, suite_result
from harness.model.results import CellRecord


def cell(probes: dict[str, Any]) -> CellRecord:
    fields = {"id": "b×d", "base": "b", "depset": "d", "status": "failed"}
    return CellRecord.from_dict({**fields, "probes": probes})


def record(
    failing: list[str], passed: int, *, status: str = "failed", skipped: int = 0
) -> CellRecord:
    junit = {
        "tests": passed + len(failing) + skipped,
        "passed": passed,
        "failed": len(failing),
        "errors": 0,
        "skipped": skipped,
        "failing": [{"name": n, "outcome": "failed", "message": "boom"} for n in failing],
    }
    tests = {"status": status, "seconds": 2.5, "command": "pytest", "junit": junit}
    return cell({"tests": tests})


def test_a_suite_reads_counts_and_names() -> None:
    suite = suite_result(record(["t::a"], 7))
    assert suite is not None
    assert suite.summary == "7 passed, 1 failed of 8 in 2.5 s"
    assert suite.failing_names == ("t::a",)
    assert suite_result(cell({"env": {}})) is None


def test_the_tally_names_failing_and_skipped_tests() -> None:
    suite = suite_result(record(["t::a"], 7))
    assert suite is not None and suite.tally == "7/8, 1 failing"
    # markupsafe 3.0.4 on a slim base: 39 passed, 41 skipped, 0 failed; "39/80" alone
    # reads as 41 failures on a passed cell.
    suite = suite_result(record([], 39, status="passed", skipped=41))
    assert suite is not None and suite.tally == "39/80, 41 skipped"
    suite = suite_result(record(["t::a"], 7, skipped=2))
    assert suite is not None and suite.tally == "7/10, 1 failing, 2 skipped"


def test_a_suite_without_junit_says_its_status() -> None:
    suite = suite_result(
        cell(
            {
                "tests": {
                    "status": "failed",
                    "seconds": 1.0,
                    "error": "tests: command not found: tox",
                }
            }
        )
    )
    assert suite is not None and suite.counts is None
    assert suite.summary == "failed in 1.0 s" and suite.problem == "tests: command not found: tox"


def test_compare_names_tests_failing_on_one_side_only() -> None:
    a = suite_result(record(["t::copy_replace", "t::flaky"], 6))
    b = suite_result(record(["t::flaky", "t::new_on_b"], 6))
    compared = compare_suites(a, b)
    assert compared is not None
    assert compared.failing_only_on_a == ("t::copy_replace",)
    assert compared.failing_only_on_b == ("t::new_on_b",)
    assert compared.failing_on_both == ("t::flaky",)
    assert compare_suites(None, None) is None
