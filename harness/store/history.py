"""The history of runs: one SQLite database, ``<history>/history.sqlite``.

Three tables, one row per run, per cell record and per step (the run's and the base's
identity are stored once, not on every row):

- ``runs``: run_id (primary key; ids sort by time), started_at (ISO 8601), matrix_sha256,
  matrix_path, harness_version, hostname, engine_version, jobs, warm (1: a ``--warm``
  run, for iteration, not a measurement), run_dir (where its results.json was written),
  recorded_at, source (``results`` or ``parquet``: migrated from a history file of the
  first format);
- ``cells``: run_id, position (the record's place in results.json), cell_id, base,
  depset, repeat, status, expected_failure (its reason, or null), seconds,
  install_seconds (the sum of the install steps), size_added_bytes, sdists, and the
  base's reference, image id, digest and standin (0/1);
- ``steps``: run_id, cell_position, position, step, kind, status, seconds, and for a
  probe step the probe's own probe_seconds;
- the view ``history_rows``: the flat shape of the first format (one ``"cell"`` row per
  cell, one ``"step"`` row per step, each with its run's columns), which ``load_history``
  reads and ``pandas.read_sql("SELECT * FROM history_rows", connection)`` turns into the
  DataFrame the parquet files gave.

Why one SQLite file: the standard library reads and writes it (no pandas or pyarrow to
install for a few thousand rows); a run's entry is replaced in one transaction, so a
resumed run's final state replaces its first attempt and a reader never sees half of
either; several runs or shards finishing at once queue on SQLite's lock (busy timeout),
each in its own transaction, and never touch another run's rows.

The first format was one parquet file per run (``<history>/<run-id>.parquet``). Opening a
history that still holds such files reads each once into the database and moves it to
``<history>/parquet-migrated/`` (kept, not deleted: remove the folder when satisfied).
Without pyarrow the files stay where they are and harness says once how to migrate them.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import statistics
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.model import status as statuses
from harness.model.errors import ResultsError
from harness.model.results import (
    CellRecord,
    MatrixIdentity,
    Results,
    RunInfo,
)
from harness.store.files import HISTORY_DIR, RESULTS_JSON
from harness.store.rundir import disk_full, make_dirs

DATABASE = "history.sqlite"
MIGRATED = "parquet-migrated"  # where migrated parquet entries are moved to
HISTORY_FORMAT = 2  # the database's PRAGMA user_version; 1 was one parquet file per run
BUSY_SECONDS = 120.0  # how long a writer waits for another run's transaction to end
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT,
    matrix_sha256 TEXT,
    matrix_path TEXT,
    harness_version TEXT,
    hostname TEXT,
    engine_version TEXT,
    jobs INTEGER,
    warm INTEGER NOT NULL DEFAULT 0,
    run_dir TEXT,
    recorded_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'results'
);
CREATE INDEX IF NOT EXISTS runs_by_matrix_sha256 ON runs (matrix_sha256);
CREATE INDEX IF NOT EXISTS runs_by_matrix_path ON runs (matrix_path);
CREATE TABLE IF NOT EXISTS cells (
    run_id TEXT NOT NULL REFERENCES runs (run_id),
    position INTEGER NOT NULL,
    cell_id TEXT,
    base TEXT,
    depset TEXT,
    repeat INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    expected_failure TEXT,
    seconds REAL,
    install_seconds REAL,
    size_added_bytes INTEGER,
    sdists INTEGER,
    base_reference TEXT,
    base_image_id TEXT,
    base_digest TEXT,
    base_standin INTEGER,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS cells_by_cell_id ON cells (cell_id);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL,
    cell_position INTEGER NOT NULL,
    position INTEGER NOT NULL,
    step TEXT,
    kind TEXT,
    status TEXT,
    seconds REAL,
    probe_seconds REAL,
    PRIMARY KEY (run_id, cell_position, position),
    FOREIGN KEY (run_id, cell_position) REFERENCES cells (run_id, position)
);
CREATE VIEW IF NOT EXISTS history_rows AS
    SELECT 'cell' AS row, r.run_id, r.started_at AS run_started_at, r.matrix_sha256,
           r.matrix_path, r.harness_version, r.hostname, r.engine_version, r.jobs, r.warm,
           r.run_dir, c.cell_id, c.base, c.depset, c.repeat, c.status AS cell_status,
           c.expected_failure, NULL AS step, NULL AS step_kind, c.status, c.seconds,
           NULL AS probe_seconds, c.size_added_bytes, c.sdists, c.install_seconds,
           c.base_reference, c.base_image_id, c.base_digest, c.base_standin,
           c.position AS cell_position, -1 AS step_position
    FROM runs r JOIN cells c USING (run_id)
    UNION ALL
    SELECT 'step', r.run_id, r.started_at, r.matrix_sha256, r.matrix_path,
           r.harness_version, r.hostname, r.engine_version, r.jobs, r.warm, r.run_dir,
           c.cell_id, c.base, c.depset, c.repeat, c.status, c.expected_failure, s.step,
           s.kind, s.status, s.seconds, s.probe_seconds, NULL, NULL, NULL,
           c.base_reference, c.base_image_id, c.base_digest, c.base_standin,
           c.position, s.position
    FROM runs r JOIN cells c USING (run_id)
         JOIN steps s ON s.run_id = c.run_id AND s.cell_position = c.position;
"""


