"""An architecture decision record a team can merge, in the MADR 4 layout.

``render_adr`` states the decision the matrix's drivers give (analysis/decision.py): the
chosen option when they decide it (status ``proposed``: the team accepts it), otherwise
"no option meets the drivers" with the reason. Rules the text follows:

- **The answer first**: the decision section (outcome, one verdict per option) opens the
  record; the decision drivers are matrix.yaml's ``decision:`` block, in words.
- **Pros and cons come from the same rows** as every other document's decision section:
  a driver that holds or a candidate better than the baseline is "Good", one that fails
  or is worse "Bad", one that cannot be called (one sample, a busy host, not measured)
  "Neutral" with why. A pure-Python sdist is a fact of the libc row, never a con.
- **Linked, never inlined**: measurements link to the report (``report_href``), each
  cell's reproducer to its record under ``cells/`` beside the report, both relative, so
  the record works when copied into a repository's ``docs/adr/`` next to ``--report-url``.
  No absolute path of this machine appears (the matrix is named by its file name).
- **Short**: under 200 lines for the default matrix (5 bases × 5 depsets).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.analysis.decision import (
    BETTER,
    EQUAL,
    FAILS,
    HOLDS,
    INFO,
    NOT_MEASURED,
    UNKNOWN,
    WORSE,
    Candidate,
    Decision,
    Row,
    decide,
)
from harness.documents.decision import decision_markdown
from harness.documents.markdown import md_code, md_escape, md_escape_keeping_code, md_table
from harness.model.errors import ConfigurationError
from harness.model.ids import base_anchor, cell_anchor, cells_keyword
from harness.model.origin import on_standin, origin_brief
from harness.model.results import (
    AnyResults,
    BaseRecord,
    Results,
    as_results,
)
from harness.model.status import label as status_label
from harness.store.files import CELLS_DIR, RESULTS_JSON, result_file_name

DECISION_MAKERS = "_the team that owns the images_"
NO_CHOICE = "No option is chosen"
# How each outcome of a row reads as a MADR argument.
ARGUMENT = {
    HOLDS: "Good",
    BETTER: "Good",
    FAILS: "Bad",
    WORSE: "Bad",
    EQUAL: "Neutral",
    UNKNOWN: "Neutral",
    INFO: "Neutral",
}


def _options(results: Results, baseline: str | None, candidates: list[str] | None) -> list[str]:
    known = [b.name for b in results.bases] or list(dict.fromkeys(c.base for c in results.cells))
    for name in [baseline, *(candidates or [])]:
        if name is not None and name not in known:
            raise ConfigurationError(
                f"run {results.run.id}: no base {name!r}",
                f"--baseline/--candidate take the run's bases: {', '.join(known)}",
            )
    return list(candidates) if candidates else known


def render_adr(
    results: AnyResults,
    *,
    report_href: str,
    baseline: str | None = None,
    candidates: list[str] | None = None,
    date: str | None = None,
) -> str:
    """The ADR as Markdown. ``report_href``: the report as the record's links reach it
    (relative, or ``--report-url``). ``date`` defaults to the day the run started, so the
    same results always give the same document. ConfigurationError (exit 2) for a base the
    run does not have."""
    typed = as_results(results, RESULTS_JSON)
    options = _options(typed, baseline, candidates)
    decision = decide(typed, baseline=baseline, options=options)
    links = _Links(report_href)
    names = [decision.baseline, *(c.base for c in decision.candidates)]
    sections = [
        _front_matter(date or (typed.run.started_at or "")[:10]),
        [f"# Container base image for the Python workloads: {md_escape(', '.join(names))}", ""],
        decision_markdown(decision, tables=False, rule=False, cannot_tell=False),
        _context(typed, decision, links),
        ["## Decision Drivers", "", *(f"* {md_escape(x)}" for x in decision.rule.lines()), ""],
        _considered(typed, decision),
        _outcome(decision),
        _confirmation(typed, decision),
        _pros_cons(decision, links),
        _more_information(typed, decision, links),
    ]
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"


class _Links:
    """Relative links into the run folder, from where the report lies."""

    def __init__(self, report_href: str) -> None:
        self.report = report_href
        folder = report_href.rsplit("/", 1)[0] + "/" if "/" in report_href else ""
        self.folder = folder

    def base(self, name: str) -> str:
        return f"{self.report}#{base_anchor(name)}"

    def cell(self, cell_id: str) -> str:
        return f"{self.report}#{cell_anchor(cell_id)}"

    def record(self, cell_id: str, repeat: int) -> str:
        """The cell's record (its reproducer's Dockerfile and commands inside)."""
        return f"{self.folder}{CELLS_DIR}/{result_file_name(cell_id, repeat)}"


# -------------------------------------------------------------------------- MADR sections


def _front_matter(date: str) -> list[str]:
    return [
        "---",
        "status: proposed",
        f"date: {date}",
        f"decision-makers: {DECISION_MAKERS}",
        "---",
        "",
    ]


def _context(results: Results, decision: Decision, links: _Links) -> list[str]:
    run = results.run
    host = run.host.hostname if run.host and run.host.hostname else "?"
    depsets = ", ".join(map(md_code, decision.depsets))
    text = (
        "Which container base image should the Python workloads build on? "
        f"The harness measured {len(decision.depsets)} dependency set(s) ({depsets}) on "
        f"{1 + len(decision.candidates)} base(s) in run {md_code(run.id or '?')} "
        f"({md_escape(run.started_at or '?')} to {md_escape(run.ended_at or '?')}, "
        f"host {md_code(host)}): a throwaway container per base × dependency set, every "
        f"step timed and sized. Full results: [the report]({links.report})."
    )
    return ["## Context and Problem Statement", "", text, ""]


def _option_title(results: Results, decision: Decision, name: str) -> str:
    record = results.base(name)
    title = md_code(name)
    if record is not None and record.reference and record.reference != name:
        title += f": {md_escape(record.reference)}"
    brief = origin_brief(record) if record is not None else None
    if record is not None and on_standin(record):
        # A Dockerfile built FROM a stand-in keeps its own tag in front of the caveat.
        on = "" if record.standin or not brief else f"{md_escape(brief)}; "
        title += f" ({on}measured on a local stand-in)"
    elif brief:
        title += f" ({md_escape(brief)})"
    return title + (" — baseline" if name == decision.baseline else "")


def _considered(results: Results, decision: Decision) -> list[str]:
    names = [decision.baseline, *(c.base for c in decision.candidates)]
    return [
        "## Considered Options",
        "",
        *(f"* {_option_title(results, decision, n)}" for n in names),
        "",
    ]


def _outcome(decision: Decision) -> list[str]:
    lines = ["## Decision Outcome", ""]
    if decision.chosen is None:
        lines += [f"**{md_escape(decision.because)}**", ""]
        lines += [
            f"{NO_CHOICE}: relax a must-driver in matrix.yaml's `decision:` block, or fix "
            "what blocks an option and run the matrix again.",
            "",
        ]
        return lines
    lines += [f"{md_escape(decision.outcome_text)}", "", "### Consequences", ""]
    chosen = next((c for c in decision.candidates if c.base == decision.chosen), None)
    if chosen is None:  # the baseline: staying; what the others would have given
        lines.append("* Good, because nothing changes: every must-driver holds on the image in use")
        for other in decision.candidates:
            gains = [r for r in other.rows if r.outcome == BETTER]
            if gains:
                said = "; ".join(f"{r.label} {r.change}" for r in gains)
                lines.append(
                    f"* Bad, because {md_code(other.base)} would give {md_escape(said)}, "
                    f"but: {md_escape(other.text)}"
                )
    else:
        # The main reason first: what fails on the image in use and holds on the new one.
        for blocker in decision.baseline_blockers:
            lines.append(
                f"* Good, because {md_code(decision.baseline)} fails it and "
                f"{md_code(chosen.base)} does not: {md_escape(blocker.depset)}: "
                f"{md_escape(blocker.what)}"
            )
        lines += [_argument(r) for r in chosen.rows if r.outcome in (BETTER, WORSE)]
        lines.append("* Neutral, because the switch itself needs a rebuild and a rollout")
    return [*lines, ""]


def _argument(row: Row, link: str = "") -> str:
    """One MADR argument from a decision row."""
    word = ARGUMENT.get(row.outcome, "Neutral")
    change = "" if row.change in ("—", "", row.candidate) else f" ({md_escape(row.change)})"
    evidence = f" ([measurements]({link}))" if link else ""
    return f"* {word}, because {md_escape(row.label)}: {md_escape(row.candidate)}{change}{evidence}"


def _confirmation(results: Results, decision: Decision) -> list[str]:
    matrix = results.run.matrix
    path = PurePosixPath((matrix.path if matrix else None) or "matrix.yaml").name
    options = [decision.baseline, *(c.base for c in decision.candidates)]
    args = f" --baseline {decision.baseline}" + "".join(
        f" --candidate {c.base}" for c in decision.candidates
    )
    keyword = cells_keyword(options, list(decision.depsets))
    sha = (matrix.sha256 if matrix else None) or "unknown"
    return [
        "### Confirmation",
        "",
        f"Re-run the compared cells of the same matrix (sha256 {md_code(sha)}) and regenerate "
        "this record from the new run; the nightly `harness diff` shows whether it still holds:",
        "",
        "```sh",
        f"harness run {path} -k '{keyword}'",
        f"harness adr reports/<run-id>{args} --out <file>",
        "```",
        "",
    ]


def _pros_cons(decision: Decision, links: _Links) -> list[str]:
    lines = ["## Pros and Cons of the Options", ""]
    baseline_rows = decision.candidates[0].rows if decision.candidates else ()
    # A neutral fact that reads the same on every option ("not scanned", "no dependency
    # set runs the team's suite") is said once, here, not under each option.
    same = _same_everywhere(decision)
    if same:
        said = "; ".join(f"{md_escape(r.label)}: {md_escape(r.baseline)}" for r in same)
        lines += [f"On every option: {said}.", ""]
    shared = {r.driver for r in same}
    lines += [f"### {md_code(decision.baseline)} (baseline)", ""]
    lines += [
        _baseline_argument(decision, r, links.base(decision.baseline))
        for r in baseline_rows
        if r.baseline != NOT_MEASURED and r.driver not in shared
    ] or ["* Neutral, because nothing was measured"]
    lines.append("")
    for candidate in decision.candidates:
        lines += [f"### {md_code(candidate.base)}", "", f"{md_escape(candidate.text)}", ""]
        lines += [a for r, a in _candidate_arguments(candidate, links) if r not in shared]
        lines.append("")
    return lines


def _same_everywhere(decision: Decision) -> list[Row]:
    """The baseline's rows whose text is the same on every measured candidate and that
    make no call (no better/worse/holds/fails to argue)."""
    measured = [c for c in decision.candidates if c.measured]
    if not measured:
        return []
    found = []
    for row in measured[0].rows:
        others = [next((r for r in c.rows if r.driver == row.driver), None) for c in measured]
        if (
            all(
                o is not None
                and o.candidate == row.baseline
                and o.outcome not in (BETTER, WORSE, FAILS, HOLDS)
                for o in others
            )
            and row.baseline != NOT_MEASURED
        ):
            found.append(row)
    return found


def _baseline_argument(decision: Decision, row: Row, link: str) -> str:
    """The baseline's own facts: a must-driver holds on it or not; the rest are facts."""
    word = "Neutral"
    if row.must and row.outcome != INFO:
        failed = any(b.driver == row.driver for b in decision.baseline_blockers)
        word = "Bad" if failed else "Good"
    said = f"{md_escape(row.label)}: {md_escape(row.baseline)}"
    return f"* {word}, because {said} ([measurements]({link}))"


