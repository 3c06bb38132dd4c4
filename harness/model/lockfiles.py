"""Lock files a depset may name, read on the host into a pinned requirements list.

Supported kinds, each read with ``tomllib`` (no uv or poetry binary is needed):

- ``uv.lock``: the graph is walked from the project's own package (``source = {editable
  | virtual = "."}``) through its ``dependencies`` and the groups ``uv export --frozen``
  installs by default (no extras): ``dev``, or the ``[tool.uv] default-groups`` of the
  ``pyproject.toml`` beside the lock file (a list of group names, or ``"all"``). An edge's
  ``marker`` is kept: a package reached only through marked edges gets the OR of its
  paths' markers.
- ``poetry.lock``: every package of the ``main`` group (poetry 2: ``groups``; poetry 1:
  ``category``), or every non-optional package when the file says neither, with the
  package's own ``markers``.
- ``pylock.toml`` (PEP 751, also ``pylock.NAME.toml``): every package with its ``marker``.
  It is exported the same way rather than given to pip: Debian's venvs seed pip 23 (3.11)
  and 25.1 (3.13), and neither installs from a pylock file.

Each exported line is ``name==version ; marker --hash=sha256:...`` with the hashes of
every wheel and sdist the file lists, so pip runs in hash-checking mode; a package with
no hash in the lock file is an error (pip would refuse the whole file). Packages from a
path, a directory or a VCS (no version on an index) are left out and named.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.model.errors import ConfigurationError

SUPPORTED = ("uv.lock", "poetry.lock", "pylock.toml")
MAX_MARKERS = 16  # distinct marker paths kept per package
_PYLOCK = re.compile(r"^pylock\.([^.]+\.)?toml$")


@dataclass(frozen=True)
class LockExport:
    kind: str  # one of SUPPORTED
    lines: tuple[str, ...]  # pinned requirement lines, with hashes
    skipped: tuple[str, ...] = ()  # packages that are not from an index (path, git, ...)

    @property
    def text(self) -> str:
        header = f"# exported by harness from {self.kind}: {len(self.lines)} pinned package(s)\n"
        return header + "".join(f"{line}\n" for line in self.lines)


@dataclass(frozen=True)
class _Pin:
    name: str
    version: str
    hashes: tuple[str, ...]
    marker: str | None


def lockfile_kind(path: Path) -> str | None:
    """The supported kind a file's name says, or None."""
    if path.name in ("uv.lock", "poetry.lock"):
        return path.name
    return "pylock.toml" if _PYLOCK.match(path.name) else None


def unsupported_message(path: Path) -> str:
    return f"{path.name}: not a supported lock file (supported: {', '.join(SUPPORTED)})"


def export_lockfile(path: Path) -> LockExport:
    """Read ``path`` into pinned requirements; ``ConfigurationError`` names what is wrong."""
    kind = lockfile_kind(path)
    if kind is None:
        raise ConfigurationError(
            unsupported_message(path),
            "export it to a requirements file and name that under `requirements`",
        )
    data = _load(path)
    groups = _uv_default_groups(path) if kind == "uv.lock" else None
    try:
        pins, skipped = _read_uv(data, groups) if kind == "uv.lock" else _READERS[kind](data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError(
            f"{path}: not a {kind} this harness can read ({where}: {first['msg']})",
            "regenerate the file with its tool, or export it to requirements.txt",
        ) from None
    except ValueError as err:
        raise ConfigurationError(
            f"{path}: not a {kind} this harness can read ({type(err).__name__}: {err})",
            "regenerate the file with its tool, or export it to requirements.txt",
        ) from None
    lines = tuple(_line(path, pin) for pin in sorted(pins, key=lambda p: (p.name, p.version)))
    return LockExport(kind, lines, tuple(sorted(skipped)))


def _load(path: Path) -> dict[str, object]:  # validated by the format's model next
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no such lock file", "give its path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path}: cannot read: {err}", "check the file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigurationError(f"{path}: not valid TOML: {err}", "fix or regenerate it") from None


def _line(path: Path, pin: _Pin) -> str:
    if not pin.hashes:
        raise ConfigurationError(
            f"{path}: {pin.name} {pin.version} has no hash in the lock file",
            "regenerate the lock file (hash-checking mode needs a hash for every package)",
        )
    marker = f" ; {pin.marker}" if pin.marker else ""
    hashes = " ".join(f"--hash={h}" for h in pin.hashes)
    return f"{pin.name}=={pin.version}{marker} {hashes}"


