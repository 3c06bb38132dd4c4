"""The depset's own test suite, as every document shows it: the one reading of
``cells[].probes.tests`` (written by ``run.project``) and of two bases' suites side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from harness.analysis.view import CellGroup
from harness.model import format as fmt
from harness.model.probe_output import TESTS_PROBE
from harness.model.results import CellRecord

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
    def failing_count(self) -> int:
        """Tests that failed or errored (0 without a JUnit file)."""
        return self.counts["failed"] + self.counts["errors"] if self.counts else 0

    @property
    def tally(self) -> str:
        """``190/194`` (passed of total), then ``4 failing`` and ``41 skipped`` where any
        (so a passed suite's ``39/80`` is not read as 41 failures); the status when there
        are no counts."""
        if self.counts is None:
            return self.status
        skipped = self.counts.get("skipped", 0)
        extra = [f"{self.failing_count} failing"] if self.failing_count else []
        extra += [f"{skipped} skipped"] if skipped else []
        return ", ".join([f"{self.counts['passed']}/{self.counts['tests']}", *extra])

    @property
    def failing_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.failing)


def suite_result(record: CellRecord) -> SuiteResult | None:
    """The suite of one cell record, or None when its depset runs no tests (or never got
    that far)."""
    probe = record.probes.tests
    if probe is None:
        return None
    junit = probe.junit
    counts = {k: getattr(junit, k) for k in ("tests", *COUNT_KEYS)} if junit else None
    failing = tuple(
        FailingTest(str(f.name), f.outcome or "failed", f.message or "")
        for f in (junit.failing if junit else [])
    )
    return SuiteResult(
        status=str(probe.status),
        seconds=probe.seconds,
        command=probe.command or "",
        counts=counts,
        failing=failing,
        problem=probe.error or probe.junit_problem or None,
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
