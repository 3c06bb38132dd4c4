"""Append-only history of runs: one immutable Parquet file per run.

Layout: ``reports/history/<run-id>.parquet``, one table per run with a ``row``
column: one ``"cell"`` row per cell record (status, seconds, bytes added, sdists)
and one ``"step"`` row per step of it (status, seconds, and for a probe step the
probe's own seconds), each carrying the run's and the base's identity.

Why Parquet files rather than SQLite:
- append-only by construction: a run adds a file and never opens an old one, so
  a crash mid-write or two nightly jobs finishing at once cannot damage earlier
  runs (SQLite would need locking and would rewrite one shared file);
- the files are plain CI artifacts: copy, archive or prune runs with ``cp``/``rm``,
  merge the histories of two machines by copying directories;
- pandas/pyarrow read a directory of them directly, with typed columns, which is
  all the trend and the diff need; nothing here needs SQL or transactions.
A file is written under a temporary name and hard-linked into place, so a reader
never sees half a file and an existing run's file is never replaced.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.model.errors import ResultsError
from harness.model.records import check_schema

HISTORY_FORMAT = 1
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

SCHEMA = pa.schema(
    [
        ("history_format", pa.int32()),
        ("run_id", pa.string()),
        ("run_started_at", pa.timestamp("us", tz="UTC")),
        ("matrix_sha256", pa.string()),
        ("matrix_path", pa.string()),
        ("harness_version", pa.string()),
        ("hostname", pa.string()),
        ("engine_version", pa.string()),
        ("jobs", pa.int32()),
        ("warm", pa.bool_()),  # a --warm run: for iteration, not a measurement
        ("row", pa.string()),  # "cell" or "step"
        ("cell_id", pa.string()),
        ("base", pa.string()),
        ("depset", pa.string()),
        ("repeat", pa.int32()),
        ("cell_status", pa.string()),
        ("expected_failure", pa.string()),  # its reason, or null
        ("step", pa.string()),  # null on cell rows
        ("step_kind", pa.string()),
        ("status", pa.string()),  # the cell's status on cell rows, the step's on step rows
        ("seconds", pa.float64()),
        ("probe_seconds", pa.float64()),
        ("size_added_bytes", pa.int64()),
        ("sdists", pa.int32()),
        ("base_reference", pa.string()),
        ("base_image_id", pa.string()),
        ("base_digest", pa.string()),
        ("base_standin", pa.bool_()),
    ]
)


def _timestamp(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _run_columns(results: Mapping[str, Any]) -> dict[str, Any]:
    run = results.get("run") or {}
    matrix = run.get("matrix") or {}
    return {
        "history_format": HISTORY_FORMAT,
        "run_id": str(run.get("id")),
        "run_started_at": _timestamp(run.get("started_at")),
        "matrix_sha256": matrix.get("sha256"),
        "matrix_path": matrix.get("path"),
        "harness_version": run.get("harness_version"),
        "hostname": (run.get("host") or {}).get("hostname"),
        "engine_version": (run.get("engine") or {}).get("version"),
        "jobs": run.get("jobs"),
        "warm": bool(run.get("warm")),
    }


def _base_columns(base: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "base_reference": base.get("reference"),
        "base_image_id": base.get("image_id"),
        "base_digest": base.get("digest"),
        "base_standin": bool(base.get("standin")) if base else None,
    }


def _cell_columns(cell: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cell_id": cell.get("id"),
        "base": cell.get("base"),
        "depset": cell.get("depset"),
        "repeat": cell.get("repeat") or 0,
        "cell_status": cell.get("status"),
        "expected_failure": (cell.get("expected_failure") or {}).get("reason"),
    }


def _rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    run = _run_columns(results)
    bases = {b.get("name"): b for b in results.get("bases") or []}
    rows = []
    for cell in results.get("cells") or []:
        shared = {**run, **_base_columns(bases.get(cell.get("base")) or {}), **_cell_columns(cell)}
        dists = cell.get("distributions") or []
        rows.append(
            {
                **shared,
                "row": "cell",
                "status": cell.get("status"),
                "seconds": cell.get("seconds"),
                "size_added_bytes": cell.get("size_added_bytes"),
                "sdists": sum(1 for d in dists if not d.get("wheel")),
            }
        )
        probes = cell.get("probes") or {}
        for step in cell.get("steps") or []:
            name = str(step.get("name"))
            probe = probes.get(name.removeprefix("probe:")) if name.startswith("probe:") else None
            rows.append(
                {
                    **shared,
                    "row": "step",
                    "step": name,
                    "step_kind": step.get("kind"),
                    "status": step.get("status"),
                    "seconds": step.get("seconds"),
                    "probe_seconds": (probe or {}).get("seconds"),
                }
            )
    return rows


def history_path(history_dir: Path, run_id: str) -> Path:
    if not _RUN_ID.match(run_id):
        raise ResultsError(f"run id {run_id!r} cannot name a history file")
    return history_dir / f"{run_id}.parquet"


def record_run(results: dict[str, Any], history_dir: Path) -> Path:
    """Add one run to the history and return its file.

    Idempotent: if the run is already recorded its file is left as it is (history
    files are immutable) and returned.
    """
    check_schema(results)
    target = history_path(history_dir, str((results.get("run") or {}).get("id")))
    if target.exists():
        return target
    history_dir.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(_rows(results), schema=SCHEMA)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=history_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        pq.write_table(table, tmp)
        _link_without_replacing(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _link_without_replacing(source: Path, target: Path) -> None:
    """Publish ``source`` as ``target`` atomically; a concurrent writer's file wins."""
    try:
        os.link(source, target)
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links: rename, still atomic
        if not target.exists():
            os.replace(source, target)


