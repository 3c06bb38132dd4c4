"""Evidence for an architecture decision record, in the MADR layout.

``render_adr`` writes the parts of an ADR that a run can support (context,
decision drivers, options, the pros and cons the measurements show, how to
re-run, provenance) and leaves the decision to the people who own it: the
"Decision Outcome" holds a placeholder, never a chosen option.

Rules the text follows:
- every number is read from results.json, formatted as the other documents do
  (seconds to two decimals, median ± half range over repeats, bytes exactly and
  in MB) and links to its cell in the report and to the cell's reproducer;
- a pro or con relative to the baseline is only stated when the difference passes
  the nightly diff's noise rule; otherwise it is "the same within noise";
- nothing that was not measured is claimed: an unavailable base gives "not
  measured", not a con.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.analysis.speed import speed_table
from harness.analysis.view import (
    NON_SMOKE_PROBES,
    SIZE_NOISE,
    TIME_NOISE,
    CellGroup,
    NoiseRule,
    Sample,
    bases_by_name,
    cell_hosts,
    compare_samples,
    depsets_by_name,
    hosts_note,
    installer_cells,
    libc_text,
    measured_depset_names,
    requirement_name,
    too_noisy,
)
from harness.analysis.vulns import (
    SEVERITIES,
    NotScanned,
    VulnCounts,
    base_scan,
    counts_text,
    scan_delta,
    scan_text,
)
from harness.documents.compare import sample_text
from harness.documents.markdown import md_code, md_escape, md_table, safe_url
from harness.documents.speed import render_speed_markdown
from harness.model import format as fmt
from harness.model.errors import ConfigurationError
from harness.model.ids import base_anchor, cell_anchor, cells_keyword
from harness.model.origin import origin_tag, origin_text
from harness.model.records import check_schema
from harness.model.results import Distribution
from harness.model.status import FAILING, GOOD, NOT_RUN
from harness.model.status import label as status_label

PLACEHOLDER = "_To be decided by the team._"


@dataclass(frozen=True)
class _Context:
    """What every section needs: the run, the options and where links point."""

    results: Mapping[str, Any]
    options: tuple[str, ...]
    baseline: str | None
    depsets: tuple[str, ...]
    cells: Mapping[tuple[str, str], CellGroup]
    href: str

    def cell(self, base: str, depset: str) -> CellGroup | None:
        return self.cells.get((base, depset))

    def link(self, text: str, group: CellGroup) -> str:
        """A number linked to its cell in the report."""
        return f"[{text}]({self.href}#{cell_anchor(group.id)})"

    def repro(self, group: CellGroup) -> str:
        return f"[reproducer](#repro-{cell_anchor(group.id)})"

    def evidence(self, text: str, group: CellGroup) -> str:
        return f"{self.link(text, group)}, {self.repro(group)}"


def _options(
    results: Mapping[str, Any], baseline: str | None, candidates: list[str] | None
) -> tuple[str, ...]:
    known = list(bases_by_name(results)) or sorted({c["base"] for c in results["cells"]})
    for name in [baseline, *(candidates or [])]:
        if name is not None and name not in known:
            raise ConfigurationError(
                f"run {(results.get('run') or {}).get('id')}: no base {name!r}",
                f"--baseline/--candidate take the run's bases: {', '.join(known)}",
            )
    if candidates:
        chosen = [baseline, *candidates] if baseline else list(candidates)
    else:
        chosen = [baseline, *(b for b in known if b != baseline)] if baseline else known
    return tuple(dict.fromkeys(n for n in chosen if n is not None))


def render_adr(
    results: dict[str, Any],
    *,
    report_href: str,
    baseline: str | None = None,
    candidates: list[str] | None = None,
    date: str | None = None,
) -> str:
    """The ADR as Markdown. ``date`` defaults to the day the run started, so the same
    results always give the same document. Raises ConfigurationError (exit 2) for an
    unknown base."""
    check_schema(results)
    ctx = _Context(
        results=results,
        options=_options(results, baseline, candidates),
        baseline=baseline,
        depsets=tuple(measured_depset_names(results)),
        cells=installer_cells(results),  # bases compared under pip (uv: harness compare)
        href=report_href,
    )
    run = results.get("run") or {}
    sections = [
        _front_matter(date or str(run.get("started_at", ""))[:10]),
        _title(ctx),
        _context_section(ctx),
        _drivers(),
        _considered(ctx),
        _outcome(),
        _confirmation(ctx),
        _pros_cons(ctx),
        _more_information(ctx),
    ]
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"


# ------------------------------------------------------------------ MADR sections


def _front_matter(date: str) -> list[str]:
    return [
        "---",
        "status: proposed",
        f"date: {date}",
        f"decision-makers: {PLACEHOLDER}",
        "---",
        "",
    ]


def _title(ctx: _Context) -> list[str]:
    names = ", ".join(ctx.options)
    return [f"# Container base image for the Python workloads: {md_escape(names)}", ""]


def _context_section(ctx: _Context) -> list[str]:
    run = ctx.results.get("run") or {}
    host = run.get("host") or {}
    text = (
        "Which container base image should the Python workloads build on? "
        f"The harness measured {len(ctx.depsets)} dependency set(s) "
        f"({', '.join(map(md_code, ctx.depsets))}) on {len(ctx.options)} base(s) "
        f"in run {md_code(run.get('id', '?'))} "
        f"({md_escape(run.get('started_at', '?'))} to {md_escape(run.get('ended_at', '?'))}, "
        f"host {md_code(host.get('hostname', '?'))}). "
        f"Full results: [the report]({ctx.href}). This record states what was measured; "
        "the decision is the team's."
    )
    lines = ["## Context and Problem Statement", "", text, ""]
    if ctx.baseline:
        others = ", ".join(md_code(o) for o in ctx.options if o != ctx.baseline)
        lines += [f"{md_code(ctx.baseline)} is the baseline; candidates: {others}.", ""]
    if any(_base(ctx, o).get("standin") for o in ctx.options):
        lines += [
            "Some bases were measured on local stand-ins, not the official images "
            "(see Provenance): their results describe the stand-in.",
            "",
        ]
    return lines


def _drivers() -> list[str]:
    """The dimensions the harness measured; the team weighs them."""
    drivers = [
        "every dependency set installs and passes its smoke tests on the base",
        "known incompatibilities (expected failures declared in the matrix)",
        "install time of each dependency set",
        "image size: the base image plus the bytes each dependency set adds",
        "import time of the installed packages",
        "distributions built from source (sdists) instead of installed from wheels",
    ]
    return ["## Decision Drivers", "", *(f"* {d}" for d in drivers), ""]


def _option_title(ctx: _Context, name: str) -> str:
    base = _base(ctx, name)
    title = f"{md_code(name)}: {md_escape(base.get('reference') or name)}"
    if base.get("standin"):
        title += " (measured on a local stand-in)"
    elif origin_tag(base):
        title += f" ({origin_tag(base)})"
    if name == ctx.baseline:
        title += " — baseline"
    return title


def _considered(ctx: _Context) -> list[str]:
    lines = ["## Considered Options", ""]
    lines += [f"* {_option_title(ctx, name)}" for name in ctx.options]
    return [*lines, ""]


def _outcome() -> list[str]:
    return [
        "## Decision Outcome",
        "",
        f'Chosen option: "{PLACEHOLDER}", because {PLACEHOLDER}',
        "",
        "### Consequences",
        "",
        f"* Good, because {PLACEHOLDER}",
        f"* Bad, because {PLACEHOLDER}",
        "",
    ]


def _confirmation(ctx: _Context) -> list[str]:
    run = ctx.results.get("run") or {}
    matrix = run.get("matrix") or {}
    path = str(matrix.get("path") or "matrix.yaml")
    args = f" --baseline {ctx.baseline}" if ctx.baseline else ""
    args += "".join(f" --candidate {o}" for o in ctx.options if o != ctx.baseline)
    keyword = cells_keyword(ctx.options, ctx.depsets)
    return [
        "### Confirmation",
        "",
        f"Re-run the compared cells of the same matrix "
        f"(sha256 {md_code(matrix.get('sha256') or 'unknown')}) "
        "and regenerate this record from the new run:",
        "",
        "```sh",
        f"harness run {path} -k '{keyword}'",
        f"harness adr reports/<run-id>{args} --out <file>",
        "```",
        "",
        "The nightly run's `harness diff` against the previous run shows whether these "
        "measurements still hold; each cell's reproducer below rebuilds it by hand.",
        "",
    ]


# ------------------------------------------------------------------ pros and cons


def _pros_cons(ctx: _Context) -> list[str]:
    lines = ["## Pros and Cons of the Options", ""]
    for name in ctx.options:
        lines += [f"### {_option_title(ctx, name)}", ""]
        bullets = _status_bullets(ctx, name) + _source_build_bullets(ctx, name)
        if ctx.baseline and name != ctx.baseline:
            bullets += _relative_bullets(ctx, name)
        else:  # the baseline itself, or no baseline: the numbers as plain facts
            bullets += _absolute_bullets(ctx, name)
        bullets += _vulnerability_bullets(ctx, name)
        lines += [f"* {b}" for b in bullets] or ["* Neutral, because nothing was measured"]
        lines.append("")
    return lines


def _status_bullets(ctx: _Context, base: str) -> list[str]:
    if _base(ctx, base).get("status") == "unavailable":
        reason = md_escape(_base(ctx, base).get("reason") or "no reason recorded")
        return [f"Neutral, because the base was not available in this run: {reason}"]
    good, bullets = [], []
    for depset in ctx.depsets:
        group = ctx.cell(base, depset)
        if group is None:
            continue
        if group.status in GOOD:
            good.append(f"{md_code(depset)} ({ctx.evidence(group.status, group)})")
        if group.status == "unexpected-pass":
            bullets.append(
                f"Good, because {md_code(depset)} passes although the matrix expects it "
                f"to fail: {_expected_text(group)}"
            )
        bullets += _bad_status_bullet(ctx, depset, group)
    measured = [d for d in ctx.depsets if _measured(ctx.cell(base, d))]
    if good:
        intro = f"Good, because {len(good)} of {len(measured)} measured dependency sets pass: "
        bullets.insert(0, intro + ", ".join(good))
    return bullets


def _measured(group: CellGroup | None) -> bool:
    return group is not None and group.status not in NOT_RUN


def _expected_text(group: CellGroup) -> str:
    """The matrix's expected-failure reason, with its link."""
    expected = group.expected_failure
    url = safe_url(expected.link if expected else None)
    link = f" ([known issue]({url}))" if url else ""
    return md_escape((expected.reason if expected else None) or "no reason given") + link


