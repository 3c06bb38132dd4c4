"""Files and folders harness writes follow the user's umask (issue 24): mkstemp's 0600 kept
report.html from a web server or another CI user."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.store import rundir
from harness.store.rundir import make_dirs, write_atomic, write_atomic_with, write_json


@pytest.fixture(params=[0o022, 0o027, 0o002, 0o077], ids=oct)
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_and_folders_follow_the_umask(tmp_path: Path, umask: int) -> None:
    report = write_atomic(tmp_path / "out" / "report.html", "<html></html>")
    results = write_json(tmp_path / "out" / "results.json", {"schema_version": 1})

    def library_writer(path: Path) -> None:  # as pyarrow writes a parquet file itself
        path.write_bytes(b"PAR1")

    parquet = write_atomic_with(tmp_path / "out" / "t.parquet", library_writer)
    folder = make_dirs(tmp_path / "deep" / "er")
    for path in (report, results, parquet):
        assert _mode(path) == 0o666 & ~umask, path.name
    assert _mode(folder) == 0o777 & ~umask
    assert _mode(tmp_path / "out") == 0o777 & ~umask


def test_rewriting_a_file_keeps_to_the_umask(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "summary.md"
    write_atomic(target, "old")
    target.chmod(0o600)
    write_atomic(target, "new")
    assert _mode(target) == 0o666 & ~umask


def test_the_umask_is_read_without_changing_it(umask: int) -> None:
    assert rundir.current_umask() == umask
    assert os.umask(umask) == umask  # current_umask left it as it was
