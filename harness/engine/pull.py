"""Pull an image reference from its registry, bounded in time, with a clear reason on failure.

The docker SDK sends a pull with no client timeout (``timeout=None``), so a registry that
answers ``/v2/`` and then stalls keeps ``images.pull`` open for as long as it likes. Here the
pull is streamed in a worker thread with a read timeout; the resolver waits at most
``pull_timeout``, then tells the worker to close its connection. The engine may go on
pulling in the background after that (it is the engine's download, not ours); the base is
reported unavailable either way.

References follow the engine's rules: the first path component is a registry host when
it holds a ``.`` or a ``:`` or is ``localhost``; otherwise the image is on Docker Hub
(``docker.io``, with ``library/`` for one-word names). A Docker Hub reference can be
rewritten to a mirror or pull-through cache host (``registry_mirror``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import docker
import docker.auth
import requests

from harness.engine.api import ErrorMessage, ImageInspect, ProgressDetail, PullProgress, read

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})

# Engine messages (wrapped in an HTTP 500 or a streamed "error"), and what they mean.
_UNRESOLVABLE = ("no such host", "temporary failure in name resolution", "server misbehaving")
_REFUSED = ("connection refused",)
_NO_ANSWER = ("client.timeout exceeded", "context deadline exceeded", "i/o timeout", "timeout")
_DROPPED = (": eof", "connection reset by peer")
_UNAUTHORIZED = ("no basic auth credentials", "unauthorized", "authentication required")
_NOT_FOUND = ("manifest unknown", "not found", "name unknown")
# The engine's per-layer progress words once a layer's bytes have all arrived.
_UNPACKING = ("Verifying Checksum", "Download complete", "Extracting", "Pull complete")
_MIB = 1024 * 1024


@dataclass(frozen=True)
class Reference:
    """An image reference, split as the engine splits it."""

    host: str  # "docker.io" for Docker Hub
    path: str  # "library/python"
    tag: str | None
    digest: str | None  # "sha256:..." when pinned

    @property
    def on_docker_hub(self) -> bool:
        return self.host == DOCKER_HUB

    @property
    def repository(self) -> str:
        return self.path if self.on_docker_hub else f"{self.host}/{self.path}"

    def text(self, host: str | None = None) -> str:
        """The reference to pull: a pinned digest decides alone, so the tag is left out."""
        name = f"{host}/{self.path}" if host else self.repository
        if self.digest:
            return f"{name}@{self.digest}"
        return f"{name}:{self.tag or 'latest'}"


def parse_reference(text: str) -> Reference:
    name, _, digest = text.partition("@")
    head, _, rest = name.partition("/")
    if rest and ("." in head or ":" in head or head == "localhost"):
        host, path = head, rest
    else:
        host, path = DOCKER_HUB, name
    if host in _DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    path, tag = _split_tag(path)
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return Reference(host, path, tag, digest or None)


def _split_tag(path: str) -> tuple[str, str | None]:
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        return path[: len(path) - len(last)] + last.split(":", 1)[0], last.split(":", 1)[1]
    return path, None


def pulled_reference(text: str, mirror: str | None) -> str:
    """What is actually pulled for ``text``: a Docker Hub image comes from the mirror."""
    reference = parse_reference(text)
    if mirror and reference.on_docker_hub:
        return reference.text(host=mirror)
    return reference.text() if reference.digest else text


def registry_host(text: str) -> str:
    return parse_reference(text).host


@dataclass
class PullOutcome:
    image: Any = None
    reason: str | None = None
    registry_down: bool = False  # later pulls from this host would fail the same way
    unauthorized: bool = False  # the registry refused the login sent (or asked for one)
    timed_out: bool = False  # gave up at pull_timeout; the engine may go on in the background
    progress: list[str] = field(default_factory=list)
    # What the engine's stream said of the layers: bytes received per layer, when the last
    # bytes came (time.monotonic), its last "Retrying in N seconds" (the engine lost the
    # connection and tries again) and the last layer status.
    layer_bytes: dict[str, int] = field(default_factory=dict)
    bytes_at: float | None = None
    retrying: str | None = None
    layer_status: str | None = None

    @property
    def received(self) -> str:
        """The engine's own count (coarse: it reports progress in steps)."""
        return f"the engine counted {sum(self.layer_bytes.values()) / _MIB:.1f} MiB"