def _bad_status_bullet(ctx: _Context, depset: str, group: CellGroup) -> list[str]:
    reason = md_escape(group.reason) if group.reason else "no reason recorded"
    evidence = ctx.evidence(group.status, group)
    if group.status == "expected-failure":
        return [
            f"Bad, because {md_code(depset)} fails, an expected failure declared in the "
            f"matrix: {_expected_text(group)} ({evidence})"
        ]
    if group.status in FAILING:
        return [f"Bad, because {md_code(depset)} {group.status}: {reason} ({evidence})"]
    if group.status in NOT_RUN:
        return [f"Neutral, because {md_code(depset)} was not measured: {reason} ({evidence})"]
    return []


def _source_build_bullets(ctx: _Context, base: str) -> list[str]:
    bullets = []
    for depset in ctx.depsets:
        group = ctx.cell(base, depset)
        if group is None:
            continue
        sdists = [d for d in group.distributions.values() if not d.wheel]
        if sdists:
            names = ", ".join(f"{md_escape(d.name)} {md_escape(d.version)}" for d in sdists)
            link = ctx.evidence(f"{len(sdists)} distribution(s) built from source", group)
            bullets.append(f"Bad, because installing {md_code(depset)} needs {link}: {names}")
    return bullets


@dataclass(frozen=True)
class _Measure:
    """One measurement of a cell that the ADR compares across options."""

    label: str  # "install time"
    unit: str  # "s" or "bytes"
    rule: NoiseRule