# -- the three formats, read once into types (only the fields used here; the rest ignored) ----


class _Toml(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, coerce_numbers_to_str=True
    )


class _Artifact(_Toml):
    """A wheel or sdist: uv.lock and poetry.lock give ``hash``, pylock.toml ``hashes``."""

    hash: str | None = None
    hashes: dict[str, str] | None = None


def _hashes(files: Iterable[_Artifact]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.hash for f in files if f.hash))


class _Edge(_Toml):
    """uv.lock: one dependency of a package (a forked resolution names the version)."""

    name: str
    version: str | None = None
    marker: str | None = None
    extra: list[str] = []


class _UvPackage(_Toml):
    name: str
    version: str | None = None
    source: dict[str, object] = {}
    dependencies: list[_Edge] = []
    dev_dependencies: dict[str, list[_Edge]] = Field({}, alias="dev-dependencies")
    optional_dependencies: dict[str, list[_Edge]] = Field({}, alias="optional-dependencies")
    sdist: _Artifact | None = None
    wheels: list[_Artifact] = []

    @property
    def is_project(self) -> bool:
        return "." in (self.source.get("editable"), self.source.get("virtual"))

    @property
    def artifacts(self) -> list[_Artifact]:
        return [*([self.sdist] if self.sdist else []), *self.wheels]


class _UvLock(_Toml):
    package: list[_UvPackage]


class _PoetrySource(_Toml):
    """poetry.lock: a package's ``[package.source]`` (absent for PyPI)."""

    type: object = None  # directory | file | git | url | legacy (a named index)


class _PoetryPackage(_Toml):
    name: str
    version: str
    groups: list[str] | None = None  # poetry 2
    category: str | None = None  # poetry 1
    optional: bool = False
    source: _PoetrySource = _PoetrySource()
    files: list[_Artifact] | None = None
    markers: str | dict[str, str] | None = None  # poetry 2: {group: marker}

    @property
    def main(self) -> bool:
        if self.groups is not None:
            return "main" in self.groups
        if self.category is not None:
            return self.category == "main"
        return not self.optional


class _PoetryMetadata(_Toml):
    files: dict[str, list[_Artifact]] = {}  # poetry 1: {name: files}


class _PoetryLock(_Toml):
    package: list[_PoetryPackage]
    metadata: _PoetryMetadata = _PoetryMetadata()


class _PylockPackage(_Toml):
    name: str
    version: str | None = None
    marker: str | None = None
    vcs: object = None
    directory: object = None
    archive: object = None
    sdist: _Artifact | None = None
    wheels: list[_Artifact] = []


class _Pylock(_Toml):
    lock_version: str = Field("1.0", alias="lock-version")
    packages: list[_PylockPackage]


# -- uv.lock ---------------------------------------------------------------------------------


def _uv_default_groups(lock: Path) -> tuple[str, ...] | None:
    """``[tool.uv] default-groups`` of the pyproject.toml beside ``lock``; None for "all".

    uv installs (and exports) these groups when no ``--group`` option is given; without
    the setting, only ``dev``.
    """
    pyproject = lock.parent / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ("dev",)
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{pyproject}: cannot read: {err}", "check the file") from None
    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError as err:
        raise ConfigurationError(f"{pyproject}: not valid TOML: {err}", "fix it") from None
    uv = tool.get("uv") if isinstance(tool, dict) else None
    setting = uv.get("default-groups") if isinstance(uv, dict) else None
    if setting is None:
        return ("dev",)
    if setting == "all":
        return None
    if isinstance(setting, list) and all(isinstance(group, str) for group in setting):
        return tuple(setting)
    raise ConfigurationError(
        f"{pyproject}: [tool.uv] default-groups: {setting!r} is neither a list of group names "
        'nor "all"',
        'write default-groups = ["dev", ...] or default-groups = "all", as uv reads it',
    )


