"""The pipeline's steps without an engine: refused runs write nothing, an interrupted run
keeps its finished cells and exits 130, and prepare.json makes --resume possible."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.documents import publish
from harness.documents.publish import Published
from harness.engine import client as engine
from harness.model.errors import ConfigurationError, FatalError
from harness.model.results import CellRecord
from harness.pipeline import steps
from harness.pipeline.steps import RunOptions
from harness.run import schedule
from harness.run.cell import write_cell_result
from harness.store.files import result_file_name
from harness.store.rundir import RunLock

MATRIX = """
version: 1
bases:
  py311: {image: "python:3.11-slim"}
  other: {image: "python:3.13-slim"}
depsets:
  tiny: {pip: [six]}
  small: {pip: [six]}
"""


class FakeClient:
    class api:  # the docker SDK's attribute name
        @staticmethod
        def containers(**_kwargs: Any) -> list[Any]:
            raise ConnectionError("the engine did not answer")


class FakeResolver:
    registries_reachable = None

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def registry_record(self) -> dict[str, Any]:
        return {}

    def resolve(self, name: str) -> dict[str, Any]:
        return {"name": name, "status": "available", "image": f"{name}:x", "image_id": "sha256:1"}

    def interpreter_speed(self, _name: str) -> None:
        return None


@pytest.fixture
def matrix(tmp_path: Path) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(MATRIX)
    return path


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every engine call the pipeline makes, faked; returns the removals asked for."""
    removed: list[str] = []

    def remove(_client: Any, run_id: str) -> list[str]:
        removed.append(run_id)
        return []

    monkeypatch.setattr(engine, "connect", lambda *_a, **_k: FakeClient())
    monkeypatch.setattr(engine, "engine_facts", lambda _client: {})
    monkeypatch.setattr(engine, "sweep_dead_runs", lambda *_a, **_k: [])
    monkeypatch.setattr(engine, "remove_run_containers", remove)
    monkeypatch.setattr("harness.engine.bases.Resolver", FakeResolver)
    monkeypatch.setattr(publish, "write_outputs", lambda *_a: Published((), None))
    return removed


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def cell_record(cell_id: str, repeat: int = 0) -> dict[str, Any]:
    base, depset = cell_id.split("×")
    return {"id": cell_id, "base": base, "depset": depset, "repeat": repeat, "status": "passed"}


# -- refused runs change nothing on disk ------------------------------------------------


@pytest.mark.usefixtures("no_engine")
def test_a_refused_shard_run_into_a_folder_holding_a_run_writes_nothing(
    tmp_path: Path, matrix: Path
) -> None:
    out = tmp_path / "held"
    out.mkdir()
    (out / "prepare.json").write_text(json.dumps({"run": {"id": "earlier"}}))
    before = listing(out)
    options = RunOptions(matrix=str(matrix), out=str(out), shard="1/2")
    with pytest.raises(FatalError, match="already holds run earlier") as caught:
        steps.run(options)
    assert caught.value.exit_code == 2
    assert listing(out) == before  # no plan.json, no lock file


@pytest.mark.usefixtures("no_engine")
def test_a_refused_run_on_a_locked_folder_writes_nothing(tmp_path: Path, matrix: Path) -> None:
    out = tmp_path / "busy"
    with RunLock(out, "other-run"):
        before = listing(out)
        with pytest.raises(FatalError, match="in use by run other-run"):
            steps.run(RunOptions(matrix=str(matrix), out=str(out)))
        assert listing(out) == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"shard": "3/2"}, "shard"),
        ({"shard": "x"}, "shard"),
        ({"keyword": "tiny and ("}, "-k"),
        ({"plan": "plan.json"}, "--plan needs --shard"),
        ({"fail_on": "sloower"}, "sloower"),
        ({"jobs": -1}, "--jobs"),
        ({"extra_args": ("-x",)}, "pytest"),
    ],
)
@pytest.mark.usefixtures("no_engine")
def test_a_run_refused_for_its_options_creates_no_folder(
    tmp_path: Path, matrix: Path, changes: dict[str, Any], message: str
) -> None:
    out = tmp_path / "new"
    with pytest.raises(ConfigurationError, match=message):
        steps.run(RunOptions(matrix=str(matrix), out=str(out), **changes))
    assert not out.exists()
    assert listing(tmp_path) == ["m.yaml"]