_MEASURES = (
    _Measure("install time", "s", TIME_NOISE),
    _Measure("size added", "bytes", SIZE_NOISE),
    _Measure("import time", "s", TIME_NOISE),
)


def _measure_sample(group: CellGroup, measure: _Measure) -> Sample | None:
    if measure.label == "install time":
        return group.install_sample()
    if measure.label == "size added":
        return group.size_sample()
    return group.import_sample()


def _fmt(sample: Sample, unit: str) -> str:
    return sample_text(sample, unit)


def _relative_bullets(ctx: _Context, base: str) -> list[str]:
    """Good/Bad against the baseline, only where the difference is beyond noise."""
    bullets: list[str] = []
    for depset in ctx.depsets:
        mine, theirs = ctx.cell(base, depset), ctx.cell(ctx.baseline or "", depset)
        if mine is None or theirs is None or mine.status not in GOOD or theirs.status not in GOOD:
            continue
        compared = [c for c in (_relative(ctx, depset, m, mine, theirs) for m in _MEASURES) if c]
        bullets += [text for kind, text in compared if kind == "beyond"]
        same = [text for kind, text in compared if kind == "same"]
        if same:
            bullets.append(
                f"Neutral, because for {md_code(depset)} the {', '.join(same)} "
                f"match {md_code(ctx.baseline or '')} within noise"
            )
        noisy = [text for kind, text in compared if kind == "noisy"]
        if noisy:
            bullets.append(
                f"Neutral, because for {md_code(depset)} the {', '.join(noisy)} "
                "spread too wide over the repeats to call either way"
            )
        apart = [text for kind, text in compared if kind == "hosts"]
        if apart:
            note = hosts_note(
                cell_hosts(mine, ctx.results),
                cell_hosts(theirs, ctx.results),
                (base, ctx.baseline or ""),
            )
            bullets.append(
                f"Neutral, because for {md_code(depset)} the {', '.join(apart)} were "
                f"measured on {md_escape(note.removeprefix('different '))}"
            )
    return bullets + _base_size_bullet(ctx, base)


