"""Per-step costs of the runner, measured on one idle container with the harness's own code.

Installs swing by tens of seconds with the network and the machine's load, which hides a
cost of 0.1 s per step; an exec of `true` does not. This times, on one container of the
bench's base image: an exec through harness's CellContainer (timeout wrapper, watchdog
thread, the liveness check after it), the docker SDK's bare exec_run, and `docker exec`
from a shell, as the shell loop does it; the liveness check (an inspect) alone; the
writable-layer size query; and the container's start and removal.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

import docker

from harness.engine.container import CellContainer, ContainerSpec

REPEATS = 15
LABELS = {"harness.bench": "micro"}  # no harness.run label: a harness sweep leaves it alone


def timed(action: Callable[[], Any], repeats: int = REPEATS) -> dict[str, float]:
    values = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        values.append(time.perf_counter() - started)
    return {"median": round(statistics.median(values), 4), "max": round(max(values), 4)}


def cli_exec(name: str) -> None:
    subprocess.run(["bash", "-c", f"docker exec {name} true"], check=True, capture_output=True)


def measure(image: str, python: str, name: str) -> dict[str, Any]:
    client = docker.from_env()
    spec = ContainerSpec(image=image, name=name, labels=LABELS, cpus=1.0, memory="1g")
    box = CellContainer(client, spec)
    started = time.perf_counter()
    box.__enter__()  # by hand, to time the start apart from the body
    results: dict[str, Any] = {"start_seconds": round(time.perf_counter() - started, 4)}
    try:
        results.update(exec_costs(box, name))
        results.update(size_costs(box, python))
    finally:
        started = time.perf_counter()
        box.remove()
        results["remove_seconds"] = round(time.perf_counter() - started, 4)
    return results


def exec_costs(box: CellContainer, name: str) -> dict[str, Any]:
    assert box.container is not None
    container = box.container
    return {
        "harness_exec": timed(lambda: box.exec(["true"], 60)),
        "sdk_exec_run": timed(lambda: container.exec_run(["true"])),
        "cli_docker_exec": timed(lambda: cli_exec(name)),
        "liveness_inspect": timed(box.running),
    }


def size_costs(box: CellContainer, python: str) -> dict[str, Any]:
    """The size query walks the writable layer: time it on an empty one and on a venv."""
    empty = timed(box.size_added, 3)
    venv = box.run_shell(f"{python} -m venv /opt/bench-venv", timeout=300)
    files = box.run_shell("find /opt/bench-venv | wc -l", timeout=60).stdout.strip()
    return {
        "size_query_empty": empty,
        "size_query_venv": timed(box.size_added, 3),
        "venv_files": int(files) if files.isdigit() else None,
        "venv_seconds": round(venv.seconds, 3),
    }
