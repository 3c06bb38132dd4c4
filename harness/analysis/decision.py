"""The answer first: the baseline base against each candidate, one row per driver, a
verdict per candidate in words a team can paste, and the option the drivers pick.

Data only (documents/decision.py renders it). Read from the typed results alone:

- **The rule** is matrix.yaml's ``decision:`` block as the run recorded it
  (``run.decision``; model/matrix.py DecisionSpec gives the defaults: everything must
  pass and the team's suite too, then fewer critical/high vulnerabilities, then smaller,
  then faster).
- **Compatibility**: a depset is required when it passes on at least one option; a
  required depset that breaks on a base blocks it (with the blocker read from the
  cell's failure account or its expected failure), one not measured there leaves the
  base not decidable (with why). A depset no option passes blocks none of them: it is
  said in the "cannot tell" list instead.
- **Verdicts**: blocked beats not decidable beats ready; the words live here alone
  (``READY``, ``BLOCKED``, ``NOT_DECIDABLE``, ``NO_OPTION``) and renderers import them.
- **The chosen option**: among the options that hold every must-driver (the baseline
  included), each preference in order keeps the options best on it (within the
  block's thresholds); a preference that cannot be measured for every remaining option
  is skipped and named. One left: chosen. A tie that holds the baseline: the baseline
  (a switch must earn its cost). Otherwise none, with the reason.
- **Timings** make no faster/slower call when the run recorded a busy host or engine
  (analysis/view.py's busy rules) or when a side is one sample (noise unknown).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from harness.analysis.metrics import install_complete
from harness.analysis.speed import speed_ratios
from harness.analysis.suites import SuiteResult, suite_result
from harness.analysis.view import (
    ONE_SAMPLE,
    TIME_NOISE,
    Sample,
    busy_phrases,
    compare_samples,
    different_hosts,
    noise_text,
    requirement_name,
    too_noisy,
)
from harness.analysis.vulns import NotScanned, VulnCounts, base_scan, counts_text, source_text
from harness.model import format as fmt
from harness.model.ids import DEFAULT_INSTALLER, installer_of
from harness.model.matrix import DecisionSpec
from harness.model.origin import standin_text
from harness.model.results import (
    BaseRecord,
    CellRecord,
    CellRuns,
    DecisionRule,
    Results,
    Workload,
)
from harness.model.rows import DistributionRow
from harness.model.status import GOOD, NOT_RUN
from harness.model.support import (
    BUGFIX,
    LTS,
    SECURITY,
    SUPPORTED,
    OsSupport,
    PythonSupport,
    os_support,
    python_support,
    staleness,
)

# -- the words (renderers import these; no document keeps its own) ---------------------------

READY = "ready to switch"
BLOCKED = "blocked by"
NOT_DECIDABLE = "not decidable here"
NOTHING_PASSES = "nothing passes on any base"
BASELINE = "baseline: the base in use today"
NO_OPTION = "no option meets the drivers"
NOT_MEASURED = "not measured"
NOT_SCANNED = "not scanned"
NO_CALL = "no faster/slower call"
# the baseline's cell of the speed row: the candidate's ratios are of its times
SPEED_REFERENCE = "measured: the reference of the ratios"
SAME = "no difference beyond the threshold"

DRIVER_LABELS = {
    "compatibility": "compatibility",
    "tests": "the team's test suite",
    "support": "Python and OS support",
    "vulnerabilities": "vulnerabilities (critical/high)",
    "size": "image size",
    "pull_size": "compressed (pull) size",
    "install_time": "install time",
    "speed": "interpreter speed",
}
DRIVER_RULES = {
    "compatibility": "every dependency set that passes on some option passes",
    "tests": "the team's own test suite passes every test",
    "support": "the Python version and the OS release are final releases under security support",
    "vulnerabilities": "fewer critical, then fewer high vulnerabilities in the base image",
    "size": "a smaller image (base + what each dependency set adds)",
    "pull_size": "a smaller compressed image (what a registry stores and a pull downloads)",
    "install_time": "a shorter install of the dependency sets",
    "speed": "a faster interpreter (pybench medians, beyond their noise)",
}
# Rows shown for facts that are not drivers of the rule.
FACT_LABELS = {
    "memory": "memory the smoke tests and suite added (peak, above what the container held)",
    "workload": "smoke tests' own workload figures",
    "libc": "libc and what it implies",
}

# Outcomes of one row: a must-driver holds or fails; a preference is better, worse or the
# same; unknown when it cannot be said (and the row says why).
HOLDS, FAILS, BETTER, WORSE, EQUAL, UNKNOWN, INFO = (
    "holds", "fails", "better", "worse", "same", "unknown", "info",
)  # fmt: skip


def verdict_blocked(blockers: Sequence[Blocker]) -> str:
    """``"blocked by: torch (no musllinux wheel) — fix: stay on glibc or drop torch"``."""
    return f"{BLOCKED}: " + "; ".join(f"{b.what} — fix: {b.fix}" for b in blockers)


def verdict_not_decidable(why: Sequence[str]) -> str:
    """``"not decidable here: py312-slim was not measured (no registry, no stand-in)"``."""
    return f"{NOT_DECIDABLE}: " + "; ".join(why)


# -- the types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    depset: str
    what: str  # "torch (no musllinux wheel)"
    fix: str  # "stay on glibc or drop torch"
    driver: str = ""  # the must-driver it fails


@dataclass(frozen=True)
class Row:
    """One driver (or fact) of one candidate against the baseline."""

    driver: str  # a DecisionSpec driver name, or a FACT_LABELS key
    label: str
    baseline: str
    candidate: str
    change: str  # against the baseline: "-107 MB (-24 %)", "+2 high", or why not
    outcome: str  # HOLDS | FAILS | BETTER | WORSE | EQUAL | UNKNOWN | INFO
    must: bool = False  # a driver the rule says must hold


@dataclass(frozen=True)
class Candidate:
    base: str
    reference: str | None
    verdict: str  # READY | BLOCKED | NOT_DECIDABLE
    text: str  # the verdict in words to paste
    rows: tuple[Row, ...]
    blockers: tuple[Blocker, ...] = ()
    undecided: tuple[str, ...] = ()  # why it is not decidable
    measured: bool = True  # False: no cell of it ran (its rows would say nothing)


@dataclass(frozen=True)
class Rule:
    """The decision block the verdicts followed, with every default filled in."""

    baseline: str
    baseline_given: bool  # named in matrix.yaml, or the first base by default
    must: tuple[str, ...]
    prefer: tuple[str, ...]
    min_size_change_percent: float
    min_time_change_percent: float
    max_critical: int
    max_high: int | None

    def lines(self) -> list[str]:
        """The rule in words, one line per part, for every document to echo."""
        how = "" if self.baseline_given else " (the matrix's first base: no decision.baseline)"
        lines = [f"baseline: {self.baseline}{how}"]
        for name in self.must:
            limit = ""
            if name == "vulnerabilities":
                high = "any" if self.max_high is None else str(self.max_high)
                limit = f" (at most {self.max_critical} critical, {high} high)"
            lines.append(f"must: {name}: {DRIVER_RULES[name]}{limit}")
        for rank, name in enumerate(self.prefer, 1):
            lines.append(f"prefer {rank}: {name}: {DRIVER_RULES[name]}")
        lines.append(
            f"thresholds: sizes within {self.min_size_change_percent:g} % and times within "
            f"{self.min_time_change_percent:g} % are no difference"
        )
        return lines


@dataclass(frozen=True)
class Decision:
    rule: Rule
    baseline: str
    baseline_reference: str | None
    baseline_blockers: tuple[Blocker, ...]  # the baseline too must hold the must-drivers
    candidates: tuple[Candidate, ...]
    chosen: str | None
    because: str  # why the chosen option, or why none (NO_OPTION ...)
    cannot_tell: tuple[str, ...]  # what this run cannot tell you
    depsets: tuple[str, ...] = field(default=())

    @property
    def outcome_text(self) -> str:
        """``Chosen option: "py311-slim", because …`` or ``no option meets the drivers: …``."""
        if self.chosen is None:
            return self.because
        return f'Chosen option: "{self.chosen}", because {self.because}'


# -- one base's facts ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    depset: str
    status: str  # the worst over the repeats; NOT_MEASURED when there is no cell
    reason: str | None
    records: tuple[CellRecord, ...]

    @property
    def passed(self) -> bool:
        return self.status in GOOD

    @property
    def measured(self) -> bool:
        return bool(self.records) and self.status not in NOT_RUN

    @property
    def first(self) -> CellRecord | None:
        return self.records[0] if self.records else None


@dataclass(frozen=True)
class _Base:
    name: str
    record: BaseRecord | None
    cells: dict[str, _Cell]
    libc_family: str | None
    libc_text: str | None
    python: PythonSupport | None
    os: OsSupport | None
    scan: VulnCounts | NotScanned


def _pip_cells(results: Results) -> dict[tuple[str, str], CellRuns]:
    """(base, depset) → the cell installed by pip (bases are compared under pip; uv's twins
    are `harness compare`'s)."""
    return {
        (runs.base, runs.depset): runs
        for runs in results.cell_runs().values()
        if installer_of(runs.id) == DEFAULT_INSTALLER
    }


def _libc(record: BaseRecord | None) -> tuple[str | None, str | None]:
    libc = record.libc if record else None
    if (libc is None or not libc.family) and record is not None and record.env is not None:
        libc = record.env.libc
    if libc is None or not libc.family:
        return None, None
    return libc.family, " ".join(w for w in (libc.family, libc.version) if w)


def _python_version(record: BaseRecord | None) -> str | None:
    if record is None:
        return None
    if record.env is not None and record.env.python is not None and record.env.python.version:
        return record.env.python.version
    if record.capabilities is not None and record.capabilities.python_version:
        return record.capabilities.python_version
    return record.python


_OS_TEXT = re.compile(r"^(?P<id>\w+)\b.*?(?P<version>\d+(?:\.\d+)*|/sid\b)", re.IGNORECASE)


def _os(record: BaseRecord | None, today: date) -> OsSupport | None:
    """From the env probe's os-release; else from the base's ``os`` line ("Debian GNU/Linux
    12 (bookworm)", "Alpine Linux v3.22", "Debian GNU/Linux forky/sid")."""
    if record is None:
        return None
    release = record.env.os_release if record.env is not None else None
    if release and release.get("ID"):
        version = release.get("VERSION_ID") or release.get("VERSION_CODENAME") or ""
        if not version and "sid" in (release.get("PRETTY_NAME") or ""):
            version = "sid"
        return os_support(str(release["ID"]), str(version), today)
    match = _OS_TEXT.match(record.os or "")
    if match is None:
        return None
    version = "sid" if match["version"].lower() == "/sid" else match["version"]
    return os_support(match["id"].lower(), version, today)


def _base_facts(
    results: Results, name: str, depsets: Sequence[str], cells: dict[tuple[str, str], CellRuns]
) -> _Base:
    record = results.base(name)
    found: dict[str, _Cell] = {}
    for depset in depsets:
        runs = cells.get((name, depset))
        if runs is None:
            why = record.reason if record is not None and record.reason else "no cell in this run"
            found[depset] = _Cell(depset, NOT_MEASURED, why, ())
        else:
            found[depset] = _Cell(depset, runs.status, runs.reason, runs.records)
    family, text = _libc(record)
    version = _python_version(record)
    today = _run_day(results)
    return _Base(
        name=name,
        record=record,
        cells=found,
        libc_family=family,
        libc_text=text,
        python=python_support(version, today) if version else None,
        os=_os(record, today),
        scan=base_scan(results, name),
    )


def _run_day(results: Results) -> date:
    """The day the run started: the support rows read as of then, so the same results give
    the same document."""
    try:
        return date.fromisoformat((results.run.started_at or "")[:10])
    except ValueError:
        return date.today()


# -- the rule ------------------------------------------------------------------------------


def rule_of(results: Results) -> Rule:
    """The run's decision block with the matrix's defaults for what it leaves out."""
    defaults = DecisionSpec()
    given = results.run.decision or DecisionRule()
    names = [b.name for b in results.bases] or [r.base for r in results.cells]
    baseline = given.baseline if given.baseline in names else None
    return Rule(
        baseline=baseline or (names[0] if names else ""),
        baseline_given=baseline is not None,
        must=tuple(given.must if given.must is not None else defaults.must),
        prefer=tuple(given.prefer if given.prefer is not None else defaults.prefer),
        min_size_change_percent=_or(
            given.min_size_change_percent, defaults.min_size_change_percent
        ),
        min_time_change_percent=_or(
            given.min_time_change_percent, defaults.min_time_change_percent
        ),
        max_critical=given.max_critical
        if given.max_critical is not None
        else defaults.max_critical,
        max_high=given.max_high if given.max_high is not None else defaults.max_high,
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)


# -- blockers -------------------------------------------------------------------------------


def _blocker(base: _Base, cell: _Cell) -> Blocker:
    """What breaks a depset on a base, and the fix, from the cell's failure account."""
    record = next((r for r in cell.records if r.status == cell.status), cell.first)
    failure = next(
        (s.failure for s in (record.steps if record else []) if s.failure is not None), None
    )
    expected = record.expected_failure if record else None
    dist = requirement_name(failure.distribution) if failure and failure.distribution else None
    if failure is not None and dist and failure.kind == "no-matching-distribution":
        if base.libc_family == "musl":
            return Blocker(
                cell.depset, f"{dist} (no musllinux wheel)", f"stay on glibc or drop {dist}"
            )
        available = f": {failure.available}" if isinstance(failure.available, str) else ""
        return Blocker(
            cell.depset,
            f"{dist} (no matching distribution{available})",
            failure.hint or f"pin a {dist} version with a wheel for this Python, or drop {dist}",
        )
    if failure is not None and dist:
        what = failure.what or failure.kind or "install failed"
        return Blocker(cell.depset, f"{dist} ({what})", failure.hint or "see the cell's log")
    if expected is not None and expected.reason:
        fix = f"see {expected.link}" if expected.link else f"stay on the baseline for {cell.depset}"
        return Blocker(cell.depset, f"{cell.depset} ({expected.reason})", fix)
    reason = cell.reason or cell.status
    return Blocker(cell.depset, f"{cell.depset} ({reason})", "see the cell in the report")


# -- rows -----------------------------------------------------------------------------------


def _compat_text(base: _Base, required: Sequence[str]) -> str:
    passing = [d for d in required if base.cells[d].passed]
    breaking = [d for d in required if base.cells[d].measured and not base.cells[d].passed]
    missing = [d for d in required if not base.cells[d].measured]
    parts = [f"{len(passing)} of {len(required)} pass"]
    if breaking:
        parts.append(f"breaking: {', '.join(breaking)}")
    if missing:
        parts.append(f"{NOT_MEASURED}: {', '.join(missing)}")
    return "; ".join(parts)


def _compat(base: _Base, required: Sequence[str]) -> tuple[list[Blocker], list[str]]:
    """(blockers, why not decidable) of a base over the required depsets."""
    blockers = [
        _blocker(base, base.cells[d])
        for d in required
        if base.cells[d].measured
        and not base.cells[d].passed
        and not _only_the_suite_failed(base, base.cells[d])  # the tests driver names it
    ]
    missing = [d for d in required if not base.cells[d].measured]
    why: list[str] = []
    if not required and not any(c.measured for c in base.cells.values()):
        # Nothing passes on any option and nothing ran here: no evidence, not a pass.
        first = next(iter(base.cells), None)
        reason = _not_measured_reason(base, first) if first else "the run has no dependency set"
        why.append(f"{base.name} was {NOT_MEASURED} ({reason})")
    elif missing and len(missing) == len(required):
        reason = _not_measured_reason(base, missing[0])
        why.append(f"{base.name} was {NOT_MEASURED} ({reason})")
    elif missing:
        why += [
            f"{base.name} × {', '.join(depsets)} was {NOT_MEASURED} ({reason})"
            for reason, depsets in _by_reason(base, missing).items()
        ]
    return blockers, why


def _first_failure(base: _Base) -> str:
    """A base's first failed cell and why, or that it ran nothing."""
    failing = [c for c in base.cells.values() if c.measured and not c.passed]
    if not failing:
        return f"{base.name} ran nothing"
    cell = failing[0]
    suite = _suite(base, cell.depset)
    reason = (suite.problem if suite is not None else None) or cell.reason or cell.status
    more = f" (and {len(failing) - 1} more)" if len(failing) > 1 else ""
    return f"{cell.depset} failed{more}: {reason}"


def _no_evidence(base: _Base) -> str:
    """Why a base is not decidable when nothing passes anywhere: its first failure (the
    baseline fails the same way, so the failure is the run's, not the switch's)."""
    return f"{NOTHING_PASSES}; here {_first_failure(base)}"


def _only_the_suite_failed(base: _Base, cell: _Cell) -> bool:
    """The depset installed and every probe passed but the team's own tests: the tests
    driver names those tests, so compatibility does not name them again."""
    suite = _suite(base, cell.depset)
    if suite is None or suite.status == "passed":
        return False
    for record in cell.records:
        if not install_complete(record):
            return False
        others = [record.probes.get(n) for n in record.probes.names() if n != "tests"]
        if any(p is not None and p.status not in (None, "passed") for p in others):
            return False
    return True


def _by_reason(base: _Base, depsets: Sequence[str]) -> dict[str, list[str]]:
    """The depsets not measured on a base, grouped by why (a reason is said once)."""
    found: dict[str, list[str]] = {}
    for depset in depsets:
        found.setdefault(_not_measured_reason(base, depset), []).append(depset)
    return found


def _not_measured_reason(base: _Base, depset: str) -> str:
    cell = base.cells[depset]
    if base.record is not None and base.record.status == "unavailable" and base.record.reason:
        return base.record.reason
    return cell.reason or cell.status


def _suite(base: _Base, depset: str) -> SuiteResult | None:
    cell = base.cells[depset]
    return next((s for r in cell.records if (s := suite_result(r)) is not None), None)


def _suite_text(suite: SuiteResult | None) -> str:
    if suite is None:
        return NOT_MEASURED
    text = suite.summary
    if suite.failing_names:
        text += f"; failing: {', '.join(suite.failing_names)}"
    return text


def _tests(
    base: _Base, suites: Sequence[str], required: Sequence[str], others: Sequence[_Base] = ()
) -> tuple[str, list[Blocker], list[str]]:
    """(text, blockers, why not decidable) of the team's suites on a base. A required
    depset's suite must pass whole; in any suite, a test that fails here and passed on
    another option (its suite ran there and did not fail it) blocks too, though the
    depset passes on no option (one known-failing test must not hide a regression)."""
    texts, blockers, why = [], [], []
    for depset in suites:
        suite = _suite(base, depset)
        texts.append(f"{depset}: {_suite_text(suite)}")
        if suite is None:
            if depset in required and base.cells[depset].measured:
                why.append(f"{depset}'s test suite did not run on {base.name}")
            continue
        if depset in required and (suite.failing_names or suite.status != "passed"):
            named = ", ".join(suite.failing_names) or suite.problem or suite.status
        elif suite.counts is None and suite.status != "passed":
            # failed with no JUnit report, where it fails elsewhere too: which tests failed
            # here cannot be set against the others (a regression could hide in it)
            why.append(
                f"{depset}'s test suite failed on {base.name} without a JUnit report "
                f"({suite.problem or suite.status}): its failing tests cannot be compared "
                "with the other bases' (tests.junit: true gives them)"
            )
            continue
        else:
            named = ", ".join(t for t in suite.failing_names if _passed_on(others, base, depset, t))
        if named:
            blockers.append(
                Blocker(depset, f"{depset}'s test suite ({named})", "fix the failing tests")
            )
    return "; ".join(texts), blockers, why


def passed_there(suite: SuiteResult | None, test: str) -> bool:
    """The rule's "a test passed on an option": its suite ran there (JUnit counts) and did
    not fail it (harness check's regressions read the same)."""
    return suite is not None and suite.counts is not None and test not in suite.failing_names


def _passed_on(others: Sequence[_Base], base: _Base, depset: str, test: str) -> bool:
    """Whether ``test`` of a depset's suite passed on an option other than ``base``."""
    return any(passed_there(_suite(o, depset), test) for o in others if o is not base)


def _total_bytes(base: _Base, cell: _Cell) -> int | None:
    # A size is the image's once every install step passed (as install time is): a cell
    # whose suite or a smoke test failed afterwards still has the image it would ship.
    record = cell.first
    if record is None or not install_complete(record):
        return None
    if record.image_size_bytes is not None:
        return record.image_size_bytes
    base_size = base.record.size_bytes if base.record else None
    if base_size is None or record.size_added_bytes is None:
        return None
    return base_size + record.size_added_bytes


def _compressed_bytes(cell: _Cell) -> int | None:
    record = cell.first
    complete = record is not None and install_complete(record)
    return record.image_compressed_bytes if record is not None and complete else None


def _joined(parts: Sequence[str]) -> str:
    """``"ffmpeg 342 MB; spacy not measured"``; one "not measured" when no part was."""
    if all(p.endswith(NOT_MEASURED) for p in parts):
        return NOT_MEASURED
    return "; ".join(parts)


def _change(before: float, after: float, threshold_percent: float, show: str) -> tuple[str, str]:
    """(text, outcome) of after against before: smaller is better."""
    diff = after - before
    pct = 100.0 * diff / before if before else None
    text = (
        f"{fmt.signed_size(diff)} ({fmt.signed_percent(pct)})"
        if show == "bytes"
        else f"{fmt.signed_seconds(diff)} ({fmt.signed_percent(pct)})"
    )
    if pct is None or abs(pct) < threshold_percent:
        return text, EQUAL
    return text, BETTER if diff < 0 else WORSE


def _size_row(
    driver: str, a: _Base, b: _Base, depsets: Sequence[str], rule: Rule
) -> tuple[Row, tuple[int, int] | None]:
    """Per-depset totals and their sum over the depsets measured on both (for ranking)."""
    read = _compressed_bytes if driver == "pull_size" else None
    parts_a, parts_b, sums = [], [], [0, 0]
    both = 0
    for depset in depsets:
        ca, cb = a.cells[depset], b.cells[depset]
        va = read(ca) if read else _total_bytes(a, ca)
        vb = read(cb) if read else _total_bytes(b, cb)
        parts_a.append(f"{depset} {fmt.size(va) if va is not None else NOT_MEASURED}")
        if vb is None:
            parts_b.append(f"{depset} {NOT_MEASURED}")
            continue
        if va is None:
            parts_b.append(f"{depset} {fmt.size(vb)}")
            continue
        change, _ = _change(va, vb, rule.min_size_change_percent, "bytes")
        parts_b.append(f"{depset} {fmt.size(vb)} ({change})")
        sums[0] += va
        sums[1] += vb
        both += 1
    label = DRIVER_LABELS[driver]
    if not both:
        why = (
            "the compressed size was not recorded"
            if driver == "pull_size"
            else "no depset installed on both"
        )
        return Row(
            driver, label, _joined(parts_a), _joined(parts_b), f"{NOT_MEASURED}: {why}", UNKNOWN
        ), None
    text, outcome = _change(sums[0], sums[1], rule.min_size_change_percent, "bytes")
    return (
        Row(driver, label, _joined(parts_a), _joined(parts_b), f"in all: {text}", outcome),
        (sums[0], sums[1]),
    )


def _install_sample(cell: _Cell) -> Sample | None:
    """The install steps' total per repeat whose installs all passed (as every document)."""
    values = []
    for record in cell.records:
        steps = [s for s in record.steps if s.kind == "install"]
        if steps and all(s.status in GOOD for s in steps):
            values.append(sum(s.seconds or 0.0 for s in steps))
    return Sample(tuple(values)) if values else None


def _hosts(base: _Base, depsets: Sequence[str], run_host: str | None) -> tuple[str, ...]:
    """Where a base's install timings were taken: its records' hosts, else the run's."""
    found = {r.host for d in depsets for r in base.cells[d].records if r.host}
    if found:
        return tuple(sorted(found))
    return (run_host,) if run_host else ()


def _install_row(
    a: _Base, b: _Base, depsets: Sequence[str], rule: Rule, busy: str, run_host: str | None = None
) -> tuple[Row, tuple[float, float] | None]:
    """Install totals over the depsets measured on both, and the call, withheld when the host
    was busy, a side is one sample, a timing too noisy or the two ran on different hosts."""
    parts_a, parts_b, sums, both = [], [], [0.0, 0.0], []
    withheld: list[str] = []
    for depset in depsets:
        sa, sb = _install_sample(a.cells[depset]), _install_sample(b.cells[depset])
        parts_a.append(f"{depset} {fmt.seconds(sa.median) if sa else NOT_MEASURED}")
        parts_b.append(f"{depset} {fmt.seconds(sb.median) if sb else NOT_MEASURED}")
        if sa is None or sb is None:
            continue
        if not compare_samples(sa, sb, TIME_NOISE).spread_known:
            withheld.append(ONE_SAMPLE)
        noisy = next((s for s in (sa, sb) if too_noisy(s)), None)
        if noisy is not None:
            withheld.append(f"{depset}: {noise_text(noisy)}: spread too wide to call either way")
        sums[0] += sa.median
        sums[1] += sb.median
        both.append(depset)
    label = DRIVER_LABELS["install_time"]
    shown_a, shown_b = _joined(parts_a), _joined(parts_b)
    if not both:
        return Row("install_time", label, shown_a, shown_b, NOT_MEASURED, UNKNOWN), None
    text, outcome = _change(sums[0], sums[1], rule.min_time_change_percent, "seconds")
    hosts = different_hosts(_hosts(b, both, run_host), _hosts(a, both, run_host), (b.name, a.name))
    why = busy or hosts or "; ".join(dict.fromkeys(withheld))
    if why:
        return Row(
            "install_time", label, shown_a, shown_b, f"{text}: {NO_CALL}: {why}", UNKNOWN
        ), None
    row = Row("install_time", label, shown_a, shown_b, f"in all: {text}", outcome)
    return row, (sums[0], sums[1])


def _speed_row(a: _Base, b: _Base, rule: Rule, busy: str) -> tuple[Row, float | None]:
    """Pybench ratios (candidate / baseline medians): the geometric mean of the workloads
    beyond their noise, or why no call is made."""
    label = DRIVER_LABELS["speed"]
    out_a = a.record.interpreter_speed if a.record else None
    out_b = b.record.interpreter_speed if b.record else None
    if out_a is None or out_b is None or out_a.status != "passed" or out_b.status != "passed":
        return Row(
            "speed", label, _speed_status(out_a), _speed_status(out_b), NOT_MEASURED, UNKNOWN
        ), None
    try:
        ratios = speed_ratios(out_a, out_b)
    except ValueError as exc:
        return Row("speed", label, "measured", "measured", f"{NO_CALL}: {exc}", UNKNOWN), None
    if not ratios:
        return Row(
            "speed", label, "measured", "measured", f"{NO_CALL}: no common workload", UNKNOWN
        ), None
    if any(r.ratio <= 0 for r in ratios):
        why = f"{NO_CALL}: a median is not a positive time"
        return Row("speed", label, "measured", "measured", why, UNKNOWN), None
    withheld = next((r.verdict for r in ratios if r.verdict.startswith("not compared")), "")
    mean = math.exp(sum(math.log(r.ratio) for r in ratios) / len(ratios))
    faster = sum(r.verdict.endswith("faster") for r in ratios)
    slower = sum(r.verdict.endswith("slower") for r in ratios)
    spread = max(r.noise for r in ratios)
    summary = (
        f"{len(ratios)} workloads: median ratio {fmt.ratio(mean)} of the baseline's time "
        f"(noise up to {fmt.percent(spread)})"
    )
    # The ratios' own reason first: pybench is cached per image, so its outputs' load at
    # their measurement says more than the load during this run.
    if busy or withheld:
        return Row(
            "speed", label, SPEED_REFERENCE, summary, f"{NO_CALL}: {withheld or busy}", UNKNOWN
        ), None
    counts = f"{faster} faster, {slower} slower, {len(ratios) - faster - slower} no difference"
    pct = 100.0 * (mean - 1.0)
    if abs(pct) < rule.min_time_change_percent or (faster and slower):
        return Row("speed", label, SPEED_REFERENCE, summary, f"{counts}: {SAME}", EQUAL), mean
    outcome = BETTER if mean < 1.0 else WORSE
    return Row("speed", label, SPEED_REFERENCE, summary, counts, outcome), mean


def _speed_status(output: object) -> str:
    status = getattr(output, "status", None)
    return NOT_MEASURED if status is None else f"{NOT_MEASURED} ({status})"


def _scan_text(scan: VulnCounts | NotScanned) -> str:
    """Counts with their scanner's identity; "not scanned" alone (why, and the command that
    gives the counts, are said once in what the run cannot tell)."""
    if isinstance(scan, NotScanned):
        return NOT_SCANNED
    return f"{counts_text(scan)} ({source_text(scan)})"


def _not_scanned_text(scan: NotScanned) -> str:
    """Why, and the exact command that gives the counts here."""
    if scan.command and scan.command not in scan.reason:
        return f"{scan.reason}; `{scan.command}` gives the counts"
    return scan.reason


def _vuln_key(scan: VulnCounts | NotScanned) -> tuple[int, int] | None:
    return None if isinstance(scan, NotScanned) else (scan.critical, scan.high)


def _vuln_row(a: _Base, b: _Base, rule: Rule, must: bool) -> Row:
    ka, kb = _vuln_key(a.scan), _vuln_key(b.scan)
    label = DRIVER_LABELS["vulnerabilities"]
    if kb is None or (ka is None and not must):
        return Row(
            "vulnerabilities",
            label,
            _scan_text(a.scan),
            _scan_text(b.scan),
            NOT_SCANNED,
            UNKNOWN,
            must,
        )
    if must:
        holds = _vulns_hold(b.scan, rule)
        change = "within the limits" if holds else "over the limits"
        return Row(
            "vulnerabilities",
            label,
            _scan_text(a.scan),
            _scan_text(b.scan),
            change,
            HOLDS if holds else FAILS,
            True,
        )
    assert ka is not None
    change = f"{kb[0] - ka[0]:+d} critical, {kb[1] - ka[1]:+d} high"
    outcome = EQUAL if ka == kb else BETTER if kb < ka else WORSE
    return Row("vulnerabilities", label, _scan_text(a.scan), _scan_text(b.scan), change, outcome)


def _vulns_hold(scan: VulnCounts | NotScanned, rule: Rule) -> bool | None:
    if isinstance(scan, NotScanned):
        return None
    if scan.critical > rule.max_critical:
        return False
    return rule.max_high is None or scan.high <= rule.max_high


def _support_text(base: _Base) -> str:
    python = base.python.describe() if base.python else f"Python: {NOT_MEASURED}"
    osr = base.os.describe() if base.os else f"OS release: {NOT_MEASURED}"
    return f"{python}; {osr}"


def _support_blockers(base: _Base) -> tuple[list[Blocker], list[str]]:
    """(blockers, why not decidable) of the support driver."""
    blockers, why = [], []
    if base.python is None or not base.python.in_table:
        why.append(f"{base.name}'s Python version is not known to the support table")
    elif base.python.status not in (BUGFIX, SECURITY) or base.python.releaselevel not in (
        None,
        "final",
    ):
        blockers.append(
            Blocker("", base.python.describe(), "use a final release under security support")
        )
    if base.os is None or not base.os.in_table:
        why.append(f"{base.name}'s OS release is not known to the support table")
    elif base.os.status not in (SUPPORTED, LTS):
        blockers.append(Blocker("", base.os.describe(), "use an OS release under security support"))
    return blockers, why


def _libc_text(base: _Base) -> str:
    if base.libc_family is None:
        return NOT_MEASURED
    sdists = _sdists(base)
    built = f"; built from source here: {', '.join(sdists)}" if sdists else "; no sdist fell back"
    if base.libc_family == "musl":
        return (
            f"{base.libc_text}: only musllinux wheels install; a distribution without one is "
            f"built from source or cannot install{built}"
        )
    return f"{base.libc_text}: manylinux wheels install{built}"


def _sdists(base: _Base) -> list[str]:
    """The distributions pip built from source on a base (pure-Python ones marked)."""
    found: dict[str, str] = {}
    for cell in base.cells.values():
        for record in cell.records:
            for dist in record.distributions:
                if dist.wheel is False:
                    found.setdefault(
                        dist.name,
                        dist.name + (" (pure Python)" if pure_python(record, dist.name) else ""),
                    )
    return list(found.values())


def pure_python(record: CellRecord, name: str) -> bool:
    """Whether the wheel pip built from ``name``'s sdist is pure Python (``none-any``): a
    build that needs no compiler, which is not a cost worth a con."""
    contents = record.probes.contents
    wanted = requirement_name(name)
    for dist in map(DistributionRow.of, (contents.distributions if contents else None) or []):
        if requirement_name(dist.name or "") == wanted:
            tags = dist.wheel_tags or []
            return bool(tags) and all(t.endswith("-none-any") for t in tags)
    return False


def _memory_text(base: _Base, depsets: Sequence[str]) -> str:
    """Each depset's probes' peak, as what they added to the memory the container held when
    they started: a single-stage cell's container still holds the install's page cache
    then (hundreds of MB for spaCy), a runtime cell's fresh container a few MB, so the
    peaks alone are not comparable between the two kinds."""
    parts = []
    for depset in depsets:
        record = base.cells[depset].first
        peak = record.memory_peak_bytes if record is not None else None
        if record is None or peak is None:
            continue
        held = record.memory_at_reset_bytes
        if held is None:
            parts.append(f"{depset} {fmt.size(peak)} (peak)")
        else:
            added = max(peak - held, 0)
            parts.append(
                f"{depset} +{fmt.size(added)} over the {fmt.size(held)} held when the probes "
                f"started (peak {fmt.size(peak)})"
            )
    return "; ".join(parts) or NOT_MEASURED


def _workload_text(base: _Base, depsets: Sequence[str]) -> str:
    parts = []
    for depset in depsets:
        record = base.cells[depset].first
        if record is None:
            continue
        for name in record.probes.names():
            output = record.probes.get(name)
            figure = output.workload if output is not None else None
            if figure is not None and figure.median is not None:
                parts.append(f"{depset}: {_figure_text(figure)}")
    return "; ".join(parts) or NOT_MEASURED


def _figure_text(figure: Workload) -> str:
    """``MP3 encode of 20 s of audio 41.3 ×realtime (5 repeats, 39.8–42.0)``: the probe's
    median with its range (said, never compared: the row makes no call)."""
    values = [v for v in figure.values if v is not None]
    spread = f", {_number(min(values))}–{_number(max(values))}" if len(values) > 1 else ""
    what = f"{figure.what} " if figure.what else ""
    unit = f" {figure.unit}" if figure.unit else ""
    return f"{what}{_number(figure.median)}{unit} ({len(values)} repeats{spread})"


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:.3g}"