def _read_uv(
    data: Mapping[str, object], groups: tuple[str, ...] | None = ("dev",)
) -> tuple[list[_Pin], list[str]]:
    """``groups``: the dependency groups taken with the project's own dependencies (None: all)."""
    packages = _UvLock.model_validate(data).package
    roots = [p for p in packages if p.is_project]
    if not roots:
        raise ValueError("no package with source editable/virtual '.': which one is the project?")
    paths: dict[tuple[str, str], set[str]] = {}
    pending = [
        (edge, "")
        for root in roots
        for name, edges in [("", root.dependencies), *root.dev_dependencies.items()]
        if not name or groups is None or name in groups
        for edge in edges
    ]
    visited: set[tuple[str, str, str, tuple[str, ...]]] = set()
    while pending:
        edge, marker = pending.pop()
        package = _uv_find(packages, edge)
        # The project itself is reached again where a dependency needs it (attrs: hypothesis
        # depends on attrs); it has no version when dynamic, and it is installed from its
        # folder, never pinned (its extras' dependencies are still walked).
        if package.version is None and not package.is_project:
            raise ValueError(f"package {package.name!r} has no version")
        key = (package.name, package.version or "")
        marker = _and(marker, edge.marker)
        extras = tuple(edge.extra)
        markers = paths.setdefault(key, set())
        # A cycle through marked edges grows its marker each time round: stop at a bound.
        done = (*key, marker, extras) in visited or (*key, "", extras) in visited
        if done or len(markers) >= MAX_MARKERS:
            continue
        visited.add((*key, marker, extras))
        markers.add(marker)
        optional = [e for x in extras for e in package.optional_dependencies.get(x, [])]
        pending += [(child, marker) for child in [*package.dependencies, *optional]]
    return _uv_pins(packages, paths)


def _uv_find(packages: list[_UvPackage], edge: _Edge) -> _UvPackage:
    # A forked resolution holds several versions of one name; the edge then says which.
    matches = [p for p in packages if p.name == edge.name]
    if edge.version is not None:
        matches = [p for p in matches if p.version == edge.version] or matches
    if not matches:
        raise ValueError(f"dependency {edge.name!r} has no [[package]] entry")
    return matches[0]


def _uv_pins(
    packages: list[_UvPackage], paths: Mapping[tuple[str, str], set[str]]
) -> tuple[list[_Pin], list[str]]:
    pins, skipped = [], []
    for package in packages:
        key = (package.name, package.version or "")
        if key not in paths or package.is_project:
            continue
        if "registry" not in package.source:
            skipped.append(f"{package.name} ({_source_text(package.source)})")
            continue
        pins.append(_Pin(key[0], key[1], _hashes(package.artifacts), _or(paths[key])))
    return pins, skipped


def _source_text(source: Mapping[str, object]) -> str:
    return ", ".join(f"{k} {v}" for k, v in source.items()) or "no source"


def _and(left: str, right: str | None) -> str:
    if not right or right == left:  # a marker repeated down a path says nothing new
        return left
    return f"({left}) and ({right})" if left else right


def _or(markers: set[str]) -> str | None:
    if "" in markers:
        return None  # reached unconditionally on some path
    ordered = sorted(markers)
    return ordered[0] if len(ordered) == 1 else " or ".join(f"({m})" for m in ordered)


# -- poetry.lock --------------------------------------------------------------------------


def _read_poetry(data: Mapping[str, object]) -> tuple[list[_Pin], list[str]]:
    lock = _PoetryLock.model_validate(data)
    pins, skipped = [], []
    for package in lock.package:
        if not package.main:
            continue
        source_type = package.source.type
        if source_type in ("directory", "file", "git", "url"):
            skipped.append(f"{package.name} ({source_type})")
            continue
        files = package.files or lock.metadata.files.get(package.name, [])
        marker = package.markers
        pins.append(
            _Pin(
                package.name,
                package.version,
                _hashes(files),
                marker.get("main") if isinstance(marker, dict) else marker,
            )
        )
    return pins, skipped


# -- pylock.toml ------------------------------------------------------------------------------


def _read_pylock(data: Mapping[str, object]) -> tuple[list[_Pin], list[str]]:
    lock = _Pylock.model_validate(data)
    if lock.lock_version.split(".")[0] != "1":
        raise ValueError(f"lock-version {lock.lock_version!r} (this reader knows 1.x)")
    pins, skipped = [], []
    for package in lock.packages:
        from_index = package.vcs is None and package.directory is None and package.archive is None
        if package.version is None or not from_index:
            skipped.append(f"{package.name} (not from an index)")
            continue
        artifacts = [*([package.sdist] if package.sdist else []), *package.wheels]
        hashes = [
            f"{algorithm}:{value}"
            for artifact in artifacts
            for algorithm, value in (artifact.hashes or {}).items()
        ]
        pins.append(_Pin(package.name, package.version, tuple(hashes), package.marker))
    return pins, skipped


_READERS = {"poetry.lock": _read_poetry, "pylock.toml": _read_pylock}
