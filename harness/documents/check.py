"""``harness check``'s comment: the verdict a reviewer reads in ten seconds.

Rendered from ``analysis.check.CheckReport`` alone. First one line per changed base
(``python:3.11-slim → python:3.13-slim: ready — 2 depsets pass, tests 194/194, image
−12 MB``, or ``…: blocked — <what>; fix: <fix>``), then per base the old-vs-new rows of
every depset, what changed inside the image and every blocker, then what was not run,
the links and the exit code. The one hidden marker ``COMMENT_MARKER`` comes last, so a
CI step finds the comment again and updates it.

Sizes: a pull-request comment stays under GitHub's 65,536-character limit
(``COMMENT_BYTES``, counted in UTF-8 bytes, which is stricter), the job summary under
its 1 MiB (``SUMMARY_BYTES``): the verdict lines are always kept; detail sections that
do not fit are left out, and the comment says how many and where they are.
"""

from __future__ import annotations

from harness.analysis.check import (
    BLOCKED,
    FAIL_ON,
    READY,
    BaseVerdict,
    Blocker,
    CheckReport,
    Side,
    tests_fraction,
)
from harness.analysis.decision import NOT_MEASURED
from harness.documents.markdown import md_code, md_escape, md_table, safe_url
from harness.model import format as fmt

COMMENT_MARKER = "<!-- harness-check -->"
COMMENT_BYTES = 60_000  # GitHub refuses a comment over 65,536 characters
SUMMARY_BYTES = 1_000_000  # GitHub's job summary limit is 1 MiB
LINE_CHARS = 600  # one verdict line at most (a long fix is cut)
BLOCKERS_LISTED = 10  # per base; the JSON has them all
MINUS = "−"
EMOJI = {READY: "✅", BLOCKED: "❌"}
UNMEASURED_EMOJI = "⚪"


def verdict_line(verdict: BaseVerdict) -> str:
    """The base's one line (plain text, no Markdown markup beyond escaping)."""
    title = verdict.pair.title
    if verdict.verdict == READY:
        passed = verdict.depsets_passed
        parts = [f"{passed} depset{'s pass' if passed != 1 else ' passes'}"]
        if verdict.has_tests:
            parts.append(
                "tests "
                + tests_fraction(verdict.tests_passed, verdict.tests_total, verdict.tests_skipped)
            )
        change = verdict.image_change_bytes
        if change is not None:
            parts.append(f"image {_signed_size(change)}")
        if passed < len(verdict.rows):
            parts[0] = f"{passed} of {len(verdict.rows)} depsets pass"
        line = f"{title}: {READY} — {', '.join(parts)}"
        if verdict.also_failing:
            line += f"; {_also_failing(verdict.also_failing[0])}"
    elif verdict.verdict == BLOCKED:
        first = next((b for b in verdict.blockers if b.regression), verdict.blockers[0])
        more = len(verdict.blockers) - 1
        tail = f" (and {more} more)" if more > 0 else ""
        line = f"{title}: {BLOCKED} — {first.depset}: {first.what}; fix: {first.fix}{tail}"
    else:
        line = f"{title}: {NOT_MEASURED} — {verdict.why}"
    line = " ".join(line.split())
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


def _also_failing(failure: Blocker) -> str:
    """A failure on the new base that does not block it, and why it does not."""
    why = (
        "its uv twin only: bases are decided under pip"
        if failure.regression
        else ("it fails on the old base too")
    )
    return f"also failing ({why}): {failure.depset}: {failure.what}"


def _signed_size(change: int) -> str:
    return fmt.signed_size(change).replace("-", MINUS, 1)


def _side_text(side: Side) -> str:
    if side.status is None:
        return "—"
    return md_escape(side.status)


def _pair(old: str | None, new: str | None) -> str:
    return f"{old or '—'} → {new or '—'}"


def _base_section(verdict: BaseVerdict) -> list[str]:
    pair = verdict.pair
    emoji = EMOJI.get(verdict.verdict, UNMEASURED_EMOJI)
    lines = [f"### {emoji} {md_escape(pair.title)}", ""]
    lines.append(
        f"{md_escape(verdict.verdict)}; written in {md_escape('; '.join(pair.places))}; "
        f"Python {md_escape(_pair(verdict.old_python, verdict.new_python))}"
    )
    lines.append("")
    if verdict.rows:
        rows = []
        for row in verdict.rows:
            rows.append(
                [
                    md_escape(row.depset) + (" ⚠️ regression" if row.regression else ""),
                    f"{_side_text(row.old)} → {_side_text(row.new)}",
                    _pair(row.old.tests, row.new.tests),
                    _pair(_seconds(row.old), _seconds(row.new)),
                    _pair(_size(row.old), _size(row.new)),
                ]
            )
        lines += md_table(["depset", "old → new", "tests", "install", "added on disk"], rows)
        lines.append("")
    fixed = [f"{md_escape(r.depset)}: {md_escape(name)}" for r in verdict.rows for name in r.fixed]
    if fixed:
        lines.append("Fixed by the new base (failing on the old one): " + ", ".join(fixed[:20]))
        lines.append("")
    if verdict.inside:
        lines.append("What changed inside the image:")
        lines += [f"- {md_escape(item)}" for item in verdict.inside]
        lines.append("")
    if verdict.blockers:
        lines.append("Blockers:")
        for blocker in verdict.blockers[:BLOCKERS_LISTED]:
            mark = " (regression: passed on the old base)" if blocker.regression else ""
            lines.append(
                f"- {md_escape(blocker.depset)}: {md_escape(blocker.what)}{mark}; "
                f"fix: {md_escape(blocker.fix)}"
            )
        left = len(verdict.blockers) - BLOCKERS_LISTED
        if left > 0:
            lines.append(f"- and {left} more (see the JSON or the run's report)")
        lines.append("")
    return lines + _beside(verdict)