# -- the decision ---------------------------------------------------------------------------


def decide(
    results: Results, *, baseline: str | None = None, options: Sequence[str] | None = None
) -> Decision:
    """The decision section's data: see the module's notes. ``baseline`` and ``options``
    narrow it to some bases (`harness compare A B`: A against B); default: the rule's
    baseline against every base of the run."""
    rule = rule_of(results)
    names = [b.name for b in results.bases] or list(dict.fromkeys(r.base for r in results.cells))
    if baseline is not None and baseline in names:
        rule = replace(rule, baseline=baseline, baseline_given=True)
    if options is not None:
        names = [n for n in names if n in options or n == rule.baseline]
    ran = {r.depset for r in results.cells}  # a set: 10,000 cells x 625 depsets was seconds
    depsets = [d.name for d in results.depsets if d.name in ran]
    depsets = list(dict.fromkeys([*depsets, *(r.depset for r in results.cells)]))
    cells = _pip_cells(results)
    bases = {n: _base_facts(results, n, depsets, cells) for n in names}
    reference = bases.get(rule.baseline)
    busy = "; ".join(busy_phrases(results.run, "during the run"))
    required = [d for d in depsets if any(b.cells[d].passed for b in bases.values())]
    suites = [d for d in depsets if any(_suite(b, d) is not None for b in bases.values())]
    # Evidence: a depset that passes, or a test that passes, on some option. Without any,
    # every must-driver would "hold" over nothing (0 of 0 pass): no base is ready then.
    evidence = bool(required) or any(
        (suite := _suite(b, d)) is not None
        and suite.counts is not None
        and suite.counts.get("passed", 0) > 0
        for b in bases.values()
        for d in suites
    )

    # Each base against every driver that can block: blockers, then what cannot be decided.
    others = tuple(bases.values())
    judged = {
        n: _judge(base, rule, required, suites, others, evidence) for n, base in bases.items()
    }
    must = {n: _must(rule, found) for n, found in judged.items()}

    candidates = tuple(
        _candidate(
            rule,
            reference,
            base,
            depsets,
            required,
            suites,
            busy,
            judged[base.name],
            must[base.name],
            results.run.host.hostname if results.run.host else None,
        )
        for base in bases.values()
        if reference is not None and base.name != reference.name
    )
    chosen, because = _choose(rule, bases, must, depsets, busy)
    chosen_base = bases.get(chosen) if chosen else None
    if chosen_base is not None and chosen_base.record is not None:
        # the verdict names the stand-in it rests on, not only the caveats further down
        record = chosen_base.record
        if standin_text(record) and record.reference:
            python = f" (CPython {record.python})" if record.python else ""
            because += f"; {chosen} was measured on a stand-in{python}, not on {record.reference}"
    if not evidence and reference is not None:  # one sentence, not one per base
        why = _first_failure(reference)
        because = (
            f"{NO_OPTION}: {NOTHING_PASSES}, the baseline {reference.name} included, so "
            f"there is no evidence to choose on ({reference.name}: {why}); fix that, then "
            "run again"
        )
    return Decision(
        rule=rule,
        baseline=rule.baseline,
        baseline_reference=reference.record.reference if reference and reference.record else None,
        baseline_blockers=tuple(must[rule.baseline][0]) if rule.baseline in must else (),
        candidates=candidates,
        chosen=chosen,
        because=because,
        cannot_tell=tuple(_cannot_tell(results, bases, depsets, required, busy)),
        depsets=tuple(depsets),
    )


