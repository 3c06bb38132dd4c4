"""Side by side of two bases from one run: what an engineer needs to validate a switch.

For each depset: the status on each side, the install time (all install steps), bytes
added, the import time (sum of the imports probe's per-module times) and each smoke
probe's own wall time, with their spread over repeats; the distributions whose version
or wheel availability differ; and a verdict line.

Numbers are medians over repeats ± half the range ``(max - min) / 2`` (see
``runview``); a delta B - A carries ± the sum of the two half ranges. The verdict
calls B slower or faster only when the install-time difference passes the noise
rule of the nightly diff (larger than both ranges, 0.5 s and 5 %; 25 % when there
are no repeats), so "works on both" with no qualifier means "no difference we can
tell from noise". A timing too noisy to compare on either side (``runview.too_noisy``)
gets no call at all: its row and the verdict say "too noisy to call" instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from packaging.utils import canonicalize_name

from harness.analysis.sizes import (
    SizeDifference,
    human_bytes,
    signed_bytes,
    size_difference,
    sized_cell,
)
from harness.analysis.speed import (
    SpeedTable,
    fmt_spread,
    render_speed_markdown,
    speed_cell,
    speed_table,
)
from harness.analysis.suites import PROBE as TESTS_PROBE
from harness.analysis.suites import SuiteComparison, compare_suites, group_suite
from harness.analysis.view import (
    NON_SMOKE_PROBES,
    ONE_SAMPLE,
    SIZE_NOISE,
    TIME_NOISE,
    CellGroup,
    Delta,
    Sample,
    bases_by_name,
    cell_for,
    cell_hosts,
    compare_samples,
    depset_names,
    fmt_bytes,
    fmt_sample_seconds,
    fmt_seconds,
    fmt_signed_bytes,
    hosts_note,
    md_code,
    md_escape,
    md_table,
    noise_text,
    too_noisy,
)
from harness.analysis.vulns import (
    NotScanned,
    VulnCounts,
    base_scan,
    cell_scan,
    scan_delta,
    scan_text,
)
from harness.model.errors import ConfigurationError
from harness.model.ids import cell_anchor
from harness.model.origin import origin_text
from harness.model.records import check_schema
from harness.model.status import GOOD, NOT_RUN
from harness.model.status import label as status_label
from harness.store.files import REPORT_HTML

# The distributions a depset's size table lists, largest difference first.
SIZE_ROWS = 8


@dataclass(frozen=True)
class ScanPair:
    """Two SBOMs' vulnerability scans (or why not) side by side, A then B."""

    a: VulnCounts | NotScanned
    b: VulnCounts | NotScanned

    def lines(self, label_a: str, label_b: str) -> list[str]:
        """One line per side and the difference; a reason shared by both is said once."""
        a, b = self.a, self.b
        if isinstance(a, NotScanned) and isinstance(b, NotScanned) and a.reason == b.reason:
            return [f"{label_a} and {label_b}: {a.reason}"]
        sides = [f"{label_a}: {scan_text(a)}", f"{label_b}: {scan_text(b)}"]
        if isinstance(a, NotScanned) or isinstance(b, NotScanned):
            return sides  # nothing to subtract: each side says why
        return [*sides, f"B − A: {scan_delta(a, b)}"]


@dataclass(frozen=True)
class BaseInfo:
    name: str
    reference: str | None
    standin: str | None
    origin: str  # origin_text: pulled (digest), local, your Dockerfile, stand-in...
    image_id: str | None
    digest: str | None
    status: str | None
    reason: str | None
    size_bytes: int | None = None  # the image's own size, as the engine reports it


@dataclass(frozen=True)
class Side:
    """One base's cell for one depset (``cell_id`` None: the matrix has no such cell)."""

    base: str
    cell_id: str | None
    status: str | None
    reason: str | None
    expected_failure: str | None
    repeats: int


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # "s" or "bytes"
    a: Sample | None
    b: Sample | None
    delta: Delta | None  # None unless both sides measured it
    hosts: str = ""  # runview.hosts_note: timings taken on different hosts (no call then)

    def noisy_sides(self, label_a: str = "A", label_b: str = "B") -> list[str]:
        """``["B: spread 38 % of median over 3 runs"]``: the sides too noisy to call."""
        if self.unit != "s":
            return []  # the rule is about timings; sizes barely move between repeats
        pairs = ((label_a, self.a), (label_b, self.b))
        return [f"{label}: {noise_text(s)}" for label, s in pairs if s is not None and too_noisy(s)]


