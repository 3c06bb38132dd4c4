"""One run directory, one writer (issue 13, item 1), end to end: a second `harness run` on
a directory in use exits 2 naming the owner's pid and host; a directory holding a stopped
run is refused without `--resume`; the resumed run's history entry is its final state."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.store.history import load_history
from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration
SLOW = ROOT / "tests" / "matrices" / "slow.yaml"


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.stat().st_size > 0):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.5)


@pytest.mark.usefixtures("docker_client")
def test_one_writer_then_resume_records_the_final_state(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(SLOW), "-k", "slow", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_for(out / ".harness.lock", 120)
        second = harness("run", str(SLOW), "-k", "tiny", "--out", str(out))
        assert second.returncode == 2, second.stderr[-2000:]
        assert f"pid {first.pid}" in second.stderr and socket.gethostname() in second.stderr
        _wait_for(out / "prepare.json", 300)
        time.sleep(3)  # the slow cell's container is running
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=300)
    assert first.returncode == 130

    again = harness("run", str(SLOW), "-k", "tiny", "--out", str(out))
    assert again.returncode == 2 and "already holds run" in again.stderr, again.stderr[-2000:]

    resumed = harness("run", "--resume", str(out), str(SLOW), "-k", "tiny")
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    results = json.loads((out / "results.json").read_text())
    run_id = results["run"]["id"]
    rows = load_history(out / "history")
    recorded = {r.cell_id for r in rows if r.row == "cell" and r.run_id == run_id}
    assert recorded == {c["id"] for c in results["cells"]} and "py311×tiny" in recorded
    assert not (tmp_path / "history").exists() and not (tmp_path / "latest").exists()
