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
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from harness import __version__
from harness.analysis.capabilities import capability_summary
from harness.analysis.installers import fairness_note, installer_pairs
from harness.analysis.metrics import (
    as_float,
    classify_tag,
    import_modules,
    import_seconds,
    module_seconds,
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
    bases_by_name,
    group_cells,
    noisy_rule_text,
    noisy_timings,
)
from harness.analysis.vulns import NotScanned, recorded_scan, source_text
from harness.documents import charts
from harness.documents.decision import render_decision_html
from harness.documents.html import status_class
from harness.documents.installers import render_installers_html
from harness.documents.speed import speed_cell, spread_text
from harness.model import format as fmt
from harness.model import status as status_words
from harness.model.errors import ResultsError
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
from harness.model.results import BaseRecord, CellRecord, ImportsProbe
from harness.model.status import DISPLAY_ORDER
from harness.store.files import (
    DEPSETS_HTML,
    REPORT_CELLS_DIR,
    REPORT_HTML,
    RESULTS_JSON,
    SBOM_INDEX,
    base_sbom_path,
)
from harness.store.history import PastRun
from harness.store.rundir import load_results, write_atomic

STATUS_HELP = {s.value: s.meaning for s in DISPLAY_ORDER}
# Shown in their own columns, so not repeated among the smoke facts.
_FACT_SKIP = frozenset({"status", "seconds"})
# Nested facts worth a row of their own: key -> sub-keys kept (None: every scalar).
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

_RUN_KEYS = ("id", "started_at", "ended_at", "harness_version", "jobs", "repeat",
             "registry_reachable", "registries", "registry_mirror")  # fmt: skip
_HOST_KEYS = ("hostname", "os", "kernel", "cpus", "memory_bytes")
_ENGINE_KEYS = ("version", "api_version", "storage_driver", "cgroup_version")

_NUMERIC = [
    "seconds", "install_seconds", "system_seconds", "venv_seconds", "pip_seconds",
    "download_bytes", "size_added_bytes", "import_seconds", "smoke_seconds",
]  # fmt: skip


# --- small pure helpers ---------------------------------------------------------------


def missing(value: Any) -> bool:
    """None or NaN (results.json may hold NaN, which jinja would find truthy)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def smoke_facts(probe: Mapping[str, Any]) -> dict[str, str]:
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


def _nested_facts(key: str, value: Mapping[str, Any]) -> dict[str, str]:
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


def _is_scalar(value: Any) -> bool:
    # Multi-line text (a build config dump, a traceback) is not a headline fact.
    if isinstance(value, str):
        return "\n" not in value.strip()
    return value is None or isinstance(value, int | float | bool)


def _is_scalar_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_scalar(v) for v in value)


def _fact_text(value: Any) -> str:
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


def cells_frame(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per cell record (a repeat is its own record) with its headline numbers."""
    return [_cell_row(c) for c in results.get("cells") or []]


def _cell_row(cell: Mapping[str, Any]) -> dict[str, Any]:
    record = CellRecord.from_dict(cell, "cell")  # analysis/metrics.py reads the typed record
    steps, probes = record.steps, record.probes
    sdists = [
        str(d.get("name")) for d in cell.get("distributions") or [] if d.get("wheel") is False
    ]
    cell_id = str(cell.get("id", f"{cell.get('base')}×{cell.get('depset')}"))
    return {
        "id": cell_id,
        "base": cell.get("base"),
        "depset": cell.get("depset"),
        "installer": installer_of(cell_id),
        "repeat": int(cell.get("repeat") or 0),
        "status": cell.get("status"),
        "reason": cell.get("reason"),
        "seconds": cell.get("seconds"),
        "install_seconds": _sum_steps(steps, kind="install"),
        "system_seconds": _sum_steps(steps, name="system-packages"),
        "venv_seconds": _sum_steps(steps, name="venv"),
        # The installer's own step (pip-install or uv-install), under one column.
        "pip_seconds": _sum_steps(steps, name=installer_step(installer_of(cell_id))),
        "install_complete": _install_complete(record),
        "download_bytes": cell.get("download_bytes"),
        "size_added_bytes": cell.get("size_added_bytes"),
        "import_seconds": import_seconds(probes),
        "smoke_seconds": smoke_seconds(probes),
        "built_from_source": bool(sdists),
        "warm": bool(cell.get("warm")),
        "sdists": ", ".join(sdists),
        "expected_reason": (_expected_failure(cell.get("expected_failure")) or {}).get("reason"),
        "environment_limit": cell.get("environment_limit"),
        "anchor": cell_anchor(cell_id),
    }


