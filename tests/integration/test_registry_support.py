"""Pulling an official-layout image from a real local registry, and the failures a pull can
meet, each produced on loopback: a stalled, an unauthorized and a not-found registry, and a
port nothing listens on."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.testing.registry import FaultyRegistry, LocalRegistry, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
IMAGE_CONTEXT = ROOT / "tests" / "images" / "official-layout"
STANDIN_REPOSITORY = "harness-standin/bookworm-py3.11"
REPO_TAG = "library/python:3.11-slim"
# The docker SDK's own timeout; a pull ignores it (docker-py posts /images/create with
# timeout=None), which test_a_pull_stalled_after_the_ping_waits_for_the_registry shows.
CLIENT_TIMEOUT = 3


@dataclass(frozen=True)
class OfficialLayoutImages:
    root: str
    non_root: str


def _docker_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def _newest_standin() -> str | None:
    listed = _docker_cli("images", STANDIN_REPOSITORY, "--format", "{{.Repository}}:{{.Tag}}")
    tags = [line for line in listed.stdout.split() if not line.endswith(":<none>")]
    return tags[0] if listed.returncode == 0 and tags else None  # newest first


def _build(base: str, user: str) -> str:
    """Build the official-layout Dockerfile on base; tag it by content so reruns reuse it."""
    recipe = hashlib.sha256((IMAGE_CONTEXT / "Dockerfile").read_bytes())
    recipe.update(f"{base}\0{user}".encode())
    tag = f"harness-test/official-layout:{recipe.hexdigest()[:16]}"
    # Debian's 20.10 CLI builds with BuildKit; the 28.x one here has no buildx plugin.
    cli = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
    args = ["build", "-q", "--build-arg", f"BASE={base}", "--build-arg", f"USER={user}"]
    done = subprocess.run(
        [cli, *args, "-t", tag, str(IMAGE_CONTEXT)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    assert done.returncode == 0, f"building {tag} failed:\n{done.stderr[-3000:]}"
    return tag


@pytest.fixture(scope="module")
def docker_sdk() -> Iterator[Any]:
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=CLIENT_TIMEOUT)
        client.ping()
    except Exception as error:  # any failure here means "no engine", whatever its class
        pytest.fail(f"integration tests need a Docker engine: {error}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def official_layout(docker_sdk: Any) -> OfficialLayoutImages:  # noqa: ARG001 (engine first)
    base = _newest_standin()
    if base is None:
        pytest.skip(f"no {STANDIN_REPOSITORY} stand-in image (make bases builds it)")
    return OfficialLayoutImages(root=_build(base, "root"), non_root=_build(base, "app"))


@pytest.fixture()
def anonymous_docker_env(tmp_path: Path) -> dict[str, str]:
    """A DOCKER_CONFIG with no credentials in it, whatever the user's own config holds."""
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    return {**os.environ, "DOCKER_CONFIG": str(config_dir)}


def _image_id(reference: str) -> str:
    done = _docker_cli("image", "inspect", "--format", "{{.Id}}", reference)
    assert done.returncode == 0, done.stderr
    return str(done.stdout.strip())


def _repo_digests(reference: str) -> list[str]:
    done = _docker_cli("image", "inspect", "--format", "{{json .RepoDigests}}", reference)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout) or [])


def test_official_layout_image_looks_like_slim(official_layout: OfficialLayoutImages) -> None:
    script = (
        "set -e; for tool in python3 python pip pip3; do command -v $tool; done; "
        "/usr/local/bin/python3 -c 'import pip'; "
        "! dpkg -s python3.11-venv >/dev/null 2>&1; "
        "python3 -m venv /tmp/v; /tmp/v/bin/pip --version; "
        'test -z "$(ls -A /var/lib/apt/lists)"; echo "$LANG $PYTHON_VERSION"; id -u'
    )
    done = _docker_cli("run", "--rm", "--network", "none", official_layout.root, "sh", "-c", script)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.split()
    assert lines[:4] == [f"/usr/local/bin/{name}" for name in ("python3", "python", "pip", "pip3")]
    assert "/tmp/v/lib/python3.11/site-packages/pip" in done.stdout
    assert lines[-3:] == ["C.UTF-8", "3.11.2", "0"]
    non_root = _docker_cli("run", "--rm", official_layout.non_root, "sh", "-c", "id -u; id -un")
    assert non_root.stdout.split() == ["1000", "app"], non_root.stderr