def _relative(
    ctx: _Context, depset: str, measure: _Measure, mine: CellGroup, theirs: CellGroup
) -> tuple[str, str] | None:
    """(kind, text): kind "beyond" is a Good/Bad bullet; "same" (within noise) and
    "noisy" (a timing too noisy to compare, runview.too_noisy) give the measure's name
    and both values for a Neutral bullet."""
    a, b = _measure_sample(theirs, measure), _measure_sample(mine, measure)
    if a is None or b is None:
        return None
    delta = compare_samples(a, b, measure.rule)
    here, there = ctx.link(_fmt(b, measure.unit), mine), ctx.link(_fmt(a, measure.unit), theirs)
    if measure.unit == "s" and hosts_note(
        cell_hosts(mine, ctx.results), cell_hosts(theirs, ctx.results), ("", "")
    ):
        return "hosts", f"{measure.label} ({here} vs {there})"
    if measure.unit == "s" and (too_noisy(a) or too_noisy(b)):
        return "noisy", f"{measure.label} ({here} vs {there})"
    if not delta.significant:
        return "same", f"{measure.label} ({here} vs {there})"
    verdict = "Good" if delta.change < 0 else "Bad"  # less time, fewer bytes: better
    return "beyond", (
        f"{verdict}, because {measure.label} for {md_code(depset)}: {here} "
        f"vs {there} on {md_code(ctx.baseline or '')} ({ctx.repro(mine)})"
    )


def _base_size_bullet(ctx: _Context, base: str) -> list[str]:
    mine, theirs = (
        _base(ctx, base).get("size_bytes"),
        _base(ctx, ctx.baseline or "").get("size_bytes"),
    )
    if not mine or not theirs:
        return []
    delta = compare_samples(Sample((float(theirs),)), Sample((float(mine),)), SIZE_NOISE)
    here = f"[{fmt.size(mine)} ({fmt.byte_count(mine)})]({ctx.href}#{base_anchor(base)})"
    baseline_href = f"{ctx.href}#{base_anchor(ctx.baseline or '')}"
    there = f"[{fmt.size(theirs)} ({fmt.byte_count(theirs)})]({baseline_href})"
    if not delta.significant:
        return [
            f"Neutral, because the base image is {here}, the size of "
            f"{md_code(ctx.baseline or '')}'s within noise"
        ]
    verdict = "Good" if delta.change < 0 else "Bad"
    return [f"{verdict}, because the base image is {here} vs {there} for the baseline"]


