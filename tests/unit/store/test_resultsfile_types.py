"""results.json's streamed reader hands out the typed records; the header edit keeps JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.model.results import CellRecord, Results
from harness.store.resultsfile import iter_cells, read_header, update_header, write_results


def _written(tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    cells = [{"id": "a×b", "base": "a", "depset": "b", "status": "passed", "plugin": {"k": 1}}]
    header = {"schema_version": 1, "run": {"id": "r", "future_key": [1, "x"]}}
    write_results(path, header, cells)
    return path


def test_the_header_and_the_cells_read_as_types(tmp_path: Path) -> None:
    path = _written(tmp_path)
    header = read_header(path)
    assert isinstance(header, Results) and header.run.id == "r" and header.cells == []
    (cell,) = iter_cells(path)
    assert isinstance(cell, CellRecord) and cell.status == "passed"
    assert cell.to_dict()["plugin"] == {"k": 1}  # an unknown key is kept


def test_a_header_edit_writes_back_every_key_it_did_not_change(tmp_path: Path) -> None:
    path = _written(tmp_path)
    before = json.loads(path.read_text())
    update_header(path, lambda header: header.update(sboms={"scanner": None, "sboms": []}))
    after = json.loads(path.read_text())
    assert after == {**before, "sboms": {"scanner": None, "sboms": []}}


def test_a_header_given_as_a_mapping_needs_its_cells(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="needs its cells"):
        write_results(tmp_path / "results.json", {"schema_version": 1, "run": {"id": "r"}})
    assert not (tmp_path / "results.json").exists()
