"""A full disk (issue 13, item 2), on a small tmpfs mounted for the test: the run ends with
exit 1 and one line naming the folder and the space needed (no traceback), the finished
cell stays on disk, and `--resume` completes the run once space is freed. The tmpfs is
unmounted in a finally, whatever happens."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration
SLOW = ROOT / "tests" / "matrices" / "slow.yaml"
PAGE = 4096
SLACK = 2 * PAGE  # beyond the cell's own files: too little for results, history and report


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _pages(folder: Path) -> int:
    """Bytes a tmpfs charges for a folder: every file and directory in whole pages."""
    return sum(-(-max(p.stat().st_size, 1) // PAGE) * PAGE for p in folder.rglob("*"))


def _cell_files(out: Path) -> list[Path]:
    return [out / ".harness.lock", out / "prepare.json", *out.glob("cells/*"), *out.glob("logs/*")]


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.mark.usefixtures("docker_client")
def test_a_full_disk_ends_the_run_in_one_line_and_resume_completes_it(small_disk: Path) -> None:
    # A first run with room measures what one cell's files and the whole run take here.
    roomy = harness("run", str(SLOW), "-k", "tiny", "--out", str(small_disk / "measure"))
    assert roomy.returncode == 0, _output(roomy)
    measured = small_disk / "measure"
    cell_bytes = sum(-(-p.stat().st_size // PAGE) * PAGE + PAGE for p in _cell_files(measured))
    assert _pages(measured) > cell_bytes + 4 * SLACK, "the documents must not fit in the slack"
    shutil.rmtree(measured)

    # Fill the disk to leave room for the cell's files and a little more.
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * (free - cell_bytes - SLACK - 4 * PAGE))  # dirs: 4 pages
    out = small_disk / "run"
    full = harness("run", str(SLOW), "-k", "tiny", "--out", str(out))
    assert full.returncode == 1, _output(full)
    everything = full.stdout + full.stderr
    assert "Traceback" not in everything, _output(full)
    lines = [line for line in everything.splitlines() if "no space left in" in line]
    assert lines and str(small_disk) in lines[-1] and "bytes" in lines[-1], _output(full)
    kept = list((out / "cells").glob("*.json"))
    assert kept, "the finished cell must stay on disk"
    written = kept[0].read_text()
    record: dict[str, Any] = json.loads(written)
    assert record["status"] == "passed"
    assert not list(out.rglob("*.tmp")), "no temporary file is left behind"

    filler.unlink()  # space freed: the same run completes
    resumed = harness("run", "--resume", str(out), str(SLOW), "-k", "tiny")
    assert resumed.returncode == 0, _output(resumed)
    results = json.loads((out / "results.json").read_text())
    assert [c["status"] for c in results["cells"]] == ["passed"]
    assert (out / "report.html").read_text().rstrip().endswith("</html>")
    assert kept[0].read_text() == written  # the finished cell's file is never rewritten