Judged = dict[str, tuple[list[Blocker], list[str]]]  # driver -> (blockers, why undecided)


def _judge(
    base: _Base,
    rule: Rule,
    required: Sequence[str],
    suites: Sequence[str],
    others: Sequence[_Base],
    evidence: bool = True,
) -> Judged:
    """Each driver that can block, on one base: what blocks it, and what cannot be said."""
    holds = _vulns_hold(base.scan, rule)
    vulns: tuple[list[Blocker], list[str]] = ([], [])
    if holds is False:
        what = f"vulnerabilities ({_scan_text(base.scan)})"
        vulns = ([Blocker("", what, "pick a base with fewer, or patch this one")], [])
    elif holds is None:
        vulns = ([], [f"{base.name}'s base image was {NOT_SCANNED}"])
    _, test_blockers, test_why = _tests(base, suites, required, others)
    compat = _compat(base, required)
    if not evidence and not compat[1]:
        compat = (compat[0], [_no_evidence(base)])
    found = {
        "compatibility": compat,
        "tests": (test_blockers, test_why),
        "support": _support_blockers(base),
        "vulnerabilities": vulns,
    }
    return {d: ([replace(b, driver=d) for b in bs], why) for d, (bs, why) in found.items()}


def _must(rule: Rule, judged: Judged) -> tuple[list[Blocker], list[str]]:
    """The must-drivers' blockers (one per blocker and fix: torch blocks two depsets once)
    and why the base is not decidable."""
    found = {(b.what, b.fix): b for d in rule.must if d in judged for b in judged[d][0]}
    blockers = list(found.values())
    why = [w for d in rule.must if d in judged for w in judged[d][1]]
    return blockers, why


