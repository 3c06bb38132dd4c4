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

from harness.analysis.suites import PROBE as TESTS_PROBE
from harness.analysis.suites import SuiteResult, suite_result
from harness.model.results import AnyResults, CellRecord, Step, as_results
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


def _message(status: str, cell: CellRecord, step: Step) -> str:
    reason = cell.reason or ""
    if status == "expected-failure":
        expected = (cell.expected_failure.reason if cell.expected_failure else None) or reason
        return f"expected failure: {expected}"
    if status in NOT_RUN:
        return str(reason or status)
    if status in FAILING:
        if reason:  # the harness's own one-line account of the failure
            return str(reason)
        suffix = f" (exit code {step.exit_code})" if step.exit_code is not None else ""
        return f"{step.name} {status}{suffix}"
    return ""


def _properties(cell: CellRecord, status: str) -> tuple[tuple[str, str], ...]:
    props = [("harness.status", status), ("harness.cell_status", cell.status)]
    expected = cell.expected_failure
    if expected:
        props += [("harness.expected_failure", expected.reason or "")]
        props += [("harness.expected_failure_link", expected.link or "")]
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


def _loud_note(cell: CellRecord) -> str:
    if cell.status != "unexpected-pass":
        return ""
    expected = cell.expected_failure
    reason = (expected.reason if expected else None) or "no reason given"
    link = (expected.link if expected else None) or "no link"
    return (
        "UNEXPECTED PASS: this cell was expected to fail "
        f"({reason}; {link}) "
        "and passed. Upstream may have fixed it: update the matrix.\n"
    )


def _detail(record: CellRecord, step: Step) -> str:
    detail = f"command: {step.command or ''}\nexit code: {step.exit_code}"
    # The first step that carries a diagnosis (view.failure_account's rule, typed).
    diagnosed = next((s for s in record.steps if s.failure is not None), None)
    if diagnosed is not None and diagnosed.failure is not None and diagnosed.name == step.name:
        detail += "\ncause:\n" + "\n".join(f"  {line}" for line in diagnosed.failure.cause or [])
        hint = diagnosed.failure.hint
        detail += f"\nfix: {hint}" if hint else ""
    return detail


def _cases(cell_id: str, records: list[CellRecord]) -> list[_Case]:
    cases = []
    for record in records:
        suffix = f" [repeat {record.repeat}]" if len(records) > 1 else ""
        steps = record.steps or [Step(name="cell", status=record.status)]
        for index, step in enumerate(steps):
            status = _effective_status(str(step.status), record.status)
            detail = _detail(record, step)
            properties = _properties(record, status)
            suite = suite_result(record) if step.name == f"probe:{TESTS_PROBE}" else None
            if suite is not None:
                properties += _suite_properties(suite)
                detail = _suite_detail(suite) + detail
            cases.append(
                _Case(
                    classname=cell_id,
                    name=f"{step.name}{suffix}",
                    status=status,
                    seconds=float(step.seconds or 0.0),
                    message=_message(status, record, step),
                    detail=detail,
                    # said once per record, on its first step, where a CI view starts
                    log_tail=(_loud_note(record) if index == 0 else "") + (step.log_tail or ""),
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


def build_junit(results: AnyResults) -> ET.ElementTree:
    typed = as_results(results)
    run = typed.run
    root = ET.Element("testsuites", name=xml_text(f"harness run {run.id or '?'}"))
    by_base: dict[str, list[_Case]] = {}
    for cell_id, runs in typed.cell_runs().items():
        by_base.setdefault(runs.base, []).extend(_cases(cell_id, list(runs.records)))
    hostname = xml_text((run.host.hostname if run.host else None) or "")
    for base, cases in by_base.items():
        suite = ET.SubElement(root, "testsuite", {"name": xml_text(base), **_count(cases)})
        suite.set("timestamp", xml_text(run.started_at or ""))
        suite.set("hostname", hostname)
        suite.extend(_case_element(c) for c in cases)
    root.attrib.update(_count([c for cases in by_base.values() for c in cases]))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: AnyResults, path: Path) -> None:
    """Write JUnit XML for ``results`` to ``path`` (parent directories created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_with(
        path,
        lambda temporary: build_junit(results).write(
            temporary, encoding="utf-8", xml_declaration=True
        ),
    )
