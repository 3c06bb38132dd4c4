"""Resolve every base of the matrix to a local image, or to the reason it cannot be had.

A base is an image reference (pulled with a bounded timeout when missing), a
Dockerfile, or a local recipe built from Debian's archive. An image reference may name
a stand-in recipe, built here when the registry cannot be reached; a stand-in is never
tagged with the official name, and the report says on every cell what it stands for.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import docker
import docker.errors
import requests
from docker.models.images import Image

from harness.engine.api import ImageInspect, read
from harness.engine.build import BuildError, BuildRequest, stream_build
from harness.engine.container import ENGINE_ERRORS
from harness.engine.debootstrap import (
    DebootstrapRecipe,
    StandinBuildError,
    build_debootstrap_image,
    find_cached_image,
    image_reference,
)
from harness.engine.imagesize import image_compressed_bytes
from harness.engine.pull import (
    auth_header,
    bounded_pull,
    pulled_reference,
    registry_host,
    repo_digest,
)
from harness.model.cache import cache_root as harness_cache
from harness.model.errors import ConfigurationError
from harness.model.matrix import (
    BaseSpec,
    DebootstrapSpec,
    DockerfileSpec,
    Matrix,
    registry_login,
    resolve_ca_bundle,
)
from harness.model.probe_output import parse_probe_output

Log = Callable[[str], None]
DEBIAN_RELEASES = {
    "bookworm": "Debian 12",
    "trixie": "Debian 13",
    "forky": "Debian 14",
    "sid": "Debian unstable (sid)",
}
# Labels a debootstrap stand-in carries that say what it is (see debootstrap._recipe_labels).
INHERITED_STANDIN_LABELS = (
    "harness.standin-for",
    "harness.debian-suite",
    "harness.python",
    "harness.python-version",
    "harness.recipe-format",
    "harness.pip-version",
)
LABELS_FORMAT = "2"  # 2: inherited stand-in labels blanked
MAX_CONTEXT_HASH_BYTES = 50 * 1024 * 1024
BUILD_HTTP_TIMEOUT = 3 * 3600
# The interpreter benchmark runs once per base image and is cached by image id; past
# this it is stopped and recorded as a timeout (the budget: a minute per base).
PYBENCH_TIMEOUT_S = 60.0
# The probe's own budget, below the cap: on a busy machine it makes fewer repeats
# (and says which) instead of being killed with nothing to show.
PYBENCH_BUDGET_S = 45.0


@dataclass
class RegistryState:
    """One registry host: once a pull finds it down, its other bases are not tried. Bases
    resolve on several workers at once, so a host's pulls take turns (``lock``): the
    second waits for the first's answer instead of waiting out a dead registry too."""

    reachable: bool | None = None
    reason: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


ProbeJSON = dict[str, object]  # a probe's output: the JSON object it printed


class BaseArgEntry(TypedDict):
    """A ``base_args`` entry (results.BaseArg): the base built FROM and how it was had."""

    base: str
    image: str | None
    image_id: str | None
    origin: str | None
    standin: str | None
    reference: str | None
    digest: str | None
    base_args: dict[str, BaseArgEntry] | None  # that base's own, when it is a Dockerfile's


class ResolvedBase(TypedDict, total=False):
    """One base as the resolver records it (prepare.json's and results.json's ``bases[]``,
    typed for readers as model.results.BaseRecord). Built step by step while the base is
    found, pulled or built, so every key but the first few may still be missing."""

    name: str
    reference: str | None
    kind: str | None
    description: str | None
    standin: str | None
    standin_reason: str
    origin: str | None  # local | pulled | stand-in | dockerfile | debootstrap
    digest: str | None
    pulled_reference: str | None
    pull_seconds: float
    status: str  # available | unavailable | failed
    reason: str | None
    failure_kind: str
    image: str | None
    image_id: str | None
    python_command: str
    pip_version: str | None  # asked for; what the base ships: env.pip
    build_seconds: float
    build_log: str  # a failed Dockerfile build's log: the run moves it to logs/
    build_log_path: str
    base_args: dict[str, BaseArgEntry]  # a Dockerfile base: ARG name -> the base it names
    size_bytes: int | None
    compressed_bytes: int | None  # its layers gzip level 6, as a registry stores them
    created: str | None
    user: str | None
    env: ProbeJSON | None
    tools: object
    os: object
    libc: object
    python: object
    capabilities: ProbeJSON | None
    interpreter_speed: ProbeJSON | None


