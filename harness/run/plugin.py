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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.analysis import gate
from harness.analysis.diff import RunDiff
from harness.analysis.view import failure_account
from harness.analysis.vulns import ScannerSpec
from harness.documents.contents import write_cell_sbom
from harness.engine import client as engine
from harness.model.cache import cache_root
from harness.model.errors import DiskFullError, FatalError
from harness.model.ids import new_run_id, result_file_name, runner_token
from harness.model.matrix import PROBES_DIR, Cell, Matrix, Settings, load_matrix
from harness.model.plan import Plan, plan_from_record
from harness.model.project_files import requirement_urls
from harness.model.status import FAILING
from harness.run import results
from harness.run.cell import CellJob, CellRun, write_cell_result
from harness.run.load import LoadMonitor
from harness.run.progress import Board, CellProgress
from harness.run.redact import Redactor
from harness.store.rundir import RunLock, claim_run_dir, write_atomic

SKIPPING = {"unavailable", "unsupported"}
PREFLIGHT_TIMEOUT_S = 120.0  # per prediction: a hung index must not hold the run long
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
    group.addoption("--harness-plan", help="a shard plan (harness plan --format json)")
    group.addoption("--harness-shard", type=int, help="run only this shard (1-based) of the plan")


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
    state = HarnessState(matrix, run_id, out_dir, config)
    # -k selects cells by id, base and depset only: pytest's own matching would also see
    # the matrix file's name and folders (`-k hang` picking every cell of hang.yaml), so
    # harness takes the expression and deselects itself (pytest_collection_modifyitems).
    state.keyword = config.option.keyword or ""
    config.option.keyword = ""
    config.stash[STATE] = state
    state.shard = _shard_of(config)
    if not worker and config.getoption("harness_console"):
        state.board = Board.for_stream(sys.stdout, out_dir)
    if worker:  # containers carry the controller's pid: it is the run's life
        state.runner = worker["harness_runner"]
    else:  # one run directory, one writer: taken before anything is written into it
        try:
            selected_cells(matrix, state.keyword)  # a bad -k fails before anything is written
            state.lock = claim_run_dir(out_dir, run_id, bool(config.getoption("resume")))
        except FatalError as err:
            raise pytest.UsageError(state.redactor.text(str(err))) from None
    global _current_config
    _current_config = config
    config.args[:] = [str(matrix.path)]  # collect the matrix, not the test folders
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM cleans up like Ctrl-C
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(), "harness-xdist")


