"""The JUnit XML a depset's test command writes: counts and failing names, or a problem."""

from __future__ import annotations

import pytest

from harness.model.junit_report import MAX_FAILING_NAMES, parse_junit

PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1"
 tests="5" time="0.3">
<testcase classname="tests.test_stock" name="test_add" time="0.001" />
<testcase classname="tests.test_stock" name="test_copy" time="0.001">
  <failure message="AttributeError: module 'copy' has no attribute 'replace'">trace</failure>
</testcase>
<testcase classname="tests.test_app" name="test_db" time="0.001">
  <error message="failed on setup with &quot;OSError&quot;">trace</error>
</testcase>
<testcase classname="tests.test_app" name="test_gpu" time="0.0">
  <skipped type="pytest.skip" message="no GPU" />
</testcase>
<testcase classname="tests.test_app" name="test_health" time="0.002" />
</testsuite></testsuites>
"""


def test_pytest_junit_counts_and_failing_names() -> None:
    summary, problem = parse_junit(PYTEST_XML)
    assert problem is None and summary is not None
    assert {k: summary[k] for k in ("tests", "passed", "failed", "errors", "skipped")} == {
        "tests": 5,
        "passed": 2,
        "failed": 1,
        "errors": 1,
        "skipped": 1,
    }
    assert summary["failing"] == [
        {
            "name": "tests.test_stock::test_copy",
            "outcome": "failed",
            "message": "AttributeError: module 'copy' has no attribute 'replace'",
        },
        {
            "name": "tests.test_app::test_db",
            "outcome": "error",
            "message": 'failed on setup with "OSError"',
        },
    ]


def test_a_single_testsuite_root_and_a_message_in_the_text() -> None:
    xml = (
        '<testsuite><testcase name="t1"><failure>assert 1 == 2\nmore</failure></testcase>'
        "</testsuite>"
    )
    summary, _ = parse_junit(xml)
    assert summary is not None
    assert summary["failing"] == [{"name": "t1", "outcome": "failed", "message": "assert 1 == 2"}]


def test_failing_names_are_bounded() -> None:
    cases = "".join(f'<testcase name="t{i}"><failure/></testcase>' for i in range(80))
    summary, _ = parse_junit(f"<testsuite>{cases}</testsuite>")
    assert summary is not None
    assert summary["failed"] == 80 and len(summary["failing"]) == MAX_FAILING_NAMES


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "wrote no JUnit XML"),
        ("<testsuite><testcase", "not valid XML"),
        ("<html><body/></html>", "root element <html>"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>', "document type"),
    ],
)
def test_what_is_not_a_junit_report_is_a_problem_string(text: str, words: str) -> None:
    summary, problem = parse_junit(text)
    assert summary is None and problem is not None and words in problem