def grid_frame(cells: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell id, in order of first appearance: repeats folded into the median,
    with the install spread; a missing value is left out of every fold."""
    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for row in cells:
        by_id.setdefault(row["id"], []).append(row)
    grid = []
    for cell_id, rows in by_id.items():
        present = {c: [r[c] for r in rows if not missing(r[c])] for c in rows[0]}
        numbers = {c: [n for r in rows if (n := _numeric(r[c])) is not None] for c in _NUMERIC}
        installs = numbers["install_seconds"]
        grid.append(
            {
                "id": cell_id,
                **{c: next(iter(present[c]), None) for c in _GRID_FIRST},
                "status": worst_status(present["status"]),
                "statuses": _status_mix(present["status"]),
                "runs": len(rows),
                "install_median": _median(installs),
                "install_min": min(installs, default=None),
                "install_max": max(installs, default=None),
                "install_complete": all(r["install_complete"] for r in rows),
                "built_from_source": any(r["built_from_source"] for r in rows),
                "warm": any(r["warm"] for r in rows),
                "sdists": _union(r["sdists"] for r in rows),
                **{c: _median(numbers[c]) for c in _GRID_MEDIANS},
            }
        )
    return grid


# The first value present over a cell's repeats; the median over them.
_GRID_FIRST = ("base", "depset", "installer", "anchor", "reason", "expected_reason",
               "environment_limit")  # fmt: skip
_GRID_MEDIANS = ("system_seconds", "venv_seconds", "pip_seconds", "download_bytes",
                 "size_added_bytes", "import_seconds", "smoke_seconds")  # fmt: skip


def _numeric(value: Any) -> float | None:
    """A number to fold (a numeric string too, as results written by hand may hold)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def worst_status(statuses: Iterable[Any]) -> str:
    return status_words.worst(s for s in statuses if not missing(s))


def _status_mix(statuses: Sequence[Any]) -> str:
    counts = Counter(statuses).most_common()
    if len(counts) <= 1:
        return ""
    return ", ".join(f"{n}× {status}" for status, n in counts)


def _union(values: Iterable[Any]) -> str:
    names = {n.strip() for v in values if isinstance(v, str) for n in v.split(",") if n.strip()}
    return ", ".join(sorted(names))


def bases_frame(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The bases table: where each image came from and what it contains."""
    standins = _standins(results)
    return [
        _base_row({**b, "standin": standins.get(str(b.get("name")))})
        for b in results.get("bases") or []
    ]


def _base_row(base: Mapping[str, Any]) -> dict[str, Any]:
    libc = base.get("libc") or {}
    libc_text = " ".join(str(v) for v in (libc.get("family"), libc.get("version")) if v)
    image_id = base.get("image_id") or ""
    return {
        **{k: base.get(k) for k in ("name", "reference", "kind", "standin", "status", "reason")},
        **{k: base.get(k) for k in ("image", "image_id", "digest", "os", "python")},
        "description": base.get("description"),
        "origin": origin_text(base),
        "origin_kind": origin_of(base),
        "origin_tag": origin_tag(base),
        "image_id_short": image_id.removeprefix("sha256:")[:12] or None,
        "libc": libc_text or None,
        "size_bytes": base.get("size_bytes"),
        "build_seconds": base.get("build_seconds"),
        "anchor": base_anchor(str(base.get("name"))),
        "capabilities": _capabilities_text(base),
    }


def _capabilities_text(base: Mapping[str, Any]) -> str:
    """The capability probe's facts in one line (analysis.capabilities words them)."""
    try:
        record = BaseRecord.from_dict(base, "base")
    except ResultsError as err:
        return f"capabilities unknown: {err.what}"
    return capability_summary(record.capabilities)


def distributions_frame(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every installed distribution of every cell record, with its artefact kind."""
    return [
        {
            "id": cell.get("id"),
            "repeat": int(cell.get("repeat") or 0),
            "name": d.get("name"),
            "version": d.get("version"),
            "wheel": d.get("wheel"),
            "tag": d.get("tag"),
            "kind": classify_tag(d.get("wheel"), d.get("tag")),
            "requested": bool(d.get("requested")),
            "source": d.get("source"),
            "build_seconds": d.get("build_seconds"),
            "failed": d.get("failed"),
        }
        for cell in results.get("cells") or []
        for d in cell.get("distributions") or []
    ]


def facts_frame(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Long table of smoke facts: (cell, probe, fact, value), first repeat of each cell."""
    return [
        {"id": c.get("id"), "base": c.get("base"), "depset": c.get("depset"),
         "probe": name, "fact": fact, "value": value}
        for c in results.get("cells") or []
        if not c.get("repeat")
        for name, probe in (c.get("probes") or {}).items()
        if name not in NON_SMOKE_PROBES and isinstance(probe, dict)
        for fact, value in smoke_facts(probe).items()
    ]  # fmt: skip


# --- view models for the template -----------------------------------------------------


def _records(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows as dicts with NaN turned into None for the template."""
    return [{str(k): (None if missing(v) else v) for k, v in row.items()} for row in rows]


def _ordered(names: Iterable[Any], declared: Sequence[str]) -> list[str]:
    """Declared order first, then any name the cells use that was not declared."""
    seen = [n for n in declared]
    seen += [str(n) for n in dict.fromkeys(names) if not missing(n) and str(n) not in seen]
    return seen


def _grid_rows(
    grid: list[dict[str, Any]], bases: list[dict[str, Any]], depsets: list[str]
) -> list[dict[str, Any]]:
    by_key = _pip_first(grid)
    known = {b["name"]: b for b in bases}
    names = _ordered((g["base"] for g in grid), list(known))
    return [
        {
            # A base the cells use but the bases list lacks still gets a full row.
            "base": known.get(name) or _records(bases_frame({"bases": [{"name": name}]}))[0],
            "cells": [by_key.get((name, d)) for d in depsets],
        }
        for name in names
    ]


def _pip_first(grid: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(base, depset) -> the grid entry shown in that slot: pip's cell, carrying its
    other installers' cells (``base×depset+uv``) as ``twins``; a twin without a pip cell
    takes the slot itself."""
    slots: dict[tuple[str, str], dict[str, Any]] = {}
    twins: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in grid:
        key = (entry["base"], entry["depset"])
        if entry.get("installer", DEFAULT_INSTALLER) == DEFAULT_INSTALLER:
            slots[key] = {**entry, "twins": []}
        else:
            twins.setdefault(key, []).append(entry)
    for key, others in twins.items():
        if key not in slots:
            slots[key], others = others[0], others[1:]
        slots[key] = {**slots[key], "twins": others}
    return slots


def _depset_views(
    results: Mapping[str, Any], grid: list[dict[str, Any]], bases: list[str]
) -> list[dict[str, Any]]:
    facts = facts_frame(results)
    facts_by_depset: dict[Any, list[dict[str, Any]]] = {}  # one pass, not per depset
    for fact in facts:
        facts_by_depset.setdefault(fact["depset"], []).append(fact)
    by_depset: dict[Any, dict[Any, list[dict[str, Any]]]] = {}  # one pass, not per depset
    for g in grid:
        by_depset.setdefault(g["depset"], {}).setdefault(g["base"], []).append(g)
    views = []
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


def _with_noise(grid: list[dict[str, Any]], results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each grid entry plus its noisy timings: ``noisy`` (timing name -> badge title,
    for the badges) and ``noisy_rows`` (for the cell's detail)."""
    groups = group_cells(results)
    return [{**entry, **_noise_view(groups.get(str(entry["id"])))} for entry in grid]


def _with_preflight(grid: list[dict[str, Any]], results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each grid entry plus ``preflight`` (the prediction's verdict, or None) and
    ``mismatches``: one row per distribution the install contradicted, over all repeats,
    with both sides (what the preflight said, what pip installed)."""
    records: dict[str, list[Mapping[str, Any]]] = {}
    for cell in results.get("cells") or []:
        records.setdefault(str(cell.get("id")), []).append(cell)
    return [{**entry, **_preflight_view(records.get(str(entry["id"]), []))} for entry in grid]


def _preflight_view(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    predicted = next(
        (r["preflight"] for r in records if isinstance(r.get("preflight"), dict)), None
    )
    if predicted is None:
        return {"preflight": None, "mismatches": []}
    said = {str(d.get("name")): d for d in predicted.get("distributions") or []}
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        installed = {str(d.get("name")).lower(): d for d in record.get("distributions") or []}
        for mismatch in record.get("preflight_mismatches") or []:
            name = str(mismatch.get("name"))
            rows.setdefault(
                name,
                {
                    "name": name,
                    "predicted": _predicted_text(said.get(name) or {}),
                    "installed": _installed_text(installed.get(name) or {}),
                    "message": mismatch.get("message"),
                },
            )
    return {
        "preflight": {
            "verdict": predicted.get("verdict"),
            "seconds": predicted.get("seconds"),
            "notes": list(predicted.get("notes") or []),
        },
        "mismatches": list(rows.values()),
    }


def _predicted_text(prediction: Mapping[str, Any]) -> str:
    kind = prediction.get("kind")
    version = prediction.get("version") or ""
    if kind == "wheel":
        return f"wheel {version} ({prediction.get('wheel_tag')})".replace("  ", " ")
    if kind == "sdist":
        return f"build from source {version}".strip()
    return f"no distribution ({prediction.get('reason') or 'for this platform'})"


def _installed_text(installed: Mapping[str, Any]) -> str:
    version = installed.get("version") or ""
    if installed.get("wheel"):
        return f"wheel {version} ({installed.get('tag')})"
    return f"built {version} from source".replace("  ", " ")


def _noise_view(group: CellGroup | None) -> dict[str, Any]:
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


def _noisy_row(timing: NoisyTiming) -> dict[str, Any]:
    values = timing.sample.values
    return {
        "timing": timing.timing,
        "median": timing.sample.median,
        "low": min(values),
        "high": max(values),
        "text": timing.describe(),
    }


def _depset_names(results: Mapping[str, Any]) -> list[str]:
    return [str(d.get("name")) for d in results.get("depsets") or []]


def _depset_spec(results: Mapping[str, Any], name: str) -> dict[str, Any]:
    spec: Mapping[str, Any] = next(
        (d for d in results.get("depsets") or [] if d.get("name") == name), {}
    )
    system = spec.get("system") or {}
    return {
        "system": [f"{pm}: {' '.join(pkgs)}" for pm, pkgs in system.items() if pkgs],
        "pip": spec.get("pip") or [],
        "probes": spec.get("probes") or [],
        # what a team's project depset installs from, and its suite (not "pip: —")
        "requirements": spec.get("requirements") or [],
        "lockfile": spec.get("lockfile"),
        "tests": spec.get("tests") or {},
    }


def _facts_table(
    facts: Sequence[Mapping[str, Any]], bases: list[str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Pivot facts to one row per (probe, fact) and one column per base, with the first
    value of each; rows grouped by probe (in order of first appearance), then by fact."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for f in facts:
        if not any(missing(f[k]) for k in ("probe", "fact", "base", "value")):
            table.setdefault((f["probe"], f["fact"]), {}).setdefault(f["base"], f["value"])
    probes = {p: n for n, p in enumerate(dict.fromkeys(p for p, _ in table))}
    names = {f: n for n, f in enumerate(dict.fromkeys(f["fact"] for f in facts))}
    columns = [b for b in bases if any(b in values for values in table.values())]
    rows = [
        {"probe": probe, "fact": fact, "values": [table[probe, fact].get(b) for b in columns]}
        for probe, fact in sorted(table, key=lambda key: (probes[key[0]], names[key[1]]))
    ]
    return columns, rows


def _none(value: Any) -> Any:
    return None if missing(value) else value


def _charts(grid: list[dict[str, Any]], bases: list[str], depsets: list[str]) -> list[Markup]:
    def series(field: str, scale: float) -> dict[str, list[float | None]]:
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


def _chart_value(entry: Mapping[str, Any] | None, field: str, scale: float) -> float | None:
    # A partial install (failed half-way) would look like a fast one: leave it out.
    if entry is None or not entry.get("install_complete") or missing(entry.get(field)):
        return None
    return float(entry[field]) / scale


def _standins(results: Mapping[str, Any]) -> dict[str, str]:
    """Base name -> stand-in description, from the bases list or else from the cell records."""
    found = {
        str(c.get("base")): str(c["standin"])
        for c in results.get("cells") or []
        if c.get("standin")
    }
    found.update(
        {
            str(b.get("name")): str(b["standin"])
            for b in results.get("bases") or []
            if b.get("standin")
        }
    )
    return found


def _cell_view_inputs(results: Mapping[str, Any]) -> tuple[Any, ...]:
    """What every cell's view reads, computed once for the whole run."""
    dists = _distributions_by_run(distributions_frame(results))
    standins = _standins(results)
    references = reference_cells(results)
    bases = {str(b.get("name")): b for b in results.get("bases") or []}
    records: dict[str, list[Mapping[str, Any]]] = {}
    for cell in results.get("cells") or []:
        records.setdefault(str(cell.get("id")), []).append(cell)
    return dists, standins, references, bases, records


def _cell_views(
    results: Mapping[str, Any], grid: list[dict[str, Any]], inputs: tuple[Any, ...] | None = None
) -> list[dict[str, Any]]:
    dists, standins, references, bases, records = inputs or _cell_view_inputs(results)
    return [
        {
            **entry,
            "standin": standins.get(entry["base"]),
            # Which image this cell ran on: the digest of a pulled base, the stand-in...
            "origin": origin_text(
                bases.get(entry["base"]) or {"standin": standins.get(entry["base"])}
            ),
            "repeats": [
                {
                    **_repeat_view(c, dists),
                    "made_of": made_of_view(made_of(results, c, references), step_sizes(c)),
                }
                for c in sorted(records.get(entry["id"], []), key=lambda c: c.get("repeat") or 0)
            ],
        }
        for entry in grid
    ]


def _distributions_by_run(
    dists: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Each cell run's distributions, requested first, then by name: sorted once for all
    (per cell, filtering the whole frame made the report quadratic in the cells)."""
    ordered = sorted(_records(dists), key=_sort_key)
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in ordered:
        runs.setdefault((str(row["id"]), int(row["repeat"])), []).append(row)
    return runs


def _repeat_view(
    cell: Mapping[str, Any], dists: Mapping[tuple[str, int], list[dict[str, Any]]]
) -> dict[str, Any]:
    repeat = int(cell.get("repeat") or 0)
    mine = dists.get((str(cell.get("id")), repeat), [])
    probes = cell.get("probes") or {}
    return {
        **{k: cell.get(k) for k in ("status", "reason", "seconds", "started_at", "ended_at")},
        **{k: cell.get(k) for k in ("container", "package_manager", "download_bytes")},
        "repeat": repeat,
        "size_added_bytes": cell.get("size_added_bytes"),
        "install_seconds": _sum_steps(CellRecord.from_dict(cell, "cell").steps, kind="install"),
        "steps": [_step_view(s) for s in cell.get("steps") or []],
        "distributions": [d for d in mine if missing(d.get("failed"))],
        "failed_distributions": [d for d in mine if not missing(d.get("failed"))],
        "imports": _import_rows(probes.get("imports")),
        "heaviest": _heaviest(probes.get("imports")),
        "expected_failure": _expected_failure(cell.get("expected_failure")),
        "environment_limit": cell.get("environment_limit"),
        "probes": [_probe_view(name, p) for name, p in probes.items()],
        "tests": suite_result(cell),
        "reproducer": _reproducer(cell.get("reproducer")),
    }


def made_of_view(made: MadeOf | None, steps: StepSizes | None = None) -> dict[str, Any] | None:
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


def _step_sizes_view(sizes: StepSizes | None) -> dict[str, Any] | None:
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
    bases: Sequence[Mapping[str, Any]], sbom_index: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Per base: its SBOM's path and either the counts by severity or why there are none.

    Never a 0 standing in for "not scanned": without a scan the text is the reason.
    """
    entries = {
        str(e.get("subject")): e
        for e in (sbom_index or {}).get("sboms") or []
        if isinstance(e, dict) and e.get("kind") == "base"
    }
    views = {}
    for base in bases:
        name = str(base.get("name"))
        entry = entries.get(name)
        if entry is None:
            views[name] = {"sbom": None, "counts": None, "text": "no SBOM: no cell of this "
                           "base reported its contents"}  # fmt: skip
            continue
        views[name] = {
            "sbom": base_sbom_path(name),
            "components": entry.get("components"),
            **_scan_view(entry.get("vulnerabilities")),
        }
    return views


def _scan_view(scan: Any) -> dict[str, Any]:
    result = recorded_scan(scan)
    if isinstance(result, NotScanned):
        return {"counts": None, "text": result.reason}
    return {"counts": list(result.by_severity().items()), "text": source_text(result)}


def _expected_failure(value: Any) -> dict[str, Any] | None:
    """matrix.yaml's declaration ({"reason", "link"}); the link is shown as text, not followed."""
    if not isinstance(value, dict):
        return None
    return {"reason": value.get("reason"), "link": value.get("link")}


def _sort_key(dist: Mapping[str, Any]) -> tuple[bool, bool, str]:
    """Requested first, then by name (case-insensitive; a missing name last)."""
    name = dist["name"]
    return (not dist["requested"], not isinstance(name, str), str(name).lower())


def _step_view(step: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("name", "kind", "status", "seconds", "exit_code", "command", "network", "log_tail")
    view = {k: step.get(k) for k in keys}
    added = step.get("bytes_added")
    view["added"] = fmt.size(int(added)) if isinstance(added, int | float) else "—"
    view["note"] = step.get("failure_summary") or step.get("reason") or step.get("error")
    view["note"] = view["note"] or step.get("failure_kind")
    view["failing"] = step.get("status") not in ("passed", "expected-failure", "unexpected-pass")
    view["failure"] = _failure_view(step.get("failure"))
    return view


def _failure_view(failure: Any) -> dict[str, Any] | None:
    """What a failed install step's diagnosis shows: kind, stage, distribution, the cause
    lines of its build output and what to add (run/pipfailure.py)."""
    if not isinstance(failure, dict):
        return None
    cause = failure.get("cause")
    return {
        "kind": failure.get("kind"),
        "stage": failure.get("stage"),
        "distribution": failure.get("distribution"),
        "what": failure.get("what"),
        "cause": [str(c) for c in cause] if isinstance(cause, list) else [],
        "hint": failure.get("hint"),
        "available": failure.get("available"),
    }


def _imports_probe(probe: Any) -> ImportsProbe | None:
    return ImportsProbe.from_dict(probe, "imports") if isinstance(probe, Mapping) else None


def _import_rows(probe: Any) -> list[dict[str, Any]]:
    rows = []
    for module, entry in import_modules(_imports_probe(probe)).items():
        rows.append(
            {
                "module": module,
                "seconds": module_seconds(entry),
                "wall_seconds": as_float(entry.wall_seconds),
                "modules_imported": entry.modules_imported,
                "error": entry.error,
            }
        )
    return rows


def _heaviest(probe: Any, limit: int = 5) -> list[dict[str, Any]]:
    """Modules with the largest self import time, over every module the probe timed."""
    rows = [
        {
            "module": h.module,
            "seconds": as_float(
                h.self_seconds if "self_seconds" in h.model_fields_set else h.seconds
            ),
        }
        for entry in import_modules(_imports_probe(probe)).values()
        for h in entry.heaviest_self or []
    ]
    rows.sort(key=lambda r: r["seconds"] or 0.0, reverse=True)
    return rows[:limit]


def _probe_view(name: str, probe: Any) -> dict[str, Any]:
    info = probe if isinstance(probe, dict) else {}
    status = info.get("status")
    return {
        "name": name,
        "status": status if isinstance(status, str) else None,  # a probe may print anything
        "seconds": info.get("seconds"),
        "error": info.get("error"),
        "json": pretty_json(probe),
    }


# One encoder for every value: json.dumps with options builds a new one per call, which was
# half of rendering 1,000 cells' probe outputs.
_DUMPS = json.JSONEncoder(ensure_ascii=False).encode


def pretty_json(value: Any, indent: int = 0) -> str:
    """Indented JSON that keeps short lists of scalars on one line (timings, codec lists)."""
    pad, inner = " " * indent, " " * (indent + 2)
    if _is_flat(value):  # only then: dumping every level whole made this quadratic
        flat = _DUMPS(value)
        if len(flat) + indent <= 100:
            return flat
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(str(k))}: {pretty_json(v, indent + 2)}" for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value:
        items = [f"{inner}{pretty_json(v, indent + 2)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return _DUMPS(value)


def _is_flat(value: Any) -> bool:
    """A list or dict holding only scalars: short ones read better on one line."""
    if isinstance(value, dict):
        return all(_is_scalar(v) for v in value.values())
    return isinstance(value, list) and all(_is_scalar(v) for v in value)


def _reproducer(repro: Any) -> dict[str, str] | None:
    if not isinstance(repro, dict):
        return None
    commands = repro.get("commands") or []
    return {
        "dockerfile": str(repro.get("dockerfile") or ""),
        "commands": "\n".join(str(c) for c in commands),
    }


def _history(
    history: Sequence[PastRun], current: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
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


def _change(
    entry: Mapping[str, Any], previous: PastRun | None, values: list[float | None]
) -> dict[str, Any]:
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


def _environment() -> Environment:
    env = Environment(
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
    )
    return env


# --- entry points ---------------------------------------------------------------------


# Above this many cells one page is too heavy to open (10,000 cells made a 63 MB
# report.html: 46 MB of cell details, 6.5 MB of charts, 5.4 MB of depset tables), so
# report.html keeps the run, the grid and the bases; each base's cell details get a page
# of their own under report-cells/, and the charts and depset tables one more page.
SPLIT_CELLS = 500


def render_report(
    results: dict[str, Any],
    *,
    history: Sequence[PastRun] | None = None,
    sbom_index: Mapping[str, Any] | None = None,
) -> str:
    """The whole report as one self-contained HTML document (its main page when split).

    ``sbom_index`` is sbom/index.json as publish wrote it (None: no SBOMs to link).

    ``history`` holds earlier runs as the history recorded them (oldest first); each cell
    shows its install-time trend and what changed since the previous run.
    """
    return render_report_pages(results, history=history, sbom_index=sbom_index)[REPORT_HTML]


def render_report_pages(
    results: dict[str, Any],
    *,
    history: Sequence[PastRun] | None = None,
    sbom_index: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """``{REPORT_HTML: ...}``, plus ``report-cells/<base anchor>.html`` per base and
    ``report-cells/depsets.html`` when the run has more than SPLIT_CELLS cells; every page
    is self-contained."""
    return dict(_report_pages(results, history=history, sbom_index=sbom_index))


def _report_pages(
    results: dict[str, Any],
    *,
    history: Sequence[PastRun] | None = None,
    sbom_index: Mapping[str, Any] | None = None,
) -> Iterator[tuple[str, str]]:
    """(name, html) of each page, one at a time: a split report's per-base cell views are
    built for their page and dropped after it, so 10,000 cells are never all in memory
    as views (nor as pages)."""
    context = _context(results, history, sbom_index, cell_views=False)
    template = _environment().get_template("report.html.j2")
    plain: dict[str, Any] = {"main_href": "", "depsets_href": "", "page_base": None}
    plain |= {"detail_hrefs": {}, "detail_pages": [], "sections": _ALL_SECTIONS}
    cells: list[dict[str, Any]] = context["cells"]  # grid entries, in grid order
    inputs = _cell_view_inputs(results)
    if len(cells) <= SPLIT_CELLS:
        context["cells"] = _cell_views(results, cells, inputs)
        yield REPORT_HTML, template.render(**context, **plain)
        return
    by_base: dict[str, list[dict[str, Any]]] = {}
    for cell in cells:
        by_base.setdefault(str(cell["base"]), []).append(cell)
    names = {base: f"{base_anchor(base)}.html" for base in by_base}
    inside = {b: f"{REPORT_CELLS_DIR}/{n}" for b, n in names.items()}
    pages = [{"base": b, "href": inside[b], "cells": len(c)} for b, c in by_base.items()]
    main = {**context, **plain, "cells": [], "detail_hrefs": inside, "detail_pages": pages}
    main |= {"depsets_href": f"{REPORT_CELLS_DIR}/{DEPSETS_HTML}", "sections": {"run", "cells"}}
    # Pages under report-cells/ link to each other by name, and to report.html above.
    below = {**main, "main_href": "../report.html", "detail_hrefs": names, "detail_pages": []}
    yield REPORT_HTML, template.render(**main)
    depsets_page = {**below, "depsets_href": "", "sections": {"depsets"}}
    yield (
        f"{REPORT_CELLS_DIR}/{DEPSETS_HTML}",
        template.render(**{**depsets_page, "page_base": "charts and dependency sets"}),
    )
    for base, mine in by_base.items():
        views = _cell_views(results, mine, inputs)
        page = {**below, "cells": views, "depsets_href": DEPSETS_HTML, "sections": {"cells"}}
        yield inside[base], template.render(**{**page, "page_base": f"base {base}"})


_ALL_SECTIONS = frozenset({"run", "depsets", "cells"})


def _context(
    results: dict[str, Any],
    history: Sequence[PastRun] | None,
    sbom_index: Mapping[str, Any] | None,
    cell_views: bool = True,
) -> dict[str, Any]:
    """The template's context; ``cell_views`` False: ``cells`` holds the grid entries in
    grid order, whose views the caller builds page by page."""
    cells = cells_frame(results)
    grid = _with_preflight(_with_noise(_records(grid_frame(cells)), results), results)
    bases = _records(bases_frame(results))
    base_names = _ordered((c["base"] for c in cells), [b["name"] for b in bases])
    depsets = _ordered((c["depset"] for c in cells), _depset_names(results))
    return {
        "decision_html": render_decision_html(results, sbom_index),  # the answer first (#26)
        "schema_version": SCHEMA_VERSION,
        "generator": __version__,
        "run": _run_view(results.get("run") or {}),
        "status_help": STATUS_HELP,
        "noisy_rule": noisy_rule_text(),
        "counts": _status_counts(grid),
        "depsets": depsets,
        "grid_rows": _grid_rows(grid, bases, depsets),
        "bases": bases,
        "speed": speed_table(list(bases_by_name(results).values())),
        "base_vulns": base_vulnerabilities(bases, sbom_index),
        "depset_views": _depset_views(results, grid, base_names),
        "charts": _charts(grid, base_names, depsets),
        "cells": (_cell_views if cell_views else lambda _r, g: g)(
            results, _by_grid_order(grid, base_names, depsets)
        ),
        "history": _history(history, grid) if history else None,
        "installers": Markup(  # renders escaped HTML (analysis.installers)
            render_installers_html(installer_pairs(results), fairness_note(results))
        ),
    }


def _pick(mapping: Any, keys: Iterable[str]) -> dict[str, Any]:
    """Every key present (None when absent), so a partial results file still renders."""
    source = mapping if isinstance(mapping, Mapping) else {}
    return {k: source.get(k) for k in keys}


def _run_view(run: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_pick(run, _RUN_KEYS),
        "host": _pick(run.get("host"), _HOST_KEYS),
        "engine": _pick(run.get("engine"), _ENGINE_KEYS),
        "matrix": _pick(run.get("matrix"), ("path", "sha256")),
        "warnings": [str(w) for w in run.get("warnings") or []],
        "duration": fmt.duration(run.get("started_at"), run.get("ended_at")),
    }


def _status_counts(grid: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for entry in grid:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    order = {s: i for i, s in enumerate(STATUS_HELP)}
    return sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order)))


def _by_grid_order(
    grid: list[dict[str, Any]], bases: list[str], depsets: list[str]
) -> list[dict[str, Any]]:
    def key(g: dict[str, Any]) -> tuple[int, int]:
        b, d = g["base"], g["depset"]
        return (
            bases.index(b) if b in bases else len(bases),
            depsets.index(d) if d in depsets else 0,
        )

    return sorted(grid, key=key)


def write_report(
    results_dir: Path,
    history: Sequence[PastRun] | None = None,
    results: dict[str, Any] | None = None,
) -> Path:
    """Render ``results_dir/results.json`` to ``results_dir/report.html``; return its path.

    ``history``: earlier runs of the same matrix, oldest first, for trends and changes.
    ``results``: that results.json when the caller holds it already (not read twice).
    """
    if results is None:
        results = load_results(results_dir / RESULTS_JSON)
    index_path = results_dir / SBOM_INDEX  # runs published before results.json listed them
    sbom_index = results.get("sboms") or (
        json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else None
    )
    pages = _report_pages(results, history=history, sbom_index=sbom_index)
    old_pages = results_dir / REPORT_CELLS_DIR
    if old_pages.is_dir():  # a re-render must not leave pages of cells no longer there
        for stale in old_pages.glob("*.html"):
            stale.unlink()
    for name, html in pages:  # written one at a time, never all held
        target = results_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, html)
    return results_dir / REPORT_HTML