def auth_header(
    client: docker.DockerClient, host: str, login: tuple[str, str] | None
) -> bytes | str | None:
    """X-Registry-Auth for host: the settings' login, else the engine's usual sources
    (DOCKER_CONFIG or ~/.docker/config.json, and their credential helpers)."""
    if login is not None:
        username, password = login
        return docker.auth.encode_header(
            {"username": username, "password": password, "serveraddress": host}
        )
    header = docker.auth.get_config_header(client.api, host)
    return header if isinstance(header, bytes | str) else None


def bounded_pull(
    client: docker.DockerClient, reference: str, timeout: float, header: bytes | str | None
) -> PullOutcome:
    """Pull reference, giving up after timeout seconds; never raises for a registry fault."""
    host = registry_host(reference)
    outcome = PullOutcome()
    cancelled = threading.Event()
    worker = threading.Thread(
        target=_stream_pull,
        args=(client, reference, timeout, header, outcome, cancelled),
        name=f"pull {reference}",
        daemon=True,  # a stalled engine stream must not keep the run alive
    )
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        cancelled.set()  # the worker closes its connection at its next line or read timeout
        # A copy: the worker may still write into its own outcome until it sees the flag.
        return replace(
            outcome,
            reason=_unfinished(host, timeout, outcome),
            registry_down=True,
            timed_out=True,
        )
    if outcome.reason is None:
        try:
            outcome.image = client.images.get(reference)
        except docker.errors.DockerException as err:
            outcome.reason = f"pulled, but the engine has no {reference}: {err}"
    return outcome


def _stream_pull(
    client: docker.DockerClient,
    reference: str,
    timeout: float,
    header: bytes | str | None,
    outcome: PullOutcome,
    cancelled: threading.Event,
) -> None:
    api = client.api
    repository, tag = _api_name(reference)
    headers = {"X-Registry-Auth": header} if header else {}
    try:
        response = api.post(
            f"{api.base_url}/v{api.api_version}/images/create",
            params={"fromImage": repository, "tag": tag},
            headers=headers,
            stream=True,
            timeout=(timeout, timeout),  # the SDK's own pull would wait forever
        )
    except requests.exceptions.RequestException as err:
        _failed(outcome, reference, None, f"engine: {err}")
        return
    with response:
        if response.status_code >= 400:
            _failed(outcome, reference, response.status_code, _message(response))
            return
        _read_progress(response, reference, outcome, cancelled)


def _read_progress(
    response: requests.Response, reference: str, outcome: PullOutcome, cancelled: threading.Event
) -> None:
    try:
        for line in response.iter_lines():
            if cancelled.is_set():
                return  # leaving the with-block closes the connection
            item = read(PullProgress, _json(line))
            if item.error is not None:
                _failed(outcome, reference, None, str(item.error))
                return
            if item.status is None:
                continue
            if item.id is None:
                outcome.progress.append(item.status)  # Digest: ..., Status: ...
            else:
                _layer_progress(outcome, item.id, item.status, item.progress_detail)
    except requests.exceptions.RequestException as err:  # the engine fell silent
        host = registry_host(reference)
        outcome.reason = f"{_unfinished(host, None, outcome)} ({_short(str(err), 160)})"
        outcome.registry_down = True


def _layer_progress(outcome: PullOutcome, layer: str, status: str, detail: ProgressDetail) -> None:
    outcome.layer_status = status
    if status == "Downloading":
        current = detail.current
        if current is not None and current > outcome.layer_bytes.get(layer, 0):
            outcome.layer_bytes[layer] = current
            outcome.bytes_at = time.monotonic()
    elif status.startswith("Retrying in"):
        outcome.retrying = status


