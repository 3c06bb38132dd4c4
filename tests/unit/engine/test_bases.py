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
    record: bases.ResolvedBase = {
        "image_id": "sha256:runtime",
        "python_command": "/usr/bin/python3.11",
    }
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
    capabilities, env = facts["capabilities"], facts["env"]
    assert capabilities is not None and env is not None
    assert capabilities["status"] == "failed"
    assert "no such file" in str(capabilities["error"])
    assert env["status"] == "failed" and facts["python"] is None


FOREIGN = "127.0.0.1:5000/team/python:3.11-slim"
TEAM_MATRIX = """\
version: 1
settings: {jobs: 1, pull: never}
bases:
  py311:
    image: python:3.11-slim
  team:
    dockerfile: {path: team/Dockerfile, base_args: {BASE: py311}}
    python: python3.11
depsets:
  tiny: {pip: [six]}
"""


class _TaggedImages:
    """Every reference resolves to one image id that also carries a foreign tag, listed
    first (as a push of the same id to a local registry leaves it)."""

    def get(self, ref: str) -> _Image:
        image = _Image()
        image.id = "sha256:" + "ab" * 32
        image.tags = [FOREIGN, ref]  # type: ignore[attr-defined]
        image.attrs["RepoDigests"] = [FOREIGN.rsplit(":", 1)[0] + "@sha256:" + "cd" * 32]
        return image


def _team_resolver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Resolver:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\n", encoding="utf-8")
    (tmp_path / "matrix.yaml").write_text(TEAM_MATRIX, encoding="utf-8")
    client = _Client()
    client.images = _TaggedImages()  # type: ignore[assignment]
    matrix = load_matrix(tmp_path / "matrix.yaml")
    return Resolver(client, matrix, PROBES, log=lambda _line: None)  # type: ignore[arg-type]


def test_a_base_image_is_harness_own_reference_never_a_foreign_tag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = _team_resolver(tmp_path, monkeypatch)
    py311 = resolver.resolve("py311")
    assert py311["status"] == "available" and py311["origin"] == "local"
    assert py311["image"] == "python:3.11-slim"  # not the foreign tag listed first
    team = resolver.resolve("team")
    assert team["status"] == "available"
    assert str(team["image"]).startswith("harness-build/team:")


def test_an_image_without_harness_own_reference_is_named_by_its_id() -> None:
    image = _Image()
    image.tags = [FOREIGN]  # type: ignore[attr-defined]
    assert bases._image_ref(image, "harness-standin/bookworm-py3.11:0123") == image.id
    image.tags = ["python:latest"]  # type: ignore[attr-defined]
    assert bases._image_ref(image, "python") == "python"
    assert bases._image_ref(image, "docker.io/library/python:latest") == (
        "docker.io/library/python:latest"
    )


def test_a_dockerfile_base_records_the_base_args_it_was_built_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.model.origin import origin_tag, origin_text
    from harness.model.results import BaseRecord

    resolver = _team_resolver(tmp_path, monkeypatch)
    team = resolver.resolve("team")
    arg = team["base_args"]["BASE"]
    assert arg["base"] == "py311" and arg["origin"] == "local"
    assert arg["image"] == "python:3.11-slim" and arg["image_id"] == "sha256:" + "ab" * 32
    typed = BaseRecord.from_dict(team)  # results.json's type holds it
    assert typed.base_args is not None and typed.base_args["BASE"].base == "py311"
    assert origin_tag(typed) == "your Dockerfile, FROM py311 (local image)"
    assert "FROM py311 (local image python:3.11-slim, not pulled by this run" in origin_text(typed)


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
