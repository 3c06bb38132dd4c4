"""A short Markdown summary of a run for a CI job summary ($GITHUB_STEP_SUMMARY etc.).

Short on purpose: counts, a bases × depsets grid, the unexpected results, the
unexpected passes (loudly: good news), the timings too noisy to compare (only when
there are any) and the highlights of the diff against the previous run. The full
story is in report.html.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.analysis.diff import RunDiff
from harness.analysis.suites import group_suite
from harness.analysis.view import (
    CellGroup,
    NoisyTiming,
    base_names,
    bases_by_name,
    depset_names,
    failure_account,
    group_cells,
    installer_cells,
    installers_in,
    noise_text,
    noisy_rule_text,
    noisy_timings,
)
from harness.documents.diff import render_diff_markdown
from harness.documents.markdown import md_code, md_escape, md_table, safe_url
from harness.model import format as fmt
from harness.model.ids import DEFAULT_INSTALLER, cell_anchor
from harness.model.origin import origin_brief
from harness.model.results import LEAN_CELL, Results, as_results
from harness.model.status import FAILING, WORDS
from harness.model.status import label as status_label


def _counts_line(groups: list[CellGroup]) -> str:
    counts = {s: sum(g.status == s for g in groups) for s in WORDS}
    extra = sorted({g.status for g in groups} - set(WORDS))
    counts |= {s: sum(g.status == s for g in groups) for s in extra}
    parts = [f"{status_label(s)} {n}" for s, n in counts.items() if n]
    return f"**{len(groups)} cells:** " + " · ".join(parts) if parts else "**no cells**"


def _grid_entry(group: CellGroup | None, href: str | None) -> str:
    if group is None:
        return "—"
    text = status_label(group.status)
    if group.mixed:
        text += f" ({group.status_counts.get(group.status, 0)}/{len(group.records)})"
    elif len(group.records) > 1:
        text += f" ×{len(group.records)}"
    return f"[{text}]({href}#{cell_anchor(group.id)})" if href else text


def _grid_entries(
    by_installer: Mapping[str, Mapping[tuple[str, str], CellGroup]],
    base: str,
    depset: str,
    href: str | None,
) -> str:
    """pip's cell, then each other installer's twin as ``uv: ✅``."""
    entries = []
    for installer, cells in by_installer.items():
        group = cells.get((base, depset))
        if group is not None:
            prefix = "" if installer == DEFAULT_INSTALLER else f"{installer}: "
            entries.append(prefix + _grid_entry(group, href))
    return " · ".join(entries) or "—"


def _base_head(name: str, base: Mapping[str, Any] | None) -> str:
    """The base's name and where it came from (pulled + digest, stand-in, Dockerfile...)."""
    brief = origin_brief(base) if base else None
    return f"{md_escape(name)} ({md_escape(brief)})" if brief else md_escape(name)


def _grid(results: Mapping[str, Any], href: str | None) -> list[str]:
    by_installer = {name: installer_cells(results, name) for name in installers_in(results)}
    depsets = depset_names(results)
    bases = bases_by_name(results)
    rows = [
        [
            _base_head(base, bases.get(base)),
            *(_grid_entries(by_installer, base, d, href) for d in depsets),
        ]
        for base in base_names(results)
    ]
    return md_table(["base \\ depset", *map(md_escape, depsets)], rows)


def _unexpected(groups: list[CellGroup]) -> list[str]:
    bad = [g for g in groups if g.status in FAILING]
    if not bad:
        return []
    lines = [f"### Unexpected results ({len(bad)})", ""]
    for g in bad:
        reason = f" — {md_escape(g.reason)}" if g.reason else ""
        lines.append(f"- **{md_escape(g.id)}**: {g.status}{reason}")
        lines += _failure_lines(g)
    return [*lines, ""]


def _failure_lines(group: CellGroup) -> list[str]:
    """The cause lines of the failed build and what to add, under the cell's bullet."""
    account = next((a for r in group.records if (a := failure_account(r))), None)
    if account is None:
        return []
    lines = []
    if account.cause:
        lines += ["", "  ```text", *(f"  {line}" for line in account.cause), "  ```"]
    if account.hint:
        lines += ["", f"  fix: {md_escape(account.hint)}"]
    return lines