def _shard_of(config: pytest.Config) -> tuple[Plan, int] | None:
    path, index = config.getoption("harness_plan", None), config.getoption("harness_shard", None)
    if not path or not index:
        return None
    try:
        plan = plan_from_record(json.loads(Path(path).read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError) as err:
        raise pytest.UsageError(f"--harness-plan {path}: cannot read the plan ({err})") from None
    except FatalError as err:
        raise pytest.UsageError(str(err)) from None
    return plan, int(index)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = _state(config)
    if state is not None and state.lock is not None:
        state.lock.release()


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
        self.shard: tuple[Plan, int] | None = None  # (plan, K): a shard run owns K's cells
        self._prepared: dict[str, Any] | None = None
        self.monitor: LoadMonitor | None = None
        self.board: Board | None = None  # harness run's own console (controller only)
        self.lock: RunLock | None = None
        self.keyword = ""
        self.fatal: str | None = None  # a DiskFullError that stopped the run
        settings = matrix.settings
        # One redactor for the run: every writer and the console go through it.
        # The depsets' requirements files may carry index URLs with tokens too.
        file_urls = [
            url
            for depset in matrix.spec.depsets.values()
            for url in requirement_urls(depset, matrix.resolve_path)
        ]
        self.redactor = run_redactor(settings, matrix.spec.model_dump(mode="json"), file_urls)

    @property
    def history_dir(self) -> Path:
        from harness.store.history import history_location

        configured = self.matrix.settings.history_dir
        return history_location(
            self.out_dir, self.matrix.resolve_path(configured) if configured else None
        )

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
        pytest.exit(state.redactor.text(str(err)), returncode=getattr(err, "exit_code", 1))


def prepare(state: HarnessState, log: Any) -> None:
    """Engine, sweep, bases: all before the first container of this run starts."""
    docker_client = client()
    engine.sweep_dead_runs(docker_client, log=log)
    selected = selected_cells(state.matrix, state.keyword)
    state.planned = sum(c.repeat for c in selected)
    if state.shard is not None:
        owned = {r.cell_id for r in state.shard[0].shard(state.shard[1])}
        selected = [c for c in state.matrix.cells if c.id in owned]
        state.planned = len(state.shard[0].shard(state.shard[1]))
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
    run["registry_reachable"] = resolver.registries_reachable
    run["registries"] = resolver.registry_record()
    run["registry_mirror"] = state.matrix.settings.registry_mirror
    run["cells_planned"] = state.planned
    run["keyword"] = state.keyword or None
    run["history_dir"] = str(state.history_dir)
    if state.shard is not None:
        plan, index = state.shard
        run["keyword"] = plan.keyword
        run["shard"] = {"plan_id": plan.id, "index": index, "count": plan.count}
        run["plan"] = plan.record()
    prepared_path = state.out_dir / "prepare.json"
    if state.config.getoption("resume") and prepared_path.exists():
        run = {**json.loads(prepared_path.read_text())["run"], "resumed_at": started}
    for name in needed:
        bases[name]["interpreter_speed"] = resolver.interpreter_speed(name)
    # Engine errors quoted in a base's reason must not carry a registry login either.
    redactor = state.redactor
    _keep_build_logs(state.out_dir, bases, redactor)
    ordered = [redactor.deep(bases[name]) for name in state.matrix.spec.bases if name in bases]
    warm = bool(state.config.getoption("warm"))
    forecasts = _preflight(state, bases, selected, warm, log)
    warm_houses = _fill_warm(state, docker_client, bases, selected, log)
    run["warm"] = warm
    installers = _fetch_installers(state, bases, selected, log)
    run["installers"] = installers
    prepared = {
        "run": run,
        "bases": ordered,
        "depsets": results.depset_records(state.matrix),
        "warm": warm_houses,
        "preflight": forecasts,
        "installers": installers,
    }
    results.write_json(prepared_path, state.redactor.deep(prepared))
    state.monitor = LoadMonitor(lambda: _other_containers(docker_client, state.run_id)).start()
    log(
        f"[harness] run {state.run_id}: {state.planned} cell run(s), jobs {state.jobs}, "
        f"output {state.out_dir}"
    )


def _preflight(
    state: HarnessState, bases: dict[str, Any], cells: list[Cell], warm: bool, log: Any
) -> dict[str, Any]:
    """Each cell's predicted install, by cell id (``settings.preflight``).

    Before any cell starts, so its pip runs share neither CPU nor network with a measured
    install. Not in warm mode: a warm install reads a wheelhouse of wheels built here, so
    it would contradict every sdist prediction without telling anything about the index.
    """
    if not state.matrix.settings.preflight or warm:
        return {}
    import time

    from harness.run.forecast import predict_cells

    started = time.monotonic()
    forecasts = predict_cells(state.matrix, cells, bases, timeout_s=PREFLIGHT_TIMEOUT_S)
    predicted = sum(1 for f in forecasts if f.prediction is not None)
    log(f"[harness] preflight: {predicted} cell(s) predicted in {time.monotonic() - started:.1f} s")
    return {f.cell_id: f.to_dict() for f in forecasts}


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
    # In harness's cache: shared by every warm run of the machine, wherever its --out is.
    root = cache_root() / "wheelhouse"
    return warm.fill_all(client, state.matrix, bases, cells, root, labels, log)


def _keep_build_logs(out_dir: Path, bases: dict[str, Any], redactor: Redactor) -> None:
    """A failed Dockerfile base's whole build log goes to logs/base-<name>.log; its record
    keeps the summary (prepare.json and results.json stay small)."""
    for name, record in bases.items():
        log = record.pop("build_log", None)
        if log:
            (out_dir / "logs").mkdir(parents=True, exist_ok=True)
            path = out_dir / "logs" / f"base-{name}.log"
            write_atomic(path, redactor.text(log))
            record["build_log_path"] = str(path.relative_to(out_dir))


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
    """The cells ``-k`` picks: a method of the matrix (model/keyword.py), no pytest internals."""
    return list(matrix.select(keyword))


def _log(config: pytest.Config) -> Any:
    """The console, through the run's redactor (a base's build error may quote anything)."""
    state = _state(config)
    scrub = state.redactor.text if state is not None else str
    if state is not None and state.board is not None:
        board = state.board
        return lambda line: board.line(scrub(line))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return lambda line: print(scrub(line), file=sys.stderr)
    return lambda line: reporter.write_line(scrub(line))


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

    previous = schedule.previous_results(
        state.history_dir, state.matrix, state.run_id, bool(config.getoption("warm"))
    )
    known = schedule.previous_durations(previous)
    chosen = {c.id for c in selected_cells(state.matrix, state.keyword)}
    dropped = [i for i in items if isinstance(i, CellItem) and i.cell.id not in chosen]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if not (isinstance(i, CellItem) and i.cell.id not in chosen)]
    if state.shard is not None:
        _keep_shard(config, items, state.shard)
    cells = [i for i in items if isinstance(i, CellItem)]
    durations = [
        schedule.estimate(i.cell, state.matrix.spec.depsets[i.cell.depset], known) for i in cells
    ]
    others = [i for i in items if not isinstance(i, CellItem)]
    items[:] = schedule.longest_first(cells, durations) + others


