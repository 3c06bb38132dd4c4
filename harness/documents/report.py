"""report.html from results.json alone (schema_version 1, see docs/design.md).

Tables are lists of rows (plain dicts) derived from the results; the page is a jinja2
template with autoescape on, because every string that came out of a container
(log tails, probe output, package names, reasons) is untrusted text.
The only markup not produced by the template is the SVG from ``charts``, which
escapes its own labels.

Timings too noisy to compare carry a "noisy" badge; the rule and the samples it is
applied to are ``runview``'s (``noisy_timings``), so the report flags exactly what
summary.md lists and what compare and diff refuse to call.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Literal, TypeVar, cast

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from harness import __version__
from harness.analysis.capabilities import capability_summary
from harness.analysis.installers import fairness_note, installer_pairs
from harness.analysis.metrics import (
    classify_tag,
    import_seconds,
    smoke_seconds,
)
from harness.analysis.metrics import install_complete as _install_complete
from harness.analysis.metrics import sum_steps as _sum_steps
from harness.analysis.sizes import (
    AFTER_INSTALL,
    MadeOf,
    StepSizes,
    made_of,
    reference_cells,
    step_sizes,
)
from harness.analysis.speed import speed_table
from harness.analysis.suites import suite_result
from harness.analysis.view import (
    NON_SMOKE_PROBES,
    CellGroup,
    NoisyTiming,
    noisy_rule_text,
    noisy_timings,
)
from harness.analysis.vulns import NotScanned, recorded_scan, source_text
from harness.documents import charts
from harness.documents.decision import render_decision_html
from harness.documents.html import status_class
from harness.documents.installers import render_installers_html
from harness.documents.report_views import (
    ArtifactsView,
    BaseRow,
    BaseVulns,
    CellRow,
    ChangeView,
    DepsetSpec,
    DepsetView,
    DetailPage,
    DistributionRow,
    ExpectedView,
    FactRow,
    FactTableRow,
    FailureView,
    GridEntry,
    GridRow,
    HeavyRow,
    ImportRow,
    MadeOfView,
    MismatchRow,
    NoiseView,
    NoisyRow,
    NoteView,
    PageLinks,
    PreflightPart,
    ProbeView,
    RepeatView,
    ReportContext,
    ReportPage,
    ReproducerView,
    RunView,
    ScanPart,
    StepSizesView,
    StepView,
    SuiteSlot,
)
from harness.documents.speed import speed_cell, spread_text
from harness.model import format as fmt
from harness.model import status as status_words
from harness.model.ids import (
    DEFAULT_INSTALLER,
    base_anchor,
    cell_anchor,
    depset_anchor,
    installer_of,
    installer_step,
)
from harness.model.origin import origin_of, origin_tag, origin_text
from harness.model.records import SCHEMA_VERSION
from harness.model.results import (
    AnyResults,
    BaseRecord,
    CellRecord,
    Distribution,
    EngineFacts,
    ExpectedFailure,
    HostFacts,
    ImportsProbe,
    MatrixIdentity,
    PipFailure,
    PredictedDistribution,
    ProbeOutput,
    Reproducer,
    Results,
    Sboms,
    Scan,
    Step,
    as_results,
)
from harness.model.status import DISPLAY_ORDER, NOT_RUN
from harness.store.files import (
    CELLS_DIR,
    DEPSETS_HTML,
    REPORT_CELLS_DIR,
    REPORT_HTML,
    RESULTS_JSON,
    SBOM_INDEX,
    base_sbom_path,
    result_file_name,
)
from harness.store.history import PastRun
from harness.store.resultsfile import read_results_shared
from harness.store.rundir import write_atomic

STATUS_HELP = {s.value: s.meaning for s in DISPLAY_ORDER}
# Shown in their own columns, so not repeated among the smoke facts.
_FACT_SKIP = frozenset({"status", "seconds"})
# Nested facts worth a row of their own: key -> sub-keys kept (None: every scalar).
_Row = TypeVar("_Row", CellRow, BaseRow, DistributionRow)
ChartField = Literal["install_median", "size_added_bytes"]
_NESTED_FACTS: dict[str, tuple[str, ...] | None] = {
    "versions": None,
    "timings": None,
    "matmul_bench": ("size", "dtype", "seconds_median", "gflops"),
    "triton": None,
    "transcript": None,
}
# Dicts of dicts (one entry per codec kind, transcode, module): key -> the leaves kept.
_PER_ENTRY_FACTS = {
    "codecs": ("present", "missing"),
    "transcodes": ("seconds",),
    "import_time": ("seconds",),
}
_FACT_MAX_LIST = 20
# The distributions the "made of" bar names; the others share one part.
BAR_NAMED_DISTRIBUTIONS = 3
_FACT_MAX_CHARS = 300


# --- small pure helpers ---------------------------------------------------------------


def missing(value: object) -> bool:
    """None or NaN (results.json may hold NaN, which jinja would find truthy)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def smoke_facts(probe: Mapping[str, object]) -> dict[str, str]:
    """The key facts of a smoke probe as flat text, generic over probes.

    Top-level scalars and lists of scalars, plus the known nested ones
    (``versions.torch``, ``timings.ner_train``, ``codecs.encoders.present``,
    ``transcodes.wav_to_mp3.seconds``); the rest stays in the probe's full JSON.
    """
    facts: dict[str, str] = {}
    for key, value in probe.items():
        if key in _FACT_SKIP:
            continue
        if _is_scalar(value) or _is_scalar_list(value):
            facts[key] = _fact_text(value)
        elif isinstance(value, dict):
            facts.update(_nested_facts(key, value))
    return facts


def _nested_facts(key: str, value: Mapping[str, object]) -> dict[str, str]:
    if key in _PER_ENTRY_FACTS:
        return {
            f"{key}.{sub}.{leaf}": _fact_text(entry[leaf])
            for sub, entry in value.items()
            if isinstance(entry, dict)
            for leaf in _PER_ENTRY_FACTS[key]
            if leaf in entry
        }
    if key not in _NESTED_FACTS:
        return {}
    wanted = _NESTED_FACTS[key]
    return {
        f"{key}.{sub}": _fact_text(subvalue)
        for sub, subvalue in value.items()
        if (wanted is None or sub in wanted) and (_is_scalar(subvalue) or _is_scalar_list(subvalue))
    }


