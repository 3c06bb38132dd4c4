"""``harness check``: old base against new base for the team's depsets, and the verdict.

Three steps, each returning data (documents/check.py renders it):

1. ``base_pairs(changes)``: the changed bases worth running (a tag, image or digest that
   moved), one pair per distinct old → new reference, with every place it is written;
   a stage added or removed, or a platform change, is listed as not run (nothing to
   compare on this host).
2. ``check_matrix_data(pairs, depsets)``: the matrix the pipeline runs, built in memory:
   each pair's two references as bases (``b1-old``, ``b1-new``, …) and the team's depsets
   (those of its matrix file, or ``project_depset`` from its own files).
3. ``check_verdict(…, results)``: per pair, ``ready`` (every depset good on the new base),
   ``blocked`` (a depset fails on it: each blocker named with a fix) or ``unmeasured``
   (the new base or a depset could not be had here); per depset the old and new rows; and
   what changed inside the image (the nightly diff's base changes, Python version, OS
   packages, size): said for every pair, and always for a digest-only bump.

The exit code follows ``--fail-on`` (``FAIL_ON``); ``CheckReport.to_dict`` is the JSON
for bots (format ``CHECK_FORMAT``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from harness.analysis import decision
from harness.analysis.diff import diff_runs
from harness.analysis.suites import SuiteResult, suite_result
from harness.model import format as fmt
from harness.model.baserefs import (
    BaseChange,
    BaseChanges,
    ChangeKind,
    GitSide,
    GitSideJSON,
    ImageRef,
)
from harness.model.errors import ConfigurationError
from harness.model.ids import DEFAULT_INSTALLER, installer_of
from harness.model.matrix import Matrix
from harness.model.results import BaseRecord, CellRecord, CellRuns, Results
from harness.model.status import BASE_AVAILABLE, FAILING, GOOD
from harness.store.files import LOGS_DIR, log_file_name

CHECK_FORMAT = "harness-check/1"

# Verdict words of the JSON for bots, one per changed base. They name the decision's
# verdict on the new base against the old one (analysis/decision.py ``decide``: the one
# rule for what blocks a base); nothing here decides on its own.
READY = "ready"
BLOCKED = "blocked"
UNMEASURED = "unmeasured"
VERDICT_OF: Mapping[str, str] = {
    decision.READY: READY,
    decision.BLOCKED: BLOCKED,
    decision.NOT_DECIDABLE: UNMEASURED,
}
# The decision's rows said beside a verdict: its timing calls (or why none is made).
TIMING_DRIVERS = ("install_time", "speed")

# --fail-on: which outcomes make `harness check` exit 1 (comma-separated).
REGRESSION, FAILURE, NEVER = "regression", "failure", "never"  # and UNMEASURED
FAIL_ON: Mapping[str, str] = {
    REGRESSION: "the new base breaks a depset or a test that passed on the old one (default)",
    FAILURE: "a depset fails on the new base, even one that failed on the old one too",
    UNMEASURED: "a changed base could not be measured here (not pulled, a reference "
    "that cannot be resolved, a depset unavailable)",
    NEVER: "exit 0 whatever the verdict (the comment still says it)",
}
DEFAULT_FAIL_ON = REGRESSION
PYTEST = re.compile(r"(^|[\s/])(py\.test|pytest)(\s|$)")
MESSAGE_CHARS = 240  # of a test's failure message or a cell's reason, in one line
PACKAGES_NAMED = 5  # OS package changes named before "and N more"


# -- the JSON shapes (``CheckReport.to_dict``, format CHECK_FORMAT; the check's matrix) --------


class PairJSON(TypedDict):
    old: str
    new: str
    kind: str
    places: list[str]


class BlockerJSON(TypedDict):
    depset: str
    what: str
    fix: str
    regression: bool


class SideJSON(TypedDict):
    status: str | None
    reason: str | None
    tests_passed: int | None
    tests_total: int | None
    tests_skipped: int | None
    install_seconds: float | None
    size_added_bytes: int | None
    log: str | None


class RowJSON(TypedDict):
    depset: str
    old: SideJSON
    new: SideJSON
    regression: bool
    fixed_tests: list[str]


class VerdictJSON(PairJSON):
    verdict: str
    why: str | None
    also_failing: list[BlockerJSON]
    timings: list[str]
    cannot_tell: list[str]
    depsets_passed: int
    depsets: int
    tests_passed: int | None
    tests_total: int | None
    tests_skipped: int | None
    old_image_bytes: int | None
    new_image_bytes: int | None
    old_python: str | None
    new_python: str | None
    inside: list[str]
    blockers: list[BlockerJSON]
    rows: list[RowJSON]


class CheckJSON(TypedDict):
    format: str
    base: GitSideJSON
    head: GitSideJSON
    run: dict[str, str | None]
    fail_on: list[str]
    exit_code: int
    failures: list[str]
    bases: list[VerdictJSON]
    not_run: list[dict[str, str]]
    unresolved: list[str]
    links: list[dict[str, str]]


class ProjectTests(TypedDict):
    command: str
    junit: bool


class ProjectDepset(TypedDict, total=False):
    """The team's project as a matrix depset (``project_depset``)."""

    description: str
    requirements: list[str]
    lockfile: str
    project: dict[str, str]
    source: str
    tests: ProjectTests


