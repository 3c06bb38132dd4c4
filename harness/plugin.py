"""``pytest -p harness.plugin --matrix matrix.yaml``: the matrix as pytest items.

A thin adapter over the pipeline (harness/pipeline/steps.py), for teams who want cells in
their own pytest session (``--junitxml``, ``-x``, their CI's pytest reporting): it calls
the same steps ``harness run`` does, in pytest's hooks, one cell per item, in one process.

    configure  → load()                 (a mistake is pytest's usage error)
    sessionstart → prepare(), then prepare_task() for every base (and its preflight)
    each item  → execute_cell()
    sessionfinish → merge(), publish(), gate() → the session's exit status

``harness run`` never imports this module. It is optional: pytest is a dev dependency.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.view import failure_account
from harness.model.errors import FatalError
from harness.model.results import CellRecord
from harness.model.status import FAILING
from harness.pipeline import steps as pipeline

SKIPPING = {"unavailable", "unsupported"}
CONTEXT = pytest.StashKey[pipeline.RunContext]()
STATE = pytest.StashKey[pipeline.RunState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: base image × dependency set matrix")
    group.addoption("--matrix", help="matrix.yaml to run (collects only its cells)")
    group.addoption("--harness-out", help="output directory (default reports/<run-id>)")
    group.addoption("--keep", action="store_true", help="keep containers for debugging")
    group.addoption("--resume", action="store_true", help="skip cells already in --harness-out")
    group.addoption("--fail-on", default="status", help="see `harness run --help`")
    group.addoption("--warm", action="store_true", help="install from a wheelhouse (no timing)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("matrix", None)
    if not path:
        return
    if getattr(config.option, "dist", "no") != "no":
        # Before xdist's own configure: no worker processes. Each would prepare the run
        # again; pytest runs the items one at a time, `harness run --jobs N` in parallel.
        config.option.dist, config.option.tx, config.option.numprocesses = "no", [], None
        print(
            "harness.plugin: cells run one at a time under pytest (-n ignored); "
            "`harness run --jobs N` runs them in parallel",
            file=sys.stderr,
        )
    out = config.getoption("harness_out")
    resume = bool(config.getoption("resume"))
    if resume and not out:
        raise pytest.UsageError("--resume needs --harness-out DIR (the run to finish)")
    options = pipeline.RunOptions(
        matrix=str(path),
        out=out,
        keyword=config.option.keyword or None,
        keep=bool(config.getoption("keep")),
        resume=out if resume else None,
        warm=bool(config.getoption("warm")),
        fail_on=str(config.getoption("fail_on")),
    )
    try:
        context = pipeline.load(options)
    except FatalError as err:
        raise pytest.UsageError(str(err)) from None
    # -k selects cells by id, base and depset only (load() did): pytest's own matching
    # would also see the matrix file's name and folders.
    config.option.keyword = ""
    config.stash[CONTEXT] = context
    config.args[:] = [str(context.matrix.path)]  # collect the matrix, not test folders
    config.addinivalue_line("markers", "harness_cell: one base × depset cell of the matrix")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    context = session.config.stash.get(CONTEXT, None)
    if context is None or session.config.option.collectonly:
        return
    try:
        state = pipeline.prepare(context)
        session.config.stash[STATE] = state
        for base in context.bases:  # in order: a base built FROM another comes after it
            pipeline.prepare_task(context, state, base.name)
    except FatalError as err:
        pytest.exit(context.redactor.text(str(err)), returncode=err.exit_code)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    context = parent.config.stash.get(CONTEXT, None)
    if context is not None and file_path.resolve() == context.matrix.path:
        return MatrixFile.from_parent(parent, path=file_path)
    return None


class MatrixFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        for task in self.config.stash[CONTEXT].work:  # longest expected first
            yield CellItem.from_parent(self, name=task.label, cell=task.cell, repeat=task.repeat)


class CellFailure(Exception):
    def __init__(self, record: CellRecord) -> None:
        super().__init__(record.reason)
        self.record = record


class CellItem(pytest.Item):
    def __init__(self, *, cell: Any, repeat: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cell = cell
        self.repeat = repeat
        self.add_marker(pytest.mark.harness_cell)

    def runtest(self) -> None:
        context, state = self.config.stash[CONTEXT], self.config.stash[STATE]
        record = pipeline.execute_cell(context, state, self.cell, self.repeat)
        status = record.status
        if status in FAILING:
            raise CellFailure(record)
        if status in SKIPPING:
            pytest.skip(f"{status}: {record.reason}")
        if status == "expected-failure":
            expected = record.expected_failure
            pytest.xfail(str(expected.reason if expected is not None else None))

    # Overrides pytest's Node.repr_failure(excinfo, style=None): the signature stays.
    def repr_failure(self, excinfo: Any, style: Any = None) -> str:  # noqa: ARG002
        if isinstance(excinfo.value, CellFailure):
            return failure_text(excinfo.value.record)
        if isinstance(excinfo.value, FatalError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"cell {self.name}"


def failure_text(record: CellRecord) -> str:
    lines = [f"{record.id}: {record.status}: {record.reason}"]
    account = failure_account(record.to_dict())
    if account is not None:
        lines += [f"    {line}" for line in account.cause]
        lines += [f"  fix: {account.hint}"] if account.hint else []
    for step in record.steps:
        if step.status != "passed":
            lines.append(f"--- step {step.name} ({step.status}, {step.seconds} s)")
            lines.append(f"$ {step.command or ''}")
            lines += (step.log_tail or "").splitlines()[-25:]
            break
    return "\n".join(lines)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    context = session.config.stash.get(CONTEXT, None)
    state = session.config.stash.get(STATE, None)
    if context is None or state is None:
        return
    try:
        merged = pipeline.merge(context, state)
        published = pipeline.publish(context, state, merged) if merged is not None else None
        if state.fatal is not None:
            state.log(state.fatal)
            session.exitstatus = 1
        elif merged is not None and int(exitstatus) != pytest.ExitCode.INTERRUPTED:
            session.exitstatus = pipeline.gate(context, merged, published)
    finally:
        state.lock.release()