def _is_scalar(value: object) -> bool:
    # Multi-line text (a build config dump, a traceback) is not a headline fact.
    if isinstance(value, str):
        return "\n" not in value.strip()
    return value is None or isinstance(value, int | float | bool)


def _is_scalar_list(value: object) -> bool:
    return isinstance(value, list) and all(_is_scalar(v) for v in value)


def _fact_text(value: object) -> str:
    if isinstance(value, list) and not value:
        text = "none"
    elif isinstance(value, list):
        shown = ", ".join(_fact_text(v) for v in value[:_FACT_MAX_LIST])
        extra = len(value) - _FACT_MAX_LIST
        text = f"{shown} … (+{extra})" if extra > 0 else shown
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return text if len(text) <= _FACT_MAX_CHARS else text[: _FACT_MAX_CHARS - 1] + "…"


# --- tables (lists of rows) -------------------------------------------------------------


def cells_frame(results: AnyResults) -> list[CellRow]:
    """One row per cell record (a repeat is its own record) with its headline numbers."""
    return [_cell_row(c) for c in as_results(results).cells]


def _cell_row(cell: CellRecord) -> CellRow:
    steps, probes = cell.steps, cell.probes
    # built from source: only builds that succeeded (a failed build is the cell's reason)
    sdists = [str(d.name) for d in cell.distributions if d.wheel is False and d.failed is None]
    expected = cell.expected_failure
    return {
        "id": cell.id,
        "base": cell.base,
        "depset": cell.depset,
        "installer": installer_of(cell.id),
        "repeat": cell.repeat,
        "status": cell.status,
        "reason": cell.reason,
        "seconds": cell.seconds,
        "install_seconds": _sum_steps(steps, kind="install"),
        "system_seconds": _sum_steps(steps, name="system-packages"),
        "venv_seconds": _sum_steps(steps, name="venv"),
        # The installer's own step (pip-install or uv-install), under one column.
        "pip_seconds": _sum_steps(steps, name=installer_step(installer_of(cell.id))),
        "install_complete": _install_complete(cell),
        "download_bytes": cell.download_bytes,
        "size_added_bytes": cell.size_added_bytes,
        "import_seconds": import_seconds(probes),
        "smoke_seconds": smoke_seconds(probes),
        "built_from_source": bool(sdists),
        "warm": bool(cell.warm),
        "ran": cell.status not in NOT_RUN,  # blocked before it ran: no time or size to show
        "sdists": ", ".join(sdists),
        "expected_reason": expected.reason if expected else None,
        "environment_limit": cell.environment_limit,
        "anchor": cell_anchor(cell.id),
    }


def grid_frame(cells: Sequence[CellRow]) -> list[GridEntry]:
    """One row per cell id, in order of first appearance: repeats folded into the median,
    with the install spread; a missing value is left out of every fold."""
    by_id: dict[str, list[CellRow]] = {}
    for row in cells:
        by_id.setdefault(row["id"], []).append(row)
    grid: list[GridEntry] = []
    for cell_id, rows in by_id.items():

        def first(values: Iterable[str | None]) -> str | None:
            return next((v for v in values if not missing(v)), None)

        def median(values: Iterable[object]) -> float | None:
            return _median([n for v in values if (n := _numeric(v)) is not None])

        installs = [n for r in rows if (n := _numeric(r["install_seconds"])) is not None]
        grid.append(
            {
                "id": cell_id,
                # the first value present over the repeats
                "base": first(r["base"] for r in rows),
                "depset": first(r["depset"] for r in rows),
                "installer": first(r["installer"] for r in rows),
                "anchor": first(r["anchor"] for r in rows),
                "reason": first(r["reason"] for r in rows),
                "expected_reason": first(r["expected_reason"] for r in rows),
                "environment_limit": first(r["environment_limit"] for r in rows),
                "status": worst_status(r["status"] for r in rows),
                "statuses": _status_mix([r["status"] for r in rows if not missing(r["status"])]),
                "runs": len(rows),
                "install_median": _median(installs),
                "install_min": min(installs, default=None),
                "install_max": max(installs, default=None),
                "install_complete": all(r["install_complete"] for r in rows),
                "built_from_source": any(r["built_from_source"] for r in rows),
                "warm": any(r["warm"] for r in rows),
                "ran": any(r["ran"] for r in rows),
                "sdists": _union(r["sdists"] for r in rows),
                # the median over the repeats
                "system_seconds": median(r["system_seconds"] for r in rows),
                "venv_seconds": median(r["venv_seconds"] for r in rows),
                "pip_seconds": median(r["pip_seconds"] for r in rows),
                "download_bytes": median(r["download_bytes"] for r in rows),
                "size_added_bytes": median(r["size_added_bytes"] for r in rows),
                "import_seconds": median(r["import_seconds"] for r in rows),
                "smoke_seconds": median(r["smoke_seconds"] for r in rows),
            }
        )
    return grid


