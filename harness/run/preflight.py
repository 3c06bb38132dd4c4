"""Predict what a cell's pip requirements get on a base, before any container starts.

pip on the host is asked to resolve the requirements *for the base's platform*
(``--python-version --implementation --abi --platform``), in ``--dry-run`` mode, with
``--report``. Nothing is installed and nothing runs in a container.

How (at most ``MAX_ROUNDS`` rounds of two pip runs each):

1. Binary pass: a full resolution restricted to wheels (``--only-binary=:all:``, which pip
   requires together with ``--platform`` unless ``--no-deps`` is given). When it succeeds,
   every distribution pip would need has a wheel for the base.
2. Source pass: ``--no-deps`` lifts that restriction, so sdists are allowed again while the
   platform flags stay. It is run on the top-level requirements and on every requirement
   the binary pass could not satisfy (named in pip's "No matching distribution found for
   Z"). For each it tells which distribution a real install picks: a wheel, an sdist (to
   be built on the base), or none at all (with pip's reason, e.g. Requires-Python).
   A top-level requirement whose newest version is only an sdist is caught here even when
   the binary pass succeeded with an older wheel: pip prefers the newest version, not a
   wheel (no ``--prefer-binary`` in the cells).
3. When only top-level requirements needed an sdist, the binary pass is repeated with each
   such sdist replaced by its declared dependencies (``requires_dist`` from the metadata
   pip built in step 2), so their dependencies are predicted too.

Limits, stated in ``CellPrediction.notes`` when they apply:

- An sdist's dependencies are only known from its metadata, which pip builds on the host
  (an isolated build environment with the sdist's build backend, running the *host's*
  Python). Metadata that depends on the Python or platform it is built on may differ on
  the base. This executes the sdist's build hooks on the host. When that build fails
  there (numpy 2.5.5's sdist refuses the host's Python 3.11), the distribution is still
  reported as an sdist, with its version and dependencies unknown.
- When a *transitive* dependency is only an sdist, pip cannot resolve the rest of the tree
  with platform flags (it cannot be told to skip one distribution), so the distributions
  around it are not predicted.
- pip evaluates environment markers (``python_version``, ``platform_machine``...) for the
  interpreter running pip, not for the target: a dependency behind a marker may be added or
  dropped wrongly when the host's Python or machine differs from the base's.
- pip's own backtracking is replaced by rounds: a requirement that conflicts only after
  step 3 is reported as "unknown" with pip's message.
- The host's pip configuration is ignored on purpose (``PIP_CONFIG_FILE=/dev/null`` and
  ``--isolated``): the base's pip sees only PyPI and the cell's own index options.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from harness.model.pipreport import MarkerEnvironment, PipReport, PipReportError
from harness.model.results import Distribution
from harness.run.pipreport import wheel_tag

Kind = Literal["wheel", "sdist", "none"]
Status = Literal["wheels", "build", "impossible", "unknown"]

MAX_ROUNDS = 3
STDERR_LIMIT_BYTES = 64 * 1024
DEFAULT_TIMEOUT_S = 180.0
NO_WHEEL = "no wheel for this platform"
NO_DISTRIBUTION = "no distribution for this platform"

# PEP 600: glibc 2.17 is the oldest baseline on every architecture, except x86 where the
# older manylinux1 (2.5) and manylinux2010 (2.12) wheels still run.
OLDEST_GLIBC_MINOR = {"x86_64": 5, "i686": 5}
DEFAULT_OLDEST_GLIBC_MINOR = 17
# PEP 599 / PEP 571 / PEP 513 aliases, with the architectures each was defined for.
LEGACY_MANYLINUX = {
    17: ("manylinux2014", {"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"}),
    12: ("manylinux2010", {"x86_64", "i686"}),
    5: ("manylinux1", {"x86_64", "i686"}),
}
IMPLEMENTATIONS = {"cpython": "cp", "pypy": "pp", "graalpy": "graalpy"}

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# A dependency's requirement is followed by the parent that asked for it: "(from pureapp)".
_NO_MATCH = re.compile(
    r"No matching distribution found for (?P<req>\S.*?)(?: \(from (?P<parent>[^)]*)\))?\s*$",
    re.MULTILINE,
)
_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>.+?)"
    r"(?: \(from (?!versions:)[^)]*\))? \(from versions: (?P<versions>[^)]*)\)"
)
_IGNORED_PYTHON = re.compile(
    r"Ignored the following versions that require a different python version: (?P<list>.*)"
)
_IGNORED_ITEM = re.compile(r"(?P<version>\S+) Requires-Python (?P<spec>[^;]+)")
_CONFLICT = re.compile(r"Cannot install (?P<what>.+?) because these package versions")
_METADATA_FAILED = re.compile(
    r"Encountered error while generating package metadata\.\s*\S*\s*(?P<name>[A-Za-z0-9][\w.-]*)"
)
# pip's own summary lines; the build backend's message is the one that explains.
_PIP_OWN_ERRORS = ("error: subprocess-exited-with-error", "error: metadata-generation-failed")
_ERROR_LINE = re.compile(r"^ERROR: (?P<text>.+)$", re.MULTILINE)


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name."""
    return canonicalize_name(name)