def _candidate(
    rule: Rule,
    baseline: _Base | None,
    base: _Base,
    depsets: Sequence[str],
    required: Sequence[str],
    suites: Sequence[str],
    busy: str,
    judged: Judged,
    must: tuple[list[Blocker], list[str]],
    run_host: str | None,
) -> Candidate:
    assert baseline is not None
    compat_blockers, compat_why = judged["compatibility"]
    rows = [
        Row(
            "compatibility",
            DRIVER_LABELS["compatibility"],
            _compat_text(baseline, required),
            _compat_text(base, required),
            "; ".join(dict.fromkeys(b.what for b in compat_blockers)) or "—",
            _must_outcome(compat_blockers, compat_why),
            "compatibility" in rule.must,
        )
    ]
    if suites:
        text_a, _, _ = _tests(baseline, suites, required)
        text_b, _, _ = _tests(base, suites, required)
        outcome = _must_outcome(*judged["tests"])
        rows.append(
            Row("tests", DRIVER_LABELS["tests"], text_a, text_b, "—", outcome, "tests" in rule.must)
        )
    else:
        none = "no dependency set runs the team's suite"
        rows.append(
            Row("tests", DRIVER_LABELS["tests"], none, none, "—", INFO, "tests" in rule.must)
        )
    size_row, _ = _size_row("size", baseline, base, depsets, rule)
    pull_row, _ = _size_row("pull_size", baseline, base, depsets, rule)
    install_row, _ = _install_row(baseline, base, depsets, rule, busy, run_host)
    speed_row, _ = _speed_row(baseline, base, rule, busy)
    support_blockers, support_why = judged["support"]
    in_must = "support" in rule.must
    rows += [
        size_row,
        pull_row,
        install_row,
        speed_row,
        Row(
            "workload",
            FACT_LABELS["workload"],
            _workload_text(baseline, depsets),
            _workload_text(base, depsets),
            "—",
            INFO,
        ),
        Row(
            "memory",
            FACT_LABELS["memory"],
            _memory_text(baseline, depsets),
            _memory_text(base, depsets),
            "—",
            INFO,
        ),
        _vuln_row(baseline, base, rule, "vulnerabilities" in rule.must),
        Row(
            "support",
            DRIVER_LABELS["support"],
            _support_text(baseline),
            _support_text(base),
            "; ".join(b.what for b in support_blockers) if in_must and support_blockers else "—",
            _must_outcome(support_blockers, support_why) if in_must else INFO,
            in_must,
        ),
        Row("libc", FACT_LABELS["libc"], _libc_text(baseline), _libc_text(base), "—", INFO),
    ]
    reference = base.record.reference if base.record else None
    measured = any(c.measured for c in base.cells.values())
    blockers, why = must
    if blockers:
        text = verdict_blocked(blockers)
        return Candidate(
            base.name, reference, BLOCKED, text, tuple(rows), tuple(blockers), tuple(why)
        )
    if why:
        text = verdict_not_decidable(why)
        return Candidate(
            base.name, reference, NOT_DECIDABLE, text, tuple(rows), (), tuple(why), measured
        )
    return Candidate(base.name, reference, READY, READY, tuple(rows))