# -- what a run's entry holds ----------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One run's rows for the three tables, in column order."""

    run: tuple[Any, ...]
    cells: list[tuple[Any, ...]]
    steps: list[tuple[Any, ...]]


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _integer(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _flag(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _timestamp(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    try:
        return datetime.fromisoformat(str(value)).isoformat() if value else None
    except ValueError:
        return None


def _install_seconds(cell: CellRecord) -> float | None:
    values = [s.seconds for s in cell.steps if s.kind == "install" and s.seconds is not None]
    return float(sum(values)) if values else None


def _entry(results: Results, run_dir: Path | None, recorded_at: str) -> _Entry:
    run = results.run
    run_id = str(run.id)
    matrix = run.matrix or MatrixIdentity()
    run_row = (
        run_id,
        _timestamp(run.started_at),
        _text(matrix.sha256),
        _text(matrix.path),
        _text(run.harness_version),
        _text(run.host.hostname if run.host else None),
        _text(run.engine.version if run.engine else None),
        _integer(run.jobs),
        int(bool(run.warm)),
        str(run_dir) if run_dir else None,
        recorded_at,
        "results",
    )
    bases = {b.name: b for b in results.bases}
    cells, steps = [], []
    for position, cell in enumerate(results.cells):
        base = bases.get(cell.base)
        cells.append(
            (
                run_id,
                position,
                _text(cell.id),
                _text(cell.base),
                _text(cell.depset),
                cell.repeat,
                _text(cell.status),
                _text(cell.expected_failure.reason if cell.expected_failure else None),
                _number(cell.seconds),
                _install_seconds(cell),
                _integer(cell.size_added_bytes),
                sum(1 for d in cell.distributions if not d.wheel),
                _text(base.reference) if base else None,
                _text(base.image_id) if base else None,
                _text(base.digest) if base else None,
                int(bool(base.standin)) if base else None,
            )
        )
        for number, step in enumerate(cell.steps):
            probe = (
                cell.probes.get(step.name.removeprefix("probe:"))
                if step.name.startswith("probe:")
                else None
            )
            steps.append(
                (
                    run_id,
                    position,
                    number,
                    step.name,
                    _text(step.kind),
                    _text(step.status),
                    _number(step.seconds),
                    _number(probe.seconds if probe else None),
                )
            )
    return _Entry(run_row, cells, steps)


# -- the database ------------------------------------------------------------------------------


def database_path(history_dir: Path) -> Path:
    return history_dir / DATABASE


@contextlib.contextmanager
def _database(history_dir: Path, create: bool) -> Iterator[sqlite3.Connection | None]:
    """The history's database, its schema in place and any parquet entries migrated;
    ``None`` when it does not exist and ``create`` is false (a reader creates nothing)."""
    path = database_path(history_dir)
    if not create and not path.exists():
        if not _parquet_entries(history_dir):
            yield None
            return
        create = True  # a first-format history: migrate it now
    if create:
        make_dirs(history_dir)
    try:
        # Autocommit mode: every write below is in an explicit BEGIN IMMEDIATE transaction.
        connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error as err:
        raise _error(path, err) from None
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        _create_schema(connection)
        _migrate_parquet(connection, history_dir)
        yield connection
    except sqlite3.Error as err:
        raise _error(path, err) from None
    finally:
        connection.close()


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction; the lock is taken at BEGIN (waiting for other writers up to
    the busy timeout), so two runs recording at once never interleave."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        if connection.in_transaction:  # SQLite may have rolled back already (a full disk)
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _create_schema(connection: sqlite3.Connection) -> None:
    if connection.execute("PRAGMA user_version").fetchone()[0] == HISTORY_FORMAT:
        return
    with _transaction(connection):
        found = connection.execute("PRAGMA user_version").fetchone()[0]
        if found > HISTORY_FORMAT:
            raise ResultsError(
                f"history database format {found} is newer than this harness reads "
                f"({HISTORY_FORMAT})",
                "upgrade harness, or set history_dir to another folder",
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {HISTORY_FORMAT}")


def _error(path: Path, err: sqlite3.Error) -> Exception:
    """SQLite's errors at the boundary: a full disk is DiskFullError like any other write;
    a file that is not a history database is a user's matter, with the fix."""
    if getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return disk_full(path.parent, 64 * 1024)
    return ResultsError(
        f"{path}: cannot use the history database ({err})",
        f"move {path} aside (harness starts a new history), or set history_dir elsewhere",
    )


def _replace_entry(connection: sqlite3.Connection, entry: _Entry) -> None:
    run_id = entry.run[0]
    connection.execute("DELETE FROM steps WHERE run_id = ?", (run_id,))
    connection.execute("DELETE FROM cells WHERE run_id = ?", (run_id,))
    connection.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
    connection.execute(f"INSERT INTO runs VALUES ({_marks(12)})", entry.run)
    connection.executemany(f"INSERT INTO cells VALUES ({_marks(16)})", entry.cells)
    connection.executemany(f"INSERT INTO steps VALUES ({_marks(8)})", entry.steps)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


# -- migrating the first format (one parquet file per run) --------------------------------------

_TOLD: set[Path] = set()  # histories whose unmigrated files were mentioned in this process


def _parquet_entries(history_dir: Path) -> list[Path]:
    if not history_dir.is_dir():
        return []
    return sorted(p for p in history_dir.glob("*.parquet") if not p.name.startswith("."))


def _migrate_parquet(connection: sqlite3.Connection, history_dir: Path) -> None:
    """Read each first-format file once into the database (a run already there keeps its
    entry: it was recorded later), then move the file to ``parquet-migrated/``."""
    files = _parquet_entries(history_dir)
    if not files:
        return
    try:
        import pyarrow.parquet as pq
    except ImportError:
        _tell_once(
            history_dir,
            f"harness: note: {len(files)} parquet history entries in {history_dir} were not "
            f"migrated to {DATABASE} (pyarrow is not installed), so trends and diffs do not "
            "see those runs\n  fix: `pip install pyarrow`, then run harness again (e.g. "
            "`harness report <run dir>`): they are read once and moved to "
            f"{history_dir / MIGRATED}",
        )
        return
    for path in files:
        try:
            rows = pq.read_table(path).to_pylist()
        except (OSError, ValueError) as err:  # pyarrow's ArrowIOError / ArrowInvalid
            _tell_once(path, f"harness: note: {path} was not migrated: {err}")
            continue
        entry = _entry_from_parquet(rows)
        if entry is not None:
            with _transaction(connection):
                known = "SELECT 1 FROM runs WHERE run_id = ?"
                if connection.execute(known, (entry.run[0],)).fetchone() is None:
                    _replace_entry(connection, entry)
        make_dirs(history_dir / MIGRATED)
        with contextlib.suppress(FileNotFoundError):  # another process moved it first
            path.replace(history_dir / MIGRATED / path.name)


@dataclass(frozen=True)
class _ParquetRow:
    """One row of a first-format file, read once: the columns of ``HistoryRow`` (the
    view keeps the first format's shape), any type the writer gave them; a column an
    older file lacks is None."""

    row: Any = None
    run_id: Any = None
    run_started_at: Any = None
    matrix_sha256: Any = None
    matrix_path: Any = None
    harness_version: Any = None
    hostname: Any = None
    engine_version: Any = None
    jobs: Any = None
    warm: Any = None
    run_dir: Any = None
    cell_id: Any = None
    base: Any = None
    depset: Any = None
    repeat: Any = None
    cell_status: Any = None
    expected_failure: Any = None
    step: Any = None
    step_kind: Any = None
    status: Any = None
    seconds: Any = None
    probe_seconds: Any = None
    size_added_bytes: Any = None
    sdists: Any = None
    install_seconds: Any = None
    base_reference: Any = None
    base_image_id: Any = None
    base_digest: Any = None
    base_standin: Any = None

    @classmethod
    def read(cls, raw: Mapping[str, object]) -> _ParquetRow:
        return cls(**{f.name: raw[f.name] for f in fields(cls) if f.name in raw})


def _entry_from_parquet(raw_rows: Sequence[Mapping[str, object]]) -> _Entry | None:
    """A first-format file's rows (a "cell" row followed by its "step" rows) as an entry;
    columns an older file lacks are null."""
    if not raw_rows:
        return None
    rows = [_ParquetRow.read(raw) for raw in raw_rows]
    first = rows[0]
    run_id = str(first.run_id)
    run = (
        run_id,
        _timestamp(first.run_started_at),
        _text(first.matrix_sha256),
        _text(first.matrix_path),
        _text(first.harness_version),
        _text(first.hostname),
        _text(first.engine_version),
        _integer(first.jobs),
        int(bool(first.warm)),
        next((str(r.run_dir) for r in rows if r.run_dir), None),
        datetime.now(UTC).isoformat(),
        "parquet",
    )
    cells: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    for row in rows:
        if row.row == "cell":
            cells.append(
                (
                    run_id,
                    len(cells),
                    _text(row.cell_id),
                    _text(row.base),
                    _text(row.depset),
                    _integer(row.repeat) or 0,
                    _text(row.cell_status or row.status),
                    _text(row.expected_failure),
                    _number(row.seconds),
                    _number(row.install_seconds),
                    _integer(row.size_added_bytes),
                    _integer(row.sdists),
                    _text(row.base_reference),
                    _text(row.base_image_id),
                    _text(row.base_digest),
                    _flag(row.base_standin),
                )
            )
        elif row.row == "step" and cells:  # a step belongs to the cell row before it
            cell_position = len(cells) - 1
            number = sum(1 for s in steps if s[1] == cell_position)
            steps.append(
                (
                    run_id,
                    cell_position,
                    number,
                    _text(row.step),
                    _text(row.step_kind),
                    _text(row.status),
                    _number(row.seconds),
                    _number(row.probe_seconds),
                )
            )
    return _Entry(run, cells, steps)


def _tell_once(key: Path, message: str) -> None:
    if key not in _TOLD:
        _TOLD.add(key)
        print(message, file=sys.stderr)


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


def recorded_history_dir(results: Results, run_dir: Path) -> Path:
    """The history a run was recorded in (results.json says), for re-rendering it."""
    recorded = results.run.history_dir
    if recorded:
        return Path(recorded)
    return run_dir.resolve().parent / HISTORY_DIR  # files written before history_dir existed


# -- writing and reading ---------------------------------------------------------------------


def record_run(results: Results, history_dir: Path, run_dir: Path | None = None) -> Path:
    """Record one run's final state in the history and return the database's path.

    A run has one entry: recording it again (a resumed run, a re-published one) replaces
    the entry in one transaction, so the history always holds the run as its results.json
    does, and runs recording at the same time wait for each other's transaction.
    """
    run_id = str(results.run.id)
    if not _RUN_ID.match(run_id):
        raise ResultsError(f"run id {run_id!r} cannot be recorded in the history")
    entry = _entry(results, run_dir, datetime.now(UTC).isoformat())
    with _database(history_dir, create=True) as connection:
        assert connection is not None  # created above
        with _transaction(connection):
            _replace_entry(connection, entry)
    return database_path(history_dir)


@dataclass(frozen=True)
class HistoryRow:
    """One row of the ``history_rows`` view: a cell record (``row == "cell"``) or one of
    its steps (``row == "step"``, with the cell's columns too)."""

    row: str
    run_id: str
    run_started_at: str | None
    matrix_sha256: str | None
    matrix_path: str | None
    harness_version: str | None
    hostname: str | None
    engine_version: str | None
    jobs: int | None
    warm: bool
    run_dir: str | None
    cell_id: str | None
    base: str | None
    depset: str | None
    repeat: int
    cell_status: str | None
    expected_failure: str | None
    step: str | None
    step_kind: str | None
    status: str | None  # the cell's status on cell rows, the step's on step rows
    seconds: float | None
    probe_seconds: float | None
    size_added_bytes: int | None
    sdists: int | None
    install_seconds: float | None
    base_reference: str | None
    base_image_id: str | None
    base_digest: str | None
    base_standin: bool | None


_ROW_NAMES = tuple(f.name for f in fields(HistoryRow))


def load_history(history_dir: Path, matrix_sha256: str | None = None) -> list[HistoryRow]:
    """Every recorded row, oldest run first (run ids sort by time), each cell followed by
    its steps; optionally one matrix's."""
    where, arguments = ("WHERE matrix_sha256 = ?", (matrix_sha256,)) if matrix_sha256 else ("", ())
    query = (
        f"SELECT {', '.join(_ROW_NAMES)} FROM history_rows {where} "
        "ORDER BY run_id, cell_position, step_position"
    )
    with _database(history_dir, create=False) as connection:
        if connection is None:
            return []
        found = connection.execute(query, arguments).fetchall()
    rows = []
    for row in found:
        values = dict(zip(_ROW_NAMES, row, strict=True))
        # SQLite has no booleans: 0/1 back to False/True (a null standin stays unknown).
        values.update(warm=bool(values["warm"]), repeat=values["repeat"] or 0)
        if values["base_standin"] is not None:
            values["base_standin"] = bool(values["base_standin"])
        rows.append(HistoryRow(**values))
    return rows


def cell_trend(
    history: Iterable[HistoryRow], cell_id: str, step: str = "pip-install", last: int = 10
) -> list[tuple[str, float]]:
    """(run id, median seconds over repeats) of one passed step of one cell, for the
    report's small trend; runs where the step did not pass are left out."""
    by_run: dict[str, list[float]] = {}
    for row in history:
        chosen = row.row == "step" and row.cell_id == cell_id and row.step == step
        if chosen and row.status == "passed" and row.seconds is not None:
            by_run.setdefault(row.run_id, []).append(row.seconds)
    medians = [(run_id, float(statistics.median(by_run[run_id]))) for run_id in sorted(by_run)]
    return medians[-last:]


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


def earlier_runs(history_dir: Path, results: Results | RunInfo, limit: int = 8) -> list[PastRun]:
    """Up to ``limit`` earlier runs of the same matrix (the same file, so last night's run
    is found after a pin was bumped, or the same content), oldest first. Earlier means a
    smaller run id (ids sort by time); warm runs are compared only with warm runs.
    ``results`` is the run's results, or only its identity (a run not yet written)."""
    run = results if isinstance(results, RunInfo) else results.run
    matrix = run.matrix or MatrixIdentity()
    path, sha = _text(matrix.path), _text(matrix.sha256)
    if path is None and sha is None:
        return []
    runs_query = """
        SELECT run_id, run_dir FROM runs
        WHERE ((? IS NOT NULL AND matrix_path = ?) OR (? IS NOT NULL AND matrix_sha256 = ?))
          AND run_id < ? AND warm = ?
          AND EXISTS (SELECT 1 FROM cells c WHERE c.run_id = runs.run_id)
        ORDER BY run_id DESC LIMIT ?
    """
    cells_query = """
        SELECT cell_id, status, install_seconds FROM cells
        WHERE run_id = ? AND cell_id IS NOT NULL ORDER BY cell_id, position
    """
    arguments = (path, path, sha, sha, str(run.id), int(bool(run.warm)), limit)
    past = []
    with _database(history_dir, create=False) as connection:
        if connection is None:
            return []
        for run_id, run_dir in reversed(connection.execute(runs_query, arguments).fetchall()):
            by_cell: dict[str, list[tuple[str | None, float | None]]] = {}
            for cell_id, status, install in connection.execute(cells_query, (run_id,)):
                by_cell.setdefault(str(cell_id), []).append((status, install))
            cells = {
                cell_id: PastCell(
                    status=statuses.worst(s for s, _ in records if s is not None),
                    install_median=_median([i for _, i in records if i is not None]),
                )
                for cell_id, records in by_cell.items()
            }
            past.append(PastRun(str(run_id), Path(run_dir) if run_dir else None, cells))
    return past


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def previous_run_dir(history_dir: Path, results: Results | RunInfo) -> Path | None:
    """The directory of the most recent earlier run of the same matrix, as the history
    knows it, when its results.json is still there (the diff needs the whole record)."""
    runs = earlier_runs(history_dir, results, limit=1)
    if not runs or runs[-1].run_dir is None:
        return None
    found = runs[-1].run_dir
    return found if (found / RESULTS_JSON).is_file() else None
