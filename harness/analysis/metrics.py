"""What one cell record measured, derived from its steps and probes: the numbers the
report's grid and tables show (install time, import time, smoke time) and the kind of
artefact each distribution was installed from. Numbers, never text to show."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from packaging.tags import parse_tag

from harness.analysis.view import NON_SMOKE_PROBES
from harness.model.results import CellRecord, ImportsProbe, ImportTiming, Probes, Step


def sum_steps(
    steps: Sequence[Step], *, kind: str | None = None, name: str | None = None
) -> float | None:
    """The seconds of the steps of that kind and/or name; None when none has a time."""
    values = [
        s.seconds
        for s in steps
        if (kind is None or s.kind == kind) and (name is None or s.name == name)
        if s.seconds is not None and math.isfinite(s.seconds)
    ]
    return sum(values) if values else None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def install_complete(cell: CellRecord) -> bool:
    """True when every install step passed: only then are install numbers comparable."""
    installs = [s for s in cell.steps if s.kind == "install"]
    blocked = cell.status in ("unavailable", "unsupported")
    return bool(installs) and not blocked and all(s.status == "passed" for s in installs)


def import_seconds(probes: Probes) -> float | None:
    """Sum of the per-module import times: the imports probe's, else the smoke probes'."""
    modules: dict[str, ImportTiming | float | None] = dict(import_modules(probes.imports))
    if not modules:
        for name in probes.names():
            probe = probes.get(name)
            if name not in NON_SMOKE_PROBES and probe is not None:
                modules |= probe.import_time or {}
    known = [v for v in map(module_seconds, modules.values()) if v is not None]
    return sum(known) if known else None


def import_modules(probe: ImportsProbe | None) -> dict[str, ImportTiming]:
    """{module: timing} of the imports probe: ``modules`` (probes/imports.py), or the
    older ``imports``."""
    if probe is None:
        return {}
    return probe.modules or probe.imports or {}


def module_seconds(entry: ImportTiming | float | None) -> float | None:
    # A timing, or its seconds alone (smoke probes may write just the number).
    return as_float(entry.seconds if isinstance(entry, ImportTiming) else entry)


def as_float(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def smoke_seconds(probes: Probes) -> float | None:
    """Total wall time the smoke probes reported for themselves."""
    values = [
        seconds
        for name in probes.names()
        if name not in NON_SMOKE_PROBES
        and (probe := probes.get(name)) is not None
        and (seconds := as_float(probe.seconds)) is not None
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