@dataclass(frozen=True)
class DistributionDifference:
    name: str
    a: str | None  # "2.3.1 wheel" / "0.7.11 sdist"; None: not installed on A
    b: str | None
    kind: str  # "version", "wheel availability", "only on A", "only on B"


@dataclass(frozen=True)
class DepsetComparison:
    depset: str
    a: Side
    b: Side
    metrics: tuple[Metric, ...]
    distributions: tuple[DistributionDifference, ...]
    same_distributions: int
    verdict: str
    tests: SuiteComparison | None = None  # the depset's own test suite on each side
    sizes: SizeDifference | None = None  # bytes by distribution, B − A
    vulnerabilities: ScanPair | None = None  # the cells' SBOMs: the base's and theirs

    def size_sentence(self) -> str | None:
        """``"spacy on B: 18.0 MB less than on A, of which blis 6.0 MB"``, or None."""
        if self.sizes is None:
            return None
        return self.sizes.sentence(self.depset, self.a.base, self.b.base)

    def size_rows(self) -> list[tuple[str, str, str, str]]:
        """The distributions whose bytes differ most: name, A, B, B − A."""
        if self.sizes is None:
            return []
        return [
            (c.name, human_bytes(c.a_bytes), human_bytes(c.b_bytes), signed_bytes(c.change))
            for c in self.sizes.changes[:SIZE_ROWS]
        ]


@dataclass(frozen=True)
class Comparison:
    run_id: str
    base_a: BaseInfo
    base_b: BaseInfo
    rows: tuple[DepsetComparison, ...]
    speed: SpeedTable  # the interpreter benchmark of B against A (A is the baseline)
    # What may move the numbers besides the bases themselves: said next to every delta.
    confounders: tuple[str, ...] = ()
    vulnerabilities: ScanPair | None = None  # the base images' own SBOMs


def _base_info(results: Mapping[str, Any], name: str) -> BaseInfo:
    base = bases_by_name(results).get(name) or {}
    return BaseInfo(
        name=name,
        reference=base.get("reference"),
        standin=base.get("standin"),
        origin=origin_text(base),
        image_id=base.get("image_id"),
        digest=base.get("digest"),
        status=base.get("status"),
        reason=base.get("reason"),
        size_bytes=base.get("size_bytes") if isinstance(base.get("size_bytes"), int) else None,
    )


def _side(base: str, group: CellGroup | None) -> Side:
    if group is None:
        return Side(base, None, None, None, None, 0)
    expected = (group.expected_failure or {}).get("reason")
    return Side(base, group.id, group.status, group.reason, expected, len(group.records))


def _metric(name: str, unit: str, a: Sample | None, b: Sample | None, hosts: str = "") -> Metric:
    rule = SIZE_NOISE if unit == "bytes" else TIME_NOISE
    delta = compare_samples(a, b, rule) if a is not None and b is not None else None
    return Metric(name, unit, a, b, delta, hosts if unit == "s" else "")


def _sample(group: CellGroup | None, measure: str, probe: str = "") -> Sample | None:
    if group is None:
        return None
    if measure == "install":
        return group.install_sample()
    if measure == "size":
        return group.size_sample()
    if measure == "import":
        return group.import_sample()
    return group.probe_sample(probe)