def _beside(verdict: BaseVerdict) -> list[str]:
    """What is said beside the verdict: failures that do not block it, why a base is not
    measured, the decision's timing calls and what the run cannot tell."""
    lines: list[str] = []
    if verdict.also_failing:
        lines.append("Also failing on the new base, not blocking it:")
        for failure in verdict.also_failing[:BLOCKERS_LISTED]:
            lines.append(f"- {md_escape(_also_failing(failure))}; fix: {md_escape(failure.fix)}")
        lines.append("")
    if verdict.why and verdict.verdict != BLOCKED:
        lines += [f"{NOT_MEASURED.capitalize()}: {md_escape(verdict.why)}", ""]
    # The decision's timing calls and what the run cannot tell, beside the verdict.
    if verdict.timings:
        lines.append("Timings, old → new:")
        lines += [f"- {md_escape(t)}" for t in verdict.timings] + [""]
    if verdict.cannot_tell:
        lines.append("What this run cannot tell:")
        lines += [f"- {md_escape(c)}" for c in verdict.cannot_tell] + [""]
    return lines


def _seconds(side: Side) -> str | None:
    return fmt.seconds(side.install_seconds) if side.install_seconds is not None else None


def _size(side: Side) -> str | None:
    return fmt.size(side.size_added_bytes) if side.size_added_bytes is not None else None


def render_comment(report: CheckReport, fail_on: frozenset[str], limit: int = COMMENT_BYTES) -> str:
    """The comment's Markdown, at most ``limit`` UTF-8 bytes."""
    # Step 1: the verdict lines (always kept), one paragraph each.
    head = _head(report)
    # Step 2: the tail (always kept): what was not run, links, the exit code, the marker.
    tail = _tail(report, fail_on)
    # Step 3: the detail sections, as many whole ones as fit.
    used = _bytes(head) + _bytes(tail)
    body: list[str] = []
    left_out = 0
    for verdict in report.verdicts:
        section = _base_section(verdict)
        size = _bytes(section)
        if left_out or used + size > limit - 200:
            left_out += 1
            continue
        body += section
        used += size
    if left_out:
        where = f" in {md_code(report.run_dir)}" if report.run_dir else ""
        body += [
            f"{left_out} base section(s) left out to stay under the comment's size limit: "
            f"see the job summary, the JSON or the run's report{where}",
            "",
        ]
    text = "\n".join(head + body + tail)
    if len(text.encode()) > limit:  # verdict lines alone too long (hundreds of bases)
        text = text.encode()[: limit - len(COMMENT_MARKER) - 2].decode(errors="ignore")
        text = text + "\n" + COMMENT_MARKER + "\n"
    return text


def _head(report: CheckReport) -> list[str]:
    head: list[str] = []
    for verdict in report.verdicts:
        head += [md_escape(verdict_line(verdict)), ""]
    if not report.verdicts:
        span = f"{report.base.ref} and {report.head.ref}"
        if report.unresolved:
            head += [f"No base image could be compared between {md_escape(span)}: "
                     f"{len(report.unresolved)} reference(s) cannot be resolved", ""]  # fmt: skip
        else:
            head += [f"No base image to run changed between {md_escape(span)}", ""]
    return head


def _tail(report: CheckReport, fail_on: frozenset[str]) -> list[str]:
    tail: list[str] = []
    if report.unresolved:
        tail.append("Cannot resolve (named, not guessed):")
        tail += [f"- {md_escape(u)}" for u in report.unresolved]
        tail.append("")
    if report.not_run:
        tail.append("Not run:")
        tail += [f"- {md_escape(n.what)}: {md_escape(n.reason)}" for n in report.not_run]
        tail.append("")
    links = [_link(label, target) for label, target in report.links]
    if links:
        tail += ["Links: " + " · ".join(links), ""]
    failures = report.failures(fail_on)
    words = ",".join(sorted(fail_on))
    spans = (
        f"{md_code(report.base.commit[:12])} → {md_code(report.head.commit[:12])}"
        if report.base.commit and report.head.commit
        else ""
    )
    exit_text = (
        f"exit 1 with --fail-on {words} ({len(failures)} reason(s))"
        if failures
        else f"exit 0 with --fail-on {words}"
    )
    tail += [f"<sub>harness check {spans}; {md_escape(exit_text)}</sub>", "", COMMENT_MARKER, ""]
    return tail


def _link(label: str, target: str) -> str:
    url = safe_url(target)
    return f"[{md_escape(label)}]({url})" if url else f"{md_escape(label)}: {md_code(target)}"


def _bytes(lines: list[str]) -> int:
    return sum(len(line.encode()) + 1 for line in lines)


def fail_on_help() -> str:
    """--fail-on's help: every word and what it means."""
    return "; ".join(f"{word}: {meaning}" for word, meaning in FAIL_ON.items())


__all__ = [
    "COMMENT_BYTES",
    "COMMENT_MARKER",
    "SUMMARY_BYTES",
    "fail_on_help",
    "render_comment",
    "verdict_line",
]
