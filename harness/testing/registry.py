"""A real local image registry, and a loopback fault server, for pull tests.

`LocalRegistry` runs Debian's `docker-registry` (CNCF distribution 2.8) on 127.0.0.1 with its
storage in a temporary folder, optionally behind htpasswd basic auth, and pushes local images
into it with the docker CLI. The engine treats 127.0.0.0/8 as an insecure registry, so plain
HTTP works with no daemon configuration. `FaultyRegistry` is a tiny HTTP server on 127.0.0.1
that stalls, refuses every request with 401, answers every manifest with 404, or serves an
image and dies half-way through its layer, so pull failures can be produced on purpose.
Both are context managers that stop what they start.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Final, Literal

import yaml

REGISTRY_BINARY: Final = "docker-registry"
HTPASSWD_BINARY: Final = "htpasswd"
APT_PACKAGES: Final = ("docker-registry", "apache2-utils")
LOOPBACK: Final = "127.0.0.1"
DEFAULT_REALM: Final = "harness-registry"

# apt's words when it has no package lists yet (a fresh image or a cleaned cache).
_NO_LISTS_MARKERS: Final = ("Unable to locate package", "has no installation candidate")
_PUSH_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class RegistryConfig:
    """What goes into the registry's config file."""

    root_directory: Path
    port: int
    htpasswd_path: Path | None = None
    realm: str = DEFAULT_REALM


def render_config(config: RegistryConfig) -> str:
    """The distribution 2.x YAML config: filesystem storage with deletes allowed, loopback
    only, and htpasswd auth when a password file is given."""
    document: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {
            "filesystem": {"rootdirectory": str(config.root_directory)},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"{LOOPBACK}:{config.port}"},
    }
    if config.htpasswd_path is not None:
        document["auth"] = {"htpasswd": {"realm": config.realm, "path": str(config.htpasswd_path)}}
    return yaml.safe_dump(document, sort_keys=False)


def write_config(path: Path, config: RegistryConfig) -> Path:
    path.write_text(render_config(config), encoding="utf-8")
    return path