def _unfinished(host: str, timeout: float | None, outcome: PullOutcome) -> str:
    """Why a pull stopped at pull_timeout (or the engine fell silent), from what the engine's
    progress said: a connection lost mid-download, a registry that went quiet, one that was
    still sending, or one that never sent the image at all."""
    limit = f"pull_timeout ({timeout:g} s)" if timeout is not None else "the engine's read timeout"
    if outcome.retrying:
        return (
            f"{host} closed or reset the connection during the download (the engine was "
            f'retrying: "{outcome.retrying}"), and the pull did not finish within {limit}'
        )
    if outcome.bytes_at is None:
        return f"{host} stalled: no image data within {limit}"
    if outcome.layer_status in _UNPACKING:
        return (
            f"{host} sent the layers ({outcome.received}); the engine was still unpacking "
            f"them when {limit} ran out"
        )
    quiet = time.monotonic() - outcome.bytes_at
    if timeout is not None:
        quiet = min(quiet, timeout)
        if quiet < min(5.0, timeout / 2):
            return (
                f"{host} was still sending at {limit} ({outcome.received}): raise "
                "settings.pull_timeout for a slow registry"
            )
    return (
        f"{host} sent no bytes for {quiet:.1f} s during the download ({outcome.received}); "
        f"the pull did not finish within {limit}"
    )


def _api_name(reference: str) -> tuple[str, str]:
    """fromImage and tag as the engine's /images/create takes them (a digest goes in tag)."""
    name, _, digest = reference.partition("@")
    if digest:
        return name, digest
    head, _, last = name.rpartition("/")
    if ":" in last:
        repository, tag = last.split(":", 1)
        return (f"{head}/{repository}" if head else repository), tag
    return name, "latest"


def _message(response: requests.Response) -> str:
    try:
        return read(ErrorMessage, response.json()).message or response.text
    except ValueError:
        return response.text


def _json(line: bytes) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _failed(outcome: PullOutcome, reference: str, status: int | None, message: str) -> None:
    outcome.reason, outcome.registry_down = classify(reference, status, message)
    outcome.unauthorized = is_unauthorized(status, message)
    host = registry_host(reference)
    if outcome.bytes_at is not None and outcome.registry_down and outcome.reason.startswith(host):
        # The registry answered, sent part of the image, then failed: say both.
        rest = outcome.reason[len(host) :].strip()
        outcome.reason = f"{host} went away during the download ({outcome.received}), then {rest}"


def is_unauthorized(status: int | None, message: str) -> bool:
    lowered = message.lower()
    if any(marker in lowered for marker in (*_UNRESOLVABLE, *_REFUSED)):
        return False
    return status == 401 or any(marker in lowered for marker in _UNAUTHORIZED)


def classify(reference: str, status: int | None, message: str) -> tuple[str, bool]:
    """(reason, whether the registry host itself is down) for an engine pull error."""
    host = registry_host(reference)
    lowered = message.lower()
    if any(marker in lowered for marker in _UNRESOLVABLE):
        return f"cannot resolve {host} (no such host)", True
    if any(marker in lowered for marker in _REFUSED):
        return f"{host} refused the connection (nothing listens there)", True
    if is_unauthorized(status, message):
        return f"credentials rejected or missing for {host}", False
    if any(marker in lowered for marker in _NO_ANSWER):
        return f"{host} did not answer: the engine gave up waiting ({_short(message)})", True
    if any(marker in lowered for marker in _DROPPED):
        return f"{host} dropped the connection ({_short(message)})", True
    if status == 404 or any(marker in lowered for marker in _NOT_FOUND):
        return f"{host} has no manifest for {reference}", False
    return _short(message), False


def repo_digest(image: Any, reference: str) -> str | None:
    """The manifest digest (sha256:...) the image has in the repository it was pulled from."""
    wanted = parse_reference(reference).repository
    for entry in read(ImageInspect, image.attrs).repo_digests:
        name, _, digest = entry.partition("@")
        if parse_reference(name).repository == wanted and digest.startswith("sha256:"):
            return digest
    return None


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
