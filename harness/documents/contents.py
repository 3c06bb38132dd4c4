"""What each image is made of, from the contents probe's results: SBOM plans and size views.

Pure: functions take the merged results and return texts and frozen dataclasses; ``publish``
writes the files and runs the scanner.

Base SBOMs hold a base's OS packages. No cell sees the bare base, so they come from one
cell's contents probe: the first passed cell of the base whose depset installs no system
packages (its OS packages are exactly the base's), else the base's first cell with a contents
result (then the depset's system packages are listed too). The SBOM's ``harness:from-cell``
and ``harness:from-cell-rule`` properties say which cell and which rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.documents.sbom import build_sbom
from harness.model.ids import base_sbom_path, cell_sbom_path
from harness.model.probe_output import CONTENTS_PROBE, ENV_PROBE

TOP_DISTRIBUTIONS = 8
RULE_NO_SYSTEM = "a passed cell whose depset installs no system packages: the base's own"
RULE_FALLBACK = (
    "no passed cell without system packages: the first cell with a contents result, "
    "so its depset's system packages are listed too"
)
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


@dataclass(frozen=True)
class SizedDistribution:
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
    top: tuple[SizedDistribution, ...]
    sbom_path: str


def contents_of(cell: Mapping[str, Any]) -> dict[str, Any] | None:
    """The cell's contents probe result when it holds package lists, else None."""
    probe = (cell.get("probes") or {}).get(CONTENTS_PROBE)
    if not isinstance(probe, dict) or not isinstance(probe.get("os_packages"), list):
        return None
    return probe


def os_identity(cell: Mapping[str, Any]) -> tuple[str, str | None]:
    """(os-release ID, VERSION_ID) from the cell's env probe; ID "unknown" when absent."""
    env = (cell.get("probes") or {}).get(ENV_PROBE)
    release = env.get("os_release") if isinstance(env, dict) else None
    if not isinstance(release, dict):
        return UNKNOWN_OS, None
    version = release.get("VERSION_ID")
    return str(release.get("ID") or UNKNOWN_OS), str(version) if version else None


def _installs_system_packages(results: Mapping[str, Any], depset: str) -> bool:
    for spec in results.get("depsets") or []:
        if spec.get("name") == depset:
            return any(spec.get("system", {}).values())
    return False


def _in_order(cells: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Cells in results order, repeat 0 first, so the choice is stable."""
    return sorted(cells, key=lambda c: int(c.get("repeat") or 0))


def reference_cells(results: Mapping[str, Any]) -> dict[str, tuple[Mapping[str, Any], str]]:
    """Per base: the cell its OS packages are read from, and the rule that chose it."""
    chosen: dict[str, tuple[Mapping[str, Any], str]] = {}
    with_contents = [c for c in _in_order(results.get("cells") or []) if contents_of(c)]
    for cell in with_contents:
        base = str(cell.get("base"))
        clean = cell.get("status") == "passed" and not _installs_system_packages(
            results, str(cell.get("depset"))
        )
        if clean and (base not in chosen or chosen[base][1] != RULE_NO_SYSTEM):
            chosen[base] = (cell, RULE_NO_SYSTEM)
        elif base not in chosen:
            chosen[base] = (cell, RULE_FALLBACK)
    return chosen


def _base_record(results: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return next((b for b in results.get("bases") or [] if b.get("name") == name), {})


def _properties(values: Mapping[str, object]) -> dict[str, str]:
    return {f"harness:{k}": str(v) for k, v in values.items() if v is not None}


def cell_sbom(results: Mapping[str, Any], cell: Mapping[str, Any]) -> PlannedSbom:
    contents = contents_of(cell) or {}
    cell_id, repeat = str(cell.get("id")), int(cell.get("repeat") or 0)
    base = _base_record(results, str(cell.get("base")))
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
    record = _base_record(results, base)
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


# -- size views for the report ------------------------------------------------------------


def _package_key(package: Mapping[str, Any]) -> tuple[str, str]:
    return str(package.get("name")), str(package.get("architecture") or "")


def _size(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def made_of(
    results: Mapping[str, Any],
    cell: Mapping[str, Any],
    references: Mapping[str, tuple[Mapping[str, Any], str]],
) -> MadeOf | None:
    """The cell's base / system packages / Python split, or None without a contents result."""
    contents = contents_of(cell)
    if contents is None:
        return None
    system = _system_bytes(results, cell, contents, references.get(str(cell.get("base"))))
    dists = [
        SizedDistribution(str(d.get("name")), d.get("version"), _size(d.get("size_bytes")))
        for d in contents.get("distributions") or []
        if isinstance(d, dict)
    ]
    dists.sort(key=lambda d: (-d.size_bytes, d.name.lower()))
    base_size = _base_record(results, str(cell.get("base"))).get("size_bytes")
    return MadeOf(
        base_bytes=base_size if isinstance(base_size, int) and base_size > 0 else None,
        system_bytes=system,
        python_bytes=sum(d.size_bytes for d in dists),
        top=tuple(dists[:TOP_DISTRIBUTIONS]),
        sbom_path=cell_sbom_path(str(cell.get("id")), int(cell.get("repeat") or 0)),
    )


def _system_bytes(
    results: Mapping[str, Any],
    cell: Mapping[str, Any],
    contents: Mapping[str, Any],
    reference: tuple[Mapping[str, Any], str] | None,
) -> int | None:
    if not _installs_system_packages(results, str(cell.get("depset"))):
        return 0
    if reference is None or reference[1] != RULE_NO_SYSTEM:
        return None
    base_packages = (contents_of(reference[0]) or {}).get("os_packages") or []
    known = {_package_key(p) for p in base_packages if isinstance(p, dict)}
    return sum(
        _size(p.get("installed_size_bytes"))
        for p in contents.get("os_packages") or []
        if isinstance(p, dict) and _package_key(p) not in known
    )


def human_bytes(value: int | None) -> str:
    """Decimal units, as docker and pip print sizes: "780 MB", "4.2 kB"."""
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            break
        amount /= 1000
    digits = 0 if unit == "B" or amount >= 100 else 1
    return f"{amount:.{digits}f} {unit}"
