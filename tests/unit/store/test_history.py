"""The SQLite history: one entry per run, concurrent writers, and the parquet migration.

The parquet files in tests/fixtures/nightly/history-parquet/ are the first format's
entries of run_a.json and run_b.json, written by harness's parquet history (record_run)
before it moved to SQLite.
"""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

from harness.model.errors import ResultsError
from harness.model.results import Results
from harness.store import history
from harness.store.history import earlier_runs, load_history, record_run

NIGHTLY = Path(__file__).parents[2] / "fixtures" / "nightly"
PARQUET = NIGHTLY / "history-parquet"


def load(name: str) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((NIGHTLY / f"{name}.json").read_text(encoding="utf-8"))
    return results


def with_id(results: dict[str, Any], run_id: str) -> dict[str, Any]:
    out = copy.deepcopy(results)
    out["run"]["id"] = run_id
    return out


def first_format_history(tmp_path: Path) -> Path:
    folder = tmp_path / "history"
    shutil.copytree(PARQUET, folder)
    return folder


def test_parquet_entries_are_migrated_once_and_moved_aside(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    recorded = tmp_path / "recorded"
    for name in ("run_a", "run_b"):
        record_run(Results.from_dict(load(name)), recorded)
    folder = first_format_history(tmp_path)
    migrated = load_history(folder)
    # The same rows as recording the runs today: nothing lost in the migration.
    assert migrated == load_history(recorded) and len(migrated) > 300
    assert sorted(p.name for p in folder.iterdir()) == ["history.sqlite", "parquet-migrated"]
    assert sorted(p.name for p in (folder / "parquet-migrated").iterdir()) == sorted(
        p.name for p in PARQUET.iterdir()
    )
    later = with_id(load("run_b"), "20261128-021500-ffffff")
    assert [r.run_id for r in earlier_runs(folder, Results.from_dict(later))] == [
        "20261126-021500-a1b2c3",
        "20261127-021500-d4e5f6",
    ]


def test_a_run_already_in_the_database_keeps_its_entry(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    folder = tmp_path / "history"
    partial = load("run_a")
    partial["cells"] = partial["cells"][:1]
    # recorded after the parquet file was written: it wins
    record_run(Results.from_dict(partial), folder)
    for path in PARQUET.iterdir():
        shutil.copy(path, folder / path.name)
    rows = [r for r in load_history(folder) if r.row == "cell"]
    by_run = {run_id: sum(r.run_id == run_id for r in rows) for run_id in {r.run_id for r in rows}}
    assert by_run == {
        "20261126-021500-a1b2c3": 1,
        "20261127-021500-d4e5f6": len(load("run_b")["cells"]),
    }


def test_without_pyarrow_the_entries_stay_and_harness_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setattr(history, "_TOLD", set())
    folder = first_format_history(tmp_path)
    run_c = with_id(load("run_b"), "20261128-021500-ffffff")
    assert earlier_runs(folder, Results.from_dict(run_c)) == []
    record_run(Results.from_dict(run_c), folder)  # the run is still recorded
    assert load_history(folder) != []
    err = capsys.readouterr().err
    assert err.count("2 parquet history entries") == 1
    assert "were not migrated" in err and "pip install pyarrow" in err
    assert sorted(p.name for p in folder.glob("*.parquet")) == sorted(
        p.name for p in PARQUET.iterdir()
    )


def _record_twice(folder: str, run_id: str) -> None:
    run = with_id(load("run_a"), run_id)
    first_attempt = copy.deepcopy(run)
    first_attempt["cells"] = first_attempt["cells"][:2]
    record_run(Results.from_dict(first_attempt), Path(folder))
    record_run(Results.from_dict(run), Path(folder))


def test_runs_finishing_at_once_each_keep_their_entry(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    run_ids = [f"20261201-0000{n:02d}-abcdef" for n in range(6)]
    with ProcessPoolExecutor(max_workers=3, mp_context=get_context("fork")) as pool:
        for done in [pool.submit(_record_twice, str(folder), run_id) for run_id in run_ids]:
            done.result()
    cells = [r for r in load_history(folder) if r.row == "cell"]
    assert {run_id: sum(r.run_id == run_id for r in cells) for run_id in run_ids} == {
        run_id: len(load("run_a")["cells"]) for run_id in run_ids
    }


def test_a_writer_waits_for_another_writers_transaction(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    record_run(Results.from_dict(load("run_a")), folder)
    other = sqlite3.connect(folder / "history.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another run in the middle of recording itself
    writer = threading.Thread(target=record_run, args=(Results.from_dict(load("run_b")), folder))
    writer.start()
    time.sleep(0.3)
    assert writer.is_alive()  # waiting for the lock, not failing
    other.execute("COMMIT")
    other.close()
    writer.join(timeout=30)
    assert {r.run_id for r in load_history(folder)} == {
        "20261126-021500-a1b2c3",
        "20261127-021500-d4e5f6",
    }


def test_a_file_that_is_not_a_history_is_a_users_matter(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "history.sqlite").write_text("not a database, " * 100)
    with pytest.raises(ResultsError) as caught:
        record_run(Results.from_dict(load("run_a")), folder)
    assert "history.sqlite" in str(caught.value) and "fix: move" in str(caught.value)
    with pytest.raises(ResultsError):
        earlier_runs(folder, Results.from_dict(load("run_b")))


def test_a_newer_history_format_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    record_run(Results.from_dict(load("run_a")), folder)
    with sqlite3.connect(folder / "history.sqlite") as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(ResultsError, match="newer than this harness reads"):
        record_run(Results.from_dict(load("run_b")), folder)


def test_pandas_users_read_the_flat_view(tmp_path: Path) -> None:
    # What the README promises: the old one-row-per-cell-and-step shape, by plain SQL.
    folder = tmp_path / "history"
    record_run(Results.from_dict(load("run_a")), folder)
    with sqlite3.connect(folder / "history.sqlite") as connection:
        kinds = dict(connection.execute("SELECT row, count(*) FROM history_rows GROUP BY row"))
    run_a = load("run_a")
    assert kinds == {
        "cell": len(run_a["cells"]),
        "step": sum(len(c["steps"]) for c in run_a["cells"]),
    }


def test_the_typed_results_record_their_cells_sums(tmp_path: Path) -> None:
    from harness.model.results import RunInfo

    typed = Results.from_json_data(load("run_a"), "run_a.json")
    record_run(typed, tmp_path / "typed")
    rows = load_history(tmp_path / "typed")
    assert len(rows) > 100
    # install_seconds is the sum of the cell's install steps, sdists its non-wheels.
    cell = typed.cells[0]
    found = next(r for r in rows if r.row == "cell" and r.cell_id == cell.id)
    install = [s.seconds for s in cell.steps if s.kind == "install" and s.seconds is not None]
    assert found.install_seconds == pytest.approx(sum(install))
    assert found.sdists == sum(1 for d in cell.distributions if not d.wheel)
    # Only the run's identity is needed to find earlier runs (a run not yet written).
    later = typed.run.model_copy(update={"id": "99999999-999999-zzzzzz"})
    assert isinstance(later, RunInfo)
    assert [r.run_id for r in earlier_runs(tmp_path / "typed", later)] == [typed.run.id]
    assert earlier_runs(tmp_path / "typed", typed) == []
