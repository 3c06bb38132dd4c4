"""pytest plugin: every cell of the matrix is a pytest item.

    pytest -p harness.plugin --matrix matrix.yaml -n 2 -k "py311 and spacy"

The controller (the only process without xdist, or xdist's controller) connects to the
engine, sweeps containers left by dead runs, resolves the bases and writes
``prepare.json`` before any worker starts; each item runs one cell and writes its own
result file; at the end the controller merges them into results.json and renders the
report. With ``--matrix`` given, the matrix file is the only thing collected.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.analysis import gate
from harness.analysis.diff import RunDiff
from harness.analysis.view import failure_account
from harness.analysis.vulns import ScannerSpec
from harness.engine import client as engine
from harness.model.errors import FatalError
from harness.model.ids import new_run_id, result_file_name, runner_token
from harness.model.matrix import PROBES_DIR, Cell, Matrix, load_matrix
from harness.model.status import FAILING
from harness.run import results
from harness.run.cell import CellJob, CellRun, write_cell_result
from harness.run.load import LoadMonitor
from harness.run.progress import Board, CellProgress
from harness.run.redact import Redactor

SKIPPING = {"unavailable", "unsupported"}
_client: Any = None
_current_config: pytest.Config | None = None  # logreport hooks get no config


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: base image × dependency set matrix")
    group.addoption("--matrix", help="matrix.yaml to run (collects only its cells)")
    group.addoption("--harness-out", help="output directory (default reports/<run-id>)")
    group.addoption("--run-id", help="run id (default: time-based)")
    group.addoption("--keep", action="store_true", help="keep containers for debugging")
    group.addoption("--resume", action="store_true", help="skip cells already in --harness-out")
    group.addoption(
        "--harness-console",
        action="store_true",
        help="harness run's own console: a live display or timestamped lines, no pytest glyphs",
    )
    group.addoption(
        "--fail-on",
        default="status",
        help="comma list of regressions that fail the run (see harness run --help)",
    )
    group.addoption(
        "--warm",
        action="store_true",
        help="install from a wheelhouse filled once (not a measurement)",
    )


# -- configuration ---------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("matrix", None)
    if not path:
        return
    try:
        matrix = load_matrix(path)
    except FatalError as err:
        raise pytest.UsageError(str(err)) from None
    worker = getattr(config, "workerinput", None)
    run_id = worker["harness_run_id"] if worker else config.getoption("run_id") or new_run_id()
    out = worker["harness_out"] if worker else config.getoption("harness_out")
    out_dir = Path(out or Path("reports") / run_id).resolve()
    config.addinivalue_line("markers", "harness_cell: one base × depset cell of the matrix")
    config.stash[STATE] = HarnessState(matrix, run_id, out_dir, config)
    if not worker and config.getoption("harness_console"):
        config.stash[STATE].board = Board.for_stream(sys.stdout, out_dir)
    if worker:  # containers carry the controller's pid: it is the run's life
        config.stash[STATE].runner = worker["harness_runner"]
    global _current_config
    _current_config = config
    config.args[:] = [str(matrix.path)]  # collect the matrix, not the test folders
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM cleans up like Ctrl-C
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(), "harness-xdist")


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class XdistHooks:
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        state = node.config.stash[STATE]
        node.workerinput["harness_run_id"] = state.run_id
        node.workerinput["harness_out"] = str(state.out_dir)
        node.workerinput["harness_runner"] = state.runner
        node.workerinput["harness_jobs"] = state.jobs

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if _state(config) is None:
            return None  # not a matrix run: xdist's own scheduler
        from harness.run.xdist_scheduler import LongestFirstScheduling

        return LongestFirstScheduling(config, log)


class HarnessState:
    def __init__(self, matrix: Matrix, run_id: str, out_dir: Path, config: pytest.Config) -> None:
        self.matrix = matrix
        self.run_id = run_id
        self.out_dir = out_dir
        self.config = config
        self.runner = runner_token()
        self.done = 0
        self.planned = 0
        self._prepared: dict[str, Any] | None = None
        self.monitor: LoadMonitor | None = None
        self.board: Board | None = None  # harness run's own console (controller only)

    @property
    def is_controller(self) -> bool:
        return not hasattr(self.config, "workerinput")

    @property
    def jobs(self) -> int:
        worker = getattr(self.config, "workerinput", None)
        if worker:
            return int(worker["harness_jobs"])
        value = getattr(self.config.option, "numprocesses", None)
        if isinstance(value, str):  # "auto"/"logical" before xdist resolves it
            return os.cpu_count() or 1
        return int(value) if value else 1

    def prepared(self) -> dict[str, Any]:
        if self._prepared is None:
            self._prepared = json.loads((self.out_dir / "prepare.json").read_text(encoding="utf-8"))
        return self._prepared

    def base(self, name: str) -> dict[str, Any]:
        return dict(next(b for b in self.prepared()["bases"] if b["name"] == name))

    def warm(self, cell_id: str) -> dict[str, str]:
        return dict(self.prepared().get("warm", {}).get(cell_id, {}))

    def uv(self, base: dict[str, Any]) -> dict[str, Any] | None:
        """The uv binary fetched for this base's machine, or why there is none."""
        by_machine = (self.prepared().get("installers") or {}).get("uv")
        if by_machine is None:
            return None
        from harness.run.uv import base_machine

        machine = base_machine(base, platform.machine())
        return dict(by_machine.get(machine) or {"reason": f"no uv fetched for {machine}"})


