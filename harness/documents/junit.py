"""JUnit XML for CI systems: one testsuite per base, one testcase per cell × step.

``classname`` is the cell id and ``name`` the step name (with `` [repeat k]`` when a
cell ran more than once), so a CI's test view reads "py311-slim×ffmpeg ›
pip-install". A cell with no steps (its base was unavailable) still gets one
testcase, named ``cell``, so that every cell shows up.

Status → element. The status of a step is read in the light of its cell's: a
failed step of an ``expected-failure`` cell is an expected failure, not a CI failure.

| status            | element                                           |
|-------------------|---------------------------------------------------|
| passed            | (none)                                            |
| unexpected-pass   | (none); a property and system-out say it loudly  |
| failed            | ``<failure>``                                     |
| error, timeout    | ``<error>``                                       |
| unavailable, unsupported | ``<skipped message=reason>``               |
| expected-failure  | ``<skipped message="expected failure: reason">``  |

Everything from containers goes through ElementTree (which escapes ``<&"``) after the
characters XML 1.0 cannot carry at all (NUL, most C0 controls, lone surrogates) are
removed: a single ``\\x1b`` in a log tail would otherwise make the file unparseable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.analysis.suites import PROBE as TESTS_PROBE
from harness.analysis.suites import SuiteResult, suite_result
from harness.analysis.view import CellGroup, failure_account, group_cells
from harness.model.records import check_schema
from harness.model.status import FAILING, NOT_RUN, Status, parse
from harness.store.rundir import write_atomic_with

# Terminal colour codes in log tails: noise in a CI's test view, and ESC itself is illegal.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# JUnit's <error> is for a test that could not run properly; the rest of FAILING (failed,
# oom) is a <failure>. A status this harness does not know is an error, never a silent pass.
_ERRORS = frozenset({Status.ERROR, Status.TIMEOUT})


def xml_text(value: object) -> str:
    """Text XML 1.0 can hold."""
    text = "" if value is None else str(value)
    return _XML_ILLEGAL.sub("", _ANSI_ESCAPE.sub("", text))


@dataclass(frozen=True)
class _Case:
    classname: str
    name: str
    status: str
    seconds: float
    message: str
    detail: str  # body of the failure/error element
    log_tail: str
    properties: tuple[tuple[str, str], ...]


def _effective_status(step_status: str, cell_status: str) -> str:
    if step_status in FAILING and cell_status == "expected-failure":
        return "expected-failure"
    if step_status not in {"passed", "unexpected-pass"} and cell_status in NOT_RUN:
        return cell_status
    return step_status


def _message(status: str, cell: Mapping[str, Any], step: Mapping[str, Any]) -> str:
    reason = cell.get("reason") or ""
    if status == "expected-failure":
        expected = (cell.get("expected_failure") or {}).get("reason") or reason
        return f"expected failure: {expected}"
    if status in NOT_RUN:
        return str(reason or status)
    if status in FAILING:
        if reason:  # the harness's own one-line account of the failure
            return str(reason)
        exit_code = step.get("exit_code")
        suffix = f" (exit code {exit_code})" if exit_code is not None else ""
        return f"{step.get('name', 'cell')} {status}{suffix}"
    return ""


def _properties(cell: Mapping[str, Any], status: str) -> tuple[tuple[str, str], ...]:
    props = [("harness.status", status), ("harness.cell_status", str(cell.get("status")))]
    expected = cell.get("expected_failure") or {}
    if expected:
        props += [("harness.expected_failure", str(expected.get("reason", "")))]
        props += [("harness.expected_failure_link", str(expected.get("link", "")))]
    return tuple(props)


def _suite_properties(suite: SuiteResult) -> tuple[tuple[str, str], ...]:
    """The inner counts of the depset's own suite, for a CI that reads properties."""
    counts = dict(suite.counts or {})
    props = [(f"harness.tests.{k}", str(v)) for k, v in counts.items()]
    props += [("harness.tests.failing", name) for name in suite.failing_names]
    return tuple(props)


def _suite_detail(suite: SuiteResult) -> str:
    """The failure text names the failing tests first: what a CI's test view shows."""
    lines = [f"test suite: {suite.summary}"]
    lines += [f"  {f.outcome}: {f.name}: {f.message}" for f in suite.failing]
    if suite.problem and not suite.failing:
        lines.append(f"  {suite.problem}")
    return "\n".join(lines) + "\n"