def htpasswd_line(username: str, password: str, htpasswd: str | None = None) -> str:
    """One bcrypt `user:$2y$...` line, the only hash distribution's htpasswd auth accepts."""
    binary = htpasswd or ensure_htpasswd_binary()
    done = subprocess.run(
        [binary, "-Bbn", username, password],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    line = done.stdout.strip()
    if done.returncode != 0 or not line.startswith(f"{username}:$2"):
        raise RuntimeError(f"htpasswd -Bbn failed ({done.returncode}): {done.stderr.strip()}")
    return line


def write_htpasswd(path: Path, username: str, password: str, htpasswd: str | None = None) -> Path:
    path.write_text(htpasswd_line(username, password, htpasswd) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def apt_lists_missing(apt_output: str) -> bool:
    """Whether an `apt-get install` failed only because `apt-get update` never ran."""
    return any(marker in apt_output for marker in _NO_LISTS_MARKERS)


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", *args], capture_output=True, text=True, timeout=600, check=False, env=env
    )


def _install_apt_packages() -> None:
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{REGISTRY_BINARY} is missing and there is no apt-get to install it")
    install = ("install", "-y", "--no-install-recommends", *APT_PACKAGES)
    done = _apt_get(*install)
    if done.returncode != 0 and apt_lists_missing(done.stdout + done.stderr):
        updated = _apt_get("update")
        if updated.returncode != 0:
            raise RuntimeError(f"apt-get update failed: {updated.stderr.strip()[-800:]}")
        done = _apt_get(*install)
    if done.returncode != 0:
        raise RuntimeError(
            f"apt-get install {' '.join(APT_PACKAGES)} failed ({done.returncode}): "
            f"{done.stderr.strip()[-800:]}"
        )


def _ensure_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        _install_apt_packages()
        found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is still not on PATH after installing {APT_PACKAGES}")
    return found


def ensure_registry_binary() -> str:
    """Path of `docker-registry`, installed with apt (with apache2-utils) when missing."""
    return _ensure_tool(REGISTRY_BINARY)


def ensure_htpasswd_binary() -> str:
    """Path of `htpasswd` (apache2-utils), installed with apt when missing."""
    return _ensure_tool(HTPASSWD_BINARY)


def _docker_cli() -> str:
    found = shutil.which("docker")
    if found is None:
        raise RuntimeError("the docker CLI is not on PATH")
    return found


def _v2_status(url: str, timeout: float) -> int | None:
    """HTTP status of GET url, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


class LocalRegistry:
    """A `docker-registry serve` process on 127.0.0.1:PORT, for the life of a `with` block.

    With auth=True it demands HTTP basic auth from an htpasswd file; `docker_config_dir` is
    then a DOCKER_CONFIG folder, logged in to this registry, that `docker --config DIR pull`
    can use (the caller's ~/.docker/config.json is never written)."""

    def __init__(
        self,
        *,
        auth: bool = False,
        username: str = "harness",
        password: str = "harness-test-password",
        startup_timeout: float = 20.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.auth = auth
        self.username: str | None = username if auth else None
        self.password: str | None = password if auth else None
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.port = 0
        self.host = ""
        self.log_path = Path()
        self.config_path = Path()
        self.docker_config_dir: Path | None = None
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._local_tags: list[str] = []

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> LocalRegistry:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        binary = ensure_registry_binary()
        self._workdir = Path(tempfile.mkdtemp(prefix="harness-registry-"))
        try:
            self._write_files()
            self._spawn(binary)
            self._wait_until_ready()
            if self.auth:
                self._login()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._untag_local_copies()
        if self._process is not None:
            self._terminate(self._process)
            self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _write_files(self) -> None:
        assert self._workdir is not None
        storage = self._workdir / "storage"
        storage.mkdir()
        htpasswd_path = None
        if self.auth:
            assert self.username is not None and self.password is not None
            htpasswd_path = write_htpasswd(self._workdir / "htpasswd", self.username, self.password)
        self.port = free_port()
        self.host = f"{LOOPBACK}:{self.port}"
        config = RegistryConfig(storage, self.port, htpasswd_path)
        self.config_path = write_config(self._workdir / "config.yml", config)
        self.log_path = self._workdir / "registry.log"

    def _spawn(self, binary: str) -> None:
        self._log_file = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [binary, "serve", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def _wait_until_ready(self) -> None:
        # 401 is the healthy answer of an auth-protected /v2/ to an anonymous client.
        healthy = {200, 401} if self.auth else {200}
        deadline = time.monotonic() + self.startup_timeout
        status: int | None = None
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited with {self._process.returncode}: {self.log_tail()}"
                )
            status = _v2_status(f"{self.url}/v2/", timeout=1.0)
            if status in healthy:
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"docker-registry on {self.host} did not answer /v2/ within "
            f"{self.startup_timeout:.0f} s (last status {status}): {self.log_tail()}"
        )

    def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=self.stop_timeout)

    # -- docker side --------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def ref(self, repo_tag: str) -> str:
        """`repo:tag` (or `repo@sha256:...`) as a reference into this registry."""
        return f"{self.host}/{repo_tag}"

    def docker_env(self) -> dict[str, str]:
        """Environment for docker CLI calls against this registry: a private DOCKER_CONFIG
        (logged in when auth is on), so the user's own config is neither read nor written."""
        assert self._workdir is not None, "the registry is not running"
        config_dir = self.docker_config_dir or self._workdir / "docker-config-anonymous"
        config_dir.mkdir(exist_ok=True)
        return {**os.environ, "DOCKER_CONFIG": str(config_dir)}

    def _docker(self, *args: str, stdin: str | None = None, timeout: float = 600) -> str:
        done = subprocess.run(
            [_docker_cli(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=self.docker_env(),
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"docker {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}"
            )
        return done.stdout

    def _login(self) -> None:
        assert self._workdir is not None and self.username is not None
        self.docker_config_dir = self._workdir / "docker-config"
        self.docker_config_dir.mkdir()
        login = ("login", self.host, "--username", self.username, "--password-stdin")
        self._docker(*login, stdin=self.password, timeout=60)

    def push(self, local_image: str, repo_tag: str) -> str:
        """Tag local_image as HOST/repo_tag, push it, and return the manifest digest."""
        target = self.ref(repo_tag)
        self._docker("tag", local_image, target, timeout=60)
        self._local_tags.append(target)
        output = self._docker("push", target)
        found = _PUSH_DIGEST.search(output)
        if found is not None:
            return found.group(1)
        return self._repo_digest(target)

    def _repo_digest(self, target: str) -> str:
        repository = _repository_of(target)
        raw = self._docker("image", "inspect", "--format", "{{json .RepoDigests}}", target)
        for entry in json.loads(raw) or []:
            name, _, digest = str(entry).partition("@")
            if name == repository and digest.startswith("sha256:"):
                return digest
        raise RuntimeError(f"no digest for {target} after the push: {raw.strip()}")

    def _untag_local_copies(self) -> None:
        # Drops only the HOST/... names this object added; the image itself stays.
        for target in self._local_tags:
            subprocess.run(
                [_docker_cli(), "image", "rm", target],
                capture_output=True,
                timeout=60,
                check=False,
            )
        self._local_tags.clear()

    def log_tail(self, size: int = 2000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return ""


def _repository_of(reference: str) -> str:
    """`host:port/name` of `host:port/name:tag` or `host:port/name@digest`."""
    name = reference.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


FaultMode = Literal["stall", "stall-after-ping", "unauthorized", "not-found", "killed-mid-blob"]
FAULT_MODES: Final[tuple[FaultMode, ...]] = (
    "stall",
    "stall-after-ping",
    "unauthorized",
    "not-found",
    "killed-mid-blob",
)
_MANIFEST_PATH = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")
_BLOB_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
MANIFEST_V2: Final = "application/vnd.docker.distribution.manifest.v2+json"
LAYER_BYTES: Final = 4 * 1024 * 1024  # the layer the "killed-mid-blob" server cuts in half


@dataclass(frozen=True)
class _Image:
    """One image to serve: a schema 2 manifest, its config and its one layer (random bytes:
    the download is cut before anything could unpack them)."""

    manifest: bytes
    blobs: dict[str, bytes]
    layer_digest: str

    @classmethod
    def make(cls) -> _Image:
        layer = os.urandom(LAYER_BYTES)
        layer_digest = _sha256(layer)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [_sha256(b"unpacked")]},
            }
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": _sha256(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": layer_digest,
                }
            ],
        }
        blobs = {_sha256(config): config, layer_digest: layer}
        return cls(json.dumps(manifest).encode(), blobs, layer_digest)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _FaultServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, mode: FaultMode, max_stall: float, seen: list[str], seen_lock: threading.Lock
    ) -> None:
        super().__init__((LOOPBACK, 0), _FaultHandler)
        self.mode: FaultMode = mode
        self.max_stall = max_stall
        self.release = threading.Event()
        self.seen = seen
        self.seen_lock = seen_lock
        self.image = _Image.make() if mode == "killed-mid-blob" else None
        self.killed = threading.Event()

    def kill(self) -> None:
        """Stop listening, as a registry process that was killed: later connections are
        refused. Called from a request's thread, never from serve_forever's."""
        self.killed.set()
        self.shutdown()
        self.server_close()