STATE = pytest.StashKey[HarnessState]()


def _state(config: pytest.Config) -> HarnessState | None:
    return config.stash.get(STATE, None)


def client() -> Any:
    global _client
    if _client is None:
        _client = engine.connect()
    return _client


# -- controller: prepare ---------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is not None and state.board is not None:
        _quiet_xdist(session.config)
    _start_session(session)


def _quiet_xdist(config: pytest.Config) -> None:
    """No 'bringing up nodes...' or worker status lines under harness run's console."""
    reporter = config.pluginmanager.get_plugin("terminaldistreporter")
    if reporter is not None:
        config.pluginmanager.unregister(reporter)
    dsession = config.pluginmanager.get_plugin("dsession")
    if dsession is not None:
        dsession.terminal = None  # xdist guards every status line with this


def _start_session(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is None or not state.is_controller:
        return
    try:
        prepare(state, _log(session.config))
    except FatalError as err:
        pytest.exit(str(err), returncode=getattr(err, "exit_code", 1))


def prepare(state: HarnessState, log: Any) -> None:
    """Engine, sweep, bases: all before the first container of this run starts."""
    docker_client = client()
    engine.sweep_dead_runs(docker_client, log=log)
    selected = selected_cells(state.matrix, state.config.getoption("keyword") or "")
    state.planned = sum(c.repeat for c in selected)
    needed = sorted({c.base for c in selected}, key=list(state.matrix.spec.bases).index)
    state.out_dir.mkdir(parents=True, exist_ok=True)
    resolver_log = state.board.base_event if state.board is not None else _prefixed(log)
    if state.board is not None:
        state.board.start()
    from harness.engine.bases import Resolver

    resolver = Resolver(docker_client, state.matrix, PROBES_DIR, log=resolver_log)
    bases = resolver.resolve_all(needed)
    if state.board is not None:
        state.board.bases_done()
        state.board.planned = state.planned
    started = results.now_iso()
    run = results.run_header(
        state.run_id, state.matrix, state.jobs, engine.engine_facts(docker_client), started
    )
    run["registry_reachable"] = resolver.registry.reachable
    run["cells_planned"] = state.planned
    run["keyword"] = state.config.getoption("keyword") or None
    prepared_path = state.out_dir / "prepare.json"
    if state.config.getoption("resume") and prepared_path.exists():
        run = {**json.loads(prepared_path.read_text())["run"], "resumed_at": started}
    ordered = [bases[name] for name in state.matrix.spec.bases if name in bases]
    warm_houses = _fill_warm(state, docker_client, bases, selected, log)
    run["warm"] = state.config.getoption("warm")
    installers = _fetch_installers(state, bases, selected, log)
    run["installers"] = installers
    results.write_json(
        prepared_path,
        {
            "run": run,
            "bases": ordered,
            "depsets": results.depset_records(state.matrix),
            "warm": warm_houses,
            "installers": installers,
        },
    )
    state.monitor = LoadMonitor(lambda: _other_containers(docker_client, state.run_id)).start()
    log(
        f"[harness] run {state.run_id}: {state.planned} cell run(s), jobs {state.jobs}, "
        f"output {state.out_dir}"
    )


def _other_containers(docker_client: Any, run_id: str) -> int:
    """Running containers on the engine that are not this run's."""
    running = docker_client.api.containers(filters={"status": "running"})
    return sum(1 for c in running if (c.get("Labels") or {}).get(engine.LABEL_RUN) != run_id)


def _fill_warm(
    state: HarnessState, client: Any, bases: dict[str, Any], cells: list[Cell], log: Any
) -> dict[str, dict[str, str]]:
    if not state.config.getoption("warm"):
        return {}
    from harness.run import warm

    labels = {engine.LABEL_RUN: state.run_id, engine.LABEL_RUNNER: state.runner}
    root = state.out_dir.parent / "wheelhouse"
    return warm.fill_all(client, state.matrix, bases, cells, root, labels, log)


def _fetch_installers(
    state: HarnessState, bases: dict[str, Any], cells: list[Cell], log: Any
) -> dict[str, Any]:
    """uv once per run, on the host, for the machines of the bases its cells use."""
    needed = [bases[c.base] for c in cells if c.installer == "uv" and c.base in bases]
    needed = [b for b in needed if b.get("status") == "available"]
    if not needed:
        return {}
    from harness.run import uv

    settings = state.matrix.settings
    log(f"[harness] fetching uv{'==' + settings.uv_version if settings.uv_version else ''}")
    found = uv.fetch_for_bases(
        needed,
        version=settings.uv_version,
        source_index_url=settings.uv_source_index_url,
        dest=uv.cache_root(),
        host_machine=platform.machine(),
    )
    for machine, facts in found.items():
        log(f"[harness] uv for {machine}: {facts.get('version') or facts.get('reason')}")
    return {"uv": found}


def selected_cells(matrix: Matrix, keyword: str) -> list[Cell]:
    if not keyword:
        return list(matrix.cells)
    from _pytest.mark.expression import Expression

    expression = Expression.compile(keyword)
    chosen = []
    for cell in matrix.cells:
        # The words pytest's -k sees: the item's name (the cell id), its keywords (base,
        # depset, installer: so `-k pip` and `-k "not uv"` work) and the matrix file.
        text = f"{cell.id} {cell.installer} {matrix.path.name}".lower()

        def matcher(name: str, /, **_kwargs: Any) -> bool:
            return name.lower() in text  # noqa: B023 - evaluated right away

        if expression.evaluate(matcher):
            chosen.append(cell)
    return chosen


def _log(config: pytest.Config) -> Any:
    state = _state(config)
    if state is not None and state.board is not None:
        return state.board.line
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return lambda line: print(line, file=sys.stderr)
    return lambda line: reporter.write_line(line)


def _prefixed(log: Any) -> Any:
    return lambda line: log(line if line.startswith("[") else f"[bases] {line}")


# -- collection ------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    state = _state(parent.config)
    if state is not None and file_path.resolve() == state.matrix.path:
        return MatrixFile.from_parent(parent, path=file_path)
    return None


class MatrixFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        state = _state(self.config)
        assert state is not None
        for cell in state.matrix.cells:
            for repeat in range(cell.repeat):
                name = cell.id if cell.repeat == 1 else f"{cell.id}[r{repeat}]"
                yield CellItem.from_parent(self, name=name, cell=cell, repeat=repeat)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest cells first (every worker computes the same order from the same files);
    under xdist, harness.xdist_scheduler deals them out from that order."""
    state = _state(config)
    if state is None:
        return
    from harness.run import schedule
    from harness.store import history
    from harness.store.rundir import load_results

    this_run: dict[str, Any] = {"id": state.run_id, "matrix": _matrix_identity(state)}
    this_run["warm"] = bool(config.getoption("warm"))
    previous_dir = history.previous_run_dir(state.out_dir.parent, {"run": this_run})
    if previous_dir is None:  # a first warm run still knows which cells are long from cold
        this_run["warm"] = not this_run["warm"]
        previous_dir = history.previous_run_dir(state.out_dir.parent, {"run": this_run})
    known = schedule.previous_durations(
        load_results(previous_dir / "results.json") if previous_dir else None
    )
    cells = [i for i in items if isinstance(i, CellItem)]
    durations = [
        schedule.estimate(i.cell, state.matrix.spec.depsets[i.cell.depset], known) for i in cells
    ]
    others = [i for i in items if not isinstance(i, CellItem)]
    items[:] = schedule.longest_first(cells, durations) + others


def _matrix_identity(state: HarnessState) -> dict[str, str]:
    return {"path": str(state.matrix.path), "sha256": state.matrix.sha256}


class CellFailure(Exception):
    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__(record.get("reason"))
        self.record = record


class CellItem(pytest.Item):
    def __init__(self, *, cell: Cell, repeat: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cell = cell
        self.repeat = repeat
        self.add_marker(pytest.mark.harness_cell)
        for word in (cell.base, cell.depset, cell.installer):
            self.keywords[word] = True

    def runtest(self) -> None:
        state = _state(self.config)
        assert state is not None
        record = self._existing(state) or self._run(state)
        self.user_properties.append(("status", record["status"]))
        _outcome(record)

    def _existing(self, state: HarnessState) -> dict[str, Any] | None:
        if not self.config.getoption("resume"):
            return None
        path = state.out_dir / "cells" / result_file_name(self.cell.id, self.repeat)
        try:
            record = dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None
        return None if record.get("engine_lost") else record  # not a result: run it again

    def _run(self, state: HarnessState) -> dict[str, Any]:
        settings = state.matrix.settings
        job = CellJob(
            cell=self.cell,
            repeat=self.repeat,
            run_id=state.run_id,
            runner=state.runner,
            base=state.base(self.cell.base),
            depset=state.matrix.spec.depsets[self.cell.depset],
            settings=settings,
            probes_dir=PROBES_DIR,
            matrix_dir=state.matrix.path.parent,
            out_dir=state.out_dir,
            keep=bool(self.config.getoption("keep")),
            warm_wheelhouse=state.warm(self.cell.id).get("wheelhouse"),
            warm_image=state.warm(self.cell.id).get("image"),
            uv=state.uv(state.base(self.cell.base)) if self.cell.installer == "uv" else None,
        )
        redactor = Redactor.for_settings(
            [settings.index_url, *settings.extra_index_urls], {**os.environ, **settings.env}
        )
        progress = CellProgress.for_cell(
            state.out_dir, result_file_name(self.cell.id, self.repeat), self.cell.id
        )
        run = CellRun(job, client(), redactor, log=progress.step)
        # Everything the record holds may carry a secret (the reproducer's env, reasons
        # quoting an engine error, probe output): mask it all before it is written.
        try:
            record: dict[str, Any] = redactor.deep(run.run())
        finally:
            progress.done()
        write_cell_result(
            state.out_dir,
            result_file_name(self.cell.id, self.repeat),
            record,
            "\n".join(run.full_log),
        )
        return record

    # Overrides pytest's Node.repr_failure(excinfo, style=None): the signature stays.
    def repr_failure(self, excinfo: Any, style: Any = None) -> str:  # noqa: ARG002
        if isinstance(excinfo.value, CellFailure):
            return failure_text(excinfo.value.record)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"cell {self.name}"


def _outcome(record: dict[str, Any]) -> None:
    status = record["status"]
    if status in FAILING:
        raise CellFailure(record)
    if status in SKIPPING:
        pytest.skip(f"{status}: {record.get('reason')}")
    if status == "expected-failure":
        pytest.xfail(str((record.get("expected_failure") or {}).get("reason")))


def failure_text(record: dict[str, Any]) -> str:
    lines = [f"{record['id']}: {record['status']}: {record.get('reason')}"]
    account = failure_account(record)
    if account is not None:
        lines += [f"    {line}" for line in account.cause]
        lines += [f"  fix: {account.hint}"] if account.hint else []
    for step in record.get("steps", []):
        if step["status"] != "passed":
            lines.append(f"--- step {step['name']} ({step['status']}, {step['seconds']} s)")
            lines.append(f"$ {step.get('command', '')}")
            lines += step.get("log_tail", "").splitlines()[-25:]
            break
    return "\n".join(lines)


# -- progress and the end of the session ---------------------------------------------


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    """Under harness run's console, pytest prints no glyph per cell: the board says it."""
    state = _state(config)
    if state is None or state.board is None:
        return None
    return report.outcome, "", ""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _current_config
    state = _state(config) if config else None
    if state is None or not state.is_controller or report.when != "teardown":
        return
    state.done += 1
    if state.board is not None:
        state.board.done = state.done
    status = dict(report.user_properties).get("status", report.outcome)
    running = min(state.jobs, max(state.planned - state.done, 0))
    left = max(state.planned - state.done - running, 0)
    _log(state.config)(
        f"[harness] {state.done}/{state.planned} done, {running} running, {left} waiting"
        f" | {report.nodeid.split('::')[-1]}: {status}"
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None:
        return
    from harness.engine.container import wait_for_background_removals

    wait_for_background_removals()  # warm cells' containers, in every process that ran cells
    if not state.is_controller:
        return
    if not (state.out_dir / "prepare.json").exists():
        return  # stopped before anything ran
    if state.board is not None:
        state.board.stop()  # what follows is the run's summary: plain lines
    load = state.monitor.stop() if state.monitor is not None else None
    # first: results must survive a lost engine
    merged = results.merge(state.out_dir, load=load)
    if not session.config.getoption("keep"):
        _remove_containers(state, _log(session.config))
    scanner = scanner_spec(state.matrix)
    run_diff = finish_outputs(state.out_dir, merged, _log(session.config), scanner)
    if int(exitstatus) != pytest.ExitCode.INTERRUPTED:  # interrupted: keep pytest's answer
        fail_on = gate.parse_fail_on(session.config.getoption("fail_on") or "status")
        session.exitstatus = gate.exit_code(merged, run_diff, fail_on)


def _remove_containers(state: HarnessState, log: Any) -> None:
    from harness.engine.container import ENGINE_ERRORS

    try:
        engine.remove_run_containers(client(), state.run_id)
    except (*ENGINE_ERRORS, FatalError) as err:
        log(f"[harness] could not remove this run's containers ({err}); `harness sweep` will")


def scanner_spec(matrix: Matrix) -> ScannerSpec | None:
    """matrix.yaml's scanner setting, its paths taken relative to matrix.yaml."""
    chosen = matrix.settings.scanner
    if chosen is None:
        return None
    binary = matrix.resolve_path(chosen.binary) if chosen.binary else None
    return ScannerSpec(chosen.name, matrix.resolve_path(chosen.db), binary)


def finish_outputs(
    out_dir: Path, merged: dict[str, Any], log: Any, scanner: ScannerSpec | None = None
) -> RunDiff | None:
    from harness.documents.publish import write_outputs

    published = write_outputs(out_dir, merged, scanner)
    for line in published.lines:
        log(line)
    return published.diff
