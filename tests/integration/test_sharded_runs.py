"""One small matrix run three ways on this machine: whole; as two shards run at once by two
separate `harness run --shard` processes (as two CI jobs would); and merged. The merged
run must be the whole run again: the same cell runs and statuses, a report from its
results.json alone, no status change in `harness diff`, one history entry."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.model.status import FAILING
from tests.conftest import INTEGRATION_MATRIX, ROOT, harness

pytestmark = pytest.mark.integration

# Fast cells of every kind: passed, failed, expected-failure, unavailable.
KEYWORD = "(py311 and (tiny or broken)) or ghost"


def _cell_runs(results: dict[str, Any]) -> dict[tuple[str, int], str]:
    return {(c["id"], c["repeat"]): c["status"] for c in results["cells"]}


def _shard_process(plan: Path, shard: str, out: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "harness", "run", str(INTEGRATION_MATRIX)]
    command += ["--plan", str(plan), "--shard", shard, "--out", str(out), "--jobs", "1"]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


# docker_client: requested for its side effect (an engine, or a clear failure).
@pytest.fixture(scope="module")
def three_ways(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    work = tmp_path_factory.mktemp("shards")
    reports = work / "reports"
    whole = harness(
        "run", str(INTEGRATION_MATRIX), "-k", KEYWORD, "--out", str(reports / "a-whole")
    )
    assert (reports / "a-whole" / "results.json").exists(), whole.stdout[-3000:] + whole.stderr
    plan_path = work / "plan.json"
    planned = harness(
        "plan", str(INTEGRATION_MATRIX), "--shards", "2", "-k", KEYWORD,
        "--reports", str(reports), "--format", "github", "--out", str(plan_path),
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    processes = [
        _shard_process(plan_path, f"{k}/2", work / "artifacts" / f"shard-{k}") for k in (1, 2)
    ]
    outputs = [p.communicate(timeout=1800)[0] for p in processes]
    shard_dirs = [work / "artifacts" / f"shard-{k}" for k in (1, 2)]
    merged = harness("merge", *map(str, shard_dirs), "--out", str(reports / "b-merged"))
    return {
        "reports": reports,
        "whole": whole,
        "plan": json.loads(plan_path.read_text()),
        "github": json.loads(planned.stdout),
        "shard_codes": [p.returncode for p in processes],
        "shard_outputs": outputs,
        "shard_dirs": shard_dirs,
        "merged": merged,
    }


def _results(path: Path) -> dict[str, Any]:
    return dict(json.loads((path / "results.json").read_text()))


def test_each_shard_runs_exactly_its_cells(three_ways: dict[str, Any]) -> None:
    plan = three_ways["plan"]
    assert [e["shard"] for e in three_ways["github"]["include"]] == ["1/2", "2/2"]
    for k, shard_dir in enumerate(three_ways["shard_dirs"], start=1):
        results = _results(shard_dir)
        owned = {(r["cell"], r["repeat"]) for r in plan["runs"] if r["shard"] == k}
        assert set(_cell_runs(results)) == owned
        shard = results["run"]["shard"]
        assert (shard["plan_id"], shard["index"], shard["count"]) == (plan["id"], k, 2)
        assert results["run"]["host"]["hostname"] and results["run"]["engine"]["version"]
        assert (shard_dir / "report.html").exists()
        # A shard's exit code is its own cells' verdict (the merge gives the run's).
        failing = any(c["status"] in FAILING for c in results["cells"])
        code = three_ways["shard_codes"][k - 1]
        assert code == int(failing), three_ways["shard_outputs"][k - 1][-3000:]


def test_the_merged_run_is_the_whole_run(three_ways: dict[str, Any]) -> None:
    merged_dir = three_ways["reports"] / "b-merged"
    assert merged_dir.joinpath("results.json").exists(), three_ways["merged"].stderr
    whole, merged = _results(three_ways["reports"] / "a-whole"), _results(merged_dir)
    assert _cell_runs(merged) == _cell_runs(whole)
    assert merged["schema_version"] == 1
    assert three_ways["merged"].returncode == three_ways["whole"].returncode
    assert [s["index"] for s in merged["run"]["shards"]] == [1, 2]
    assert all(c["host"] == merged["run"]["host"]["hostname"] for c in merged["cells"])
    for name in ("report.html", "junit.xml", "summary.md", "diff.md"):
        assert (merged_dir / name).exists(), name


def test_the_report_renders_from_the_merged_results_alone(
    three_ways: dict[str, Any], tmp_path: Path
) -> None:
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(three_ways["reports"] / "b-merged" / "results.json", alone / "results.json")
    done = harness("report", str(alone))
    assert done.returncode == 0, done.stderr
    html = (alone / "report.html").read_text()
    for cell_id, _repeat in _cell_runs(_results(alone)):
        assert cell_id in html


def test_diff_whole_against_merged_shows_no_status_change(three_ways: dict[str, Any]) -> None:
    from harness.analysis.diff import diff_runs

    reports = three_ways["reports"]
    run_diff = diff_runs(_results(reports / "a-whole"), _results(reports / "b-merged"))
    assert run_diff.status_changes == ()
    assert not run_diff.cells_added and not run_diff.cells_removed
    done = harness("diff", str(reports / "a-whole"), str(reports / "b-merged"))
    assert done.returncode == 0, done.stderr


def test_history_holds_one_entry_for_the_merged_run(three_ways: dict[str, Any]) -> None:
    from harness.store.history import load_history

    reports = three_ways["reports"]
    history = load_history(reports / "history")
    merged_id = _results(reports / "b-merged")["run"]["id"]
    whole_id = _results(reports / "a-whole")["run"]["id"]
    run_ids = {r.run_id for r in history}
    assert run_ids == {whole_id, merged_id}
    merged_cells = [r for r in history if r.row == "cell" and r.run_id == merged_id]
    assert len(merged_cells) == len(_results(reports / "b-merged")["cells"])  # one entry
    shard_ids = {_results(d)["run"]["id"] for d in three_ways["shard_dirs"]}
    assert not shard_ids & run_ids


def test_cells_write_their_sboms_and_the_merge_carries_them(three_ways: dict[str, Any]) -> None:
    merged_dir = three_ways["reports"] / "b-merged"
    cell_entries = [e for e in _results(merged_dir)["sboms"]["sboms"] if e["kind"] == "cell"]
    assert cell_entries, "the passed cells have a contents result, so an SBOM each"
    for entry in cell_entries:
        # written by the cell when it ended (its cost measured), in its shard's sbom/
        assert isinstance(entry["seconds"], float) and entry["valid"]
        assert (merged_dir / entry["path"]).is_file()
        assert any((d / entry["path"]).is_file() for d in three_ways["shard_dirs"])
    assert "cell SBOM(s), written as the cells ended" in three_ways["merged"].stdout