@dataclass
class Resolver:
    client: docker.DockerClient
    matrix: Matrix
    probes_dir: Path
    log: Log = print
    registries: dict[str, RegistryState] = field(default_factory=dict)
    records: dict[str, ResolvedBase] = field(default_factory=dict)
    # False: a base that would have to be built is unavailable instead (`harness preflight`
    # answers in seconds and never starts a 27-minute stand-in build on its own).
    build: bool = True
    # One resolution per base at a time: a runtime cell may ask for its builder while the
    # builder's own preparation is under way on another worker.
    _resolving: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _resolving_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def registries_reachable(self) -> bool | None:
        """For the run record: True when every registry tried answered, False when one
        did not, None when no pull was tried (each base records its own registry)."""
        tried = [state.reachable for state in self.registries.values()]
        if not tried:
            return None
        return all(tried)

    def registry_record(self) -> dict[str, dict[str, bool | str | None]]:
        return {
            host: {"reachable": state.reachable, "reason": state.reason}
            for host, state in self.registries.items()
        }

    def resolve_all(self, names: list[str] | None = None) -> dict[str, ResolvedBase]:
        for name in names or list(self.matrix.spec.bases):
            self.resolve(name)
        return self.records

    def resolve(self, name: str) -> ResolvedBase:
        with self._resolving_guard:
            lock = self._resolving.setdefault(name, threading.Lock())
        with lock:
            return self._resolve_once(name)

    def _resolve_once(self, name: str) -> ResolvedBase:
        if name not in self.records:
            spec = self.matrix.spec.bases[name]
            started = time.monotonic()
            record = self._resolve(name, spec)
            record.setdefault("build_seconds", round(time.monotonic() - started, 2))
            if record["status"] == "available":
                record.update(self._describe(record))
            self.records[name] = record
        return self.records[name]

    def _resolve(self, name: str, spec: BaseSpec) -> ResolvedBase:
        record = _empty_record(name, spec)
        try:
            if spec.image:
                return self._from_reference(record, spec)
            if spec.dockerfile:
                record["origin"] = "dockerfile"
                return self._user_build(record, name, spec.dockerfile)
            assert spec.debootstrap is not None
            record["origin"] = "debootstrap"
            record["python_command"] = spec.python or _debootstrap_python(spec.debootstrap)
            return self._available(record, *self._build_debootstrap(name, spec.debootstrap, None))
        except NotBuilt as err:
            return _unavailable(record, str(err))
        except DependencyUnavailable as err:
            return _unavailable(record, str(err))
        except (StandinBuildError, docker.errors.DockerException, BuildFailed) as err:
            return _unavailable(record, f"could not build: {err}")

    def _user_build(self, record: ResolvedBase, name: str, spec: DockerfileSpec) -> ResolvedBase:
        """The user's own Dockerfile: a failed build is a failure of the run (the user can
        fix it), not a limit of this environment; its log goes to logs/ (run/plugin)."""
        try:
            return self._available(record, *self._build_dockerfile(name, spec, record=record))
        except BuildFailed as err:
            self.log(f"[bases] {name}: FAILED to build: {err} (full log: logs/base-{name}.log)")
            record.update(
                {
                    "status": "failed",
                    "reason": f"base-build-failed: {err}",
                    "failure_kind": BASE_BUILD_FAILED,
                    "build_log": err.log,
                }
            )
            return record

    def _from_reference(self, record: ResolvedBase, spec: BaseSpec) -> ResolvedBase:
        assert spec.image is not None
        image, why_not = self._local_or_pulled(record, spec.image)
        if image is not None:
            own = pulled_reference(spec.image, self.matrix.settings.registry_mirror)
            return self._available(record, image, own)
        if spec.standin is None:
            return _unavailable(record, f"{why_not}; no local stand-in is defined for it")
        return self._standin(record, spec, why_not)

    def _standin(self, record: ResolvedBase, spec: BaseSpec, why_not: str) -> ResolvedBase:
        standin = spec.standin
        assert standin is not None and spec.image is not None
        record["standin"] = f"stand-in for {spec.image}: {_standin_text(standin)}, built locally"
        record["origin"] = "stand-in"
        record["standin_reason"] = why_not
        self.log(f"[bases] {record['name']}: {why_not}; using its stand-in")
        if standin.debootstrap:
            record["python_command"] = standin.python or _debootstrap_python(standin.debootstrap)
            built = self._build_debootstrap(record["name"], standin.debootstrap, spec.image)
        else:
            assert standin.dockerfile is not None
            record["python_command"] = standin.python or record["python_command"]
            built = self._build_dockerfile(
                record["name"], standin.dockerfile, spec.image, record=record
            )
        return self._available(record, *built)

    def _available(self, record: ResolvedBase, image: Image, own: str) -> ResolvedBase:
        """``own``: the reference harness itself pulled, found or tagged for this base."""
        record.update(
            {"status": "available", "image": _image_ref(image, own), "image_id": image.id}
        )
        return record

    # -- pulling -------------------------------------------------------------------

    def _local_or_pulled(self, record: ResolvedBase, reference: str) -> tuple[Any, str]:
        settings = self.matrix.settings
        wanted = pulled_reference(reference, settings.registry_mirror)
        if settings.pull != "always":
            try:
                image = self.client.images.get(wanted)
            except docker.errors.ImageNotFound:
                pass
            else:
                record.update({"origin": "local", "digest": repo_digest(image, wanted)})
                return image, ""
        if settings.pull == "never":
            return None, f"{wanted} is not present locally and pull is 'never'"
        host = registry_host(wanted)
        state = self.registries.setdefault(host, RegistryState())
        with state.lock:
            if state.reachable is False:
                return None, f"{wanted} cannot be pulled: {state.reason}"
            return self._pull(record, wanted, state)

    def _pull(self, record: ResolvedBase, reference: str, state: RegistryState) -> tuple[Any, str]:
        timeout = self.matrix.settings.pull_timeout
        host = registry_host(reference)
        login = self._login(host)
        header = auth_header(self.client, host, login)
        self.log(f"[bases] pulling {reference} (timeout {timeout:g} s)")
        started = time.monotonic()
        outcome = bounded_pull(self.client, reference, timeout, header)
        record["pull_seconds"] = round(time.monotonic() - started, 2)
        if login is not None and outcome.unauthorized:
            # The user's own configuration, not a limit of this environment: fail the run.
            auth = self.matrix.settings.registry_auth[host]
            raise ConfigurationError(
                f"{self.matrix.path}: settings.registry_auth.{host}: {host} rejected the login "
                f"read from {auth.username_env} and {auth.password_env} ({outcome.reason})",
                f"check the values of {auth.username_env} and {auth.password_env} (CI: its "
                "secret store) and that this login may pull the image, or remove the entry to "
                "use DOCKER_CONFIG / ~/.docker/config.json",
            )
        if outcome.image is not None:
            state.reachable = True
            digest = repo_digest(outcome.image, reference)
            record.update({"origin": "pulled", "digest": digest, "pulled_reference": reference})
            self.log(f"[bases] pulled {reference} ({digest}) in {record['pull_seconds']:g} s")
            return outcome.image, ""
        if outcome.registry_down:
            state.reachable, state.reason = False, outcome.reason
            if outcome.timed_out:
                self.log(
                    f"[bases] {reference}: {outcome.reason}; connection closed, the engine "
                    "may still finish the download in the background"
                )
        return None, f"{reference} cannot be pulled: {outcome.reason}"

    def _login(self, host: str) -> tuple[str, str] | None:
        """The settings' login for host, read from the environment variables it names."""
        return registry_login(self.matrix, host, os.environ)

    # -- building ------------------------------------------------------------------

    def _refuse_build(self, name: str, image: str) -> None:
        if not self.build:
            raise NotBuilt(
                f"{image} is not built on this machine yet (`harness bases build {name}` builds it)"
            )

    def _labels(self, name: str, standin_for: str | None, recipe: str) -> dict[str, str]:
        # An image built FROM a stand-in inherits its labels; blank the ones that would make
        # a user's image claim to be a stand-in. (Provenance itself is read from the base
        # records harness writes, never from labels, which any image can carry.)
        labels = dict.fromkeys(INHERITED_STANDIN_LABELS, "")
        labels.update({"harness.base": name, "harness.recipe": recipe})
        if standin_for:
            labels["harness.standin-for"] = standin_for
        return labels

    def _build_debootstrap(
        self, name: str, spec: DebootstrapSpec, standin_for: str | None
    ) -> tuple[Image, str]:
        """The recipe's image, cached or built, and harness's own tag of it."""
        recipe = DebootstrapRecipe(
            suite=spec.suite,
            python=spec.python,
            mirror=spec.mirror,
            extra_packages=tuple(spec.extra_packages),
            runtime_only=spec.runtime_only,
        )
        repository = f"{self.matrix.settings.standin_repository}/{spec.suite}-py{spec.python}"
        if spec.runtime_only:
            repository += "-runtime"
        cached = find_cached_image(self.client, recipe, repository)
        if cached:
            self.log(f"[bases] {name}: cached stand-in {repository} ({recipe.digest()[:16]})")
            return self.client.images.get(cached), image_reference(recipe, repository)
        self._refuse_build(name, repository)
        self.log(f"[bases] {name}: building {repository} with debootstrap (about 40-60 s)")
        labels = self._labels(name, standin_for, recipe.digest())
        image_id = build_debootstrap_image(self.client, recipe, repository, labels, log=self.log)
        return self.client.images.get(image_id), image_reference(recipe, repository)

    def _build_dockerfile(
        self,
        name: str,
        spec: DockerfileSpec,
        standin_for: str | None = None,
        *,
        record: ResolvedBase | None = None,
    ) -> tuple[Image, str]:
        """The Dockerfile's image, cached by its recipe digest or built, and its tag."""
        dockerfile = self.matrix.resolve_path(spec.path)
        context = self.matrix.resolve_path(spec.context) if spec.context else dockerfile.parent
        args = dict(spec.build_args)
        # A rebuilt dependency means a rebuild here too; so does a change of the labels set.
        identity: dict[str, str] = {"harness-labels": LABELS_FORMAT}
        for arg, other in spec.base_args.items():
            dependency = self.resolve(other)
            if record is not None:  # provenance: what it was built FROM (model/origin.py)
                record.setdefault("base_args", {})[arg] = _base_arg(other, dependency)
            if dependency["status"] != "available" and not self.build:
                raise NotBuilt(f"built from base {other!r}, which is unavailable here")
            if dependency["status"] != "available":
                raise DependencyUnavailable(f"base {other!r} (build arg {arg}) is unavailable")
            # FROM takes a reference; the image id stays in the recipe digest below.
            args[arg] = dependency["image"] or _image_id(dependency)
            identity[arg] = _image_id(dependency)
        if spec.target is not None:  # another stage is another image
            identity["harness-target"] = spec.target
        digest = _dockerfile_digest(dockerfile, context, {**args, **identity})
        tag = f"harness-build/{name}:{digest[:16]}"
        try:
            return self.client.images.get(tag), tag
        except docker.errors.ImageNotFound:
            pass
        self._refuse_build(name, tag)
        stage = f" --target {spec.target}" if spec.target else ""
        self.log(f"[bases] {name}: docker build{stage} {dockerfile} (classic builder)")
        request = BuildRequest(
            context=context,
            dockerfile=dockerfile,
            tag=tag,
            build_args=args,
            target=spec.target,
            labels=self._labels(name, standin_for, digest),
            ca_bundle=resolve_ca_bundle(self.matrix.settings, self.matrix.path.parent),
        )
        try:
            image_id, _log = stream_build(self.client, request, self._step_log(name))
        except BuildError as err:
            raise BuildFailed(err.summary, err.log) from None
        return self.client.images.get(image_id), tag

    def _step_log(self, name: str) -> Callable[[str], None]:
        return lambda line: self.log(f"[bases] {name}: building: {line}")

    # -- facts -----------------------------------------------------------------------

    def interpreter_speed(self, name: str) -> ProbeJSON | None:
        """The pybench probe's output for an available base (None when it is not).

        Once per image, cached by image id, interpreter, the probe's code and the CPU
        limit: the benchmark is as much a fact of the image as the env probe, and timing
        it again each run would add its minute to every run.
        """
        record = self.records.get(name)
        if not record or record["status"] != "available":
            return None
        settings = self.matrix.settings
        limits = f"cpus={settings.cpus} memory={settings.memory}"
        path = probe_cache_path(
            self.probes_dir,
            _image_id(record),
            record["python_command"],
            "pybench.py",
            "interpreter-speed",
            limits,
        )
        cached = _read_cache(path)
        if cached is not None:
            return cached
        self.log(f"[bases] {name}: timing the interpreter (pybench, network cut)")
        load_before = os.getloadavg()[0]
        output = self._pybench(_image_id(record), record["python_command"])
        # A cached timing is compared with others measured later: say when and how busy.
        output["measured"] = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "host_load1_max": round(max(load_before, os.getloadavg()[0]), 2),
            "host_cpus": os.cpu_count(),
        }
        if output.get("status") == "passed":
            _write_cache(path, output)
        return output

    def _pybench(self, image: str, python: str) -> ProbeJSON:
        settings = self.matrix.settings
        container = self.client.containers.run(
            image,
            [python, "/harness/probes/pybench.py", "--budget-s", str(PYBENCH_BUDGET_S)],
            entrypoint=[],
            network_mode="none",
            detach=True,
            nano_cpus=int(settings.cpus * 1e9) if settings.cpus else None,
            mem_limit=settings.memory,
            labels={"harness.probe": "pybench"},
            volumes={str(self.probes_dir): {"bind": "/harness/probes", "mode": "ro"}},
        )
        try:
            try:
                container.wait(timeout=PYBENCH_TIMEOUT_S)
            except requests.exceptions.RequestException:
                container.kill()
                return {
                    "status": "timeout",
                    "error": f"pybench did not finish within {PYBENCH_TIMEOUT_S:.0f} s",
                }
            output = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        finally:
            container.remove(force=True)
        parsed, problem = parse_probe_output(output)
        return parsed if parsed is not None else {"status": "error", "error": problem}

    def _describe(self, record: ResolvedBase) -> ResolvedBase:
        image_id, python = _image_id(record), record["python_command"]
        image = read(ImageInspect, self.client.images.get(image_id).attrs)
        env = self._cached_probe(image_id, python, ENV_PROBE)
        return {
            "size_bytes": image.size,
            "compressed_bytes": _compressed_bytes(self.client, image_id),
            "created": image.created,
            "user": image.config.user or None,
            "env": env,
            "tools": _key(env, "tools"),
            "os": _key(_key(env, "os_release"), "PRETTY_NAME"),
            "libc": _key(env, "libc"),
            "python": _key(_key(env, "python"), "version"),
            "capabilities": self._cached_probe(image_id, python, CAPABILITIES_PROBE),
        }

    def _cached_probe(self, image: str, python: str, probe: BaseProbe) -> ProbeJSON | None:
        """An image id's facts cannot change, so a passed probe is kept for the next run."""
        path = base_probe_cache_path(self.probes_dir, image, python, probe)
        cached = _read_cache(path)
        if cached is not None:
            return cached
        output = self._base_probe(image, python, probe.script)
        if output and output.get("status") == "passed":
            _write_cache(path, output)
        return output

    def _base_probe(self, image: str, python: str, script: str) -> ProbeJSON | None:
        """Run one probe on the bare image, exec-form (no shell: the image may have none),
        as the image's own user, with the network cut."""
        try:
            output = self.client.containers.run(
                image,
                [python, f"/harness/probes/{script}"],
                entrypoint=[],
                network_mode="none",
                remove=True,
                stdout=True,
                stderr=False,
                labels={"harness.probe": script.removesuffix(".py")},
                volumes={str(self.probes_dir): {"bind": "/harness/probes", "mode": "ro"}},
            )
        except docker.errors.ContainerError as err:
            return {"status": "failed", "error": _short(str(err))}
        except docker.errors.APIError as err:
            # The interpreter is not in the image (exec fails before the probe starts): a fact
            # of the base, not a crash of the run.
            return {"status": "failed", "error": _short(str(err))}
        parsed, problem = parse_probe_output(output.decode("utf-8", "replace"))
        return parsed if parsed is not None else {"status": "error", "error": problem}


