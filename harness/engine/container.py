"""One throwaway container per cell, used as a context manager that always removes it.

Every step is an ``exec`` in that container: a fresh container per probe costs about
five times more here. The docker SDK's exec has no timeout, so each command is wrapped
in ``timeout`` inside the container when the base has it, and a host-side watchdog
kills the container if the command outlives its budget anyway.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Literal, Required, TypedDict

import docker
import docker.errors
import requests
from docker.models.containers import Container

from harness.engine.api import ContainerInspect, ContainerListed, ExecInspect, read

# What the SDK raises when the engine itself goes away (restart, socket gone).
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)

# What package installation needs; everything else is dropped.
INSTALL_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID", "KILL"]
WATCHDOG_GRACE = 15.0
TIMEOUT_EXIT_CODES = (124, 137)
# What one step keeps of each output stream: the head (what started it) and the tail (a
# probe's JSON line, pip's final error). Everything between is counted, not kept, so a step
# printing 200 MB costs what it costs on its own and its log stays small.
OUTPUT_HEAD_BYTES = 64 * 1024
OUTPUT_TAIL_BYTES = 1024 * 1024


class BoundedOutput:
    """One output stream, kept as head + tail with the bytes dropped between counted.

    The tail is a deque of chunks trimmed by whole chunks as it grows, so adding is O(1)
    per chunk whatever the total (the SDK's own collection concatenates bytes: quadratic).
    """

    def __init__(self, head: int = OUTPUT_HEAD_BYTES, tail: int = OUTPUT_TAIL_BYTES) -> None:
        self.head_limit = head
        self.tail_limit = tail
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        while self.tail and self.tail_size - len(self.tail[0]) >= self.tail_limit:
            self.tail_size -= len(self.tail.popleft())

    @property
    def dropped(self) -> int:
        return self.total - len(self.head) - min(self.tail_size, self.tail_limit)

    def text(self) -> str:
        tail = b"".join(self.tail)[-self.tail_limit :] if self.tail else b""
        if not self.dropped:
            return _text(bytes(self.head) + tail)
        marker = (
            f"\n[harness: {self.dropped} bytes of output dropped here; kept the first "
            f"{self.head_limit} and the last {self.tail_limit} bytes]\n"
        )
        return _text(bytes(self.head)) + marker + _text(tail)


@dataclass(frozen=True)
class Mount:
    host: str
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    name: str
    labels: Mapping[str, str]
    mounts: Sequence[Mount] = ()
    environment: Mapping[str, str] | None = None
    memory: str | None = None
    cpus: float | None = None
    network: str = "bridge"
    tmpfs: Mapping[str, str] | None = None
    keep: bool = False
    # Known from the base's env probe: saves an exec per cell. None: check in the container.
    has_timeout: bool | None = None
    # Warm mode only: removal overlaps the next cell instead of being timed with this one.
    remove_in_background: bool = False
    # "0" for an image whose USER is not root: the engine gives a non-root container's
    # processes no capabilities, so even an exec as root could not chown; run as root
    # and exec the steps that should be the image's user as that user.
    user: str | None = None
    # What keeps the container alive between execs: a runtime image may have no `sleep`
    # (harness.run.runtime keeps it up with its own python).
    entrypoint: Sequence[str] = ("sleep", "infinity")
    read_only: bool = False  # a read-only root filesystem (with a tmpfs where one is given)


@dataclass(frozen=True)
class ExecOutcome:
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    oom_killed: bool = False
    container_died: bool = False
    dropped_bytes: int = 0  # output not kept (BoundedOutput), both streams

    @property
    def output(self) -> str:
        return self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr


class RunKwargs(TypedDict, total=False):
    """The keyword arguments of docker SDK's ``containers.run`` that a cell passes."""

    image: Required[str]
    name: Required[str]
    labels: Required[dict[str, str]]
    entrypoint: Required[list[str]]
    command: Required[list[str]]
    detach: Required[Literal[True]]
    environment: Required[dict[str, str]]
    volumes: Required[dict[str, dict[str, str]]]  # host path -> {"bind": target, "mode": ro|rw}
    network: Required[str]
    cap_drop: Required[list[str]]
    cap_add: Required[list[str]]
    security_opt: Required[list[str]]
    pids_limit: Required[int]
    privileged: Required[bool]
    user: str
    tmpfs: dict[str, str]
    read_only: bool
    mem_limit: str
    memswap_limit: str
    nano_cpus: int


class CellContainer:
    def __init__(self, client: docker.DockerClient, spec: ContainerSpec) -> None:
        self.client = client
        self.spec = spec
        self.container: Container | None = None
        self._has_timeout: bool | None = False

    # -- lifecycle -----------------------------------------------------------------

    def __enter__(self) -> CellContainer:
        self.container = self.client.containers.run(**self._run_kwargs())
        self._has_timeout = self.spec.has_timeout
        if self._has_timeout is None:
            self._has_timeout = self.run_shell("command -v timeout", timeout=60).exit_code == 0
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.container is None or self.spec.keep:
            return
        if self.spec.remove_in_background:
            _BACKGROUND.submit(self.container)
        else:
            self.remove()

    def remove(self) -> None:
        if self.container is not None:
            _remove_quietly(self.container)

    def _run_kwargs(self) -> RunKwargs:
        spec = self.spec
        kwargs: RunKwargs = {
            "image": spec.image,
            "name": spec.name,
            "labels": dict(spec.labels),
            "entrypoint": list(spec.entrypoint),
            "command": [],
            "detach": True,
            "environment": dict(spec.environment or {}),
            "volumes": {
                m.host: {"bind": m.target, "mode": "ro" if m.read_only else "rw"}
                for m in spec.mounts
            },
            "network": spec.network,
            "cap_drop": ["ALL"],
            "cap_add": INSTALL_CAPABILITIES,
            "security_opt": ["no-new-privileges"],
            "pids_limit": 4096,
            "privileged": False,
        }
        if spec.user:
            kwargs["user"] = spec.user
        if spec.tmpfs:
            kwargs["tmpfs"] = dict(spec.tmpfs)
        if spec.read_only:
            kwargs["read_only"] = True
        if spec.memory:
            kwargs["mem_limit"] = spec.memory
            kwargs["memswap_limit"] = spec.memory  # no swap: an OOM is an OOM
        if spec.cpus:
            kwargs["nano_cpus"] = int(spec.cpus * 1e9)
        return kwargs

    @property
    def id(self) -> str:
        assert self.container is not None
        return str(self.container.id)

    # -- steps ---------------------------------------------------------------------

    def run_shell(
        self,
        script: str,
        timeout: float,
        environment: Mapping[str, str] | None = None,
        user: str = "",
    ) -> ExecOutcome:
        return self.exec(["sh", "-c", script], timeout, environment, user)

    def exec(
        self,
        argv: Sequence[str],
        timeout: float,
        environment: Mapping[str, str] | None = None,
        user: str = "",
    ) -> ExecOutcome:
        """Run argv as the image's default user, or as ``user`` (e.g. "0" for root)."""
        assert self.container is not None, "use CellContainer as a context manager"
        command = list(argv)
        if self._has_timeout:
            command = ["timeout", "-k", "10", str(int(max(1, timeout))), *command]
        watchdog = threading.Timer(timeout + WATCHDOG_GRACE, self._kill_on_timeout)
        watchdog.daemon = True
        started = time.monotonic()
        watchdog.start()
        out, err = BoundedOutput(), BoundedOutput()
        try:
            exit_code = self._stream_exec(command, environment, out, err, user)
        except ENGINE_ERRORS as error:
            return self._died(started, f"lost the container or the engine: {error}")
        finally:
            watchdog.cancel()
        seconds = time.monotonic() - started
        outcome = self._classify(exit_code, out.text(), err.text(), seconds, timeout)
        return replace(outcome, dropped_bytes=out.dropped + err.dropped)

    def _stream_exec(
        self,
        command: list[str],
        environment: Mapping[str, str] | None,
        out: BoundedOutput,
        err: BoundedOutput,
        user: str | None = None,
    ) -> int | None:
        """Run ``command`` (as ``user``, else the image's), reading both streams as they
        come into bounded buffers."""
        assert self.container is not None
        api = self.client.api
        exec_id = api.exec_create(
            self.container.id,
            command,
            stdout=True,
            stderr=True,
            environment=dict(environment or {}),
            user=user or "",
        )["Id"]
        for stdout_chunk, stderr_chunk in api.exec_start(exec_id, stream=True, demux=True):
            if stdout_chunk:
                out.add(stdout_chunk)
            if stderr_chunk:
                err.add(stderr_chunk)
        return read(ExecInspect, api.exec_inspect(exec_id)).exit_code

    def _classify(
        self, exit_code: int | None, stdout: str, stderr: str, seconds: float, timeout: float
    ) -> ExecOutcome:
        timed_out = exit_code in TIMEOUT_EXIT_CODES and seconds >= timeout - 1
        oom = exit_code == 137 and not timed_out and self._oom_killed()
        died = not self.running()
        if died and exit_code is None:
            timed_out = seconds >= timeout
        return ExecOutcome(exit_code, stdout, stderr, seconds, timed_out, oom, died)

    def _died(self, started: float, message: str) -> ExecOutcome:
        return ExecOutcome(None, "", message, time.monotonic() - started, container_died=True)

    def _kill_on_timeout(self) -> None:
        try:
            assert self.container is not None
            self.container.kill()
        except ENGINE_ERRORS:
            pass

    def running(self) -> bool:
        try:
            assert self.container is not None
            self.container.reload()
        except ENGINE_ERRORS:
            return False
        return read(ContainerInspect, self.container.attrs).state.running

    def _oom_killed(self) -> bool:
        """Did the kernel's OOM killer act in this container's cgroup?"""
        assert self.container is not None
        try:
            self.container.reload()
        except ENGINE_ERRORS:
            return False
        if read(ContainerInspect, self.container.attrs).state.oom_killed:
            return True
        counters = self.container.exec_run(
            [
                "sh",
                "-c",
                "cat /sys/fs/cgroup/memory/memory.oom_control "
                "/sys/fs/cgroup/memory.events 2>/dev/null",
            ],
            demux=False,
        ).output
        for line in _text(counters).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        return False

    def disconnect_network(self) -> None:
        """Cut the container off before probes, so they prove they run offline."""
        assert self.container is not None
        self.container.reload()
        for network in list(self.container.attrs["NetworkSettings"]["Networks"]):
            if network != "none":  # already offline
                self.client.networks.get(network).disconnect(self.container, force=True)

    def size_added(self) -> int | None:
        """Bytes in the container's writable layer (SDK 7.2 has no size on inspect).

        The engine leaves ``SizeRw`` out of its answer when it is 0 (the field is
        ``omitempty``), as it is for a fresh container: a listed container without it
        has an empty layer. None only when the container is not listed at all."""
        rows = self.client.api.containers(all=True, size=True, filters={"id": self.id})
        return read(ContainerListed, rows[0]).size_rw if rows else None


def _remove_quietly(container: Container) -> None:
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except ENGINE_ERRORS:
        pass  # the engine is gone or busy removing it: the next run's sweep finishes it


class _BackgroundRemovals:
    """Containers being removed while the next cell runs; waited for at session end.

    A process killed before the wait leaves them to the label sweep, like any other
    interrupted run.
    """

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, container: Container) -> None:
        thread = threading.Thread(target=_remove_quietly, args=(container,), daemon=True)
        thread.start()
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def wait(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


_BACKGROUND = _BackgroundRemovals()


def wait_for_background_removals(timeout: float = 300.0) -> None:
    _BACKGROUND.wait(timeout)


def _text(data: Any) -> str:
    return data.decode("utf-8", errors="replace") if data else ""


def shell_join(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
