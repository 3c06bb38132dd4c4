"""A cell file is identified by its name and its content together: a stray copy in cells/
(a `cp` backup, a second download, a file under another cell's name) is ignored with a
warning, never counted as another record of the cell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.run import results
from harness.store.resultsfile import iter_cells


def _cell(depset: str, repeat: int = 0) -> dict[str, Any]:
    return {
        "id": f"a×{depset}",
        "base": "a",
        "depset": depset,
        "repeat": repeat,
        "status": "passed",
    }


def _run_dir(tmp_path: Path) -> Path:
    prepared = {
        "run": {"id": "20270101-000000-aaaaaa", "warnings": []},
        "bases": [{"name": "a"}],
        "depsets": [{"name": f"d{i}"} for i in range(8)],
    }
    (tmp_path / "prepare.json").write_text(json.dumps(prepared))
    cells = tmp_path / "cells"
    cells.mkdir()
    for i in range(8):
        (cells / f"a_x_d{i}.r0.json").write_text(json.dumps(_cell(f"d{i}")))
    return tmp_path


def test_stray_and_duplicate_cell_files_are_ignored_with_a_warning(tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path)
    cells = run_dir / "cells"
    original = (cells / "a_x_d0.r0.json").read_text()
    (cells / "a_x_d0.r0.json.bak").write_text(original)  # cp backup
    (cells / "a_x_d0.r0 (1).json").write_text(original)  # a re-downloaded artifact
    (cells / "a_x_d1.r1.json").write_text(original)  # d0's record under another name
    (cells / ".a_x_d2.r0.json.x.tmp").write_text("{")  # a write in progress: silent
    merged = results.merge(run_dir)
    assert [c.id for c in merged.cells] == [f"a×d{i}" for i in range(8)]
    warnings = merged.run.warnings or []
    assert len(warnings) == 3
    assert any("a_x_d0.r0.json.bak: ignored" in w for w in warnings)
    assert any("a_x_d0.r0 (1).json: ignored" in w for w in warnings)
    assert any("a_x_d1.r1.json: ignored: holds cell a×d0 repeat 0" in w for w in warnings)


def test_results_json_is_streamed_one_cell_per_line_and_reads_as_json(tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path)
    results.merge(run_dir)
    path = run_dir / "results.json"
    whole = json.loads(path.read_text())
    assert [c.id for c in iter_cells(path)] == [c["id"] for c in whole["cells"]]
    lines = path.read_text().splitlines()
    assert lines.index('"cells": [') == len(lines) - 10  # 8 cells, then the closing line
