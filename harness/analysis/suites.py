"""The depset's own test suite, as every document shows it: the one reading of
``cells[].probes.tests`` (written by ``run.project``) and of two bases' suites side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.analysis.view import CellGroup
from harness.model import format as fmt
from harness.model.probe_output import TESTS_PROBE

PROBE = TESTS_PROBE
COUNT_KEYS = ("passed", "failed", "errors", "skipped")


@dataclass(frozen=True)
class FailingTest:
    name: str
    outcome: str  # failed | error
    message: str


@dataclass(frozen=True)
class SuiteResult:
    status: str  # passed | failed | error (the probe's own word)
    seconds: float | None
    command: str
    counts: Mapping[str, int] | None  # tests, passed, failed, errors, skipped; None: no JUnit
    failing: tuple[FailingTest, ...]
    problem: str | None  # why there are no counts, or why the command failed

    @property
    def summary(self) -> str:
        """``7 passed, 1 failed of 8 in 2.64 s`` (or the status when there is no JUnit)."""
        took = f" in {fmt.seconds(self.seconds)}" if self.seconds is not None else ""
        if self.counts is None:
            return f"{self.status}{took}"
        parts = [f"{self.counts.get(k, 0)} {k}" for k in COUNT_KEYS if self.counts.get(k)]
        return f"{', '.join(parts) or 'no tests'} of {self.counts.get('tests', 0)}{took}"

    @property
    def failing_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.failing)


def suite_result(record: Mapping[str, Any]) -> SuiteResult | None:
    """The suite of one cell record, or None when its depset runs no tests (or never got
    that far)."""
    probe = (record.get("probes") or {}).get(PROBE)
    if not isinstance(probe, Mapping):
        return None
    junit = probe.get("junit") if isinstance(probe.get("junit"), Mapping) else None
    counts = {k: _int(junit.get(k)) for k in ("tests", *COUNT_KEYS)} if junit else None
    failing = tuple(
        FailingTest(str(f.get("name")), str(f.get("outcome", "failed")), str(f.get("message", "")))
        for f in ((junit or {}).get("failing") or [])
        if isinstance(f, Mapping)
    )
    seconds = probe.get("seconds")
    return SuiteResult(
        status=str(probe.get("status")),
        seconds=float(seconds) if isinstance(seconds, int | float) else None,
        command=str(probe.get("command", "")),
        counts=counts,
        failing=failing,
        problem=_text(probe.get("error")) or _text(probe.get("junit_problem")),
    )


def group_suite(group: CellGroup | None) -> SuiteResult | None:
    """A cell's suite over its repeats: the representative record's (it explains the
    group's status), else the first repeat that ran the suite."""
    if group is None:
        return None
    found = suite_result(group.representative)
    if found is not None:
        return found
    return next((s for r in group.records if (s := suite_result(r)) is not None), None)


@dataclass(frozen=True)
class SuiteComparison:
    a: SuiteResult | None
    b: SuiteResult | None
    failing_only_on_a: tuple[str, ...]  # passing (or absent) on B
    failing_only_on_b: tuple[str, ...]
    failing_on_both: tuple[str, ...]


def compare_suites(a: SuiteResult | None, b: SuiteResult | None) -> SuiteComparison | None:
    if a is None and b is None:
        return None
    names_a = set(a.failing_names) if a else set()
    names_b = set(b.failing_names) if b else set()
    return SuiteComparison(
        a=a,
        b=b,
        failing_only_on_a=tuple(sorted(names_a - names_b)),
        failing_only_on_b=tuple(sorted(names_b - names_a)),
        failing_on_both=tuple(sorted(names_a & names_b)),
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: Any) -> str | None:
    return str(value) if value else None
