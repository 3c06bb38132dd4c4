"""The reader of the JUnit XML a depset's own test command writes inside the cell.

pytest (``--junitxml``), unittest-xml-reporting, nose2 and most CI tools write the same
shape: ``<testsuites>`` (optional) of ``<testsuite>`` of ``<testcase classname name>``,
a case carrying ``<failure>``, ``<error>`` or ``<skipped>`` when it did not pass.
The text is untrusted (it comes from the container): it is size-bounded before parsing,
a document type declaration is refused (no entity expansion), and a file that does not
parse is a problem string, never an exception.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import TypedDict

MAX_BYTES = 5_000_000
MAX_FAILING_NAMES = 50  # more than this and the report names the first ones only
MESSAGE_CHARS = 300


class FailingCase(TypedDict):
    name: str
    outcome: str  # failed | error
    message: str


class JUnitSummary(TypedDict):
    """The counts of a JUnit file and its first failing tests (model.results.JUnitSummary
    reads it back)."""

    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    failing: list[FailingCase]


def parse_junit(text: str) -> tuple[JUnitSummary | None, str | None]:
    """(counts and failing tests, None) or (None, why the text is not a JUnit report)."""
    if not text.strip():
        return None, "the test command wrote no JUnit XML"
    if len(text.encode()) > MAX_BYTES:
        return None, f"JUnit XML over {MAX_BYTES} bytes: not read"
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None, "JUnit XML with a document type declaration: not read"
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        return None, f"not valid XML: {err}"
    if root.tag not in ("testsuites", "testsuite"):
        return None, f"not a JUnit report (root element <{root.tag}>)"
    return _summary(root.iter("testcase")), None


def _summary(cases: Iterable[ET.Element]) -> JUnitSummary:
    counts = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failing: list[FailingCase] = []
    for case in cases:
        outcome, element = _outcome(case)
        counts["tests"] += 1
        counts[outcome] += 1
        if outcome in ("failed", "errors") and len(failing) < MAX_FAILING_NAMES:
            failing.append(
                {
                    "name": case_name(case.get("classname"), case.get("name")),
                    "outcome": "failed" if outcome == "failed" else "error",
                    "message": _message(element),
                }
            )
    return JUnitSummary(
        tests=counts["tests"],
        passed=counts["passed"],
        failed=counts["failed"],
        errors=counts["errors"],
        skipped=counts["skipped"],
        failing=failing,
    )


def _outcome(case: ET.Element) -> tuple[str, ET.Element | None]:
    for tag, outcome in (("failure", "failed"), ("error", "errors"), ("skipped", "skipped")):
        element = case.find(tag)
        if element is not None:
            return outcome, element
    return "passed", None


def case_name(classname: str | None, name: str | None) -> str:
    """``tests.test_stock::test_move`` (pytest's classname is the dotted module path)."""
    return "::".join(part for part in (classname, name) if part) or "(unnamed test)"


def _message(element: ET.Element | None) -> str:
    if element is None:
        return ""
    text = element.get("message") or (element.text or "").strip()
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:MESSAGE_CHARS]