def requirement_name(requirement: str) -> str:
    """Canonical project name at the start of a requirement string ("" when there is none)."""
    match = _REQUIREMENT_NAME.match(requirement)
    return canonical_name(match.group(1)) if match else ""


@dataclass(frozen=True)
class BaseFacts:
    """What pip on a base decides with: its Python, ABI, libc and machine."""

    python_version: str  # "3.13.15"
    implementation: str  # "cp"
    abi: str  # "cp313", "cp313t"
    libc_family: str  # "glibc" | "musl"
    libc_version: str  # "2.36", "1.2.6"
    machine: str  # "x86_64", "aarch64"

    @property
    def python_xy(self) -> str:
        return ".".join(self.python_version.split(".")[:2])

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values of the base (Linux; CPython or another implementation)."""
        implementation = next(
            (k for k, v in IMPLEMENTATIONS.items() if v == self.implementation), "cpython"
        )
        return {
            "python_version": self.python_xy,
            "python_full_version": self.python_version,
            "implementation_name": implementation,
            "implementation_version": self.python_version,
            "platform_python_implementation": {"cpython": "CPython", "pypy": "PyPy"}.get(
                implementation, implementation
            ),
            "platform_machine": self.machine,
            "platform_system": "Linux",
            "sys_platform": "linux",
            "os_name": "posix",
            "platform_release": "",
            "platform_version": "",
            "extra": "",
        }

    @classmethod
    def from_env_probe(cls, env: Mapping[str, object]) -> BaseFacts:
        """Facts from the ``env`` probe's JSON object (its libc, python, tags and machine);
        ValueError says what is missing or unusable."""
        try:
            probe = _EnvFacts.model_validate(env)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"env probe: {where}: {first['msg']}") from None
        libc = probe.libc or _EnvLibc()
        family, version = libc.family, libc.version
        if family not in ("glibc", "musl") or not version:
            raise ValueError(f"env probe reports no usable libc: {libc.model_dump()!r}")
        python = probe.python or _EnvPython()
        implementation = IMPLEMENTATIONS.get((python.implementation or "").lower())
        if implementation is None or not python.version or not probe.machine:
            raise ValueError("env probe lacks python.implementation, python.version or machine")
        return cls(
            python_version=python.version,
            implementation=implementation,
            abi=_abi_from_probe(python, probe.tags, implementation),
            libc_family=family,
            libc_version=version,
            machine=probe.machine,
        )


class _ProbePart(BaseModel):
    # The env probe's output as preflight reads it: lenient (other keys ignored, numbers
    # read as text), every field optional; BaseFacts says what it lacks.
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class _EnvLibc(_ProbePart):
    family: str | None = None
    version: str | None = None


class _EnvPython(_ProbePart):
    version: str | None = None
    implementation: str | None = None
    free_threaded: bool | None = None


class _EnvTags(_ProbePart):
    first: tuple[str, ...] | None = None


class _EnvFacts(_ProbePart):
    libc: _EnvLibc | None = None  # null: as good as missing
    python: _EnvPython | None = None
    tags: _EnvTags | None = None
    machine: str | None = None


def _abi_from_probe(python: _EnvPython, tags: _EnvTags | None, implementation: str) -> str:
    """The ABI of the first tag pip reported, else one derived from version and build."""
    first_tags = (tags.first if tags else None) or ()
    if first_tags and first_tags[0].count("-") == 2:
        return first_tags[0].split("-")[1]
    major, minor = str(python.version).split(".")[:2]
    threaded = "t" if python.free_threaded else ""
    return f"{implementation}{major}{minor}{threaded}"


@dataclass(frozen=True)
class IndexOptions:
    """The cell's own index options, passed through to pip."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    no_index: bool = False
    constraints: tuple[str, ...] = ()  # constraints files (-c), absolute paths

    def to_args(self) -> list[str]:
        args = ["--index-url", self.index_url] if self.index_url else []
        for path in self.constraints:
            args += ["-c", path]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for location in self.find_links:
            args += ["--find-links", location]
        for host in self.trusted_hosts:
            args += ["--trusted-host", host]
        return [*args, "--no-index"] if self.no_index else args


