"""The statuses of a cell and of a step: the one definition every module reads.

A status word, its severity (which one a group of disagreeing repeats takes), whether
it fails a run, whether anything was measured, its emoji and its one-line meaning all
live here; documents import them and never keep lists of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    """A cell's or step's outcome. Members are listed worst first: that order is the
    severity a group of repeats takes when they disagree (a flaky cell is a failing one)."""

    ERROR = "error"
    OOM = "oom"
    TIMEOUT = "timeout"
    FAILED = "failed"
    UNEXPECTED_PASS = "unexpected-pass"
    EXPECTED_FAILURE = "expected-failure"
    UNSUPPORTED = "unsupported"
    UNAVAILABLE = "unavailable"
    PASSED = "passed"

    @property
    def emoji(self) -> str:
        return _EMOJI[self]

    @property
    def meaning(self) -> str:
        return _MEANING[self]

    @property
    def label(self) -> str:
        """``"❌ failed"``: the word with its emoji, for Markdown."""
        return f"{self.emoji} {self.value}"


# The order documents list statuses in (best first), e.g. the report's legend and counts.
DISPLAY_ORDER: tuple[Status, ...] = (
    Status.PASSED,
    Status.UNEXPECTED_PASS,
    Status.EXPECTED_FAILURE,
    Status.FAILED,
    Status.ERROR,
    Status.TIMEOUT,
    Status.OOM,
    Status.UNSUPPORTED,
    Status.UNAVAILABLE,
)
SEVERITY: tuple[Status, ...] = tuple(Status)  # worst first
# Something ran and came out as it should.
GOOD = frozenset({Status.PASSED, Status.UNEXPECTED_PASS})
# The results that make a run red: something broke that nobody said would.
FAILING = frozenset({Status.FAILED, Status.ERROR, Status.TIMEOUT, Status.OOM})
# Nothing was measured: the base or the packages could not be had, or the base cannot do
# what the depset asks. Never red, never compared.
NOT_RUN = frozenset({Status.UNAVAILABLE, Status.UNSUPPORTED})
WORDS: tuple[str, ...] = tuple(s.value for s in DISPLAY_ORDER)
# A base record's status once its image is here (else unavailable or failed, with a reason).
BASE_AVAILABLE = "available"
UNKNOWN_EMOJI = "❓"

_EMOJI = {
    Status.PASSED: "✅",
    Status.UNEXPECTED_PASS: "🎉",
    Status.EXPECTED_FAILURE: "☑️",
    Status.FAILED: "❌",
    Status.ERROR: "💥",
    Status.TIMEOUT: "⏱️",
    Status.OOM: "🧠",
    Status.UNSUPPORTED: "🚫",
    Status.UNAVAILABLE: "⚪",
}
_MEANING = {
    Status.PASSED: "installs and every probe passed",
    Status.FAILED: "an install, a smoke test or the team's test suite failed",
    Status.ERROR: "the harness or a probe misbehaved",
    Status.TIMEOUT: "a step ran past its time limit",
    Status.OOM: "killed by the out-of-memory killer at the cell's memory limit",
    Status.UNAVAILABLE: "limit of this environment: base or packages cannot be reached from here",
    Status.UNSUPPORTED: "the base cannot do what the depset asks",
    Status.EXPECTED_FAILURE: "failed, as matrix.yaml declares it should",
    Status.UNEXPECTED_PASS: "declared to fail but passed: upstream may have fixed it",
}


def parse(word: object) -> Status | None:
    """The Status a word names, or None for anything else (results are read, not trusted)."""
    try:
        return Status(str(word))
    except ValueError:
        return None


def worst(statuses: Iterable[object]) -> str:
    """The most severe status present; an unknown word (a newer harness's) ranks worst of
    all, so it is never hidden behind a pass. ``"unknown"`` when there are none."""
    words = {str(s) for s in statuses if s is not None}
    unknown = sorted(w for w in words if w not in _RANK)
    if unknown:
        return unknown[0]
    return min(words, key=_RANK.__getitem__, default="unknown")


_RANK = {s.value: rank for rank, s in enumerate(SEVERITY)}  # 0: the worst


def label(word: object) -> str:
    """A status word with its emoji, ``❓`` for a word this harness does not know."""
    status = parse(word)
    return status.label if status else f"{UNKNOWN_EMOJI} {word}"


def is_failing(word: object) -> bool:
    return parse(word) in FAILING
