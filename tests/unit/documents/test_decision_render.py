"""documents.decision: the decision section first in summary.md, `harness compare` and
report.html, with the rule echoed; every value escaped."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis.compare import compare_bases
from harness.analysis.decision import BASELINE, READY, decide
from harness.documents.compare import render_comparison_html, render_comparison_markdown
from harness.documents.decision import (
    CANNOT_TELL_TITLE,
    NO_DECISION,
    RULE_TITLE,
    decision_html,
    decision_markdown,
    render_decision_html,
    render_decision_markdown,
)
from harness.documents.report import render_report
from harness.documents.summary import markdown_summary
from harness.model.results import Results
from tests.unit.analysis.test_decision import MB, base, cell, results


def run() -> Results:
    return results(
        [base("a"), base("b", size_bytes=100 * MB, reference="python:<b>")],
        [cell("a", "one"), cell("b", "one"), cell("a", "two"), cell("b", "two")],
    )


def test_markdown_opens_on_the_outcome_then_the_verdicts_and_the_rule() -> None:
    lines = decision_markdown(decide(run()))
    assert lines[0] == "## Decision"
    assert lines[2].startswith('**Chosen option: "b", because')
    assert f"| `a` | {BASELINE} |" in lines
    assert f"| `b` | {READY} |" in lines
    text = "\n".join(lines)
    assert f"{RULE_TITLE}:" in text and "- prefer 2: size: a smaller image" in text
    assert "### a → b" in text and "| image size | one 300 MB; two 300 MB |" in text
    assert f"### {CANNOT_TELL_TITLE}" in text


def test_the_summary_and_the_comparison_start_with_it() -> None:
    results_b = run()
    summary = markdown_summary(results_b, None)
    assert summary.startswith("## Decision\n")
    assert summary.index("## Decision") < summary.index("## harness run")
    assert "<details><summary>Every driver, per candidate</summary>" in summary
    plain = results_b.to_dict()
    comparison = compare_bases(plain, "a", "b")
    verdict = decide(results_b, baseline="a", options=["b"])
    markdown = render_comparison_markdown(comparison, decision=verdict)
    assert markdown.splitlines()[2] == "## Decision"
    html = render_comparison_html(comparison, decision=verdict)
    assert html.index('<section id="decision">') < html.index("<h1")


def test_html_escapes_every_value_and_comes_first_in_the_report() -> None:
    fragment = str(decision_html(decide(run())))
    assert "python:&lt;b&gt;" in fragment and "python:<b>" not in fragment
    assert fragment.index("ready to switch") < fragment.index("The rule (matrix.yaml")
    assert "The rule (matrix.yaml <code>decision:</code>, defaults filled in)" in fragment
    page = render_report(run().to_dict())
    body = page[page.index("<body>") :]
    assert body.index('<section id="decision">') < body.index('class="grid"')


def test_a_candidate_with_nothing_measured_gets_its_verdict_and_no_table() -> None:
    reason = "no registry, no stand-in"
    found = decide(
        results(
            [base("a"), base("c", status="unavailable", reason=reason)],
            [cell("a", "one"), cell("c", "one", "unavailable", reason=reason)],
        )
    )
    text = "\n".join(decision_markdown(found))
    assert f"not decidable here: c was not measured ({reason})" in text
    assert "### a → c" not in text


def test_an_incomplete_results_file_says_so_instead_of_failing() -> None:
    partial: dict[str, Any] = {"schema_version": 1, "cells": []}
    assert NO_DECISION in render_decision_markdown(partial)
    assert NO_DECISION in str(render_decision_html(partial))


def test_a_command_the_sentences_quote_stays_code_and_the_rest_stays_inert() -> None:
    from harness.documents.markdown import md_escape_keeping_code

    line = "not scanned; `trivy sbom --cache-dir DB sbom/a_x_b.cdx.json` gives the *counts* `"
    text = md_escape_keeping_code(line)
    assert "`trivy sbom --cache-dir DB sbom/a_x_b.cdx.json`" in text
    assert text.startswith("not scanned; `") and "\\*counts\\* \\`" in text
    reason = {"scanned": False, "reason": "not scanned: no database", "command": "trivy sbom x"}
    summary = markdown_summary(
        results(
            [base("a"), base("b")],
            [cell("a", "one"), cell("b", "one")],
            scans={"a": reason, "b": reason},
        ),
        None,
    )
    assert "`trivy sbom x` gives the counts" in summary and "\\`trivy" not in summary


def test_one_results_object_is_decided_once_for_the_summary_and_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import harness.documents.decision as rendering

    calls: list[Results] = []

    def counted(results: Results) -> Any:
        calls.append(results)
        return decide(results)

    monkeypatch.setattr(rendering, "decide", counted)
    typed = run()
    first = render_decision_markdown(typed)
    html = render_decision_html(typed, typed.sboms)
    assert len(calls) == 1 and render_decision_markdown(typed) == first
    assert "decision" in html
    other = run()  # equal results, another object: decided again (never a stale answer)
    render_decision_markdown(other)
    assert len(calls) == 2 and calls[1] is other
