"""Runtime cells' rules (harness.run.runtime): when an environment installed in a builder
can run in a runtime, which form is copied, what is left behind, and the copy's archive."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from harness.model.results import BaseRecord, Capabilities
from harness.run.runtime import (
    SITE_PACKAGES_FORM,
    VENV_FORM,
    agreement_problem,
    copy_form,
    left_behind,
    predicted_interpreter,
    rewrite_archive,
    runtime_tests_argv,
)

SLIM: dict[str, Any] = {
    "status": "passed",
    "shell": True,
    "executable": "/usr/local/bin/python3.11",
    "python_version": "3.11.2",
    "pythons": [
        {"path": "/usr/local/bin/python3.11", "target": "/usr/bin/python3.11"},
        {"path": "/usr/bin/python3.11", "target": "/usr/bin/python3.11"},
    ],
    "libc": {"family": "glibc", "version": "2.36"},
    "abiflags": "",
}
DISTROLESS: dict[str, Any] = {
    **SLIM,
    "shell": False,
    "executable": "/usr/bin/python3.11",
    "pythons": [{"path": "/usr/bin/python3.11", "target": "/usr/bin/python3.11"}],
}


def caps(base: dict[str, Any], **changes: Any) -> Capabilities:
    return Capabilities.from_dict({**base, **changes})


def test_the_same_python_and_libc_agree() -> None:
    assert agreement_problem("slim", caps(SLIM), "distroless", caps(DISTROLESS)) is None
    newer_libc = caps(DISTROLESS, libc={"family": "glibc", "version": "2.41"})
    assert agreement_problem("slim", caps(SLIM), "d", newer_libc) is None


OLD_GLIBC = {"family": "glibc", "version": "2.31"}
MUSL = {"family": "musl", "version": "1.2.5"}
NO_PYTHON = {"status": "error", "error": "exec: python3: not found"}
MISMATCHES = [
    (SLIM, {**DISTROLESS, "python_version": "3.13.5"}, "3.11.2, runtime d has Python 3.13.5"),
    (SLIM, {**DISTROLESS, "libc": MUSL}, "builder uses glibc, runtime d uses musl"),
    (SLIM, {**DISTROLESS, "libc": OLD_GLIBC}, "glibc 2.31, older than the builder's 2.36"),
    (SLIM, {**DISTROLESS, "abiflags": "t"}, "flags '(none)' differ from runtime d's 't'"),
    ({**SLIM, "shell": False}, DISTROLESS, "builder b has no shell"),
    (SLIM, NO_PYTHON, "runtime d has no Python harness can run (exec: python3: not found)"),
    ({"status": "error", "error": "boom"}, DISTROLESS, "its Python could not be probed (boom)"),
]


@pytest.mark.parametrize(("builder", "runtime", "words"), MISMATCHES)
def test_a_mismatch_is_named(builder: dict[str, Any], runtime: dict[str, Any], words: str) -> None:
    problem = agreement_problem("b", caps(builder), "d", caps(runtime))
    assert problem is not None and words in problem


def test_a_runtime_never_probed_has_no_python_to_run() -> None:
    problem = agreement_problem("b", caps(SLIM), "scratch", None)
    assert problem is not None and "runtime scratch has no Python" in problem


def test_a_venv_is_copied_when_its_interpreter_path_is_there() -> None:
    form, why = copy_form("auto", "/usr/local/bin/python3.11", caps(SLIM))
    assert form == VENV_FORM and "/usr/local/bin/python3.11" in why


def test_auto_copies_site_packages_when_the_venv_would_not_start() -> None:
    form, why = copy_form("auto", "/usr/local/bin/python3.11", caps(DISTROLESS))
    assert form == SITE_PACKAGES_FORM
    assert why.startswith(
        "builder python at /usr/local/bin/python3.11, runtime has /usr/bin/python3.11: "
        "a venv copied across does not start"
    )


def test_copy_venv_to_another_python_path_stops_with_the_reason() -> None:
    form, why = copy_form("venv", "/usr/local/bin/python3.11", caps(DISTROLESS))
    assert form is None
    assert "builder python at /usr/local/bin/python3.11, runtime has /usr/bin/python3.11" in why
    assert "copy: site-packages" in why  # the fix


def test_copy_site_packages_is_taken_as_asked() -> None:
    assert copy_form("site-packages", "/usr/bin/python3.11", caps(SLIM))[0] == SITE_PACKAGES_FORM


def test_left_behind_is_what_the_final_image_lacks_largest_first() -> None:
    builder = {
        "/usr/local/lib/python3.11/site-packages/pip": ("pip", 7_000_000),
        "/root/.cache": ("cache", 50),
        "/usr/include": ("build-tools", 0),
        "/tmp": ("cache", 10),
    }
    final = {"/tmp": ("cache", 10), "/root/.cache": ("cache", 20)}
    items = left_behind(builder, final)
    assert [(i.kind, i.path, i.bytes) for i in items] == [
        ("pip", "/usr/local/lib/python3.11/site-packages/pip", 7_000_000),
        ("cache", "/root/.cache", 30),
    ]


def _tar(entries: list[tuple[str, bytes | None, str | None]]) -> io.BytesIO:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, content, link in entries:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.LNKTYPE, link
                tar.addfile(info)
            elif content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    data.seek(0)
    return data


def test_the_copy_moves_every_entry_and_counts_file_bytes() -> None:
    source = _tar(
        [
            ("site-packages", None, None),
            ("site-packages/six.py", b"x" * 100, None),
            ("site-packages/copy.py", None, "site-packages/six.py"),
        ]
    )
    out = io.BytesIO()
    copied, entries = rewrite_archive(source, out, "site-packages", "opt/env/site-packages")
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = [(m.name, m.linkname) for m in tar.getmembers()]
    assert (copied, entries) == (100, 3)
    assert members == [
        ("opt/env/site-packages", ""),
        ("opt/env/site-packages/six.py", ""),
        ("opt/env/site-packages/copy.py", "opt/env/site-packages/six.py"),
    ]


def _suite(command: str, **more: Any) -> Any:
    from harness.model.matrix import DepsetSpec, SuiteSpec

    return DepsetSpec(pip=["pytest"], source=".", tests=SuiteSpec(command=command, **more))


def test_the_tests_run_exec_form_from_a_copy_of_the_project_folder() -> None:
    from harness.run import project

    suite = _suite("python -m pytest -q 'tests/a b'")
    argv = runtime_tests_argv(suite, "/usr/bin/python3.11", "/src")
    assert argv == [
        "/usr/bin/python3.11", "-c", project.RUNTIME_TESTS_LAUNCHER, "/src",
        project.SOURCE_COPY, project.JUNIT_PATH, "/opt/harness-venv",
        "/usr/bin/python3.11", "-m", "pytest", "-q", "tests/a b",
    ]  # fmt: skip
    venv_python = "/opt/harness-venv/bin/python"  # the venv form (site-packages: below)
    assert runtime_tests_argv(_suite("pytest -x"), venv_python, "/s")[7:] == [
        "/opt/harness-venv/bin/pytest",
        "-x",
    ]
    # junit: true adds --junitxml as a single-stage cell does, for pytest only
    junit = runtime_tests_argv(_suite("python -m pytest -q", junit=True), "/p", "/s")
    assert junit[-1] == f"--junitxml={project.JUNIT_PATH}"
    other = runtime_tests_argv(_suite("python run_tests.py", junit=True), "/p", "/s")
    assert other[-1] == "run_tests.py"


class _HostBox:
    """A runtime container stand-in: every exec runs on this host with its python, the
    container's paths (the mounted source, the copy, the JUnit file, the artifacts' tar)
    moved under a temporary folder; get_archive wraps a file in a tar as the engine does,
    or fails as the engine does for a file on a tmpfs. Only the runtime's python is ever
    started (no shell, no rm, no cat)."""

    def __init__(self, moved: dict[str, str], *, tmpfs: bool = False) -> None:
        self.moved = moved
        self.tmpfs = tmpfs
        self.container = self
        self.argvs: list[list[str]] = []
        self.users: list[str] = []

    def _host(self, text: str) -> str:
        for inside, host in self.moved.items():
            text = text.replace(inside, host)
        return text

    def exec(self, argv: list[str], timeout: float, environment: Any = None, user: str = "") -> Any:
        import subprocess
        import sys
        import time

        from harness.engine.container import ExecOutcome

        assert argv[0] == "/usr/bin/python3.11" and timeout > 0, argv
        self.argvs.append(argv)
        self.users.append(user)
        host = [self._host(a) for a in argv]
        host = [sys.executable if a == "/usr/bin/python3.11" else a for a in host]
        started = time.monotonic()
        env = {**__import__("os").environ, **(environment or {})}
        done = subprocess.run(host, capture_output=True, text=True, check=False, env=env)
        seconds = time.monotonic() - started
        return ExecOutcome(done.returncode, done.stdout, done.stderr, seconds)

    def get_archive(self, path: str) -> tuple[Any, dict[str, Any]]:
        if self.tmpfs:
            raise docker.errors.NotFound(f"Could not find the file {path} in container")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as outer:
            outer.add(self._host(path), arcname=Path(path).name)
        return iter([buffer.getvalue()]), {}


@pytest.mark.parametrize("tmpfs", [False, True], ids=["root", "read-only-tmpfs"])
def test_a_runtime_cell_records_the_suites_counts_and_artifacts(
    tmp_path: Path, tmpfs: bool
) -> None:
    """Exec-form, with the runtime's python only: the suite runs from a copy of the
    mounted project, its JUnit file is read back, what tests.artifacts names is copied
    into the run dir (printed by python when /tmp is a tmpfs the engine cannot read), and
    the step, the probe and the reason say what a single-stage cell would (one shared
    function records both)."""
    from dataclasses import replace

    from harness.model.results import TestsProbe
    from harness.run import artifacts, project
    from harness.run.cell import CellRun
    from harness.run.redact import Redactor
    from harness.run.runtime import _tests
    from harness.store.files import artifacts_folder

    source = tmp_path / "project"
    (source / "tests").mkdir(parents=True)
    (source / "tests" / "test_three.py").write_text(
        "import os\n"
        "def test_one():\n    open('report.txt', 'w').write('written by the suite')\n"
        "def test_two():\n    assert os.environ['HARNESS_JUNIT_XML'].endswith('junit.xml')\n"
        "def test_three():\n    assert 1 == 2\n",
        encoding="utf-8",
    )
    command = "python -m pytest -q -p no:cacheprovider tests"
    depset = _suite(command, junit=True, artifacts=["report.txt"])
    depset = depset.model_copy(update={"source": "project"})
    job = replace(_runtime_job(tmp_path, DISTROLESS), depset=depset, out_dir=tmp_path / "out")
    mounted = project._inside(job, "project")
    box = _HostBox({
        mounted: str(source),
        project.SOURCE_COPY: str(tmp_path / "copy"),
        str(Path(project.JUNIT_PATH).parent): str(tmp_path / "junit"),
        artifacts.INSIDE_TAR: str(tmp_path / "artifacts.tar"),
    }, tmpfs=tmpfs)  # fmt: skip
    run = CellRun(job, _NoEngine(), Redactor())  # type: ignore[arg-type]
    run.exec_form = True
    _tests(run, box, "/usr/bin/python3.11")  # type: ignore[arg-type]

    tests = TestsProbe.model_validate(run.facts.probes["tests"])
    junit, kept = tests.junit, tests.artifacts
    assert junit is not None and kept is not None, tests
    assert (junit.tests, junit.passed, junit.failed) == (3, 2, 1), tests
    assert [f.name for f in junit.failing] == ["tests.test_three::test_three"]
    assert tests.status == "failed"
    assert tests.error == "tests: 1 of 3 failed: tests.test_three::test_three"
    step = run.steps[-1]
    assert (step.name, step.status, step.reason) == ("probe:tests", "failed", tests.error)
    assert run.facts.reason == tests.error
    assert kept.problem is None, kept
    assert [f.path for f in kept.files] == ["report.txt"]
    copied = tmp_path / "out" / artifacts_folder(job.cell.id, 0) / "report.txt"
    assert copied.read_text(encoding="utf-8") == "written by the suite"
    assert not (source / "report.txt").exists()  # the mounted folder is never written
    assert not (tmp_path / "artifacts.tar").exists()  # removed, with python
    assert set(box.users) == {"65532"}  # the image's own user, for every exec


def test_a_missing_test_program_in_a_runtime_is_command_not_found(tmp_path: Path) -> None:
    import subprocess
    import sys

    from harness.run import project

    (tmp_path / "src").mkdir()
    argv = [
        sys.executable, "-c", project.RUNTIME_TESTS_LAUNCHER, str(tmp_path / "src"),
        str(tmp_path / "copy"), str(tmp_path / "j" / "junit.xml"), str(tmp_path / "venv"),
        str(tmp_path / "venv" / "bin" / "pytest"), "-x",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == project.COMMAND_NOT_FOUND and "not found" in done.stderr
    assert (tmp_path / "j").is_dir() and (tmp_path / "copy").is_dir()
    read = [sys.executable, *project.read_junit_argv("python")[1:-1], str(tmp_path / "j" / "x")]
    nothing = subprocess.run(read, capture_output=True, text=True, check=False)
    assert (nothing.returncode, nothing.stdout) == (0, "")


def test_the_venv_interpreter_is_predicted_in_path_order() -> None:
    assert predicted_interpreter("python3.11", caps(SLIM)) == "/usr/local/bin/python3.11"
    assert predicted_interpreter("/usr/bin/python3.11", caps(SLIM)) == "/usr/bin/python3.11"
    assert predicted_interpreter("python3.11", caps(DISTROLESS)) == "/usr/bin/python3.11"
    assert predicted_interpreter("python9", caps(SLIM)) == "/usr/local/bin/python3.11"


def test_a_runtime_cell_gets_its_builder_and_settings(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from harness.model.matrix import load_matrix
    from harness.pipeline.steps import runtime_plan
    from harness.run.redact import Redactor

    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nsettings: {read_only: true}\nbases:\n  slim: {image: s}\n"
        "  rt: {image: r, builder: slim, copy: venv}\n  rw: {image: r, builder: slim, "
        "read_only: false}\ndepsets:\n  one: {pip: [six]}\n"
    )
    asked: list[str] = []

    def resolve(name: str) -> dict[str, Any]:
        asked.append(name)
        return {"name": name, "status": "available"}

    context = SimpleNamespace(matrix=load_matrix(path), redactor=Redactor())
    state = SimpleNamespace(bases={}, resolver=SimpleNamespace(resolve=resolve))
    assert runtime_plan(context, state, "slim") is None  # type: ignore[arg-type]
    plan = runtime_plan(context, state, "rt")  # type: ignore[arg-type]
    assert plan is not None and asked == ["slim"]  # resolved: its own cells had not run
    assert (plan.builder, plan.copy, plan.read_only) == ("slim", "venv", True)
    state.bases["slim"] = {"name": "slim", "status": "available", "prepared": True}
    plan = runtime_plan(context, state, "rw")  # type: ignore[arg-type]
    assert plan is not None and plan.builder_base.to_dict()["prepared"] and asked == ["slim"]
    assert (plan.copy, plan.read_only) == ("auto", False)  # the base's own setting wins


class _NoEngine:
    """A client that fails the test if the cell touches the engine at all."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the engine was used: {name}")


