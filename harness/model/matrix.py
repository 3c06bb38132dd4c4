"""Load and validate matrix.yaml, and expand it into cells.

Every error names the file, the key path and the fix, and is raised before any
container starts (``ConfigurationError``, exit 2).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The installers a cell can measure: pip (`python -m pip install`) and uv (`uv pip install`).
Installer = Literal["pip", "uv"]
INSTALLERS: tuple[str, ...] = ("pip", "uv")
UvIndexStrategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]


def _default_installers() -> list[Installer]:
    return ["pip"]  # ids.DEFAULT_INSTALLER, as the Literal type wants it


def _unique_installers(value: list[str] | None) -> list[str] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("name each installer once")
    return value


HOST_PATTERN = r"^[A-Za-z0-9.-]+(:[0-9]+)?$"


class RegistryAuth(Strict):
    """A registry login read from the environment at run time, never from matrix.yaml."""

    username_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    password_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


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
        None, gt=0, description="sets both install_timeout and probe_timeout (seconds)"
    )
    install_timeout: float = Field(
        DEFAULT_INSTALL_TIMEOUT, gt=0, description="limit of each install step, seconds"
    )
    probe_timeout: float = Field(
        DEFAULT_PROBE_TIMEOUT, gt=0, description="limit of each probe (smoke test), seconds"
    )

    @property
    def timeouts(self) -> Timeouts:
        """The run-wide limits: ``timeout`` sets both unless one is given on its own."""
        return _run_timeouts(self)

    memory: str | None = Field("6g", description="container memory limit (docker syntax), or null")
    cpus: float | None = Field(2.0, gt=0, description="container CPU limit, or null")
    repeat: int = Field(1, ge=1, description="runs per cell, for a spread of timings")
    pull: Literal["auto", "never", "always"] = Field(
        "auto", description="auto: pull an image reference when it is not local"
    )
    pull_timeout: float = Field(
        60, gt=0, description="seconds one pull may take, from the request to the last layer"
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
    extra_index_urls: list[str] = Field(default_factory=list)
    index_url: str | None = None
    install_network: str = Field("bridge", description="docker network for install steps")
    model_dir: str | None = Field(
        None, description="host directory with pretrained weights, mounted read-only for probes"
    )
    extra_probes_dir: str | None = Field(
        None, description="a folder of your own probes, searched after harness's probes/"
    )
    standin_repository: str = Field("harness-standin", pattern=r"^[a-z0-9][a-z0-9._/-]*$")
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
    suite: str = Field(pattern=r"^[a-z]+$")
    python: str = Field(pattern=r"^3\.\d+$", description="Debian's pythonX.Y to install")
    mirror: str = "http://deb.debian.org/debian"
    extra_packages: list[str] = Field(default_factory=list)
    runtime_only: bool = Field(
        False,
        description="a distroless-like runtime: only pythonX.Y, its libraries, CA bundle and"
        " tzdata, FROM scratch; no shell, apt or pip; user 65532; /usr/bin/pythonX.Y",
    )


class DockerfileSpec(Strict):
    path: str
    context: str | None = Field(None, description="build context; default: the Dockerfile's folder")
    build_args: dict[str, str] = Field(default_factory=dict)
    base_args: dict[str, str] = Field(
        default_factory=dict,
        description="build arg -> name of another base whose image it receives",
    )


class StandinSpec(Strict):
    description: str | None = Field(None, description="what the stand-in is, for the report")
    debootstrap: DebootstrapSpec | None = None
    dockerfile: DockerfileSpec | None = None
    python: str | None = Field(None, description="interpreter command inside the stand-in")

    @model_validator(mode="after")
    def _one_recipe(self) -> StandinSpec:
        if (self.debootstrap is None) == (self.dockerfile is None):
            raise ValueError("a stand-in needs exactly one of 'debootstrap' or 'dockerfile'")
        return self


class BaseSpec(Strict):
    image: str | None = Field(None, description="an image reference, used as it is")
    dockerfile: DockerfileSpec | None = None
    debootstrap: DebootstrapSpec | None = None
    standin: StandinSpec | None = Field(
        None, description="built locally when `image` cannot be had"
    )
    python: str | None = Field(None, description="interpreter command; default python3 / pythonX.Y")
    description: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BaseSpec:
        given = [k for k in ("image", "dockerfile", "debootstrap") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a base needs exactly one of 'image', 'dockerfile' or 'debootstrap' "
                f"(got {', '.join(given) or 'none'})"
            )
        if self.standin is not None and self.image is None:
            raise ValueError("'standin' only goes with 'image'")
        return self

    @property
    def kind(self) -> str:
        return "image" if self.image else "dockerfile" if self.dockerfile else "debootstrap"


class LimitRule(Strict):
    """A pip/apt log pattern that means 'this cannot be had here', not 'this base fails'."""

    pattern: str
    reason: str
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
            raise ValueError(f"not a valid regular expression: {err}") from None
        return value


class ProjectSpec(Strict):
    path: str = Field(description="folder with pyproject.toml, relative to the matrix file")
    extras: list[str] = Field(default_factory=list, description="installed as DIR[extra,...]")


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


class DepsetSpec(Strict):
    description: str | None = None
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
        None, gt=0, description="this depset's install and probe timeouts, both (seconds)"
    )
    install_timeout: float | None = Field(None, gt=0, description="this depset's install limit")
    probe_timeout: float | None = Field(None, gt=0, description="this depset's probe limit")
    environment_limits: list[LimitRule] = Field(default_factory=list)
    installers: list[Installer] | None = Field(
        None, min_length=1, description="this depset's installers (default: settings.installers)"
    )

    _installers_unique = field_validator("installers")(_unique_installers)


class CellSelector(Strict):
    base: str = "*"
    depset: str = "*"
    installer: str = Field("*", description="glob over the installers (pip, uv)")

    def matches(self, base: str, depset: str, installer: str = DEFAULT_INSTALLER) -> bool:
        return (
            fnmatch.fnmatchcase(base, self.base)
            and fnmatch.fnmatchcase(depset, self.depset)
            and fnmatch.fnmatchcase(installer, self.installer)
        )


class ExpectedFailure(CellSelector):
    reason: str
    link: str | None = None


class CellOverride(CellSelector):
    timeout: float | None = Field(None, gt=0)
    install_timeout: float | None = Field(None, gt=0)
    probe_timeout: float | None = Field(None, gt=0)
    repeat: int | None = Field(None, ge=1)
    memory: str | None = None
    install_network: str | None = Field(None, description="docker network for installs")
    tmpfs: dict[str, str] | None = Field(
        None, description="tmpfs mounts, path -> options (e.g. a small /tmp to test a full disk)"
    )


class CellsSpec(Strict):
    include: list[CellSelector] = Field(default_factory=list)
    exclude: list[CellSelector] = Field(default_factory=list)
    expected_failures: list[ExpectedFailure] = Field(default_factory=list)
    overrides: list[CellOverride] = Field(default_factory=list)


class MatrixSpec(Strict):
    version: Literal[1] = 1
    settings: Settings = Field(default_factory=Settings)
    bases: dict[str, BaseSpec]
    depsets: dict[str, DepsetSpec]
    cells: CellsSpec = Field(default_factory=CellsSpec)


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

    @property
    def settings(self) -> Settings:
        return self.spec.settings

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
                    f"line {node.start_mark.line + 1}: the document expands to more than "
                    f"{MAX_YAML_NODES} YAML nodes (aliases `*name` repeat what they point at)",
                    "write the matrix without nested aliases; a matrix needs a few hundred nodes",
                )
        elif key not in sizes:
            if key in on_path:
                raise ConfigurationError(
                    f"line {node.start_mark.line + 1}: an alias refers to a node containing it",
                    "remove the recursive alias",
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
                f"line {key_node.start_mark.line + 1}: a mapping key must be a plain name, "
                f"not {type(key).__name__}",
                "write keys as plain names (e.g. `jobs:`), not lists or mappings",
            ) from None
        if key in seen:
            raise ConfigurationError(
                f"line {key_node.start_mark.line + 1}: duplicate key {key!r}",
                "give every base, depset and setting a unique name",
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def load_matrix(path: Path | str, probes_dir: Path = PROBES_DIR) -> Matrix:
    try:
        return _load(Path(path), probes_dir)
    except ConfigurationError as err:  # every message: bounded, no credentials quoted
        raise type(err)(_quotable(err.what), _quotable(err.fix) if err.fix else None) from None


def _quotable(text: str) -> str:
    """Cap what an error message repeats of the user's input, and mask URL credentials."""
    text = mask_userinfo(text)
    if len(text) <= MAX_QUOTED_CHARS:
        return text
    return f"{text[:MAX_QUOTED_CHARS]}… ({len(text)} characters, cut)"


