"""The installer as evidence: the pip a cell's venv is given, and the pip it really has.

Pure functions from a cell's job to shell commands, and from their output to the record;
run/cell.py runs them as steps. A ``pip_version`` setting (per base, else matrix-wide) is
installed into the venv from the same indexes as the install (the container's PIP_INDEX_URL,
PIP_EXTRA_INDEX_URL and PIP_CERT, plus the wheelhouses) in its own timed and sized step; the
venv's pip version is then read from ``pip --version``, so a cell whose install fails still
says which pip failed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from harness.model.ids import DEFAULT_INSTALLER
from harness.model.results import Installer
from harness.run import project

if TYPE_CHECKING:  # run.cell imports this module
    from harness.run.cell import CellJob

# The step that installs the chosen pip into the venv, between "venv" and "pip-install".
PIP_SEED_STEP = "pip-upgrade"
_PIP_VERSION_LINE = re.compile(r"^pip (?P<version>\S+) from ", re.MULTILINE)


def installs_with_pip(job: CellJob) -> bool:
    """Whether pip installs something in this cell (requirements, a lockfile or a project)."""
    depset = job.depset
    uses_pip = project.needs_pip_step(depset) or depset.project is not None
    return job.cell.installer == DEFAULT_INSTALLER and uses_pip


def chosen_pip_version(job: CellJob) -> str | None:
    """The base's ``pip_version`` (carried on its record), else the matrix-wide one."""
    return job.base.pip_version or job.settings.pip_version


def pip_requirement(version: str) -> str:
    """``24.0`` -> ``pip==24.0``; a specifier (``>=24,<25``) is kept as written."""
    try:
        Version(version)
    except InvalidVersion:
        return f"pip{version.replace(' ', '')}"
    return f"pip=={version}"


def pip_seed_command(job: CellJob, venv: str, find_links: Sequence[str] = ()) -> str | None:
    """The shell command installing the chosen pip into ``venv``; None when no pip_version
    applies (none chosen, or the cell's installer is not pip)."""
    version = chosen_pip_version(job)
    if version is None or job.cell.installer != DEFAULT_INSTALLER:
        return None
    links = [f"--find-links {shlex.quote(link)}" for link in find_links]
    return " ".join(
        [
            f"{venv}/bin/python -m pip install --progress-bar off --disable-pip-version-check",
            *links,
            shlex.quote(pip_requirement(version)),
        ]
    )


def installer_version_command(venv: str) -> str:
    """Asks the venv's pip its version (independent of pip's install report)."""
    return f"{venv}/bin/python -m pip --version"


def parse_pip_version(output: str) -> str | None:
    """``pip 24.0 from /opt/harness-venv/... (python 3.11)`` -> ``24.0``; None otherwise."""
    match = _PIP_VERSION_LINE.search(output)
    return match.group("version") if match else None


def pip_installer_record(version: str | None, job: CellJob) -> Installer:
    """``{name, version, requested}`` for a pip cell: the version found in its venv and the
    pip_version asked for (None: the venv's own pip)."""
    return Installer(name=DEFAULT_INSTALLER, version=version, requested=chosen_pip_version(job))