# -- the steps, in order -----------------------------------------------------------------


def test_load_builds_the_context_once_longest_first(tmp_path: Path, matrix: Path) -> None:
    context = steps.load(RunOptions(matrix=str(matrix), out=str(tmp_path / "o"), jobs=3))
    assert context.jobs == 3
    # Each base's preflight is a task of its own, after its base, beside its cells.
    assert [(b.name, b.needs) for b in context.bases] == [
        ("py311", ()),
        ("other", ()),
        ("preflight:py311", ("py311",)),
        ("preflight:other", ("other",)),
    ]
    assert len(context.work) == 4
    expected = [t.expected_seconds for t in context.work]
    assert expected == sorted(expected, reverse=True)
    assert not (tmp_path / "o").exists()
    chosen = steps.load(RunOptions(matrix=str(matrix), out=str(tmp_path / "o"), keyword="other"))
    assert {t.cell.id for t in chosen.work} == {"other×tiny", "other×small"}
    assert [b.name for b in chosen.bases] == ["other", "preflight:other"]
    warm = steps.load(RunOptions(matrix=str(matrix), out=str(tmp_path / "o"), warm=True))
    assert [b.name for b in warm.bases] == ["py311", "other"]  # no preflight when warm


def test_a_run_goes_from_load_to_gate(
    tmp_path: Path, matrix: Path, monkeypatch: pytest.MonkeyPatch, no_engine: list[str]
) -> None:
    def execute_cell(context: Any, state: Any, cell: Any, repeat: int) -> CellRecord:
        assert cell.base in state.bases  # a cell starts only once its base is resolved
        record = CellRecord.from_dict(cell_record(cell.id, repeat))
        write_cell_result(context.out_dir, result_file_name(cell.id, repeat), record, "log")
        return record

    monkeypatch.setattr(steps, "execute_cell", execute_cell)
    out = tmp_path / "run"
    outcome = steps.run(RunOptions(matrix=str(matrix), out=str(out), jobs=2))
    assert outcome.exit_code == 0
    merged = json.loads((out / "results.json").read_text())
    assert len(merged["cells"]) == 4
    assert [b["name"] for b in merged["bases"]] == ["py311", "other"]
    # The engine's load query failed: unknown, not "0 other containers".
    assert merged["run"]["load"]["other_containers_max"] is None
    assert no_engine  # the run's containers are removed at the end


def test_sigterm_keeps_finished_cells_exits_130_and_says_how_to_resume(
    tmp_path: Path,
    matrix: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_engine: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    finished = threading.Event()

    def execute_cell(context: Any, state: Any, cell: Any, repeat: int) -> CellRecord:
        if not finished.is_set():
            finished.set()
            record = CellRecord.from_dict(cell_record(cell.id, repeat))
            write_cell_result(context.out_dir, result_file_name(cell.id, repeat), record, "log")
            return record
        os.kill(os.getpid(), signal.SIGTERM)  # the run is stopped during this cell
        deadline = time.monotonic() + 5
        while not state.executor.stopping and time.monotonic() < deadline:
            time.sleep(0.01)
        return CellRecord.from_dict({**cell_record(cell.id, repeat), "status": "interrupted"})

    monkeypatch.setattr(steps, "execute_cell", execute_cell)
    out = tmp_path / "run"
    outcome = steps.run(RunOptions(matrix=str(matrix), out=str(out), jobs=1))
    assert outcome.exit_code == 130
    assert len(list((out / "cells").glob("*.json"))) == 1
    assert no_engine  # containers removed
    text = capsys.readouterr()
    console = text.out + text.err
    assert "KeyboardInterrupt" not in console and "Traceback" not in console
    assert f"harness run --resume {out}" in console
    # The directory the message names is one --resume accepts.
    again = steps.load(RunOptions(matrix=str(matrix), resume=str(out)))
    assert again.out_dir == out.resolve()


def test_sigterm_while_bases_resolve_leaves_a_resumable_folder(
    tmp_path: Path, matrix: Path, monkeypatch: pytest.MonkeyPatch, no_engine: list[str]
) -> None:
    def prepare_base(_context: Any, _state: Any, _name: str) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)
        return {}

    monkeypatch.setattr(steps, "prepare_base", prepare_base)
    out = tmp_path / "run"
    outcome = steps.run(RunOptions(matrix=str(matrix), out=str(out), jobs=1))
    assert outcome.exit_code == 130
    assert not (out / "cells").exists()
    assert no_engine
    resumed = steps.load(RunOptions(matrix=str(matrix), resume=str(out)))
    assert resumed.run_id == json.loads((out / "prepare.json").read_text())["run"]["id"]