def _loud_note(cell: Mapping[str, Any]) -> str:
    if cell.get("status") != "unexpected-pass":
        return ""
    expected = cell.get("expected_failure") or {}
    return (
        "UNEXPECTED PASS: this cell was expected to fail "
        f"({expected.get('reason', 'no reason given')}; {expected.get('link', 'no link')}) "
        "and passed. Upstream may have fixed it: update the matrix.\n"
    )


def _detail(record: Mapping[str, Any], step: Mapping[str, Any]) -> str:
    detail = f"command: {step.get('command', '')}\nexit code: {step.get('exit_code')}"
    account = failure_account(record)
    if account is not None and account.step == step.get("name"):
        detail += "\ncause:\n" + "\n".join(f"  {line}" for line in account.cause)
        detail += f"\nfix: {account.hint}" if account.hint else ""
    return detail


def _cases(group: CellGroup) -> list[_Case]:
    cases = []
    for record in group.records:
        suffix = f" [repeat {record.get('repeat', 0)}]" if len(group.records) > 1 else ""
        steps = record.get("steps") or [{"name": "cell", "status": record.get("status")}]
        for index, step in enumerate(steps):
            status = _effective_status(str(step.get("status")), str(record.get("status")))
            detail = _detail(record, step)
            properties = _properties(record, status)
            suite = suite_result(record) if step.get("name") == f"probe:{TESTS_PROBE}" else None
            if suite is not None:
                properties += _suite_properties(suite)
                detail = _suite_detail(suite) + detail
            cases.append(
                _Case(
                    classname=group.id,
                    name=f"{step.get('name')}{suffix}",
                    status=status,
                    seconds=float(step.get("seconds") or 0.0),
                    message=_message(status, record, step),
                    detail=detail,
                    # said once per record, on its first step, where a CI view starts
                    log_tail=(_loud_note(record) if index == 0 else "")
                    + str(step.get("log_tail") or ""),
                    properties=properties,
                )
            )
    return cases


def _case_element(case: _Case) -> ET.Element:
    element = ET.Element(
        "testcase",
        classname=xml_text(case.classname),
        name=xml_text(case.name),
        time=f"{case.seconds:.3f}",
    )
    props = ET.SubElement(element, "properties")
    for key, value in case.properties:
        ET.SubElement(props, "property", name=xml_text(key), value=xml_text(value))
    if case.status in FAILING and case.status not in _ERRORS:
        failure = ET.SubElement(
            element, "failure", message=xml_text(case.message), type=case.status
        )
        failure.text = xml_text(case.detail)
    elif case.status in _ERRORS or parse(case.status) is None:
        error = ET.SubElement(element, "error", message=xml_text(case.message), type=case.status)
        error.text = xml_text(case.detail)
    elif case.status in NOT_RUN or case.status == "expected-failure":
        ET.SubElement(element, "skipped", message=xml_text(case.message))
    if case.log_tail:
        ET.SubElement(element, "system-out").text = xml_text(case.log_tail)
    return element


def _count(cases: list[_Case]) -> Mapping[str, str]:
    skipped = sum(c.status in NOT_RUN or c.status == "expected-failure" for c in cases)
    errors = sum(c.status in _ERRORS or parse(c.status) is None for c in cases)
    return {
        "tests": str(len(cases)),
        "failures": str(sum(c.status in FAILING and c.status not in _ERRORS for c in cases)),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": f"{sum(c.seconds for c in cases):.3f}",
    }


def build_junit(results: Mapping[str, Any]) -> ET.ElementTree:
    check_schema(results)
    run = results.get("run") or {}
    root = ET.Element("testsuites", name=xml_text(f"harness run {run.get('id', '?')}"))
    by_base: dict[str, list[_Case]] = {}
    for group in group_cells(results).values():
        by_base.setdefault(group.base, []).extend(_cases(group))
    hostname = xml_text((run.get("host") or {}).get("hostname", ""))
    for base, cases in by_base.items():
        suite = ET.SubElement(root, "testsuite", {"name": xml_text(base), **_count(cases)})
        suite.set("timestamp", xml_text(run.get("started_at", "")))
        suite.set("hostname", hostname)
        suite.extend(_case_element(c) for c in cases)
    root.attrib.update(_count([c for cases in by_base.values() for c in cases]))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: Mapping[str, Any], path: Path) -> None:
    """Write JUnit XML for ``results`` to ``path`` (parent directories created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_with(
        path,
        lambda temporary: build_junit(results).write(
            temporary, encoding="utf-8", xml_declaration=True
        ),
    )