class CheckBase(TypedDict):
    image: str
    description: str


# A matrix fragment dumped from the team's matrix (settings, a depset, a cell rule): passed
# on to the check's matrix as written, never read here.
MatrixPart = Mapping[str, object]


class CheckMatrixData(TypedDict):
    version: int
    settings: dict[str, object]
    bases: dict[str, CheckBase]
    depsets: dict[str, object]
    cells: dict[str, object]


def parse_fail_on(text: str) -> frozenset[str]:
    words = frozenset(w.strip() for w in text.split(",") if w.strip())
    unknown = sorted(words - set(FAIL_ON))
    if unknown or not words:
        raise ConfigurationError(
            f"{text!r}: unknown word(s) {', '.join(unknown) or '(none given)'}",
            f"use one or more of {', '.join(FAIL_ON)}, comma-separated (e.g. "
            "--fail-on regression,unmeasured)",
            key="--fail-on",
        )
    if NEVER in words and len(words) > 1:
        raise ConfigurationError(
            f"{text!r}: 'never' cannot go with other words",
            "give 'never' alone, or drop it",
            key="--fail-on",
        )
    return words


# -- 1. the pairs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BasePair:
    """One changed base to run: the old and the new reference, and where they are written."""

    key: str  # b1, b2, …: the prefix of its two bases in the check's matrix
    old: ImageRef
    new: ImageRef
    kind: str  # model.baserefs.ChangeKind's word
    places: tuple[str, ...]  # "Dockerfile, stage builder"

    @property
    def old_base(self) -> str:
        return f"{self.key}-old"

    @property
    def new_base(self) -> str:
        return f"{self.key}-new"

    @property
    def title(self) -> str:
        """``python:3.11-slim → python:3.13-slim``; a digest bump keeps its tag once."""
        if self.kind == ChangeKind.DIGEST:
            return (
                f"{self.new.familiar_name_tag} "
                f"{fmt_digest(self.old.digest)} → {fmt_digest(self.new.digest)}"
            )
        return f"{self.old.familiar} → {self.new.familiar}"

    def to_dict(self) -> PairJSON:
        return {
            "old": self.old.familiar,
            "new": self.new.familiar,
            "kind": self.kind,
            "places": list(self.places),
        }


def fmt_digest(digest: str | None) -> str:
    """``@sha256:4c1d4c1d4c1d`` (12 hex digits, as docker shows ids), or ``(no digest)``."""
    if not digest:
        return "(no digest)"
    algorithm, _, hexes = digest.partition(":")
    return f"@{algorithm}:{hexes[:12]}"


@dataclass(frozen=True)
class NotRun:
    what: str
    reason: str


