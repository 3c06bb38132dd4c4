"""What one cell record measured, derived from its steps and probes: the numbers the
report's grid and tables show (install time, import time, smoke time) and the kind of
artefact each distribution was installed from. Numbers, never text to show."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from packaging.tags import parse_tag

from harness.analysis.view import NON_SMOKE_PROBES


def sum_steps(steps: Sequence[Mapping[str, Any]], **match: str) -> float | None:
    chosen = [s for s in steps if all(s.get(k) == v for k, v in match.items())]
    values = [float(s["seconds"]) for s in chosen if is_number(s.get("seconds"))]
    return sum(values) if values else None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def install_complete(cell: Mapping[str, Any]) -> bool:
    """True when every install step passed: only then are install numbers comparable."""
    installs = [s for s in cell.get("steps") or [] if s.get("kind") == "install"]
    blocked = cell.get("status") in ("unavailable", "unsupported")
    return bool(installs) and not blocked and all(s.get("status") == "passed" for s in installs)


def import_seconds(probes: Mapping[str, Any]) -> float | None:
    """Sum of the per-module import times: the imports probe's, else the smoke probes'."""
    modules = import_modules(probes.get("imports"))
    if not modules:
        modules = {
            module: entry
            for name, probe in probes.items()
            if name not in NON_SMOKE_PROBES and isinstance(probe, dict)
            for module, entry in (probe.get("import_time") or {}).items()
        }
    known = [v for v in map(module_seconds, modules.values()) if v is not None]
    return sum(known) if known else None


def import_modules(probe: Any) -> dict[str, Any]:
    """{module: facts} of the imports probe: ``modules`` (probes/imports.py), or ``imports``."""
    if not isinstance(probe, dict):
        return {}
    modules = probe.get("modules") or probe.get("imports") or {}
    return modules if isinstance(modules, dict) else {}


def module_seconds(entry: Any) -> float | None:
    # Accept both {"seconds": s, ...} and a bare number, so a simpler probe still renders.
    return as_float(entry.get("seconds") if isinstance(entry, dict) else entry)


def as_float(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def smoke_seconds(probes: Mapping[str, Any]) -> float | None:
    """Total wall time the smoke probes reported for themselves."""
    values = [
        float(p["seconds"])
        for name, p in probes.items()
        if name not in NON_SMOKE_PROBES and isinstance(p, dict) and is_number(p.get("seconds"))
    ]
    return sum(values) if values else None


def classify_tag(wheel: bool | None, tag: str | None) -> str:
    """What kind of artefact pip installed, from the wheel tag (see PEP 425/600/656):
    ``"manylinux"``, ``"abi3 musllinux"``, ``"py3-none-any"``, ``"sdist-built"``..."""
    if wheel is False:
        return "sdist-built"
    if not tag:
        return "unknown"
    try:
        tags = parse_tag(tag)
    except ValueError:
        return tag  # not a tag: shown as recorded
    abis = {t.abi for t in tags}
    platforms = {t.platform for t in tags}
    abi = "abi3" if "abi3" in abis else "none" if abis == {"none"} else min(abis)
    if platforms == {"any"}:
        return "py3-none-any" if abi == "none" else f"{abi}-any"
    kind = _platform_kind(platforms)
    return f"abi3 {kind}" if abi == "abi3" else kind


def _platform_kind(platforms: set[str]) -> str:
    for kind in ("musllinux", "manylinux", "macosx", "win"):
        if any(p.startswith(kind) for p in platforms):
            return kind
    if any(p.startswith("linux") for p in platforms):
        return "linux (not portable)"
    return ".".join(sorted(platforms))
