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
A file is written under a temporary name and renamed into place (store.rundir), so a
reader never sees half a file; a run's own file is replaced by its final state (a
resumed run), never another run's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.model import status as statuses
from harness.model.errors import ResultsError
from harness.model.records import check_schema
from harness.store.files import HISTORY_DIR, RESULTS_JSON
from harness.store.rundir import write_atomic_with

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
        ("run_dir", pa.string()),  # where the run's results.json was written
        ("install_seconds", pa.float64()),  # cell rows: the sum of the install steps
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


def _install_seconds(cell: Mapping[str, Any]) -> float | None:
    values = [
        float(s["seconds"])
        for s in cell.get("steps") or []
        if s.get("kind") == "install" and isinstance(s.get("seconds"), int | float)
    ]
    return sum(values) if values else None


def _rows(results: Mapping[str, Any], run_dir: Path | None = None) -> list[dict[str, Any]]:
    run = {**_run_columns(results), "run_dir": str(run_dir) if run_dir else None}
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
                "install_seconds": _install_seconds(cell),
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


# -- where the history lives ---------------------------------------------------------------

DEFAULT_REPORTS = Path("reports")  # relative to the working directory, like `harness run`'s


def in_default_reports(run_dir: Path) -> bool:
    """Is ``run_dir`` a folder of a ``reports/`` folder (the default place of runs, or any
    folder the user named ``reports`` to collect runs in, as CI jobs do)?"""
    return run_dir.resolve().parent.name == DEFAULT_REPORTS.name


def history_location(run_dir: Path, configured: Path | None = None) -> Path:
    """Where a run's history entry goes (and earlier runs are looked up):

    - the matrix setting ``history_dir`` when given;
    - ``…/reports/history`` for a run in a folder named ``reports`` (no ``--out``, or
      ``--out PATH/reports/X``): runs collected there share their history;
    - otherwise ``<run dir>/history``: inside the folder the user named, never beside it.
    """
    if configured is not None:
        return configured.resolve()
    if in_default_reports(run_dir):
        return run_dir.resolve().parent / HISTORY_DIR
    return run_dir.resolve() / HISTORY_DIR


def recorded_history_dir(results: Mapping[str, Any], run_dir: Path) -> Path:
    """The history a run was recorded in (results.json says), for re-rendering it."""
    recorded = (results.get("run") or {}).get("history_dir")
    if isinstance(recorded, str) and recorded:
        return Path(recorded)
    return run_dir.resolve().parent / HISTORY_DIR  # files written before history_dir existed


def history_path(history_dir: Path, run_id: str) -> Path:
    if not _RUN_ID.match(run_id):
        raise ResultsError(f"run id {run_id!r} cannot name a history file")
    return history_dir / f"{run_id}.parquet"


def record_run(results: dict[str, Any], history_dir: Path, run_dir: Path | None = None) -> Path:
    """Record one run's final state in the history and return its file.

    A run has one entry: recording it again (a resumed run, a re-published one) replaces
    the entry atomically, so the history always holds the run as its results.json does.
    """
    check_schema(results)
    target = history_path(history_dir, str((results.get("run") or {}).get("id")))
    table = pa.Table.from_pylist(_rows(results, run_dir), schema=SCHEMA)
    return write_atomic_with(target, lambda temporary: pq.write_table(table, temporary))


def load_history(history_dir: Path, matrix_sha256: str | None = None) -> pd.DataFrame:
    """Every recorded run, oldest first (run ids sort by time), optionally one matrix's."""
    files = sorted(p for p in history_dir.glob("*.parquet") if not p.name.startswith("."))
    tables = [pq.read_table(p) for p in files]
    # Older history formats may lack columns: align every file on today's schema.
    tables = [_conform(t) for t in tables]
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    # Nullable integers: a cell row has no step, a step row no size; NaN would turn
    # every integer column into floats.
    frame: pd.DataFrame = table.to_pandas(types_mapper=_NULLABLE.get)
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


@dataclass(frozen=True)
class PastCell:
    status: str
    install_median: float | None


@dataclass(frozen=True)
class PastRun:
    """An earlier run as the history recorded it: enough for trends and status changes."""

    run_id: str
    run_dir: Path | None
    cells: Mapping[str, PastCell]


def earlier_runs(history_dir: Path, results: Mapping[str, Any], limit: int = 8) -> list[PastRun]:
    """Up to ``limit`` earlier runs of the same matrix (the same file, so last night's run
    is found after a pin was bumped, or the same content), oldest first. Earlier means a
    smaller run id (ids sort by time); warm runs are compared only with warm runs."""
    run = results.get("run") or {}
    frame = load_history(history_dir) if history_dir.is_dir() else None
    if frame is None or frame.empty:
        return []
    cells = frame[frame["row"] == "cell"]
    same = _same_matrix(cells, run) & (cells["run_id"] < str(run.get("id")))
    same &= cells["warm"].fillna(False).astype(bool) == bool(run.get("warm"))
    chosen = cells[same]
    run_ids = sorted(chosen["run_id"].unique())[-limit:]
    return [_past_run(chosen[chosen["run_id"] == rid]) for rid in run_ids]


def _same_matrix(cells: pd.DataFrame, run: Mapping[str, Any]) -> pd.Series:
    matrix = run.get("matrix") or {}
    same = pd.Series(False, index=cells.index)
    if matrix.get("path"):
        same |= cells["matrix_path"] == matrix["path"]
    if matrix.get("sha256"):
        same |= cells["matrix_sha256"] == matrix["sha256"]
    return same.fillna(False).astype(bool)


def _past_run(rows: pd.DataFrame) -> PastRun:
    cells: dict[str, PastCell] = {}
    for cell_id, group in rows.groupby("cell_id", sort=True):
        installs = pd.to_numeric(group["install_seconds"], errors="coerce").dropna()
        cells[str(cell_id)] = PastCell(
            status=statuses.worst(group["cell_status"].dropna()),
            install_median=float(installs.median()) if len(installs) else None,
        )
    run_dir = rows["run_dir"].dropna()
    return PastRun(
        run_id=str(rows["run_id"].iloc[0]),
        run_dir=Path(str(run_dir.iloc[0])) if len(run_dir) else None,
        cells=cells,
    )


def previous_run_dir(history_dir: Path, results: Mapping[str, Any]) -> Path | None:
    """The directory of the most recent earlier run of the same matrix, as the history
    knows it, when its results.json is still there (the diff needs the whole record)."""
    runs = earlier_runs(history_dir, results, limit=1)
    if not runs or runs[-1].run_dir is None:
        return None
    found = runs[-1].run_dir
    return found if (found / RESULTS_JSON).is_file() else None
