"""The Docker engine: connect, describe, and sweep containers and images left by dead runs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Swept:
    """What a sweep removed: container names and image ids (short)."""

    containers: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def sweep_dead_runs(
    client: docker.DockerClient,
    log: Any = print,
    *,
    include_kept: bool = False,
    run_id: str | None = None,
) -> Swept:
    """Remove the containers and images a dead run left (a SIGKILLed run).

    Only what carries harness's run label is considered, and never that of a live runner.
    What a run kept on request (``--keep``) stays until ``harness sweep`` (``include_kept``).
    A run's own images are the untagged ones it committed (a runtime cell's final image);
    a tagged image with a run label (a warm snapshot, ``harness-warm/*``) is a cache later
    runs reuse, and bases and stand-ins carry no run label: both stay. ``run_id`` narrows
    the sweep to that one run's.
    """
    label = LABEL_RUN if run_id is None else f"{LABEL_RUN}={run_id}"

    def dead(labels: Mapping[str, str]) -> bool:
        token = labels.get(LABEL_RUNNER, "")
        kept = labels.get(LABEL_KEEP) and not include_kept
        return bool(token) and not kept and not _runner_alive(token)

    swept = Swept()
    # 1. Containers first: an image a container still uses cannot go.
    for container in client.containers.list(all=True, filters={"label": label}):
        if dead(container.labels or {}):
            container.remove(force=True)
            swept.containers.append(str(container.name))
    # 2. The dead runs' untagged images; one still in use (or gone meanwhile) is left.
    for image in client.images.list(filters={"label": label}):
        labels = image.labels or {}
        if image.tags or not labels.get(LABEL_RUN) or not dead(labels):
            continue
        try:
            client.images.remove(str(image.id), force=False)
        except docker.errors.APIError as err:  # NotFound included
            log(f"left image {image.short_id} of dead run {labels[LABEL_RUN]}: {err}")
            continue
        swept.images.append(str(image.short_id))
    if swept.containers:
        log(
            f"swept {len(swept.containers)} container(s) left by dead runs: "
            f"{', '.join(swept.containers)}"
        )
    if swept.images:
        log(f"swept {len(swept.images)} image(s) left by dead runs: {', '.join(swept.images)}")
    return swept


def remove_run_containers(client: docker.DockerClient, run_id: str) -> list[str]:
    removed = []
    for container in client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"}):
        try:
            container.remove(force=True)
            removed.append(str(container.name))
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as err:
            # A stop races the cell's own clean-up: the engine is removing it already, so
            # it is going; the run's other containers must still be removed here.
            if err.status_code != 409 or "already in progress" not in str(err):
                raise
    return removed