def _load(path: Path, probes_dir: Path) -> Matrix:
    text = _read(path)
    data = _parse_yaml(path, text)
    spec = _validate(path, data)
    extra = spec.settings.extra_probes_dir
    _check_references(path, spec, [probes_dir, *([path.parent / extra] if extra else [])])
    sha = hashlib.sha256(text.encode()).hexdigest()
    matrix = Matrix(path=path.resolve(), sha256=sha, spec=spec, cells=())
    _check_files(matrix)
    return Matrix(path=matrix.path, sha256=sha, spec=spec, cells=tuple(expand_cells(spec)))


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_MATRIX_BYTES:
            raise _too_big(path)
        with path.open(encoding="utf-8") as stream:
            text = stream.read(MAX_MATRIX_BYTES + 1)  # bounded even if the file grows meanwhile
    except FileNotFoundError:
        raise ConfigurationError(
            f"{path}: no such matrix file", "pass the path of a matrix.yaml (see matrix.yaml)"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path}: cannot read: {err}", "check the file") from None
    if len(text) > MAX_MATRIX_BYTES:
        raise _too_big(path)
    return text


def _too_big(path: Path) -> ConfigurationError:
    return ConfigurationError(
        f"{path}: larger than the matrix size limit of {MAX_MATRIX_BYTES} bytes (1 MiB)",
        "a matrix names bases and depsets; keep data (wheels, probes, requirements) in files",
    )


