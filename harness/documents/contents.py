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
from typing import Any

from harness.analysis.sizes import base_record, contents_of, reference_cells
from harness.analysis.vulns import NOT_SCANNED_NO_DB, NotScanned
from harness.documents.sbom import build_sbom, validate_sbom
from harness.model.probe_output import ENV_PROBE
from harness.store.files import (
    PREPARE_JSON,
    base_sbom_path,
    cell_sbom_entry_path,
    cell_sbom_path,
)
from harness.store.rundir import write_atomic, write_json

UNKNOWN_OS = "unknown"


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


def os_identity(cell: Mapping[str, Any]) -> tuple[str, str | None]:
    """(os-release ID, VERSION_ID) from the cell's env probe; ID "unknown" when absent."""
    env = (cell.get("probes") or {}).get(ENV_PROBE)
    release = env.get("os_release") if isinstance(env, dict) else None
    if not isinstance(release, dict):
        return UNKNOWN_OS, None
    version = release.get("VERSION_ID")
    return str(release.get("ID") or UNKNOWN_OS), str(version) if version else None


def _properties(values: Mapping[str, object]) -> dict[str, str]:
    return {f"harness:{k}": str(v) for k, v in values.items() if v is not None}


def cell_sbom(results: Mapping[str, Any], cell: Mapping[str, Any]) -> PlannedSbom:
    found = contents_of(cell)
    contents = found.to_dict() if found else {}
    cell_id, repeat = str(cell.get("id")), int(cell.get("repeat") or 0)
    base = base_record(results, str(cell.get("base"))).to_dict()
    os_id, os_version = os_identity(cell)
    packages = contents.get("os_packages") or []
    dists = contents.get("distributions") or []
    run = results.get("run") or {}
    text = build_sbom(
        cell_id,
        None,
        os_id,
        packages,
        dists,
        _properties(
            {
                "cell": cell_id,
                "repeat": repeat,
                "base": cell.get("base"),
                "depset": cell.get("depset"),
                "image": base.get("image") or base.get("reference"),
                "image-id": base.get("image_id"),
                "run": run.get("id"),
                "cell-status": cell.get("status"),
            }
        ),
        os_version=os_version,
        package_manager=contents.get("package_manager"),
    )
    path = cell_sbom_path(cell_id, repeat)
    return PlannedSbom(path, "cell", cell_id, text, len(packages) + len(dists), cell_id, repeat)


def base_sbom(
    results: Mapping[str, Any], base: str, cell: Mapping[str, Any], rule: str
) -> PlannedSbom:
    found = contents_of(cell)
    contents = found.to_dict() if found else {}
    record = base_record(results, base).to_dict()
    os_id, os_version = os_identity(cell)
    packages = contents.get("os_packages") or []
    cell_id, repeat = str(cell.get("id")), int(cell.get("repeat") or 0)
    text = build_sbom(
        base,
        record.get("image_id"),
        os_id,
        packages,
        None,
        _properties(
            {
                "base": base,
                "image": record.get("image") or record.get("reference"),
                "from-cell": cell_id,
                "from-cell-repeat": repeat,
                "from-cell-rule": rule,
                "run": (results.get("run") or {}).get("id"),
            }
        ),
        os_version=os_version,
        package_manager=contents.get("package_manager"),
    )
    return PlannedSbom(
        base_sbom_path(base), "base", base, text, len(packages), cell_id, repeat, rule
    )


def plan_base_sboms(results: Mapping[str, Any]) -> list[PlannedSbom]:
    """One SBOM per base, from the cell ``reference_cells`` chooses for it."""
    return [
        base_sbom(results, base, cell.to_dict(), rule)
        for base, (cell, rule) in reference_cells(results).items()
    ]


def index_entry(
    plan: PlannedSbom, errors: Sequence[str], scan: Mapping[str, Any]
) -> dict[str, Any]:
    """One line of sbom/index.json."""
    entry: dict[str, Any] = {
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
    out_dir: Path, cell: Mapping[str, Any], run: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """Write one cell's SBOM (sbom/<cell>.cdx.json, validated) and its index entry
    (sbom/<cell>.entry.json, with ``seconds``: what building, validating and writing it
    took) the moment the cell ends; return the entry, or None for a cell without a
    contents result. ``run``: a mapping with the run's ``run`` and ``bases`` (results.json
    or prepare.json); read from out_dir/prepare.json when not given. The scan, when the
    matrix names a scanner, happens at publish (``vulnerabilities`` says not scanned
    until then)."""
    if not contents_of(cell):
        return None
    started = time.perf_counter()
    if run is None:
        run = json.loads((out_dir / PREPARE_JSON).read_text(encoding="utf-8"))
    plan = cell_sbom(run, cell)
    errors = validate_sbom(plan.text)
    write_atomic(out_dir / plan.path, plan.text)
    entry = index_entry(plan, errors, NotScanned(NOT_SCANNED_NO_DB).to_dict())
    entry["seconds"] = round(time.perf_counter() - started, 3)
    write_json(out_dir / cell_sbom_entry_path(plan.cell, plan.repeat), entry)
    return entry


def read_cell_sbom_entry(out_dir: Path, cell: Mapping[str, Any]) -> dict[str, Any] | None:
    """The entry ``write_cell_sbom`` wrote for this cell run, when it and its SBOM are
    there and are this cell run's; else None (publish writes it then)."""
    cell_id, repeat = str(cell.get("id")), int(cell.get("repeat") or 0)
    path = out_dir / cell_sbom_entry_path(cell_id, repeat)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or (entry.get("cell"), entry.get("repeat")) != (
        cell_id,
        repeat,
    ):
        return None
    if (
        entry.get("path") != cell_sbom_path(cell_id, repeat)
        or not (out_dir / entry["path"]).is_file()
    ):
        return None
    return entry
