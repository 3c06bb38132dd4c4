"""What changed between two runs, and whether the nightly run should fail.

``diff_runs(a, b)`` compares two results dicts (a = before, b = after) cell by cell:
statuses, timings of steps and probes, bytes added, and the inputs that explain the
changes (base image id/digest, depset requirements, installed distributions).

Noise rule (timings; see ``runview.NoiseRule``): the medians over repeats are
compared, and a difference counts only if it exceeds the larger of the two runs'
spreads (max - min over repeats), 0.5 s, and 5 % of the earlier median (one run's
spread is enough when only one has repeats). When neither run has repeats the spread
is unknown, and the threshold becomes max(0.5 s, 25 % of the earlier median); the
diff then says that the spread was unknown. Sizes use the
same rule with floors of 1 MiB and 1 %. Differences under the threshold are kept in
``RunDiff.within_noise`` (counted, never reported as changes). A change beyond the
threshold whose before or after sample is too noisy to compare (``runview.too_noisy``)
is still reported, with a note saying so: hiding it would hide a real slowdown too.

Load rule (``runview.runs_not_compared``): no timing is called faster or slower when
either run recorded a busy host or engine (``run.load``), when the runs' ``run.jobs``
differ, or when a cell's two sides ran on different hosts. Such a difference beyond the
threshold is kept in ``RunDiff.not_compared`` with the reason ("not compared: the host
was busy during run … (load 9.6 on 2 cores)"), never in ``timing_changes``, so neither
the documents nor ``--fail-on slower`` read a slowdown into it. Sizes and statuses do
not depend on load and are compared as always.

Exit code (``exit_code``): 1 when a cell is ``failed``, ``error`` or ``timeout``
(an unexpected result), or when a regression selected by ``--fail-on`` is present;
else 0. ``unavailable``, ``unsupported`` and ``expected-failure`` never fail the run.
``unexpected-pass`` is good news (upstream fixed something): it is shown loudly but
fails the run only with ``--fail-on unexpected-pass``, for teams that want the
matrix's expectations kept up to date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.analysis.sizes import size_difference, sized_cell
from harness.analysis.view import (
    IMPORT_TIME,
    NOT_COMPARED,
    SIZE_NOISE,
    TIME_NOISE,
    CellGroup,
    Delta,
    bases_by_name,
    cell_hosts,
    compare_samples,
    depsets_by_name,
    different_hosts,
    group_cells,
    noise_text,
    runs_not_compared,
    too_noisy,
)
from harness.model.origin import short_digest
from harness.model.records import check_schema
from harness.model.results import (
    AnyResults,
    BaseRecord,
    Distribution,
    ExpectedFailure,
    Record,
    Results,
    as_results,
)
from harness.model.status import FAILING, GOOD

# --fail-on vocabulary. "status": a cell that was good and is now failed/error/timeout
# (already red as an unexpected result; listed so the message says it is a regression).


HOST_SIDES = ("before", "after")

# Fields of a base whose change explains a change of behaviour.
_BASE_FIELDS = ("reference", "origin", "image_id", "digest", "python", "os", "libc", "status")
# Fields of a depset, compared as sets of strings.
_DEPSET_FIELDS = ("pip", "system", "probes", "imports")


@dataclass(frozen=True)
class StatusChange:
    cell_id: str
    before: str
    after: str
    reason: str | None  # the after-run's reason, when it has one
    expected_failure: ExpectedFailure | None  # the after-run's {"reason", "link"}

    @property
    def worse(self) -> bool:
        return self.before in GOOD and self.after in FAILING


@dataclass(frozen=True)
class TimingChange:
    cell_id: str
    step: str  # a step name (a probe step: the probe's own seconds), or IMPORT_TIME
    delta: Delta
    # runview.runs_not_compared: why no faster/slower call is made ("" when one is).
    withheld: str = ""

    @property
    def direction(self) -> str:
        """ "slower", "faster", or "not compared" when the call is withheld."""
        if self.withheld:
            return NOT_COMPARED
        return "slower" if self.delta.change > 0 else "faster"

    @property
    def noisy_note(self) -> str:
        """``"too noisy to compare: after spread 38 % of median over 3 runs"``, or ""."""
        sides = [
            f"{label} {noise_text(sample)}"
            for label, sample in (("before", self.delta.before), ("after", self.delta.after))
            if too_noisy(sample)
        ]
        return f"too noisy to compare: {'; '.join(sides)}" if sides else ""


@dataclass(frozen=True)
class SizeChange:
    cell_id: str
    delta: Delta
    # The distributions behind it, from one passed repeat on each side: "of which torch
    # 120 MB, triton 20 MB (new)"; "" without contents results.
    of_which: str = ""

    @property
    def direction(self) -> str:
        return "larger" if self.delta.change > 0 else "smaller"


@dataclass(frozen=True)
class DistributionChange:
    cell_id: str
    name: str
    kind: str  # "version", "wheel→sdist", "sdist→wheel", "added", "removed"
    before: Distribution | None  # the distribution record of run a (None: added)
    after: Distribution | None

    def describe(self) -> str:
        a = self.before or Distribution(name=self.name)
        b = self.after or Distribution(name=self.name)
        if self.kind == "added":
            return f"{self.name} {b.version} added ({_how(b)})"
        if self.kind == "removed":
            return f"{self.name} {a.version} removed"
        if self.kind == "version":
            return f"{self.name} {a.version} → {b.version}"
        versions = str(b.version) if a.version == b.version else f"{a.version} → {b.version}"
        if self.kind == "wheel→sdist":
            return f"{self.name} {versions}: no wheel any more, built from source (wheel → sdist)"
        return f"{self.name} {versions}: a wheel now, no source build (sdist → wheel)"


def _how(dist: Distribution) -> str:
    return f"wheel {dist.tag}" if dist.wheel else "sdist, built from source"


@dataclass(frozen=True)
class BaseChange:
    base: str
    field: str
    before: str | None
    after: str | None
    reference: str | None = None  # the image reference, for a digest change
    same_reference: bool = True  # the same reference pulled in both runs

    def describe(self) -> str:
        if self.field == "digest" and self.before and self.after:
            cause = "rebuilt upstream" if self.same_reference else "a different reference"
            return (
                f"{self.base} ({self.reference}): digest {short_digest(self.before)} → "
                f"{short_digest(self.after)} ({cause})"
            )
        before, after = _short_id(self.before), _short_id(self.after)
        return f"base {self.base}: new {self.field} {before} → {after}"


def _short_id(value: str | None) -> str:
    """sha256:4c1d…(64 hex) → sha256:4c1d4c1d4c1d, as docker shows image ids."""
    if value is None:
        return "—"
    prefix, _, digest = value.rpartition("sha256:")
    return f"{prefix}sha256:{digest[:12]}" if len(digest) == 64 else value


@dataclass(frozen=True)
class DepsetChange:
    depset: str
    field: str
    removed: tuple[str, ...]
    added: tuple[str, ...]

    def describe(self) -> str:
        parts = [f"−{x}" for x in self.removed] + [f"+{x}" for x in self.added]
        return f"depset {self.depset}: {self.field} " + ", ".join(parts)


@dataclass(frozen=True)
class ExpectationChange:
    """The matrix now expects a cell to fail (or no longer does)."""

    cell_id: str
    before: str | None  # the expected failure's reason
    after: str | None

    def describe(self) -> str:
        if self.after and not self.before:
            return f"now marked as expected failure: {self.after}"
        if self.before and not self.after:
            return f"no longer marked as expected failure (was: {self.before})"
        return f"expected-failure reason: {self.before} → {self.after}"


@dataclass(frozen=True)
class CellChanges:
    """Everything the diff says about one cell: for the report's per-cell "since last run"."""

    cell_id: str
    status: StatusChange | None
    timings: tuple[TimingChange, ...]
    size: SizeChange | None
    why: tuple[str, ...]