def _vulnerability_bullets(ctx: _Context, base: str) -> list[str]:
    """The base image SBOM's scan, with its database date; against the baseline's when both
    were scanned with the same database. Never a 0 for "not scanned"."""
    mine = base_scan(ctx.results, base)
    if isinstance(mine, NotScanned):
        return [f"Neutral, because its vulnerabilities are {md_escape(mine.reason)}"]
    text = f"the base image's SBOM has {md_escape(scan_text(mine))}"
    if not ctx.baseline or base == ctx.baseline:
        return [f"Neutral, because {text}"]
    theirs = base_scan(ctx.results, ctx.baseline)
    if isinstance(theirs, NotScanned) or (theirs.scanner, theirs.db_built) != (
        mine.scanner,
        mine.db_built,
    ):
        why = md_escape(scan_delta(theirs, mine))
        return [f"Neutral, because {text}; against {md_code(ctx.baseline)}: {why}"]
    verdict = _fewer_severe(mine, theirs)
    return [
        f"{verdict}, because {text} vs {md_escape(counts_text(theirs))} for "
        f"{md_code(ctx.baseline)} ({md_escape(scan_delta(theirs, mine))})"
    ]


def _fewer_severe(mine: VulnCounts, theirs: VulnCounts) -> str:
    """Good when the first severity, from critical down, at which the counts differ has
    fewer findings here; the same counts are Neutral."""
    for severity in SEVERITIES:
        here, there = getattr(mine, severity), getattr(theirs, severity)
        if here != there:
            return "Good" if here < there else "Bad"
    return "Neutral"


def _absolute_bullets(ctx: _Context, base: str) -> list[str]:
    """With no baseline to compare with, state the numbers as neutral facts."""
    bullets = []
    size = _base(ctx, base).get("size_bytes")
    if size:
        bullets.append(
            f"Neutral, because the base image is "
            f"[{fmt.size(size)} ({fmt.byte_count(size)})]({ctx.href}#{base_anchor(base)})"
        )
    for depset in ctx.depsets:
        group = ctx.cell(base, depset)
        if group is None or group.status not in GOOD:
            continue
        facts = [
            f"{m.label} {ctx.link(_fmt(s, m.unit), group)}"
            for m in _MEASURES
            if (s := _measure_sample(group, m)) is not None
        ]
        if facts:
            bullets.append(f"Neutral, because for {md_code(depset)}: " + ", ".join(facts))
    return bullets


# ------------------------------------------------------------------ more information


def _more_information(ctx: _Context) -> list[str]:
    return [
        "## More Information",
        "",
        *_measurements(ctx),
        *_interpreter_speed(ctx),
        *_provenance(ctx),
        *_packages(ctx),
        *_environment(ctx),
        *_reproducers(ctx),
    ]


def _interpreter_speed(ctx: _Context) -> list[str]:
    """The pybench probe of every option against the baseline (else the first option)."""
    bases = bases_by_name(ctx.results)
    chosen = [bases[name] for name in ctx.options if name in bases]
    table = speed_table(chosen, baseline=ctx.baseline or (ctx.options[0] if ctx.options else None))
    if not table.measured:
        return []
    return ["### Interpreter speed", "", *render_speed_markdown(table), ""]


def _cell_measurements(ctx: _Context, group: CellGroup | None) -> str:
    if group is None:
        return "no cell"
    parts = [ctx.link(status_label(group.status), group)]
    for measure in _MEASURES:
        sample = _measure_sample(group, measure)
        if sample is not None and group.status in GOOD:
            parts.append(f"{measure.label}: {ctx.link(_fmt(sample, measure.unit), group)}")
    smoke = [n for n in group.probe_names() if n not in NON_SMOKE_PROBES]
    for name in smoke:
        sample = group.probe_sample(name)
        if sample is not None:
            parts.append(f"{md_escape(name)}: {ctx.link(_fmt(sample, 's'), group)}")
    parts.append(ctx.repro(group))
    return "<br>".join(parts)


