"""The user's own files a depset names: requirements files, a project, a lock file, a source
folder. Checked when the matrix loads, so a missing file is exit 2 before any container.

Requirements files are read by pip itself inside the cell (each file's folder is mounted
read-only and pip gets ``-r``), so ``-r``/``-c`` includes and ``--hash`` keep pip's own
meaning. The host reads them only to check that every include exists inside the mounted
folder and to collect the URLs they carry (index URLs with tokens), which every output
then redacts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.model.errors import ConfigurationError
from harness.model.lockfiles import export_lockfile, lockfile_kind, unsupported_message

if TYPE_CHECKING:
    from harness.model.matrix import DepsetSpec

MAX_INCLUDE_DEPTH = 20
_INCLUDE = re.compile(
    r"^\s*(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+|(?=[^\s=]))(?P<target>\S+)"
)
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"]+")

Resolve = Callable[[str], Path]


def check_project_files(
    matrix_path: Path, where: str, depset: DepsetSpec, resolve: Resolve
) -> None:
    for index, value in enumerate(depset.requirements):
        path = _file(matrix_path, f"{where}.requirements.{index}", value, resolve)
        requirement_tree(path)
    if depset.project is not None:
        folder = _folder(matrix_path, f"{where}.project.path", depset.project.path, resolve)
        if not any((folder / name).is_file() for name in ("pyproject.toml", "setup.py")):
            raise ConfigurationError(
                f"{matrix_path}: {where}.project.path: {folder} has no pyproject.toml",
                "name the folder that holds the project's pyproject.toml",
            )
    if depset.lockfile is not None:
        _check_lockfile(matrix_path, f"{where}.lockfile", depset.lockfile, resolve)
    if depset.source is not None:
        _folder(matrix_path, f"{where}.source", depset.source, resolve)
    if depset.tests is not None and depset.source is None:
        raise ConfigurationError(
            f"{matrix_path}: {where}.tests: a test command needs `source` (the folder it runs in)",
            f"add `source: PATH` to {where}, relative to the matrix file",
        )


def _check_lockfile(matrix_path: Path, key: str, value: str, resolve: Resolve) -> None:
    path = _file(matrix_path, key, value, resolve)
    if lockfile_kind(path) is None:
        raise ConfigurationError(
            f"{matrix_path}: {key}: {unsupported_message(path)}",
            "export it to a requirements file and list that under `requirements`",
        )
    try:
        export_lockfile(path)
    except ConfigurationError as err:
        raise ConfigurationError(f"{matrix_path}: {key}: {err.what}", err.fix) from None


def _file(matrix_path: Path, key: str, value: str, resolve: Resolve) -> Path:
    path = _resolved(matrix_path, key, value, resolve)
    if not path.is_file():
        raise ConfigurationError(
            f"{matrix_path}: {key}: {value!r} does not exist (relative to {matrix_path.parent})",
            "give the path of the file, relative to the matrix file",
        )
    return path


def _folder(matrix_path: Path, key: str, value: str, resolve: Resolve) -> Path:
    path = _resolved(matrix_path, key, value, resolve)
    if not path.is_dir():
        raise ConfigurationError(
            f"{matrix_path}: {key}: {value!r} is not a folder (relative to {matrix_path.parent})",
            "give the path of the folder, relative to the matrix file",
        )
    return path


def _resolved(matrix_path: Path, key: str, value: str, resolve: Resolve) -> Path:
    try:
        return resolve(value)
    except (ValueError, RuntimeError, OSError) as err:  # NUL bytes, unknown ~user
        raise ConfigurationError(
            f"{matrix_path}: {key}: {value!r}: {err}", "fix the path"
        ) from None


def requirement_tree(top: Path) -> list[tuple[Path, str]]:
    """``top`` and every file it includes (``-r``/``-c``), with their text.

    pip resolves an include relative to the including file; the cell mounts only
    ``top``'s folder, so an include outside it is a configuration error here rather than
    a confusing pip error in every cell.
    """
    root = top.parent.resolve()
    found: dict[Path, str] = {}
    pending = [(top.resolve(), 0)]
    while pending:
        path, depth = pending.pop()
        if path in found or depth > MAX_INCLUDE_DEPTH:
            continue
        found[path] = _read(path)
        for number, target in _includes(found[path]):
            included = (path.parent / target).resolve()
            _check_include(path, number, target, included, root)
            pending.append((included, depth + 1))
    return list(found.items())


def _includes(text: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _INCLUDE.match(line.split(" #")[0])
        if match and not _URL.match(match["target"]):  # a URL include is pip's to fetch
            found.append((number, match["target"]))
    return found


def _check_include(path: Path, number: int, target: str, included: Path, root: Path) -> None:
    where = f"{path}: line {number}: {target}"
    if not included.is_relative_to(root):
        raise ConfigurationError(
            f"{where}: outside {root}, which is the folder mounted into the cell",
            "keep the files a requirements file includes under its folder, or list them "
            "under `requirements` themselves",
        )
    if not included.is_file():
        raise ConfigurationError(f"{where}: no such file", "fix the include's path")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path}: cannot read: {err}", "check the file") from None


def requirement_urls(depset: DepsetSpec, resolve: Resolve) -> list[str]:
    """Every URL in the depset's requirements files and their includes (for redaction)."""
    urls: list[str] = []
    for value in depset.requirements:
        try:
            tree = requirement_tree(resolve(value))
        except ConfigurationError:  # reported when the matrix loaded
            continue
        urls += [url for _, text in tree for url in _URL.findall(text)]
    return urls