def load_history(history_dir: Path, matrix_sha256: str | None = None) -> pd.DataFrame:
    """Every recorded run, oldest first (run ids sort by time), optionally one matrix's."""
    files = sorted(p for p in history_dir.glob("*.parquet") if not p.name.startswith("."))
    tables = [pq.read_table(p) for p in files]
    # Older history formats may lack columns: align every file on today's schema.
    tables = [_conform(t) for t in tables]
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    # Nullable integers: a cell row has no step, a step row no size; NaN would turn
    # every integer column into floats.
    frame = table.to_pandas(types_mapper=_NULLABLE.get)
    if matrix_sha256 is not None:
        frame = frame[frame["matrix_sha256"] == matrix_sha256]
    return frame.reset_index(drop=True)


_NULLABLE = {
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _conform(table: pa.Table) -> pa.Table:
    columns = [
        table.column(field.name).cast(field.type)
        if field.name in table.column_names
        else pa.nulls(table.num_rows, field.type)
        for field in SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def cell_trend(
    history: pd.DataFrame, cell_id: str, step: str = "pip-install", last: int = 10
) -> list[tuple[str, float]]:
    """(run id, median seconds over repeats) of one passed step of one cell, for the
    report's small trend; runs where the step did not pass are left out."""
    rows = history[
        (history["row"] == "step")
        & (history["cell_id"] == cell_id)
        & (history["step"] == step)
        & (history["status"] == "passed")
    ]
    medians = rows.groupby("run_id", sort=True)["seconds"].median()
    return [(str(run_id), float(value)) for run_id, value in medians.tail(last).items()]


def _read_results(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a run killed before writing results.json is not a run to compare with
    return data if isinstance(data, dict) else None


def previous_run_dir(reports_dir: Path, results: dict[str, Any]) -> Path | None:
    """The most recent earlier run of the same matrix: the same file (``run.matrix.path``,
    so last night's run is found after a pin was bumped) or the same content (sha256).

    Runs are ``reports_dir/<run-id>/results.json``; symlinks such as ``latest`` are
    skipped so a run is never its own predecessor. Earlier means a smaller run id
    (run ids sort by time). Warm runs are compared only with warm runs.
    """
    run = results.get("run") or {}
    run_id = str(run.get("id"))
    identity = _matrix_identity(run)
    best: tuple[str, Path] | None = None
    for directory in reports_dir.iterdir() if reports_dir.is_dir() else []:
        if directory.is_symlink() or not directory.is_dir():
            continue
        other = _read_results(directory / "results.json")
        if other is None:
            continue
        other_run = other.get("run") or {}
        other_id = str(other_run.get("id"))
        if other_id >= run_id or not identity & _matrix_identity(other_run):
            continue
        if bool(other_run.get("warm")) != bool(run.get("warm")):
            continue  # a warm run's timings are not measurements: never a cold run's baseline
        if best is None or other_id > best[0]:
            best = (other_id, directory)
    return best[1] if best else None


def _matrix_identity(run: dict[str, Any]) -> set[str]:
    matrix = run.get("matrix") or {}
    return {f"{key}:{matrix[key]}" for key in ("path", "sha256") if matrix.get(key)}