def _candidate_arguments(candidate: Candidate, links: _Links) -> list[tuple[str, str]]:
    """(driver, argument) per row worth saying for one option."""
    if not candidate.measured:
        return [("", "* Neutral, because it was not measured in this run (see its verdict)")]
    link = links.base(candidate.base)
    return [
        (r.driver, _argument(r, link))
        for r in candidate.rows
        if r.candidate != NOT_MEASURED or r.must
    ]


def _more_information(results: Results, decision: Decision, links: _Links) -> list[str]:
    lines = ["## More Information", ""]
    if decision.cannot_tell:
        lines += ["### What this run cannot tell you", ""]
        lines += [*(f"* {md_escape_keeping_code(x)}" for x in decision.cannot_tell), ""]
    lines += [
        "### Measurements and reproducers",
        "",
        f"Each cell links to its details in [the report]({links.report}) and to its record "
        f"(`{CELLS_DIR}/<cell>.r0.json`: the reproducer's Dockerfile and commands inside).",
        "",
        *_cells_table(results, decision, links),
        "",
        *_provenance(results, decision),
    ]
    return lines


def _cells_table(results: Results, decision: Decision, links: _Links) -> list[str]:
    options = [decision.baseline, *(c.base for c in decision.candidates)]
    runs = {(r.base, r.depset): r for r in results.cell_runs().values() if "+" not in r.id}
    rows = []
    for depset in decision.depsets:
        row = [md_code(depset)]
        for base in options:
            found = runs.get((base, depset))
            if found is None:
                row.append("—")
                continue
            first = found.records[0]
            row.append(
                f"[{status_label(found.status)}]({links.cell(found.id)}) · "
                f"[reproducer]({links.record(found.id, first.repeat)})"
            )
        rows.append(row)
    return md_table(["depset", *map(md_code, options)], rows)