def _metrics(ga: CellGroup | None, gb: CellGroup | None, hosts: str) -> tuple[Metric, ...]:
    metrics = [
        _metric("install", "s", _sample(ga, "install"), _sample(gb, "install"), hosts),
        _metric("size added", "bytes", _sample(ga, "size"), _sample(gb, "size")),
        _metric("import time", "s", _sample(ga, "import"), _sample(gb, "import"), hosts),
    ]
    suite = _metric(
        "test suite", "s", _sample(ga, "probe", TESTS_PROBE), _sample(gb, "probe", TESTS_PROBE)
    )
    metrics.append(suite)
    smoke = [n for g in (ga, gb) if g is not None for n in g.probe_names()]
    for name in dict.fromkeys(n for n in smoke if n not in NON_SMOKE_PROBES):
        a, b = _sample(ga, "probe", name), _sample(gb, "probe", name)
        metrics.append(_metric(f"smoke {name}", "s", a, b, hosts))
    return tuple(m for m in metrics if m.a is not None or m.b is not None)


def _dist_text(dist: Mapping[str, Any] | None) -> str | None:
    if dist is None:
        return None
    return f"{dist.get('version')} {'wheel' if dist.get('wheel') else 'sdist'}"


def distribution_differences(
    ga: CellGroup | None, gb: CellGroup | None
) -> tuple[tuple[DistributionDifference, ...], int]:
    da = ga.distributions if ga else {}
    db = gb.distributions if gb else {}
    if not da or not db:
        return (), 0  # one side installed nothing: its status says why
    differences, same = [], 0
    for key in [*da, *(k for k in db if k not in da)]:
        a, b = da.get(key), db.get(key)
        name = str((a or b or {}).get("name", key))
        if a is None or b is None:
            kind = _one_sided(key, a is None, ga, gb)
        elif bool(a.get("wheel")) != bool(b.get("wheel")):
            kind = "wheel availability"
        elif a.get("version") != b.get("version"):
            kind = "version"
        else:
            same += 1
            continue
        differences.append(DistributionDifference(name, _dist_text(a), _dist_text(b), kind))
    return tuple(differences), same


def _one_sided(key: str, missing_on_a: bool, ga: CellGroup | None, gb: CellGroup | None) -> str:
    """ "only on B", unless the other side's venv already had it before pip ran (ensurepip
    or the base seeded it): then it is a difference of venv seeding, not of resolution."""
    other = ga if missing_on_a else gb
    if key in _venv_names(other):
        return (
            "seeded in A's venv (pip did not install it)"
            if missing_on_a
            else ("seeded in B's venv (pip did not install it)")
        )
    return "only on B" if missing_on_a else "only on A"


def _venv_names(group: CellGroup | None) -> set[str]:
    """Normalised names of what the contents probe found in the cell's venv."""
    names: set[str] = set()
    for record in group.records if group else ():
        contents = (record.get("probes") or {}).get("contents") or {}
        for dist in contents.get("distributions") or [] if isinstance(contents, Mapping) else []:
            if isinstance(dist, Mapping) and dist.get("name"):
                names.add(canonicalize_name(str(dist["name"])))
    return names


def _failure_text(side: Side) -> str:
    if side.status == "expected-failure":
        return f"expected failure: {side.expected_failure or side.reason or 'no reason given'}"
    return f"{side.status}: {side.reason}" if side.reason else str(side.status)


def _timing_qualifier(a_base: str, b_base: str, install: Metric | None) -> str:
    if install is None or install.delta is None:
        return ""
    if install.hosts:
        return f"; install time from {install.hosts.removeprefix('different ')}: no call"
    noisy = install.noisy_sides(a_base, b_base)
    if noisy:
        return f"; install time too noisy to call ({'; '.join(noisy)})"
    d = install.delta
    if not d.spread_known:
        return (
            f"; install {fmt_seconds(d.change)} s on {b_base} ({ONE_SAMPLE}: no faster/slower call)"
        )
    if not d.significant:
        return ""
    word = "slower" if d.change > 0 else "faster"
    return (
        f"; {word} on {b_base} by {fmt_seconds(abs(d.change))} ± "
        f"{fmt_seconds(d.uncertainty)} s (install)"
    )