def _parse_yaml(path: Path, text: str) -> Any:
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except ConfigurationError as err:
        raise ConfigurationError(f"{path}: {err.what}", err.fix) from None
    except yaml.YAMLError as err:
        raise ConfigurationError(f"{path}: not valid YAML: {err}", "fix the YAML syntax") from None
    except (ValueError, TypeError, LookupError, AttributeError, RecursionError) as err:
        # PyYAML's constructors raise these for a malformed typed scalar (`!!int x`, a date
        # such as 2024-13-45), int() past 4300 digits, its composer for very deep nesting.
        raise ConfigurationError(
            f"{path}: not valid YAML: {type(err).__name__}: {str(err)[:200]}",
            "fix the value (quote it to keep it as text) or the YAML syntax",
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"{path}: the top level must be a mapping (got {type(data).__name__})",
            "start from matrix.yaml: keys settings, bases, depsets, cells",
        )
    return data


def _validate(path: Path, data: Any) -> MatrixSpec:
    try:
        return MatrixSpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise ConfigurationError(
            f"{path}: {_key_path(first['loc'])}: {first['msg']}"
            + (f" ({len(err.errors()) - 1} more problem(s))" if len(err.errors()) > 1 else ""),
            _fix_for(first),
        ) from None


def _key_path(loc: Iterable[Any]) -> str:
    # pydantic puts union/validator names (e.g. 'function-after[...]') in loc; hide them.
    parts = [str(p) for p in loc if not str(p).startswith(("function-", "literal["))]
    return ".".join(parts) or "(top level)"


