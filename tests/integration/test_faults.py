"""Faults the runner must survive, each against the real engine (issue 5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration
FAULTS = ROOT / "tests" / "matrices" / "faults.yaml"
SLOW = ROOT / "tests" / "matrices" / "slow.yaml"


# docker_client: requested for its side effect (an engine, or a clear failure);
# marks on fixtures have no effect, so no usefixtures here.
@pytest.fixture(scope="module")
def faults_run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    out = tmp_path_factory.mktemp("faults") / "run"
    done = harness("run", str(FAULTS), "--out", str(out), "--jobs", "2")
    assert (out / "results.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    cells = {c["depset"]: c for c in json.loads((out / "results.json").read_text())["cells"]}
    return {"cells": cells, "done": done, "out": out}


def last_step(cell: dict[str, Any]) -> dict[str, Any]:
    return dict(cell["steps"][-1])


def test_a_hanging_step_times_out_with_its_log(faults_run: dict[str, Any]) -> None:
    cell = faults_run["cells"]["hang"]
    assert cell["status"] == "timeout"
    step = last_step(cell)
    assert step["name"] == "probe:hang" and step["status"] == "timeout"
    assert 24 <= step["seconds"] < 80
    assert "timeout of 25 s" in step["reason"]


def test_a_probe_printing_garbage_or_nothing_is_an_error(faults_run: dict[str, Any]) -> None:
    garbage = faults_run["cells"]["garbage"]
    assert garbage["status"] == "error"
    assert "not JSON" in garbage["probes"]["garbage"]["error"]
    assert "<b>at all</b>" in garbage["probes"]["garbage"]["error"]  # kept as data...
    html = (faults_run["out"] / "report.html").read_text()
    assert "<b>at all</b>" not in html  # ...and escaped in the report
    silent = faults_run["cells"]["silent"]
    assert silent["status"] == "error" and "printed nothing" in silent["probes"]["silent"]["error"]


def test_out_of_memory_is_reported_as_oom(faults_run: dict[str, Any]) -> None:
    cell = faults_run["cells"]["oom"]
    assert cell["status"] == "oom", cell["steps"]
    assert "200m" in last_step(cell)["reason"]


def test_network_failure_is_retried_then_classified(faults_run: dict[str, Any]) -> None:
    cell = faults_run["cells"]["offline-install"]
    step = last_step(cell)
    assert cell["status"] == "failed"
    assert step["failure_kind"] == "network" and step["attempt"] == 3


def test_disk_full_is_reported_and_the_run_goes_on(faults_run: dict[str, Any]) -> None:
    cell = faults_run["cells"]["disk-full"]
    assert cell["status"] == "failed"
    assert last_step(cell)["failure_kind"] == "disk-full"
    assert len(faults_run["cells"]) == 6  # every other cell still ran


def _labelled(client: Any, run_id: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"harness.run={run_id}"}))


# A shell starts background jobs with SIGINT ignored, and Python then never turns SIGINT
# into KeyboardInterrupt (CI runs this suite in such a job). Ctrl-C reaches a run in a
# foreground terminal: restore SIGINT's default, then exec the interpreter that is timed.
FOREGROUND = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])",
]


def _start_slow_run(out: Path) -> subprocess.Popen[bytes]:
    out.parent.mkdir(parents=True, exist_ok=True)
    console = (out.parent / "console.log").open("wb")
    # -X faulthandler: a run that hangs can be made to print every thread's stack.
    argv = [*FOREGROUND, "-X", "faulthandler", "-m", "harness", "run", str(SLOW)]
    return subprocess.Popen(
        [*argv, "-k", "slow", "--out", str(out)],
        cwd=ROOT,
        stdout=console,
        stderr=subprocess.STDOUT,
    )


def _wait_or_dump(process: subprocess.Popen[bytes], console: Path, seconds: float) -> None:
    """Wait for the run to exit; if it hangs, fail with its console and thread stacks."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # faulthandler dumps the stacks, then it dies
        process.wait(timeout=30)
        tail = console.read_text(errors="replace")[-6000:]
        raise AssertionError(f"the run did not exit within {seconds} s:\n{tail}") from None


def _wait_for_container(client: Any, out: Path, seconds: float = 240) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        prepared = out / "prepare.json"
        if prepared.exists():
            run_id = json.loads(prepared.read_text())["run"]["id"]
            if any(c.status == "running" for c in _labelled(client, run_id)):
                time.sleep(2)  # let the cell get into its steps
                return str(run_id)
        time.sleep(0.5)
    raise AssertionError("the run never started its container")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_a_run_removes_its_containers(
    signum: int, tmp_path: Path, docker_client: Any
) -> None:
    process = _start_slow_run(tmp_path / "run")
    run_id = _wait_for_container(docker_client, tmp_path / "run")
    process.send_signal(signum)
    _wait_or_dump(process, tmp_path / "console.log", 120)
    assert _labelled(docker_client, run_id) == []


def test_after_sigkill_the_next_run_sweeps_only_dead_runs(
    tmp_path: Path, docker_client: Any
) -> None:
    bystander = docker_client.containers.run(  # unlabelled: must survive every sweep
        "harness-standin/bookworm-py3.11:" + _py311_tag(docker_client),
        ["sleep", "300"],
        entrypoint=[],
        detach=True,
        labels={"purpose": "bystander"},
    )
    try:
        process = _start_slow_run(tmp_path / "run")
        run_id = _wait_for_container(docker_client, tmp_path / "run")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert _labelled(docker_client, run_id), "SIGKILL left no container to sweep?"
        done = harness("run", str(SLOW), "-k", "tiny", "--out", str(tmp_path / "next"))
        assert done.returncode == 0, done.stdout[-2000:]
        assert _labelled(docker_client, run_id) == []
        bystander.reload()
        assert bystander.status == "running"
    finally:
        bystander.remove(force=True)


def _py311_tag(client: Any) -> str:
    for image in client.images.list(name="harness-standin/bookworm-py3.11"):
        for tag in image.tags:
            return str(tag.rsplit(":", 1)[1])
    raise AssertionError("the py311 stand-in is not built")


@pytest.mark.usefixtures("docker_client")
def test_resume_reruns_only_missing_cells(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = harness("run", str(SLOW), "-k", "tiny", "--out", str(out))
    assert first.returncode == 0, first.stdout[-2000:]
    kept = next((out / "cells").glob("*.json"))
    before = kept.read_bytes()
    again = harness("run", "--resume", str(out), str(SLOW), "-k", "tiny")
    assert again.returncode == 0, again.stdout[-2000:]
    assert kept.read_bytes() == before  # a finished result is never rewritten
    kept.unlink()
    third = harness("run", "--resume", str(out), str(SLOW), "-k", "tiny")
    assert third.returncode == 0 and kept.exists()
    assert json.loads((out / "results.json").read_text())["cells"][0]["status"] == "passed"
