"""The plugin's selection (-k) and resume rules, without an engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.model.errors import ConfigurationError
from harness.model.matrix import load_matrix
from harness.run import results
from harness.store.files import result_file_name

MATRIX = """
version: 1
bases:
  py311: {image: "python:3.11-slim"}
  other: {image: "python:3.13-slim"}
depsets:
  hang: {pip: [six]}
  tiny: {pip: [six]}
"""


@pytest.fixture
def hang_yaml(tmp_path: Path) -> Path:
    folder = tmp_path / "hang-tests"  # the folder's name must not match either
    folder.mkdir()
    path = folder / "hang.yaml"
    path.write_text(MATRIX)
    return path


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("hang", {"py311×hang", "other×hang"}),
        ("tiny", {"py311×tiny", "other×tiny"}),
        ("yaml", set()),
        ("tests", set()),
        ("py311 and not hang", {"py311×tiny"}),
        ("OTHER and TINY", {"other×tiny"}),
    ],
)
def test_k_matches_cell_ids_bases_and_depsets_only(
    hang_yaml: Path, keyword: str, expected: set[str]
) -> None:
    matrix = load_matrix(hang_yaml)
    assert {c.id for c in matrix.select(keyword)} == expected


def test_a_bad_k_expression_is_a_configuration_error(hang_yaml: Path) -> None:
    with pytest.raises(ConfigurationError, match="-k"):
        load_matrix(hang_yaml).select("hang and (")


@pytest.mark.parametrize(
    "content",
    [
        "[1, 2]",
        '{"id": "a×b"}',
        '{"id": "a×b", "base": "a", "depset": "b", "status": 3}',
        '"text"',
        "{cut",
    ],
)
def test_a_cell_file_that_is_not_a_cell_record_counts_as_missing(
    tmp_path: Path, content: str
) -> None:
    cells = tmp_path / "cells"
    cells.mkdir()
    (cells / "bad.r0.json").write_text(content)
    good = {"id": "a×b", "base": "a", "depset": "b", "repeat": 0, "status": "passed"}
    (cells / result_file_name("a×b", 0)).write_text(json.dumps(good))
    assert results.read_cell_record(cells / "bad.r0.json") is None
    assert [r.to_dict() for r in results.read_cell_files(tmp_path)] == [good]
    assert results.count_cell_files(tmp_path, warn=lambda _line: None) == 1
    record = results.read_cell_record(cells / result_file_name("a×b", 0))
    assert record is not None and (record.id, record.repeat, record.status) == ("a×b", 0, "passed")