@dataclass(frozen=True)
class RunDiff:
    run_a: str
    run_b: str
    matrix_a: str | None
    matrix_b: str | None
    status_changes: tuple[StatusChange, ...]
    timing_changes: tuple[TimingChange, ...]  # beyond noise, called faster or slower
    within_noise: tuple[TimingChange, ...]
    size_changes: tuple[SizeChange, ...]
    distribution_changes: tuple[DistributionChange, ...]
    base_changes: tuple[BaseChange, ...]
    depset_changes: tuple[DepsetChange, ...]
    expectation_changes: tuple[ExpectationChange, ...]
    cells_added: tuple[str, ...]
    cells_removed: tuple[str, ...]
    cell_bases: Mapping[str, tuple[str, str]]  # cell id → (base, depset), for "why"
    caveats: tuple[str, ...]
    # Beyond noise, but no call made: see the load rule in the module's notes.
    not_compared: tuple[TimingChange, ...] = ()
    # The run-level reason no timing is called ("" when calls are made): said once.
    timings_not_compared: str = ""

    @property
    def spread_unknown(self) -> bool:
        return any(not t.delta.spread_known for t in (*self.timing_changes, *self.within_noise))

    @property
    def empty(self) -> bool:
        return not (
            self.status_changes
            or self.timing_changes
            or self.not_compared
            or self.size_changes
            or self.distribution_changes
            or self.base_changes
            or self.depset_changes
            or self.expectation_changes
            or self.cells_added
            or self.cells_removed
        )

    def why(self, cell_id: str) -> tuple[str, ...]:
        """Input changes that may explain what happened to this cell, most direct first."""
        base, depset = self.cell_bases.get(cell_id, ("", ""))
        lines = [e.describe() for e in self.expectation_changes if e.cell_id == cell_id]
        lines += [c.describe() for c in self.distribution_changes if c.cell_id == cell_id]
        lines += [c.describe() for c in self.depset_changes if c.depset == depset]
        lines += [c.describe() for c in self.base_changes if c.base == base]
        return tuple(lines)

    def for_cell(self, cell_id: str) -> CellChanges:
        return CellChanges(
            cell_id=cell_id,
            status=next((s for s in self.status_changes if s.cell_id == cell_id), None),
            timings=tuple(
                t for t in (*self.timing_changes, *self.not_compared) if t.cell_id == cell_id
            ),
            size=next((s for s in self.size_changes if s.cell_id == cell_id), None),
            why=self.why(cell_id),
        )

    def changed_cells(self) -> list[str]:
        """Cells with a status, timing or size change, in first-seen order."""
        ids = [c.cell_id for c in self.status_changes]
        ids += [c.cell_id for c in (*self.timing_changes, *self.not_compared)]
        ids += [c.cell_id for c in self.size_changes]
        return list(dict.fromkeys(ids))


