"""The glibc stand-in laid out as the official python images are (issue 25): python, python3
and pip in /usr/local/bin, the pinned pip of the official image, no apt lists, and a
multi-stage Dockerfile written for python:3.11-slim imports what it copied."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from harness.engine.bases import Resolver
from harness.engine.build import BuildRequest, stream_build
from harness.engine.debootstrap import OFFICIAL_PIP
from harness.model.matrix import PROBES_DIR, load_matrix, resolve_ca_bundle
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

MULTI_STAGE = ROOT / "tests" / "fixtures" / "dockerfiles" / "multi-stage"
LABELS = {"harness.test": "standin-layout"}


@pytest.fixture(scope="module")
def standin(docker_client: Any) -> dict[str, Any]:
    """The py311-slim stand-in of the default matrix (cached by recipe hash, shared)."""
    matrix = load_matrix(ROOT / "matrix.yaml")
    resolver = Resolver(docker_client, matrix, PROBES_DIR, log=print)
    record = resolver.resolve("py311-slim")
    assert record["status"] == "available", record["reason"]
    return {"record": record, "matrix": matrix}


def run(client: Any, image: str, command: list[str]) -> str:
    output = client.containers.run(
        image, command, entrypoint=[], network_mode="none", remove=True, labels=LABELS
    )
    return bytes(output).decode().strip()


def test_python_and_pip_are_in_usr_local_bin(standin: dict[str, Any], docker_client: Any) -> None:
    image = standin["record"]["image_id"]
    script = (
        "for c in python python3 python3.11 pip pip3 pip3.11; do command -v $c; done;"
        " python -V; pip -V;"
        " ls /var/lib/apt/lists | grep -v -x -e lock -e partial | wc -l"
    )
    lines = run(docker_client, image, ["sh", "-c", script]).splitlines()
    assert lines[:6] == [
        f"/usr/local/bin/{name}"
        for name in ("python", "python3", "python3.11", "pip", "pip3", "pip3.11")
    ]
    assert lines[6].startswith("Python 3.11.")
    assert lines[7].startswith(
        f"pip {OFFICIAL_PIP['3.11'].version} from /usr/local/lib/python3.11/"
    )
    assert lines[8] == "0"  # apt lists removed: an install needs apt-get update first


def test_a_venv_seeds_the_official_pip(standin: dict[str, Any], docker_client: Any) -> None:
    image = standin["record"]["image_id"]
    script = "python3.11 -m venv /tmp/v && /tmp/v/bin/python -m pip --version"
    assert run(docker_client, image, ["sh", "-c", script]).startswith(
        f"pip {OFFICIAL_PIP['3.11'].version} "
    )


def test_multi_stage_dockerfile_imports_what_it_copied(
    standin: dict[str, Any], docker_client: Any
) -> None:
    record, matrix = standin["record"], standin["matrix"]
    tag = f"harness-test/standin-multi-stage:{secrets.token_hex(4)}"
    request = BuildRequest(
        context=MULTI_STAGE,
        dockerfile=MULTI_STAGE / "Dockerfile",
        tag=tag,
        build_args={"BASE": record["image_id"]},
        labels=LABELS,
        ca_bundle=resolve_ca_bundle(matrix.settings, matrix.path.parent),
    )
    image_id, _log = stream_build(docker_client, request, print)
    try:
        output = run(docker_client, image_id, ["python", "-c", "import six; print(six.__file__)"])
        # Debian's python reads /usr/local/lib/python3.11/dist-packages, a symlink there.
        assert output.startswith("/usr/local/lib/python3.11/")
        assert output.endswith("/six.py")
    finally:
        docker_client.images.remove(tag, force=True)
