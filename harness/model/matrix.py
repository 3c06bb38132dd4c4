"""Load and validate matrix.yaml, and expand it into cells.

Every error names the file, the key path and the fix, and is raised before any
container starts (``ConfigurationError``, exit 2).
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue

from harness.model.baserefs import stage_names
from harness.model.errors import ConfigurationError
from harness.model.ids import DEFAULT_INSTALLER, cell_id
from harness.model.keyword import KeywordExpression
from harness.model.project_files import check_project_files
from harness.model.redaction import mask_userinfo

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
# Defaults (README "Time limits"): an install may build from source for many minutes;
# a probe is a smoke test that answers in seconds to a few minutes.
DEFAULT_INSTALL_TIMEOUT = 1800.0
DEFAULT_PROBE_TIMEOUT = 600.0
PROBES_DIR = Path(__file__).resolve().parent.parent / "probes"  # shipped as package data


MAX_TIMEOUT = 86_400.0  # one day: a longer limit on one step is a typo, not a build


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Invalid(ValueError):
    """A validator's refusal with its fix; the loader shows both (pydantic keeps the error)."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.fix = fix


# -- values the engine would refuse later, checked at load ---------------------------------

# The docker SDK's memory syntax (docker.utils.parse_bytes): a number, then b/k/m/g, an
# optional trailing b ("6g", "6GB", "512m", "1.5g"); the engine refuses less than 6 MB.
_MEMORY = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<unit>[bkmgBKMG]?)[bB]?$")
_MEMORY_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
MIN_MEMORY_BYTES = 6 << 20
MEMORY_FIX = "give a size such as 512m, 2g or 6g (b, k, m, g: docker's syntax), or null"


def memory_bytes(value: str) -> int:
    """The bytes a memory limit names; ``Invalid`` when the engine would refuse it."""
    found = _MEMORY.match(value)
    if found is None:
        raise Invalid(f"{value!r} is not a memory size", MEMORY_FIX)
    size = int(float(found["number"]) * _MEMORY_UNITS[found["unit"].lower()])
    if size < MIN_MEMORY_BYTES:
        raise Invalid(
            f"{value!r} is {size} bytes; the engine refuses a limit under 6 MiB", MEMORY_FIX
        )
    return size


def _memory(value: str | None) -> str | None:
    if value is not None:
        memory_bytes(value)
    return value


# The Debian suites a debootstrap stand-in can be built from, known without the network: the
# suites deb.debian.org/debian/dists/ served when checked (2026-12-04, each Release file
# fetched; `experimental` is left out: it is not a whole suite), each codename with the one
# python3.X Debian ships in it (None: testing and unstable change theirs), then the aliases.
DEBIAN_SUITES: dict[str, str | None] = {
    "bullseye": "3.9",
    "bookworm": "3.11",
    "trixie": "3.13",
    "forky": None,
    "sid": None,
}
DEBIAN_SUITE_ALIASES = ("oldoldstable", "oldstable", "stable", "testing", "unstable")
# Released suites moved to archive.debian.org (404 on deb.debian.org): only with a mirror
# that still serves them.
ARCHIVED_DEBIAN_SUITES: dict[str, str | None] = {"buster": "3.7", "stretch": "3.5"}
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"


def known_suites() -> list[str]:
    return [*DEBIAN_SUITES, *DEBIAN_SUITE_ALIASES, *ARCHIVED_DEBIAN_SUITES]


def _suite(value: str) -> str:
    if value not in known_suites():
        raise Invalid(
            f"{value!r} is not a Debian suite",
            did_you_mean(value, known_suites()) + f"use one of: {', '.join(known_suites())}",
        )
    return value


# The installers a cell can measure: pip (`python -m pip install`) and uv (`uv pip install`).
Installer = Literal["pip", "uv"]
INSTALLERS: tuple[str, ...] = ("pip", "uv")
UvIndexStrategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]
# How a runtime base gets its builder's environment (harness.run.runtime).
RuntimeCopy = Literal["auto", "venv", "site-packages"]


def _default_installers() -> list[Installer]:
    return ["pip"]  # ids.DEFAULT_INSTALLER, as the Literal type wants it


def _unique_installers(value: list[str] | None) -> list[str] | None:
    if value is not None and len(set(value)) != len(value):
        raise Invalid("an installer is named twice", "name each installer once, e.g. [pip, uv]")
    return value


PIP_VERSION_FIX = (
    "give a pip release such as 24.0, or a specifier such as '>=24,<25' or '~=24.2' "
    "(PEP 440), or leave it out to keep the pip the base's venv brings"
)
PIP_VERSION_DESCRIPTION = (
    "pip installed into each cell's venv (from the same indexes) before the install, and "
    "recorded: a release such as 24.0 or a PEP 440 specifier such as '>=24,<25'; "
    "default: the pip the base's `python -m venv` brings"
)


def pip_version_text(value: str | None) -> str | None:
    """A ``pip_version`` setting checked: a PEP 440 version or a non-empty specifier set."""
    if value is None:
        return None
    text = value.strip()
    try:
        Version(text)
        return text
    except InvalidVersion:
        pass
    try:
        if text and SpecifierSet(text):
            return text
    except InvalidSpecifier:
        pass
    raise Invalid(f"{value!r} is neither a pip version nor a version specifier", PIP_VERSION_FIX)


def _pip_version(value: str | None) -> str | None:
    return pip_version_text(value)


HOST_PATTERN = r"^[A-Za-z0-9.-]+(:[0-9]+)?$"


class RegistryAuth(Strict):
    """A registry login read from the environment at run time, never from matrix.yaml."""

    username_env: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the environment variable holding the username",
    )
    password_env: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the environment variable holding the password or token",
    )


class ScannerSettings(Strict):
    """An offline vulnerability scanner run over each SBOM the run writes (sbom/index.json)."""

    name: Literal["trivy", "grype"] = Field(description="which scanner: trivy or grype")
    db: str = Field(
        description="the scanner's database folder (trivy: its --cache-dir, holding "
        "db/trivy.db; grype: its GRYPE_DB_CACHE_DIR), relative to matrix.yaml; nothing is "
        "downloaded, so without it the SBOMs are reported as not scanned"
    )
    binary: str | None = Field(
        None, description="path to the scanner's program; default: found on PATH"
    )


