"""What a cell's bytes are made of, from its records alone: the contents probe's package and
distribution sizes, and the writable layer measured after each install step.

Three views, shared by the report, the Markdown summary and ``harness compare``:

- ``made_of``: base image / system packages / Python distributions, with the largest ones;
- ``step_sizes``: the bytes each install step added (``steps[].bytes_added``), and what was
  written after them (the probes' files), which add up to ``size_added_bytes``;
- ``size_difference``: two cells of one depset side by side, with the distributions that
  account for the difference ("18 MB less, of which blis 6 MB").

Base SBOMs and the system-package split need a base's own OS packages. No cell sees the
bare base, so they come from one cell's contents probe: the first passed cell of the base
whose depset installs no system packages (its OS packages are exactly the base's), else the
base's first cell with a contents result (its depset's system packages are listed too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from harness.analysis.view import bases_by_name, cell_records, depsets_by_name
from harness.model import format as fmt
from harness.model.results import (
    AnyResults,
    BaseRecord,
    CellRecord,
    ContentsProbe,
)
from harness.model.rows import DistributionRow, PackageRow
from harness.model.status import GOOD
from harness.store.files import cell_sbom_path

TOP_DISTRIBUTIONS = 8
# "of which": the distributions named for a size difference, and the least worth naming.
DIFFERENCE_NAMED = 3
DIFFERENCE_FLOOR_BYTES = 100_000
RULE_NO_SYSTEM = "a passed cell whose depset installs no system packages: the base's own"
RULE_FALLBACK = (
    "no passed cell without system packages: the first cell with a contents result, "
    "so its depset's system packages are listed too"
)
# What a step table calls the bytes written after the install steps.
AFTER_INSTALL = "after the install steps (probes, tests)"


@dataclass(frozen=True)
class SizedItem:
    """A Python distribution (bytes on disk) or an OS package (its installed size)."""

    name: str
    version: str | None
    size_bytes: int


@dataclass(frozen=True)
class MadeOf:
    """A cell's bytes in three parts, and its largest Python distributions.

    ``base_bytes`` is the base image's size (bases[].size_bytes); ``system_bytes`` the
    installed size (dpkg/apk's own figure) of the OS packages the cell has and its base's
    reference cell has not (0 when the depset installs none; None when no reference cell
    without system packages exists, so what they added cannot be told apart);
    ``python_bytes`` the sum of the distributions' sizes on disk.
    """

    base_bytes: int | None
    system_bytes: int | None
    python_bytes: int
    top: tuple[SizedItem, ...]
    sbom_path: str
    # The largest OS packages the cell has and its base's reference cell has not (dpkg's
    # Installed-Size, apk's installed size): empty when that cannot be told apart.
    top_system: tuple[SizedItem, ...] = ()


@dataclass(frozen=True)
class StepSize:
    name: str
    bytes_added: int


@dataclass(frozen=True)
class StepSizes:
    """The writable layer's growth per install step: ``start + sum(steps) + after_install``
    is ``total`` (``size_added_bytes``), each measured by the engine, none estimated."""

    start: int
    steps: tuple[StepSize, ...]
    after_install: int
    total: int
    measure_seconds: float | None

    @property
    def accounted(self) -> int:
        return self.start + sum(s.bytes_added for s in self.steps) + self.after_install


@dataclass(frozen=True)
class DistributionChange:
    name: str
    a_bytes: int | None  # None: not installed on that side
    b_bytes: int | None

    @property
    def change(self) -> int:
        return (self.b_bytes or 0) - (self.a_bytes or 0)


@dataclass(frozen=True)
class SizeDifference:
    """One depset's bytes on base B against base A (B − A), from one passed cell each."""

    added_a: int | None
    added_b: int | None
    python_a: int
    python_b: int
    changes: tuple[DistributionChange, ...]  # largest change first, zero changes left out

    @property
    def added_change(self) -> int | None:
        if self.added_a is None or self.added_b is None:
            return None
        return self.added_b - self.added_a

    def accounting(self) -> tuple[DistributionChange, ...]:
        """The distributions named in "of which": same direction as the total, largest."""
        total = self.added_change
        if not total:
            return ()
        same_way = [
            c
            for c in self.changes
            if (c.change < 0) == (total < 0) and abs(c.change) >= DIFFERENCE_FLOOR_BYTES
        ]
        return tuple(same_way[:DIFFERENCE_NAMED])

    def sentence(self, depset: str, base_a: str, base_b: str) -> str:
        """``"spacy on alpine: 18.0 MB less than on slim, of which blis 6.0 MB"``."""
        total = self.added_change
        if total is None:
            return f"{depset}: no size on one side"
        if abs(total) < DIFFERENCE_FLOOR_BYTES:
            return f"{depset} on {base_b}: the same bytes added as on {base_a}"
        word = "less" if total < 0 else "more"
        text = f"{depset} on {base_b}: {fmt.size(abs(total))} {word} than on {base_a}"
        named = self.of_which(f"only on {base_a}", f"only on {base_b}")
        return f"{text}, {named}" if named else text

    def of_which(self, only_a: str, only_b: str) -> str:
        """``"of which blis 6.0 MB, triton 286 MB (only_b)"``, or "" when none is named;
        ``only_a``/``only_b`` mark a distribution found on one side only."""
        parts = [
            f"{c.name} {fmt.size(abs(c.change))}{_one_sided(c, only_a, only_b)}"
            for c in self.accounting()
        ]
        return "of which " + ", ".join(parts) if parts else ""


def _one_sided(change: DistributionChange, only_a: str, only_b: str) -> str:
    if change.a_bytes is None:
        return f" ({only_b})"
    if change.b_bytes is None:
        return f" ({only_a})"
    return ""


# -- which cell describes a base ----------------------------------------------------------

# A cell record, or (callers not converted yet: report.py, contents.py) its dict, read
# through CellRecord once per call.
AnyCell = CellRecord | Mapping[str, object]


def as_cell(cell: AnyCell) -> CellRecord:
    return cell if isinstance(cell, CellRecord) else CellRecord.from_dict(cell, "cell")


def contents_of(cell: AnyCell) -> ContentsProbe | None:
    """The cell's contents probe result when it holds package lists, else None."""
    probe = as_cell(cell).probes.contents
    return probe if probe is not None and probe.os_packages is not None else None


def installs_system_packages(results: AnyResults, depset: str) -> bool:
    spec = depsets_by_name(results).get(depset)
    return spec is not None and any((spec.system or {}).values())


def _in_order(cells: Iterable[CellRecord]) -> list[CellRecord]:
    """Cells in results order, repeat 0 first, so the choice is stable."""
    return sorted(cells, key=lambda c: c.repeat)


def reference_cells(results: AnyResults) -> dict[str, tuple[CellRecord, str]]:
    """Per base: the cell its OS packages are read from, and the rule that chose it."""
    chosen: dict[str, tuple[CellRecord, str]] = {}
    with_contents = [c for c in _in_order(cell_records(results)) if contents_of(c)]
    for cell in with_contents:
        base = cell.base
        clean = cell.status == "passed" and not installs_system_packages(results, cell.depset)
        if clean and (base not in chosen or chosen[base][1] != RULE_NO_SYSTEM):
            chosen[base] = (cell, RULE_NO_SYSTEM)
        elif base not in chosen:
            chosen[base] = (cell, RULE_FALLBACK)
    return chosen


def base_record(results: AnyResults, name: str) -> BaseRecord:
    """The base's record (an empty one when the run does not list it)."""
    return bases_by_name(results).get(name) or BaseRecord(name=name)


# -- made of --------------------------------------------------------------------------------


def _package_key(package: PackageRow) -> tuple[str, str]:
    return package.name, package.architecture or ""


def _size(value: int | None) -> int:
    return value if value is not None and value > 0 else 0


def distribution_sizes(cell: AnyCell) -> list[SizedItem]:
    """The venv's distributions with their bytes on disk, largest first."""
    contents = contents_of(cell)
    dists = [
        SizedItem(str(d.name), d.version, _size(d.size_bytes))
        for d in map(DistributionRow.of, (contents.distributions if contents else None) or [])
    ]
    dists.sort(key=lambda d: (-d.size_bytes, d.name.lower()))
    return dists


def made_of(
    results: AnyResults,
    cell: AnyCell,
    references: Mapping[str, tuple[CellRecord, str]],
) -> MadeOf | None:
    """The cell's base / system packages / Python split, or None without a contents result."""
    cell = as_cell(cell)
    contents = contents_of(cell)
    if contents is None:
        return None
    added = _added_packages(results, cell, contents, references.get(cell.base))
    system = None if added is None else sum(p.size_bytes for p in added)
    dists = distribution_sizes(cell)
    base_size = base_record(results, cell.base).size_bytes
    return MadeOf(
        base_bytes=base_size if base_size is not None and base_size > 0 else None,
        system_bytes=system,
        python_bytes=sum(d.size_bytes for d in dists),
        top=tuple(dists[:TOP_DISTRIBUTIONS]),
        sbom_path=cell_sbom_path(cell.id, cell.repeat),
        top_system=tuple((added or [])[:TOP_DISTRIBUTIONS]),
    )


def _added_packages(
    results: AnyResults,
    cell: CellRecord,
    contents: ContentsProbe,
    reference: tuple[CellRecord, str] | None,
) -> list[SizedItem] | None:
    """The OS packages the depset added, largest first; None when they cannot be told
    from the base's own (no reference cell without system packages)."""
    if not installs_system_packages(results, cell.depset):
        return []
    if reference is None or reference[1] != RULE_NO_SYSTEM:
        return None
    base_contents = contents_of(reference[0])
    base_rows = (base_contents.os_packages if base_contents else None) or []
    known = {_package_key(PackageRow.of(p)) for p in base_rows}
    added = [
        SizedItem(p.name, p.version, _size(p.installed_size_bytes))
        for p in map(PackageRow.of, contents.os_packages or [])
        if _package_key(p) not in known
    ]
    return sorted(added, key=lambda p: (-p.size_bytes, p.name))


# -- bytes per install step -----------------------------------------------------------------


def step_sizes(cell: AnyCell) -> StepSizes | None:
    """The cell's bytes per install step, or None when it was not measured per step."""
    cell = as_cell(cell)
    total, start = cell.size_added_bytes, cell.size_start_bytes
    after = cell.size_probes_bytes
    if total is None or start is None or after is None:
        return None
    steps = tuple(StepSize(s.name, s.bytes_added) for s in cell.steps if s.bytes_added is not None)
    return StepSizes(start, steps, after, total, cell.size_measure_seconds)


# -- two bases, one depset -------------------------------------------------------------------


def sized_cell(records: Sequence[CellRecord]) -> CellRecord | None:
    """The record a size comparison reads: the first passed repeat with a contents result."""
    return next((r for r in _in_order(records) if r.status in GOOD and contents_of(r)), None)


def size_difference(cell_a: CellRecord | None, cell_b: CellRecord | None) -> SizeDifference | None:
    """B − A by distribution; None unless both sides have a contents result."""
    if cell_a is None or cell_b is None or not contents_of(cell_a) or not contents_of(cell_b):
        return None
    sizes_a = {canonicalize_name(d.name): d for d in distribution_sizes(cell_a)}
    sizes_b = {canonicalize_name(d.name): d for d in distribution_sizes(cell_b)}
    changes = [
        DistributionChange(
            (sizes_a.get(k) or sizes_b[k]).name,
            sizes_a[k].size_bytes if k in sizes_a else None,
            sizes_b[k].size_bytes if k in sizes_b else None,
        )
        for k in [*sizes_a, *(k for k in sizes_b if k not in sizes_a)]
    ]
    changes = sorted((c for c in changes if c.change), key=lambda c: (-abs(c.change), c.name))
    return SizeDifference(
        added_a=cell_a.size_added_bytes,
        added_b=cell_b.size_added_bytes,
        python_a=sum(d.size_bytes for d in sizes_a.values()),
        python_b=sum(d.size_bytes for d in sizes_b.values()),
        changes=tuple(changes),
    )
