"""The glibc stand-in laid out as the official python images are (issue 25): python, python3
and pip in /usr/local/bin, the pinned pip of the official image, no apt lists, and a
multi-stage Dockerfile written for python:3.11-slim imports what it copied."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from harness.engine.bases import Resolver
from harness.engine.build import BuildRequest, stream_build
from harness.engine.debootstrap import OFFICIAL_PIP
from harness.model.matrix import PROBES_DIR, load_matrix, resolve_ca_bundle
from tests.conftest import ROOT, harness

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


PIP_MATRIX = """\
version: 1
settings: {jobs: 1, install_timeout: 600, probe_timeout: 120, memory: 2g, cpus: 1, pull_timeout: 10,
           preflight: false}
bases:
  py311:
    image: python:3.11-slim
    standin:
      debootstrap: {suite: bookworm, python: "3.11"}
  py311-pip25:
    image: python:3.11-slim
    pip_version: "25.0.1"
    standin:
      debootstrap: {suite: bookworm, python: "3.11"}
depsets:
  tiny: {pip: [six], imports: [six]}
  missing: {pip: ["harness-no-such-distribution-h12==1.0"]}
cells:
  exclude: [{base: py311-pip25, depset: missing}]
"""


@pytest.fixture(scope="module")
def pip_run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    work = tmp_path_factory.mktemp("pip-version")
    (work / "matrix.yaml").write_text(PIP_MATRIX, encoding="utf-8")
    harness("run", str(work / "matrix.yaml"), "--out", str(work / "run"))
    results = json.loads((work / "run" / "results.json").read_text())
    return {cell["id"]: cell for cell in results["cells"]}


def test_every_pip_cell_records_its_pip_failed_cells_included(pip_run: dict[str, Any]) -> None:
    official = OFFICIAL_PIP["3.11"].version
    passed = _cell(pip_run, "py311", "tiny")
    assert passed["status"] == "passed", passed.get("reason")
    assert passed["installer"] == {"name": "pip", "version": official, "requested": None}
    failed = _cell(pip_run, "py311", "missing")
    assert failed["status"] == "failed"
    assert failed["installer"]["version"] == official  # not null: read before the install
    assert "pip-upgrade" not in [step["name"] for step in failed["steps"]]


def test_pip_version_is_installed_in_its_own_step_and_recorded(pip_run: dict[str, Any]) -> None:
    cell = _cell(pip_run, "py311-pip25", "tiny")
    assert cell["status"] == "passed", cell.get("reason")
    assert cell["installer"] == {"name": "pip", "version": "25.0.1", "requested": "25.0.1"}
    names = [step["name"] for step in cell["steps"]]
    assert names.index("venv") < names.index("pip-upgrade") < names.index("pip-install")
    step = cell["steps"][names.index("pip-upgrade")]
    assert step["status"] == "passed" and step["seconds"] > 0
    assert "pip==25.0.1" in step["command"]
    assert isinstance(step.get("bytes_added"), int)


def _cell(cells: dict[str, Any], base: str, depset: str) -> dict[str, Any]:
    return next(c for c in cells.values() if c["base"] == base and c["depset"] == depset)