def _version_pair(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def platform_tags(facts: BaseFacts) -> list[str]:
    """Every platform tag pip on the base accepts, most preferred first.

    As packaging (>= 26.3) orders them: ``linux_ARCH`` first (wheels built locally or on a
    private index; PyPI refuses them), then manylinux_2_X from the base's glibc down to
    the oldest baseline with each legacy alias right after its version, or musllinux_1_X
    from the base's musl down to 0 (PEP 656).
    """
    arch = facts.machine
    tags = [f"linux_{arch}"]
    if facts.libc_family == "glibc":
        major, newest = _version_pair(facts.libc_version)
        oldest = OLDEST_GLIBC_MINOR.get(arch, DEFAULT_OLDEST_GLIBC_MINOR)
        for minor in range(newest, oldest - 1, -1):
            tags.append(f"manylinux_{major}_{minor}_{arch}")
            alias, arches = LEGACY_MANYLINUX.get(minor, ("", set()))
            if major == 2 and arch in arches:
                tags.append(f"{alias}_{arch}")
    elif facts.libc_family == "musl":
        major, newest = _version_pair(facts.libc_version)
        tags += [f"musllinux_{major}_{minor}_{arch}" for minor in range(newest, -1, -1)]
    else:
        raise ValueError(f"unknown libc family: {facts.libc_family!r}")
    return tags


def pip_args(
    facts: BaseFacts,
    requirements: Sequence[str],
    index_options: IndexOptions = IndexOptions(),
    *,
    report_path: str,
    allow_sdists: bool = False,
    cert: str | None = None,
) -> list[str]:
    """Arguments after ``python -m pip`` for one dry run resolving for the base.

    ``allow_sdists`` gives the source pass: ``--no-deps`` instead of ``--only-binary=:all:``
    (pip allows platform flags only with one of the two). ``--ignore-installed`` keeps the
    host's installed distributions out of the answer; ``--dry-run`` stands in for the
    ``--target`` that older pips asked for with platform flags.
    """
    args = ["install", "--isolated", "--dry-run", "--ignore-installed", "--quiet"]
    args += ["--report", report_path, "--progress-bar", "off"]
    args += ["--python-version", facts.python_xy, "--implementation", facts.implementation]
    args += ["--abi", facts.abi]
    for tag in platform_tags(facts):
        args += ["--platform", tag]
    args += ["--no-deps"] if allow_sdists else ["--only-binary=:all:"]
    if cert:
        args += ["--cert", cert]
    return [*args, *index_options.to_args(), *requirements]


class PredictionJSON(TypedDict):
    name: str
    version: str | None
    kind: Kind
    wheel_tag: str | None
    requested: bool
    reason: str | None


class CellPredictionJSON(TypedDict):
    """``CellPrediction.to_dict()``: preflight.json's and a cell's ``preflight`` (read back
    as model.results.Preflight)."""

    status: Status
    verdict: str
    distributions: list[PredictionJSON]
    notes: list[str]
    seconds: float
    pip_runs: int
    pip_version: str | None


class MismatchJSON(TypedDict):
    name: str
    predicted: Kind
    installed: str
    message: str


@dataclass(frozen=True)
class Prediction:
    """What one distribution comes as on the base."""

    name: str
    version: str | None
    kind: Kind
    wheel_tag: str | None = None
    requested: bool = False
    reason: str | None = None  # why there is no distribution (kind "none")

    def to_dict(self) -> PredictionJSON:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "wheel_tag": self.wheel_tag,
            "requested": self.requested,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Prediction:
        """From ``to_dict()``'s form; a ValueError (pydantic's) names a wrong field."""
        return TypeAdapter(cls).validate_python(dict(data))


@dataclass(frozen=True)
class CellPrediction:
    """The prediction for one cell's requirements on one base."""

    status: Status
    verdict: str
    distributions: tuple[Prediction, ...]
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    pip_runs: int = 0
    pip_version: str | None = None

    def to_dict(self) -> CellPredictionJSON:
        return {
            "status": self.status,
            "verdict": self.verdict,
            "distributions": [item.to_dict() for item in self.distributions],
            "notes": list(self.notes),
            "seconds": self.seconds,
            "pip_runs": self.pip_runs,
            "pip_version": self.pip_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CellPrediction:
        """From ``to_dict()``'s form (preflight.json, prepare.json): unknown keys ignored,
        missing optional ones defaulted; a ValueError (pydantic's) names a wrong field."""
        return TypeAdapter(cls).validate_python(dict(data))


def _report(report: PipReport | Mapping[str, object]) -> PipReport:
    return report if isinstance(report, PipReport) else PipReport.from_data(dict(report))


def parse_report(report: PipReport | Mapping[str, object]) -> list[Prediction]:
    """Distributions of a pip ``--report`` (format version 1), sorted by name."""
    report = _report(report)
    if report.version != "1":
        raise ValueError(f"unsupported pip report version: {report.version!r}")
    predictions = []
    for item in report.install:
        tag = wheel_tag(item.download_info.filename)
        predictions.append(
            Prediction(
                name=canonical_name(item.metadata.name),
                version=item.metadata.version,
                kind="wheel" if tag else "sdist",
                wheel_tag=tag,
                requested=item.requested,
            )
        )
    return sorted(predictions, key=lambda p: p.name)


def declared_dependencies(report: PipReport | Mapping[str, object], name: str) -> list[str]:
    """``requires_dist`` of ``name`` in a report, without the entries only its extras need."""
    for item in _report(report).install:
        if canonical_name(item.metadata.name) == canonical_name(name):
            requires = item.metadata.requires_dist
            return [req for req in requires if not re.search(r"\bextra\s*==", req)]
    return []


@dataclass(frozen=True)
class Failure:
    """A requirement pip could not satisfy, with the reason in words."""

    requirement: str
    reason: str
    needed_by: str | None = None  # the parent pip names for a dependency

    @property
    def name(self) -> str:
        return requirement_name(self.requirement)


def _requires_python_reason(stderr: str) -> str | None:
    match = _IGNORED_PYTHON.search(stderr)
    if not match:
        return None
    specs = sorted({item["spec"].strip() for item in _IGNORED_ITEM.finditer(match["list"])})
    return "the versions that would fit require a different Python (Requires-Python " + (
        " / ".join(specs) + ")"
    )


def parse_failures(stderr: str, *, binary_only: bool) -> list[Failure]:
    """The requirements pip names in "No matching distribution found for Z", with reasons.

    The Requires-Python reason is only given when pip says it ignored versions for it.
    """
    versions_by_req = {
        m["req"].strip(): m["versions"].strip() for m in _NO_VERSION.finditer(stderr)
    }
    python_reason = _requires_python_reason(stderr)
    where = NO_WHEEL if binary_only else NO_DISTRIBUTION
    failures = []
    for match in _NO_MATCH.finditer(stderr):
        requirement = match["req"].strip()
        versions = versions_by_req.get(requirement, "none")
        if python_reason:
            reason = python_reason
        elif versions == "none":
            reason = where
        else:
            newest = versions.split(", ")[-1]
            reason = f"{where} in the versions asked for (newest usable: {newest})"
        failures.append(Failure(requirement, reason, match["parent"]))
    return failures


def project_metadata(
    directory: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    python: str = sys.executable,
    cert: str | None = None,
) -> tuple[str, list[str]]:
    """``(name, requires_dist)`` of a local project, from metadata pip builds on the host
    (its build backend runs here, in an isolated environment). Raises ``ValueError`` with
    pip's reason when the metadata cannot be built."""
    cert = cert or os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")

    def args_for(report_path: str) -> list[str]:
        args = ["install", "--isolated", "--dry-run", "--ignore-installed", "--no-deps"]
        args += ["--quiet", "--progress-bar", "off", "--report", report_path]
        return [*args, *(["--cert", cert] if cert else []), directory]

    try:
        run = run_pip(python, args_for, timeout_s)
    except PipTimeout as exc:
        raise ValueError(str(exc)) from None
    items = run.report.install if run.report else ()
    if run.returncode != 0 or not items:
        raise ValueError(last_error(run.stderr))
    metadata = items[0].metadata
    return metadata.name, list(metadata.requires_dist)


def last_error(stderr: str) -> str:
    """pip's last ERROR line, or its last line."""
    conflict = _CONFLICT.search(stderr)
    if conflict:
        return f"conflicting dependencies ({conflict['what']})"
    errors = [m["text"] for m in _ERROR_LINE.finditer(stderr)]
    lines = [line for line in stderr.splitlines() if line.strip()]
    return (errors or lines or ["pip failed without a message"])[-1][:300]


@dataclass(frozen=True)
class PipRun:
    """One finished pip dry run: its exit code, the tail of stderr and the report."""

    returncode: int
    stderr: str
    report: PipReport | None


class PipTimeout(Exception):
    pass


def _pip_environment() -> dict[str, str]:
    """The host's environment without pip's own settings, and no pip configuration file."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    environment.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return environment


def _tail(path: Path, limit: int = STDERR_LIMIT_BYTES) -> str:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - limit))
        return handle.read().decode("utf-8", "replace")


def run_pip(python: str, args_for: Callable[[str], list[str]], timeout_s: float) -> PipRun:
    """Run ``python -m pip <args_for(report_path)>`` in a scratch folder, bounded in time."""
    with tempfile.TemporaryDirectory(prefix="preflight-") as scratch:
        report_path = Path(scratch, "report.json")
        stderr_path = Path(scratch, "stderr.txt")
        with stderr_path.open("wb") as stderr:
            try:
                proc = subprocess.run(
                    [python, "-m", "pip", *args_for(str(report_path))],
                    cwd=scratch,
                    env=_pip_environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    timeout=max(timeout_s, 1.0),
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise PipTimeout(f"pip did not finish within {timeout_s:.0f} s") from exc
        # A report pip could not finish, or of another shape: PipReportError, named.
        report = PipReport.from_json(report_path.read_text()) if report_path.exists() else None
        return PipRun(proc.returncode, _tail(stderr_path), report)


@dataclass
class _Session:
    """State of one prediction: the deadline, pip runs so far and what they found."""

    facts: BaseFacts
    index_options: IndexOptions
    python: str
    cert: str | None
    deadline: float
    runs: int = 0
    pip_version: str | None = None
    found: dict[str, Prediction] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sdist_dependencies: dict[str, list[str]] = field(default_factory=dict)

    def pip(self, requirements: Sequence[str], *, allow_sdists: bool) -> PipRun:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise PipTimeout("the preflight ran out of time")
        self.runs += 1

        def args_for(report_path: str) -> list[str]:
            return pip_args(
                self.facts,
                requirements,
                self.index_options,
                report_path=report_path,
                allow_sdists=allow_sdists,
                cert=self.cert,
            )

        run = run_pip(self.python, args_for, remaining)
        if run.report:
            self.pip_version = run.report.pip_version or self.pip_version
            self._note_marker_environment(run.report.environment)
        return run

    def _note_marker_environment(self, environment: MarkerEnvironment) -> None:
        host = (environment.python_version, environment.platform_machine)
        if host != (self.facts.python_xy, self.facts.machine) and not any(
            n.startswith("environment markers") for n in self.notes
        ):
            self.notes.append(
                f"environment markers were evaluated for the host's Python {host[0]} on "
                f"{host[1]}, not the base's {self.facts.python_xy} on {self.facts.machine}"
            )


def _source_pass(
    session: _Session, requirements: Sequence[str], top_level: set[str]
) -> list[Failure]:
    """Classify ``requirements`` one level deep with sdists allowed; returns the impossible.

    One pip run for all of them; when pip names requirements it cannot satisfy at all,
    those are set aside and the rest is run again.
    """
    pending = list(dict.fromkeys(requirements))
    impossible: list[Failure] = []
    while pending:
        run = session.pip(pending, allow_sdists=True)
        if run.returncode == 0 and run.report is not None:
            for prediction in parse_report(run.report):
                requested = prediction.name in top_level
                session.found[prediction.name] = _with_requested(prediction, requested)
                if prediction.kind == "sdist":
                    deps = declared_dependencies(run.report, prediction.name)
                    session.sdist_dependencies[prediction.name] = deps
            return impossible
        unbuildable = metadata_failure(run.stderr)
        if unbuildable and unbuildable in {requirement_name(r) for r in pending}:
            _record_unbuildable(session, unbuildable, run.stderr, top_level)
            pending = [r for r in pending if requirement_name(r) != unbuildable]
            continue
        failures = parse_failures(run.stderr, binary_only=False)
        failed = {f.name for f in failures}
        if not failed & {requirement_name(r) for r in pending}:
            raise _PipFailed(last_error(run.stderr))
        impossible += failures
        pending = [r for r in pending if requirement_name(r) not in failed]
    return impossible


def metadata_failure(stderr: str) -> str | None:
    """The distribution whose sdist metadata pip could not build ("╰─> NAME"), if any."""
    match = _METADATA_FAILED.search(stderr)
    return canonical_name(match["name"]) if match else None


def _record_unbuildable(session: _Session, name: str, stderr: str, top_level: set[str]) -> None:
    """An sdist whose metadata failed to build on the host: a source build, deps unknown."""
    causes = [
        line.strip()
        for line in stderr.splitlines()
        if "error:" in line.lower() and not line.startswith(_PIP_OWN_ERRORS)
    ]
    cause = causes[-1][:200] if causes else "no message"
    session.found[name] = Prediction(name, None, "sdist", requested=name in top_level)
    session.sdist_dependencies[name] = []
    session.notes.append(
        f"{name} is an sdist whose metadata could not be built on the host ({cause}); "
        "its version and dependencies are not predicted"
    )


def _with_requested(prediction: Prediction, requested: bool) -> Prediction:
    return Prediction(
        prediction.name, prediction.version, prediction.kind, prediction.wheel_tag, requested
    )


class _PipFailed(Exception):
    pass


def _binary_round(session: _Session, requirements: list[str], top_level: set[str]) -> list[str]:
    """One binary pass; returns the requirements to try next round ([] when finished)."""
    run = session.pip(requirements, allow_sdists=False)
    if run.returncode == 0 and run.report is not None:
        for prediction in parse_report(run.report):
            if session.found.get(prediction.name, prediction).kind == "wheel":
                requested = prediction.name in top_level
                session.found[prediction.name] = _with_requested(prediction, requested)
        return []
    failures = parse_failures(run.stderr, binary_only=True)
    if not failures:
        raise _PipFailed(last_error(run.stderr))
    impossible = _source_pass(session, [f.requirement for f in failures], top_level)
    parents = {f.name: f.needed_by for f in failures if f.needed_by}
    for failure in impossible:
        session.found[failure.name] = Prediction(
            failure.name, None, "none", requested=failure.name in top_level, reason=failure.reason
        )
        if failure.name in parents:
            session.notes.append(f"{failure.name} is needed by {parents[failure.name]}")
    if impossible:
        return []
    built = {f.name for f in failures}
    transitive = sorted(built - {requirement_name(r) for r in requirements})
    if transitive:
        session.notes.append(
            f"{', '.join(transitive)} must be built from source as a dependency; the "
            "distributions around it were not predicted"
        )
        return []
    next_round = [r for r in requirements if requirement_name(r) not in built]
    for name in sorted(built):
        next_round += session.sdist_dependencies.get(name, [])
    session.notes.append(
        f"dependencies of {', '.join(sorted(built))} come from sdist metadata built on the host"
    )
    return next_round


def _check_newest_top_level(
    session: _Session, requirements: Sequence[str], top_level: set[str]
) -> None:
    """Catch a top-level requirement whose newest version is an sdist (pip prefers newest)."""
    unchecked = [r for r in requirements if requirement_name(r) not in session.sdist_dependencies]
    if not unchecked:
        return
    wheels_first = dict(session.found)
    try:
        impossible = _source_pass(session, unchecked, top_level)
    except _PipFailed as exc:
        session.found = wheels_first
        session.notes.append(f"could not check for newer sdist-only versions: {exc}")
        return
    for failure in impossible:  # the binary pass found a wheel, so this should not happen
        session.notes.append(f"source pass could not find {failure.requirement}")
    for name, prediction in list(session.found.items()):
        earlier = wheels_first.get(name)
        if prediction.kind == "wheel" and earlier is not None:
            session.found[name] = earlier  # keep the tag and version of the full resolution
        elif prediction.kind == "sdist" and earlier is not None and earlier.kind == "wheel":
            session.notes.append(
                f"{name} {prediction.version or '(newest)'} is only an sdist; older "
                f"{earlier.version} has wheels, so its dependencies were predicted for that one"
            )


def _missing_phrase(prediction: Prediction) -> str:
    if prediction.reason == NO_DISTRIBUTION:
        return f"no distribution of {prediction.name} for this platform"
    return f"no distribution of {prediction.name}: {prediction.reason}"


def verdict_for(distributions: Iterable[Prediction]) -> tuple[Status, str]:
    """The status and the one-sentence verdict for a set of predictions."""
    items = list(distributions)
    missing = [p for p in items if p.kind == "none"]
    sdists = sorted(p.name for p in items if p.kind == "sdist")
    if missing:
        sentence = "cannot install: " + "; ".join(_missing_phrase(p) for p in missing)
        if sdists:
            sentence += f"; would also need a build from source of {', '.join(sdists)}"
        return "impossible", sentence
    if sdists:
        return "build", f"needs a build from source of {', '.join(sdists)}"
    return "wheels", "will install from wheels"


def run_preflight(
    facts: BaseFacts,
    requirements: Sequence[str],
    index_options: IndexOptions = IndexOptions(),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    python: str = sys.executable,
    cert: str | None = None,
) -> CellPrediction:
    """Predict ``requirements`` on the base described by ``facts`` (pip on the host).

    ``cert`` is the CA bundle for pip (the host's configuration is not read); by default
    the one named by ``PIP_CERT`` or ``SSL_CERT_FILE``. ``python`` must have pip.
    """
    started = time.monotonic()
    session = _Session(
        facts=facts,
        index_options=index_options,
        python=python,
        cert=cert or os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE"),
        deadline=started + timeout_s,
    )
    top_level = {requirement_name(r) for r in requirements}
    try:
        pending = list(requirements)
        for _round in range(MAX_ROUNDS):
            pending = _binary_round(session, pending, top_level)
            if not pending:
                break
        else:
            raise _PipFailed(f"not settled after {MAX_ROUNDS} rounds")
        if not any(p.kind == "none" for p in session.found.values()):
            _check_newest_top_level(session, requirements, top_level)
        status, verdict = verdict_for(session.found.values())
    except (_PipFailed, PipTimeout, PipReportError) as exc:
        status, verdict = "unknown", f"unknown: {exc}"
    return CellPrediction(
        status=status,
        verdict=verdict,
        distributions=tuple(sorted(session.found.values(), key=lambda p: p.name)),
        notes=tuple(session.notes),
        seconds=round(time.monotonic() - started, 3),
        pip_runs=session.runs,
        pip_version=session.pip_version,
    )


@dataclass(frozen=True)
class Mismatch:
    """A distribution that did not come the way the preflight said."""

    name: str
    predicted: Kind
    installed: str  # "wheel" | "sdist" (built from source)
    message: str

    def to_dict(self) -> MismatchJSON:
        return {
            "name": self.name,
            "predicted": self.predicted,
            "installed": self.installed,
            "message": self.message,
        }


def compare_with_install(
    prediction: CellPrediction, installed: Sequence[Distribution | Mapping[str, object]]
) -> list[Mismatch]:
    """Where the install contradicts the prediction (records: name, version, wheel, tag).

    Distributions the prediction does not name are not judged: a prediction may be partial.
    """
    predicted = {p.name: p for p in prediction.distributions}
    mismatches = []
    for each in installed:
        record = each if isinstance(each, Distribution) else Distribution.from_dict(each)
        name = canonical_name(record.name)
        expected = predicted.get(name)
        if expected is None:
            continue
        actual = "wheel" if record.wheel else "sdist"
        version = record.version
        if expected.kind == "none":
            message = f"{name}: predicted no distribution, installed {version} ({actual})"
        elif expected.kind == "wheel" and actual == "sdist":
            message = (
                f"{name}: predicted a wheel ({expected.wheel_tag}), built {version} from source"
            )
        elif expected.kind == "sdist" and actual == "wheel":
            message = f"{name}: predicted a build from source, installed {record.tag}"
        else:
            continue
        mismatches.append(Mismatch(name, expected.kind, actual, message))
    return mismatches
