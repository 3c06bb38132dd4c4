"""The run directory: atomic writes, a full disk as one line, one owner at a time."""

from __future__ import annotations

import errno
import json
import os
import socket
from pathlib import Path

import pytest

from harness.model.errors import DiskFullError, RunDirectoryBusyError
from harness.store import history
from harness.store.files import LOCK_FILE
from harness.store.rundir import (
    RunLock,
    claim_run_dir,
    write_atomic,
    write_atomic_with,
)


def test_write_atomic_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.html"
    write_atomic(target, "old")
    write_atomic(target, "new ×")
    assert target.read_text(encoding="utf-8") == "new ×"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]


def test_a_full_disk_keeps_the_old_file_and_says_where_and_how_much(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    write_atomic(target, "finished")

    def full(temporary: Path) -> None:
        temporary.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFullError) as caught:
        write_atomic_with(target, full, size_hint=50_000)
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path) in message and "50000 bytes" in message
    assert caught.value.exit_code == 1 and "--resume" in message
    assert target.read_text() == "finished"  # never truncated in place
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_library_error_naming_no_space_is_a_full_disk(tmp_path: Path) -> None:
    def arrow_like(_temporary: Path) -> None:
        raise OSError("IOError: No space left on device")  # pyarrow keeps no errno

    with pytest.raises(DiskFullError):
        write_atomic_with(tmp_path / "x.parquet", arrow_like)


def test_other_write_errors_are_not_disguised(tmp_path: Path) -> None:
    def denied(_temporary: Path) -> None:
        raise PermissionError(errno.EACCES, "denied")

    with pytest.raises(PermissionError):
        write_atomic_with(tmp_path / "x", denied)


def test_a_second_owner_is_refused_with_the_first_ones_pid_and_host(tmp_path: Path) -> None:
    with RunLock(tmp_path, "run-1"):
        assert (tmp_path / LOCK_FILE).read_text().split() == [
            str(os.getpid()),
            socket.gethostname(),
            "run-1",
        ]
        with pytest.raises(RunDirectoryBusyError) as caught:
            RunLock(tmp_path, "run-2").acquire()
        assert f"pid {os.getpid()}" in caught.value.what
        assert socket.gethostname() in caught.value.what and "run-1" in caught.value.what
        assert caught.value.exit_code == 2
    RunLock(tmp_path, "run-2").acquire().release()  # released: free again


def test_a_directory_holding_another_run_needs_resume(tmp_path: Path) -> None:
    (tmp_path / "prepare.json").write_text(json.dumps({"run": {"id": "earlier-run"}}))
    with pytest.raises(RunDirectoryBusyError) as caught:
        claim_run_dir(tmp_path, "new-run", resume=False)
    assert "earlier-run" in caught.value.what and "--resume" in (caught.value.fix or "")
    claim_run_dir(tmp_path, "earlier-run", resume=True).release()
    claim_run_dir(tmp_path / "fresh", "new-run", resume=False).release()


def test_the_history_never_lands_beside_a_users_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert history.history_location(Path("reports/run-1")) == tmp_path / "reports" / "history"
    mine = tmp_path / "ci" / "out"
    assert history.history_location(mine) == mine / "history"
    chosen = tmp_path / "shared-history"
    assert history.history_location(mine, chosen) == chosen
    assert history.in_default_reports(Path("reports/x")) and not history.in_default_reports(mine)
