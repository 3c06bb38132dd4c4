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
gets no call at all: its row and the verdict say "too noisy to call" instead. Nor does
a timing taken while the run recorded a busy host or engine (``run.load``), or whose two
cells ran on different hosts (``runview.run_not_compared``): its row and the verdict say
"not compared: the host was busy during the run (load 9.6 on 2 cores)". Sizes and
statuses are compared as always.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from harness.analysis.sizes import DistributionChange as DistributionSize
from harness.analysis.sizes import (
    SizeDifference,
    size_difference,
    sized_cell,
)
from harness.analysis.speed import (
    SpeedTable,
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
    different_hosts,
    noise_text,
    run_not_compared,
    too_noisy,
)
from harness.analysis.vulns import (
    NotScanned,
    VulnCounts,
    base_scan,
    cell_scan,
)
from harness.model import format as fmt
from harness.model.errors import ConfigurationError
from harness.model.origin import origin_text, standin_text
from harness.model.records import check_schema
from harness.model.results import (
    AnyResults,
    BaseRecord,
    Distribution,
    MeasuredAt,
    Results,
    as_results,
)
from harness.model.status import GOOD, NOT_RUN

# The distributions a depset's size table lists, largest difference first.
SIZE_ROWS = 8


@dataclass(frozen=True)
class ScanPair:
    """Two SBOMs' vulnerability scans (or why not) side by side, A then B."""

    a: VulnCounts | NotScanned
    b: VulnCounts | NotScanned


@dataclass(frozen=True)
class BaseInfo:
    name: str
    reference: str | None
    standin: str | None  # origin.standin_text: set also for a Dockerfile built FROM a stand-in
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
    # runview.run_not_compared: why a timing gets no faster/slower call ("" when it does).
    withheld: str = ""

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

    def largest_size_changes(self) -> tuple[DistributionSize, ...]:
        """The distributions whose bytes differ most (at most SIZE_ROWS), largest first."""
        return () if self.sizes is None else self.sizes.changes[:SIZE_ROWS]


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


def _base_info(results: Results, name: str) -> BaseInfo:
    base = results.base(name) or BaseRecord(name=name)
    return BaseInfo(
        name=name,
        reference=base.reference,
        standin=standin_text(base),
        origin=origin_text(base),
        image_id=base.image_id,
        digest=base.digest,
        status=base.status,
        reason=base.reason,
        size_bytes=base.size_bytes,
    )


def _side(base: str, group: CellGroup | None) -> Side:
    if group is None:
        return Side(base, None, None, None, None, 0)
    expected = group.expected_failure.reason if group.expected_failure else None
    return Side(base, group.id, group.status, group.reason, expected, len(group.records))


def _metric(name: str, unit: str, a: Sample | None, b: Sample | None, withheld: str = "") -> Metric:
    rule = SIZE_NOISE if unit == "bytes" else TIME_NOISE
    delta = compare_samples(a, b, rule) if a is not None and b is not None else None
    return Metric(name, unit, a, b, delta, withheld if unit == "s" else "")


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


def _metrics(ga: CellGroup | None, gb: CellGroup | None, withheld: str) -> tuple[Metric, ...]:
    metrics = [
        _metric("install", "s", _sample(ga, "install"), _sample(gb, "install"), withheld),
        _metric("size added", "bytes", _sample(ga, "size"), _sample(gb, "size")),
        _metric("import time", "s", _sample(ga, "import"), _sample(gb, "import"), withheld),
    ]
    a_suite, b_suite = _sample(ga, "probe", TESTS_PROBE), _sample(gb, "probe", TESTS_PROBE)
    suite = _metric("test suite", "s", a_suite, b_suite, withheld)
    metrics.append(suite)
    smoke = [n for g in (ga, gb) if g is not None for n in g.probe_names()]
    for name in dict.fromkeys(n for n in smoke if n not in NON_SMOKE_PROBES):
        a, b = _sample(ga, "probe", name), _sample(gb, "probe", name)
        metrics.append(_metric(f"smoke {name}", "s", a, b, withheld))
    return tuple(m for m in metrics if m.a is not None or m.b is not None)


def _dist_text(dist: Distribution | None) -> str | None:
    if dist is None:
        return None
    return f"{dist.version} {'wheel' if dist.wheel else 'sdist'}"


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
        name = (a or b or Distribution(name=key)).name
        if a is None or b is None:
            kind = _one_sided(key, a is None, ga, gb)
        elif bool(a.wheel) != bool(b.wheel):
            kind = "wheel availability"
        elif a.version != b.version:
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
        contents = record.probes.contents
        for dist in (contents.distributions if contents else None) or []:
            if name := dist.get("name"):
                names.add(canonicalize_name(name))
    return names