def _must_outcome(blockers: Sequence[object], why: Sequence[str]) -> str:
    return FAILS if blockers else UNKNOWN if why else HOLDS


def _choose(
    rule: Rule,
    bases: dict[str, _Base],
    judged: dict[str, tuple[list[Blocker], list[str]]],
    depsets: Sequence[str],
    busy: str,
) -> tuple[str | None, str]:
    """The option the preferences pick among those holding every must-driver."""
    meeting = [n for n, (blockers, why) in judged.items() if not blockers and not why]
    if not judged:
        return None, f"{NO_OPTION}: the run has no base"
    if not meeting:
        failed = [
            f"{name}: {verdict_blocked(b) if b else verdict_not_decidable(w)}"
            for name, (b, w) in judged.items()
        ]
        drivers = ", ".join(rule.must) or "none"
        return None, f"{NO_OPTION} (must: {drivers}): " + "; ".join(failed)
    undecided = [n for n, (b, w) in judged.items() if w and not b]
    remaining, said = _rank(rule, bases, meeting, depsets, busy)
    held = f"it holds every must-driver ({', '.join(rule.must) or 'none'})"
    if len(meeting) == 1:
        held = (
            f"it is the only option that holds every must-driver ({', '.join(rule.must) or 'none'})"
        )
    notes = [*said]
    if undecided:
        notes.append(f"not decidable here: {', '.join(undecided)}")
    tail = f" ({'; '.join(notes)})" if notes else ""
    if len(remaining) == 1:
        return remaining[0], held + tail
    if rule.baseline in remaining:
        others = ", ".join(n for n in remaining if n != rule.baseline)
        return rule.baseline, (
            f"it holds every must-driver and no preference tells it from {others}: "
            f"staying avoids a switch{tail}"
        )
    return None, f"{NO_OPTION}: the preferences do not tell {', '.join(remaining)} apart{tail}"