def _numeric(value: object) -> float | None:
    """A number to fold (a numeric string too, as results written by hand may hold)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def worst_status(statuses: Iterable[str | None]) -> str:
    return status_words.worst(s for s in statuses if not missing(s))


def _status_mix(statuses: Sequence[str]) -> str:
    counts = Counter(statuses).most_common()
    if len(counts) <= 1:
        return ""
    return ", ".join(f"{n}× {status}" for status, n in counts)


def _union(values: Iterable[str]) -> str:
    names = {n.strip() for v in values if isinstance(v, str) for n in v.split(",") if n.strip()}
    return ", ".join(sorted(names))


def bases_frame(results: AnyResults) -> list[BaseRow]:
    """The bases table: where each image came from and what it contains."""
    typed = as_results(results)
    standins = _standins(typed)
    return [_base_row(b, standins.get(b.name)) for b in typed.bases]


def _base_row(base: BaseRecord, standin: str | None) -> BaseRow:
    libc = base.libc
    libc_text = " ".join(v for v in (libc.family, libc.version) if v) if libc else ""
    plain = base.model_copy(update={"standin": standin})
    return {
        "name": base.name,
        "reference": base.reference,
        "kind": base.kind,
        "standin": standin,
        "status": base.status,
        "reason": base.reason,
        "image": base.image,
        "image_id": base.image_id,
        "digest": base.digest,
        "os": base.os,
        "python": base.python,
        "description": base.description,
        "origin": origin_text(plain),
        "origin_kind": origin_of(plain),
        "origin_tag": origin_tag(plain),
        "image_id_short": (base.image_id or "").removeprefix("sha256:")[:12] or None,
        "libc": libc_text or None,
        "size_bytes": base.size_bytes,
        "build_seconds": base.build_seconds,
        "anchor": base_anchor(base.name),
        "capabilities": capability_summary(base.capabilities),
    }


def distributions_frame(results: AnyResults) -> list[DistributionRow]:
    """Every installed distribution of every cell record, with its artefact kind."""
    return [
        {
            "id": cell.id,
            "repeat": cell.repeat,
            "name": d.name,
            "version": d.version,
            "wheel": d.wheel,
            "tag": d.tag,
            "kind": classify_tag(d.wheel, d.tag),
            "requested": bool(d.requested),
            "source": d.source,
            "build_seconds": d.build_seconds,
            "failed": d.failed,
        }
        for cell in as_results(results).cells
        for d in cell.distributions
    ]


def facts_frame(results: AnyResults) -> list[FactRow]:
    """Long table of smoke facts: (cell, probe, fact, value), first repeat of each cell."""
    return [
        {"id": c.id, "base": c.base, "depset": c.depset,
         "probe": name, "fact": fact, "value": value}
        for c in as_results(results).cells
        if not c.repeat
        for name in c.probes.names()
        if name not in NON_SMOKE_PROBES and (probe := c.probes.get(name)) is not None
        for fact, value in smoke_facts(probe.to_dict()).items()
    ]  # fmt: skip


# --- view models for the template -----------------------------------------------------


def _records(rows: Iterable[_Row]) -> list[_Row]:
    """The rows with NaN turned into None for the template (each key keeps its type: a
    NaN float becomes the None its ``float | None`` allows)."""
    return [cast(_Row, {k: (None if missing(v) else v) for k, v in row.items()}) for row in rows]


def _ordered(names: Iterable[str | None], declared: Sequence[str]) -> list[str]:
    """Declared order first, then any name the cells use that was not declared."""
    seen = [n for n in declared]
    seen += [str(n) for n in dict.fromkeys(names) if not missing(n) and str(n) not in seen]
    return seen


def _grid_rows(grid: list[GridEntry], bases: list[BaseRow], depsets: list[str]) -> list[GridRow]:
    by_key = _pip_first(grid)
    known = {b["name"]: b for b in bases}
    names = _ordered((g["base"] for g in grid), list(known))
    return [
        {
            # A base the cells use but the bases list lacks still gets a full row.
            "base": known.get(name) or _records([_base_row(BaseRecord(name=name), None)])[0],
            "cells": [by_key.get((name, d)) for d in depsets],
        }
        for name in names
    ]


def _pip_first(grid: list[GridEntry]) -> dict[tuple[str | None, str | None], GridEntry]:
    """(base, depset) -> the grid entry shown in that slot: pip's cell, carrying its
    other installers' cells (``base×depset+uv``) as ``twins``; a twin without a pip cell
    takes the slot itself."""
    slots: dict[tuple[str | None, str | None], GridEntry] = {}
    twins: dict[tuple[str | None, str | None], list[GridEntry]] = {}
    for entry in grid:
        key = (entry["base"], entry["depset"])
        if entry["installer"] == DEFAULT_INSTALLER:
            slots[key] = {**entry, "twins": []}
        else:
            twins.setdefault(key, []).append(entry)
    for key, others in twins.items():
        if key not in slots:
            slots[key], others = others[0], others[1:]
        slots[key] = {**slots[key], "twins": others}
    return slots


def _depset_views(results: Results, grid: list[GridEntry], bases: list[str]) -> list[DepsetView]:
    facts = facts_frame(results)
    facts_by_depset: dict[str, list[FactRow]] = {}  # one pass, not per depset
    for fact in facts:
        facts_by_depset.setdefault(fact["depset"], []).append(fact)
    by_depset: dict[str | None, dict[str | None, list[GridEntry]]] = {}  # one pass, not per depset
    for g in grid:
        by_depset.setdefault(g["depset"], {}).setdefault(g["base"], []).append(g)
    views: list[DepsetView] = []
    for depset in _ordered((g["depset"] for g in grid), _depset_names(results)):
        mine = by_depset.get(depset, {})
        rows = [g for b in bases for g in mine.get(b, [])]
        fact_bases, fact_rows = _facts_table(facts_by_depset.get(depset, []), bases)
        views.append(
            {
                "name": depset,
                "spec": _depset_spec(results, depset),
                "rows": rows,
                "fact_bases": fact_bases,
                "facts": fact_rows,
            }
        )
    return views


def _with_preflight(grid: list[GridEntry], results: Results) -> list[GridEntry]:
    """Each grid entry plus ``preflight`` (the prediction's verdict, or None) and
    ``mismatches``: one row per distribution the install contradicted, over all repeats,
    with both sides (what the preflight said, what pip installed)."""
    records: dict[str, list[CellRecord]] = {}
    for cell in results.cells:
        records.setdefault(cell.id, []).append(cell)
    return [{**entry, **_preflight_view(records.get(str(entry["id"]), []))} for entry in grid]


def _preflight_view(records: Sequence[CellRecord]) -> PreflightPart:
    predicted = next((r.preflight for r in records if r.preflight is not None), None)
    if predicted is None:
        return {"preflight": None, "mismatches": []}
    said = {d.name: d for d in predicted.distributions}
    rows: dict[str, MismatchRow] = {}
    for record in records:
        installed = {d.name.lower(): d for d in record.distributions}
        for mismatch in record.preflight_mismatches or []:
            name = str(mismatch.name)
            rows.setdefault(
                name,
                {
                    "name": name,
                    "predicted": _predicted_text(said.get(name)),
                    "installed": _installed_text(installed.get(name)),
                    "message": mismatch.message,
                },
            )
    return {
        "preflight": {
            "verdict": predicted.verdict,
            "seconds": predicted.seconds,
            "notes": list(predicted.notes),
        },
        "mismatches": list(rows.values()),
    }


def _with_suites(grid: list[GridEntry], results: Results) -> list[GridEntry]:
    """Each grid entry plus ``tests``: the team's suite of its representative record
    (analysis/suites.py) as the slot shows it, or None when its depset runs no tests."""
    runs = results.cell_runs()
    views: list[GridEntry] = []
    for entry in grid:
        found = runs.get(str(entry["id"]))
        suite = suite_result(found.representative) if found is not None else None
        view: SuiteSlot | None = None
        if suite is not None:
            counts = suite.counts or {}
            view = {
                "status": suite.status,
                "summary": suite.summary,
                "passed": counts.get("passed"),
                "tests": counts.get("tests"),
                "failing": int(counts.get("failed") or 0) + int(counts.get("errors") or 0),
                "skipped": int(counts.get("skipped") or 0),
            }
        views.append({**entry, "tests": view})
    return views


# A reason longer than this that two or more slots share is said once, under the grid.
_NOTE_MIN_CHARS = 60


def _with_notes(grid: list[GridEntry]) -> tuple[list[GridEntry], list[NoteView]]:
    """Reasons repeated across slots said once: each slot keeps the reason's kind (the
    words before its first colon, "environment limit") and the number of a note that
    holds the whole sentence. Returns the entries and the notes, in order of first use."""
    seen = Counter(
        reason
        for e in grid
        if (reason := e["reason"]) is not None and len(reason) > _NOTE_MIN_CHARS
    )
    numbers: dict[str, int] = {}
    entries: list[GridEntry] = []
    for entry in grid:
        reason = entry["reason"]
        if not reason or seen.get(str(reason), 0) < 2:
            entries.append({**entry, "note": None, "reason_kind": None})
            continue
        number = numbers.setdefault(str(reason), len(numbers) + 1)
        kind, colon, _rest = str(reason).partition(": ")
        short = kind if colon and len(kind) <= 40 else None
        entries.append({**entry, "note": number, "reason_kind": short})
    notes: list[NoteView] = [
        {"number": n, "text": text, "slots": seen[text]} for text, n in numbers.items()
    ]
    return entries, notes


def _predicted_text(prediction: PredictedDistribution | None) -> str:
    kind = prediction.kind if prediction else None
    version = (prediction.version if prediction else None) or ""
    if prediction is not None and kind == "wheel":
        return f"wheel {version} ({prediction.wheel_tag})".replace("  ", " ")
    if kind == "sdist":
        return f"build from source {version}".strip()
    reason = prediction.reason if prediction else None
    return f"no distribution ({reason or 'for this platform'})"


def _installed_text(installed: Distribution | None) -> str:
    version = (installed.version if installed else None) or ""
    if installed is not None and installed.wheel:
        return f"wheel {version} ({installed.tag})"
    return f"built {version} from source".replace("  ", " ")


def _noise_view(group: CellGroup | None) -> NoiseView:
    noisy = noisy_timings(group) if group is not None else {}
    marks = {name: t.describe() for name, t in noisy.items()}
    step = installer_step(group.installer) if group is not None else None
    if step in marks:  # the depset table's one column for pip-install and uv-install
        marks["installer-step"] = marks[step]
    # The smoke column is the sum of the smoke probes: marked when any of them is noisy.
    smoke = [t for name, t in noisy.items() if _smoke_step(name)]
    if smoke:
        marks["smoke"] = "; ".join(f"{t.timing}: {t.describe()}" for t in smoke)
    return {"noisy": marks, "noisy_rows": [_noisy_row(t) for t in noisy.values()]}


def _smoke_step(name: str) -> bool:
    return name.startswith("probe:") and name.removeprefix("probe:") not in NON_SMOKE_PROBES


def _noisy_row(timing: NoisyTiming) -> NoisyRow:
    values = timing.sample.values
    return {
        "timing": timing.timing,
        "median": timing.sample.median,
        "low": min(values),
        "high": max(values),
        "text": timing.describe(),
    }


def _depset_names(results: Results) -> list[str]:
    return [d.name for d in results.depsets]


def _depset_spec(results: Results, name: str) -> DepsetSpec:
    spec = next((d for d in results.depsets if d.name == name), None)
    system = (spec.system if spec else None) or {}
    return {
        "system": [f"{pm}: {' '.join(pkgs)}" for pm, pkgs in system.items() if pkgs],
        "pip": (spec.pip if spec else None) or [],
        "probes": (spec.probes if spec else None) or [],
        # what a team's project depset installs from, and its suite (not "pip: —")
        "requirements": (spec.requirements if spec else None) or [],
        "lockfile": spec.lockfile if spec else None,
        "tests": spec.tests.to_dict() if spec and spec.tests else {},
    }


def _facts_table(
    facts: Sequence[FactRow], bases: list[str]
) -> tuple[list[str], list[FactTableRow]]:
    """Pivot facts to one row per (probe, fact) and one column per base, with the first
    value of each; rows grouped by probe (in order of first appearance), then by fact."""
    table: dict[tuple[str, str], dict[str, str]] = {}
    for f in facts:
        if not any(missing(f[k]) for k in ("probe", "fact", "base", "value")):
            table.setdefault((f["probe"], f["fact"]), {}).setdefault(f["base"], f["value"])
    probes = {p: n for n, p in enumerate(dict.fromkeys(p for p, _ in table))}
    names = {f: n for n, f in enumerate(dict.fromkeys(f["fact"] for f in facts))}
    columns = [b for b in bases if any(b in values for values in table.values())]
    rows: list[FactTableRow] = [
        {"probe": probe, "fact": fact, "values": [table[probe, fact].get(b) for b in columns]}
        for probe, fact in sorted(table, key=lambda key: (probes[key[0]], names[key[1]]))
    ]
    return columns, rows


def _none(value: float | None) -> float | None:
    return None if missing(value) else value


def _charts(grid: list[GridEntry], bases: list[str], depsets: list[str]) -> list[Markup]:
    def series(field: ChartField, scale: float) -> dict[str, list[float | None]]:
        by_key = _pip_first(grid)  # charts compare bases: pip's cells
        out: dict[str, list[float | None]] = {}
        for base in bases:
            out[base] = [_chart_value(by_key.get((base, d)), field, scale) for d in depsets]
        return out

    install = charts.bar_chart(
        "Install seconds per base, for each depset (median)", depsets,
        series("install_median", 1.0), "s",
    )  # fmt: skip
    size = charts.bar_chart(
        "Size added per base, for each depset", depsets, series("size_added_bytes", 1e6), "MB"
    )
    # charts escapes every label itself, so its output is trusted markup.
    return [Markup(install), Markup(size)]


def _chart_value(entry: GridEntry | None, field: ChartField, scale: float) -> float | None:
    # A partial install (failed half-way) would look like a fast one: leave it out.
    value = entry.get(field) if entry is not None else None
    if entry is None or not entry["install_complete"] or value is None or missing(value):
        return None
    return float(value) / scale


def _standins(results: Results) -> dict[str, str]:
    """Base name -> stand-in description, from the bases list or else from the cell records."""
    found = {c.base: c.standin for c in results.cells if c.standin}
    found.update({b.name: b.standin for b in results.bases if b.standin})
    return found


_ViewInputs = tuple[
    dict[str, str],
    dict[str, tuple[CellRecord, str]],
    dict[str, BaseRecord],
    dict[str, list[CellRecord]],
]


def _cell_view_inputs(results: Results) -> _ViewInputs:
    """What every cell's view reads, computed once for the whole run: the stand-ins, each
    base's reference cell, each base's record with its stand-in, each cell id's records
    (in file order; one pass over the cells, not one per page)."""
    standins = _standins(results)
    references = reference_cells(reference_candidates(results))
    bases = {b.name: b.model_copy(update={"standin": standins.get(b.name)}) for b in results.bases}
    by_id: dict[str, list[CellRecord]] = {}
    for cell in results.cells:
        by_id.setdefault(cell.id, []).append(cell)
    return standins, references, bases, by_id


def _cell_views(
    results: Results,
    header: Results,
    grid: list[GridEntry],
    inputs: _ViewInputs | None = None,
) -> list[GridEntry]:
    """The details of the grid entries of one page; ``header``: the results without their
    cells, as made_of reads them."""
    standins, references, bases, by_id = inputs or _cell_view_inputs(results)
    wanted = dict.fromkeys(str(entry["id"]) for entry in grid)
    records = {cell_id: by_id[cell_id] for cell_id in wanted if cell_id in by_id}
    # this page's distributions only (all 10,000 cells' rows would be ~100 MB)
    page = results.model_copy(update={"cells": [c for r in records.values() for c in r]})
    dists = _distributions_by_run(distributions_frame(page))
    views: list[GridEntry] = []
    for entry in grid:
        repeats: list[RepeatView] = []
        for cell in sorted(records.get(entry["id"], []), key=lambda c: c.repeat):
            made = made_of(header, cell, references)
            repeats.append(
                {**_repeat_view(cell, dists), "made_of": made_of_view(made, step_sizes(cell))}
            )
        base = entry["base"] or ""
        standin = standins.get(base)
        views.append(
            {
                **entry,
                "standin": standin,
                # Which image this cell ran on: the digest of a pulled base, the stand-in...
                "origin": origin_text(bases.get(base) or BaseRecord(name="", standin=standin)),
                "repeats": repeats,
            }
        )
    return views


def _header(typed: Results) -> Results:
    """The results without their cells (made_of reads the depsets and bases)."""
    return typed.model_copy(update={"cells": []})


def _twin_cells(typed: Results) -> Results:
    """What installer_pairs and fairness_note read: the cells of another installer than
    pip and the pip cells of the same slots (none in most runs)."""
    others = {(c.base, c.depset) for c in typed.cells if installer_of(c.id) != DEFAULT_INSTALLER}
    return typed.model_copy(
        update={"cells": [c for c in typed.cells if (c.base, c.depset) in others]}
    )


def reference_candidates(results: Results) -> Results:
    """What analysis/sizes.py ``reference_cells`` reads, with only the cells it may
    choose for a base (its first passed cell of a depset without system packages, else
    its first cell with a contents result), not every cell's package lists."""
    system = {d.name for d in results.depsets if any((d.system or {}).values())}
    first: dict[str, CellRecord] = {}
    clean: dict[str, CellRecord] = {}
    for cell in sorted(results.cells, key=lambda c: c.repeat):  # reference_cells' order
        if cell.probes.contents is None or cell.probes.contents.os_packages is None:
            continue
        first.setdefault(cell.base, cell)
        if cell.status == "passed" and cell.depset not in system:
            clean.setdefault(cell.base, cell)
    chosen = list({id(c): c for c in [*first.values(), *clean.values()]}.values())
    return results.model_copy(update={"cells": sorted(chosen, key=lambda c: c.repeat)})