def _failure_text(side: Side) -> str:
    if side.status == "expected-failure":
        return f"expected failure: {side.expected_failure or side.reason or 'no reason given'}"
    return f"{side.status}: {side.reason}" if side.reason else str(side.status)


def _timing_qualifier(a_base: str, b_base: str, install: Metric | None) -> str:
    if install is None or install.delta is None:
        return ""
    if install.withheld:
        return f"; install time {install.withheld}"
    noisy = install.noisy_sides(a_base, b_base)
    if noisy:
        return f"; install time too noisy to call ({'; '.join(noisy)})"
    d = install.delta
    if not d.spread_known:
        change = fmt.signed_seconds(d.change)
        return f"; install {change} on {b_base} ({ONE_SAMPLE}: no faster/slower call)"
    if not d.significant:
        return ""
    word = "slower" if d.change > 0 else "faster"
    return f"; {word} on {b_base} by {fmt.seconds_spread(abs(d.change), d.uncertainty)} (install)"


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
    results: AnyResults, base_a: str, base_b: str, depsets: list[str] | None = None
) -> Comparison:
    """Compare base_b against base_a on ``depsets`` (default: every depset of the run).

    Raises ConfigurationError (exit 2) for a base or depset the run does not have.
    """
    check_schema(results)
    results = as_results(results)
    known_depsets = depset_names(results)
    bases = bases_by_name(results)
    for name in (base_a, base_b):
        if name not in bases and not any(c.base == name for c in results.cells):
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
        run_id=_run_id(results),
        base_a=_base_info(results, base_a),
        base_b=_base_info(results, base_b),
        rows=tuple(rows),
        speed=speed_table(pair, baseline=base_a),
        confounders=tuple(confounders(results, base_a, base_b)),
        vulnerabilities=ScanPair(base_scan(results, base_a), base_scan(results, base_b)),
    )


def confounders(results: Results, base_a: str, base_b: str) -> list[str]:
    """What besides the base differs, or was not quiet, while the two bases were measured:
    the run's busy-host warnings, concurrency, and the pip each base's venv ran."""
    found = [str(w) for w in results.run.warnings or [] if str(w).startswith("busy ")]
    jobs = results.run.jobs
    if jobs is not None and jobs > 1:
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


def _speed_confounders(results: Results, base_a: str, base_b: str) -> list[str]:
    """Interpreter timings are cached per image: two bases' may come from different
    moments and loads, which the ratios must not hide."""
    when: dict[str, MeasuredAt] = {}
    for name in (base_a, base_b):
        base = results.base(name)
        speed = base.interpreter_speed if base else None
        if speed is not None and speed.measured is not None and speed.measured.at:
            when[name] = speed.measured
    if len(when) < 2:
        return []
    a, b = when[base_a], when[base_b]
    if (a.at or "")[:13] == (b.at or "")[:13] and _similar_load(a, b):
        return []
    return [
        f"interpreter timings measured at different moments (cached per image): {base_a} at "
        f"{a.at} (load {a.host_load1_max}), {base_b} at {b.at} "
        f"(load {b.host_load1_max})"
    ]


def _similar_load(a: MeasuredAt, b: MeasuredAt) -> bool:
    cpus = float(a.host_cpus or 1)
    return abs((a.host_load1_max or 0) - (b.host_load1_max or 0)) < cpus


def _pip_versions(results: Results, base: str) -> set[str]:
    versions = set()
    for cell in results.cells:
        env = cell.probes.env if cell.base == base else None
        pip = env.pip if env else None
        version = pip.get("version") if isinstance(pip, dict) else None
        if version:
            versions.add(version)
    return versions


def _run_id(results: Results) -> str:
    return str(results.run.id)


def _compare_depset(results: Results, base_a: str, base_b: str, depset: str) -> DepsetComparison:
    ga, gb = cell_for(results, base_a, depset), cell_for(results, base_b, depset)
    a, b = _side(base_a, ga), _side(base_b, gb)
    hosts = ""
    if ga is not None and gb is not None:
        hosts = different_hosts(cell_hosts(ga, results), cell_hosts(gb, results), (base_a, base_b))
    metrics = _metrics(ga, gb, run_not_compared(results.run, hosts))
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


def _cell_scans(results: Results, ga: CellGroup | None, gb: CellGroup | None) -> ScanPair | None:
    """The two cells' SBOM scans (their first repeat), when both cells exist."""
    if ga is None or gb is None:
        return None
    return ScanPair(cell_scan(results, ga.id), cell_scan(results, gb.id))