# ---------------------------------------------------------------------------- diff


def diff_runs(a: AnyResults, b: AnyResults) -> RunDiff:
    """Run a (before) against run b (after)."""
    check_schema(a)
    check_schema(b)
    a, b = as_results(a, "run a"), as_results(b, "run b")
    cells_a, cells_b = group_cells(a), group_cells(b)
    common = [cid for cid in cells_b if cid in cells_a]
    pairs = [(cells_a[cid], cells_b[cid]) for cid in common]
    # Step 1: per cell, why its timings get no faster/slower call (busy, jobs, hosts).
    run_a, run_b = a.run, b.run
    labels = (f"run {_run_id(a)}", f"run {_run_id(b)}")
    withheld = {
        gb.id: runs_not_compared(
            run_a,
            run_b,
            labels,
            hosts=different_hosts(cell_hosts(ga, a), cell_hosts(gb, b), HOST_SIDES),
        )
        for ga, gb in pairs
    }
    # Step 2: the timings, sorted into called, not called and within noise.
    timings, not_compared, noise = _timing_changes(pairs, withheld)
    return RunDiff(
        run_a=_run_id(a),
        run_b=_run_id(b),
        matrix_a=_matrix_sha(a),
        matrix_b=_matrix_sha(b),
        status_changes=tuple(_status_changes(pairs)),
        timing_changes=timings,
        within_noise=noise,
        not_compared=not_compared,
        timings_not_compared=runs_not_compared(run_a, run_b, labels),
        size_changes=tuple(_size_changes(pairs)),
        distribution_changes=tuple(c for ga, gb in pairs for c in _distribution_changes(ga, gb)),
        base_changes=tuple(_base_changes(a, b)),
        depset_changes=tuple(_depset_changes(a, b)),
        expectation_changes=tuple(_expectation_changes(pairs)),
        cells_added=tuple(cid for cid in cells_b if cid not in cells_a),
        cells_removed=tuple(cid for cid in cells_a if cid not in cells_b),
        cell_bases={g.id: (g.base, g.depset) for g in (*cells_a.values(), *cells_b.values())},
        caveats=tuple(_caveats(a, b)),
    )