@dataclass(frozen=True)
class BaseProbe:
    """A probe run once per base image: its script, the probes it imports (their code is
    part of the cache key) and the cache folder under ~/.cache/harness."""

    script: str
    imports: tuple[str, ...]
    folder: str


ENV_PROBE = BaseProbe("env.py", (), "base-facts")
CAPABILITIES_PROBE = BaseProbe("capabilities.py", ("env.py", "pybench.py"), "base-capabilities")


def base_probe_cache_path(probes_dir: Path, image_id: str, python: str, probe: BaseProbe) -> Path:
    """The cache file of a base probe; an edit of the probe or of what it imports re-probes."""
    imported = hashlib.sha256()
    for name in probe.imports:
        source = probes_dir / name
        imported.update(source.read_bytes() if source.is_file() else b"-")
    extra = imported.hexdigest() if probe.imports else ""
    return probe_cache_path(probes_dir, image_id, python, probe.script, probe.folder, extra)


def env_cache_path(probes_dir: Path, image_id: str, python: str) -> Path:
    """Keyed by image id, interpreter and the probe's own code, so an edit re-probes."""
    return base_probe_cache_path(probes_dir, image_id, python, ENV_PROBE)


def probe_cache_path(
    probes_dir: Path, image_id: str, python: str, probe: str, folder: str, extra: str = ""
) -> Path:
    """``~/.cache/harness/<folder>/<key>.json`` for a probe's output on one image."""
    digest = hashlib.sha256(f"{image_id}\0{python}".encode())
    for name in (probe, "_common.py"):
        source = probes_dir / name
        digest.update(source.read_bytes() if source.is_file() else b"-")
    digest.update(extra.encode())
    return harness_cache() / folder / f"{digest.hexdigest()[:24]}.json"