def _provenance(results: Results, decision: Decision) -> list[str]:
    run = results.run
    matrix = run.matrix
    engine = run.engine
    facts = [
        f"run {md_code(run.id or '?')}, harness {md_escape(run.harness_version or '?')}, "
        f"{run.jobs or '?'} cell(s) at a time, repeat {run.repeat or 1}",
        f"matrix {md_code(PurePosixPath((matrix.path if matrix else None) or 'matrix.yaml').name)} "
        f"(sha256 {md_code((matrix.sha256 if matrix else None) or '?')})",
    ]
    if engine is not None:
        api, driver = engine.api_version or "?", engine.storage_driver or "?"
        facts.append(
            md_escape(
                f"Docker {engine.version or '?'} (API {api}, {driver}, "
                f"cgroup v{engine.cgroup_version or '?'})"
            )
        )
    names = [decision.baseline, *(c.base for c in decision.candidates)]
    facts += [_base_fact(results.base(n), n) for n in names]
    return ["### Provenance", "", *(f"* {f}" for f in facts), "", *_shards(results)]


def _shards(results: Results) -> list[str]:
    """A run merged from shards: where each part ran (cells on different hosts are not
    timed alike). store/shards.py writes ``run.shards``."""
    shards = results.run.shards or []
    if not shards:
        return []
    rows = []
    for merged in shards:
        host = merged.host.hostname if merged.host and merged.host.hostname else "did not report"
        rows.append([str(merged.index), md_escape(host), str(merged.cell_runs)])
    return [
        f"Merged from {len(shards)} shard(s):",
        "",
        *md_table(["shard", "host", "cell runs"], rows),
        "",
    ]


def _base_fact(record: BaseRecord | None, name: str) -> str:
    if record is None:
        return f"{md_code(name)}: no record"
    what = record.standin or origin_brief(record) or record.reference or "?"
    if record.status == "unavailable":
        what += f": unavailable ({record.reason or 'no reason recorded'})"
    image = f", image {md_code(record.image_id[:19])}" if record.image_id else ""
    return f"{md_code(name)}: {md_escape(what)}{image}"
