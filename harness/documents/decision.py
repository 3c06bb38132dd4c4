"""The decision section, first in every document: Markdown (summary.md, `harness compare`,
the ADR) and an HTML fragment (report.html). The words are analysis/decision.py's; this
module only lays them out: the outcome, one verdict per candidate, the rule that picked
them (matrix.yaml's ``decision:`` block), a table per candidate and what the run cannot
tell."""

from __future__ import annotations

from markupsafe import Markup, escape

from harness.analysis.decision import (
    BASELINE,
    BETTER,
    BLOCKED,
    EQUAL,
    FAILS,
    HOLDS,
    INFO,
    READY,
    UNKNOWN,
    WORSE,
    Candidate,
    Decision,
    decide,
)
from harness.documents.markdown import md_code, md_escape, md_escape_keeping_code, md_table
from harness.model.errors import ResultsError
from harness.model.results import AnyResults, Results, Sboms, as_results

TITLE = "Decision"
NO_DECISION = "no decision: this results file is incomplete"
RULE_TITLE = "The rule (matrix.yaml `decision:`, defaults filled in)"
CANNOT_TELL_TITLE = "What this run cannot tell you"
# A row's outcome as a reader scans it.
MARKS = {
    HOLDS: "✅ holds",
    FAILS: "❌ fails",
    BETTER: "⬆️ better",
    WORSE: "⬇️ worse",
    EQUAL: "＝ same",
    UNKNOWN: "❔ no call",
    INFO: "",
}


def _option(name: str, reference: str | None) -> str:
    return f"{name} ({reference})" if reference and reference != name else name


# -- Markdown ---------------------------------------------------------------------------------


def decision_markdown(
    decision: Decision,
    *,
    level: int = 2,
    tables: bool = True,
    fold: bool = False,
    rule: bool = True,
    cannot_tell: bool = True,
) -> list[str]:
    """The section as Markdown lines; ``level`` is its heading's depth. ``tables`` False
    leaves out the per-candidate tables; ``fold`` puts them in a <details> block (a CI
    summary stays short). ``rule`` and ``cannot_tell`` False leave those parts to the
    caller (the ADR says them as its drivers and in More Information)."""
    head = "#" * level
    lines = [f"{head} {TITLE}", "", f"**{md_escape(decision.outcome_text)}**", ""]
    verdicts = [[md_code(decision.baseline), md_escape(BASELINE)]]
    verdicts += [[md_code(c.base), md_escape(c.text)] for c in decision.candidates]
    lines += [*md_table(["option", "verdict"], verdicts), ""]
    if rule:
        lines += [f"{RULE_TITLE}:", "", *(f"- {md_escape(x)}" for x in decision.rule.lines()), ""]
    measured = [c for c in decision.candidates if c.measured]  # else the verdict says why
    if tables and measured:
        lines += ["<details><summary>Every driver, per candidate</summary>", ""] if fold else []
        for candidate in measured:
            lines += candidate_markdown(decision, candidate, level + 1)
        lines += ["</details>", ""] if fold else []
    if cannot_tell and decision.cannot_tell:
        lines += [f"{head}# {CANNOT_TELL_TITLE}", ""]
        lines += [*(f"- {md_escape_keeping_code(x)}" for x in decision.cannot_tell), ""]
    return lines


def candidate_markdown(decision: Decision, candidate: Candidate, level: int) -> list[str]:
    """One candidate's rows against the baseline."""
    rows = [
        [
            md_escape(row.label) + (" (must)" if row.must else ""),
            md_escape(row.baseline),
            md_escape(row.candidate),
            md_escape(row.change),
            MARKS.get(row.outcome, row.outcome),
        ]
        for row in candidate.rows
    ]
    header = ["driver", md_code(decision.baseline), md_code(candidate.base), "change", "call"]
    title = f"{'#' * level} {md_escape(decision.baseline)} → {md_escape(candidate.base)}"
    return [title, "", f"**{md_escape(candidate.text)}**", "", *md_table(header, rows), ""]


def _decided(results: AnyResults, sboms: Sboms | None = None) -> Decision | str:
    """The decision, or why a partial results file gives none (the rest still renders).
    ``sboms``: sbom/index.json when the caller reads the scans from it (the report)."""
    try:
        typed = as_results(results)
        if sboms is not None and sboms is not typed.sboms:
            typed = typed.model_copy(update={"sboms": sboms})
        if _LAST and _LAST[0][0] is typed:  # the same frozen results: summary.md, report.html
            return _LAST[0][1]
        found = decide(typed)
    except ResultsError as err:
        return f"{NO_DECISION}: {err.message}"
    _LAST[:] = [(typed, found)]  # held, so its identity is never another object's
    return found


