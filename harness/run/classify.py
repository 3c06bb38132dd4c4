"""How a cell's outcome is classified: one rule, the same on every base (issue 25).

1. A cell the matrix declares as an expected failure (``cells.expected_failures``) is
   ``expected-failure`` when it failed (failed, error, timeout, oom) and
   ``unexpected-pass`` when it passed: the declaration is the team's statement of a fact
   about that base (torch has no musllinux wheel on any index), more specific than a
   depset-wide limit, and a blocker the decision names.
2. Otherwise an install step that failed on what the depset declares this environment
   cannot provide (``environment_limits``: the rule's pattern is in the step's log, on a
   base its globs cover) makes the cell ``unavailable``: nothing was measured; the
   reason says why.
3. Otherwise the status of its first step that did not pass.

The shipped matrices declare torch's missing ``+cpu`` wheel once, as an environment
limit for every base, and the musl cells as expected failures (a test runs this rule
over their cells): every glibc cell is ``unavailable`` for the same reason and every
musl cell an expected failure for the same reason, never a mix within one libc.
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
    expected = cell.expected_failure is not None
    if not expected and status != Status.PASSED and environment_limit(rules, cell.base, log):
        return Status.UNAVAILABLE.value
    return final_status(status, expected)