def _unexpected_passes(groups: list[CellGroup]) -> list[str]:
    passes = [g for g in groups if g.status == "unexpected-pass"]
    if not passes:
        return []
    lines = [f"### 🎉 Unexpected passes ({len(passes)}): expected failures that passed", ""]
    for g in passes:
        expected = g.expected_failure or {}
        reason = md_escape(expected.get("reason", "no reason given"))
        url = safe_url(expected.get("link"))
        link = f" ([known issue]({url}))" if url else ""
        lines.append(f"- **{md_escape(g.id)}** was expected to fail: {reason}{link}")
    return [*lines, "", "Upstream may have fixed these: update the matrix's expectations.", ""]


def _noisy_row(t: NoisyTiming) -> list[str]:
    low, high = min(t.sample.values), max(t.sample.values)
    return [
        md_escape(t.cell_id),
        md_escape(t.timing),
        fmt.seconds(t.sample.median),
        fmt.seconds_range(low, high),
        noise_text(t.sample),
    ]


def _noisy(groups: list[CellGroup]) -> list[str]:
    noisy = [t for g in groups for t in noisy_timings(g).values()]
    if not noisy:
        return []
    header = ["cell", "timing", "median", "range", "spread"]
    return [
        f"### Noisy timings ({len(noisy)})",
        "",
        f"Flagged when {md_escape(noisy_rule_text())}.",
        "",
        *md_table(header, [_noisy_row(t) for t in noisy]),
        "",
    ]


def _suites(groups: list[CellGroup]) -> list[str]:
    """The depsets' own test suites, one row per cell that ran one."""
    rows = []
    for group in groups:
        suite = group_suite(group)
        if suite is not None:
            failing = ", ".join(md_code(n) for n in suite.failing_names) or "—"
            rows.append(
                [md_escape(group.id), status_label(suite.status), md_escape(suite.summary), failing]
            )
    if not rows:
        return []
    header = ["cell", "suite", "result", "failing tests"]
    return [f"### Test suites ({len(rows)})", "", *md_table(header, rows), ""]


def _diff_highlights(diff: RunDiff, href: str | None) -> list[str]:
    slower = sum(t.direction == "slower" for t in diff.timing_changes)
    faster = len(diff.timing_changes) - slower
    head = (
        f"**Since run {md_escape(diff.run_a)}:** {len(diff.status_changes)} status change(s), "
        f"{slower} slower, {faster} faster, {len(diff.size_changes)} size change(s)."
    )
    body = render_diff_markdown(diff, report_href=href, heading=False)
    return [head, "", "<details><summary>Details</summary>", "", body, "</details>", ""]


def markdown_summary(
    results: Results | Mapping[str, Any],
    diff: RunDiff | None,
    *,
    report_href: str | None = None,
) -> str:
    typed = as_results(results)
    # analysis/view.py still reads plain JSON: its grid and groups come from the same file
    # (without the cells' bulk: 10,000 cells' log tails and package lists as dicts were
    # 350 MB, and nothing here reads them)
    plain = (
        typed.model_dump(
            mode="json",
            exclude_unset=True,
            by_alias=True,
            exclude={"cells": {"__all__": LEAN_CELL}},
        )
        if isinstance(results, Results)
        else results
    )
    run = typed.run
    groups = list(group_cells(plain).values())
    matrix = run.matrix
    sha = ((matrix.sha256 if matrix else None) or "")[:12]
    lines = [
        f"## harness run {md_escape(run.id or '?')}",
        "",
        f"matrix {md_escape((matrix.path if matrix else None) or '?')} "
        f"(sha256 {md_escape(sha)}…), {_or_unknown(run.jobs)} cell(s) at a time, "
        f"repeat {1 if run.repeat is None else run.repeat}",
        "",
        _counts_line(groups),
        "",
        *_grid(plain, report_href),
        "",
        *_unexpected_passes(groups),
        *_unexpected(groups),
        *_suites(groups),
        *_noisy(groups),
    ]
    lines += (
        _diff_highlights(diff, report_href)
        if diff is not None
        else ["No previous run to compare with.", ""]
    )
    return "\n".join(lines)


def _or_unknown(value: object) -> str:
    return "?" if value is None else str(value)
