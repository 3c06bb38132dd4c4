"""The distroless-like stand-in (tests/matrices/runtimes.yaml): built once from Debian's
archive and cached by recipe hash, it has no shell, runs as 65532, and the capabilities probe
runs on it exec-form, as on the slim stand-in it is compared with."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from harness.engine.bases import Resolver
from harness.model.matrix import PROBES_DIR, load_matrix
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

MATRIX = ROOT / "tests" / "matrices" / "runtimes.yaml"
LABELS = {"harness.test": "runtime-standin"}


@pytest.fixture(scope="module")
def records(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # A cache of our own, so the capabilities probe really runs on both images.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        resolver = Resolver(docker_client, load_matrix(MATRIX), PROBES_DIR, log=print)
        return resolver.resolve_all()


def run(client: Any, image: str, command: list[str]) -> str:
    output = client.containers.run(
        image, command, entrypoint=[], network_mode="none", remove=True, labels=LABELS
    )
    return bytes(output).decode()


def test_runtime_standin_is_built_and_labelled(records: dict[str, Any]) -> None:
    runtime = records["distroless-py311"]
    assert runtime["status"] == "available", runtime["reason"]
    assert runtime["origin"] == "stand-in"
    assert runtime["standin"].startswith("stand-in for gcr.io/distroless/python3-debian12")
    assert runtime["image"].startswith("harness-standin/bookworm-py3.11-runtime:")
    assert runtime["user"] == "65532"
    assert runtime["python_command"] == "/usr/bin/python3.11"
    # Smaller than the slim stand-in it would run beside.
    assert runtime["size_bytes"] < records["py311-slim"]["size_bytes"]


def test_runtime_has_python_and_no_shell(records: dict[str, Any], docker_client: Any) -> None:
    image = records["distroless-py311"]["image_id"]
    code = "import ssl, sqlite3, json, os; ssl.create_default_context(); print(os.getuid())"
    assert run(docker_client, image, ["/usr/bin/python3.11", "-c", code]).strip() == "65532"
    for shell in ("/bin/sh", "/bin/bash"):
        with pytest.raises((docker.errors.APIError, docker.errors.ContainerError)):
            run(docker_client, image, [shell, "-c", "true"])


def test_capabilities_of_the_runtime(records: dict[str, Any]) -> None:
    caps = records["distroless-py311"]["capabilities"]
    assert caps["status"] == "passed", caps
    assert caps["shell"] is False and caps["shells"] == []
    assert caps["package_manager"] is None
    assert caps["pip"]["version"] is None and caps["ensurepip"]["available"] is False
    assert caps["user"] == {"name": "nonroot", "uid": 65532, "gid": 65532}
    assert caps["executable"] == "/usr/bin/python3.11"
    assert [p["path"] for p in caps["pythons"]] == ["/usr/bin/python3.11"]
    assert caps["libc"]["family"] == "glibc" and caps["libc"]["version"]
    assert caps["missing"] == [] and caps["time_zones"]["count"] > 0
    assert caps["openssl"].startswith("OpenSSL 3.")


def test_capabilities_of_the_slim_standin(records: dict[str, Any]) -> None:
    caps = records["py311-slim"]["capabilities"]
    assert caps["status"] == "passed", caps
    assert caps["shell"] is True and caps["package_manager"] == "apt-get"
    assert caps["user"]["uid"] == 0
    runtime = records["distroless-py311"]["capabilities"]
    # Same Debian python3.11 build in both: what speed depends on does not differ.
    for fact in ("python_version", "libc", "pgo", "lto", "abiflags", "config_args", "openssl"):
        assert caps[fact] == runtime[fact], fact


def test_runtime_build_is_cached(records: dict[str, Any], docker_client: Any) -> None:
    again = Resolver(docker_client, load_matrix(MATRIX), PROBES_DIR, log=lambda _line: None)
    assert again.resolve("distroless-py311")["image_id"] == records["distroless-py311"]["image_id"]
