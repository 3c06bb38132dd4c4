"""What changed between two runs (``analysis.diff.RunDiff``) as console text and as
Markdown (diff.md, the summary's highlights)."""

from __future__ import annotations

from harness.analysis.diff import CellChanges, RunDiff, SizeChange, StatusChange, TimingChange
from harness.documents.compare import sample_text
from harness.documents.markdown import md_escape, md_table, safe_url
from harness.model import format as fmt
from harness.model.ids import cell_anchor
from harness.model.status import GOOD
from harness.model.status import label as status_label


def _timing_text(t: TimingChange, said: str = "") -> str:
    """A timing change in words; ``said``: the reason for no call already said above."""
    d = t.delta
    if t.withheld:
        # No call: the medians as measured and why, no signed change to be read as one.
        medians = f"{sample_text(d.before, 's')} → {sample_text(d.after, 's')}"
        return medians if t.withheld == said else f"{medians} ({t.withheld})"
    pct = f", {fmt.signed_percent(d.percent)}" if d.percent is not None else ""
    noise = (
        f"noise threshold {fmt.seconds(d.threshold)}"
        if d.spread_known
        else f"spread unknown, default threshold {fmt.seconds(d.threshold)}"
    )
    noisy = f"; {t.noisy_note}" if t.noisy_note else ""
    return (
        f"{sample_text(d.before, 's')} → {sample_text(d.after, 's')} "
        f"({fmt.signed_seconds(d.change)}{pct}; {noise}{noisy})"
    )


def _size_text(s: SizeChange) -> str:
    d = s.delta
    pct = f", {fmt.signed_percent(d.percent)}" if d.percent is not None else ""
    text = (
        f"{fmt.size(d.before.median)} → {fmt.size(d.after.median)} "
        f"({fmt.signed_size(d.change)}, {fmt.signed_byte_count(d.change)}{pct})"
    )
    return f"{text}; {s.of_which}" if s.of_which else text


def _noise_note(diff: RunDiff) -> str:
    count = len(diff.within_noise)
    note = f"{count} timing difference(s) within noise, not listed."
    if diff.not_compared:
        note += (
            f" {len(diff.not_compared)} timing difference(s) beyond noise not compared: a "
            "busy host or engine, different concurrency or different hosts void the call."
        )
    if diff.spread_unknown:
        note += (
            " Some timings had no repeats, so their spread is unknown: a default "
            "threshold of max(0.5 s, 25 %) was used (run with repeat ≥ 2 for a real one)."
        )
    return note


def render_diff_text(diff: RunDiff) -> str:
    """Plain text for the console: one block per changed cell, then the inputs."""
    lines = [f"diff {diff.run_a} → {diff.run_b}"]
    lines += [f"  note: {c}" for c in diff.caveats]
    lines += [f"  note: {diff.timings_not_compared}"] if diff.timings_not_compared else []
    if diff.empty:
        lines.append("  no changes")
    for cell_id in diff.changed_cells():
        lines += _cell_text(diff.for_cell(cell_id), diff.timings_not_compared)
    lines += [f"  input   {text}" for text in _input_changes(diff)]
    reported = set(diff.changed_cells())
    for cell_id in dict.fromkeys(c.cell_id for c in diff.distribution_changes):
        if cell_id not in reported:
            lines += [f"  input   {cell_id}: {w}" for w in diff.why(cell_id)]
    lines += [f"  added   {cid}" for cid in diff.cells_added]
    lines += [f"  removed {cid}" for cid in diff.cells_removed]
    lines.append("  " + _noise_note(diff))
    return "\n".join(lines) + "\n"


def _cell_text(cell: CellChanges, said: str = "") -> list[str]:
    lines = [f"  {cell.cell_id}"]
    if cell.status is not None:
        s = cell.status
        lines.append(f"    status  {s.before} → {s.after}{_loud(s)}")
        lines += [f"            reason: {s.reason}"] if s.reason and s.after not in GOOD else []
    lines += [f"    {t.direction:<7} {t.step}: {_timing_text(t, said)}" for t in cell.timings]
    if cell.size is not None:
        lines.append(f"    {cell.size.direction:<7} bytes added: {_size_text(cell.size)}")
    lines += [f"    why:    {w}" for w in cell.why]
    return lines


def _input_changes(diff: RunDiff) -> list[str]:
    return [c.describe() for c in diff.base_changes] + [c.describe() for c in diff.depset_changes]


def _loud(change: StatusChange) -> str:
    if change.after != "unexpected-pass":
        return ""
    expected = change.expected_failure
    reason = (expected.reason if expected else None) or "no reason given"
    return f"  <-- UNEXPECTED PASS: was expected to fail ({reason}); update the matrix"


def _cell_link(cell_id: str, report_href: str | None) -> str:
    text = md_escape(cell_id)
    return f"[{text}]({report_href}#{cell_anchor(cell_id)})" if report_href else text


