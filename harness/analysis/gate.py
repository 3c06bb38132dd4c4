"""The one exit policy: which results and which regressions fail a run.

``harness run``'s exit code, the pytest plugin's session status and ``--fail-on``
validation all come from here, from the results and the one diff computed per run.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.analysis.diff import RunDiff
from harness.model import format as fmt
from harness.model.errors import ConfigurationError
from harness.model.results import AnyResults, as_results
from harness.model.status import FAILING

FAIL_ON_CHOICES = frozenset({"status", "slower", "size", "unexpected-pass", "none"})
DEFAULT_FAIL_ON = frozenset({"status"})


def parse_fail_on(text: str | Iterable[str]) -> frozenset[str]:
    """``"status,slower"`` (or an iterable of words) → {"status", "slower"}.

    Raises ConfigurationError (exit 2) on an unknown word, or "none" mixed with others:
    a typo must not silently turn a regression check off.
    """
    parts = text.split(",") if isinstance(text, str) else list(text)
    words = frozenset(w.strip() for w in parts if w.strip())
    unknown = words - FAIL_ON_CHOICES
    if unknown:
        raise ConfigurationError(
            f"--fail-on: unknown value(s) {', '.join(sorted(unknown))}",
            f"choose from {', '.join(sorted(FAIL_ON_CHOICES))}, comma-separated",
        )
    if "none" in words and len(words) > 1:
        raise ConfigurationError("--fail-on: 'none' cannot be combined with other values")
    return words


def regressions(diff: RunDiff, fail_on: set[str] | frozenset[str]) -> list[str]:
    """The regressions selected by fail_on, one message each. ``slower`` reads only the
    diff's called timings: one beyond noise but not compared (a busy host or engine,
    different jobs or hosts: ``RunDiff.not_compared``) is no regression."""
    found: list[str] = []
    if "status" in fail_on:
        found += [
            f"{s.cell_id}: {s.before} → {s.after} since run {diff.run_a}"
            for s in diff.status_changes
            if s.worse
        ]
    if "slower" in fail_on:
        found += [
            f"{t.cell_id}: {t.step} slower by {fmt.seconds(t.delta.change)} "
            f"(threshold {fmt.seconds(t.delta.threshold)}"
            + (f"; {t.noisy_note})" if t.noisy_note else ")")
            for t in diff.timing_changes
            if t.direction == "slower"
        ]
    if "size" in fail_on:
        found += [
            f"{s.cell_id}: {fmt.signed_size(s.delta.change)} added to the image"
            for s in diff.size_changes
            if s.direction == "larger"
        ]
    return found


def unexpected_results(
    results: AnyResults,
    fail_on: set[str] | frozenset[str] = DEFAULT_FAIL_ON,
) -> list[str]:
    """Cells whose result nobody expected; unexpected passes only when asked for."""
    red = FAILING | ({"unexpected-pass"} if "unexpected-pass" in fail_on else set())
    return [
        f"{g.id}: {g.status}" + (f" ({g.reason})" if g.reason else "")
        for g in as_results(results).cell_runs().values()
        if g.status in red
    ]


def exit_reasons(
    results: AnyResults,
    diff: RunDiff | None,
    fail_on: set[str] | frozenset[str],
) -> list[str]:
    """Why the run fails (empty: it does not). Validates fail_on."""
    results = as_results(results)  # a schema this code does not read is refused here
    fail_on = parse_fail_on(fail_on)
    reasons = unexpected_results(results, fail_on)
    if diff is not None:
        reasons += regressions(diff, fail_on)
    return reasons


def exit_code(
    results: AnyResults,
    diff: RunDiff | None,
    fail_on: set[str] | frozenset[str],
) -> int:
    """0 when every cell is as expected and no selected regression; else 1."""
    return 1 if exit_reasons(results, diff, fail_on) else 0
