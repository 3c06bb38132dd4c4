"""results.json: run metadata, bases, depsets and the cells merged from their own files.

Each cell writes ``cells/<id>.r<k>.json`` the moment it ends; ``merge`` builds
``results.json`` from whatever is there, so a crash or Ctrl-C loses nothing finished.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import __version__
from harness.model.errors import ResultsError
from harness.model.matrix import Matrix
from harness.model.results import SCHEMA_VERSION
from harness.run.forecast import attach_predictions
from harness.run.load import load_warnings
from harness.store import rundir
from harness.store.files import CELLS_DIR, PREPARE_JSON, RESULTS_JSON, result_file_name


def host_facts() -> dict[str, Any]:
    os_name = None
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "hostname": socket.gethostname(),
        "os": os_name,
        "kernel": platform.release(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_bytes": memory,
        "python": platform.python_version(),
    }


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_header(
    run_id: str, matrix: Matrix, jobs: int, engine: dict[str, Any], started_at: str
) -> dict[str, Any]:
    return {
        "id": run_id,
        "started_at": started_at,
        "ended_at": None,
        "harness_version": __version__,
        "jobs": jobs,
        "repeat": matrix.settings.repeat,
        "host": host_facts(),
        "engine": engine,
        "matrix": {"path": str(matrix.path), "sha256": matrix.sha256},
        "registry_reachable": None,
        "warnings": [],
        "cells_planned": sum(c.repeat for c in matrix.cells),
    }


def depset_records(matrix: Matrix) -> list[dict[str, Any]]:
    return [
        {"name": name, **spec.model_dump(mode="json")} for name, spec in matrix.spec.depsets.items()
    ]


def write_json(path: Path, data: dict[str, Any]) -> None:
    rundir.write_json(path, data)


def read_cell_file(path: Path) -> dict[str, Any] | None:
    """A finished cell's record, or None when the file is not one (cut short by a killed
    runner, hand-edited, the wrong shape): --resume runs that cell again. Validated by
    ``CellRecord`` (nested probe outputs included) and returned as plain JSON."""
    try:
        return rundir.read_cell(path).to_dict()
    except ResultsError:
        return None


def read_cell_files(
    out_dir: Path, warn: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Every cell record of ``out_dir/cells``. A cell file is its name and its content
    together: a file whose name is not ``result_file_name(id, repeat)`` of the record it
    holds (a `cp` backup, a re-downloaded artifact, a hand-renamed file) is ignored with
    a warning, so no cell is counted twice."""
    say = warn or _warn
    found = []
    for path in sorted((out_dir / CELLS_DIR).glob("*.json")):
        record = read_cell_file(path)
        if record is None:
            continue  # not a finished record: --resume runs the cell again
        expected = result_file_name(record["id"], record["repeat"])
        if path.name != expected:
            say(
                f"{path}: ignored: it holds cell {record['id']} repeat {record['repeat']}, "
                f"whose file is {expected} (a copy or a renamed file?)"
            )
            continue
        found.append(record)
    return found


def _warn(line: str) -> None:
    print(f"harness: warning: {line}", file=sys.stderr)


def merge(
    out_dir: Path,
    ended: bool = True,
    load: dict[str, Any] | None = None,
    redact: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Combine prepare.json (run, bases, depsets) with every finished cell file; ``load``
    is how busy the host and engine were while the cells ran (run/load.py); ``redact``: the
    run's redactor, applied to the whole document before it is written."""
    prepared = json.loads((out_dir / PREPARE_JSON).read_text(encoding="utf-8"))
    cells = read_cell_files(out_dir)
    order = {name: i for i, name in enumerate(b["name"] for b in prepared["bases"])}
    depsets = {d["name"]: i for i, d in enumerate(prepared["depsets"])}
    cells.sort(key=lambda c: (order.get(c["base"], 99), depsets.get(c["depset"], 99), c["repeat"]))
    attach_predictions(cells, prepared.get("preflight") or {})
    run = dict(prepared["run"])
    if ended:
        run["ended_at"] = now_iso()
    if load is not None:
        run["load"] = load
        run["warnings"] = [*(run.get("warnings") or []), *load_warnings(load)]
    results = {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "bases": prepared["bases"],
        "depsets": prepared["depsets"],
        "cells": cells,
    }
    if redact is not None:
        results = redact(results)
    write_json(out_dir / RESULTS_JSON, results)
    return results