def _rank(
    rule: Rule, bases: dict[str, _Base], meeting: list[str], depsets: Sequence[str], busy: str
) -> tuple[list[str], list[str]]:
    """Each preference in order keeps the options best on it; (what remains, what was said)."""
    remaining = list(meeting)
    said: list[str] = []
    for driver in rule.prefer:
        if len(remaining) < 2:
            break
        values = {
            n: _preference_value(rule, driver, bases[n], bases, remaining, depsets, busy)
            for n in remaining
        }
        if any(v is None for v in values.values()):
            said.append(f"{driver} could not rank them ({_why_unranked(driver, busy)})")
            continue
        kept = _best(driver, values, rule)
        if len(kept) < len(remaining):
            said.append(f"{driver} kept {', '.join(kept)}")
        remaining = kept
    return remaining, said


def _why_unranked(driver: str, busy: str) -> str:
    if driver == "vulnerabilities":
        return NOT_SCANNED
    if driver in ("install_time", "speed") and busy:
        return busy
    return f"{NOT_MEASURED} on every option, or {ONE_SAMPLE}"


def _preference_value(
    rule: Rule,
    driver: str,
    base: _Base,
    bases: dict[str, _Base],
    remaining: Sequence[str],
    depsets: Sequence[str],
    busy: str,
) -> tuple[float, ...] | None:
    """A comparable value of a base for one preference (smaller is better); None: unknown."""
    if driver == "vulnerabilities":
        key = _vuln_key(base.scan)
        return None if key is None else (float(key[0]), float(key[1]))
    common = [d for d in depsets if all(bases[n].cells[d].passed for n in remaining)]
    if driver in ("size", "pull_size"):
        values = [
            _compressed_bytes(base.cells[d])
            if driver == "pull_size"
            else _total_bytes(base, base.cells[d])
            for d in common
        ]
        return None if not values or None in values else (float(sum(v or 0 for v in values)),)
    if driver == "install_time":
        samples = [_install_sample(base.cells[d]) for d in common]
        if busy or not samples or any(s is None or s.n < 2 for s in samples):
            return None
        return (sum(s.median for s in samples if s is not None),)
    if driver == "speed":
        reference = bases.get(rule.baseline)
        if busy or reference is None:
            return None
        if base is reference:
            return (1.0,)
        _, mean = _speed_row(reference, base, rule, busy)
        return None if mean is None else (mean,)
    return None


