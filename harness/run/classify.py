"""How a cell's outcome is classified: one rule, the same on every base (issue 25).

1. An install step that failed on what the depset declares this environment cannot
   provide (``environment_limits``: the rule's pattern is in the step's log, on a base its
   globs cover) makes the cell ``unavailable``: nothing was measured; the reason says why.
2. Otherwise a cell the matrix declares as an expected failure (``cells.expected_failures``)
   is ``expected-failure`` when it failed (failed, error, timeout, oom) and
   ``unexpected-pass`` when it passed.
3. Otherwise the status of its first step that did not pass.

Rule 1 comes first. The same missing wheel is classified alike on every base when the
matrix declares it once, for every base: the shipped matrices do (a test runs this rule
over their cells), so torch's missing ``+cpu`` wheel is one environment limit on glibc
and musl alike, never an expected failure on one and a limit on another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from harness.model.matrix import Cell, LimitRule
from harness.model.status import FAILING, Status


def environment_limit(rules: Iterable[LimitRule], base: str, log: str) -> str | None:
    """Rule 1: the reason of the first environment limit that applies, or None."""
    for rule in rules:
        if rule.applies_to(base) and re.search(rule.pattern, log):
            return rule.reason
    return None


def final_status(status: str, expected: bool) -> str:
    """Rule 2 and 3: the cell's status from its steps' status and its declaration."""
    if expected and status in FAILING:
        return Status.EXPECTED_FAILURE.value
    if expected and status == Status.PASSED:
        return Status.UNEXPECTED_PASS.value
    return status


def classify(cell: Cell, rules: Sequence[LimitRule], status: str, log: str) -> str:
    """The whole rule for one cell whose install ended with ``status`` and ``log``."""
    if status != Status.PASSED and environment_limit(rules, cell.base, log) is not None:
        return Status.UNAVAILABLE.value
    return final_status(status, cell.expected_failure is not None)
