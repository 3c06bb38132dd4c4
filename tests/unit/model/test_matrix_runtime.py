"""Runtime bases (issue 27): ``builder``, ``copy`` and ``read_only`` are checked at load,
each mistake in the one error format (file, line, key, fix; exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model.errors import ConfigurationError
from harness.model.matrix import load_matrix

HEAD = """version: 1
bases:
  slim:
    image: python:3.11-slim
"""
TAIL = """depsets:
  one: {pip: [six]}
"""


def load(tmp_path: Path, bases: str, settings: str = "") -> object:
    path = tmp_path / "m.yaml"
    path.write_text(settings + HEAD + bases + TAIL)
    return load_matrix(path)


def problems(tmp_path: Path, bases: str) -> list[tuple[int | None, str | None, str, str]]:
    with pytest.raises(ConfigurationError) as caught:
        load(tmp_path, bases)
    assert caught.value.exit_code == 2
    return [(p.line, p.key, p.message, p.fix or "") for p in caught.value.problems]


def test_a_runtime_names_its_builder_and_keeps_its_settings(tmp_path: Path) -> None:
    matrix = load(
        tmp_path,
        "  rt:\n    image: distroless\n    builder: slim\n    copy: site-packages\n"
        "    read_only: true\n",
        "settings: {read_only: false}\n",
    )
    base = matrix.spec.bases["rt"]  # type: ignore[attr-defined]
    assert (base.builder, base.copy_mode, base.read_only) == ("slim", "site-packages", True)
    assert matrix.spec.bases["slim"].builder is None  # type: ignore[attr-defined]
    assert matrix.settings.read_only is False  # type: ignore[attr-defined]
    # A runtime is a base like any other: it has a cell for every depset.
    assert [c.id for c in matrix.cells] == ["slim×one", "rt×one"]  # type: ignore[attr-defined]


def test_an_unknown_builder_is_named_with_the_bases_there_are(tmp_path: Path) -> None:
    [(line, key, what, fix)] = problems(tmp_path, "  rt:\n    image: d\n    builder: slmi\n")
    assert (line, key, what) == (7, "bases.rt.builder", "unknown base 'slmi'")
    assert "did you mean 'slim'?" in fix


def test_a_base_is_not_its_own_builder(tmp_path: Path) -> None:
    [(_, key, what, _fix)] = problems(tmp_path, "  rt:\n    image: d\n    builder: rt\n")
    assert (key, what) == ("bases.rt.builder", "a base cannot be its own builder")


def test_a_builder_is_not_itself_a_runtime(tmp_path: Path) -> None:
    bases = "  rt:\n    image: d\n    builder: slim\n  rt2:\n    image: e\n    builder: rt\n"
    [(line, key, what, fix)] = problems(tmp_path, bases)
    assert (line, key) == (10, "bases.rt2.builder")
    assert "'rt' is itself a runtime" in what and "(slim)" in fix


def test_copy_and_read_only_need_a_builder(tmp_path: Path) -> None:
    [(line, key, what, fix)] = problems(tmp_path, "  rt:\n    image: d\n    read_only: true\n")
    assert (line, key) == (5, "bases.rt")
    assert "runtime base only" in what and "builder:" in fix


def test_copy_takes_one_of_three_forms(tmp_path: Path) -> None:
    [(_, key, what, _fix)] = problems(
        tmp_path, "  rt:\n    image: d\n    builder: slim\n    copy: wheels\n"
    )
    assert key == "bases.rt.copy" and "'venv'" in what


def test_two_runtimes_naming_each_other_get_a_fix_that_names_something(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nbases:\n  a:\n    image: d\n    builder: b\n"
        "  b:\n    image: e\n    builder: a\n" + TAIL
    )
    with pytest.raises(ConfigurationError) as caught:
        load_matrix(path)
    fixes = [p.fix or "" for p in caught.value.problems]
    assert len(fixes) == 2 and all("()" not in fix and "no builder:" in fix for fix in fixes)


def test_a_block_that_is_not_a_mapping_is_not_named_by_its_class(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + TAIL + "decision: [size]\n")
    with pytest.raises(ConfigurationError) as caught:
        load_matrix(path)
    [problem] = caught.value.problems
    assert problem.key == "decision" and problem.message == "Input should be a valid dictionary"
    assert "mapping" in (problem.fix or "")