def _fix_for(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "remove this key or correct its spelling (see harness/schema/matrix.schema.json)"
    if kind == "missing":
        return "add this key"
    if kind.startswith("literal"):
        return f"use one of the allowed values: {error.get('ctx', {}).get('expected', '')}"
    if kind == "value_error":
        return "see the message above"
    for prefix, wanted in _WANTED.items():
        if kind.startswith(prefix):
            return f"give {wanted} here (got {error.get('input')!r})"
    got = error.get("input")
    return f"give a valid value here (got {got!r}); see harness/schema/matrix.schema.json"


_WANTED = {
    "int": "an integer",
    "float": "a number",
    "greater_than": "a larger number",
    "string": "a string",
    "list": "a list, e.g. [a, b]",
    "dict": "a mapping (key: value)",
    "model": "a mapping (key: value)",
    "bool": "true or false",
    "literal": "one of the allowed values",
}


def _check_references(path: Path, spec: MatrixSpec, probe_dirs: list[Path]) -> None:
    _check_names(path, spec)
    _check_base_args(path, spec)
    _check_registry_hosts(path, spec.settings)
    _check_probes_exist(path, spec, probe_dirs)
    for section in ("include", "exclude", "expected_failures", "overrides"):
        for index, selector in enumerate(getattr(spec.cells, section)):
            _check_selector(path, f"cells.{section}.{index}", selector, spec)


def _check_names(path: Path, spec: MatrixSpec) -> None:
    for name in [*spec.bases, *spec.depsets]:
        if not re.match(NAME_PATTERN, name):
            raise ConfigurationError(
                f"{path}: bases/depsets: invalid name {name!r}",
                "use lower-case letters, digits, '.', '_' and '-' (it becomes a container name)",
            )


def _check_base_args(path: Path, spec: MatrixSpec) -> None:
    for base_name, base in spec.bases.items():
        docker_file = base.dockerfile or (base.standin.dockerfile if base.standin else None)
        for arg, other in (docker_file.base_args if docker_file else {}).items():
            if other not in spec.bases or other == base_name:
                raise ConfigurationError(
                    f"{path}: bases.{base_name}: base_args.{arg}: unknown base {other!r}",
                    f"name another base of this matrix ({', '.join(spec.bases)})",
                )


def _check_registry_hosts(path: Path, settings: Settings) -> None:
    for host in settings.registry_auth:
        if not re.match(HOST_PATTERN, host):
            raise ConfigurationError(
                f"{path}: settings.registry_auth: {host!r} is not a registry host",
                "key each entry by HOST or HOST:PORT as in an image reference "
                "(e.g. registry.example.com:5000), without a scheme or a path",
            )


def _check_probes_exist(path: Path, spec: MatrixSpec, probe_dirs: list[Path]) -> None:
    for name, depset in spec.depsets.items():
        for probe in depset.probes:
            if not any((d / f"{probe}.py").is_file() for d in probe_dirs):
                raise ConfigurationError(
                    f"{path}: depsets.{name}.probes: no probe {probe!r} in "
                    + " or ".join(str(d) for d in probe_dirs),
                    f"add {probe_dirs[-1]}/{probe}.py or use one of: "
                    + ", ".join(sorted({p for d in probe_dirs for p in available_probes(d)})),
                )


def _check_selector(path: Path, where: str, selector: CellSelector, spec: MatrixSpec) -> None:
    for key, pattern, names in (
        ("base", selector.base, list(spec.bases)),
        ("depset", selector.depset, list(spec.depsets)),
        ("installer", selector.installer, list(INSTALLERS)),
    ):
        if not fnmatch.filter(names, pattern):
            raise ConfigurationError(
                f"{path}: {where}.{key}: {pattern!r} matches no {key}",
                f"use one of: {', '.join(names)} (glob patterns allowed)",
            )


def _check_files(matrix: Matrix) -> None:
    for name, depset in matrix.spec.depsets.items():
        check_project_files(matrix.path, f"depsets.{name}", depset, matrix.resolve_path)
    for name, base in matrix.spec.bases.items():
        docker_file = base.dockerfile or (base.standin.dockerfile if base.standin else None)
        if docker_file and not _is_file(matrix, docker_file.path):
            raise ConfigurationError(
                f"{matrix.path}: bases.{name}: dockerfile.path: "
                f"{docker_file.path!r} does not exist (relative to {matrix.path.parent})",
                "give a path relative to the matrix file",
            )


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
            raise ConfigurationError(
                f"{matrix.path}: settings.registry_auth.{host}.{key}: "
                f"the environment variable {variable} is not set",
                f"export {variable} before the run (CI: from its secret store), or remove "
                "the entry to use DOCKER_CONFIG / ~/.docker/config.json",
            )
        values.append(value)
    return values[0], values[1]


def json_schema() -> dict[str, Any]:
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
