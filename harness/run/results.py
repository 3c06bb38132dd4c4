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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Required, TypedDict

from harness import __version__
from harness.model.errors import ResultsError
from harness.model.matrix import Matrix
from harness.model.plan import PlanJSON
from harness.model.results import SCHEMA_VERSION, CellRecord, Results
from harness.run.forecast import attach_predictions
from harness.run.load import LoadSummary, load_warnings
from harness.store import resultsfile, rundir
from harness.store.files import CELLS_DIR, PREPARE_JSON, RESULTS_JSON, result_file_name

if TYPE_CHECKING:
    from harness.run.uv import UvFetched


class HostFactsJSON(TypedDict):
    """``run.host`` (read back as model.results.HostFacts)."""

    hostname: str
    os: str | None
    kernel: str
    machine: str
    cpus: int | None
    memory_bytes: int
    python: str


def host_facts() -> HostFactsJSON:
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


class RunHeader(TypedDict, total=False):
    """The run record of prepare.json, as the pipeline builds it while the run goes (read
    back as model.results.RunInfo once the cells are merged)."""

    id: Required[str]
    started_at: Required[str]
    ended_at: str | None
    harness_version: str
    jobs: int
    repeat: int
    host: HostFactsJSON
    engine: Mapping[str, str | int | None]
    matrix: dict[str, str]  # path, sha256
    registry_reachable: bool | None
    warnings: list[str]
    cells_planned: int
    decision: dict[str, object]  # matrix.yaml's decision block (model.matrix), as JSON
    keyword: str | None
    history_dir: str
    warm: bool
    registry_mirror: str | None
    shard: dict[str, str | int]  # plan_id, index, count
    plan: PlanJSON  # model/plan.py's record
    resumed_at: str
    registries: dict[str, dict[str, object]]  # {host: {reachable, reason}}
    installers: dict[str, dict[str, UvFetched]]  # {"uv": {machine: facts or reason}}


def run_header(
    run_id: str,
    matrix: Matrix,
    jobs: int,
    engine: Mapping[str, str | int | None],
    started_at: str,
) -> RunHeader:
    """The run header prepare.json starts with (the pipeline adds to it as the run goes;
    read back as model.results.RunInfo)."""
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
        "decision": matrix.spec.decision.model_dump(mode="json"),
    }


def depset_records(matrix: Matrix) -> list[dict[str, object]]:
    """``depsets[]``: each depset as the matrix wrote it (read back as DepsetRecord)."""
    return [
        {"name": name, **spec.model_dump(mode="json")} for name, spec in matrix.spec.depsets.items()
    ]


def write_json(path: Path, data: Mapping[str, object]) -> None:
    rundir.write_json(path, data)


def read_cell_record(path: Path) -> CellRecord | None:
    """A finished cell's record, or None when the file is not one (cut short by a killed
    runner, hand-edited, the wrong shape): --resume runs that cell again. Validated by
    ``CellRecord`` (nested probe outputs included)."""
    try:
        return rundir.read_cell(path)
    except ResultsError:
        return None


def cell_file_problem(path: Path, record: CellRecord | None) -> str | None:
    """Why ``cells/<name>`` is not the record of the cell run its name gives, or None.

    A cell file is identified by its name and its content together: the name must be
    ``result_file_name(id, repeat)`` of the record it holds. A ``cp`` backup
    (``x.r0.json.bak``), a second download (``x.r0 (1).json``) or a file moved under
    another name is not another record of that cell."""
    if record is None:
        return "not a cell record (cut short, hand-edited or another file)"
    expected = result_file_name(record.id, record.repeat)
    if path.name != expected:
        return f"holds cell {record.id} repeat {record.repeat}, whose file is {expected}"
    return None


def iter_cell_files(
    out_dir: Path, warn: Callable[[str], None] | None = None
) -> Iterator[tuple[Path, CellRecord]]:
    """(path, record) of every cell file in cells/, one at a time, by name; every other
    file there is ignored, with a warning through ``warn`` (stderr when none is given;
    temp files of a write in progress, hidden, silently)."""
    folder = out_dir / CELLS_DIR
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        record = read_cell_record(path) if path.is_file() and path.suffix == ".json" else None
        problem = cell_file_problem(path, record)
        if problem is None and record is not None:
            yield path, record
        else:
            (warn or _warn)(f"{path}: ignored: {problem}")


def _warn(line: str) -> None:
    print(f"harness: warning: {line}", file=sys.stderr)


def read_cell_files(out_dir: Path, warn: Callable[[str], None] | None = None) -> list[CellRecord]:
    """Every finished cell's record."""
    return [record for _path, record in iter_cell_files(out_dir, warn)]


def count_cell_files(out_dir: Path, warn: Callable[[str], None] | None = None) -> int:
    """How many finished cell records cells/ holds (each read and checked, none kept)."""
    return sum(1 for _found in iter_cell_files(out_dir, warn))


class ResultsHeader(TypedDict):
    """results.json but its cells, as merge writes it from prepare.json."""

    schema_version: int
    run: dict[str, object]
    bases: list[object]
    depsets: list[object]


def merge(
    out_dir: Path,
    ended: bool = True,
    load: LoadSummary | None = None,
    redact: Callable[[Any], Any] | None = None,
) -> Results:
    """Combine prepare.json (run, bases, depsets) with every finished cell file into
    results.json; ``load`` is how busy the host and engine were while the cells ran
    (run/load.py); ``redact``: the run's redactor, applied to every part before it is
    written. Returns results.json as written (loaded back: the documents need it).

    Cells are read one at a time, twice (once for their order, once to write them), so
    a run of any size never holds more than one cell record; results.json is written to
    a temp file and renamed at the end, so an interrupted merge leaves the previous file
    (or none) and merging again completes it."""
    prepared = json.loads((out_dir / PREPARE_JSON).read_text(encoding="utf-8"))
    order = {name: i for i, name in enumerate(b["name"] for b in prepared["bases"])}
    depsets = {d["name"]: i for i, d in enumerate(prepared["depsets"])}
    warnings: list[str] = []
    keyed = [
        ((order.get(c.base, 99), depsets.get(c.depset, 99), c.repeat), path)
        for path, c in iter_cell_files(out_dir, warnings.append)
    ]
    keyed.sort(key=lambda kp: kp[0])
    forecasts = prepared.get("preflight") or {}
    run = dict(prepared["run"])
    if ended:
        run["ended_at"] = now_iso()
    if load is not None:
        run["load"] = load.to_dict()
        warnings += load_warnings(load)
    run["warnings"] = [*(run.get("warnings") or []), *warnings]
    header: ResultsHeader = {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "bases": prepared["bases"],
        "depsets": prepared["depsets"],
    }
    if redact is not None:
        header = redact(header)

    def cells() -> Iterator[Mapping[str, object]]:
        for _key, path in keyed:
            record = read_cell_record(path)
            if record is None:  # replaced since the first pass by a file that is not a record
                continue
            cell = record.to_dict()  # plain JSON, as results.json holds it
            attach_predictions([cell], forecasts)
            yield redact(cell) if redact is not None else cell

    resultsfile.write_results(out_dir / RESULTS_JSON, header, cells())
    return resultsfile.read_results_shared(out_dir / RESULTS_JSON)
