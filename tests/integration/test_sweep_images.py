"""`harness sweep` against the real engine: a dead run's committed image goes; an image
without harness's run label, and a tagged one (a warm snapshot's kind), stay."""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any

import docker.errors
import pytest

from harness.engine.client import LABEL_CELL, LABEL_RUN, LABEL_RUNNER
from tests.conftest import harness

pytestmark = pytest.mark.integration


def _py311(client: Any) -> str:
    for image in client.images.list(name="harness-standin/bookworm-py3.11"):
        if image.tags:
            return str(image.tags[0])
    raise AssertionError("the py311 stand-in is not built")


def _exists(client: Any, image_id: str) -> bool:
    try:
        client.images.get(image_id)
    except docker.errors.ImageNotFound:
        return False
    return True


def test_harness_sweep_removes_a_dead_runs_committed_image_only(docker_client: Any) -> None:
    run_id = f"sweepimg-{uuid.uuid4().hex[:12]}"  # a fake run of this test's own
    dead = f"{os.uname().nodename}:{2**22 + 4321}"  # above pid_max's default: no process
    labels = {LABEL_RUN: run_id, LABEL_RUNNER: dead, LABEL_CELL: "py311×tiny"}
    tag = f"harness-test/sweepimg:{run_id}"
    mine: list[str] = []
    box = docker_client.containers.create(_py311(docker_client), ["true"], entrypoint=[])
    try:
        # What a SIGKILLed runtime cell leaves: its final image, committed with its labels.
        final = box.commit(conf={"Labels": labels}).id
        mine.append(final)
        unlabelled = box.commit().id  # the stand-in's labels only: no run label
        mine.append(unlabelled)
        warm = box.commit(repository=tag.split(":")[0], tag=run_id, conf={"Labels": labels}).id
        mine.append(warm)
        assert docker_client.images.get(final).labels[LABEL_RUN] == run_id
        assert LABEL_RUN not in (docker_client.images.get(unlabelled).labels or {})

        done = harness("sweep", "--run", run_id, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "removed 0 container(s) and 1 image(s)" in done.stdout
        assert not _exists(docker_client, final)
        assert _exists(docker_client, unlabelled)
        assert _exists(docker_client, warm)  # tagged: a cache a later run reuses
    finally:
        box.remove(force=True)
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag)
        for image in mine:
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(image)