def base_pairs(changes: BaseChanges) -> tuple[tuple[BasePair, ...], tuple[NotRun, ...]]:
    """The distinct old → new references to run, first-seen order, and what is not run."""
    found: dict[tuple[str, str], list[BaseChange]] = {}
    skipped: list[NotRun] = []
    for change in changes.changes:
        old = change.old.image if change.old else None
        new = change.new.image if change.new else None
        place = f"{change.file}, {change.where}"
        if change.kind is ChangeKind.ADDED or old is None:
            shown = new.familiar if new else "?"
            skipped.append(NotRun(f"{shown} ({place})", "added: no old base to compare with"))
        elif change.kind is ChangeKind.REMOVED or new is None:
            skipped.append(NotRun(f"{old.familiar} ({place})", "removed: nothing to run"))
        elif change.kind is ChangeKind.PLATFORM:
            skipped.append(
                NotRun(
                    f"{new.familiar} ({place})",
                    "only the --platform changed: harness runs the host's platform",
                )
            )
        else:
            found.setdefault((old.familiar, new.familiar), []).append(change)
    pairs = []
    for index, group in enumerate(found.values(), start=1):
        first = group[0]
        assert first.old is not None and first.new is not None
        assert first.old.image is not None and first.new.image is not None
        pairs.append(
            BasePair(
                key=f"b{index}",
                old=first.old.image,
                new=first.new.image,
                kind=first.kind.value,
                places=tuple(f"{c.file}, {c.where}" for c in group),
            )
        )
    return tuple(pairs), tuple(skipped)


# -- 2. the matrix ------------------------------------------------------------------------


PROJECT_DEPSET = "project"


def project_depset(
    requirements: str | None, lockfile: str | None, tests: str | None, has_pyproject: bool
) -> ProjectDepset:
    """The team's project as one depset, as a matrix would write it: its requirements or
    lockfile installed (the project itself too when it has a pyproject.toml), its folder
    as the source and its test command run there (JUnit read when it is pytest). Paths
    relative to the repository's root."""
    depset: ProjectDepset = {
        "description": "the repository's own project"
        + (f", tested with `{tests}`" if tests else "")
    }
    if requirements:
        depset["requirements"] = [requirements]
    if lockfile:
        depset["lockfile"] = lockfile
    if has_pyproject and (lockfile or not requirements):
        depset["project"] = {"path": "."}
    if tests:
        depset["source"] = "."
        depset["tests"] = {"command": tests, "junit": bool(PYTEST.search(tests))}
    return depset


def matrix_depsets(
    matrix: Matrix,
) -> tuple[dict[str, object], dict[str, MatrixPart], dict[str, object]]:
    """A matrix file's (settings, depsets, cells) as data, for the check's matrix: its own
    base names mean nothing there, so only the cell rules over every base (``base: '*'``)
    are kept."""
    spec = matrix.spec
    settings: dict[str, object] = spec.settings.model_dump(
        mode="json", exclude_unset=True, by_alias=True
    )
    depsets: dict[str, MatrixPart] = {
        name: d.model_dump(mode="json", exclude_unset=True, by_alias=True)
        for name, d in spec.depsets.items()
    }
    cells: dict[str, object] = {}
    for key in ("exclude", "expected_failures", "overrides"):
        kept = [
            s.model_dump(mode="json", exclude_unset=True, by_alias=True)
            for s in getattr(spec.cells, key)
            if s.base == "*"
        ]
        if kept:
            cells[key] = kept
    return settings, depsets, cells


def check_matrix_data(
    pairs: Iterable[BasePair],
    depsets: Mapping[str, object],
    settings: Mapping[str, object] | None = None,
    cells: Mapping[str, object] | None = None,
) -> CheckMatrixData:
    """The matrix ``harness check`` runs: each pair's old and new references as bases."""
    bases: dict[str, CheckBase] = {}
    for pair in pairs:
        for name, image, side in (
            (pair.old_base, pair.old, "old"),
            (pair.new_base, pair.new, "new"),
        ):
            bases[name] = {
                "image": image.familiar,
                "description": f"{side} base of {'; '.join(pair.places)}",
            }
    return {
        "version": 1,
        # Pulled each time: a tag moves upstream, and a local copy may be older.
        "settings": {"pull": "always", **(settings or {})},
        "bases": bases,
        "depsets": dict(depsets),
        "cells": dict(cells or {}),
    }


