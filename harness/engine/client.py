"""The Docker engine: connect, describe, and sweep containers left by dead runs."""

from __future__ import annotations

import os
from typing import Any

import docker
import docker.errors

from harness.engine.api import EngineInfo, EngineVersion, read
from harness.model.errors import EngineUnavailableError

LABEL_RUN = "harness.run"
LABEL_CELL = "harness.cell"
LABEL_RUNNER = "harness.runner"  # host:pid of the process that started the container
LABEL_KEEP = "harness.keep"  # `harness run --keep`: left for the user, not for the next run


def connect(timeout: float = 120) -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except Exception as err:  # the SDK raises many kinds; all mean "no engine"
        raise EngineUnavailableError(
            f"no usable Docker engine: {err}",
            "run `make setup` (or scripts/ensure-docker.sh) as root to install and start one, "
            "or point DOCKER_HOST at a running engine",
        ) from None
    return client


def engine_facts(client: docker.DockerClient) -> dict[str, str | int | None]:
    """The run record's ``engine``: what the engine says of itself."""
    info = read(EngineInfo, client.info())
    version = read(EngineVersion, client.version())
    return {
        "version": version.version,
        "api_version": version.api_version,
        "os": info.operating_system,
        "storage_driver": info.driver,
        "cgroup_version": info.cgroup_version,
        "cpus": info.cpus,
        "memory_bytes": info.memory_bytes,
    }


def _runner_alive(token: str) -> bool:
    host, _, pid = token.rpartition(":")
    if host != os.uname().nodename or not pid.isdigit():
        return True  # another host's runner: we cannot tell, so leave it alone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_dead_runs(
    client: docker.DockerClient, log: Any = print, *, include_kept: bool = False
) -> list[str]:
    """Remove containers whose runner process is gone (a SIGKILLed run).

    Only labelled containers are considered, and never those of a live runner. Those a
    run kept on request (``--keep``) stay until ``harness sweep`` (``include_kept``).
    """
    removed = []
    for container in client.containers.list(all=True, filters={"label": LABEL_RUN}):
        token = container.labels.get(LABEL_RUNNER, "")
        kept = container.labels.get(LABEL_KEEP) and not include_kept
        if token and not kept and not _runner_alive(token):
            container.remove(force=True)
            removed.append(str(container.name))
    if removed:
        log(f"swept {len(removed)} container(s) left by dead runs: {', '.join(removed)}")
    return removed


def remove_run_containers(client: docker.DockerClient, run_id: str) -> list[str]:
    removed = []
    for container in client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"}):
        try:
            container.remove(force=True)
            removed.append(str(container.name))
        except docker.errors.NotFound:
            pass
    return removed
