"""SBOMs from the contents probe's results: what each image and each cell is made of.

Functions take the results (or prepare.json: the run and its bases) and return texts and
frozen dataclasses; ``write_cell_sbom`` writes one cell's SBOM and its index entry when
the cell ends (so its cost is the cell's, measured); ``publish`` lists those, writes the
base SBOMs and runs the scanner.

Base SBOMs hold a base's OS packages, read from the cell ``analysis.sizes.reference_cells``
chooses; the SBOM's ``harness:from-cell`` and ``harness:from-cell-rule`` properties say
which cell and which rule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Required, TypedDict, cast

from pydantic import BaseModel, ConfigDict

from harness.analysis.sizes import reference_cells
from harness.analysis.vulns import NOT_SCANNED_NO_DB, NotScanned
from harness.documents.sbom import build_sbom, validate_sbom
from harness.model.errors import ResultsError
from harness.model.results import (
    AnyResults,
    BaseRecord,
    CellRecord,
    ContentsProbe,
    Results,
    SbomEntry,
)
from harness.store.files import (
    PREPARE_JSON,
    base_sbom_path,
    cell_sbom_entry_path,
    cell_sbom_path,
)
from harness.store.rundir import write_atomic, write_json

UNKNOWN_OS = "unknown"

# A cell arrives typed, or as the dict of a cell file or of results.json's cells; a run as
# typed Results, or as the dict of results.json or prepare.json (its "run" and "bases").
AnyCell = CellRecord | Mapping[str, object]
AnyRun = Results | Mapping[str, object]


class SbomIndexEntry(TypedDict, total=False):
    """One line of sbom/index.json (read back as model.results.SbomEntry)."""

    path: Required[str]
    kind: Required[str]
    subject: Required[str]
    cell: Required[str]
    repeat: Required[int]
    components: Required[int]
    valid: Required[bool]
    errors: Required[list[str]]
    vulnerabilities: Required[Mapping[str, object]]  # the scan's record (model.results.Scan)
    from_cell_rule: str  # base SBOMs: why that cell was chosen
    seconds: float  # cell SBOMs: what writing it took, when the cell ended


class _RunHeader(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: object = None


class _RunAndBases(BaseModel):
    """Of results.json or prepare.json, what an SBOM names: ``run.id`` and ``bases``
    (each read by ``_base``)."""

    model_config = ConfigDict(extra="ignore")
    run: _RunHeader | object = None
    bases: list[object] | object = None


@dataclass(frozen=True)
class PlannedSbom:
    """One SBOM to write: where (relative to the run folder), what it describes, its text."""

    path: str
    kind: str  # "cell" or "base"
    subject: str  # the cell id or the base name
    text: str
    components: int
    cell: str
    repeat: int
    rule: str | None = None  # base SBOMs: why that cell was chosen


@dataclass(frozen=True)
class RunView:
    """What an SBOM names of its run: the run's id and the bases, typed."""

    run_id: str | None
    bases: dict[str, BaseRecord]

    @classmethod
    def of(cls, run: AnyRun) -> RunView:
        """Read once from results.json or prepare.json (only ``run.id`` and ``bases``:
        the cells of a 10,000-cell run are not validated for this)."""
        if isinstance(run, Results):
            return cls(run.run.id, {b.name: b for b in run.bases})
        read = _RunAndBases.model_validate(dict(run))
        run_id = read.run.id if isinstance(read.run, _RunHeader) else None
        listed = read.bases if isinstance(read.bases, list) else []
        bases = [_base(b) for b in listed]
        return cls(str(run_id) if run_id else None, {b.name: b for b in bases if b is not None})

    def base(self, name: str) -> BaseRecord:
        return self.bases.get(name) or BaseRecord(name=name)


def _base(data: object) -> BaseRecord | None:
    """A base of prepare.json or results.json. An SBOM needs only its name and image: one
    of a shape this harness does not read (an older run's) still gives those, so a cell's
    SBOM never stops a run."""
    if not isinstance(data, Mapping):
        return None
    try:
        return BaseRecord.from_dict(data, "the run's bases")
    except ResultsError:
        wanted = ("name", "reference", "image", "image_id")
        known = {k: data[k] for k in wanted if isinstance(data.get(k), str)}
        return BaseRecord.model_validate(known) if "name" in known else None


def as_cell(cell: AnyCell) -> CellRecord:
    return cell if isinstance(cell, CellRecord) else CellRecord.from_dict(cell, "a cell record")


class _CellKey(BaseModel):
    """A cell's id and repeat alone: publish asks every cell of the run for its SBOM
    entry, and validating whole cells there (0.7 ms each) would cost a 10,000-cell merge
    seconds."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)
    id: str
    repeat: int = 0

    @classmethod
    def of(cls, cell: AnyCell) -> _CellKey:
        if isinstance(cell, CellRecord):
            return cls(id=cell.id, repeat=cell.repeat)
        return cls.model_validate(cell)


def contents_of(cell: CellRecord) -> ContentsProbe | None:
    """The cell's contents probe result when it holds package lists, else None."""
    contents = cell.probes.contents
    return contents if contents is not None and contents.os_packages is not None else None


def os_identity(cell: AnyCell) -> tuple[str, str | None]:
    """(os-release ID, VERSION_ID) from the cell's env probe; ID "unknown" when absent."""
    env = as_cell(cell).probes.env
    release = env.os_release if env is not None else None
    if release is None:
        return UNKNOWN_OS, None
    # os-release is a file of free keys: a dict, read as such
    version = release.get("VERSION_ID")
    return str(release.get("ID") or UNKNOWN_OS), str(version) if version else None