def _why_cell(diff: RunDiff, cell_id: str) -> str:
    return "; ".join(md_escape(w) for w in diff.why(cell_id)) or "—"


def render_diff_markdown(
    diff: RunDiff, *, report_href: str | None = None, heading: bool = True
) -> str:
    """Markdown for the report or a CI summary; cells link to ``report_href`` if given."""
    out = [f"## Changes since run {md_escape(diff.run_a)}", ""] if heading else []
    notes = [*diff.caveats, *([diff.timings_not_compared] if diff.timings_not_compared else [])]
    out += [f"> {md_escape(c)}" for c in notes] + ([""] if notes else [])
    if diff.empty:
        out += ["No changes.", ""]
    out += _md_unexpected_passes(diff, report_href)
    out += _md_status(diff, report_href)
    out += _md_timings(diff, report_href)
    out += _md_not_compared(diff, report_href)
    out += _md_sizes(diff, report_href)
    out += _md_inputs(diff)
    out += [_noise_note(diff), ""]
    return "\n".join(out)


def _md_unexpected_passes(diff: RunDiff, href: str | None) -> list[str]:
    passes = [s for s in diff.status_changes if s.after == "unexpected-pass"]
    if not passes:
        return []
    out = ["### 🎉 Unexpected passes: expected failures that now pass", ""]
    for s in passes:
        expected = s.expected_failure
        reason = md_escape((expected.reason if expected else None) or "no reason given")
        url = safe_url(expected.link if expected else None)
        link = f" ([known issue]({url}))" if url else ""
        out.append(
            f"- **{_cell_link(s.cell_id, href)}** was expected to fail ({reason}{link}) "
            f"and passed (it was {s.before}). Upstream may have fixed it: update the matrix."
        )
    return [*out, ""]


def _md_status(diff: RunDiff, href: str | None) -> list[str]:
    if not diff.status_changes:
        return []
    rows = [
        [
            _cell_link(s.cell_id, href),
            status_label(s.before),
            status_label(s.after),
            md_escape(s.reason) if s.reason and s.after not in GOOD else "—",
            _why_cell(diff, s.cell_id),
        ]
        for s in diff.status_changes
    ]
    header = ["cell", "before", "after", "reason", "what changed"]
    return [f"### Status changes ({len(rows)})", "", *md_table(header, rows), ""]


def _md_timings(diff: RunDiff, href: str | None) -> list[str]:
    if not diff.timing_changes:
        return []
    rows = [
        [
            _cell_link(t.cell_id, href),
            md_escape(t.step),
            t.direction,
            md_escape(_timing_text(t)),
            _why_cell(diff, t.cell_id),
        ]
        for t in diff.timing_changes
    ]
    header = ["cell", "step", "", "median ± half range, before → after", "what changed"]
    title = f"### Timings beyond noise ({len(rows)})"
    return [title, "", *md_table(header, rows), ""]


def _md_not_compared(diff: RunDiff, href: str | None) -> list[str]:
    if not diff.not_compared:
        return []
    rows = [
        [
            _cell_link(t.cell_id, href),
            md_escape(t.step),
            md_escape(f"{sample_text(t.delta.before, 's')} → {sample_text(t.delta.after, 's')}"),
            md_escape(t.withheld),
        ]
        for t in diff.not_compared
    ]
    header = ["cell", "step", "median ± half range, before → after", "why no call"]
    title = f"### Timings beyond noise, not compared ({len(rows)})"
    return [title, "", *md_table(header, rows), ""]


def _md_sizes(diff: RunDiff, href: str | None) -> list[str]:
    if not diff.size_changes:
        return []
    rows = [
        [_cell_link(s.cell_id, href), md_escape(_size_text(s)), _why_cell(diff, s.cell_id)]
        for s in diff.size_changes
    ]
    header = ["cell", "bytes added to the base", "what changed"]
    return [f"### Size changes ({len(rows)})", "", *md_table(header, rows), ""]


def _md_inputs(diff: RunDiff) -> list[str]:
    """Input changes grouped: one line per base/depset change, one per distribution
    change with the cells it appears in."""
    lines = [f"- {md_escape(text)}" for text in _input_changes(diff)]
    grouped: dict[str, list[str]] = {}
    for c in diff.distribution_changes:
        grouped.setdefault(f"{c.describe()} ({c.kind})", []).append(c.cell_id)
    lines += [f"- {md_escape(k)} in {', '.join(map(md_escape, v))}" for k, v in grouped.items()]
    lines += [
        f"- {md_escape(e.cell_id)}: {md_escape(e.describe())}" for e in diff.expectation_changes
    ]
    lines += [f"- cell added: {md_escape(c)}" for c in diff.cells_added]
    lines += [f"- cell removed: {md_escape(c)}" for c in diff.cells_removed]
    return ["### What changed in the inputs", "", *lines, ""] if lines else []