class _FaultHandler(http.server.BaseHTTPRequestHandler):
    server: _FaultServer
    protocol_version = "HTTP/1.1"
    API_HEADER: ClassVar[tuple[str, str]] = ("Docker-Distribution-API-Version", "registry/2.0")

    # Overrides BaseHTTPRequestHandler.log_message, whose signature is fixed.
    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
        return  # keep test output clean; requests are kept in server.seen instead

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_POST(self) -> None:
        self._answer(with_body=True)

    def do_PUT(self) -> None:
        self._answer(with_body=True)

    def _answer(self, *, with_body: bool) -> None:
        with self.server.seen_lock:
            self.server.seen.append(f"{self.command} {self.path}")
        mode = self.server.mode
        if mode == "stall" or (mode == "stall-after-ping" and not _is_ping(self.path)):
            self._stall()
        elif mode == "stall-after-ping":
            self._send_json(200, {}, with_body)
        elif self.server.mode == "unauthorized":
            self._unauthorized(with_body)
        elif self.server.mode == "killed-mid-blob":
            self._serve_then_die(with_body)
        else:
            self._not_found(with_body)

    def _stall(self) -> None:
        # Hold the connection open without a byte of answer, until the server stops or
        # max_stall passes, then drop it: a client only ever sees silence, then EOF.
        self.server.release.wait(self.server.max_stall)
        self.close_connection = True

    def _serve_then_die(self, with_body: bool) -> None:
        image = self.server.image
        assert image is not None
        path = self.path.split("?", 1)[0]
        blob = _BLOB_PATH.match(path)
        if _is_ping(path):
            self._send_json(200, {}, with_body)
        elif _MANIFEST_PATH.match(path):
            digest = _sha256(image.manifest)
            headers = {"Docker-Content-Digest": digest}
            self._send_bytes(image.manifest, MANIFEST_V2, with_body, headers)
        elif blob is None or blob["digest"] not in image.blobs:
            self._send_json(404, _distribution_error("BLOB_UNKNOWN", "blob unknown", None), True)
        elif blob["digest"] != image.layer_digest or not with_body:
            self._send_bytes(image.blobs[blob["digest"]], "application/octet-stream", with_body)
        else:
            # Half of the layer, then the process dies: the connection is reset (no more
            # bytes, no clean end) and nothing listens on the port any more.
            layer = image.blobs[blob["digest"]]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(layer)))
            self.send_header(*self.API_HEADER)
            self.end_headers()
            self.wfile.write(layer[: len(layer) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.server.kill()

    def _send_bytes(
        self, body: bytes, content_type: str, with_body: bool, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header(*self.API_HEADER)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def _unauthorized(self, with_body: bool) -> None:
        error = _distribution_error("UNAUTHORIZED", "authentication required", None)
        headers = {"WWW-Authenticate": 'Basic realm="harness-faulty"'}
        self._send_json(401, error, with_body, headers)

    def _not_found(self, with_body: bool) -> None:
        if _is_ping(self.path):
            self._send_json(200, {}, with_body)
            return
        manifest = _MANIFEST_PATH.match(self.path.split("?", 1)[0])
        if manifest is not None:
            detail = {"Name": manifest["name"], "Revision": manifest["reference"]}
            error = _distribution_error("MANIFEST_UNKNOWN", "manifest unknown", detail)
        else:
            error = _distribution_error("NAME_UNKNOWN", "repository name not known", None)
        self._send_json(404, error, with_body)

    def _send_json(
        self,
        status: int,
        document: dict[str, Any],
        with_body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header(*self.API_HEADER)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)


def _is_ping(path: str) -> bool:
    """The API version check every client sends first."""
    return path.split("?", 1)[0] in ("/v2/", "/v2")


def _distribution_error(code: str, message: str, detail: Any) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "detail": detail}]}