def test_lf_runs_only_what_failed_last_time(matrix: Path) -> None:
    from harness.model.matrix import load_matrix
    from harness.model.results import CellRecord, Results, RunInfo

    cells = load_matrix(matrix).cells
    runs = [(c, 0) for c in cells]
    failed = CellRecord(id=cells[1].id, base=cells[1].base, depset=cells[1].depset, status="failed")
    previous = Results(schema_version=1, run=RunInfo(), cells=[failed])
    assert steps._last_failed(runs, previous) == [(cells[1], 0)]
    assert steps._last_failed(runs, Results(schema_version=1, run=RunInfo())) == runs
    assert steps._last_failed(runs, None) == runs


def test_a_fatal_error_from_a_base_removes_the_containers_and_comes_up(
    tmp_path: Path, matrix: Path, monkeypatch: pytest.MonkeyPatch, no_engine: list[str]
) -> None:
    def prepare_base(_context: Any, _state: Any, name: str) -> dict[str, Any]:
        raise ConfigurationError(f"base {name}: no such Debian suite", "fix the suite")

    monkeypatch.setattr(steps, "prepare_base", prepare_base)
    out = tmp_path / "run"
    with pytest.raises(ConfigurationError, match="no such Debian suite"):
        steps.run(RunOptions(matrix=str(matrix), out=str(out), jobs=2))
    assert no_engine
    assert (out / "prepare.json").exists()  # --resume works once the matrix is fixed


@pytest.mark.usefixtures("no_engine")
def test_a_signal_while_loading_exits_130_without_a_traceback(
    tmp_path: Path, matrix: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_history(*_args: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)

    monkeypatch.setattr(schedule, "previous_results", slow_history)
    out = tmp_path / "run"
    outcome = steps.run(RunOptions(matrix=str(matrix), out=str(out)))
    assert outcome.exit_code == 130
    assert not out.exists()


def test_a_fault_in_harness_while_running_one_cell_is_that_cell_s_error_not_the_run_s(
    tmp_path: Path, matrix: Path, monkeypatch: pytest.MonkeyPatch, no_engine: list[str]
) -> None:
    class Broken:
        def __init__(self, *_args: Any, **_kwargs: Any) -> None:
            self.full_log: list[str] = []

        def run(self) -> Any:
            raise RuntimeError("a bug in the cell runner")

    monkeypatch.setattr(steps, "CellRun", Broken)
    out = tmp_path / "run"
    outcome = steps.run(RunOptions(matrix=str(matrix), out=str(out), jobs=2))
    assert outcome.exit_code == 1  # an error cell fails the gate; the run itself finished
    merged = json.loads((out / "results.json").read_text())
    assert len(merged["cells"]) == 4  # every cell was still tried
    assert {c["status"] for c in merged["cells"]} == {"error"}
    assert all("harness fault: RuntimeError: a bug" in c["reason"] for c in merged["cells"])
    assert no_engine