def _verdict(depset: str, a: Side, b: Side, metrics: tuple[Metric, ...]) -> str:
    for side in (a, b):
        if side.status is None:
            return f"not comparable: the run has no {side.base}×{depset} cell"
    for side in (a, b):
        if side.status in NOT_RUN:
            return f"not comparable: {side.base} {side.status} ({side.reason or 'no reason'})"
    good_a, good_b = a.status in GOOD, b.status in GOOD
    if good_a and good_b:
        install = next((m for m in metrics if m.name == "install"), None)
        return "works on both" + _timing_qualifier(a.base, b.base, install)
    if good_a:
        return f"breaks on {b.base} ({_failure_text(b)})"
    if good_b:
        return f"works only on {b.base}; fails on {a.base} ({_failure_text(a)})"
    return f"fails on both ({a.base}: {_failure_text(a)}; {b.base}: {_failure_text(b)})"


def compare_bases(
    results: dict[str, Any], base_a: str, base_b: str, depsets: list[str] | None = None
) -> Comparison:
    """Compare base_b against base_a on ``depsets`` (default: every depset of the run).

    Raises ConfigurationError (exit 2) for a base or depset the run does not have.
    """
    check_schema(results)
    known_depsets = depset_names(results)
    bases = bases_by_name(results)
    for name in (base_a, base_b):
        if name not in bases and not any(c.get("base") == name for c in results["cells"]):
            raise ConfigurationError(
                f"run {_run_id(results)}: no base {name!r}",
                f"use one of the run's bases: {', '.join(bases)}",
            )
    unknown = [d for d in depsets or [] if d not in known_depsets]
    if unknown:
        raise ConfigurationError(
            f"run {_run_id(results)}: no depset {', '.join(map(repr, unknown))}",
            f"--depsets takes the run's depsets: {', '.join(known_depsets)}",
        )
    rows = [_compare_depset(results, base_a, base_b, d) for d in depsets or known_depsets]
    pair = [bases[name] for name in (base_a, base_b) if name in bases]
    return Comparison(
        run_id=str((results.get("run") or {}).get("id")),
        base_a=_base_info(results, base_a),
        base_b=_base_info(results, base_b),
        rows=tuple(rows),
        speed=speed_table(pair, baseline=base_a),
        confounders=tuple(confounders(results, base_a, base_b)),
        vulnerabilities=ScanPair(base_scan(results, base_a), base_scan(results, base_b)),
    )


def confounders(results: Mapping[str, Any], base_a: str, base_b: str) -> list[str]:
    """What besides the base differs, or was not quiet, while the two bases were measured:
    the run's busy-host warnings, concurrency, and the pip each base's venv ran."""
    run = results.get("run") or {}
    found = [str(w) for w in run.get("warnings") or [] if str(w).startswith("busy ")]
    jobs = run.get("jobs")
    if isinstance(jobs, int) and jobs > 1:
        found.append(
            f"cells ran {jobs} at a time: a cell of one base may have shared the CPU and "
            "network with a cell of the other"
        )
    found += _speed_confounders(results, base_a, base_b)
    pips = {name: _pip_versions(results, name) for name in (base_a, base_b)}
    if pips[base_a] and pips[base_b] and pips[base_a] != pips[base_b]:
        found.append(
            f"different pip: {base_a} ran pip {', '.join(sorted(pips[base_a]))}, "
            f"{base_b} pip {', '.join(sorted(pips[base_b]))} (resolver and build behaviour "
            "differ between pip versions)"
        )
    return found


def _speed_confounders(results: Mapping[str, Any], base_a: str, base_b: str) -> list[str]:
    """Interpreter timings are cached per image: two bases' may come from different
    moments and loads, which the ratios must not hide."""
    bases = bases_by_name(results)
    when = {}
    for name in (base_a, base_b):
        speed = (bases.get(name) or {}).get("interpreter_speed")
        measured = speed.get("measured") if isinstance(speed, Mapping) else None
        if isinstance(measured, Mapping) and measured.get("at"):
            when[name] = measured
    if len(when) < 2:
        return []
    a, b = when[base_a], when[base_b]
    if a.get("at", "")[:13] == b.get("at", "")[:13] and _similar_load(a, b):
        return []
    return [
        f"interpreter timings measured at different moments (cached per image): {base_a} at "
        f"{a.get('at')} (load {a.get('host_load1_max')}), {base_b} at {b.get('at')} "
        f"(load {b.get('host_load1_max')})"
    ]