# -- 3. the verdict ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    """What fails on the new base: a distribution, a test or a step, and the fix."""

    depset: str
    what: str  # "pydantic-core 2.9.2: no cp313 wheel", "test tests/test_x.py::test_y"
    fix: str
    regression: bool  # it passed on the old base

    def to_dict(self) -> BlockerJSON:
        return {
            "depset": self.depset,
            "what": self.what,
            "fix": self.fix,
            "regression": self.regression,
        }


@dataclass(frozen=True)
class Side:
    """One depset on one base."""

    status: str | None  # None: no such cell in the run
    reason: str | None
    tests_passed: int | None
    tests_total: int | None
    install_seconds: float | None
    size_added_bytes: int | None
    log: str | None  # the cell's log, relative to the run directory
    tests_skipped: int | None = None

    @property
    def tests(self) -> str | None:
        """``39/80, 41 skipped``: passed of total, and the skipped (so a passed suite's 39/80
        is not read as 41 failures)."""
        if self.tests_total is None:
            return None
        return tests_fraction(self.tests_passed or 0, self.tests_total, self.tests_skipped)

    def to_dict(self) -> SideJSON:
        return {
            "status": self.status,
            "reason": self.reason,
            "tests_passed": self.tests_passed,
            "tests_total": self.tests_total,
            "tests_skipped": self.tests_skipped,
            "install_seconds": self.install_seconds,
            "size_added_bytes": self.size_added_bytes,
            "log": self.log,
        }


@dataclass(frozen=True)
class DepsetRow:
    depset: str
    old: Side
    new: Side
    # A test that passed on the old base fails on the new (though the old failed another).
    test_regression: bool = False
    fixed: tuple[str, ...] = ()  # tests failing on the old base that pass on the new

    @property
    def regression(self) -> bool:
        """The new base breaks what the old one passed: the depset, or one of its tests."""
        return (self.old.status in GOOD and self.new.status in FAILING) or self.test_regression

    def to_dict(self) -> RowJSON:
        return {
            "depset": self.depset,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "regression": self.regression,
            "fixed_tests": list(self.fixed),
        }


