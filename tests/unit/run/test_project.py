"""A depset of the user's project, decided without Docker: mounts, commands, outcomes,
the reproducer, and the redaction of tokens found in requirements files."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.engine.container import ExecOutcome
from harness.model.matrix import Cell, DepsetSpec, ProjectSpec, Settings, SuiteSpec, Timeouts
from harness.model.project_files import requirement_urls
from harness.model.results import BaseRecord
from harness.run import project
from harness.run.cell import CellJob, pip_install_command, reproducer
from harness.run.redact import Redactor

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "service"


def job(tmp_path: Path, depset: DepsetSpec) -> CellJob:
    return CellJob(
        cell=Cell("py311", "svc", Timeouts(60, 60), 1, "2g", None),
        repeat=0,
        run_id="r1",
        runner="host:1",
        base=BaseRecord(name="b", image="harness-standin/x:1", image_id="sha256:1"),
        depset=depset,
        settings=Settings(ca_bundle=None),
        probes_dir=ROOT / "probes",
        matrix_dir=EXAMPLE,
        out_dir=tmp_path,
    )


def locked(**tests: object) -> DepsetSpec:
    return DepsetSpec(
        lockfile="uv.lock",
        project=ProjectSpec(path=".", extras=["test"]),
        source=".",
        tests=SuiteSpec(command="python -m pytest -q tests", **tests),
    )


def test_one_folder_is_mounted_once_read_only_and_pip_gets_r(tmp_path: Path) -> None:
    depset = DepsetSpec(
        requirements=["requirements.txt"], project=ProjectSpec(path="."), source="."
    )
    the_job = job(tmp_path, depset)
    mounts = [user.mount for user in project.user_mounts(the_job)]
    assert [(m.host, m.target, m.read_only) for m in mounts] == [
        (str(EXAMPLE), "/harness/user/0", True)
    ]
    command = pip_install_command(the_job, [])
    assert command.endswith("-r /harness/user/0/requirements.txt")
    install = project.project_install_command(the_job, "/opt/v")
    assert "cp -a /harness/user/0 /tmp/harness-project" in install  # a writable copy
    assert "--no-deps" not in install


def test_a_lockfile_is_exported_on_the_host_and_the_project_installs_without_deps(
    tmp_path: Path,
) -> None:
    the_job = job(tmp_path, locked())
    assert project.write_lock_export(the_job) is None
    exported = project.lock_export_path(the_job)
    assert "flask==3.1.3" in exported.read_text()
    assert pip_install_command(the_job, []).endswith(f"-r /harness/user/lock/{exported.name}")
    install = project.project_install_command(the_job, "/opt/v")
    assert "--no-deps '/tmp/harness-project[test]'" in install


def test_the_test_command_gets_junitxml_only_when_it_is_pytest(tmp_path: Path) -> None:
    command = project.tests_command(job(tmp_path, locked(junit=True)), "/opt/v")
    assert command.endswith('python -m pytest -q tests "--junitxml=$HARNESS_JUNIT_XML"')
    assert 'PATH="/opt/v/bin:$PATH"' in command and "cd /tmp/harness-source" in command
    tox = locked(junit=True).model_copy(
        update={"tests": SuiteSpec(command="tox -e py", junit=True)}
    )
    assert project.tests_command(job(tmp_path, tox), "/opt/v").endswith("&& tox -e py")


def test_a_command_that_does_not_exist_is_the_cells_reason(tmp_path: Path) -> None:
    depset = locked().model_copy(update={"tests": SuiteSpec(command="FOO=1 nosuchtool -x")})
    outcome = ExecOutcome(127, "", "sh: 1: nosuchtool: not found", 0.01)
    record, reason = project.tests_outcome(job(tmp_path, depset), outcome, None)
    assert reason == "tests: command not found: nosuchtool"
    assert record["status"] == "failed" and record["error"] == reason


def test_failing_tests_are_named_in_the_reason(tmp_path: Path) -> None:
    xml = (
        '<testsuite><testcase classname="tests.t" name="a"><failure message="x"/></testcase>'
        '<testcase classname="tests.t" name="b"/></testsuite>'
    )
    record, reason = project.tests_outcome(
        job(tmp_path, locked(junit=True)), ExecOutcome(1, "1 failed", "", 2.0), xml
    )
    assert reason == "tests: 1 of 2 failed: tests.t::a"
    junit = record["junit"]
    assert junit is not None and junit["passed"] == 1
    passed, none = project.tests_outcome(
        job(tmp_path, locked(junit=True)), ExecOutcome(0, "", "", 1.0), ""
    )
    assert none is None and passed["junit_problem"] == "the test command wrote no JUnit XML"


def test_a_suite_stopped_by_the_probe_timeout_names_the_limit_and_its_value(
    tmp_path: Path,
) -> None:
    """Issue 24: "tests: timed out" said neither which limit nor how long."""
    the_job = job(tmp_path, locked())
    outcome = ExecOutcome(None, "collected 900 items", "", 60.4, timed_out=True)
    record, reason = project.tests_outcome(the_job, outcome, None)
    assert reason == (
        "tests: stopped after probe_timeout 60 s (settings.probe_timeout, or "
        "depsets.svc.probe_timeout for this depset)"
    )
    assert record["status"] == "failed" and record["error"] == reason


def test_the_reproducer_copies_the_users_files_and_runs_the_tests(tmp_path: Path) -> None:
    the_job = job(tmp_path, locked())
    project.write_lock_export(the_job)
    tests_step = {
        "name": "probe:tests",
        "kind": "probe",
        "command": project.tests_command(the_job, "/opt/v"),
    }
    install = {"name": "pip-install", "kind": "install", "command": "pip install -r x"}
    mounts = [user.mount for user in project.user_mounts(the_job)]
    dockerfile = reproducer(the_job, [install, tests_step], mounts, {})["dockerfile"]
    assert "COPY . /harness/user/0" in dockerfile
    assert "RUN mkdir -p /harness/user/lock && printf" in dockerfile  # the export, inline
    assert "'flask==3.1.3 --hash=sha256:" in dockerfile
    assert dockerfile.rstrip().endswith("python -m pytest -q tests")


def test_tokens_in_requirements_files_are_redacted(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE / "requirements-app.txt", tmp_path)
    (tmp_path / "requirements.txt").write_text(
        "-r requirements-app.txt\n--extra-index-url https://deploy:tok-9f8e7d@pkgs.corp/simple\n"
    )
    depset = DepsetSpec(requirements=["requirements.txt"])
    urls = requirement_urls(depset, lambda value: (tmp_path / value).resolve())
    redactor = Redactor.for_settings(urls, {})
    leaked = (
        "Looking in indexes: https://pypi.org/simple, https://deploy:tok-9f8e7d@pkgs.corp/simple"
    )
    assert "tok-9f8e7d" not in redactor.text(leaked)
    assert "tok-9f8e7d" not in redactor.text("pip said: bad credentials tok-9f8e7d")
