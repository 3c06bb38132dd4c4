"""Merging shard runs: one run of schema_version 1 with each cell's host, every refusal
with exit 2 and its reason, and planned cells that no shard reported kept as errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.model.errors import ConfigurationError
from harness.model.records import validate_shape
from harness.model.results import Results
from harness.store.shards import ShardRun, merge_shards, read_shard
from harness.testing.synthetic import synthetic_plan, synthetic_shard

PLAN = synthetic_plan(bases=3, depsets=4, repeat=2, shards=3)


def _shards(**per_shard: Any) -> list[ShardRun]:
    return [
        ShardRun(
            Path(f"/runs/shard-{k}"),
            Results.from_dict(synthetic_shard(PLAN, k, host=f"runner-{k}", **per_shard)),
        )
        for k in (1, 2, 3)
    ]


def _merge(shards: list[ShardRun]) -> dict[str, Any]:
    return merge_shards(shards, "20270102-000000-abcdef", "2027-01-02T00:00:00+00:00")


def test_the_merged_run_has_every_planned_cell_run_with_its_host() -> None:
    merged = _merge(_shards())
    validate_shape(merged, "merged")
    assert merged["schema_version"] == 1
    assert [(c["id"], c["repeat"]) for c in merged["cells"]] == [r.key for r in PLAN.runs]
    owner = PLAN.owner()
    for cell in merged["cells"]:
        assert cell["host"] == f"runner-{owner[(cell['id'], cell['repeat'])]}"
    run = merged["run"]
    assert [(s["index"], s["host"]["hostname"]) for s in run["shards"]] == [
        (1, "runner-1"),
        (2, "runner-2"),
        (3, "runner-3"),
    ]
    assert run["host"]["hostname"] == "runner-1, runner-2, runner-3"
    assert run["host"]["os"] == "Debian GNU/Linux 12"  # shared facts stay
    assert "shard" not in run  # the merged run is not a shard: it gets the history entry
    assert run["plan"]["id"] == PLAN.id and run["cells_planned"] == len(PLAN.runs)
    assert [b["name"] for b in merged["bases"]] == ["base0", "base1", "base2"]


def test_shards_on_one_host_keep_that_host() -> None:
    shards = [
        ShardRun(Path(f"/s{k}"), Results.from_dict(synthetic_shard(PLAN, k, host="one")))
        for k in (1, 2, 3)
    ]
    assert _merge(shards)["run"]["host"]["hostname"] == "one"


def test_a_shard_that_did_not_report_leaves_errors_not_gaps() -> None:
    merged = _merge(_shards()[:2])
    missing = [c for c in merged["cells"] if c["shard"] == 3]
    assert len(missing) == len(PLAN.shard(3)) > 0
    assert {c["status"] for c in missing} == {"error"}
    assert {c["reason"] for c in missing} == {"shard 3 did not report"}
    assert any("shard 3 did not report" in w for w in merged["run"]["warnings"])
    assert merged["run"]["shards"][-1] == {"index": 3, "reported": False, "cell_runs": 0}


def test_a_shard_cut_short_reports_its_missing_cells_as_errors() -> None:
    shards = _shards()
    shards[1] = ShardRun(
        shards[1].path, Results.from_dict(synthetic_shard(PLAN, 2, host="runner-2", skip=1))
    )
    merged = _merge(shards)
    errors = [c for c in merged["cells"] if c["status"] == "error"]
    assert [(c["id"], c["repeat"]) for c in errors] == [PLAN.shard(2)[-1].key]
    assert errors[0]["reason"] == "shard 2 did not report"


def _changed(index: int, change: Callable[[dict[str, Any]], None]) -> list[ShardRun]:
    shards = _shards()
    results = shards[index].results.to_dict()
    change(results)
    shards[index] = ShardRun(shards[index].path, Results.from_dict(results))
    return shards


def _set_run(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda results: results["run"].__setitem__(key, value)


def _moved_cell() -> list[ShardRun]:
    """Shard 1's first cell run reported by shard 2 instead."""
    shards = _shards()
    first, second = shards[0].results, shards[1].results
    return [
        ShardRun(shards[0].path, first.model_copy(update={"cells": first.cells[1:]})),
        ShardRun(
            shards[1].path, second.model_copy(update={"cells": [*second.cells, first.cells[0]]})
        ),
        shards[2],
    ]