def _compressed_bytes(client: docker.DockerClient, image_id: str) -> int | None:
    """The image's layers as a registry stores them (engine/imagesize.py), cached by id."""
    if not hasattr(client, "api"):  # a client without the low-level API (a test double)
        return None
    try:
        return image_compressed_bytes(client, image_id, harness_cache())[0]
    except (*ENGINE_ERRORS, tarfile.TarError, OSError):
        return None


def _read_cache(path: Path) -> ProbeJSON | None:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _write_cache(path: Path, output: ProbeJSON) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(output), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # a read-only home only costs the next run the probe again


# The failure kind of a user's Dockerfile base that did not build.
BASE_BUILD_FAILED = "base-build-failed"


class NotBuilt(Exception):
    pass


class BuildFailed(Exception):
    """A Dockerfile base whose build failed: the summary line, and the whole build log."""

    def __init__(self, summary: str, log: str = "") -> None:
        super().__init__(summary)
        self.log = log


class DependencyUnavailable(Exception):
    """A Dockerfile base built FROM another base that could not be had."""


def _dockerfile_reference(spec: DockerfileSpec) -> str:
    """How a Dockerfile base is named to a reader: its path, and the stage when one is built."""
    return spec.path + (f", stage {spec.target}" if spec.target else "")


def _empty_record(name: str, spec: BaseSpec) -> ResolvedBase:
    return {
        "name": name,
        "reference": spec.image
        or (_dockerfile_reference(spec.dockerfile) if spec.dockerfile else None),
        "kind": spec.kind,
        "description": spec.description,
        "standin": None,
        "origin": None,
        "digest": None,
        "pulled_reference": None,
        "status": "unavailable",
        "reason": None,
        "image": None,
        "image_id": None,
        "python_command": spec.python or "python3",
        "pip_version": spec.pip_version,  # asked for; what the base ships: env.pip
    }