class Settings(Strict):
    """Run-wide settings; every one can be left out."""

    jobs: int = Field(2, ge=1, description="cells run at once")
    timeout: float | None = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT,
        description="sets both install_timeout and probe_timeout (seconds)",
    )
    install_timeout: float = Field(
        DEFAULT_INSTALL_TIMEOUT,
        gt=0,
        le=MAX_TIMEOUT,
        description="limit of each install step, seconds",
    )
    probe_timeout: float = Field(
        DEFAULT_PROBE_TIMEOUT,
        gt=0,
        le=MAX_TIMEOUT,
        description="limit of each probe (smoke test), seconds",
    )

    @property
    def timeouts(self) -> Timeouts:
        """The run-wide limits: ``timeout`` sets both unless one is given on its own."""
        return _run_timeouts(self)

    memory: str | None = Field(
        "6g", description="container memory limit (docker syntax: 512m, 6g; at least 6m), or null"
    )
    cpus: float | None = Field(
        2.0, ge=0.01, description="container CPU limit (at least 0.01, the engine's step), or null"
    )
    _memory_valid = field_validator("memory")(_memory)
    repeat: int = Field(1, ge=1, description="runs per cell, for a spread of timings")
    pull: Literal["auto", "never", "always"] = Field(
        "auto", description="auto: pull an image reference when it is not local"
    )
    pull_timeout: float = Field(
        60,
        gt=0,
        le=MAX_TIMEOUT,
        description="seconds one pull may take, from the request to the last layer",
    )
    registry_mirror: str | None = Field(
        None,
        pattern=HOST_PATTERN,
        description="HOST[:PORT] of a Docker Hub mirror or pull-through cache: python:3.12-slim, "
        "library/... and docker.io/... are pulled from there",
    )
    registry_auth: dict[str, RegistryAuth] = Field(
        default_factory=dict,
        description="HOST[:PORT] -> the environment variables holding its username and password",
    )
    ca_bundle: str | None = Field(
        "auto",
        description="CA bundle mounted into containers for pip/requests/ssl: a path, "
        "'auto' (the host's bundle when present) or null",
    )
    wheelhouses: list[str] = Field(
        default_factory=list,
        description="directories mounted read-only and given to pip as --find-links",
    )
    extra_index_urls: list[str] = Field(
        default_factory=list, description="pip's --extra-index-url, for every install"
    )
    index_url: str | None = Field(
        None, description="pip's --index-url, for every install (default: pip's own, PyPI)"
    )
    install_network: str = Field("bridge", description="docker network for install steps")
    model_dir: str | None = Field(
        None, description="host directory with pretrained weights, mounted read-only for probes"
    )
    extra_probes_dir: str | None = Field(
        None, description="a folder of your own probes, searched after harness's probes/"
    )
    standin_repository: str = Field(
        "harness-standin",
        pattern=r"^[a-z0-9][a-z0-9._/-]*$",
        description="the local repository name stand-in images are tagged under",
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="extra environment for every step"
    )
    installers: list[Installer] = Field(
        default_factory=lambda: _default_installers(),
        min_length=1,
        description="installers measured for each depset with pip requirements: pip cells "
        "keep the id base×depset, a uv cell is base×depset+uv",
    )
    uv_version: str | None = Field(
        None,
        pattern=r"^[0-9][0-9A-Za-z.+!-]*$",
        description="uv release fetched from PyPI once per run (default: the newest)",
    )
    pip_version: str | None = Field(None, description=PIP_VERSION_DESCRIPTION)
    read_only: bool = Field(
        False,
        description="runtime cells (bases with a builder) run with a read-only root "
        "filesystem and a tmpfs on /tmp, as hardened deployments do",
    )
    uv_index_strategy: UvIndexStrategy = Field(
        "unsafe-best-match",
        description="uv's --index-strategy; unsafe-best-match is what pip does across "
        "indexes and find-links (uv's own default is first-index)",
    )
    uv_source_index_url: str | None = Field(
        None,
        description="the index the harness fetches the uv wheel from on the host "
        "(pip download --index-url); default: pip's own index (PyPI)",
    )

    _installers_unique = field_validator("installers")(_unique_installers)
    _pip_version_valid = field_validator("pip_version")(_pip_version)
    secrets: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] = Field(
        default_factory=list,
        description="names of environment variables (of `env` or the host's) whose values are "
        "secret: masked as *** in every output",
    )
    history_dir: str | None = Field(
        None,
        description="folder of the run history (relative to the matrix file); default "
        "reports/history for runs in reports/, else <run dir>/history",
    )
    preflight: bool = Field(
        True,
        description="before the cells, predict each cell's pip install (wheel, build from "
        "source or no distribution) and report where the install contradicts it",
    )
    scanner: ScannerSettings | None = Field(
        None,
        description="vulnerability scanner for the SBOMs (optional); without it every SBOM "
        "is reported as not scanned, never as 0 vulnerabilities",
    )


class DebootstrapSpec(Strict):
    suite: str = Field(
        description=f"a Debian suite: {', '.join(DEBIAN_SUITES)} or an alias "
        f"({', '.join(DEBIAN_SUITE_ALIASES)}); {' and '.join(ARCHIVED_DEBIAN_SUITES)} only "
        "with a mirror that still serves them (archive.debian.org)"
    )
    python: str = Field(pattern=r"^3\.\d+$", description="Debian's pythonX.Y to install")
    mirror: str = Field(
        DEFAULT_DEBIAN_MIRROR, description="the Debian archive debootstrap and apt read from"
    )
    extra_packages: list[str] = Field(
        default_factory=list, description="more Debian packages installed into the stand-in"
    )

    runtime_only: bool = Field(
        False,
        description="a distroless-like runtime: only pythonX.Y, its libraries, CA bundle and"
        " tzdata, FROM scratch; no shell, apt or pip; user 65532; /usr/bin/pythonX.Y",
    )
    _suite_known = field_validator("suite")(_suite)

    @field_validator("python")
    @classmethod
    def _python_of_suite(cls, value: str, info: ValidationInfo) -> str:
        suite = info.data.get("suite")
        shipped = {**DEBIAN_SUITES, **ARCHIVED_DEBIAN_SUITES}.get(str(suite))
        if shipped is not None and value != shipped:
            raise Invalid(
                f"Debian {suite} ships Python {shipped}, not {value}",
                f'use python: "{shipped}", or a suite that ships {value}',
            )
        return value

    @model_validator(mode="after")
    def _suite_on_mirror(self) -> DebootstrapSpec:
        if self.suite in ARCHIVED_DEBIAN_SUITES and self.mirror.rstrip("/") == (
            DEFAULT_DEBIAN_MIRROR
        ):
            raise Invalid(
                f"suite {self.suite!r} is no longer on {DEFAULT_DEBIAN_MIRROR} "
                "(Debian moved it to archive.debian.org)",
                "set `mirror: http://archive.debian.org/debian`, or use one of: "
                + ", ".join([*DEBIAN_SUITES, *DEBIAN_SUITE_ALIASES]),
            )
        return self