@pytest.fixture()
def flattened_image(official_layout: OfficialLayoutImages) -> Iterator[str]:
    """The root variant squashed into one layer of its own (export, then import with its
    config), so that a pull after `docker image rm` must download everything, as a first pull
    of python:3.11-slim does, instead of finding the stand-in's base layer already here."""
    config = json.loads(_docker_cli("image", "inspect", official_layout.root).stdout)[0]["Config"]
    changes = [f"ENV {entry}" for entry in config["Env"]]
    changes.append(f"CMD {json.dumps(config['Cmd'])}")
    created = _docker_cli("create", official_layout.root)
    assert created.returncode == 0, created.stderr
    container = created.stdout.strip()
    tag = f"harness-test/official-layout-flat:{container[:12]}"
    try:
        export = subprocess.Popen(["docker", "export", container], stdout=subprocess.PIPE)
        change_args = [arg for change in changes for arg in ("--change", change)]
        imported = subprocess.run(
            ["docker", "import", *change_args, "-", tag],
            stdin=export.stdout,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert export.wait(timeout=600) == 0 and imported.returncode == 0, imported.stderr
    finally:
        _docker_cli("rm", container)
    yield tag
    _docker_cli("image", "rm", tag)


def _image_gone(reference: str) -> bool:
    return _docker_cli("image", "inspect", reference).returncode != 0


def test_push_then_pull_by_tag_and_by_digest(flattened_image: str) -> None:
    original_id = _image_id(flattened_image)
    size_bytes = int(_docker_cli("image", "inspect", "--format", "{{.Size}}", original_id).stdout)
    with LocalRegistry() as registry:
        started = time.monotonic()
        digest = registry.push(flattened_image, REPO_TAG)
        push_seconds = time.monotonic() - started
        assert digest.startswith("sha256:") and len(digest) == 71
        by_tag = registry.ref(REPO_TAG)
        # Drop every local name of the image so that the pull downloads its layer again.
        removed = _docker_cli("image", "rm", by_tag, flattened_image)
        assert removed.returncode == 0 and _image_gone(original_id), removed.stderr
        started = time.monotonic()
        pulled = _docker_cli("pull", by_tag)
        pull_seconds = time.monotonic() - started
        assert pulled.returncode == 0, pulled.stderr + registry.log_tail()
        assert "Pull complete" in pulled.stdout, pulled.stdout  # downloaded, not found here
        assert _image_id(by_tag) == original_id  # the same config, so the same image
        assert _docker_cli("tag", by_tag, flattened_image).returncode == 0
        by_digest = registry.ref(f"library/python@{digest}")
        pulled = _docker_cli("pull", by_digest)
        assert pulled.returncode == 0, pulled.stderr
        assert f"{registry.host}/library/python@{digest}" in _repo_digests(by_digest)
    timings = {"size_bytes": size_bytes, "push_s": push_seconds, "cold_pull_s": pull_seconds}
    print(json.dumps({"registry_timings": timings}))


def test_auth_registry_refuses_anonymous_pulls_and_serves_logged_in_ones(
    official_layout: OfficialLayoutImages, anonymous_docker_env: dict[str, str]
) -> None:
    user_config = Path.home() / ".docker" / "config.json"
    user_config_before = user_config.read_bytes() if user_config.exists() else None
    with LocalRegistry(auth=True) as registry:
        assert registry.username and registry.password and registry.docker_config_dir
        assert _v2_status(registry.url) == 401
        digest = registry.push(official_layout.root, REPO_TAG)
        reference = registry.ref(REPO_TAG)
        assert _docker_cli("image", "rm", reference).returncode == 0
        anonymous = _docker_cli("pull", reference, env=anonymous_docker_env)
        assert anonymous.returncode != 0
        assert "no basic auth credentials" in anonymous.stderr, anonymous.stderr
        config_env = {**os.environ, "DOCKER_CONFIG": str(registry.docker_config_dir)}
        logged_in = _docker_cli("pull", reference, env=config_env)
        assert logged_in.returncode == 0, logged_in.stderr + registry.log_tail()
        assert f"{registry.host}/library/python@{digest}" in _repo_digests(reference)
        workdir = registry.docker_config_dir.parent
    assert not workdir.exists()
    assert (user_config.read_bytes() if user_config.exists() else None) == user_config_before


def test_a_stopped_registry_leaves_no_process_or_folder() -> None:
    with LocalRegistry() as registry:
        process, workdir = registry._process, registry.log_path.parent
        assert process is not None and process.poll() is None
        assert "listening on 127.0.0.1" in registry.log_tail()
    assert process.poll() is not None and not workdir.exists()
    assert _v2_status(registry.url) is None


def _v2_status(url: str, path: str = "/v2/", method: str = "GET") -> int | None:
    request = urllib.request.Request(url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


def _http(url: str, method: str = "GET", timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), dict(error.headers), error.read()


def test_unauthorized_mode_answers_401_with_a_basic_challenge() -> None:
    with FaultyRegistry("unauthorized") as faulty:
        for path in ("/v2/", "/v2/x/manifests/1"):
            status, headers, body = _http(faulty.url + path)
            assert status == 401
            assert headers["WWW-Authenticate"].startswith("Basic realm=")
            assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"


def test_not_found_mode_pings_and_answers_manifest_unknown() -> None:
    with FaultyRegistry("not-found") as faulty:
        assert _http(faulty.url + "/v2/")[0] == 200
        status, _, body = _http(faulty.url + "/v2/library/python/manifests/3.11-slim")
        error = json.loads(body)["errors"][0]
        assert status == 404 and error["code"] == "MANIFEST_UNKNOWN"
        assert error["detail"] == {"Name": "library/python", "Revision": "3.11-slim"}
        head = _http(faulty.url + "/v2/library/python/manifests/3.11-slim", method="HEAD")
        assert head[0] == 404 and head[2] == b""


def test_stall_mode_never_answers_and_stops_at_once() -> None:
    started = time.monotonic()
    with FaultyRegistry("stall", max_stall=60) as faulty:
        with pytest.raises(TimeoutError):
            _http(faulty.url + "/v2/", timeout=1)
        assert faulty.requests == ["GET /v2/"]
    assert time.monotonic() - started < 10  # the 60 s stall was cut short by the exit


def _pull_error(client: Any, reference: str) -> tuple[Exception, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        client.images.pull(reference)
    return caught.value, time.monotonic() - started


def test_a_pull_from_a_stalled_registry_fails_in_bounded_time(docker_sdk: Any) -> None:
    import docker.errors

    with FaultyRegistry("stall", max_stall=60) as faulty:
        error, seconds = _pull_error(docker_sdk, faulty.ref("x:1"))
    # The engine gives up on a silent /v2/ ping by itself, in about 15 s.
    assert seconds < 45
    assert isinstance(error, docker.errors.APIError) and error.status_code == 500
    assert f'Get "http://{faulty.host}/v2/"' in str(error.explanation)
    assert any(
        reason in str(error.explanation)
        for reason in ("Client.Timeout exceeded", "context deadline exceeded")
    ), error.explanation


def test_a_pull_stalled_after_the_ping_waits_for_the_registry(docker_sdk: Any) -> None:
    import docker.errors

    max_stall = 6.0
    with FaultyRegistry("stall-after-ping", max_stall=max_stall) as faulty:
        error, seconds = _pull_error(docker_sdk, faulty.ref("x:1"))
        seen = faulty.requests
    # Neither the engine nor the SDK's 3 s timeout ends it: only the server dropping it does.
    assert max_stall - 1 <= seconds < max_stall + 20
    assert seen[:2] == ["GET /v2/", "HEAD /v2/x/manifests/1"]
    assert isinstance(error, docker.errors.APIError) and error.status_code == 500
    assert str(error.explanation).endswith(f'Head "http://{faulty.host}/v2/x/manifests/1": EOF')


def test_a_pull_from_an_unauthorized_registry_names_missing_credentials(
    docker_sdk: Any,
) -> None:
    import docker.errors

    with FaultyRegistry("unauthorized") as faulty:
        error, seconds = _pull_error(docker_sdk, faulty.ref("x:1"))
    assert seconds < 15
    assert type(error) is docker.errors.APIError and error.status_code == 500
    assert str(error.explanation) == (
        f'Head "http://{faulty.host}/v2/x/manifests/1": no basic auth credentials'
    )


def test_a_pull_of_an_unknown_manifest_is_not_found(docker_sdk: Any) -> None:
    import docker.errors

    with FaultyRegistry("not-found") as faulty:
        error, _ = _pull_error(docker_sdk, faulty.ref(REPO_TAG))
    assert isinstance(error, docker.errors.NotFound) and error.status_code == 404
    assert str(error.explanation) == (
        f"manifest for {faulty.host}/{REPO_TAG} not found: manifest unknown: manifest unknown"
    )


def test_a_pull_from_a_closed_port_is_refused(docker_sdk: Any) -> None:
    import docker.errors

    host = f"127.0.0.1:{free_port()}"
    error, seconds = _pull_error(docker_sdk, f"{host}/x:1")
    assert seconds < 15
    assert type(error) is docker.errors.APIError and error.status_code == 500
    assert str(error.explanation).endswith(f"dial tcp {host}: connect: connection refused")