def _base_arg(name: str, dependency: ResolvedBase) -> BaseArgEntry:
    """A ``base_args`` entry (results.BaseArg): the base built FROM and how it was had."""
    return {
        "base": name,
        "image": dependency.get("image"),
        "image_id": dependency.get("image_id"),
        "origin": dependency.get("origin"),
        "standin": dependency.get("standin"),
        "reference": dependency.get("reference"),
        "digest": dependency.get("digest"),
        "base_args": dependency.get("base_args"),
    }


def _unavailable(record: ResolvedBase, reason: str) -> ResolvedBase:
    record.update({"status": "unavailable", "reason": reason})
    return record


def _image_id(record: ResolvedBase) -> str:
    """The image of an available base (its callers have checked the status)."""
    image_id = record["image_id"]
    assert image_id is not None, f"base {record['name']} has no image"
    return image_id


def _key(value: object, key: str) -> object:
    """``value[key]`` of a probe's JSON object; None when it is not one or lacks the key."""
    return value.get(key) if isinstance(value, dict) else None


def _standin_text(standin: Any) -> str:
    if standin.description:
        return str(standin.description)
    if standin.debootstrap:
        release = DEBIAN_RELEASES.get(
            standin.debootstrap.suite, f"Debian {standin.debootstrap.suite}"
        )
        text = f"{release} + Debian's python{standin.debootstrap.python}"
        if standin.debootstrap.runtime_only:
            text += " only, FROM scratch (no shell, apt or pip; user 65532)"
        return text
    return f"built from {standin.dockerfile.path}"


