"""A depset made of the user's own project: their requirements files, lock file, project
and test suite, inside the cell.

Every host folder is mounted read-only; what must be written to (a project pip builds,
the source tree the tests run in) is copied inside the container first. The test command
runs after the installs with the cell's venv first on PATH, and with the network cut
unless the depset says ``tests.network: true``. With ``tests.junit: true`` the command's
JUnit XML is read from ``$HARNESS_JUNIT_XML``: a pytest command gets
``--junitxml=$HARNESS_JUNIT_XML`` appended; any other command writes that file itself.
A runtime cell (run/runtime.py) does the same exec-form, with the runtime's own Python:
``RUNTIME_TESTS_LAUNCHER`` copies the source and starts the command, ``read_junit_argv``
reads the file back (the engine's archive API cannot read a tmpfs /tmp).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Required, TypedDict

from harness.engine.container import ExecOutcome, Mount
from harness.model.errors import ConfigurationError
from harness.model.junit_report import JUnitSummary, parse_junit
from harness.model.lockfiles import export_lockfile
from harness.model.matrix import DepsetSpec
from harness.model.probe_output import TESTS_PROBE
from harness.store.files import INPUTS_DIR

if TYPE_CHECKING:
    from harness.run.cell import CellJob

USER_MOUNT = "/harness/user"  # each distinct host folder at /harness/user/<k>
LOCK_MOUNT = f"{USER_MOUNT}/lock"
PROJECT_COPY = "/tmp/harness-project"
SOURCE_COPY = "/tmp/harness-source"
JUNIT_PATH = "/tmp/harness-tests/junit.xml"
JUNIT_ENV = "HARNESS_JUNIT_XML"
TESTS_STEP = f"probe:{TESTS_PROBE}"
COMMAND_NOT_FOUND = 127
_PYTEST = re.compile(r"(^|[\s/])(py\.test|pytest)(\s|$)")


@dataclass(frozen=True)
class UserMount:
    """A mount of the user's files and how a reproducer's Dockerfile gets them instead."""

    mount: Mount
    context_path: str | None  # relative to the matrix folder: COPY it; None: written inline
    inline: str | None = None  # file content a Dockerfile writes itself (an exported lock)


def needs_pip_step(depset: DepsetSpec) -> bool:
    return bool(depset.pip or depset.requirements or depset.lockfile)


def user_folders(job: CellJob) -> dict[Path, str]:
    """Host folder → where the cell mounts it: each folder once (requirements files, the
    project and the source are often one folder, and a container mounts a source once)."""
    depset, home = job.depset, job.matrix_dir
    folders = [(home / value).resolve().parent for value in depset.requirements]
    folders += [(home / depset.project.path).resolve()] if depset.project else []
    folders += [(home / depset.source).resolve()] if depset.source else []
    return {folder: f"{USER_MOUNT}/{k}" for k, folder in enumerate(dict.fromkeys(folders))}


def _inside(job: CellJob, value: str, *, parent: bool = False) -> str:
    """The container path of a file or folder the depset names."""
    path = (job.matrix_dir / value).resolve()
    folder = path.parent if parent else path
    mounted = user_folders(job)[folder]
    return f"{mounted}/{path.name}" if parent else mounted


def user_mounts(job: CellJob) -> list[UserMount]:
    home = job.matrix_dir
    mounts = [_mount(folder, target, home) for folder, target in user_folders(job).items()]
    if job.depset.lockfile:
        exported = lock_export_path(job)
        text = exported.read_text(encoding="utf-8") if exported.is_file() else ""
        mounts.append(UserMount(Mount(str(exported.parent), LOCK_MOUNT), None, text))
    return mounts


def _mount(folder: Path, target: str, home: Path) -> UserMount:
    try:
        relative = str(folder.relative_to(home.resolve())) or "."
    except ValueError:
        relative = str(folder)  # outside the project folder: the Dockerfile says so
    return UserMount(Mount(str(folder), target), relative)


def lock_export_path(job: CellJob) -> Path:
    name = Path(str(job.depset.lockfile)).name
    return job.out_dir / INPUTS_DIR / job.cell.depset / f"{name}.requirements.txt"


def write_lock_export(job: CellJob) -> str | None:
    """Export the lock file on the host for pip -r; the problem, when there is one.

    Checked when the matrix loaded; exported again per cell, before its container starts
    (the folder is mounted), so a lock file edited since then is what the cell installs.
    """
    if not job.depset.lockfile:
        return None
    target = lock_export_path(job)
    try:
        export = export_lockfile((job.matrix_dir / job.depset.lockfile).resolve())
    except ConfigurationError as err:
        return f"lockfile: {err.what}"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{job.cell.base}.{job.repeat}.tmp")
    temporary.write_text(export.text, encoding="utf-8")
    temporary.replace(target)  # atomic: cells of other bases read the same file
    return None


def dockerfile_lines(job: CellJob) -> list[str]:
    """The user's files for a reproducer's Dockerfile, built from the matrix's folder."""
    mounts = user_mounts(job)
    lines = [f"# build it from {job.matrix_dir}: docker build -f THIS_FILE ."] if mounts else []
    for user in mounts:
        target = user.mount.target
        if user.context_path is not None:
            lines.append(f"COPY {user.context_path} {target}")
        else:  # exported by harness into the run folder: written here, so nothing is missing
            name = lock_export_path(job).name
            content = " ".join(shlex.quote(line) for line in (user.inline or "").splitlines())
            lines.append(f"RUN mkdir -p {target} && printf '%s\\n' {content} > {target}/{name}")
    return lines