def _measurements(ctx: _Context) -> list[str]:
    rows = [
        [md_code(d), *(_cell_measurements(ctx, ctx.cell(o, d)) for o in ctx.options)]
        for d in ctx.depsets
    ]
    repeat = (ctx.results.get("run") or {}).get("repeat", 1)
    note = f"Median over {repeat} repeat(s) ± half the range (max − min) / 2; MB = 10⁶ bytes."
    if not isinstance(repeat, int) or repeat < 2:
        note += (
            " With a single repeat the noise is unknown: a difference from the baseline is "
            "called out only beyond 25 % and 0.5 s (1 % and 1 MiB for sizes); re-run with "
            "`repeat: 3` or more for a measured spread."
        )
    return [
        "### Measurements",
        "",
        note,
        "",
        *md_table(["depset", *map(md_code, ctx.options)], rows),
        "",
    ]


def _base(ctx: _Context, name: str) -> Mapping[str, Any]:
    found = bases_by_name(ctx.results).get(name)
    return found.to_dict() if found else {}


def _provenance(ctx: _Context) -> list[str]:
    run = ctx.results.get("run") or {}
    host, engine = run.get("host") or {}, run.get("engine") or {}
    matrix = run.get("matrix") or {}
    facts = [
        ("run id", run.get("id")),
        ("started", run.get("started_at")),
        ("ended", run.get("ended_at")),
        ("harness version", run.get("harness_version")),
        ("cells at a time (jobs)", run.get("jobs")),
        ("repeats", run.get("repeat")),
        ("matrix", f"{matrix.get('path')} (sha256 {matrix.get('sha256')})"),
        ("registry reachable", run.get("registry_reachable")),
        ("host", f"{host.get('hostname')}, {host.get('os')}, kernel {host.get('kernel')}"),
        ("host CPUs / memory", f"{host.get('cpus')} / {_count(host.get('memory_bytes'))} bytes"),
        ("engine", _engine_text(engine)),
    ]
    lines = ["### Provenance", "", *md_table(["", ""], [[k, md_escape(v)] for k, v in facts]), ""]
    lines += [f"* warning: {md_escape(w)}" for w in run.get("warnings") or []]
    return [*lines, "", *_shards_table(run), *_bases_table(ctx), ""]


def _shards_table(run: Mapping[str, Any]) -> list[str]:
    """A run merged from shards: where each part ran, since cells on different hosts
    are not timed alike."""
    shards = run.get("shards") or []
    if not shards:
        return []
    rows = [
        [
            str(s.get("index")),
            md_escape((s.get("host") or {}).get("hostname") or "did not report"),
            md_escape(_engine_text(s.get("engine") or {})),
            str(s.get("cell_runs")),
        ]
        for s in shards
    ]
    plan = (run.get("plan") or {}).get("id")
    return [
        f"Merged from {len(shards)} shard(s) of plan {md_code(plan)}:",
        "",
        *md_table(["shard", "host", "engine", "cell runs"], rows),
        "",
    ]


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _engine_text(engine: Mapping[str, Any]) -> str:
    return (
        f"Docker {engine.get('version')} (API {engine.get('api_version')}, "
        f"{engine.get('storage_driver')}, cgroup v{engine.get('cgroup_version')})"
    )


def _bases_table(ctx: _Context) -> list[str]:
    header = ["base", "reference", "origin", "image id", "digest", "OS / libc / Python", "size"]
    rows = []
    for name in ctx.options:
        b = _base(ctx, name)
        system = " / ".join(
            _or_dash(x)
            for x in (
                b.get("os"),
                libc_text(bases_by_name(ctx.results)[name].libc if b else None),
                b.get("python"),
            )
        )
        size = fmt.byte_count(b["size_bytes"]) if b.get("size_bytes") else fmt.NONE
        if b.get("status") == "unavailable":
            size += f" (unavailable: {md_escape(b.get('reason') or '')})"
        rows.append(
            [
                md_code(name),
                md_escape(b.get("reference") or "—"),
                md_escape(origin_text(b)),
                md_code(b.get("image_id") or "—"),
                md_code(b.get("digest") or "—"),
                md_escape(system),
                size,
            ]
        )
    return md_table(header, rows)


