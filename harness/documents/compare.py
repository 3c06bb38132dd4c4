"""The side by side of two bases (``analysis.compare.Comparison``) as Markdown and HTML.

The HTML page is ``templates/compare.html.j2``, styled by the shared status stylesheet;
every number is spelled by ``model.format``.
"""

from __future__ import annotations

from harness.analysis.compare import (
    BaseInfo,
    Comparison,
    DepsetComparison,
    Metric,
    ScanPair,
    Side,
)
from harness.analysis.decision import Decision
from harness.analysis.suites import SuiteComparison
from harness.analysis.view import ONE_SAMPLE, Sample
from harness.analysis.vulns import NotScanned, scan_delta, scan_text
from harness.documents import html
from harness.documents.decision import decision_html, decision_markdown
from harness.documents.markdown import md_code, md_escape, md_escape_keeping_code, md_table
from harness.documents.speed import render_speed_markdown, speed_cell, spread_text
from harness.model import format as fmt
from harness.model.ids import cell_anchor
from harness.model.status import label as status_label
from harness.store.files import REPORT_HTML


def sample_text(sample: Sample | None, unit: str) -> str:
    """A median and, over repeats, ± half the range: ``"3.2 ± 0.40 s"``, ``"780 MB"``."""
    if sample is None:
        return fmt.NONE
    half = None if sample.spread is None else sample.half_spread
    if unit == "s":
        return fmt.seconds_spread(sample.median, half)
    return fmt.size_spread(sample.median, half)


def metric_delta_text(metric: Metric) -> str:
    """``"+3.2 ± 0.40 s (beyond noise)"``, ``"(too noisy to call: A: spread ...)"`` when
    a side's timing is too noisy; ``"not compared: the host was busy during the run
    (...)"`` when the call is withheld; "—" when one side has no value."""
    d = metric.delta
    if d is None:
        return fmt.NONE
    seconds = metric.unit == "s"
    if metric.withheld:
        return metric.withheld  # no call: no signed change to be read as one
    if not d.spread_known:
        change = fmt.signed_seconds(d.change) if seconds else fmt.signed_size(d.change)
        return f"{change} ({ONE_SAMPLE})"
    if seconds:
        text = fmt.signed_seconds_spread(d.change, d.uncertainty)
    else:
        text = fmt.signed_size_spread(d.change, d.uncertainty)
    noisy = metric.noisy_sides()
    if noisy:
        return text + f" (too noisy to call: {'; '.join(noisy)})"
    return text + (" (beyond noise)" if d.significant else " (within noise)")


def size_rows(row: DepsetComparison) -> list[tuple[str, str, str, str]]:
    """The distributions whose bytes differ most: name, A, B, B − A."""
    return [
        (c.name, fmt.size(c.a_bytes), fmt.size(c.b_bytes), fmt.signed_size(c.change))
        for c in row.largest_size_changes()
    ]


def _base_line(label: str, info: BaseInfo) -> str:
    parts = [f"**{label}: {md_escape(info.name)}** — {md_escape(info.reference or '?')}"]
    parts.append(f"({md_escape(info.origin)})")
    if info.image_id:
        parts.append(f"image {md_escape(info.image_id)}")
    if info.size_bytes:
        parts.append(f"({fmt.size(info.size_bytes)})")
    if info.status and info.status != "available":
        parts.append(f"— {md_escape(info.status)}: {md_escape(info.reason or '')}")
    return " ".join(parts)


def _cell_ref(side: Side, href: str) -> str:
    if side.cell_id is None:
        return "no cell"
    return f"[{status_label(str(side.status))}]({href}#{cell_anchor(side.cell_id)})"


def render_comparison_markdown(
    c: Comparison, *, report_href: str = REPORT_HTML, decision: Decision | None = None
) -> str:
    a, b = md_escape(c.base_a.name), md_escape(c.base_b.name)
    out = [
        f"# {a} vs {b} (run {md_escape(c.run_id)})",
        "",
        *(decision_markdown(decision) if decision is not None else []),  # the answer first
        f"- {_base_line('A', c.base_a)}",
        f"- {_base_line('B', c.base_b)}",
        "",
        "Timings: median over repeats ± half the range; deltas are B − A.",
        "",
        *_confounder_lines(c),
        *_vulnerability_lines("Vulnerabilities (the base images' SBOMs)", c.vulnerabilities, a, b),
        *md_table(
            ["depset", a, b, "verdict"],
            [
                [
                    md_escape(r.depset),
                    _cell_ref(r.a, report_href),
                    _cell_ref(r.b, report_href),
                    md_escape(r.verdict),
                ]
                for r in c.rows
            ],
        ),
        "",
    ]
    for row in c.rows:
        out += _depset_markdown(row, a, b)
    if c.speed.measured:
        out += ["## Interpreter speed (B against A)", "", *render_speed_markdown(c.speed), ""]
    return "\n".join(out)