def _debootstrap_python(spec: DebootstrapSpec) -> str:
    """The interpreter a recipe's image runs: a runtime-only image has it at /usr/bin only."""
    return f"/usr/bin/python{spec.python}" if spec.runtime_only else f"python{spec.python}"


def _image_ref(image: Any, own: str) -> str:
    """The base's image as harness names it: the reference harness itself pulled, found or
    tagged when the image carries it, else its id; never another tag of the same image id,
    which anyone may have added (a push to a registry, a team's own name for it)."""
    names = {
        _normal_ref(str(t)) for t in [*image.tags, *(image.attrs or {}).get("RepoDigests", [])]
    }
    return own if _normal_ref(own) in names else str(image.id)


def _normal_ref(reference: str) -> str:
    """``python`` → ``python:latest``; ``docker.io/library/python:3`` → ``python:3``."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if reference.startswith(prefix):
            reference = reference.removeprefix(prefix)
            break
    last = reference.rsplit("/", 1)[-1]
    if "@" not in reference and ":" not in last:
        reference += ":latest"
    return reference


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dockerfile_digest(dockerfile: Path, context: Path, args: dict[str, str]) -> str:
    digest = hashlib.sha256(dockerfile.read_bytes())
    digest.update(json.dumps(args, sort_keys=True).encode())
    total = 0
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        total += path.stat().st_size
        if total > MAX_CONTEXT_HASH_BYTES:
            digest.update(b"large-context")  # the builder's own cache still applies
            break
        digest.update(str(path.relative_to(context)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