def _or_dash(value: Any) -> str:
    return str(value) if value not in (None, "") else "—"


def _requested(ctx: _Context, depset: str, dist: Distribution) -> bool:
    """The depset's own requirements: pip's ``requested`` flag, else the names in the
    matrix (an older results file may lack the flag)."""
    if dist.requested is not None:
        return dist.requested
    spec = depsets_by_name(ctx.results).get(depset)
    pip = (spec.pip if spec else None) or []
    return requirement_name(dist.name) in {requirement_name(str(r)) for r in pip}


def _packages(ctx: _Context) -> list[str]:
    """Versions of each depset's requested distributions on each option."""
    rows = []
    for depset in ctx.depsets:
        names: dict[str, str] = {}
        for option in ctx.options:
            group = ctx.cell(option, depset)
            for key, dist in (group.distributions if group else {}).items():
                if _requested(ctx, depset, dist):
                    names.setdefault(key, dist.name)
        for key, shown in names.items():
            rows.append([md_code(depset), md_escape(shown), *_versions(ctx, depset, key)])
    if not rows:
        return []
    header = ["depset", "distribution", *map(md_code, ctx.options)]
    return ["### Package versions", "", *md_table(header, rows), ""]


def _versions(ctx: _Context, depset: str, key: str) -> list[str]:
    out = []
    for option in ctx.options:
        group = ctx.cell(option, depset)
        dist = group.distributions.get(key) if group else None
        if group is None or dist is None:
            out.append("—")
            continue
        kind = f"wheel {dist.tag}" if dist.wheel else "sdist (built)"
        out.append(ctx.link(f"{md_escape(dist.version)} {md_escape(kind)}", group))
    return out


def _environment(ctx: _Context) -> list[str]:
    """Tool versions as the environment probe reported them, per option (the first
    cell of the base that ran the probe)."""
    facts: dict[str, dict[str, str]] = {}
    for option in ctx.options:
        for depset in ctx.depsets:
            group = ctx.cell(option, depset)
            env = _env_facts(group) if group else {}
            if env:
                facts[option] = env
                break
    keys = list(dict.fromkeys(k for env in facts.values() for k in env))
    if not keys:
        return []
    rows = [
        [md_escape(k), *(md_escape(facts.get(o, {}).get(k, "—")) for o in ctx.options)]
        for k in keys
    ]
    return [
        "### Environment probe",
        "",
        *md_table(["fact", *map(md_code, ctx.options)], rows),
        "",
    ]


def _env_facts(group: CellGroup) -> dict[str, str]:
    """Scalar facts of the env probe, nested ones one level deep (``libc.version``)."""
    for record in group.records:
        env = record.probes.env
        if env is None or env.status != "passed":
            continue
        flat: dict[str, str] = {}
        for key, value in env.to_dict().items():
            if key in {"status", "seconds", "error"}:
                continue
            if isinstance(value, Mapping):
                flat |= {f"{key}.{k}": str(v) for k, v in value.items() if _scalar(v)}
            elif _scalar(value):
                flat[key] = str(value)
        return flat
    return {}


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _fence(text: str, info: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{info}", text.rstrip("\n"), fence]


def _reproducers(ctx: _Context) -> list[str]:
    lines = ["### Reproducers", ""]
    for option in ctx.options:
        for depset in ctx.depsets:
            group = ctx.cell(option, depset)
            if group is None:
                continue
            lines += [f'<a id="repro-{cell_anchor(group.id)}"></a>', ""]
            lines += [f"#### {md_escape(group.id)}", ""]
            repro = group.reproducer
            if repro is None:
                lines += ["No reproducer recorded (nothing ran).", ""]
                continue
            if repro.dockerfile:
                lines += [*_fence(repro.dockerfile, "dockerfile"), ""]
            if repro.commands:
                lines += [*_fence("\n".join(repro.commands), "sh"), ""]
    return lines