def _run_id(results: Results) -> str:
    return str(results.run.id) if "id" in results.run.model_fields_set else "?"


def _matrix_sha(results: Results) -> str | None:
    matrix = results.run.matrix
    return matrix.sha256 if matrix and matrix.sha256 else None


def _status_changes(pairs: Iterable[tuple[CellGroup, CellGroup]]) -> Iterable[StatusChange]:
    for ga, gb in pairs:
        if ga.status != gb.status:
            yield StatusChange(gb.id, ga.status, gb.status, gb.reason, gb.expected_failure)


def _timing_changes(
    pairs: Iterable[tuple[CellGroup, CellGroup]], withheld: Mapping[str, str]
) -> tuple[tuple[TimingChange, ...], tuple[TimingChange, ...], tuple[TimingChange, ...]]:
    """(called faster/slower, beyond noise but not called, within noise)."""
    changes: list[TimingChange] = []
    not_called: list[TimingChange] = []
    noise: list[TimingChange] = []
    for ga, gb in pairs:
        samples = [
            (step, ga.timing_sample(step), gb.timing_sample(step)) for step in gb.step_names()
        ]
        samples.append((IMPORT_TIME, ga.import_sample(), gb.import_sample()))
        for step, before, after in samples:
            if before is None or after is None:
                continue  # the step did not pass on one side: the status change tells
            change = TimingChange(
                gb.id, step, compare_samples(before, after, TIME_NOISE), withheld.get(gb.id, "")
            )
            if not change.delta.significant:
                noise.append(change)
            else:
                (not_called if change.withheld else changes).append(change)
    return tuple(changes), tuple(not_called), tuple(noise)


def _size_changes(pairs: Iterable[tuple[CellGroup, CellGroup]]) -> Iterable[SizeChange]:
    for ga, gb in pairs:
        before, after = ga.size_sample(), gb.size_sample()
        if before is None or after is None:
            continue
        delta = compare_samples(before, after, SIZE_NOISE)
        if delta.significant:
            difference = size_difference(sized_cell(ga.records), sized_cell(gb.records))
            of_which = difference.of_which("gone", "new") if difference else ""
            yield SizeChange(gb.id, delta, of_which)


def _distribution_changes(ga: CellGroup, gb: CellGroup) -> Iterable[DistributionChange]:
    before, after = ga.distributions, gb.distributions
    if not before or not after:
        return  # one side did not get as far as installing: nothing to compare
    for name in [*before, *(n for n in after if n not in before)]:
        da, db = before.get(name), after.get(name)
        shown = (db or da or Distribution(name=name)).name
        if da is None or db is None:
            yield DistributionChange(gb.id, shown, "added" if da is None else "removed", da, db)
        elif bool(da.wheel) != bool(db.wheel):
            kind = "sdist→wheel" if db.wheel else "wheel→sdist"
            yield DistributionChange(gb.id, shown, kind, da, db)
        elif da.version != db.version:
            yield DistributionChange(gb.id, shown, "version", da, db)


