"""The registry path end to end: `harness run` pulls official-layout images from a real local
registry (Debian's docker-registry on 127.0.0.1), records their digests, names a moved tag
in `harness diff`, pins digests, keeps one registry's fault to its own bases, bounds a
stalled registry, and logs in with credentials that appear in no output.

One registry (and one with htpasswd auth) and the two official-layout images are shared by
the module; every matrix here pulls with `pull: always`, since pushing leaves a local tag."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.model.origin import short_digest
from harness.testing.registry import FaultyRegistry, LocalRegistry, free_port
from tests.conftest import ROOT
from tests.integration.test_registry_support import _build, _newest_standin

pytestmark = pytest.mark.integration

TAG = "library/python:3.11-slim"
APP_TAG = "library/python:3.11-slim-app"
PULL_TIMEOUT = 8
# A step the harness gives each base without installing anything: venv + env probe.
BARE = "  bare: {description: the venv and the env probe only}\n"
SPACY = "  spacy: {pip: [spacy], imports: [spacy], probes: [smoke_spacy]}\n"


@dataclass(frozen=True)
class Pushed:
    registry: LocalRegistry
    root: str  # local image names
    app: str
    digest: str  # of TAG
    app_digest: str


@dataclass(frozen=True)
class Run:
    out: Path
    results: dict[str, Any]
    console: str
    exit_code: int

    def base(self, name: str) -> dict[str, Any]:
        return dict(next(b for b in self.results["bases"] if b["name"] == name))

    def cell(self, cell_id: str) -> dict[str, Any]:
        return dict(next(c for c in self.results["cells"] if c["id"] == cell_id))


@pytest.fixture(scope="module")
def pushed(docker_client: Any) -> Iterator[Pushed]:  # noqa: ARG001 (an engine, first)
    standin = _newest_standin()
    if standin is None:
        pytest.skip("no harness-standin/bookworm-py3.11 stand-in image (make bases builds it)")
    root, app = _build(standin, "root"), _build(standin, "app")
    with LocalRegistry() as registry:
        digest = registry.push(root, TAG)
        app_digest = registry.push(app, APP_TAG)
        yield Pushed(registry, root, app, digest, app_digest)


def run_matrix(directory: Path, name: str, text: str, env: dict[str, str] | None = None) -> Run:
    directory.mkdir(parents=True, exist_ok=True)
    matrix = directory / f"{name}.yaml"
    matrix.write_text(text, encoding="utf-8")
    out = directory / "reports" / name  # runs in one reports/ folder share its history
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(matrix), "--out", str(out), "--jobs", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
        env={**os.environ, **(env or {})},
    )
    console = done.stdout + done.stderr
    assert (out / "results.json").exists(), console[-4000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return Run(out, results, console, done.returncode)


def settings(**extra: str) -> str:
    lines = [f"  {key}: {value}\n" for key, value in {"pull": "always", **extra}.items()]
    return f"version: 1\nsettings:\n  pull_timeout: {PULL_TIMEOUT}\n" + "".join(lines)


def test_a_matrix_of_pulls_each_with_its_own_registry_and_reason(
    pushed: Pushed, tmp_path: Path
) -> None:
    registry = pushed.registry
    gone = "sha256:" + "0" * 64
    down_host = f"127.0.0.1:{free_port()}"
    with (
        FaultyRegistry("stall-after-ping", max_stall=60) as stalled,
        FaultyRegistry("not-found") as missing,
        FaultyRegistry("unauthorized") as refusing,
    ):
        # The unreachable registries come first: the local one must still be tried.
        text = settings() + (
            "bases:\n"
            f"  down: {{image: '{down_host}/{TAG}'}}\n"
            f"  stalled: {{image: '{stalled.ref(TAG)}'}}\n"
            f"  stalled-too: {{image: '{stalled.ref(APP_TAG)}'}}\n"
            f"  missing: {{image: '{missing.ref(TAG)}'}}\n"
            f"  refusing: {{image: '{refusing.ref(TAG)}'}}\n"
            f"  py311-slim: {{image: '{registry.ref(TAG)}'}}\n"
            f"  py311-app: {{image: '{registry.ref(APP_TAG)}'}}\n"
            f"  pinned: {{image: '{registry.ref(TAG)}@{pushed.digest}'}}\n"
            f"  pinned-gone: {{image: '{registry.ref(TAG)}@{gone}'}}\n"
            "depsets:\n" + BARE + SPACY + "cells:\n  include:\n"
            "    - {base: 'py311-*', depset: spacy}\n"
            "    - {base: '*', depset: bare}\n"
        )
        run = run_matrix(tmp_path, "pulls", text)
    # Each reason, then "; no local stand-in is defined for it".
    reasons = {
        name: run.base(name)["reason"].partition(";")[0] for name in ("down", "missing", "refusing")
    }
    assert reasons == {
        "down": f"{down_host}/{TAG} cannot be pulled: {down_host} refused the connection "
        "(nothing listens there)",
        "missing": f"{missing.ref(TAG)} cannot be pulled: {missing.host} has no manifest for "
        f"{missing.ref(TAG)}",
        "refusing": f"{refusing.ref(TAG)} cannot be pulled: credentials rejected or missing for "
        f"{refusing.host}",
    }
    stalled_base = run.base("stalled")
    assert f"{stalled.host} stalled" in stalled_base["reason"], stalled_base
    assert stalled_base["pull_seconds"] < PULL_TIMEOUT + 3  # bounded, though the registry hangs
    # A registry found down is not tried again for its other bases, and says why.
    assert f"{stalled.host} stalled" in run.base("stalled-too")["reason"]
    assert "pull_seconds" not in run.base("stalled-too")
    assert run.results["run"]["registries"][stalled.host]["reachable"] is False
    assert run.results["run"]["registries"][registry.host]["reachable"] is True
    gone_reason = run.base("pinned-gone")["reason"]
    assert f"{registry.host} has no manifest for {registry.ref('library/python')}@{gone}" in (
        gone_reason
    )
    assert run.cell("pinned-gone×bare")["status"] == "unavailable"
    for name, digest in (("py311-slim", pushed.digest), ("py311-app", pushed.app_digest)):
        base = run.base(name)
        assert (base["status"], base["origin"], base["digest"]) == ("available", "pulled", digest)
        assert base["standin"] is None
    assert run.base("pinned")["digest"] == pushed.digest
    _check_spacy_cells(run)
    html = (run.out / "report.html").read_text(encoding="utf-8")
    assert f"ran on: pulled {registry.ref(TAG)}, digest {short_digest(pushed.digest)}" in html
    assert "official image" not in html
    summary = (run.out / "summary.md").read_text(encoding="utf-8")
    assert f"py311-slim (pulled {short_digest(pushed.digest)})" in summary


def _check_spacy_cells(run: Run) -> None:
    """spaCy passes on both official-layout images, found by the default `python3` (which is
    /usr/local/bin/python3 there), with apt lists removed and, on one, USER app."""
    for name, user in (("py311-slim", "root"), ("py311-app", "app")):
        cell = run.cell(f"{name}×spacy")
        assert cell["status"] == "passed", (cell["reason"], cell["steps"][-1].get("log_tail"))
        assert cell["standin"] is None
        base = run.base(name)
        assert (base["python_command"], base["user"]) == ("python3", user)
        assert base["env"]["python"]["executable"] == "/usr/local/bin/python3", base["env"]
        steps = {s["name"]: s for s in cell["steps"]}
        # Root only where root is needed; pip and the probes run as the image's own user.
        non_root = user != "root"
        assert steps["venv"].get("user") == ("0" if non_root else None)
        assert steps["pip-install"].get("user") == ("app" if non_root else None)
        assert steps["probe:smoke_spacy"].get("user") == ("app" if non_root else None)


def _rebuild(image: str) -> str:
    """The same image, rebuilt: one more label, so a new config and a new manifest."""
    tag = f"harness-test/official-layout-rebuilt:{secrets.token_hex(4)}"
    subprocess.run(
        ["docker", "build", "-q", "-t", tag, "-"],
        input=f"FROM {image}\nLABEL harness-test.rebuilt={tag}\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    return tag


def test_a_tag_moved_upstream_is_named_by_harness_diff(pushed: Pushed, tmp_path: Path) -> None:
    registry = pushed.registry
    moving = "library/python:3.11-moving"
    first_digest = registry.push(pushed.root, moving)
    text = settings() + (
        f"bases:\n  py311-slim: {{image: '{registry.ref(moving)}'}}\ndepsets:\n" + BARE
    )
    first = run_matrix(tmp_path, "night-1", text)
    rebuilt = _rebuild(pushed.root)
    try:
        second_digest = registry.push(rebuilt, moving)
        second = run_matrix(tmp_path, "night-2", text)
    finally:
        subprocess.run(["docker", "image", "rm", rebuilt], capture_output=True, check=False)
    assert first.base("py311-slim")["digest"] == first_digest != second_digest
    assert second.base("py311-slim")["digest"] == second_digest
    expected = (
        f"py311-slim ({registry.ref(moving)}): digest {short_digest(first_digest)} → "
        f"{short_digest(second_digest)} (rebuilt upstream)"
    )
    diffed = subprocess.run(
        [sys.executable, "-m", "harness", "diff", str(first.out), str(second.out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert expected in diffed.stdout, diffed.stdout + diffed.stderr
    assert expected in (second.out / "diff.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def auth_registry(pushed: Pushed) -> Iterator[LocalRegistry]:
    password = f"pw-{secrets.token_hex(12)}"
    with LocalRegistry(auth=True, password=password) as registry:
        registry.push(pushed.root, TAG)
        yield registry


def _every_file_text(folder: Path) -> Iterator[tuple[Path, str]]:
    for path in folder.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes().decode("utf-8", "replace")


def test_a_mirror_with_credentials_from_settings_keeps_the_secret_out_of_every_output(
    auth_registry: LocalRegistry, tmp_path: Path
) -> None:
    assert auth_registry.password and auth_registry.username
    host = auth_registry.host
    anonymous = tmp_path / "docker-config"
    anonymous.mkdir()
    env = {
        "DOCKER_CONFIG": str(anonymous),  # nothing from the user's own logins
        "MIRROR_LOGIN": auth_registry.username,
        "MIRROR_SECRET": auth_registry.password,
    }
    text = settings(registry_mirror=f"'{host}'") + (
        f"  registry_auth:\n    '{host}': {{username_env: MIRROR_LOGIN, password_env: "
        "MIRROR_SECRET}\n"
        "bases:\n  py311-slim: {image: 'python:3.11-slim'}\n"
        "  py311-hub: {image: 'docker.io/library/python:3.11-slim'}\n"
        "depsets:\n" + BARE
    )
    run = run_matrix(tmp_path, "mirrored", text, env)
    for name in ("py311-slim", "py311-hub"):
        base = run.base(name)
        assert base["origin"] == "pulled", base["reason"]
        assert base["pulled_reference"] == f"{host}/{TAG}"
    assert run.results["run"]["registry_mirror"] == host
    assert run.cell("py311-slim×bare")["status"] == "passed"
    assert auth_registry.password not in run.console
    for path, content in _every_file_text(run.out):
        assert auth_registry.password not in content, path
    history = run.out.parent / "history"
    for path, content in _every_file_text(history) if history.exists() else ():
        assert auth_registry.password not in content, path


def test_credentials_come_from_docker_config_and_their_absence_is_named(
    auth_registry: LocalRegistry, tmp_path: Path
) -> None:
    assert auth_registry.docker_config_dir is not None
    text = settings() + (
        f"bases:\n  py311-slim: {{image: '{auth_registry.ref(TAG)}'}}\ndepsets:\n" + BARE
    )
    logged_in = run_matrix(
        tmp_path, "logged-in", text, {"DOCKER_CONFIG": str(auth_registry.docker_config_dir)}
    )
    assert logged_in.base("py311-slim")["origin"] == "pulled", logged_in.base("py311-slim")
    anonymous = tmp_path / "anonymous"
    anonymous.mkdir()
    refused = run_matrix(tmp_path, "anonymous", text, {"DOCKER_CONFIG": str(anonymous)})
    reason = refused.base("py311-slim")["reason"]
    assert f"cannot be pulled: credentials rejected or missing for {auth_registry.host}" in reason


def test_a_missing_credential_variable_is_a_configuration_error(
    auth_registry: LocalRegistry, tmp_path: Path
) -> None:
    host = auth_registry.host
    text = settings() + (
        f"  registry_auth:\n    '{host}': {{username_env: NO_SUCH_USER_VAR, password_env: "
        "NO_SUCH_PASSWORD_VAR}\n"
        f"bases:\n  py311-slim: {{image: '{auth_registry.ref(TAG)}'}}\ndepsets:\n" + BARE
    )
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(tmp_path / "m.yaml"), "--out",
         str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "NO_SUCH_USER_VAR is not set" in done.stdout + done.stderr


def test_the_registry_serves_what_was_pushed(pushed: Pushed) -> None:
    """The fixture itself: the manifest digest the registry gives for the tag is the pushed one."""
    request = urllib.request.Request(
        f"{pushed.registry.url}/v2/library/python/manifests/3.11-slim",
        method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Docker-Content-Digest"] == pushed.digest


def test_configured_credentials_the_registry_rejects_fail_the_run(
    auth_registry: LocalRegistry, tmp_path: Path
) -> None:
    """Issue 24: a wrong password in settings.registry_auth is the user's configuration, not
    an unavailable base: exit 2 naming the host and the variables, the password nowhere."""
    host = auth_registry.host
    wrong = f"wrong-{secrets.token_hex(8)}"
    text = settings() + (
        f"  registry_auth:\n    '{host}': {{username_env: REG_LOGIN, password_env: REG_SECRET}}\n"
        f"bases:\n  py311-slim: {{image: '{auth_registry.ref(TAG)}'}}\ndepsets:\n" + BARE
    )
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    env = {"REG_LOGIN": auth_registry.username or "", "REG_SECRET": wrong}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(tmp_path / "m.yaml"), "--out",
         str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "DOCKER_CONFIG": str(tmp_path), **env},
    )  # fmt: skip
    console = done.stdout + done.stderr
    assert done.returncode == 2, console[-3000:]
    assert f"settings.registry_auth.{host}: {host} rejected the login" in console
    assert "REG_LOGIN" in console and "REG_SECRET" in console
    assert "Traceback" not in console
    assert wrong not in console


def test_a_registry_killed_mid_pull_is_named_as_a_lost_connection(docker_client: Any) -> None:
    """Issue 24: a registry that dies half-way through a layer was reported as "stalled"."""
    from harness.engine.pull import bounded_pull

    with FaultyRegistry("killed-mid-blob") as killed:
        reference = killed.ref("library/python:3.11-killed")
        outcome = bounded_pull(docker_client, reference, PULL_TIMEOUT, None)
        assert any("/blobs/" in request for request in killed.requests)  # it got that far
    assert outcome.image is None and outcome.registry_down
    assert outcome.reason is not None and "stalled" not in outcome.reason, outcome.reason
    assert f"{killed.host} closed or reset the connection during the download" in outcome.reason
    assert "the engine was retrying" in outcome.reason