def _distributions_by_run(
    dists: Sequence[DistributionRow],
) -> dict[tuple[str, int], list[DistributionRow]]:
    """Each cell run's distributions, requested first, then by name: sorted once for all
    (per cell, filtering the whole frame made the report quadratic in the cells)."""
    ordered = sorted(_records(dists), key=_sort_key)
    runs: dict[tuple[str, int], list[DistributionRow]] = {}
    for row in ordered:
        runs.setdefault((str(row["id"]), int(row["repeat"])), []).append(row)
    return runs


def _repeat_view(
    cell: CellRecord, dists: Mapping[tuple[str, int], list[DistributionRow]]
) -> RepeatView:
    mine = dists.get((cell.id, cell.repeat), [])
    steps = [_step_view(s) for s in cell.steps]
    return {
        "status": cell.status,
        "reason": cell.reason,
        "seconds": cell.seconds,
        "started_at": cell.started_at,
        "ended_at": cell.ended_at,
        "container": cell.container,
        # a runtime cell installs in its builder: the package manager found is the
        # builder's, not the runtime's (a distroless runtime has none)
        "package_manager": (
            f"{cell.package_manager or 'none found'} (in the builder {cell.runtime.builder}; "
            "the runtime's own is in the bases table)"
            if cell.runtime is not None and cell.runtime.builder
            else cell.package_manager
        ),
        "download_bytes": cell.download_bytes,
        "repeat": cell.repeat,
        # the cell's own file (cells/<id>.r<k>.json), linked: its raw probe output and
        # log tails are never copied into the page
        "record": f"{CELLS_DIR}/{result_file_name(cell.id, cell.repeat)}",
        "size_added_bytes": cell.size_added_bytes,
        "install_seconds": _sum_steps(cell.steps, kind="install"),
        "steps": steps,
        "distributions": [d for d in mine if missing(d["failed"])],
        "failed_distributions": [d for d in mine if not missing(d["failed"])],
        "imports": _import_rows(cell.probes.imports),
        "heaviest": _heaviest(cell.probes.imports),
        "expected_failure": _expected_failure(cell.expected_failure),
        "environment_limit": cell.environment_limit,
        "probes": [_probe_view(name, cell.probes.get(name)) for name in cell.probes.names()],
        "tests": suite_result(cell),
        "artifacts": _artifacts_view(cell),
        "reproducer": _reproducer(cell.reproducer),
    }