def _best(driver: str, values: dict[str, tuple[float, ...] | None], rule: Rule) -> list[str]:
    known = {n: v for n, v in values.items() if v is not None}
    best = min(known.values())
    if driver == "vulnerabilities":
        return [n for n, v in known.items() if v == best]
    threshold = (
        rule.min_size_change_percent
        if driver in ("size", "pull_size")
        else rule.min_time_change_percent
    )
    return [n for n, v in known.items() if v[0] <= best[0] * (1 + threshold / 100.0)]


# -- what this run cannot tell you -----------------------------------------------------------


def _cannot_tell(
    results: Results,
    bases: dict[str, _Base],
    depsets: Sequence[str],
    required: Sequence[str],
    busy: str,
) -> list[str]:
    lines: list[str] = []
    for base in bases.values():
        record = base.record
        # A Dockerfile built FROM a stand-in is on the stand-in too (origin.on_standin).
        if record is not None and (standin := standin_text(record)):
            lines.append(
                f"{base.name} was measured on a stand-in, not {record.reference or 'the image'}: "
                f"{standin}; its interpreter, OS packages and sizes are the stand-in's"
            )
    lines += _unmeasured_lines(bases, depsets)
    for depset in depsets:
        if depset not in required and any(b.cells[depset].measured for b in bases.values()):
            counted = any(
                (suite := _suite(b, depset)) is not None and suite.counts is not None
                for b in bases.values()
            )
            lines.append(
                f"{depset} passes whole on no base: only its tests that pass on some base "
                "decide between them"
                if counted
                else f"{depset} passes on no base: it decides nothing between them"
            )
    samples = [
        len(b.cells[d].records) for b in bases.values() for d in depsets if b.cells[d].measured
    ]
    if samples and max(samples) < 2:
        lines.append(
            f"every timing is one sample ({ONE_SAMPLE}): install times are shown, not compared "
            "(settings.repeat: 3 gives each a spread)"
        )
    if busy:
        lines.append(f"{busy}: no timing of this run is called faster or slower")
    installers = _installer_versions(results)
    if len(installers) > 1:
        lines.append(
            "the installer's version differs between cells ("
            + "; ".join(f"{v} on {', '.join(b)}" for v, b in installers.items())
            + "): a confound for install time and for what resolves (issue #25)"
        )
    unscanned = [b for b in bases.values() if isinstance(b.scan, NotScanned)]
    if unscanned and isinstance(unscanned[0].scan, NotScanned):
        names = ", ".join(b.name for b in unscanned)
        also = f" (the same with each base's SBOM: {names})" if len(unscanned) > 1 else ""
        lines.append(f"vulnerabilities: {_not_scanned_text(unscanned[0].scan)}{also}")
    stale = staleness(_run_day(results))
    if stale:
        lines.append(stale)
    return lines


def _unmeasured_lines(bases: dict[str, _Base], depsets: Sequence[str]) -> list[str]:
    """The cells that did not run, and why (a base with none: one line)."""
    lines: list[str] = []
    for base in bases.values():
        missing = [d for d in depsets if not base.cells[d].measured]
        if missing and len(missing) == len(depsets):
            lines.append(
                f"{base.name}: nothing measured ({_not_measured_reason(base, missing[0])})"
            )
        else:
            lines += [
                f"{base.name} × {', '.join(names)}: {NOT_MEASURED} ({reason})"
                for reason, names in _by_reason(base, missing).items()
            ]
    return lines


def _installer_versions(results: Results) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in results.cells:
        installer = record.installer
        if installer is None or not installer.version:
            continue
        key = f"{installer.name or 'pip'} {installer.version}"
        if record.base not in found.setdefault(key, []):
            found[key].append(record.base)
    return found
