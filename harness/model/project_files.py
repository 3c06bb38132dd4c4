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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.model.errors import ConfigurationError
from harness.model.lockfiles import export_lockfile, lockfile_kind, unsupported_message

if TYPE_CHECKING:
    from harness.model.matrix import DepsetSpec

MAX_INCLUDE_DEPTH = 20
_INCLUDE = re.compile(
    r"^\s*(?P<option>-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+|(?=[^\s=]))(?P<target>\S+)"
)
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"]+")

Resolve = Callable[[str], Path]


# Builds a located problem from a key path under the depset (e.g. ("lockfile",)), the
# message and the fix: the matrix loader's, which knows the file and the lines.
Problem = Callable[[Iterable[Any], str, str], ConfigurationError]


def check_project_files(
    matrix_path: Path, problem: Problem, depset: DepsetSpec, resolve: Resolve
) -> list[ConfigurationError]:
    """Every problem with the files one depset names (none: an empty list)."""
    problems: list[ConfigurationError] = []
    for index, value in enumerate(depset.requirements):
        path = _existing(
            "file", matrix_path, problem, ("requirements", index), value, resolve, problems
        )
        if path is not None:
            try:
                requirement_tree(path)
            except ConfigurationError as err:  # located in the requirements file itself
                problems.append(err)
    if depset.project is not None:
        _check_project(matrix_path, problem, depset.project.path, resolve, problems)
    if depset.lockfile is not None:
        _check_lockfile(matrix_path, problem, depset.lockfile, resolve, problems)
    if depset.source is not None:
        _existing("folder", matrix_path, problem, ("source",), depset.source, resolve, problems)
    if depset.tests is not None and depset.source is None:
        problems.append(
            problem(
                ("tests",),
                "a test command needs `source` (the folder it runs in)",
                "add `source: PATH` to this depset, relative to the matrix file",
            )
        )
    return problems


def _check_project(
    matrix_path: Path,
    problem: Problem,
    value: str,
    resolve: Resolve,
    problems: list[ConfigurationError],
) -> None:
    folder = _existing(
        "folder", matrix_path, problem, ("project", "path"), value, resolve, problems
    )
    if folder is not None and not any(
        (folder / name).is_file() for name in ("pyproject.toml", "setup.py")
    ):
        problems.append(
            problem(
                ("project", "path"),
                f"{folder} has no pyproject.toml",
                "name the folder that holds the project's pyproject.toml",
            )
        )


def _check_lockfile(
    matrix_path: Path,
    problem: Problem,
    value: str,
    resolve: Resolve,
    problems: list[ConfigurationError],
) -> None:
    path = _existing("file", matrix_path, problem, ("lockfile",), value, resolve, problems)
    if path is None:
        return
    if lockfile_kind(path) is None:
        problems.append(
            problem(
                ("lockfile",),
                unsupported_message(path),
                "export it to a requirements file and list that under `requirements`",
            )
        )
        return
    try:
        export_lockfile(path)
    except ConfigurationError as err:
        problems.append(problem(("lockfile",), err.what, err.fix or "fix the lock file"))


def _existing(
    kind: str,
    matrix_path: Path,
    problem: Problem,
    key: tuple[Any, ...],
    value: str,
    resolve: Resolve,
    problems: list[ConfigurationError],
) -> Path | None:
    """The resolved path of a file or folder the depset names, or None with its problem."""
    path = _resolved(problem, key, value, resolve, problems)
    found = path is not None and (path.is_file() if kind == "file" else path.is_dir())
    if path is not None and not found:
        missing = "does not exist" if kind == "file" else "is not a folder"
        problems.append(
            problem(
                key,
                f"{value!r} {missing} (relative to {matrix_path.parent})",
                f"give the path of the {kind}, relative to the matrix file",
            )
        )
        return None
    return path


def _resolved(
    problem: Problem,
    key: tuple[Any, ...],
    value: str,
    resolve: Resolve,
    problems: list[ConfigurationError],
) -> Path | None:
    try:
        return resolve(value)
    except (ValueError, RuntimeError, OSError) as err:  # NUL bytes, unknown ~user
        problems.append(problem(key, f"{value!r}: {err}", "fix the path"))
        return None


def requirement_tree(top: Path) -> list[tuple[Path, str]]:
    """``top`` and every file it includes (``-r``/``-c``), with their text.

    pip resolves an include relative to the including file; the cell mounts only
    ``top``'s folder, so an include outside it is a configuration error here rather than
    a confusing pip error in every cell. So is an include loop (a file including itself,
    or two including each other): pip would recurse until its RecursionError, and every
    cell would fail with a bare "pip-install failed". A file included twice by different
    paths (a diamond) is no loop and is read once.
    """
    root = top.parent.resolve()
    found: dict[Path, str] = {}
    # Depth first, with the chain of includes that led to each file: (file, line, include).
    stack: list[tuple[Path, list[tuple[Path, int, str]]]] = [(top.resolve(), [])]
    while stack:
        path, chain = stack.pop()
        if path not in found:
            found[path] = _read(path)
        if len(chain) > MAX_INCLUDE_DEPTH:
            continue
        for number, option, target in reversed(_includes(found[path])):
            included = (path.parent / target).resolve()
            _check_include(path, number, f"{option} {target}", included, root)
            link = [*chain, (path, number, f"{option} {target}")]
            if included == path or included in [step[0] for step in chain]:
                raise _loop(link, included)
            stack.append((included, link))
    return list(found.items())


def _loop(chain: list[tuple[Path, int, str]], back_to: Path) -> ConfigurationError:
    """The include loop closed by the last include of ``chain``, named file by file."""
    start = next(index for index, (path, _, _) in enumerate(chain) if path == back_to)
    steps = [f"{path.name}:{number} {include}" for path, number, include in chain[start:]]
    last_path, last_line, last_include = chain[-1]
    return ConfigurationError(
        "include loop: " + " -> ".join(steps) + f" (back to {back_to.name})",
        "remove one include of the loop: pip would follow it until it fails",
        file=last_path,
        line=last_line,
        key=last_include,
    )


def _includes(text: str) -> list[tuple[int, str, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _INCLUDE.match(line.split(" #")[0])
        if match and not _URL.match(match["target"]):  # a URL include is pip's to fetch
            found.append((number, match["option"], match["target"]))
    return found


def _check_include(path: Path, number: int, include: str, included: Path, root: Path) -> None:
    if not included.is_relative_to(root):
        raise ConfigurationError(
            f"outside {root}, which is the folder mounted into the cell",
            "keep the files a requirements file includes under its folder, or list them "
            "under `requirements` themselves",
            file=path,
            line=number,
            key=include,
        )
    if not included.is_file():
        raise ConfigurationError(
            "no such file", "fix the include's path", file=path, line=number, key=include
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"cannot read: {err}", "check the file", file=path) from None


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
