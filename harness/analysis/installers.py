"""pip vs another installer (uv) on the same base and depset, from one run.

For each base × depset that has both a pip cell (``base×depset``) and a twin of another
installer (``base×depset+uv``): each side's status and installer version, the install
time (every install step) and the installer step alone (``pip-install`` vs
``uv-install``: the system packages and the venv are the same work on both sides), their
ratio, and every distribution the two resolutions disagree on. Deltas follow the noise
rule of ``analysis.view``: from one sample per side the noise is unknown, so a
difference is shown with "one sample, noise unknown" and no faster/slower call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.analysis.compare import (
    DistributionDifference,
    Metric,
    distribution_differences,
)
from harness.analysis.view import (
    ONE_SAMPLE,
    TIME_NOISE,
    CellGroup,
    Sample,
    cell_records,
    compare_samples,
    group_cells,
)
from harness.model import format as fmt
from harness.model.ids import DEFAULT_INSTALLER, installer_step
from harness.model.results import AnyResults
from harness.model.status import GOOD


@dataclass(frozen=True)
class InstallerSide:
    installer: str
    cell_id: str
    status: str
    reason: str | None
    version: str | None
    repeats: int


@dataclass(frozen=True)
class InstallerPair:
    """pip (A) and another installer (B) on one base × depset."""

    base: str
    depset: str
    pip: InstallerSide
    other: InstallerSide
    install: Metric  # all install steps
    step: Metric  # the installer's own step
    distributions: tuple[DistributionDifference, ...]
    same_distributions: int
    verdict: str

    @property
    def ratio(self) -> float | None:
        """other / pip for the installer step's medians (0.25: four times as fast)."""
        return _ratio(self.step)

    @property
    def version_differences(self) -> tuple[DistributionDifference, ...]:
        return tuple(d for d in self.distributions if d.kind == "version")


def _ratio(metric: Metric) -> float | None:
    if metric.a is None or metric.b is None or metric.a.median == 0:
        return None
    return metric.b.median / metric.a.median


def _side(group: CellGroup) -> InstallerSide:
    return InstallerSide(
        installer=group.installer,
        cell_id=group.id,
        status=group.status,
        reason=group.reason,
        version=group.installer_version,
        repeats=len(group.records),
    )


def _metric(name: str, a: Sample | None, b: Sample | None) -> Metric:
    delta = compare_samples(a, b, TIME_NOISE) if a is not None and b is not None else None
    return Metric(name, "s", a, b, delta)


def installer_pairs(
    results: AnyResults,
    bases: Sequence[str] | None = None,
    depsets: Sequence[str] | None = None,
) -> list[InstallerPair]:
    """Every pip cell with a twin of another installer, in the run's cell order."""
    groups = list(group_cells(results).values())  # read once (a dict is validated here)

    def cells_of(installer: str) -> dict[tuple[str, str], CellGroup]:  # view.installer_cells
        return {(g.base, g.depset): g for g in groups if g.installer == installer}

    pip_cells = cells_of(DEFAULT_INSTALLER)
    pairs = []
    for other in sorted({g.installer for g in groups} - {DEFAULT_INSTALLER}):
        for key, twin in cells_of(other).items():
            pip = pip_cells.get(key)
            if pip is None or (bases and key[0] not in bases):
                continue
            if depsets and key[1] not in depsets:
                continue
            pairs.append(_pair(pip, twin))
    return pairs


def _pair(pip: CellGroup, twin: CellGroup) -> InstallerPair:
    install = _metric("install", pip.install_sample(), twin.install_sample())
    step = _metric(
        "installer step",
        pip.step_sample(installer_step(pip.installer)),
        twin.step_sample(installer_step(twin.installer)),
    )
    differences, same = distribution_differences(pip, twin)
    a, b = _side(pip), _side(twin)
    return InstallerPair(
        base=pip.base,
        depset=pip.depset,
        pip=a,
        other=b,
        install=install,
        step=step,
        distributions=differences,
        same_distributions=same,
        verdict=_verdict(a, b, step, differences),
    )


def _verdict(
    a: InstallerSide, b: InstallerSide, step: Metric, dists: tuple[DistributionDifference, ...]
) -> str:
    good_a, good_b = a.status in GOOD, b.status in GOOD
    if not (good_a and good_b):
        return _status_verdict(a, b)
    parts = ["installs with both", _timing_text(b.installer, step)]
    versions = [d for d in dists if d.kind == "version"]
    parts.append(
        f"{len(versions)} distribution(s) resolved to another version"
        if versions
        else "same versions"
    )
    return "; ".join(p for p in parts if p)


def _status_verdict(a: InstallerSide, b: InstallerSide) -> str:
    def text(side: InstallerSide) -> str:
        return f"{side.installer} {side.status}" + (f" ({side.reason})" if side.reason else "")

    if a.status in GOOD:
        return f"breaks with {text(b)}"
    if b.status in GOOD:
        return f"works only with {b.installer}; {text(a)}"
    return f"neither installs: {text(a)}; {text(b)}"


def _timing_text(other: str, step: Metric) -> str:
    d = step.delta
    if d is None:
        return ""
    ratio = _ratio(step)
    ratio_text = f"{other}/pip {fmt.ratio(ratio)}" if ratio is not None else ""
    if not d.spread_known:
        change = fmt.signed_seconds(d.change)
        return f"{other} step {change} vs pip, {ratio_text} ({ONE_SAMPLE}: no call)"
    noisy = step.noisy_sides("pip", other)
    if noisy:
        return f"installer step too noisy to call ({'; '.join(noisy)})"
    if not d.significant:
        return f"no difference beyond noise in the installer step ({ratio_text})"
    word = "faster" if d.change < 0 else "slower"
    return (
        f"{other} {word} by {fmt.seconds_spread(abs(d.change), d.uncertainty)} "
        f"in the installer step ({ratio_text})"
    )


def fairness_note(results: AnyResults) -> list[str]:
    """What makes the pip and uv numbers comparable, from what the uv cells recorded."""
    others = [
        (c, c.installer)
        for c in cell_records(results)
        if c.installer is not None and c.installer.name not in (None, "", DEFAULT_INSTALLER)
    ]
    if not others:
        return []
    strategies = sorted({str(installer.index_strategy) for _c, installer in others})
    versions = sorted({str(installer.version) for _c, installer in others})
    note = [
        "Both cold: pip with PIP_NO_CACHE_DIR=1, uv with --no-cache; each cell is a fresh "
        "container and venv.",
        "Both byte-compile: pip by default, uv with --compile-bytecode (warm cells: "
        "neither, both from the warm wheelhouse with no index).",
        "Same requirements, indexes (index_url, extra_index_urls), wheelhouses "
        "(--find-links) and CA bundle on both sides.",
        f"uv {', '.join(versions)} with --index-strategy {', '.join(strategies)} "
        "(unsafe-best-match picks the best version across all indexes, as pip does; "
        "uv's own default, first-index, stops at the first index that has the project).",
        "The installer step is the fair number; the install total adds the system "
        "packages and the venv, the same work on both sides.",
    ]
    if any(c.warm for c, _installer in others):
        note.append("Warm cells are quick iteration, never a measurement to cite.")
    return note