def _runtime_job(tmp_path: Path, runtime_caps: dict[str, Any], **plan: Any) -> Any:
    from harness.model.matrix import Cell, DepsetSpec, Settings, Timeouts
    from harness.run.cell import CellJob
    from harness.run.runtime import RuntimePlan

    builder = {
        "name": "py311-slim", "status": "available", "image": "slim", "image_id": "sha256:1",
        "python_command": "python3.11", "capabilities": SLIM,
    }  # fmt: skip
    return CellJob(
        cell=Cell("distroless", "spacy", Timeouts(60, 60), 1, "2g", None),
        repeat=0,
        run_id="r1",
        runner="host:1",
        base=BaseRecord.from_dict(
            {
                "name": "distroless",
                "status": "available",
                "image": "d",
                "image_id": "sha256:2",
                "user": "65532",
                "size_bytes": 50_000_000,
                "compressed_bytes": 20_000_000,
                "capabilities": runtime_caps,
            }
        ),
        depset=DepsetSpec(pip=["spacy"]),
        settings=Settings(),
        probes_dir=tmp_path,
        matrix_dir=tmp_path,
        out_dir=tmp_path,
        runtime=RuntimePlan("py311-slim", BaseRecord.from_dict(builder), **plan),
    )


@pytest.mark.parametrize(
    ("runtime_caps", "plan", "words"),
    [
        (DISTROLESS, {"copy": "venv"}, "builder python at /usr/local/bin/python3.11, runtime"),
        ({**DISTROLESS, "python_version": "3.13.1"}, {}, "packages installed for 3.11"),
        ({"status": "error", "error": "no python3"}, {}, "runtime distroless has no Python"),
    ],
)
def test_a_runtime_cell_that_cannot_work_is_unsupported_before_any_container(
    tmp_path: Path, runtime_caps: dict[str, Any], plan: dict[str, Any], words: str
) -> None:
    from harness.run.cell import CellRun
    from harness.run.redact import Redactor

    run = CellRun(_runtime_job(tmp_path, runtime_caps, **plan), _NoEngine(), Redactor())  # type: ignore[arg-type]
    record = run.run()
    assert record.status == "unsupported" and words in (record.reason or "")
    assert record.runtime is not None and record.runtime.builder == "py311-slim"
    assert record.steps == [] and record.container is None
    assert record.reproducer is not None and "AS builder" in (record.reproducer.dockerfile or "")