def _keep_shard(config: pytest.Config, items: list[pytest.Item], shard: tuple[Plan, int]) -> None:
    """Deselect every cell run the plan gives to another shard."""
    plan, index = shard
    owned = {r.key for r in plan.shard(index)}
    mine: list[pytest.Item] = []
    others: list[pytest.Item] = []
    for item in items:
        theirs = isinstance(item, CellItem) and (item.cell.id, item.repeat) not in owned
        (others if theirs else mine).append(item)
    if others:
        config.hook.pytest_deselected(items=others)
    items[:] = mine


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
        try:
            record = self._existing(state) or self._run(state)
        except DiskFullError as err:
            # The run cannot go on: stop every worker after this cell, tell the controller.
            self.user_properties.append(("fatal", str(err)))
            self.session.shouldstop = str(err)
            raise
        self.user_properties.append(("status", record["status"]))
        _outcome(record)

    def _existing(self, state: HarnessState) -> dict[str, Any] | None:
        if not self.config.getoption("resume"):
            return None
        path = state.out_dir / "cells" / result_file_name(self.cell.id, self.repeat)
        record = results.read_cell_file(path)  # None when not a cell record: run it again
        return None if record is None or record.get("engine_lost") else record

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
        redactor = state.redactor
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
            redactor.text("\n".join(run.full_log)),
        )
        write_cell_sbom(
            state.out_dir, record
        )  # the SBOM's cost is the cell's (H1: on-cell-finished)
        return record

    # Overrides pytest's Node.repr_failure(excinfo, style=None): the signature stays.
    def repr_failure(self, excinfo: Any, style: Any = None) -> str:  # noqa: ARG002
        if isinstance(excinfo.value, CellFailure):
            return failure_text(excinfo.value.record)
        if isinstance(excinfo.value, FatalError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"cell {self.name}"


def run_redactor(settings: Settings, inputs: Any = (), file_urls: Iterable[str] = ()) -> Redactor:
    """The run's one redactor: credentials in every URL of the user's inputs (the matrix,
    requirements files), secret-looking env values, the variables named in ``secrets``
    and the registry_auth passwords (whatever their variables are called)."""
    passwords = [auth.password_env for auth in settings.registry_auth.values()]
    return Redactor.for_inputs(
        [inputs, settings.index_url, settings.extra_index_urls, list(file_urls)],
        {**os.environ, **settings.env},
        [*settings.secrets, *passwords],
    )


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
    properties = dict(report.user_properties)
    if properties.get("fatal"):
        state.fatal = str(properties["fatal"])
    status = properties.get("status", report.outcome)
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
    log = _log(session.config)
    if not session.config.getoption("keep"):
        _remove_containers(state, log)
    try:
        # results first: they must survive a lost engine
        merged = results.merge(state.out_dir, load=load, redact=state.redactor.deep)
        run_diff = finish_outputs(state.out_dir, merged, log, scanner_spec(state.matrix))
    except DiskFullError as err:
        state.fatal = state.fatal or str(err)
    if state.fatal is not None:  # a full disk: one line, exit 1, finished cells kept
        log(state.fatal)
        session.exitstatus = 1
    elif int(exitstatus) != pytest.ExitCode.INTERRUPTED:  # interrupted: keep pytest's answer
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
