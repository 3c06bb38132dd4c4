"""Lock files a depset may name, read on the host into a pinned requirements list.

Supported kinds, each read with ``tomllib`` (no uv or poetry binary is needed):

- ``uv.lock``: the graph is walked from the project's own package (``source = {editable
  | virtual = "."}``) through its ``dependencies`` and its ``dev`` group, as
  ``uv export --frozen`` does by default (no extras). An edge's ``marker`` is kept: a
  package reached only through marked edges gets the OR of its paths' markers.
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    try:
        pins, skipped = _READERS[kind](data)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ConfigurationError(
            f"{path}: not a {kind} this harness can read ({type(err).__name__}: {err})",
            "regenerate the file with its tool, or export it to requirements.txt",
        ) from None
    lines = tuple(_line(path, pin) for pin in sorted(pins, key=lambda p: (p.name, p.version)))
    return LockExport(kind, lines, tuple(sorted(skipped)))


def _load(path: Path) -> dict[str, Any]:
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


def _hashes(files: Iterator[Mapping[str, Any]]) -> tuple[str, ...]:
    found = [str(f["hash"]) for f in files if isinstance(f, Mapping) and f.get("hash")]
    return tuple(dict.fromkeys(found))


def _artifacts(package: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """uv.lock and pylock.toml both list ``sdist`` (one table) and ``wheels`` (a list)."""
    if isinstance(package.get("sdist"), Mapping):
        yield package["sdist"]
    yield from package.get("wheels") or []


# -- uv.lock ---------------------------------------------------------------------------------


def _read_uv(data: Mapping[str, Any]) -> tuple[list[_Pin], list[str]]:
    packages = list(data["package"])
    roots = [p for p in packages if _uv_is_project(p)]
    if not roots:
        raise ValueError("no package with source editable/virtual '.': which one is the project?")
    paths: dict[tuple[str, str], set[str]] = {}
    pending = [(edge, "") for root in roots for edge in _uv_root_edges(root)]
    visited: set[tuple[str, str, str, tuple[str, ...]]] = set()
    while pending:
        edge, marker = pending.pop()
        package = _uv_find(packages, edge)
        key = (str(package["name"]), str(package["version"]))
        marker = _and(marker, edge.get("marker"))
        extras = tuple(edge.get("extra") or [])
        markers = paths.setdefault(key, set())
        # A cycle through marked edges grows its marker each time round: stop at a bound.
        done = (*key, marker, extras) in visited or (*key, "", extras) in visited
        if done or len(markers) >= MAX_MARKERS:
            continue
        visited.add((*key, marker, extras))
        markers.add(marker)
        pending += [(child, marker) for child in _uv_edges(package, list(extras))]
    return _uv_pins(packages, paths)


def _uv_is_project(package: Mapping[str, Any]) -> bool:
    source = package.get("source") or {}
    return source.get("editable") == "." or source.get("virtual") == "."


def _uv_root_edges(root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    dev = (root.get("dev-dependencies") or {}).get("dev") or []
    return [*(root.get("dependencies") or []), *dev]


def _uv_edges(package: Mapping[str, Any], extras: list[str]) -> list[Mapping[str, Any]]:
    optional = package.get("optional-dependencies") or {}
    return [*(package.get("dependencies") or []), *(e for x in extras for e in optional.get(x, []))]


def _uv_find(packages: list[Mapping[str, Any]], edge: Mapping[str, Any]) -> Mapping[str, Any]:
    # A forked resolution holds several versions of one name; the edge then says which.
    matches = [p for p in packages if p["name"] == edge["name"]]
    if "version" in edge:
        matches = [p for p in matches if p["version"] == edge["version"]] or matches
    if not matches:
        raise ValueError(f"dependency {edge['name']!r} has no [[package]] entry")
    return matches[0]


def _uv_pins(
    packages: list[Mapping[str, Any]], paths: Mapping[tuple[str, str], set[str]]
) -> tuple[list[_Pin], list[str]]:
    pins, skipped = [], []
    for package in packages:
        key = (package["name"], package.get("version", ""))
        if key not in paths or _uv_is_project(package):
            continue
        if "registry" not in (package.get("source") or {}):
            skipped.append(f"{package['name']} ({_source_text(package.get('source'))})")
            continue
        pins.append(_Pin(key[0], key[1], _hashes(_artifacts(package)), _or(paths[key])))
    return pins, skipped


def _source_text(source: Any) -> str:
    return ", ".join(f"{k} {v}" for k, v in (source or {}).items()) or "no source"


def _and(left: str, right: str | None) -> str:
    if not right:
        return left
    return f"({left}) and ({right})" if left else right


def _or(markers: set[str]) -> str | None:
    if "" in markers:
        return None  # reached unconditionally on some path
    ordered = sorted(markers)
    return ordered[0] if len(ordered) == 1 else " or ".join(f"({m})" for m in ordered)


# -- poetry.lock --------------------------------------------------------------------------


def _read_poetry(data: Mapping[str, Any]) -> tuple[list[_Pin], list[str]]:
    pins, skipped = [], []
    for package in data["package"]:
        if not _poetry_main(package):
            continue
        source_type = (package.get("source") or {}).get("type")
        if source_type in ("directory", "file", "git", "url"):
            skipped.append(f"{package['name']} ({source_type})")
            continue
        files = package.get("files") or (data.get("metadata") or {}).get("files", {}).get(
            package["name"], []
        )
        marker = package.get("markers")
        pins.append(
            _Pin(
                package["name"],
                package["version"],
                _hashes(iter(files)),
                marker.get("main") if isinstance(marker, Mapping) else marker,
            )
        )
    return pins, skipped


def _poetry_main(package: Mapping[str, Any]) -> bool:
    if "groups" in package:
        return "main" in package["groups"]
    if "category" in package:
        return bool(package["category"] == "main")
    return not package.get("optional", False)


# -- pylock.toml ------------------------------------------------------------------------------


def _read_pylock(data: Mapping[str, Any]) -> tuple[list[_Pin], list[str]]:
    if str(data.get("lock-version", "1.0")).split(".")[0] != "1":
        raise ValueError(f"lock-version {data.get('lock-version')!r} (this reader knows 1.x)")
    pins, skipped = [], []
    for package in data["packages"]:
        if "version" not in package or any(k in package for k in ("vcs", "directory", "archive")):
            skipped.append(f"{package['name']} (not from an index)")
            continue
        hashes = [
            f"{algorithm}:{value}"
            for artifact in _artifacts(package)
            for algorithm, value in (artifact.get("hashes") or {}).items()
        ]
        pins.append(_Pin(package["name"], package["version"], tuple(hashes), package.get("marker")))
    return pins, skipped


_READERS = {"uv.lock": _read_uv, "poetry.lock": _read_poetry, "pylock.toml": _read_pylock}