class DockerfileSpec(Strict):
    path: str = Field(description="the Dockerfile, relative to the matrix file")
    context: str | None = Field(None, description="build context; default: the Dockerfile's folder")
    build_args: dict[str, str] = Field(default_factory=dict, description="docker build --build-arg")
    base_args: dict[str, str] = Field(
        default_factory=dict,
        description="build arg -> name of another base whose image it receives",
    )
    target: str | None = Field(
        None,
        description="the stage to build (docker build --target), e.g. the build stage of a "
        "multi-stage Dockerfile to name as another base's builder; default: the last stage",
    )


class StandinSpec(Strict):
    description: str | None = Field(None, description="what the stand-in is, for the report")
    debootstrap: DebootstrapSpec | None = Field(
        None, description="recipe: a Debian suite and its pythonX.Y, built with debootstrap"
    )
    dockerfile: DockerfileSpec | None = Field(None, description="recipe: a Dockerfile of yours")
    python: str | None = Field(None, description="interpreter command inside the stand-in")

    @model_validator(mode="after")
    def _one_recipe(self) -> StandinSpec:
        if (self.debootstrap is None) == (self.dockerfile is None):
            raise Invalid(
                "a stand-in needs exactly one of 'debootstrap' or 'dockerfile'",
                "keep one recipe: debootstrap (a Debian suite) or dockerfile (a file of yours)",
            )
        return self


class BaseSpec(Strict):
    image: str | None = Field(None, description="an image reference, used as it is")
    dockerfile: DockerfileSpec | None = Field(None, description="a base built from your Dockerfile")
    debootstrap: DebootstrapSpec | None = Field(
        None, description="a base built from Debian's archive (a stand-in, always labelled)"
    )
    standin: StandinSpec | None = Field(
        None, description="built locally when `image` cannot be had"
    )
    python: str | None = Field(None, description="interpreter command; default python3 / pythonX.Y")
    description: str | None = Field(None, description="what the base is, for the report")
    pip_version: str | None = Field(
        None, description="this base's pip_version (default: settings.pip_version)"
    )
    builder: str | None = Field(
        None,
        description="another base of this matrix: this base is then a runtime (the depset is "
        "installed in the builder and copied here, as a multi-stage build does)",
    )
    copy_mode: RuntimeCopy = Field(
        "auto",
        alias="copy",
        description="a runtime's copy from its builder: venv, site-packages, or auto (the "
        "venv when the runtime has the builder's python path, else site-packages)",
    )
    read_only: bool | None = Field(
        None,
        description="a runtime's cells with a read-only root filesystem and a tmpfs on /tmp "
        "(default: settings.read_only)",
    )

    _pip_version_valid = field_validator("pip_version")(_pip_version)

    @model_validator(mode="after")
    def _one_source(self) -> BaseSpec:
        given = [k for k in ("image", "dockerfile", "debootstrap") if getattr(self, k) is not None]
        if len(given) != 1:
            raise Invalid(
                "a base needs exactly one of 'image', 'dockerfile' or 'debootstrap' "
                f"(got {', '.join(given) or 'none'})",
                "keep one source; for an image with a local fallback, give `image` and "
                "put the recipe under `standin`",
            )
        if self.standin is not None and self.image is None:
            raise Invalid(
                "'standin' only goes with 'image'",
                "move the recipe out of `standin` (it is the base itself), or give `image`",
            )
        if self.builder is None and (self.read_only is not None or self.copy_mode != "auto"):
            raise Invalid(
                "'read_only' and 'copy' apply to a runtime base only",
                "name the base the depsets are installed in with `builder:`, or remove them",
            )
        return self

    @property
    def kind(self) -> str:
        return "image" if self.image else "dockerfile" if self.dockerfile else "debootstrap"


class LimitRule(Strict):
    """A pip/apt log pattern that means 'this cannot be had here', not 'this base fails'."""

    pattern: str = Field(description="a regular expression searched in the step's log")
    reason: str = Field(description="the reason shown for the cell (status unavailable)")
    bases: list[str] = Field(
        default_factory=lambda: ["*"], description="glob patterns of the bases it applies to"
    )

    def applies_to(self, base: str) -> bool:
        return any(fnmatch.fnmatchcase(base, pattern) for pattern in self.bases)

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as err:
            raise Invalid(
                f"not a valid regular expression: {err}",
                "write a Python regular expression; escape literal characters such as ( [ . +",
            ) from None
        return value


class ProjectSpec(Strict):
    path: str = Field(description="folder with pyproject.toml, relative to the matrix file")
    extras: list[str] = Field(default_factory=list, description="installed as DIR[extra,...]")


# What `tests.artifacts` copies at most per cell (run/artifacts.py): a suite that writes
# gigabytes must not fill the run directory.
ARTIFACTS_MAX_BYTES = 50 << 20
ARTIFACTS_MAX_FILES = 1000


class SuiteSpec(Strict):
    command: str = Field(
        min_length=1, description="run in a writable copy of `source`, the venv first on PATH"
    )
    junit: bool = Field(
        False,
        description="read the JUnit XML the command writes: pytest gets "
        "--junitxml=$HARNESS_JUNIT_XML appended, any other command writes that file itself",
    )
    network: bool = Field(False, description="keep the network during the tests (cut by default)")
    artifacts: list[str] = Field(
        default_factory=list,
        description="globs of files the suite writes (relative to `source`, `**` for any "
        "depth), copied into the run dir's artifacts/ after it ran, passed or not: at most "
        f"{ARTIFACTS_MAX_FILES} files and {ARTIFACTS_MAX_BYTES // (1 << 20)} MiB per cell",
    )

    @field_validator("artifacts")
    @classmethod
    def _relative_globs(cls, value: list[str]) -> list[str]:
        for glob in value:
            parts = glob.replace("\\", "/").split("/")
            if not glob.strip() or glob.startswith("/") or ".." in parts:
                raise Invalid(
                    f"{glob!r} is not a glob inside the project's folder",
                    "give a relative glob such as 'reports/*.html' or '**/coverage.xml' "
                    "(no leading /, no ..)",
                )
        return value