@dataclass(frozen=True)
class BaseVerdict:
    pair: BasePair
    verdict: str  # READY | BLOCKED | UNMEASURED
    why: str  # for UNMEASURED: what could not be had; else ""
    rows: tuple[DepsetRow, ...]
    blockers: tuple[Blocker, ...]
    old_image_bytes: int | None
    new_image_bytes: int | None
    old_python: str | None
    new_python: str | None
    inside: tuple[str, ...]  # what changed inside the image (digest bumps above all)
    # Failures on the new base that do not block it under the rule: the depset fails on
    # the old base too, or only its uv twin fails (bases are decided under pip).
    also_failing: tuple[Blocker, ...] = ()
    timings: tuple[str, ...] = ()  # the decision's install-time and speed calls, or why none
    cannot_tell: tuple[str, ...] = ()  # the decision's confounds (busy host, one sample, …)

    @property
    def depsets_passed(self) -> int:
        return sum(1 for r in self.rows if r.new.status in GOOD)

    @property
    def tests_passed(self) -> int:
        return sum(r.new.tests_passed or 0 for r in self.rows)

    @property
    def tests_total(self) -> int:
        return sum(r.new.tests_total or 0 for r in self.rows)

    @property
    def tests_skipped(self) -> int:
        return sum(r.new.tests_skipped or 0 for r in self.rows)

    @property
    def has_tests(self) -> bool:
        return any(r.new.tests_total is not None for r in self.rows)

    @property
    def image_change_bytes(self) -> int | None:
        if self.old_image_bytes is None or self.new_image_bytes is None:
            return None
        return self.new_image_bytes - self.old_image_bytes

    @property
    def regressions(self) -> tuple[Blocker, ...]:
        """What the new base breaks that passed on the old one (a uv twin's too)."""
        return tuple(b for b in (*self.blockers, *self.also_failing) if b.regression)

    def to_dict(self) -> VerdictJSON:
        return {
            **self.pair.to_dict(),
            "verdict": self.verdict,
            "why": self.why or None,
            "depsets_passed": self.depsets_passed,
            "depsets": len(self.rows),
            "tests_passed": self.tests_passed if self.has_tests else None,
            "tests_total": self.tests_total if self.has_tests else None,
            "tests_skipped": self.tests_skipped if self.has_tests else None,
            "old_image_bytes": self.old_image_bytes,
            "new_image_bytes": self.new_image_bytes,
            "old_python": self.old_python,
            "new_python": self.new_python,
            "inside": list(self.inside),
            "blockers": [b.to_dict() for b in self.blockers],
            "also_failing": [b.to_dict() for b in self.also_failing],
            "timings": list(self.timings),
            "cannot_tell": list(self.cannot_tell),
            "rows": [r.to_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class CheckReport:
    base: GitSide
    head: GitSide
    verdicts: tuple[BaseVerdict, ...]
    not_run: tuple[NotRun, ...]
    unresolved: tuple[str, ...]  # references that could not be resolved, located
    run_id: str | None
    run_dir: str | None
    links: tuple[tuple[str, str], ...] = field(default=())  # (label, url or path)

    def failures(self, fail_on: frozenset[str]) -> list[str]:
        """Why ``harness check`` exits 1 under ``fail_on`` (empty: it exits 0)."""
        if NEVER in fail_on:
            return []
        found: list[str] = []
        for v in self.verdicts:
            if REGRESSION in fail_on:
                found += [f"{v.pair.title}: {b.depset}: {b.what}" for b in v.regressions]
            if FAILURE in fail_on:
                found += [
                    f"{v.pair.title}: {b.depset}: {b.what}"
                    for b in (*v.blockers, *v.also_failing)
                    if not b.regression
                ]
            if UNMEASURED in fail_on and v.verdict == UNMEASURED:
                found.append(f"{v.pair.title}: not measured ({v.why})")
        if UNMEASURED in fail_on:
            found += [f"cannot resolve {u}" for u in self.unresolved]
        return found

    def exit_code(self, fail_on: frozenset[str]) -> int:
        return 1 if self.failures(fail_on) else 0

    def to_dict(self, fail_on: frozenset[str] | None = None) -> CheckJSON:
        chosen = fail_on if fail_on is not None else frozenset({DEFAULT_FAIL_ON})
        return {
            "format": CHECK_FORMAT,
            "base": self.base.to_dict(),
            "head": self.head.to_dict(),
            "run": {"id": self.run_id, "dir": self.run_dir},
            "fail_on": sorted(chosen),
            "exit_code": self.exit_code(chosen),
            "failures": self.failures(chosen),
            "bases": [v.to_dict() for v in self.verdicts],
            "not_run": [{"what": n.what, "reason": n.reason} for n in self.not_run],
            "unresolved": list(self.unresolved),
            "links": [{"label": label, "url": url} for label, url in self.links],
        }


def check_verdict(
    changes: BaseChanges,
    pairs: Iterable[BasePair],
    not_run: Iterable[NotRun],
    results: Results | None,
    links: Iterable[tuple[str, str]] = (),
    run_dir: str | None = None,
) -> CheckReport:
    """The verdict on every pair from the run's results (None: nothing was run)."""
    unresolved = tuple(
        f"{u.use.located}: {u.use.problem} ({' and '.join(u.sides)})" for u in changes.unresolved
    )
    verdicts = tuple(_verdict(p, results) for p in pairs) if results is not None else ()
    return CheckReport(
        base=changes.base,
        head=changes.head,
        verdicts=verdicts,
        not_run=tuple(not_run),
        unresolved=unresolved,
        run_id=results.run.id if results is not None else None,
        run_dir=run_dir,
        links=tuple(links),
    )


def _verdict(pair: BasePair, results: Results) -> BaseVerdict:
    old_base, new_base = results.base(pair.old_base), results.base(pair.new_base)
    runs = results.cell_runs()
    depsets = [d.name for d in results.depsets]
    # Step 1: the rule's verdict, the new base as the one option against the old one as the
    # baseline: the decision every document shows, so the two cannot disagree.
    decided = decision.decide(results, baseline=pair.old_base, options=[pair.new_base])
    candidate = next((c for c in decided.candidates if c.base == pair.new_base), None)
    blocking = {b.depset for b in candidate.blockers} if candidate else set()
    # Step 2: per depset and installer, the old and new rows and what fails on the new base,
    # named as precisely as the cell allows; it blocks where the rule says its depset does.
    rows: list[DepsetRow] = []
    blockers: list[Blocker] = []
    also_failing: list[Blocker] = []
    for depset in depsets:
        old_cells = [r for r in runs.values() if r.base == pair.old_base and r.depset == depset]
        new_cells = [r for r in runs.values() if r.base == pair.new_base and r.depset == depset]
        for old_run, new_run in _paired(old_cells, new_cells):
            old_rec = old_run.representative if old_run else None
            new_rec = new_run.representative if new_run else None
            row = DepsetRow(depset, _side(old_rec), _side(new_rec))
            found = []
            if new_rec is not None and row.new.status in FAILING:
                found = _blockers(depset, old_rec, new_rec, row, new_base)
            row = DepsetRow(
                depset,
                row.old,
                row.new,
                test_regression=any(b.regression for b in found),
                fixed=_fixed_tests(old_rec, new_rec),
            )
            rows.append(row)
            pip = new_rec is None or _installer(new_rec) == DEFAULT_INSTALLER
            (blockers if depset in blocking and pip else also_failing).extend(found)
    # What the rule blocks on and the cells do not name (an expected failure, a failure in
    # a repeat, a must-driver of the base itself): the rule's own words.
    named = {b.depset for b in blockers}
    for b in candidate.blockers if candidate else ():
        if b.depset not in named:
            blockers.append(Blocker(b.depset or pair.new.familiar, b.what, b.fix, bool(b.depset)))
    # Step 3: the verdict word, and why a base is not measured (the base's own reason
    # first: "registry refused the pull" says more than the rule's sentence).
    verdict = VERDICT_OF[candidate.verdict] if candidate else UNMEASURED
    why = ""
    if verdict == UNMEASURED:
        if new_base is None or new_base.status != BASE_AVAILABLE:
            why = (new_base.reason if new_base else None) or f"{pair.new.familiar} was not resolved"
        else:
            undecided = candidate.undecided if candidate else ()
            why = _named("; ".join(undecided), pair) or "no depset to run"
    timings = tuple(
        f"{row.label}: {_named(row.change, pair)}"
        for row in (candidate.rows if candidate else ())
        if row.driver in TIMING_DRIVERS
    )
    return BaseVerdict(
        pair=pair,
        verdict=verdict,
        why=why,
        rows=tuple(rows),
        blockers=tuple(blockers),
        old_image_bytes=old_base.size_bytes if old_base else None,
        new_image_bytes=new_base.size_bytes if new_base else None,
        old_python=_python(old_base),
        new_python=_python(new_base),
        inside=tuple(inside_changes(results, pair)),
        also_failing=tuple(also_failing),
        timings=timings,
        cannot_tell=tuple(_named(line, pair) for line in decided.cannot_tell),
    )


def _named(text: str, pair: BasePair) -> str:
    """The rule's sentences name the check's bases (``b1-old``): the references instead."""
    return text.replace(pair.old_base, pair.old.familiar).replace(pair.new_base, pair.new.familiar)


def _paired(
    old: list[CellRuns], new: list[CellRuns]
) -> list[tuple[CellRuns | None, CellRuns | None]]:
    """A depset's cells on each side, matched by installer (pip, uv)."""
    by_installer = {_installer(r.representative): r for r in old}
    pairs: list[tuple[CellRuns | None, CellRuns | None]] = [
        (by_installer.pop(_installer(r.representative), None), r) for r in new
    ]
    return pairs + [(r, None) for r in by_installer.values()]


def _installer(record: CellRecord) -> str:
    return installer_of(record.id)


def _python(base: BaseRecord | None) -> str | None:
    if base is None:
        return None
    if base.env and base.env.python and base.env.python.version:
        return base.env.python.version
    return base.python


def _side(record: CellRecord | None) -> Side:
    if record is None:
        return Side(None, "no such cell in the run", None, None, None, None, None)
    suite = suite_result(record)
    passed, total = _test_counts(suite)
    return Side(
        status=record.status,
        reason=record.reason,
        tests_passed=passed,
        tests_total=total,
        install_seconds=record.install_seconds,
        size_added_bytes=record.size_added_bytes,
        log=f"{LOGS_DIR}/{log_file_name(record.id, record.repeat)}",
        tests_skipped=suite.counts.get("skipped", 0) if suite and suite.counts else None,
    )


def tests_fraction(passed: int, total: int, skipped: int | None) -> str:
    """``39/80`` and, where any were skipped, ``, 41 skipped``."""
    return f"{passed}/{total}" + (f", {skipped} skipped" if skipped else "")


def _test_counts(suite: SuiteResult | None) -> tuple[int | None, int | None]:
    if suite is None or suite.counts is None:
        return None, None
    return suite.counts["passed"], suite.counts["tests"]


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "…"


def _blockers(
    depset: str,
    old: CellRecord | None,
    new: CellRecord,
    row: DepsetRow,
    new_base: BaseRecord | None,
) -> list[Blocker]:
    """What fails on the new base, most specific first: failing tests (by name), a
    distribution pip could not install, else the failed step."""
    regression = row.regression
    python = _python(new_base) or "the new base's Python"
    old_suite = suite_result(old) if old is not None else None
    found: list[Blocker] = []
    suite = suite_result(new)
    if suite is not None:
        for test in suite.failing:
            message = f" ({_one_line(test.message)})" if test.message else ""
            found.append(
                Blocker(
                    depset,
                    f"test {test.name} {test.outcome} on the new base{message}",
                    f"make it pass on Python {python} (or keep the old base); "
                    f"its output: {row.new.log}",
                    decision.passed_there(old_suite, test.name),  # a regression
                )
            )
        if found:
            return found
    for step in new.steps:
        if step.status not in FAILING:
            continue
        failure = step.failure
        if failure is not None and failure.distribution:
            what = f"{failure.distribution}: {_one_line(failure.what or step.reason or 'failed')}"
            fix = failure.hint or step.reason or f"see {row.new.log}"
        else:
            what = f"{step.name}: {_one_line(step.reason or step.error or str(step.status))}"
            fix = f"see {row.new.log}"
        found.append(Blocker(depset, what, _one_line(fix), regression))
        return found
    reason = _one_line(new.reason or str(new.status))
    return [Blocker(depset, reason, f"see {row.new.log}", regression)]


def _fixed_tests(old: CellRecord | None, new: CellRecord | None) -> tuple[str, ...]:
    """Tests that fail on the old base and pass on the new one (its suite ran whole)."""
    old_suite = suite_result(old) if old is not None else None
    new_suite = suite_result(new) if new is not None else None
    if old_suite is None or new_suite is None or new_suite.counts is None:
        return ()
    return tuple(sorted(set(old_suite.failing_names) - set(new_suite.failing_names)))


# -- what changed inside the image ---------------------------------------------------------


def inside_changes(results: Results, pair: BasePair) -> list[str]:
    """What differs inside the image, old → new: the nightly diff's base changes (digest,
    Python, OS), the image's size, and the OS packages the contents probe listed."""
    old, new = results.base(pair.old_base), results.base(pair.new_base)
    if old is None or new is None or BASE_AVAILABLE not in (old.status, new.status):
        return []
    lines: list[str] = []
    # Step 1: the nightly diff, on the run seen as two runs of one base.
    a, b = (
        _as_one_base(results, pair.old_base, pair.key),
        _as_one_base(results, pair.new_base, pair.key),
    )
    diff = diff_runs(a, b)
    for change in diff.base_changes:
        if change.field in ("reference", "origin", "image_id", "status"):
            continue
        if change.field == "digest":
            lines.append(f"digest {fmt_digest(change.before)[1:]} → {fmt_digest(change.after)[1:]}")
        elif change.field == "libc":  # the family and version; how it was read is noise
            lines.append(f"libc: {_libc(old)} → {_libc(new)}")
        else:
            lines.append(f"{change.field}: {change.before or '—'} → {change.after or '—'}")
    python_old, python_new = _python(old), _python(new)
    if python_old and python_old == python_new:  # a digest bump: say it did not move
        lines.append(f"python: {python_new} (unchanged)")
    # Step 2: the image's size.
    if old.size_bytes is not None and new.size_bytes is not None:
        delta = new.size_bytes - old.size_bytes
        lines.append(
            f"image size: {fmt.size(old.size_bytes)} → {fmt.size(new.size_bytes)} "
            f"({fmt.signed_size(delta)})"
        )
    # Step 3: OS packages (from the first cell on each side with a contents probe).
    packages = _package_changes(results, pair)
    if packages:
        lines.append(packages)
    return lines


def _libc(base: BaseRecord) -> str:
    libc = base.libc
    if libc is None:
        return "—"
    return " ".join(str(part) for part in (libc.family, libc.version) if part) or "—"


def _as_one_base(results: Results, base: str, key: str) -> Results:
    """The run as if ``base`` were its only base, named ``key`` (its cells renamed too), so
    the nightly diff compares the old and the new side as two runs of one base."""
    record = results.base(base)
    cells = [
        cell.model_copy(update={"base": key, "id": key + cell.id.removeprefix(base)})
        for cell in results.cells
        if cell.base == base
    ]
    bases = [record.model_copy(update={"name": key})] if record else []
    return results.model_copy(update={"bases": bases, "cells": cells})


def _packages(results: Results, base: str) -> dict[str, str] | None:
    for cell in results.cells:
        contents = cell.probes.contents
        if cell.base == base and contents is not None and contents.os_packages is not None:
            return {p["name"]: str(p.get("version") or "?") for p in contents.os_packages}
    return None


def _package_changes(results: Results, pair: BasePair) -> str:
    old, new = _packages(results, pair.old_base), _packages(results, pair.new_base)
    if old is None or new is None:
        return ""
    changed = [f"{n} {old[n]} → {new[n]}" for n in sorted(old) if n in new and old[n] != new[n]]
    added = [f"+{n} {new[n]}" for n in sorted(new) if n not in old]
    removed = [f"−{n}" for n in sorted(old) if n not in new]
    if not (changed or added or removed):
        return f"OS packages: the same {len(new)}"
    counts = ", ".join(
        f"{len(items)} {word}"
        for items, word in ((changed, "changed"), (added, "added"), (removed, "removed"))
        if items
    )
    named = (changed + added + removed)[:PACKAGES_NAMED]
    more = len(changed) + len(added) + len(removed) - len(named)
    tail = f", and {more} more" if more > 0 else ""
    return f"OS packages: {counts} ({', '.join(named)}{tail})"


__all__ = [
    "BLOCKED",
    "CHECK_FORMAT",
    "DEFAULT_FAIL_ON",
    "FAIL_ON",
    "READY",
    "UNMEASURED",
    "VERDICT_OF",
    "BasePair",
    "BaseVerdict",
    "Blocker",
    "CheckReport",
    "DepsetRow",
    "NotRun",
    "Side",
    "base_pairs",
    "check_matrix_data",
    "check_verdict",
    "inside_changes",
    "matrix_depsets",
    "parse_fail_on",
    "project_depset",
]