# The last results decided and their decision: publishing asks twice (summary.md, then
# report.html) of one frozen Results, and a 10,000-cell run's decision takes seconds.
_LAST: list[tuple[Results, Decision]] = []


def render_decision_markdown(results: AnyResults, *, level: int = 2, fold: bool = False) -> str:
    """The whole section for a results file (summary.md and `harness compare` put it first)."""
    found = _decided(results)
    if isinstance(found, str):
        return f"{'#' * level} {TITLE}\n\n{md_escape(found)}\n"
    return "\n".join(decision_markdown(found, level=level, fold=fold))


# -- HTML -------------------------------------------------------------------------------------

_STYLE = (
    "<style>#decision{margin:0 auto 1.5em;padding:1em 2em;max-width:100em}"
    "#decision .chosen{font-size:1.15em}"
    "#decision table.verdicts td{padding:.2em .6em;vertical-align:top}"
    "#decision .ready{color:#1a7f37}#decision .blocked{color:#cf222e}"
    "#decision .undecided{color:#9a6700}#decision details{margin:.4em 0}"
    "#decision table.rows{border-collapse:collapse;font-size:.9em}"
    "#decision table.rows td,#decision table.rows th{border:1px solid #ddd;padding:.2em .4em;"
    "vertical-align:top;text-align:left}</style>"
)


def _verdict_class(candidate: Candidate) -> str:
    return {READY: "ready", BLOCKED: "blocked"}.get(candidate.verdict, "undecided")


def decision_html(decision: Decision) -> Markup:
    """The section as an HTML fragment (every value escaped): the outcome and each
    candidate's verdict first (visible without scrolling), then the rule, the rows a click
    away, and what the run cannot tell."""
    parts = [_STYLE, '<section id="decision">', f"<h2>{escape(TITLE)}</h2>"]
    parts.append(f'<p class="chosen"><b>{escape(decision.outcome_text)}</b></p>')
    parts.append('<table class="verdicts"><tbody>')
    parts.append(
        f"<tr><td><code>{escape(decision.baseline)}</code></td><td>{escape(BASELINE)}</td></tr>"
    )
    for c in decision.candidates:
        parts.append(
            f"<tr><td><code>{escape(_option(c.base, c.reference))}</code></td>"
            f'<td class="{_verdict_class(c)}">{escape(c.text)}</td></tr>'
        )
    parts.append("</tbody></table>")
    # str() first: Markup.replace would escape the <code> it is given
    title = str(escape(RULE_TITLE)).replace("`decision:`", "<code>decision:</code>")
    parts.append(f"<details open><summary>{title}</summary><ul>")
    parts += [f"<li>{escape(line)}</li>" for line in decision.rule.lines()]
    parts.append("</ul></details>")
    for c in (c for c in decision.candidates if c.measured):
        parts.append(
            f"<details><summary>{escape(decision.baseline)} → {escape(c.base)}: "
            f"every driver</summary>{_rows_html(decision, c)}</details>"
        )
    if decision.cannot_tell:
        parts.append(f"<h3>{escape(CANNOT_TELL_TITLE)}</h3><ul>")
        parts += [f"<li>{escape(line)}</li>" for line in decision.cannot_tell]
        parts.append("</ul>")
    parts.append("</section>")
    return Markup("".join(parts))  # every value above went through escape()


def _rows_html(decision: Decision, candidate: Candidate) -> str:
    head = (
        f"<tr><th>driver</th><th>{escape(decision.baseline)}</th>"
        f"<th>{escape(candidate.base)}</th><th>change</th><th>call</th></tr>"
    )
    rows = [
        f"<tr><td>{escape(r.label)}{' (must)' if r.must else ''}</td><td>{escape(r.baseline)}</td>"
        f"<td>{escape(r.candidate)}</td><td>{escape(r.change)}</td>"
        f"<td>{escape(MARKS.get(r.outcome, r.outcome))}</td></tr>"
        for r in candidate.rows
    ]
    return f'<table class="rows"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def render_decision_html(results: AnyResults, sboms: Sboms | None = None) -> Markup:
    found = _decided(results, sboms)
    if isinstance(found, str):
        return Markup('<section id="decision"><h2>{}</h2><p>{}</p></section>').format(TITLE, found)
    return decision_html(found)
