"""Base facts probed once per image (env, capabilities), with a fake engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from harness.engine import bases
from harness.engine.bases import CAPABILITIES_PROBE, ENV_PROBE, Resolver, base_probe_cache_path
from harness.model.matrix import load_matrix
from tests.conftest import ROOT

PROBES = ROOT / "harness" / "probes"


class _Image:
    def __init__(self) -> None:
        self.id = "sha256:runtime"
        self.attrs = {"Size": 55_000_000, "Created": "2026-12-04", "Config": {"User": "65532"}}


class _Containers:
    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    def run(self, image: str, command: list[str], **kwargs: Any) -> bytes:
        self.runs.append({"image": image, "command": command, **kwargs})
        if command[0] == "/no/python":
            # What the engine answers when the command does not exist in the image.
            raise docker.errors.APIError('exec: "/no/python": stat /no/python: no such file')
        script = command[1].rsplit("/", 1)[-1]
        return b"noise\n" + json.dumps({"status": "passed", "script": script}).encode()


class _Images:
    def get(self, _ref: str) -> _Image:
        return _Image()


class _Client:
    def __init__(self) -> None:
        self.containers = _Containers()
        self.images = _Images()


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Resolver:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    matrix = load_matrix(ROOT / "tests" / "matrices" / "runtimes.yaml")
    return Resolver(_Client(), matrix, PROBES, log=lambda _line: None)  # type: ignore[arg-type]


def test_capabilities_are_probed_exec_form_once_per_image(resolver: Resolver) -> None:
    record = {"image_id": "sha256:runtime", "python_command": "/usr/bin/python3.11"}
    facts = resolver._describe(record)
    assert facts["capabilities"] == {"status": "passed", "script": "capabilities.py"}
    assert facts["user"] == "65532"
    runs = resolver.client.containers.runs  # type: ignore[attr-defined]
    by_script = {run["command"][1]: run for run in runs}
    capabilities = by_script["/harness/probes/capabilities.py"]
    # No shell: the interpreter is the command itself, the entrypoint is cleared.
    assert capabilities["command"] == ["/usr/bin/python3.11", "/harness/probes/capabilities.py"]
    assert capabilities["entrypoint"] == [] and capabilities["network_mode"] == "none"
    assert "user" not in capabilities  # the image's own user
    resolver._describe(record)
    assert len(runs) == 2  # both probes came from the cache the second time


def test_capabilities_cache_follows_the_probes_it_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    probes = tmp_path / "probes"
    probes.mkdir()
    for name in ("capabilities.py", "env.py", "pybench.py", "_common.py"):
        (probes / name).write_text("v1")
    first = base_probe_cache_path(probes, "sha256:1", "python3", CAPABILITIES_PROBE)
    assert first.parent.name == "base-capabilities"
    assert first != base_probe_cache_path(probes, "sha256:1", "python3", ENV_PROBE)
    (probes / "pybench.py").write_text("v2")  # capabilities reads PGO/LTO through pybench
    assert base_probe_cache_path(probes, "sha256:1", "python3", CAPABILITIES_PROBE) != first


def test_env_cache_key_is_unchanged_by_the_capabilities_probe() -> None:
    # Existing caches stay valid: the env probe's key is what probe_cache_path always gave.
    expected = bases.probe_cache_path(PROBES, "sha256:1", "python3", "env.py", "base-facts")
    assert bases.env_cache_path(PROBES, "sha256:1", "python3") == expected


def test_a_runtime_only_standin_is_described_and_runs_usr_bin_python() -> None:
    matrix = load_matrix(ROOT / "tests" / "matrices" / "runtimes.yaml")
    standin = matrix.spec.bases["distroless-py311"].standin
    assert standin is not None and standin.debootstrap is not None
    assert bases._debootstrap_python(standin.debootstrap) == "/usr/bin/python3.11"
    assert bases._standin_text(standin) == (
        "Debian 12 + Debian's python3.11 only, FROM scratch (no shell, apt or pip; user 65532)"
    )
    slim = matrix.spec.bases["py311-slim"].standin
    assert slim is not None and slim.debootstrap is not None
    assert bases._debootstrap_python(slim.debootstrap) == "python3.11"


def test_a_base_without_that_python_is_a_failed_probe_not_a_crash(resolver: Resolver) -> None:
    facts = resolver._describe({"image_id": "sha256:runtime", "python_command": "/no/python"})
    assert facts["capabilities"]["status"] == "failed"
    assert "no such file" in facts["capabilities"]["error"]
    assert facts["env"]["status"] == "failed" and facts["python"] is None


def test_a_base_is_resolved_once_when_two_workers_ask_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading
    import time

    resolver = Resolver(None, load_matrix(ROOT / "tests" / "matrices" / "runtimes.yaml"), PROBES)  # type: ignore[arg-type]
    calls: list[str] = []

    def slow_resolve(name: str, _spec: Any) -> dict[str, Any]:
        calls.append(name)
        time.sleep(0.2)  # the second worker arrives while the first is still resolving
        return {"name": name, "status": "unavailable", "reason": "test"}

    monkeypatch.setattr(resolver, "_resolve", slow_resolve)
    workers = [threading.Thread(target=resolver.resolve, args=("py311-slim",)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert calls == ["py311-slim"]