def made_of_view(made: MadeOf | None, steps: StepSizes | None = None) -> MadeOfView | None:
    """The "What it is made of" block: a stacked bar (base, system packages, the largest
    distributions by name, the other distributions), the bytes per install step, the SBOM."""
    if made is None:
        return None
    named = made.top[:BAR_NAMED_DISTRIBUTIONS]
    rest = made.python_bytes - sum(d.size_bytes for d in named)
    parts: list[tuple[str, float | None]] = [
        ("base image", made.base_bytes),
        ("system packages", made.system_bytes),
        *((d.name, float(d.size_bytes)) for d in named),
        ("other Python distributions", rest),
    ]
    sizes = [fmt.size(None if v is None else int(v)) for _, v in parts]
    title = "base image / system packages / Python distributions (largest named), bytes"
    return {
        "bar": Markup(charts.stacked_bar(title, parts, sizes)),
        "python": fmt.size(made.python_bytes),
        "system": [
            {"name": d.name, "version": d.version, "size": fmt.size(d.size_bytes)}
            for d in made.top_system
        ],
        "steps": _step_sizes_view(steps),
        "top": [
            {"name": d.name, "version": d.version, "size": fmt.size(d.size_bytes)} for d in made.top
        ],
        "sbom": made.sbom_path,
    }