def _confounder_lines(c: Comparison) -> list[str]:
    if not c.confounders:
        return []
    return (
        ["**What else differs (confounds the timings):**", ""]
        + [f"- {md_escape(text)}" for text in c.confounders]
        + [""]
    )


def _depset_markdown(row: DepsetComparison, a: str, b: str) -> list[str]:
    out = [f"## {md_escape(row.depset)}", "", f"**{md_escape(row.verdict)}**", ""]
    if row.metrics:
        rows = [
            [
                md_escape(m.name),
                sample_text(m.a, m.unit),
                sample_text(m.b, m.unit),
                metric_delta_text(m),
            ]
            for m in row.metrics
        ]
        out += [*md_table(["measure", a, b, "B − A"], rows), ""]
    if row.distributions:
        rows = [
            [md_escape(d.name), md_escape(d.a or "—"), md_escape(d.b or "—"), d.kind]
            for d in row.distributions
        ]
        out += [*md_table(["distribution", a, b, "differs in"], rows), ""]
    if row.same_distributions:
        out += [f"{row.same_distributions} other distribution(s) identical on both.", ""]
    out += _sizes_markdown(row, a, b)
    out += _vulnerability_lines(
        "Vulnerabilities (the cells' SBOMs: the base and what the cell added)",
        row.vulnerabilities,
        a,
        b,
    )
    if row.tests is not None:
        out += _tests_markdown(row.tests, a, b)
    return out


def scan_lines(pair: ScanPair, label_a: str, label_b: str) -> list[str]:
    """One line per side and the difference; a reason shared by both is said once."""
    a, b = pair.a, pair.b
    if isinstance(a, NotScanned) and isinstance(b, NotScanned) and a.reason == b.reason:
        return [f"{label_a} and {label_b}: {a.reason}"]
    sides = [f"{label_a}: {scan_text(a)}", f"{label_b}: {scan_text(b)}"]
    if isinstance(a, NotScanned) or isinstance(b, NotScanned):
        return sides  # nothing to subtract: each side says why
    return [*sides, f"B − A: {scan_delta(a, b)}"]


def _vulnerability_lines(title: str, pair: ScanPair | None, a: str, b: str) -> list[str]:
    if pair is None:
        return []
    return [
        f"**{title}:**",
        "",
        *(f"- {md_escape_keeping_code(line)}" for line in scan_lines(pair, a, b)),
        "",
    ]


def _sizes_markdown(row: DepsetComparison, a: str, b: str) -> list[str]:
    sentence = row.size_sentence()
    if sentence is None:
        return []
    out = [f"**Size:** {md_escape(sentence)} (bytes on disk, from the contents probe)", ""]
    rows = [[md_escape(name), *sizes] for name, *sizes in size_rows(row)]
    if rows:
        out += [*md_table(["distribution", a, b, "B − A"], rows), ""]
    return out


def _tests_markdown(tests: SuiteComparison, a: str, b: str) -> list[str]:
    out = ["**Test suite**", ""]
    for label, suite in ((a, tests.a), (b, tests.b)):
        out.append(f"- {label}: " + (md_escape(suite.summary) if suite else "did not run"))
    for label, names in suite_lines(tests, a, b):
        out.append(f"- {label}: " + ", ".join(md_code(n) for n in names))
    return [*out, ""]


def suite_lines(tests: SuiteComparison, a: str, b: str) -> list[tuple[str, tuple[str, ...]]]:
    """The named differences: failing on one base and passing on the other, first."""
    rows = [
        (f"failing on {a}, passing on {b}", tests.failing_only_on_a),
        (f"failing on {b}, passing on {a}", tests.failing_only_on_b),
        ("failing on both", tests.failing_on_both),
    ]
    return [(label, names) for label, names in rows if names]


def render_comparison_html(
    c: Comparison, *, report_href: str = REPORT_HTML, decision: Decision | None = None
) -> str:
    """Self-contained HTML (inline CSS, no scripts, no network); all text escaped. The
    decision section (A the baseline, B the candidate) opens the page."""
    page = html.page("compare.html.j2").render(
        c=c,
        href=report_href,
        anchor=cell_anchor,
        sample=sample_text,
        delta=metric_delta_text,
        size_rows=size_rows,
        scan_lines=scan_lines,
        suite_lines=suite_lines,
        spread=spread_text,
        speed_cell=speed_cell,
        bytes=fmt.size,
    )
    if decision is None:
        return page
    head, body, rest = page.partition("<body>")
    return head + body + str(decision_html(decision)) + rest