REFUSALS: dict[str, tuple[Callable[[], list[ShardRun]], str]] = {
    "matrix": (
        lambda: _changed(1, _set_run("matrix", {"path": "m.yaml", "sha256": "f" * 64})),
        "different matrices (sha256)",
    ),
    "harness version": (
        lambda: _changed(2, _set_run("harness_version", "0.0.9")),
        "different harness versions",
    ),
    "plan": (
        lambda: _changed(1, lambda r: r["run"]["shard"].__setitem__("plan_id", "0" * 16)),
        "different plans",
    ),
    "warm and cold": (lambda: _changed(0, _set_run("warm", True)), "warm and cold"),
    "shard twice": (lambda: [*_shards(), _shards()[0]], "shard 1/3 given twice"),
    "cell twice": (
        lambda: _changed(1, lambda r: r["cells"].append(_shards()[0].results.cells[0].to_dict())),
        "present twice",
    ),
    "cell of another shard": (lambda: _moved_cell(), "which plan"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_is_exit_2_with_its_reason(case: str) -> None:
    make, reason = REFUSALS[case]
    with pytest.raises(ConfigurationError) as caught:
        _merge(make())
    assert caught.value.exit_code == 2
    assert reason in str(caught.value)
    assert caught.value.fix


def test_a_run_that_is_not_a_shard_is_refused_on_read(tmp_path: Path) -> None:
    results = synthetic_shard(PLAN, 1)
    del results["run"]["shard"]
    (tmp_path / "results.json").write_text(json.dumps(results))
    with pytest.raises(ConfigurationError, match="not a shard run") as caught:
        read_shard(tmp_path)
    assert caught.value.exit_code == 2


def test_a_directory_without_results_is_refused_on_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="results file not found"):
        read_shard(tmp_path)


def test_nothing_to_merge_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no shard directory"):
        _merge([])


# -- a merge that streams, completes and writes where it is told ---------------------------


def _shard_dirs(tmp_path: Path, plan: Any = PLAN) -> list[Path]:
    """Shard directories as `harness run --shard` leaves them (results.json streamed)."""
    from harness.store.resultsfile import write_results

    dirs = []
    for k in range(1, plan.count + 1):
        results = synthetic_shard(plan, k, host=f"runner-{k}")
        results["run"]["matrix"] = {"path": str(tmp_path / "gone.yaml"), "sha256": "0" * 64}
        results["run"]["plan"]["matrix"] = results["run"]["matrix"]
        shard_dir = tmp_path / "artifacts" / f"shard-{k}"
        write_results(shard_dir / "results.json", results, results["cells"])
        dirs.append(shard_dir)
    return dirs


def test_a_streamed_merge_equals_the_merge_in_memory(tmp_path: Path) -> None:
    from harness.store.shards import write_merged

    dirs = _shard_dirs(tmp_path)
    out = tmp_path / "merged"
    header = write_merged([read_shard(d) for d in dirs], out, "20270102-000000-abcdef", "t")
    written = json.loads((out / "results.json").read_text())
    in_memory = _merge(_shards())
    assert [s.to_dict() for s in header.run.shards or []] == written["run"]["shards"]
    assert [(c["id"], c["repeat"], c["host"]) for c in written["cells"]] == [
        (c["id"], c["repeat"], c["host"]) for c in in_memory["cells"]
    ]
    assert [s["cell_runs"] for s in written["run"]["shards"]] == [
        len(PLAN.shard(k)) for k in (1, 2, 3)
    ]


def test_an_interrupted_merge_leaves_no_results_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.store import shards as shards_module

    dirs = _shard_dirs(tmp_path)
    calls = []

    def dies(path: Path, offset: int) -> str:
        calls.append(offset)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return read_line_at(path, offset)

    from harness.store.resultsfile import read_line_at

    monkeypatch.setattr(shards_module, "read_line_at", dies)
    out = tmp_path / "merged"
    with pytest.raises(KeyboardInterrupt):
        shards_module.write_merged([read_shard(d) for d in dirs], out, "r", "t")
    assert not (out / "results.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".results.json")]


def test_a_truncated_shard_says_resume_rebuilds_it(tmp_path: Path) -> None:
    dirs = _shard_dirs(tmp_path)
    results = dirs[1] / "results.json"
    (dirs[1] / "prepare.json").write_text(
        json.dumps({"run": {"shard": {"index": 2, "count": 3}, "matrix": {"path": "m.yaml"}}})
    )
    text = results.read_text()
    results.write_text(text[: len(text) * 2 // 3])  # a killed job: cut inside the cells
    with pytest.raises(ConfigurationError) as raised:
        merge_shards([read_shard(d) for d in dirs], "r", "t")
    assert raised.value.exit_code == 2
    assert "run the matrix again" not in str(raised.value)
    assert f"harness run m.yaml --shard 2/3 --resume {dirs[1]}" in str(raised.value)
    results.write_text(text[:200])  # cut inside the header: refused on read, same fix
    with pytest.raises(ConfigurationError, match="--shard 2/3 --resume"):
        read_shard(dirs[1])


def _cli_merge(dirs: list[Path], out: Path) -> int:
    from harness.cli.entry import main

    return main(["merge", *map(str, dirs), "--out", str(out)])


def test_merge_writes_its_history_inside_out_never_beside_it(tmp_path: Path) -> None:
    dirs = _shard_dirs(tmp_path)
    out = tmp_path / "ci" / "merged"
    assert _cli_merge(dirs, out) in (0, 1)
    assert not (tmp_path / "ci" / "history").exists()
    assert list((out / "history").iterdir())
    run = json.loads((out / "results.json").read_text())["run"]
    assert run["history_dir"] == str(out / "history")


def test_merge_follows_the_matrix_history_dir(tmp_path: Path) -> None:
    from harness.cli.sharding import _matrix_history_dir
    from harness.model.matrix import load_matrix
    from harness.model.results import RunInfo

    matrix = tmp_path / "m.yaml"
    matrix.write_text(
        "version: 1\nsettings: {history_dir: hist}\nbases: {b: {image: 'python:3.11-slim'}}\n"
        "depsets: {d: {pip: [six]}}\n"
    )
    sha = load_matrix(str(matrix)).sha256
    assert _matrix_history_dir(
        RunInfo.from_dict({"matrix": {"path": str(matrix), "sha256": sha}})
    ) == (tmp_path / "hist")
    other = RunInfo.from_dict({"matrix": {"path": str(matrix), "sha256": "other"}})
    assert _matrix_history_dir(other) is None


def test_a_second_merge_completes_an_interrupted_one(tmp_path: Path) -> None:
    dirs = _shard_dirs(tmp_path)
    out = tmp_path / "merged"
    assert _cli_merge(dirs, out) in (0, 1)
    first = json.loads((out / "results.json").read_text())["run"]["id"]
    (out / "report.html").unlink()  # publishing was cut short
    assert _cli_merge(dirs, out) in (0, 1)
    assert json.loads((out / "results.json").read_text())["run"]["id"] == first
    assert (out / "report.html").is_file()


def test_a_merge_into_a_folder_holding_another_run_is_refused(tmp_path: Path) -> None:
    dirs = _shard_dirs(tmp_path)
    out = tmp_path / "merged"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(synthetic_shard(PLAN, 1)))
    assert _cli_merge(dirs, out) == 2


def _equal_rows_file(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A results file whose two cells list an equal OS package (and one that only looks
    equal: 1 and True), as write_results streams it; and the cells written."""
    from harness.store.resultsfile import write_results

    package = {"name": "libc6", "version": "2.36", "installed_size_bytes": 1}
    cells = [
        {"id": f"a×{d}", "base": "a", "depset": d, "status": "passed",
         "probes": {"contents": {"os_packages": [dict(package), {**package, "x": flag}]}}}
        for d, flag in (("b", 1), ("c", True))
    ]  # fmt: skip
    path = tmp_path / "results.json"
    write_results(path, {"schema_version": 1, "run": {"id": "r"}}, cells)
    return path, cells


def test_a_results_file_of_an_older_harness_still_reads_and_merges(tmp_path: Path) -> None:
    from harness.store.resultsfile import iter_cells, read_header, read_results_shared

    results = synthetic_shard(PLAN, 1)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results, indent=1))  # not streamed: parsed whole
    assert read_results_shared(path).to_dict() == results
    assert [c.to_dict() for c in iter_cells(path)] == results["cells"]
    assert read_header(path).run.to_dict() == results["run"]
    merged = _merge([read_shard(path), *_shards()[1:]])
    assert len(merged["cells"]) == len(PLAN.runs)


def test_the_typed_shared_read_equals_the_file_and_stores_equal_rows_once(
    tmp_path: Path,
) -> None:
    from harness.store.resultsfile import read_results_shared
    from harness.store.rundir import read_results
    from harness.store.shards import write_merged

    out = tmp_path / "merged"
    write_merged([read_shard(d) for d in _shard_dirs(tmp_path)], out, "r-1", "t")
    assert read_results_shared(out / "results.json") == read_results(out / "results.json")
    path, cells = _equal_rows_file(tmp_path)
    typed = read_results_shared(path)
    assert typed.to_dict()["cells"] == cells
    first, second = (c.probes.contents.os_packages for c in typed.cells)  # type: ignore[union-attr]
    assert first is not None and second is not None
    assert first[0] is second[0]  # equal rows are stored once
    assert first[1]["x"] is not True and second[1]["x"] is True  # type: ignore[typeddict-item]


def test_one_writer_writes_typed_results_and_dicts_alike(tmp_path: Path) -> None:
    from harness.store.resultsfile import is_streamed, write_results
    from harness.store.rundir import read_results

    results = synthetic_shard(PLAN, 1)
    from_dicts, from_types = tmp_path / "a.json", tmp_path / "b.json"
    write_results(from_dicts, results, results["cells"])
    write_results(from_types, read_results(from_dicts))  # a typed Results, its own cells
    assert is_streamed(from_types)
    assert json.loads(from_types.read_text()) == json.loads(from_dicts.read_text())


def test_a_merge_carries_each_cells_own_file_and_stamps_host_and_shard(tmp_path: Path) -> None:
    from harness.store.files import result_file_name
    from harness.store.shards import write_merged

    dirs = _shard_dirs(tmp_path)
    cell_file = dirs[0] / "cells" / result_file_name(PLAN.shard(1)[0].cell_id, 0)
    cell_file.parent.mkdir()
    cell_file.write_text('{"kept": "as the cell wrote it"}')
    out = tmp_path / "merged"
    write_merged([read_shard(d) for d in dirs], out, "r-1", "t")
    merged = json.loads((out / "results.json").read_text())
    for cell in merged["cells"]:
        own = out / "cells" / result_file_name(cell["id"], cell["repeat"])
        assert own.is_file()
        assert cell["host"] == f"runner-{cell['shard']}"
        if own.samefile(cell_file):  # the shard's own file, linked, not rewritten
            continue
        assert json.loads(own.read_text()) == cell  # written from the merged line
    assert (out / "cells" / cell_file.name).samefile(cell_file)


def test_the_merged_run_is_returned_typed_equal_to_its_file(tmp_path: Path) -> None:
    from harness.store.rundir import read_results
    from harness.store.shards import merge_run

    out = tmp_path / "merged"
    dirs = _shard_dirs(tmp_path)[:2]  # shard 3 did not report: its cells are errors
    merged = merge_run([read_shard(d) for d in dirs], out, "r-1", "t", {"history_dir": "h"})
    assert merged == read_results(out / "results.json")
    assert any(c.reason == "shard 3 did not report" for c in merged.cells)


def test_bulk_records_raises_the_gc_threshold_inside_and_restores_it_after_an_error() -> None:
    import gc

    from harness.store.shards import BULK_GC_THRESHOLD, bulk_records

    before = gc.get_threshold()
    try:
        with bulk_records():
            assert gc.get_threshold()[0] == max(before[0], BULK_GC_THRESHOLD)
            assert gc.get_threshold()[1:] == before[1:]
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.get_threshold() == before


def test_link_or_copy_makes_the_folder_and_replaces_what_the_target_held(tmp_path: Path) -> None:
    from harness.store.shards import _link_or_copy

    source = tmp_path / "shard" / "a.json"
    source.parent.mkdir()
    source.write_text("new", encoding="utf-8")
    target = tmp_path / "merged" / "sbom" / "a.json"
    _link_or_copy(source, target)  # no folder yet
    assert target.read_text(encoding="utf-8") == "new"
    target.unlink()
    target.write_text("old, of an interrupted merge", encoding="utf-8")
    _link_or_copy(source, target)
    assert target.read_text(encoding="utf-8") == "new"


def test_records_read_sets_objects_aside_only_inside_bulk_records() -> None:
    import gc

    from harness.store.shards import bulk_records, records_read

    assert gc.get_freeze_count() == 0
    records_read()  # outside: nothing is set aside (nothing would ever release it)
    assert gc.get_freeze_count() == 0
    with bulk_records():
        with bulk_records():
            records_read()
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # the outer block still holds them
    assert gc.get_freeze_count() == 0