def _properties(values: Mapping[str, object]) -> dict[str, str]:
    return {f"harness:{k}": str(v) for k, v in values.items() if v is not None}


def cell_sbom(results: AnyRun | RunView, cell: AnyCell) -> PlannedSbom:
    run = results if isinstance(results, RunView) else RunView.of(results)
    record = as_cell(cell)
    contents = contents_of(record) or ContentsProbe()
    base = run.base(record.base)
    os_id, os_version = os_identity(record)
    packages = contents.os_packages or []
    dists = contents.distributions or []
    text = build_sbom(
        record.id,
        None,
        os_id,
        packages,
        dists,
        _properties(
            {
                "cell": record.id,
                "repeat": record.repeat,
                "base": record.base,
                "depset": record.depset,
                "image": base.image or base.reference,
                "image-id": base.image_id,
                "run": run.run_id,
                "cell-status": record.status,
            }
        ),
        os_version=os_version,
        package_manager=contents.package_manager,
    )
    path = cell_sbom_path(record.id, record.repeat)
    components = len(packages) + len(dists)
    return PlannedSbom(path, "cell", record.id, text, components, record.id, record.repeat)


def base_sbom(results: AnyRun | RunView, base: str, cell: AnyCell, rule: str) -> PlannedSbom:
    run = results if isinstance(results, RunView) else RunView.of(results)
    source = as_cell(cell)
    contents = contents_of(source) or ContentsProbe()
    record = run.base(base)
    os_id, os_version = os_identity(source)
    packages = contents.os_packages or []
    text = build_sbom(
        base,
        record.image_id,
        os_id,
        packages,
        None,
        _properties(
            {
                "base": base,
                "image": record.image or record.reference,
                "from-cell": source.id,
                "from-cell-repeat": source.repeat,
                "from-cell-rule": rule,
                "run": run.run_id,
            }
        ),
        os_version=os_version,
        package_manager=contents.package_manager,
    )
    return PlannedSbom(
        base_sbom_path(base), "base", base, text, len(packages), source.id, source.repeat, rule
    )


def plan_base_sboms(results: AnyResults) -> list[PlannedSbom]:
    """One SBOM per base, from the cell ``reference_cells`` chooses for it."""
    run = RunView.of(results)
    return [
        base_sbom(run, base, cell, rule) for base, (cell, rule) in reference_cells(results).items()
    ]


def index_entry(
    plan: PlannedSbom, errors: Sequence[str], scan: Mapping[str, object]
) -> dict[str, object]:
    """``sbom_entry`` as the plain dict publish's list of entries holds (until it is typed
    as ``SbomIndexEntry`` there)."""
    return dict(sbom_entry(plan, errors, scan))


def sbom_entry(
    plan: PlannedSbom, errors: Sequence[str], scan: Mapping[str, object]
) -> SbomIndexEntry:
    """One line of sbom/index.json."""
    entry: SbomIndexEntry = {
        "path": plan.path,
        "kind": plan.kind,
        "subject": plan.subject,
        "cell": plan.cell,
        "repeat": plan.repeat,
        "components": plan.components,
        "valid": not errors,
        "errors": list(errors),
        "vulnerabilities": dict(scan),
    }
    if plan.rule is not None:
        entry["from_cell_rule"] = plan.rule
    return entry


def write_cell_sbom(
    out_dir: Path, cell: AnyCell, run: AnyRun | None = None
) -> SbomIndexEntry | None:
    """Write one cell's SBOM (sbom/<cell>.cdx.json, validated) and its index entry
    (sbom/<cell>.entry.json, with ``seconds``: what building, validating and writing it
    took) the moment the cell ends; return the entry, or None for a cell without a
    contents result. ``run``: the run's ``run`` and ``bases`` (results.json or
    prepare.json); read from out_dir/prepare.json when not given. The scan, when the
    matrix names a scanner, happens at publish (``vulnerabilities`` says not scanned
    until then)."""
    try:
        record = as_cell(cell)
    except ResultsError:  # not a record this harness reads: no SBOM, and the run goes on
        return None
    if not contents_of(record):
        return None
    started = time.perf_counter()
    if run is None:
        run = json.loads((out_dir / PREPARE_JSON).read_text(encoding="utf-8"))
        if not isinstance(run, Mapping):
            run = {}
    plan = cell_sbom(run, record)
    errors = validate_sbom(plan.text)
    write_atomic(out_dir / plan.path, plan.text)
    entry = sbom_entry(plan, errors, NotScanned(NOT_SCANNED_NO_DB).to_scan().to_dict())
    entry["seconds"] = round(time.perf_counter() - started, 3)
    write_json(out_dir / cell_sbom_entry_path(plan.cell, plan.repeat), entry)
    return entry


def read_cell_sbom_entry(out_dir: Path, cell: AnyCell) -> SbomIndexEntry | None:
    """The entry ``write_cell_sbom`` wrote for this cell run, when it and its SBOM are
    there and are this cell run's; else None (publish writes it then)."""
    record = _CellKey.of(cell)
    path = out_dir / cell_sbom_entry_path(record.id, record.repeat)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entry = SbomEntry.from_dict(data, str(path))
    except (OSError, ValueError, RecursionError, ResultsError):  # publish writes it again
        return None
    if (entry.cell, entry.repeat) != (record.id, record.repeat):
        return None
    if (
        entry.path != cell_sbom_path(record.id, record.repeat)
        or not (out_dir / entry.path).is_file()
    ):
        return None
    return cast(SbomIndexEntry, dict(data))  # checked above as an SbomEntry