class DepsetSpec(Strict):
    description: str | None = Field(None, description="what the depset is, for the report")
    requirements: list[str] = Field(
        default_factory=list,
        description="requirements files (pip -r: includes, constraints and hashes honoured), "
        "relative to the matrix file",
    )
    project: ProjectSpec | None = Field(
        None, description="a pyproject.toml project, installed as `pip install DIR[extras]`"
    )
    lockfile: str | None = Field(
        None,
        description="uv.lock, poetry.lock or pylock.toml, exported on the host to pinned "
        "requirements with hashes",
    )
    source: str | None = Field(None, description="the project's folder, mounted read-only")
    tests: SuiteSpec | None = Field(None, description="the project's own test command")
    system: dict[Literal["apt", "apk"], list[str]] = Field(
        default_factory=dict, description="system packages per package-manager family"
    )
    pip: list[str] = Field(default_factory=list, description="pip requirements")
    pip_args: list[str] = Field(default_factory=list, description="extra pip install arguments")
    imports: list[str] = Field(default_factory=list, description="modules the import probe times")
    probes: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(
        default_factory=list,
        description="smoke probes: names of files in probes/ (or extra_probes_dir), no paths",
    )
    timeout: float | None = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT,
        description="this depset's install and probe timeouts, both (seconds)",
    )
    install_timeout: float | None = Field(
        None, gt=0, le=MAX_TIMEOUT, description="this depset's install limit"
    )
    probe_timeout: float | None = Field(
        None, gt=0, le=MAX_TIMEOUT, description="this depset's probe limit"
    )
    environment_limits: list[LimitRule] = Field(
        default_factory=list,
        description="log patterns that mean 'cannot be had here' (unavailable), not a failure",
    )
    installers: list[Installer] | None = Field(
        None, min_length=1, description="this depset's installers (default: settings.installers)"
    )

    _installers_unique = field_validator("installers")(_unique_installers)


class CellSelector(Strict):
    base: str = Field("*", description="glob over the base names")
    depset: str = Field("*", description="glob over the depset names")
    installer: str = Field("*", description="glob over the installers (pip, uv)")

    def matches(self, base: str, depset: str, installer: str = DEFAULT_INSTALLER) -> bool:
        return (
            fnmatch.fnmatchcase(base, self.base)
            and fnmatch.fnmatchcase(depset, self.depset)
            and fnmatch.fnmatchcase(installer, self.installer)
        )


class ExpectedFailure(CellSelector):
    reason: str = Field(description="why the cells are expected to fail, shown in every document")
    link: str | None = Field(None, description="an issue or page about it")


class CellOverride(CellSelector):
    timeout: float | None = Field(
        None, gt=0, le=MAX_TIMEOUT, description="these cells' install and probe timeouts, both"
    )
    install_timeout: float | None = Field(
        None, gt=0, le=MAX_TIMEOUT, description="these cells' install limit, seconds"
    )
    probe_timeout: float | None = Field(
        None, gt=0, le=MAX_TIMEOUT, description="these cells' probe limit, seconds"
    )
    repeat: int | None = Field(None, ge=1, description="these cells' runs")
    memory: str | None = Field(None, description="this cell's memory limit (docker syntax)")
    install_network: str | None = Field(None, description="docker network for installs")

    _memory_valid = field_validator("memory")(_memory)
    tmpfs: dict[str, str] | None = Field(
        None, description="tmpfs mounts, path -> options (e.g. a small /tmp to test a full disk)"
    )


class CellsSpec(Strict):
    """Which base × depset cells run, and what is special about some of them."""

    include: list[CellSelector] = Field(
        default_factory=list, description="only these cells (default: every combination)"
    )
    exclude: list[CellSelector] = Field(default_factory=list, description="not these cells")
    expected_failures: list[ExpectedFailure] = Field(
        default_factory=list,
        description="cells known to fail: a failure is expected, a pass is reported",
    )
    overrides: list[CellOverride] = Field(
        default_factory=list, description="settings for some cells (the last match wins)"
    )


# The drivers a decision block names (analysis/decision.py measures each one).
Driver = Literal[
    "compatibility", "tests", "support", "vulnerabilities", "size", "pull_size",
    "install_time", "speed",
]  # fmt: skip
MUST_DRIVERS: tuple[Driver, ...] = ("compatibility", "tests")
PREFERRED_DRIVERS: tuple[Driver, ...] = ("vulnerabilities", "size", "speed")


class DecisionSpec(Strict):
    """How the documents pick an option: the drivers that must hold, then the preferences
    in order; the verdicts follow from it mechanically and the block is shown beside them."""

    baseline: str | None = Field(
        None, description="the base in use today, compared with every other; default: the first"
    )
    must: list[Driver] = Field(
        default_factory=lambda: list(MUST_DRIVERS),
        json_schema_extra={"default": list(MUST_DRIVERS)},  # shown in the reference, not []
        description="drivers a candidate must hold: compatibility (every dependency set that "
        "passes on some option passes), tests (the team's suite passes), support (Python and "
        "OS release under security support), vulnerabilities (within max_critical/max_high)",
    )
    prefer: list[Driver] = Field(
        default_factory=lambda: list(PREFERRED_DRIVERS),
        json_schema_extra={"default": list(PREFERRED_DRIVERS)},
        description="then, in this order, the first that tells the options apart picks one: "
        "vulnerabilities (fewer critical, then high), size (smaller image), pull_size "
        "(smaller compressed image), install_time, speed (faster interpreter)",
    )
    min_size_change_percent: float = Field(
        5.0, ge=0, le=100, description="a size difference smaller than this is no difference"
    )
    min_time_change_percent: float = Field(
        10.0, ge=0, le=1000, description="a time difference smaller than this is no difference"
    )
    max_critical: int = Field(
        0, ge=0, description="with must: vulnerabilities, at most this many critical"
    )
    max_high: int | None = Field(
        None, ge=0, description="with must: vulnerabilities, at most this many high (null: any)"
    )

    @field_validator("must", "prefer")
    @classmethod
    def _once(cls, value: list[Driver]) -> list[Driver]:
        if len(set(value)) != len(value):
            raise Invalid("a driver is named twice", "name each driver once")
        return value


class MatrixSpec(Strict):
    version: Literal[1] = Field(1, description="the format of this file")
    settings: Settings = Field(default_factory=Settings, description="run-wide settings")
    bases: dict[str, BaseSpec] = Field(
        description="base images by name (lower-case letters, digits, . _ -)"
    )
    depsets: dict[str, DepsetSpec] = Field(
        description="dependency sets by name: each runs on every base"
    )
    cells: CellsSpec = Field(
        default_factory=CellsSpec, description="selection, expected failures, overrides"
    )
    decision: DecisionSpec = Field(
        default_factory=DecisionSpec,
        description="the team's decision drivers: the baseline, what must hold, preferences",
    )