def _step_sizes_view(sizes: StepSizes | None) -> StepSizesView | None:
    """Bytes per install step, then what the probes wrote, adding up to size added."""
    if sizes is None:
        return None
    rows = [(s.name, s.bytes_added) for s in sizes.steps]
    if sizes.start:
        rows.insert(0, ("the fresh container", sizes.start))
    rows.append((AFTER_INSTALL, sizes.after_install))
    return {
        "rows": [{"name": name, "size": fmt.size(value)} for name, value in rows],
        "total": fmt.size(sizes.total),
        "adds_up": sizes.accounted == sizes.total,
        "accounted": fmt.size(sizes.accounted),
        "seconds": sizes.measure_seconds,
    }


def base_vulnerabilities(
    bases: Sequence[BaseRow], sbom_index: Sboms | None
) -> dict[str, BaseVulns]:
    """Per base: its SBOM's path and either the counts by severity or why there are none.

    Never a 0 standing in for "not scanned": without a scan the text is the reason.
    """
    entries = {e.subject: e for e in (sbom_index.sboms if sbom_index else []) if e.kind == "base"}
    views: dict[str, BaseVulns] = {}
    for base in bases:
        name = base["name"]
        entry = entries.get(name)
        if entry is None:
            views[name] = {"sbom": None, "counts": None, "text": "no SBOM: no cell of this "
                           "base reported its contents"}  # fmt: skip
            continue
        views[name] = {
            "sbom": base_sbom_path(name),
            "components": entry.components,
            **_scan_view(entry.vulnerabilities),
        }
    return views


def _scan_view(scan: Scan | None) -> ScanPart:
    result = recorded_scan(scan)
    if isinstance(result, NotScanned):
        return {"counts": None, "text": result.reason}
    return {"counts": list(result.by_severity().items()), "text": source_text(result)}


def _expected_failure(value: ExpectedFailure | None) -> ExpectedView | None:
    """matrix.yaml's declaration ({"reason", "link"}); the link is shown as text, not followed."""
    return None if value is None else {"reason": value.reason, "link": value.link}


def _sort_key(dist: DistributionRow) -> tuple[bool, bool, str]:
    """Requested first, then by name (case-insensitive; a missing name last)."""
    name = dist["name"]
    return (not dist["requested"], not isinstance(name, str), str(name).lower())


def _step_view(step: Step) -> StepView:
    note = step.failure_summary or step.reason or step.error or step.failure_kind
    return {
        "name": step.name,
        "kind": step.kind,
        "status": step.status,
        "seconds": step.seconds,
        "exit_code": step.exit_code,
        "command": step.command,
        "network": step.network,
        "log_tail": step.log_tail,
        "added": fmt.size(step.bytes_added) if step.bytes_added is not None else "—",
        "note": note,
        "failing": step.status not in ("passed", "expected-failure", "unexpected-pass"),
        "failure": _failure_view(step.failure),
    }


def _artifacts_view(cell: CellRecord) -> ArtifactsView | None:
    """What the team's suite wrote that ``tests.artifacts`` kept (run/artifacts.py): links
    into the run directory, and what was matched but not copied, with why."""
    tests = cell.probes.tests
    found = tests.artifacts if tests is not None else None
    if found is None:
        return None
    folder = found.folder or ""
    return {
        "folder": folder,
        "files": [
            {"path": f.path, "href": f"{folder}/{f.path}", "bytes": f.bytes} for f in found.files
        ],
        "skipped": [{"path": f.path, "why": f.why} for f in found.skipped],
        "problem": found.problem,
    }


def _failure_view(failure: PipFailure | None) -> FailureView | None:
    """What a failed install step's diagnosis shows: kind, stage, distribution, the cause
    lines of its build output and what to add (run/pipfailure.py)."""
    if failure is None:
        return None
    return {
        "kind": failure.kind,
        "stage": failure.stage,
        "distribution": failure.distribution,
        "what": failure.what,
        "cause": list(failure.cause or []),
        "hint": failure.hint,
        "available": failure.available,
    }


def _import_rows(probe: ImportsProbe | None) -> list[ImportRow]:
    return [
        {
            "module": module,
            "seconds": entry.seconds,
            "wall_seconds": entry.wall_seconds,
            "modules_imported": entry.modules_imported,
            "error": entry.error,
        }
        for module, entry in ((probe.modules if probe else None) or {}).items()
    ]


def _heaviest(probe: ImportsProbe | None, limit: int = 5) -> list[HeavyRow]:
    """Modules with the largest self import time, over every module the probe timed."""
    rows: list[HeavyRow] = [
        {"module": h.module, "seconds": h.self_seconds if h.self_seconds is not None else h.seconds}
        for entry in ((probe.modules if probe else None) or {}).values()
        for h in entry.heaviest_self or []
    ]
    rows.sort(key=lambda r: r["seconds"] or 0.0, reverse=True)
    return rows[:limit]


