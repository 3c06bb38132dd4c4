"""A depset's own files are checked when the matrix loads: exit 2 naming the file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.model.errors import ConfigurationError
from harness.model.matrix import load_matrix
from harness.model.project_files import requirement_tree, requirement_urls

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "service"

HEAD = """
version: 1
bases:
  a: {image: "python:3.11-slim"}
depsets:
  svc:
"""


def matrix(tmp_path: Path, depset: str) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(HEAD + "".join(f"    {line}\n" for line in depset.strip().splitlines()))
    return path


def error_of(path: Path) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        load_matrix(path)
    return caught.value


def test_the_example_service_matrix_loads() -> None:
    loaded = load_matrix(EXAMPLE / "matrix.yaml")
    depset = loaded.spec.depsets["service-locked"]
    assert depset.lockfile == "uv.lock" and depset.tests is not None and depset.tests.junit
    assert len(loaded.cells) == 4


def test_a_missing_requirements_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    err = error_of(matrix(tmp_path, "requirements: [reqs/missing.txt]"))
    assert "depsets.svc.requirements.0" in err.what and "reqs/missing.txt" in err.what
    assert "relative to the matrix file" in str(err.fix)


def test_includes_must_exist_and_stay_in_the_mounted_folder(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "requirements.txt").write_text("-r base.txt\n")
    err = error_of(matrix(tmp_path, "requirements: [reqs/requirements.txt]"))
    assert "reqs/requirements.txt:1: -r base.txt: no such file" in err.what
    (tmp_path / "common.txt").write_text("six\n")
    (tmp_path / "reqs" / "requirements.txt").write_text("--constraint=../common.txt\n")
    err = error_of(matrix(tmp_path, "requirements: [reqs/requirements.txt]"))
    assert "outside" in err.what and "under `requirements`" in str(err.fix)


def test_an_unsupported_lockfile_kind_names_the_supported_ones(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_text("{}")
    err = error_of(matrix(tmp_path, "lockfile: Pipfile.lock"))
    assert "depsets.svc.lockfile" in err.what and "Pipfile.lock" in err.what
    assert "uv.lock, poetry.lock, pylock.toml" in err.what


def test_a_missing_lockfile_and_a_broken_one(tmp_path: Path) -> None:
    assert "'uv.lock' does not exist" in error_of(matrix(tmp_path, "lockfile: uv.lock")).what
    (tmp_path / "uv.lock").write_text("version = [")
    assert "not valid TOML" in error_of(matrix(tmp_path, "lockfile: uv.lock")).what


def test_tests_need_a_source_folder_and_a_project_needs_pyproject(tmp_path: Path) -> None:
    err = error_of(matrix(tmp_path, 'tests: {command: "pytest"}'))
    assert "depsets.svc.tests" in err.what and "source" in str(err.fix)
    assert "is not a folder" in error_of(matrix(tmp_path, "source: nowhere")).what
    err = error_of(matrix(tmp_path, "project: {path: .}"))
    assert "no pyproject.toml" in err.what


def test_requirement_urls_follow_includes_for_redaction(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE / "constraints.txt", tmp_path / "constraints.txt")
    (tmp_path / "private.txt").write_text(
        "--extra-index-url https://ci:s3cr3t-token@pypi.corp.example/simple\nmylib==1\n"
    )
    (tmp_path / "requirements.txt").write_text("-rprivate.txt\n-c constraints.txt\nsix\n")
    assert len(requirement_tree(tmp_path / "requirements.txt")) == 3
    loaded = load_matrix(matrix(tmp_path, "requirements: [requirements.txt]"))
    urls = requirement_urls(loaded.spec.depsets["svc"], loaded.resolve_path)
    assert urls == ["https://ci:s3cr3t-token@pypi.corp.example/simple"]


# -- include loops (issue 24): exit 2 at load naming the loop, never "pip-install failed" --


def test_a_file_including_itself_is_a_loop(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "requirements.txt").write_text("six\n-r requirements.txt\n")
    err = error_of(matrix(tmp_path, "requirements: [reqs/requirements.txt]"))
    assert err.exit_code == 2
    assert err.file == str((tmp_path / "reqs" / "requirements.txt").resolve())
    assert (err.line, err.key) == (2, "-r requirements.txt")
    assert "include loop: requirements.txt:2 -r requirements.txt" in err.message
    assert err.fix and "remove one include" in err.fix


def test_two_files_including_each_other_are_a_loop(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "a.txt").write_text("six\n-r b.txt\n")
    (tmp_path / "reqs" / "b.txt").write_text("# b\n--constraint=a.txt\n")
    err = error_of(matrix(tmp_path, "requirements: [reqs/a.txt]"))
    assert "include loop: a.txt:2 -r b.txt -> b.txt:2 --constraint a.txt (back to a.txt)" in (
        err.message
    )
    assert err.file is not None and err.file.endswith("b.txt") and err.line == 2


def test_a_file_included_twice_without_a_loop_loads(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "top.txt").write_text("-r a.txt\n-r b.txt\n")
    (tmp_path / "reqs" / "a.txt").write_text("-c common.txt\n")
    (tmp_path / "reqs" / "b.txt").write_text("-c common.txt\n")
    (tmp_path / "reqs" / "common.txt").write_text("six==1.16.0\n")
    load_matrix(matrix(tmp_path, "requirements: [reqs/top.txt]"))
    assert len(requirement_tree(tmp_path / "reqs" / "top.txt")) == 4


def test_every_file_problem_of_a_matrix_is_listed(tmp_path: Path) -> None:
    err = error_of(matrix(tmp_path, "requirements: [nope.txt]\nlockfile: nope.lock\nsource: x"))
    keys = [p.key for p in err.problems]
    assert keys == ["depsets.svc.requirements.0", "depsets.svc.lockfile", "depsets.svc.source"]
    assert [p.line for p in err.problems] == [7, 8, 9]