def requirement_args(job: CellJob) -> list[str]:
    args = [f"-r {shlex.quote(_inside(job, v, parent=True))}" for v in job.depset.requirements]
    if job.depset.lockfile:
        args.append(f"-r {LOCK_MOUNT}/{shlex.quote(lock_export_path(job).name)}")
    return args


def project_install_command(job: CellJob, venv: str) -> str:
    """``pip install DIR[extras]`` from a writable copy (pip builds in the project folder).

    With a lock file the dependencies are already pinned and installed: ``--no-deps``
    keeps pip from resolving them again, as ``uv sync`` installs the project itself.
    """
    depset = job.depset
    assert depset.project is not None
    mounted = _inside(job, depset.project.path)
    extras = f"[{','.join(depset.project.extras)}]" if depset.project.extras else ""
    no_deps = " --no-deps" if depset.lockfile else ""
    return (
        f"rm -rf {PROJECT_COPY} && cp -a {mounted} {PROJECT_COPY} && "
        f"{venv}/bin/python -m pip install --progress-bar off{no_deps} "
        f"{shlex.quote(PROJECT_COPY + extras)}"
    )


def tests_command(job: CellJob, venv: str) -> str:
    depset = job.depset
    assert depset.tests is not None and depset.source is not None
    mounted = _inside(job, depset.source)
    command = depset.tests.command
    if appends_junitxml(depset):
        command += f' "--junitxml=${JUNIT_ENV}"'
    return (
        f"rm -rf {SOURCE_COPY} {Path(JUNIT_PATH).parent} && mkdir -p {Path(JUNIT_PATH).parent} && "
        f"cp -a {mounted} {SOURCE_COPY} && cd {SOURCE_COPY} && "
        f'export PATH="{venv}/bin:$PATH" VIRTUAL_ENV={venv} {JUNIT_ENV}={JUNIT_PATH} && '
        f"{command}"
    )


def appends_junitxml(depset: DepsetSpec) -> bool:
    """Whether harness adds ``--junitxml`` to the command (``junit: true`` and pytest)."""
    return bool(depset.tests and depset.tests.junit and _PYTEST.search(depset.tests.command))


def read_junit_command() -> list[str]:
    return ["sh", "-c", f"cat {JUNIT_PATH} 2>/dev/null"]