def _probe_view(name: str, probe: ProbeOutput | None) -> ProbeView:
    return {
        "name": name,
        "status": probe.status if probe else None,
        "seconds": probe.seconds if probe else None,
        "error": probe.error if probe else None,
    }


def _reproducer(repro: Reproducer | None) -> ReproducerView | None:
    if repro is None:
        return None
    return {"dockerfile": repro.dockerfile or "", "commands": "\n".join(repro.commands or [])}


def _history(history: Sequence[PastRun], current: list[GridEntry]) -> dict[str, ChangeView]:
    """Per cell id: install-time trend over the runs and the change since the previous run
    (earlier runs as the history recorded them)."""
    out = {}
    for entry in current:
        cid = entry["id"]
        values = [_past_install(run, cid) for run in history] + [_none(entry["install_median"])]
        out[cid] = _change(entry, history[-1] if history else None, values)
    return out


def _past_install(run: PastRun, cell_id: str) -> float | None:
    cell = run.cells.get(cell_id)
    return cell.install_median if cell else None


def _change(entry: GridEntry, previous: PastRun | None, values: list[float | None]) -> ChangeView:
    past = previous.cells.get(entry["id"]) if previous is not None else None
    known = past is not None
    before = past.status if past is not None else None
    delta = None
    if values[-1] is not None and len(values) > 1 and values[-2] is not None:
        delta = values[-1] - values[-2]
    label = f"install seconds over the last {len(values)} runs for {entry['id']}"
    return {
        "new": not known,
        "previous_status": before,
        "status_changed": known and before != entry["status"],
        "delta": delta,
        "spark": Markup(charts.sparkline(values, label=label)),
        "runs": len(values),
    }


def badge(status: object) -> Markup:
    """A status word as a badge: its class in status.css, its meaning as the title."""
    help_text = STATUS_HELP[status] if isinstance(status, str) and status in STATUS_HELP else None
    return Markup('<span class="badge {}" title="{}">{}</span>').format(
        status_class(status), help_text or "status not known to this report", status or "unknown"
    )


def noisy_mark(marks: Mapping[str, object], timing: str) -> Markup:
    """The "noisy" mark of a timing, its spread as the title; nothing when not noisy."""
    title = marks.get(timing)  # a view's marks (timing -> its spread), not a result dict
    if not title:
        return Markup()
    return Markup('<span class="noisy" title="{}">noisy</span>').format(title)


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _ViewEnvironment(Environment):
    """The template reads views (plain dicts) as ``cell.status``: jinja tries the
    attribute first and the key after its AttributeError, an exception per lookup (half
    a million on a 2,000-cell report). A dict's key is read first here, for every name
    that is not one of dict's own attributes, which is what jinja would return anyway."""

    def getattr(self, obj: object, attribute: str) -> object:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@cache
def _environment() -> Environment:
    """The report's template environment, built once per process (compiling the template
    is a third of a second)."""
    env = _ViewEnvironment(
        loader=PackageLoader("harness.documents", "templates"),
        autoescape=True,  # container output is untrusted: escape everything by default
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        seconds=fmt.seconds, delta=fmt.signed_seconds, size=fmt.size, when=fmt.timestamp
    )
    env.globals.update(
        speed_cell=speed_cell,
        spread_text=spread_text,
        status_class=status_class,
        missing=missing,
        base_anchor=base_anchor,
        depset_anchor=depset_anchor,
        badge=badge,
        noisy=noisy_mark,
    )
    return env


# --- entry points ---------------------------------------------------------------------


# Above this many cells one page is too heavy to open (10,000 cells made a 63 MB
# report.html: 46 MB of cell details, 6.5 MB of charts, 5.4 MB of depset tables), so
# report.html keeps the run, the grid and the bases; each base's cell details get a page
# of their own under report-cells/, and the charts and depset tables one more page.
SPLIT_CELLS = 500


def render_report(
    results: AnyResults,
    *,
    history: Sequence[PastRun] | None = None,
    sbom_index: Sboms | None = None,
) -> str:
    """The whole report as one self-contained HTML document (its main page when split).

    ``sbom_index`` is sbom/index.json as publish wrote it (None: no SBOMs to link).

    ``history`` holds earlier runs as the history recorded them (oldest first); each cell
    shows its install-time trend and what changed since the previous run.
    """
    return render_report_pages(results, history=history, sbom_index=sbom_index)[REPORT_HTML]


def render_report_pages(
    results: AnyResults,
    *,
    history: Sequence[PastRun] | None = None,
    sbom_index: Sboms | None = None,
) -> dict[str, str]:
    """``{REPORT_HTML: ...}``, plus ``report-cells/<base anchor>.html`` per base and
    ``report-cells/depsets.html`` when the run has more than SPLIT_CELLS cells; every page
    is self-contained."""
    return dict(_report_pages(results, history=history, sbom_index=sbom_index))


def _report_pages(
    results: AnyResults,
    *,
    history: Sequence[PastRun] | None = None,
    sbom_index: Sboms | None = None,
) -> Iterator[tuple[str, str]]:
    """(name, html) of each page, one at a time: a split report's per-base cell views are
    built for their page and dropped after it, so 10,000 cells are never all in memory
    as views (nor as pages), nor as whole records."""
    typed = as_results(results)
    header = _header(typed)
    context = _context(typed, history, sbom_index)
    template = _environment().get_template("report.html.j2")
    plain: PageLinks = {"main_href": "", "depsets_href": "", "page_base": None,
                        "detail_hrefs": {}, "detail_pages": [], "sections": _ALL_SECTIONS,
                        "root_href": ""}  # fmt: skip
    cells = context["cells"]  # grid entries, in grid order
    inputs = _cell_view_inputs(typed)
    if len(cells) <= SPLIT_CELLS:
        context["cells"] = _cell_views(typed, header, cells, inputs)
        yield REPORT_HTML, template.render(**context, **plain)
        return
    by_base: dict[str, list[GridEntry]] = {}
    for cell in cells:
        by_base.setdefault(str(cell["base"]), []).append(cell)
    names = {base: f"{base_anchor(base)}.html" for base in by_base}
    inside = {b: f"{REPORT_CELLS_DIR}/{n}" for b, n in names.items()}
    pages: list[DetailPage] = [
        {"base": b, "href": inside[b], "cells": len(c)} for b, c in by_base.items()
    ]
    main: ReportPage = {**context, **plain, "cells": [], "detail_hrefs": inside,
                        "detail_pages": pages, "sections": {"run", "cells"},
                        "depsets_href": f"{REPORT_CELLS_DIR}/{DEPSETS_HTML}"}  # fmt: skip
    # Pages under report-cells/ link to each other by name, and to report.html above.
    below: ReportPage = {**main, "main_href": "../report.html", "detail_hrefs": names,
                         "detail_pages": [], "root_href": "../"}  # fmt: skip
    yield REPORT_HTML, template.render(**main)
    depsets_page: ReportPage = {**below, "depsets_href": "", "sections": {"depsets"}}
    yield (
        f"{REPORT_CELLS_DIR}/{DEPSETS_HTML}",
        template.render(**{**depsets_page, "page_base": "charts and dependency sets"}),
    )
    for base, mine in by_base.items():
        views = _cell_views(typed, header, mine, inputs)
        page = {**below, "cells": views, "depsets_href": DEPSETS_HTML, "sections": {"cells"}}
        yield inside[base], template.render(**{**page, "page_base": f"base {base}"})