def _similar_load(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    cpus = float(a.get("host_cpus") or 1)
    return abs(float(a.get("host_load1_max") or 0) - float(b.get("host_load1_max") or 0)) < cpus


def _pip_versions(results: Mapping[str, Any], base: str) -> set[str]:
    versions = set()
    for cell in results.get("cells") or []:
        if cell.get("base") != base:
            continue
        pip = ((cell.get("probes") or {}).get("env") or {}).get("pip")
        version = pip.get("version") if isinstance(pip, Mapping) else None
        if version:
            versions.add(str(version))
    return versions


def _run_id(results: Mapping[str, Any]) -> str:
    return str((results.get("run") or {}).get("id"))


def _compare_depset(
    results: Mapping[str, Any], base_a: str, base_b: str, depset: str
) -> DepsetComparison:
    ga, gb = cell_for(results, base_a, depset), cell_for(results, base_b, depset)
    a, b = _side(base_a, ga), _side(base_b, gb)
    hosts = ""
    if ga is not None and gb is not None:
        hosts = hosts_note(cell_hosts(ga, results), cell_hosts(gb, results), (base_a, base_b))
    metrics = _metrics(ga, gb, hosts)
    differences, same = distribution_differences(ga, gb)
    return DepsetComparison(
        depset=depset,
        a=a,
        b=b,
        metrics=metrics,
        distributions=differences,
        same_distributions=same,
        verdict=_verdict(depset, a, b, metrics),
        tests=compare_suites(group_suite(ga), group_suite(gb)),
        sizes=size_difference(
            sized_cell(ga.records) if ga else None, sized_cell(gb.records) if gb else None
        ),
        vulnerabilities=_cell_scans(results, ga, gb),
    )


def _cell_scans(
    results: Mapping[str, Any], ga: CellGroup | None, gb: CellGroup | None
) -> ScanPair | None:
    """The two cells' SBOM scans (their first repeat), when both cells exist."""
    if ga is None or gb is None:
        return None
    return ScanPair(cell_scan(results, ga.id), cell_scan(results, gb.id))


# ----------------------------------------------------------------------- rendering


def fmt_sample(sample: Sample | None, unit: str) -> str:
    if sample is None:
        return "—"
    if unit == "s":
        return fmt_sample_seconds(sample)
    text = fmt_bytes(sample.median)
    return text if sample.spread is None else f"{text} ± {fmt_bytes(sample.half_spread)}"


def fmt_metric_delta(metric: Metric) -> str:
    """``"+3.20 ± 0.40 s (beyond noise)"``, ``"(too noisy to call: A: spread ...)"`` when
    a side's timing is too noisy; "—" when one side has no value."""
    d = metric.delta
    if d is None:
        return "—"
    if not d.spread_known:
        change = f"{d.change:+.2f} s" if metric.unit == "s" else fmt_signed_bytes(d.change)
        return f"{change} ({metric.hosts or ONE_SAMPLE})"
    if metric.unit == "s":
        text = f"{d.change:+.2f} ± {fmt_seconds(d.uncertainty)} s"
    else:
        text = f"{fmt_signed_bytes(d.change)} ± {fmt_bytes(d.uncertainty)}"
    if metric.hosts:
        return text + f" ({metric.hosts})"
    noisy = metric.noisy_sides()
    if noisy:
        return text + f" (too noisy to call: {'; '.join(noisy)})"
    return text + (" (beyond noise)" if d.significant else " (within noise)")


def _base_line(label: str, info: BaseInfo) -> str:
    parts = [f"**{label}: {md_escape(info.name)}** — {md_escape(info.reference or '?')}"]
    parts.append(f"({md_escape(info.origin)})")
    if info.image_id:
        parts.append(f"image {md_escape(info.image_id)}")
    if info.size_bytes:
        parts.append(f"({human_bytes(info.size_bytes)})")
    if info.status and info.status != "available":
        parts.append(f"— {md_escape(info.status)}: {md_escape(info.reason or '')}")
    return " ".join(parts)


def _cell_ref(side: Side, href: str) -> str:
    if side.cell_id is None:
        return "no cell"
    return f"[{status_label(str(side.status))}]({href}#{cell_anchor(side.cell_id)})"


def render_comparison_markdown(c: Comparison, *, report_href: str = REPORT_HTML) -> str:
    a, b = md_escape(c.base_a.name), md_escape(c.base_b.name)
    out = [
        f"# {a} vs {b} (run {md_escape(c.run_id)})",
        "",
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
                fmt_sample(m.a, m.unit),
                fmt_sample(m.b, m.unit),
                fmt_metric_delta(m),
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


def _vulnerability_lines(title: str, pair: ScanPair | None, a: str, b: str) -> list[str]:
    if pair is None:
        return []
    return [f"**{title}:**", "", *(f"- {md_escape(line)}" for line in pair.lines(a, b)), ""]


def _sizes_markdown(row: DepsetComparison, a: str, b: str) -> list[str]:
    sentence = row.size_sentence()
    if sentence is None:
        return []
    out = [f"**Size:** {md_escape(sentence)} (bytes on disk, from the contents probe)", ""]
    rows = [[md_escape(name), *sizes] for name, *sizes in row.size_rows()]
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


_HTML = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ c.base_a.name }} vs {{ c.base_b.name }} — run {{ c.run_id }}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
.passed,.unexpected-pass{background:#e3f5e1}.failed,.error,.timeout{background:#fbe0e0}
.expected-failure{background:#fff4d6}.unavailable,.unsupported,.none{background:#eee}
.verdict{font-weight:600} .muted{color:#666}
</style></head><body>
<h1>{{ c.base_a.name }} vs {{ c.base_b.name }}</h1>
<p class="muted">run {{ c.run_id }}; timings are the median over repeats ± half the range;
deltas are B − A and count as a difference only beyond noise.</p>
<ul>{% for label, b in (("A", c.base_a), ("B", c.base_b)) %}
<li><b>{{ label }}: {{ b.name }}</b> — {{ b.reference or "?" }}
<span class="muted">({{ b.origin }})</span>
{% if b.image_id %}<code>{{ b.image_id }}</code>{% endif %}
{% if b.size_bytes %}({{ bytes(b.size_bytes) }}){% endif %}
{% if b.status and b.status != "available" %}— {{ b.status }}: {{ b.reason }}{% endif %}</li>
{% endfor %}</ul>
{% if c.confounders %}<p><b>What else differs (confounds the timings):</b></p>
<ul>{% for text in c.confounders %}<li>{{ text }}</li>{% endfor %}</ul>{% endif %}
{% if c.vulnerabilities %}<p><b>Vulnerabilities (the base images' SBOMs):</b></p>
<ul>{% for line in c.vulnerabilities.lines(c.base_a.name, c.base_b.name) %}<li>{{ line }}</li>
{% endfor %}</ul>{% endif %}
<table><tr><th>depset</th><th>{{ c.base_a.name }}</th><th>{{ c.base_b.name }}</th>
<th>verdict</th></tr>
{% for r in c.rows %}<tr><td><a href="#depset-{{ r.depset }}">{{ r.depset }}</a></td>
{% for s in (r.a, r.b) %}<td class="{{ s.status or 'none' }}">{% if s.cell_id %}
<a href="{{ href }}#{{ anchor(s.cell_id) }}">{{ s.status }}</a>{% else %}no cell{% endif %}</td>
{% endfor %}<td class="verdict">{{ r.verdict }}</td></tr>
{% endfor %}</table>
{% for r in c.rows %}<h2 id="depset-{{ r.depset }}">{{ r.depset }}</h2>
<p class="verdict">{{ r.verdict }}</p>
{% if r.metrics %}<table><tr><th>measure</th><th>{{ c.base_a.name }}</th>
<th>{{ c.base_b.name }}</th><th>B − A</th></tr>
{% for m in r.metrics %}<tr><td>{{ m.name }}</td><td class="num">{{ sample(m.a, m.unit) }}</td>
<td class="num">{{ sample(m.b, m.unit) }}</td><td class="num">{{ delta(m) }}</td></tr>
{% endfor %}</table>{% endif %}
{% if r.distributions %}<table><tr><th>distribution</th><th>{{ c.base_a.name }}</th>
<th>{{ c.base_b.name }}</th><th>differs in</th></tr>
{% for d in r.distributions %}<tr><td>{{ d.name }}</td><td>{{ d.a or "—" }}</td>
<td>{{ d.b or "—" }}</td><td>{{ d.kind }}</td></tr>{% endfor %}</table>{% endif %}
{% if r.same_distributions %}<p class="muted">{{ r.same_distributions }} other
distribution(s) identical on both.</p>{% endif %}
{% if r.sizes %}<p><b>Size:</b> {{ r.size_sentence() }}
<span class="muted">(bytes on disk, from the contents probe)</span></p>
{% if r.size_rows() %}<table><tr><th>distribution</th><th>{{ c.base_a.name }}</th>
<th>{{ c.base_b.name }}</th><th>B − A</th></tr>
{% for name, sa, sb, change in r.size_rows() %}<tr><td>{{ name }}</td><td class="num">{{ sa }}</td>
<td class="num">{{ sb }}</td><td class="num">{{ change }}</td></tr>{% endfor %}</table>{% endif %}
{% endif %}
{% if r.vulnerabilities %}<p><b>Vulnerabilities</b> <span class="muted">(the cells' SBOMs:
the base and what the cell added)</span></p><ul>
{% for line in r.vulnerabilities.lines(c.base_a.name, c.base_b.name) %}<li>{{ line }}</li>
{% endfor %}</ul>{% endif %}
{% if r.tests %}<h3>Test suite</h3><ul>
{% for label, s in ((c.base_a.name, r.tests.a), (c.base_b.name, r.tests.b)) %}
<li><b>{{ label }}</b>: {{ s.summary if s else "did not run" }}</li>{% endfor %}
{% for label, names in suite_lines(r.tests, c.base_a.name, c.base_b.name) %}
<li>{{ label }}: {% for n in names %}<code>{{ n }}</code>{{ ", " if not loop.last }}
{%- endfor %}</li>
{% endfor %}</ul>{% endif %}
{% endfor %}
{% if c.speed.measured %}<h2>Interpreter speed (B against A)</h2>
<table><tr><th>base</th><th>Python</th><th>build</th><th>spread</th>
{% for m in c.speed.measurements %}<th>{{ m }}</th>{% endfor %}</tr>
{% for row in c.speed.bases %}<tr><td>{{ row.base }}{% if row.standin %}
<span class="muted">(stand-in build)</span>{% endif %}</td><td>{{ row.python or "—" }}</td>
<td>{{ row.build }}</td><td>{{ spread(row.spread) }}</td>
{% if row.status != "passed" %}<td colspan="{{ c.speed.measurements|length or 1 }}">
{{ row.status }}: {{ row.note }}</td>{% else %}{% for m in c.speed.measurements %}
<td class="num">{{ speed_cell(row, m) }}</td>{% endfor %}{% endif %}</tr>
{% endfor %}</table>
<p class="muted">Medians; {{ c.speed.rule }}{% for row in c.speed.bases if row.note %}
<br>{{ row.base }}: {{ row.note }}{% endfor %}</p>
{% if c.speed.standins %}<p><b>Stand-in builds.</b> {{ c.speed.official }}
{% for row in c.speed.standins %}<br>{{ row.base }}: {{ row.standin }}{% endfor %}</p>{% endif %}
{% endif %}
</body></html>
"""
)


def render_comparison_html(c: Comparison, *, report_href: str = REPORT_HTML) -> str:
    """Self-contained HTML (inline CSS, no scripts, no network); all text escaped."""
    return _HTML.render(
        c=c,
        href=report_href,
        anchor=cell_anchor,
        sample=fmt_sample,
        delta=fmt_metric_delta,
        suite_lines=suite_lines,
        spread=fmt_spread,
        speed_cell=speed_cell,
        bytes=human_bytes,
    )