class FaultyRegistry:
    """A registry impostor on 127.0.0.1:PORT that fails in one way (see FAULT_MODES).

    "stall": accepts and reads each request, never answers; each connection is dropped after
    max_stall seconds at most, and all of them at once when the `with` block ends.
    "stall-after-ping": `/v2/` 200, then every other request stalls as above. The engine
    gives up on a silent `/v2/` by itself (about 15 s) but waits on a silent manifest
    request until the connection drops, and the docker SDK's pull has no client timeout.
    "unauthorized": 401 with `WWW-Authenticate: Basic realm=...` for every request.
    "not-found": `/v2/` 200, every manifest 404 MANIFEST_UNKNOWN, anything else 404.
    "killed-mid-blob": serves an image of one 4 MiB layer under any name and tag, sends half
    of the layer, then resets the connection and stops listening, as a registry process
    killed during a pull."""

    def __init__(self, mode: FaultMode, *, max_stall: float = 60.0) -> None:
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; expected one of {FAULT_MODES}")
        self.mode: FaultMode = mode
        self.max_stall = max_stall
        self.host = ""
        self._server: _FaultServer | None = None
        self._thread: threading.Thread | None = None
        self._seen: list[str] = []
        self._seen_lock = threading.Lock()

    def __enter__(self) -> FaultyRegistry:
        self._server = _FaultServer(self.mode, self.max_stall, self._seen, self._seen_lock)
        self.host = f"{LOOPBACK}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"faulty-registry-{self.mode}",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is None:
            return
        self._server.release.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def requests(self) -> list[str]:
        """`METHOD /path` of every request seen so far (kept after exit), in arrival order."""
        with self._seen_lock:
            return list(self._seen)

    def ref(self, repo_tag: str) -> str:
        return f"{self.host}/{repo_tag}"