_ALL_SECTIONS = frozenset({"run", "depsets", "cells"})


def _context(
    results: Results,
    history: Sequence[PastRun] | None,
    sbom_index: Sboms | None,
) -> ReportContext:
    """The template's context; ``cells`` holds the grid entries in grid order, whose
    views the caller builds page by page."""
    twins = _twin_cells(results)
    # One cell id at a time: its rows and its noise (from the typed records).
    cells: list[CellRow] = []
    noise: dict[str, NoiseView] = {}
    for cell_id, runs in results.cell_runs().items():
        first = runs.records[0]
        cells += [_cell_row(r) for r in runs.records]
        group = CellGroup(cell_id, first.base, first.depset, runs.records)
        noise[cell_id] = _noise_view(group)
    order: dict[str, int] = {}
    for index, record in enumerate(results.cells):
        order.setdefault(record.id, index)
    cells.sort(key=lambda row: (order.get(row["id"], 0), row["repeat"]))
    # no NaN left to clean: the fold leaves missing values out
    grid: list[GridEntry] = [{**e, **noise[e["id"]]} for e in grid_frame(cells)]
    del cells  # the rows are folded into the grid; 10,000 of them need not stay
    grid = _with_preflight(grid, results)
    grid = _with_suites(grid, results)
    grid, notes = _with_notes(grid)
    bases = _records(bases_frame(results))
    base_names = _ordered((c["base"] for c in grid), [b["name"] for b in bases])
    depsets = _ordered((c["depset"] for c in grid), _depset_names(results))
    return {
        "decision_html": render_decision_html(results, sbom_index),  # the answer first (#26)
        "schema_version": SCHEMA_VERSION,
        "generator": __version__,
        "run": _run_view(results),
        "status_help": STATUS_HELP,
        "noisy_rule": noisy_rule_text(),
        "counts": _status_counts(grid),
        "notes": notes,
        "depsets": depsets,
        "grid_rows": _grid_rows(grid, bases, depsets),
        "bases": bases,
        "speed": speed_table(list(results.bases)),
        "base_vulns": base_vulnerabilities(bases, sbom_index),
        "depset_views": _depset_views(results, grid, base_names),
        "charts": _charts(grid, base_names, depsets),
        "cells": _by_grid_order(grid, base_names, depsets),
        "history": _history(history, grid) if history else None,
        "installers": Markup(  # renders escaped HTML (analysis.installers)
            render_installers_html(installer_pairs(twins), fairness_note(twins))
        ),
    }


def _run_view(results: Results) -> RunView:
    run = results.run
    host = run.host or HostFacts()
    engine = run.engine or EngineFacts()
    matrix = run.matrix or MatrixIdentity()
    return {
        "id": run.id,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "harness_version": run.harness_version,
        "jobs": run.jobs,
        "repeat": run.repeat,
        "registry_reachable": run.registry_reachable,
        "registries": run.registries,
        "registry_mirror": run.registry_mirror,
        "host": {
            "hostname": host.hostname,
            "os": host.os,
            "kernel": host.kernel,
            "cpus": host.cpus,
            "memory_bytes": host.memory_bytes,
        },
        "engine": {
            "version": engine.version,
            "api_version": engine.api_version,
            "storage_driver": engine.storage_driver,
            "cgroup_version": engine.cgroup_version,
        },
        "matrix": {"path": matrix.path, "sha256": matrix.sha256},
        "warnings": [str(w) for w in run.warnings or []],
        "duration": fmt.duration(run.started_at, run.ended_at),
    }


def _status_counts(grid: list[GridEntry]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for entry in grid:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    order = {s: i for i, s in enumerate(STATUS_HELP)}
    return sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order)))


def _by_grid_order(grid: list[GridEntry], bases: list[str], depsets: list[str]) -> list[GridEntry]:
    def key(g: GridEntry) -> tuple[int, int]:
        b, d = g["base"], g["depset"]
        return (
            bases.index(b) if b in bases else len(bases),
            depsets.index(d) if d in depsets else 0,
        )

    return sorted(grid, key=key)


def write_report(
    results_dir: Path,
    history: Sequence[PastRun] | None = None,
    results: AnyResults | None = None,
) -> Path:
    """Render ``results_dir/results.json`` to ``results_dir/report.html``; return its path.

    ``history``: earlier runs of the same matrix, oldest first, for trends and changes.
    ``results``: that results.json when the caller holds it already (not read twice).
    """
    typed = read_results_shared(results_dir / RESULTS_JSON) if results is None else None
    typed = typed or as_results(results or {}, str(results_dir / RESULTS_JSON))
    index_path = results_dir / SBOM_INDEX  # runs published before results.json listed them
    sbom_index = typed.sboms if typed.sboms and typed.sboms.to_dict() else None
    if sbom_index is None and index_path.is_file():
        sbom_index = Sboms.from_dict(json.loads(index_path.read_text(encoding="utf-8")), SBOM_INDEX)
    pages = _report_pages(typed, history=history, sbom_index=sbom_index)
    old_pages = results_dir / REPORT_CELLS_DIR
    if old_pages.is_dir():  # a re-render must not leave pages of cells no longer there
        for stale in old_pages.glob("*.html"):
            stale.unlink()
    for name, html in pages:  # written one at a time, never all held
        target = results_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, html)
    return results_dir / REPORT_HTML
