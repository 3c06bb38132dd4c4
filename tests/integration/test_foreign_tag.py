"""A base's image is the reference harness itself built or pulled, never a tag someone
else put on the same image id (issue 25: a push of the stand-in to a local registry
became another run's base image, report and reproducer FROM)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from harness.engine.bases import Resolver
from harness.model.matrix import PROBES_DIR, load_matrix
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_a_foreign_tag_on_the_standin_id_is_never_the_base_image(docker_client: Any) -> None:
    matrix = load_matrix(ROOT / "matrix.yaml")
    before = Resolver(docker_client, matrix, PROBES_DIR, log=print).resolve("py311-slim")
    assert before["status"] == "available", before["reason"]
    own = str(before["image"])
    assert own.startswith(matrix.settings.standin_repository + "/"), own
    # Another process's name for the same image id (created and removed by this test only).
    foreign = f"team-registry.test/python:3.11-slim-{secrets.token_hex(4)}"
    repository, tag = foreign.rsplit(":", 1)
    assert docker_client.images.get(before["image_id"]).tag(repository, tag)
    try:
        assert foreign in docker_client.images.get(before["image_id"]).tags
        after = Resolver(docker_client, matrix, PROBES_DIR, log=print).resolve("py311-slim")
        assert after["image_id"] == before["image_id"]
        assert after["image"] == own and after["image"] != foreign
    finally:
        docker_client.images.remove(foreign)