@dataclass(frozen=True)
class Timeouts:
    """Seconds each install step and each probe may take. Separate, because a smoke
    test's sensible limit (a minute) would kill a slow source build."""

    install: float
    probe: float

    def then(self, layer: DepsetSpec | CellOverride) -> Timeouts:
        """These limits with a depset's or an override's on top (specific beats general)."""
        both = layer.timeout
        return Timeouts(
            install=layer.install_timeout or both or self.install,
            probe=layer.probe_timeout or both or self.probe,
        )


@dataclass(frozen=True)
class Cell:
    base: str
    depset: str
    timeouts: Timeouts
    repeat: int
    memory: str | None
    expected_failure: ExpectedFailure | None
    install_network: str = "bridge"
    tmpfs: tuple[tuple[str, str], ...] = ()
    installer: str = DEFAULT_INSTALLER

    @property
    def id(self) -> str:
        return cell_id(self.base, self.depset, self.installer)


@dataclass(frozen=True)
class Matrix:
    path: Path
    sha256: str
    spec: MatrixSpec
    cells: tuple[Cell, ...]
    # The line of each key path in the file (as loaded), for errors found after loading.
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def settings(self) -> Settings:
        return self.spec.settings

    def problem(self, loc: Iterable[Any], what: str, fix: str) -> ConfigurationError:
        """A configuration error at key path ``loc`` of this matrix: file, line, key, fix
        (for what can only be checked at run time, e.g. a login variable not set)."""
        return _Locator(self.path, dict(self.lines)).problem(loc, what, fix)

    def select(self, keyword: str | None) -> tuple[Cell, ...]:
        """The cells a ``-k`` expression picks (all with none): each word is a
        case-insensitive substring of the cell id (which holds its base, its depset and a
        ``+uv``) or of its installer's name (so ``-k pip`` picks the pip cells), never of
        the matrix file's name (``-k hang`` must not pick every cell of hang.yaml)."""
        if not keyword:
            return self.cells
        expression = KeywordExpression.compile(keyword)
        return tuple(c for c in self.cells if expression.matches_text(f"{c.id} {c.installer}"))

    def resolve_path(self, value: str) -> Path:
        """Paths in matrix.yaml are relative to the matrix file."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.path.parent / path).resolve()


# -- loading -----------------------------------------------------------------------


MAX_MATRIX_BYTES = 1 << 20  # 1 MiB: a real matrix is a few KiB (this repo's: under 5)
MAX_YAML_NODES = 20_000  # nodes after alias expansion; matrix.yaml has about 400
MAX_QUOTED_CHARS = 400  # of the user's input quoted in one error message


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML silently keeps the last of two equal keys; a matrix must not. And an alias
    bomb (a few lines whose aliases expand to billions of nodes) is refused after
    composing, before anything is constructed or validated."""

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node


def _check_expanded_size(root: yaml.Node) -> None:
    """Count the nodes the document would have with every alias expanded, without
    expanding it: each distinct node's count is computed once (aliases share nodes)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > MAX_YAML_NODES:
                raise ConfigurationError(
                    f"the document expands to more than {MAX_YAML_NODES} YAML nodes "
                    "(aliases `*name` repeat what they point at)",
                    "write the matrix without nested aliases; a matrix needs a few hundred nodes",
                    line=node.start_mark.line + 1,
                )
        elif key not in sizes:
            if key in on_path:
                raise ConfigurationError(
                    "an alias refers to a node containing it",
                    "remove the recursive alias",
                    line=node.start_mark.line + 1,
                )
            on_path.add(key)
            stack.append((node, True))
            stack += [(c, False) for c in _children(node) if id(c) not in sizes]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise ConfigurationError(
                f"a mapping key must be a plain name, not {type(key).__name__}",
                "write keys as plain names (e.g. `jobs:`), not lists or mappings",
                line=key_node.start_mark.line + 1,
            ) from None
        if key in seen:
            raise ConfigurationError(
                f"duplicate key {key!r}",
                "give every base, depset and setting a unique name",
                line=key_node.start_mark.line + 1,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


MAX_PROBLEMS = 50  # listed by one `harness validate`; more are counted


def load_matrix(path: Path | str, probes_dir: Path = PROBES_DIR) -> Matrix:
    """The matrix at ``path``, checked whole before any container starts.

    ``ConfigurationError`` (exit 2) lists every problem found at once, each with the file,
    its line, the key and the fix: first every problem of the file's shape (types, unknown
    keys, values the engine or Debian's archive would refuse), then, once the shape is
    right, every reference and file it names. Messages quote a bounded part of the input
    and never a URL's credentials.
    """
    path = Path(path)
    text = _read(path)
    data, lines = _parse_yaml(path, text)
    return _checked(path, data, lines, hashlib.sha256(text.encode()).hexdigest(), probes_dir)


def matrix_from_data(data: Any, path: Path, probes_dir: Path = PROBES_DIR) -> Matrix:
    """A matrix built in memory (``harness check``), checked as ``load_matrix`` checks a
    file; ``path`` is where its relative paths start (no file need be there), its sha256
    that of its canonical JSON."""
    text = json.dumps(data, sort_keys=True, default=str)
    return _checked(Path(path), data, {}, hashlib.sha256(text.encode()).hexdigest(), probes_dir)


def _checked(path: Path, data: Any, lines: Lines, sha: str, probes_dir: Path) -> Matrix:
    where = _Locator(path, lines)
    spec, problems = _validate(where, data)
    matrix = None
    if spec is not None:
        extra = spec.settings.extra_probes_dir
        probe_dirs = [probes_dir, *([path.parent / extra] if extra else [])]
        problems += _check_references(where, spec, probe_dirs)
        matrix = Matrix(path=path.resolve(), sha256=sha, spec=spec, cells=())
        problems += _check_files(where, matrix)
    else:
        problems += _check_sound_depsets(where, data, probes_dir)
    if problems or matrix is None:
        # In the order of the file (problems in other files, e.g. requirements, after).
        problems.sort(key=lambda p: (p.file != str(path), p.line or 0))
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(
                where.problem(
                    (),
                    f"{len(problems) - MAX_PROBLEMS} more problem(s) not listed",
                    "fix these first",
                )
            )
        raise ConfigurationError.of(shown)
    cells = tuple(expand_cells(matrix.spec))
    return Matrix(matrix.path, matrix.sha256, matrix.spec, cells, lines)


def _quotable(text: str) -> str:
    """Cap what an error message repeats of the user's input, and mask URL credentials."""
    text = mask_userinfo(text)
    if len(text) <= MAX_QUOTED_CHARS:
        return text
    return f"{text[:MAX_QUOTED_CHARS]}… ({len(text)} characters, cut)"


Lines = dict[tuple[str, ...], int]


