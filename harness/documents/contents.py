"""SBOMs from the contents probe's results: what each image and each cell is made of.

Pure: functions take the merged results and return texts and frozen dataclasses; ``publish``
writes the files and runs the scanner.

Base SBOMs hold a base's OS packages, read from the cell ``analysis.sizes.reference_cells``
chooses; the SBOM's ``harness:from-cell`` and ``harness:from-cell-rule`` properties say
which cell and which rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.analysis.sizes import base_record, contents_of, reference_cells
from harness.documents.sbom import build_sbom
from harness.model.probe_output import ENV_PROBE
from harness.store.files import base_sbom_path, cell_sbom_path

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
    contents = contents_of(cell) or {}
    cell_id, repeat = str(cell.get("id")), int(cell.get("repeat") or 0)
    base = base_record(results, str(cell.get("base")))
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
    contents = contents_of(cell) or {}
    record = base_record(results, base)
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


def plan_sboms(results: Mapping[str, Any]) -> list[PlannedSbom]:
    """Every SBOM of a run: one per cell record with a contents result, one per base."""
    plans = [cell_sbom(results, c) for c in results.get("cells") or [] if contents_of(c)]
    for base, (cell, rule) in reference_cells(results).items():
        plans.append(base_sbom(results, base, cell, rule))
    return plans


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