# What tests_command's shell line does, for a runtime without a shell (run exec-form by
# the runtime's python, as the image's user): argv = the mounted source, where to copy it
# (the mount is read-only), the JUnit file's path, the venv, then the test command's argv.
# The JUnit file's folder is made empty, the venv goes first on PATH when the runtime has
# it; a program that is not there exits 127 with "not found", as a shell says.
RUNTIME_TESTS_LAUNCHER = f"""
import os, shutil, sys
source, copy, junit, venv, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
for folder in (copy, os.path.dirname(junit)):
    shutil.rmtree(folder, ignore_errors=True)
os.makedirs(os.path.dirname(junit))
shutil.copytree(source, copy, symlinks=True)
os.chdir(copy)
os.environ[{JUNIT_ENV!r}] = junit
if os.path.isdir(os.path.join(venv, "bin")):
    os.environ["PATH"] = os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", "")
    os.environ["VIRTUAL_ENV"] = venv
try:
    os.execv(argv[0], argv)
except FileNotFoundError:
    sys.stderr.write(argv[0] + ": not found\\n")
    sys.exit({COMMAND_NOT_FOUND})
"""


def runtime_tests_launch(python: str, source: str, venv: str, words: list[str]) -> list[str]:
    """argv that runs the test command ``words`` as tests_command does, without a shell."""
    return [python, "-c", RUNTIME_TESTS_LAUNCHER, source, SOURCE_COPY, JUNIT_PATH, venv, *words]


# Prints the JUnit file (nothing when the suite wrote none), with the runtime's python.
_READ_FILE = """
import sys
try:
    with open(sys.argv[1], encoding="utf-8", errors="replace") as handle:
        sys.stdout.write(handle.read())
except OSError:
    pass
"""


def read_junit_argv(python: str) -> list[str]:
    """``read_junit_command`` for a runtime without a shell or ``cat``."""
    return [python, "-c", _READ_FILE, JUNIT_PATH]


class TestsRecord(TypedDict, total=False):
    """The ``tests`` probe's record (read back as model.results.TestsProbe)."""

    status: Required[str]
    seconds: Required[float]
    exit_code: Required[int | None]
    command: Required[str]
    junit: Required[JUnitSummary | None]
    junit_problem: str
    error: str
    artifacts: Mapping[str, object]  # run/artifacts.py: what the suite wrote


def tests_outcome(
    job: CellJob, outcome: ExecOutcome, junit_text: str | None
) -> tuple[TestsRecord, str | None]:
    """The ``tests`` probe's record and the cell's reason when the suite did not pass."""
    depset = job.depset
    assert depset.tests is not None
    passed = outcome.exit_code == 0 and not outcome.timed_out
    record: TestsRecord = {
        "status": "passed" if passed else "failed",
        "seconds": round(outcome.seconds, 3),
        "exit_code": outcome.exit_code,
        "command": depset.tests.command,
        "junit": None,
    }
    if depset.tests.junit:
        record["junit"], problem = parse_junit(junit_text or "")
        if problem:
            record["junit_problem"] = problem
    reason = None if passed else tests_reason(job, outcome, record["junit"])
    if reason:
        record["error"] = reason
    return record, reason


def tests_reason(job: CellJob, outcome: ExecOutcome, junit: JUnitSummary | None) -> str:
    assert job.depset.tests is not None
    command = job.depset.tests.command
    if outcome.timed_out:  # the suite runs as a probe: the cell's probe limit stopped it
        return (
            f"tests: stopped after probe_timeout {job.cell.timeouts.probe:g} s "
            f"(settings.probe_timeout, or depsets.{job.cell.depset}.probe_timeout for this depset)"
        )
    if outcome.exit_code == COMMAND_NOT_FOUND and "not found" in outcome.output:
        return f"tests: command not found: {_program(command)}"
    if junit and (junit["failed"] or junit["errors"]):
        bad = junit["failed"] + junit["errors"]
        names = ", ".join(f["name"] for f in junit["failing"][:3])
        more = f" and {bad - 3} more" if bad > 3 else ""
        return f"tests: {bad} of {junit['tests']} failed: {names}{more}"
    last = outcome.output.strip().splitlines()[-1:] or [""]
    return f"tests: the command exited {outcome.exit_code}" + (
        f": {last[0][:200]}" if last[0] else ""
    )


def _program(command: str) -> str:
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    # Skip leading VAR=value assignments: the program is the first word that is not one.
    return next((w for w in words if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)), command)