@dataclass(frozen=True)
class _Locator:
    """Turns a key path into a located problem: the file, the line of the key (or of the
    nearest enclosing key the YAML has, for a missing one) and the dotted key."""

    path: Path
    lines: Lines

    def problem(self, loc: Iterable[Any], what: str, fix: str | None) -> ConfigurationError:
        parts = tuple(str(part) for part in loc)
        line = next(
            (self.lines[parts[:n]] for n in range(len(parts), -1, -1) if parts[:n] in self.lines),
            None,
        )
        return ConfigurationError(
            _quotable(what),
            _quotable(fix) if fix else None,
            file=self.path,
            line=line,
            key=_quotable(".".join(parts)) if parts else None,
        )

    def prefixed(self, *prefix: str) -> Callable[[Iterable[Any], str, str], ConfigurationError]:
        return lambda loc, what, fix: self.problem((*prefix, *loc), what, fix)

    def bounded(self, err: ConfigurationError) -> ConfigurationError:
        """An error raised elsewhere (another file's line), with its quotes bounded."""
        return ConfigurationError(
            _quotable(err.message),
            _quotable(err.fix) if err.fix else None,
            file=err.file,
            line=err.line,
            key=_quotable(err.key) if err.key else None,
        )


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_MATRIX_BYTES:
            raise _too_big(path)
        with path.open(encoding="utf-8") as stream:
            text = stream.read(MAX_MATRIX_BYTES + 1)  # bounded even if the file grows meanwhile
    except FileNotFoundError:
        raise ConfigurationError(
            "no such matrix file", "pass the path of a matrix.yaml (see matrix.yaml)", file=path
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(
            _quotable(f"cannot read: {err}"), "check the file", file=path
        ) from None
    if len(text) > MAX_MATRIX_BYTES:
        raise _too_big(path)
    return text


def _too_big(path: Path) -> ConfigurationError:
    return ConfigurationError(
        f"larger than the matrix size limit of {MAX_MATRIX_BYTES} bytes (1 MiB)",
        "a matrix names bases and depsets; keep data (wheels, probes, requirements) in files",
        file=path,
    )


def _parse_yaml(path: Path, text: str) -> tuple[Any, Lines]:
    """The document and the line of each key path in it (PyYAML's node marks)."""
    loader = None
    try:
        loader = _UniqueKeyLoader(text)  # its reader refuses control characters at once
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except ConfigurationError as err:
        raise ConfigurationError(
            _quotable(err.message), err.fix, file=path, line=err.line
        ) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = " ".join(str(part) for part in (err.context, err.problem) if part)
        raise ConfigurationError(
            _quotable(f"not valid YAML: {what}"),
            "fix the YAML syntax",
            file=path,
            line=None if mark is None else mark.line + 1,
        ) from None
    except yaml.YAMLError as err:
        raise ConfigurationError(
            _quotable(f"not valid YAML: {err}"), "fix the YAML syntax", file=path
        ) from None
    except (ValueError, TypeError, LookupError, AttributeError, RecursionError) as err:
        # PyYAML's constructors raise these for a malformed typed scalar (`!!int x`, a date
        # such as 2024-13-45), int() past 4300 digits, its composer for very deep nesting.
        raise ConfigurationError(
            _quotable(f"not valid YAML: {type(err).__name__}: {str(err)[:200]}"),
            "fix the value (quote it to keep it as text) or the YAML syntax",
            file=path,
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"the top level must be a mapping (got {type(data).__name__})",
            "start from matrix.yaml: keys settings, bases, depsets, cells",
            file=path,
            line=1,
        )
    assert node is not None
    return data, _line_index(node)


def _line_index(root: yaml.Node) -> Lines:
    """Key path -> line (1-based) of the key, or of the item in a list. Aliases are walked
    where they are used (the node count is bounded by _check_expanded_size)."""
    lines: Lines = {(): root.start_mark.line + 1}
    stack: list[tuple[tuple[str, ...], yaml.Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            pairs = [(str(k.value), k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
        elif isinstance(node, yaml.SequenceNode):
            pairs = [(str(index), item, item) for index, item in enumerate(node.value)]
        else:
            continue
        for name, marked, child in pairs:
            lines.setdefault((*path, name), marked.start_mark.line + 1)
            stack.append(((*path, name), child))
    return lines


def _validate(where: _Locator, data: Any) -> tuple[MatrixSpec | None, list[ConfigurationError]]:
    try:
        return MatrixSpec.model_validate(data), []
    except ValidationError as err:
        return None, [_pydantic_problem(where, error) for error in err.errors()]


def _pydantic_problem(where: _Locator, error: Any) -> ConfigurationError:
    """One of pydantic's errors as the user's key, line, message and fix."""
    loc = _key_parts(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    refusal = ctx.get("error")
    if isinstance(refusal, Invalid):
        return where.problem(loc, str(refusal), refusal.fix)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        return where.problem(
            loc,
            "unknown key",
            f"did you mean {close[0]!r}?"
            if close
            else (f"the keys here are: {', '.join(allowed)}" if allowed else "remove this key"),
        )
    # pydantic names the model class ("... or instance of DecisionSpec"): not a user's word.
    message = re.sub(r" or instance of \w+$", "", str(error["msg"]).removeprefix("Value error, "))
    return where.problem(loc, message, _fix_for(error))


def _key_parts(loc: Iterable[Any]) -> tuple[str, ...]:
    # pydantic puts validator names (e.g. 'function-after[...]') and '[key]' in loc; hide them.
    return tuple(
        str(p) for p in loc if not str(p).startswith(("function-", "literal[")) and p != "[key]"
    )


def _allowed_keys(loc: Iterable[str]) -> list[str]:
    """The keys the mapping at ``loc`` may have (the fields of its model), or []."""
    current: Any = MatrixSpec
    for part in [*loc, None]:
        current = _unwrap(current)
        if part is None:
            break
        if isinstance(current, type) and issubclass(current, BaseModel):
            known = current.model_fields.get(part)
            current = None if known is None else known.annotation
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` and ``Annotated[X, ...]`` -> ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else annotation
            if len(options) != 1:
                return annotation
        else:
            return annotation


def _fix_for(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    got = error.get("input")
    if kind == "missing":
        return "add this key"
    if kind.startswith("literal"):
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return did_you_mean(str(got), allowed) + (
            f"use one of the allowed values: {ctx.get('expected', '')}"
        )
    if kind in ("greater_than", "greater_than_equal"):
        return f"give a number {'above' if kind == 'greater_than' else 'of at least'} " + (
            f"{ctx.get('gt', ctx.get('ge'))} (got {got!r})"
        )
    if kind in ("less_than", "less_than_equal"):
        return f"give a number of at most {ctx.get('lt', ctx.get('le'))} (got {got!r})"
    for prefix, wanted in _WANTED.items():
        if kind.startswith(prefix):
            return f"give {wanted} here (got {got!r})"
    return f"give a valid value here (got {got!r}); see docs/matrix-reference.md"


_WANTED = {
    "int": "an integer",
    "float": "a number",
    "string": "a string",
    "list": "a list, e.g. [a, b]",
    "dict": "a mapping (key: value)",
    "model": "a mapping (key: value)",
    "bool": "true or false",
    "too_short": "at least one item",
}


def did_you_mean(word: str, names: Iterable[str]) -> str:
    """``"did you mean 'x'? "`` for the closest of ``names``, or ``""``."""
    close = difflib.get_close_matches(word, list(names), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _check_references(
    where: _Locator, spec: MatrixSpec, probe_dirs: list[Path]
) -> list[ConfigurationError]:
    """Names the schema cannot check: base and depset names, registry hosts, the bases a
    Dockerfile's base_args name, probes, and the cell selectors' patterns."""
    problems = []
    for section in ("bases", "depsets"):
        problems += [
            where.problem(
                (section, name),
                f"invalid name {name!r}",
                "use lower-case letters, digits, '.', '_' and '-' (it becomes a container name)",
            )
            for name in getattr(spec, section)
            if not re.match(NAME_PATTERN, name)
        ]
    problems += [
        where.problem(
            ("settings", "registry_auth", host),
            f"{host!r} is not a registry host",
            "key each entry by HOST or HOST:PORT as in an image reference "
            "(e.g. registry.example.com:5000), without a scheme or a path",
        )
        for host in spec.settings.registry_auth
        if not re.match(HOST_PATTERN, host)
    ]
    for base_name, base in spec.bases.items():
        docker_file, loc = _dockerfile_of(base_name, base)
        problems += [
            where.problem(
                (*loc, "base_args", arg),
                f"unknown base {other!r}",
                did_you_mean(other, spec.bases)
                + f"name another base of this matrix ({', '.join(spec.bases)})",
            )
            for arg, other in (docker_file.base_args if docker_file else {}).items()
            if other not in spec.bases or other == base_name
        ]
    problems += _check_builders(where, spec)
    baseline = spec.decision.baseline
    if baseline is not None and baseline not in spec.bases:
        problems.append(
            where.problem(
                ("decision", "baseline"),
                f"unknown base {baseline!r}",
                did_you_mean(baseline, spec.bases)
                + f"name a base of this matrix ({', '.join(spec.bases)}), or leave it out",
            )
        )
    return problems + _check_probes_exist(where, spec, probe_dirs) + _check_selectors(where, spec)


def _check_builders(where: _Locator, spec: MatrixSpec) -> list[ConfigurationError]:
    """A runtime's ``builder`` names another base of the matrix, itself no runtime."""
    problems = []
    for name, base in spec.bases.items():
        builder = base.builder
        if builder is None:
            continue
        others = [n for n in spec.bases if n != name and spec.bases[n].builder is None]
        if builder not in spec.bases or builder == name:
            what = (
                "a base cannot be its own builder"
                if builder == name
                else (f"unknown base {builder!r}")
            )
            fix = did_you_mean(builder, others) + (
                f"name another base of this matrix ({', '.join(others) or 'none yet'})"
            )
            problems.append(where.problem(("bases", name, "builder"), what, fix))
        elif spec.bases[builder].builder is not None:
            problems.append(
                where.problem(
                    ("bases", name, "builder"),
                    f"{builder!r} is itself a runtime (builder: {spec.bases[builder].builder})",
                    f"name the base the depsets are installed in ({', '.join(others)})"
                    if others
                    else f"give {builder!r} or this base no builder: (one of them must be"
                    " the base the depsets are installed in)",
                )
            )
    return problems


def _dockerfile_of(name: str, base: BaseSpec) -> tuple[DockerfileSpec | None, tuple[str, ...]]:
    """The Dockerfile a base (or its stand-in) is built from, and its key path."""
    if base.dockerfile is not None:
        return base.dockerfile, ("bases", name, "dockerfile")
    if base.standin is not None and base.standin.dockerfile is not None:
        return base.standin.dockerfile, ("bases", name, "standin", "dockerfile")
    return None, ()


def _check_selectors(where: _Locator, spec: MatrixSpec) -> list[ConfigurationError]:
    problems = []
    for section in ("include", "exclude", "expected_failures", "overrides"):
        for index, selector in enumerate(getattr(spec.cells, section)):
            for key, pattern, names in (
                ("base", selector.base, list(spec.bases)),
                ("depset", selector.depset, list(spec.depsets)),
                ("installer", selector.installer, list(INSTALLERS)),
            ):
                if not fnmatch.filter(names, pattern):
                    problems.append(
                        where.problem(
                            ("cells", section, index, key),
                            f"{pattern!r} matches no {key}",
                            did_you_mean(pattern, names)
                            + f"use one of: {', '.join(names)} (glob patterns allowed)",
                        )
                    )
    return problems


def _check_probes_exist(
    where: _Locator, spec: MatrixSpec, probe_dirs: list[Path]
) -> list[ConfigurationError]:
    problems = []
    for name, depset in spec.depsets.items():
        problems += _check_probes(where, name, depset, probe_dirs)
    return problems


def _check_probes(
    where: _Locator, name: str, depset: DepsetSpec, probe_dirs: list[Path]
) -> list[ConfigurationError]:
    problems = []
    known = sorted({p for d in probe_dirs for p in available_probes(d)})
    for index, probe in enumerate(depset.probes):
        if any((d / f"{probe}.py").is_file() for d in probe_dirs):
            continue
        # Your own probes live in your folder (extra_probes_dir), never in harness's
        # installed package.
        own = (
            f"add {probe_dirs[-1]}/{probe}.py"
            if len(probe_dirs) > 1
            else f"write {probe}.py in a folder of your own and set settings.extra_probes_dir to it"
        )
        problems.append(
            where.problem(
                ("depsets", name, "probes", index),
                f"no probe {probe!r} in " + " or ".join(str(d) for d in probe_dirs),
                did_you_mean(probe, known) + f"{own}, or use one of: {', '.join(known)}",
            )
        )
    return problems


def _check_sound_depsets(
    where: _Locator, data: dict[Any, Any], probes_dir: Path
) -> list[ConfigurationError]:
    """When the file's shape is wrong somewhere, the probes and files of every depset whose
    own shape is right are still checked, so that one `harness validate` lists them too."""
    settings = data.get("settings")
    extra = settings.get("extra_probes_dir") if isinstance(settings, dict) else None
    probe_dirs = [probes_dir, *([where.path.parent / extra] if isinstance(extra, str) else [])]
    matrix_path = where.path.resolve()

    def resolve(value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (matrix_path.parent / path).resolve()

    depsets = data.get("depsets")
    problems = []
    for name, raw in depsets.items() if isinstance(depsets, dict) else []:
        try:
            depset = DepsetSpec.model_validate(raw)
        except ValidationError:
            continue  # its shape's problems are listed already
        problems += _check_probes(where, str(name), depset, probe_dirs)
        found = check_project_files(matrix_path, where.prefixed("depsets", name), depset, resolve)
        problems += [where.bounded(err) for err in found]
    return problems


def _check_files(where: _Locator, matrix: Matrix) -> list[ConfigurationError]:
    problems = []
    for name, depset in matrix.spec.depsets.items():
        problems += [
            where.bounded(err)
            for err in check_project_files(
                matrix.path, where.prefixed("depsets", name), depset, matrix.resolve_path
            )
        ]
    for name, base in matrix.spec.bases.items():
        docker_file, loc = _dockerfile_of(name, base)
        if docker_file is not None and not _is_file(matrix, docker_file.path):
            problems.append(
                where.problem(
                    (*loc, "path"),
                    f"{docker_file.path!r} does not exist (relative to {matrix.path.parent})",
                    "give a path relative to the matrix file",
                )
            )
        elif docker_file is not None and docker_file.target is not None:
            problems += _check_target(where, matrix, docker_file, loc)
    return problems


def _check_target(
    where: _Locator, matrix: Matrix, docker_file: DockerfileSpec, loc: tuple[str, ...]
) -> list[ConfigurationError]:
    """``target`` names a stage of the Dockerfile (docker build would refuse it later)."""
    try:
        text = matrix.resolve_path(docker_file.path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    stages = stage_names(text)
    if str(docker_file.target).lower() in (s.lower() for s in stages):
        return []
    named = ", ".join(stages) if stages else "none: name one with `FROM image AS name`"
    return [
        where.problem(
            (*loc, "target"),
            f"{docker_file.path} has no stage {docker_file.target!r} (its named stages: {named})",
            did_you_mean(str(docker_file.target), stages)
            + "give the name after AS of one of its FROM lines, or remove `target`",
        )
    ]


def _is_file(matrix: Matrix, value: str) -> bool:
    try:
        return matrix.resolve_path(value).is_file()
    except (ValueError, RuntimeError, OSError):  # NUL bytes, unknown ~user, too long
        return False


def available_probes(probes_dir: Path = PROBES_DIR) -> list[str]:
    return sorted(p.stem for p in probes_dir.glob("*.py") if not p.name.startswith("_"))


def expand_cells(spec: MatrixSpec) -> list[Cell]:
    cells = []
    for base in spec.bases:
        for depset_name, depset in spec.depsets.items():
            for installer in depset_installers(spec, depset):
                if _selected(spec.cells, base, depset_name, installer):
                    cells.append(_make_cell(spec, base, depset_name, depset, installer))
    return cells


def depset_installers(spec: MatrixSpec, depset: DepsetSpec) -> list[str]:
    """The installers a depset's cells measure, pip's first. A depset with no pip
    requirements has no install step to measure, so it keeps its one (pip) cell."""
    if not (depset.pip or depset.requirements or depset.lockfile):
        return [DEFAULT_INSTALLER]
    chosen = list(depset.installers or spec.settings.installers)
    return sorted(chosen, key=lambda name: (name != DEFAULT_INSTALLER, INSTALLERS.index(name)))


def _selected(cells: CellsSpec, base: str, depset: str, installer: str) -> bool:
    wanted = (base, depset, installer)
    included = not cells.include or any(s.matches(*wanted) for s in cells.include)
    return included and not any(s.matches(*wanted) for s in cells.exclude)


def _run_timeouts(settings: Settings) -> Timeouts:
    both = settings.timeout
    fields = settings.model_fields_set
    return Timeouts(
        install=settings.install_timeout if "install_timeout" in fields or not both else both,
        probe=settings.probe_timeout if "probe_timeout" in fields or not both else both,
    )


def _make_cell(
    spec: MatrixSpec, base: str, depset_name: str, depset: DepsetSpec, installer: str
) -> Cell:
    timeout = spec.settings.timeouts.then(depset)
    repeat, memory = spec.settings.repeat, spec.settings.memory
    network, tmpfs = spec.settings.install_network, {}
    wanted = (base, depset_name, installer)
    for override in spec.cells.overrides:
        if override.matches(*wanted):
            timeout = timeout.then(override)
            repeat = override.repeat or repeat
            memory = override.memory or memory
            network = override.install_network or network
            tmpfs.update(override.tmpfs or {})
    expected = next((e for e in spec.cells.expected_failures if e.matches(*wanted)), None)
    return Cell(
        base,
        depset_name,
        timeout,
        repeat,
        memory,
        expected,
        network,
        tuple(sorted(tmpfs.items())),
        installer,
    )


def registry_login(matrix: Matrix, host: str, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The settings' login for a registry host, read from the variables it names; exit 2
    naming the variable when one is not set."""
    auth = matrix.settings.registry_auth.get(host)
    if auth is None:
        return None
    values = []
    for key in ("username_env", "password_env"):
        variable = getattr(auth, key)
        value = environ.get(variable)
        if not value:
            raise matrix.problem(
                ("settings", "registry_auth", host, key),
                f"the environment variable {variable} is not set",
                f"export {variable} before the run (CI: from its secret store), or remove "
                "the entry to use DOCKER_CONFIG / ~/.docker/config.json",
            )
        values.append(value)
    return values[0], values[1]


def json_schema() -> JsonSchemaValue:
    """matrix.yaml's JSON Schema (harness/schema/matrix.schema.json): a JSON Schema
    document, free-form JSON in pydantic's own type for one."""
    schema = MatrixSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "harness matrix.yaml"
    return schema


# Where a TLS-intercepting proxy's CA usually is on the host (Debian, then Fedora/RHEL).
HOST_CA_CANDIDATES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def resolve_ca_bundle(settings: Settings, matrix_dir: Path) -> Path | None:
    """The CA bundle file ``ca_bundle`` names for containers and builds, or None."""
    value = settings.ca_bundle
    if value is None or value == "none":
        return None
    if value == "auto":
        return next((Path(p) for p in HOST_CA_CANDIDATES if Path(p).is_file()), None)
    path = (matrix_dir / value).resolve()
    return path if path.is_file() else None