def test_the_final_image_is_committed_with_the_runs_labels(tmp_path: Path) -> None:
    """A SIGKILLed run leaves its final image; only its run labels let a sweep find it.
    The final image is measured as a single-stage cell's: its total (the engine's size)
    and compressed (the runtime base's + the copied tar's gzip, level 6, as put)."""
    import gzip
    from types import SimpleNamespace

    from harness.engine.client import LABEL_CELL, LABEL_RUN, LABEL_RUNNER
    from harness.run.cell import CellFacts
    from harness.run.runtime import VenvFacts, _copy

    committed: list[dict[str, Any]] = []
    put: list[bytes] = []

    def put_archive(_path: str, data: Any) -> bool:
        put.append(data.read())
        return True

    staging = SimpleNamespace(id="c1", removed=False, put_archive=put_archive)
    staging.remove = lambda force: setattr(staging, "removed", force)

    def create(image: str, name: str, labels: dict[str, str]) -> Any:
        assert image == "sha256:2" and name.endswith("-final") and labels[LABEL_RUN] == "r1"
        return staging

    def commit(container: str, conf: dict[str, Any]) -> dict[str, str]:
        assert container == "c1"
        committed.append(conf)
        return {"Id": "sha256:final"}

    client = SimpleNamespace(
        containers=SimpleNamespace(create=create),
        api=SimpleNamespace(commit=commit),
        images=SimpleNamespace(
            get=lambda _i: SimpleNamespace(attrs={"Config": {"Env": []}, "Size": 50_004_096})
        ),
    )
    archive = _tar([("site-packages", None, None), ("site-packages/six.py", b"x" * 10, None)])
    box = SimpleNamespace(
        container=SimpleNamespace(get_archive=lambda *_a, **_k: (iter([archive.read()]), {}))
    )
    run = SimpleNamespace(
        job=_runtime_job(tmp_path, DISTROLESS),
        client=client,
        facts=CellFacts(),
        _record_step=lambda *_a, **_k: None,
        _amend=lambda **_k: None,
    )
    found = VenvFacts(site_packages="/usr/lib/python3/site-packages")
    image, copied, _target, _env = _copy(run, box, SITE_PACKAGES_FORM, found)  # type: ignore[arg-type]
    assert (image, copied, staging.removed) == ("sha256:final", 10, True)
    labels = committed[0]["Labels"]
    assert labels[LABEL_RUN] == "r1" and labels[LABEL_RUNNER] == "host:1"
    assert labels[LABEL_CELL] == "distroless×spacy"
    measures = run.facts.measures
    layer = len(gzip.compress(put[0], compresslevel=6, mtime=0))
    assert measures["image_size_bytes"] == 50_004_096
    assert measures["image_layer_compressed_bytes"] == layer
    assert measures["image_compressed_bytes"] == 20_000_000 + layer
    assert measures["image_compressed_sampled"] == 1.0
    assert measures["image_measure_seconds"] >= 0


def test_a_read_only_break_is_a_failed_write_not_any_failure() -> None:
    from harness.run.runtime import READ_ONLY_ERROR

    assert READ_ONLY_ERROR.search("OSError: [Errno 30] Read-only file system: '/app/.cache'")
    assert READ_ONLY_ERROR.search("touch: cannot touch 'x': Read-only file system")
    assert not READ_ONLY_ERROR.search("AssertionError: fails on purpose")


def test_a_program_in_the_site_packages_form_runs_as_its_module() -> None:
    # the distroless form copies site-packages only: no venv bin/pytest to start
    argv = runtime_tests_argv(_suite("pytest -x"), "/usr/bin/python3.11", "/s")
    assert argv[7:] == ["/usr/bin/python3.11", "-m", "pytest", "-x"]
    assert runtime_tests_argv(_suite("py.test"), "/usr/bin/python3.11", "/s")[9] == "pytest"
    # the venv form keeps the venv's own script
    venv = runtime_tests_argv(_suite("pytest -x"), "/opt/harness-venv/bin/python", "/s")
    assert venv[7:] == ["/opt/harness-venv/bin/pytest", "-x"]