def _field_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Record):
        return " ".join(str(v) for v in value.to_dict().values() if v is not None)
    return str(value)


def _base_changes(a: Results, b: Results) -> Iterable[BaseChange]:
    bases_a, bases_b = bases_by_name(a), bases_by_name(b)
    for name, base_b in bases_b.items():
        base_a = bases_a.get(name)
        if base_a is None:
            continue
        changed = {
            field: (_field_text(getattr(base_a, field)), _field_text(getattr(base_b, field)))
            for field in _BASE_FIELDS
            if _field_text(getattr(base_a, field)) != _field_text(getattr(base_b, field))
        }
        if "digest" in changed and all(changed["digest"]):
            changed.pop("image_id", None)  # a new manifest is a new image: one cause, one line
        for field, (before, after) in changed.items():
            yield BaseChange(
                name,
                field,
                before,
                after,
                reference=base_b.reference,
                same_reference=_pulled_as(base_a) == _pulled_as(base_b),
            )


def _pulled_as(base: BaseRecord) -> str | None:
    return base.pulled_reference or base.reference


def _as_strings(value: dict[str, list[str] | None] | list[str] | None) -> set[str]:
    """A depset field as a set of strings: lists as they are, {"apt": [...]} as "apt:x"."""
    if isinstance(value, dict):
        return {f"{k}:{item}" for k, items in value.items() for item in items or []}
    return {str(item) for item in value or []}


def _depset_changes(a: Results, b: Results) -> Iterable[DepsetChange]:
    depsets_a, depsets_b = depsets_by_name(a), depsets_by_name(b)
    for name, dep_b in depsets_b.items():
        dep_a = depsets_a.get(name)
        if dep_a is None:
            continue
        for field in _DEPSET_FIELDS:
            before = _as_strings(getattr(dep_a, field))
            after = _as_strings(getattr(dep_b, field))
            if before != after:
                removed, added = sorted(before - after), sorted(after - before)
                yield DepsetChange(name, field, tuple(removed), tuple(added))


def _expectation_changes(
    pairs: Iterable[tuple[CellGroup, CellGroup]],
) -> Iterable[ExpectationChange]:
    for ga, gb in pairs:
        before = ga.expected_failure.reason if ga.expected_failure else None
        after = gb.expected_failure.reason if gb.expected_failure else None
        if before != after:
            yield ExpectationChange(gb.id, before, after)


def _caveats(a: Results, b: Results) -> Iterable[str]:
    """Reasons the timings of the two runs may not be comparable at all."""
    run_a, run_b = a.run, b.run
    if run_a.jobs != run_b.jobs:
        yield (
            f"cells ran {run_a.jobs} at a time in {_run_id(a)} and "
            f"{run_b.jobs} at a time in {_run_id(b)}: parallel cells share CPU "
            "and network, so timings are not directly comparable"
        )
    host_a = run_a.host.hostname if run_a.host else None
    host_b = run_b.host.hostname if run_b.host else None
    if host_a != host_b:
        yield f"different hosts: {host_a} and {host_b}"
    if _matrix_sha(a) != _matrix_sha(b):
        yield f"the matrix changed (sha256 {_short(_matrix_sha(a))} → {_short(_matrix_sha(b))})"


def _short(sha: str | None) -> str:
    return (sha or "none")[:12]


__all__ = [
    "BaseChange",
    "CellChanges",
    "DepsetChange",
    "DistributionChange",
    "ExpectationChange",
    "RunDiff",
    "SizeChange",
    "StatusChange",
    "TimingChange",
    "diff_runs",
]
