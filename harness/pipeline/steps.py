"""One ``harness run``, top to bottom.

    run(options)
      load(options)            → RunContext   everything checked, nothing written
      prepare(context)         → RunState     the run directory claimed, prepare.json begun
      execute(context, state)  → Execution    bases and cells on the executor's workers:
          prepare_base(…, name)                resolve, interpreter speed, warm, uv
          preflight_base(…, name)              the base's installs predicted, beside its cells
          execute_cell(…, cell, repeat)        one container, one cell file, cell_finished()
      merge(context, state)    → results      cells/ + prepare.json → results.json
      publish(context, results) → Published   report, summary, JUnit, SBOMs, history
      gate(context, results, published) → exit code

Every step takes the one frozen ``RunContext`` (built once from the options and the loaded
matrix); what the run accumulates while it goes (the engine client, the lock, the base
records) lives in ``RunState``. prepare.json is the run directory's own record (for
``--resume`` and merge), rewritten as each base resolves; nothing else passes through it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from harness.analysis import gate as gating
from harness.analysis.vulns import ScannerSpec
from harness.engine import client as engine
from harness.model.cache import cache_root
from harness.model.errors import ConfigurationError, DiskFullError, FatalError
from harness.model.ids import new_run_id, runner_token
from harness.model.matrix import PROBES_DIR, Cell, Matrix, Settings, load_matrix, registry_login
from harness.model.plan import Plan, parse_shard, plan_from_record
from harness.model.project_files import requirement_urls
from harness.model.results import BaseRecord, CellRecord, Results
from harness.model.status import FAILING
from harness.run import results, schedule
from harness.run.cell import CellJob, CellRun, write_cell_result
from harness.run.executor import BaseTask, CellTask, Execution, Executor
from harness.run.load import LoadMonitor
from harness.run.progress import Board, counts_text
from harness.run.redact import Redactor
from harness.run.runtime import RuntimePlan
from harness.store.files import (
    CELLS_DIR,
    LOGS_DIR,
    PLAN_JSON,
    PREPARE_JSON,
    base_log_name,
    result_file_name,
)
from harness.store.history import history_location
from harness.store.rundir import RunLock, claim_run_dir, write_atomic

if TYPE_CHECKING:  # the documents are imported when the run publishes (seconds of imports)
    from harness.documents.publish import Published
    from harness.engine.bases import ResolvedBase
    from harness.run.forecast import CellForecastJSON
    from harness.run.uv import UvFetched

PREFLIGHT_TIMEOUT_S = 120.0  # per prediction: a hung index must not hold the run long
PREFLIGHT_TASK = "preflight:"  # the executor's task that predicts one base's installs
INTERRUPTED = 130


@dataclass(frozen=True)
class RunOptions:
    """``harness run``'s options, as typed (also built by ``nightly`` and the adapter)."""

    matrix: str
    out: str | None = None
    jobs: int | None = None
    keyword: str | None = None
    keep: bool = False
    resume: str | None = None
    lf: bool = False
    warm: bool = False
    fail_on: str = "status"
    extra_args: tuple[str, ...] = ()  # after `--`: no longer taken (no pytest underneath)
    shard: str | None = None  # "K/N": run only shard K of the plan
    plan: str | None = None  # a plan file from `harness plan --format json`
    # A matrix built in memory (``harness check``): used instead of reading ``matrix``.
    loaded: Matrix | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        return cls(
            matrix=args.matrix,
            out=args.out,
            jobs=args.jobs,
            keyword=args.keyword,
            keep=args.keep,
            resume=args.resume,
            lf=args.lf,
            warm=args.warm,
            fail_on=args.fail_on,
            extra_args=tuple(getattr(args, "pytest_args", ()) or ()),
            shard=getattr(args, "shard", None),
            plan=getattr(args, "plan", None),
        )


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int
    out_dir: Path


@dataclass(frozen=True)
class RunContext:
    """Everything a run decided before it wrote anything; passed to every step."""

    options: RunOptions
    matrix: Matrix
    run_id: str
    out_dir: Path
    jobs: int
    keyword: str  # the -k expression ("" for none); a plan's own for a shard
    fail_on: frozenset[str]
    bases: tuple[BaseTask, ...]  # what the cells need, and what those are built from
    work: tuple[CellTask, ...]  # this run's cell runs, longest expected first
    shard: tuple[Plan, int] | None
    redactor: Redactor
    runner: str  # host:pid, on every container: a sweep tells live runs from dead ones
    history_dir: Path

    def cells_of(self, base: str) -> list[Cell]:
        """The distinct cells this run has on ``base``, in matrix order."""
        chosen = {t.cell.id for t in self.work if t.base == base}
        return [c for c in self.matrix.cells if c.id in chosen]


@dataclass
class RunState:
    """What the run builds up as it goes; shared by the executor's workers."""

    client: Any
    lock: RunLock
    executor: Executor
    board: Board
    run: results.RunHeader  # the run header of prepare.json and results.json
    bases: dict[str, ResolvedBase] = field(default_factory=dict)  # resolved, redacted
    preflight: dict[str, CellForecastJSON] = field(default_factory=dict)  # by cell id
    warm: dict[str, dict[str, str]] = field(default_factory=dict)
    # uv per machine: the binary's facts or why there is none (None: no uv asked for yet);
    # recorded as the run's ``installers``: {"uv": uv_binaries}
    uv_binaries: dict[str, UvFetched] | None = None
    resolver: Any = None
    monitor: LoadMonitor | None = None
    scrub: Callable[[str], str] = str  # the run's redactor: a build error may quote anything
    fatal: str | None = None  # a full disk that stopped the run
    interrupted: int | None = None  # the signal that stopped it
    guard: threading.Lock = field(default_factory=threading.Lock)

    def log(self, line: str) -> None:
        self.board.line(self.scrub(line))


# -- the run ---------------------------------------------------------------------------


def run(options: RunOptions) -> RunOutcome:
    """``harness run``: the steps in order. The exit code is the gate's (0 or 1), 130
    when interrupted, 1 for a full disk; FatalErrors go up to cli.entry.main."""
    early = _on_signals(_stop_now)  # until the executor's handler: stop where we are
    try:
        context = load(options)
        state = prepare(context)
    except KeyboardInterrupt:
        print("harness: interrupted before any cell started", file=sys.stderr)
        return RunOutcome(INTERRUPTED, Path(options.resume or options.out or "reports").resolve())
    finally:
        _restore_signals(early)
    previous = _on_signals(lambda signum: _interrupt(context, state, signum))
    try:
        try:
            execute(context, state)
        except BaseException:  # a FatalError from a base, or a bug: no container outlives it
            state.executor.stop()
            if not context.options.keep:
                _remove_containers(context, state)
            raise
        merged = merge(context, state)
        published = publish(context, state, merged) if merged is not None else None
        if state.fatal is not None:  # a full disk: one line, exit 1, finished cells kept
            state.log(state.fatal)
            return RunOutcome(1, context.out_dir)
        if state.interrupted is not None or merged is None:
            state.log(interrupted_message(context, state))
            return RunOutcome(INTERRUPTED, context.out_dir)
        return RunOutcome(gate(context, merged, published), context.out_dir)
    finally:
        _restore_signals(previous)
        state.board.stop()
        state.lock.release()


# -- 1. load: every check, no writes -----------------------------------------------------


def load(options: RunOptions) -> RunContext:
    """The options and the matrix, checked: a refused run (exit 2) has changed nothing on
    disk, so every check a user can fail comes before the first write (prepare)."""
    if options.extra_args:
        raise ConfigurationError(
            f"harness run takes no pytest arguments ({shlex.join(options.extra_args)})",
            "drop what follows `--`; for pytest's own options use "
            "`pytest -p harness.plugin --matrix MATRIX ...`",
        )
    fail_on = gating.parse_fail_on(options.fail_on)
    matrix = options.loaded if options.loaded is not None else load_matrix(options.matrix)
    jobs = options.jobs or matrix.settings.jobs
    if jobs < 1:
        raise ConfigurationError(f"--jobs {jobs}: must be 1 or more", "pass e.g. --jobs 2")
    shard_spec = parse_shard(options.shard) if options.shard else None
    if options.plan and shard_spec is None:
        raise ConfigurationError("--plan needs --shard K/N", "add e.g. --shard 1/2")
    for host in matrix.settings.registry_auth:
        registry_login(matrix, host, os.environ)  # a login variable not set: exit 2 now
    run_id, out_dir = _run_location(options)
    keyword = options.keyword or ""
    chosen = list(matrix.select(keyword))  # a bad -k: ConfigurationError, before any write
    history_dir = _history_dir(matrix, out_dir)
    previous = schedule.previous_results(history_dir, matrix, run_id, options.warm)
    runs = [(cell, repeat) for cell in chosen for repeat in range(cell.repeat)]
    shard = None
    if shard_spec is not None:
        shard = (_shard_plan(options, matrix, shard_spec, out_dir), shard_spec[0])
        owned = {r.key for r in shard[0].shard(shard[1])}
        runs = [(c, r) for c in matrix.cells for r in range(c.repeat) if (c.id, r) in owned]
        keyword = shard[0].keyword or ""
    elif options.lf:
        runs = _last_failed(runs, previous)
    known = schedule.previous_durations(previous)
    # Not in warm mode: a warm install reads a wheelhouse of wheels built here, so it would
    # contradict every sdist prediction without telling anything of the index.
    preflight = matrix.settings.preflight and not options.warm
    work = []
    for cell, repeat in runs:
        expected = schedule.estimate(cell, matrix.spec.depsets[cell.depset], known)
        label = cell.id if cell.repeat == 1 else f"{cell.id}[r{repeat}]"
        work.append(CellTask(label, cell.base, expected, cell, repeat))
    return RunContext(
        options=options,
        matrix=matrix,
        run_id=run_id,
        out_dir=out_dir,
        jobs=jobs,
        keyword=keyword,
        fail_on=fail_on,
        bases=_base_tasks(matrix, {t.base for t in work}, preflight),
        work=tuple(schedule.longest_first(work, [t.expected_seconds for t in work])),
        shard=shard,
        redactor=matrix_redactor(matrix),
        runner=runner_token(),
        history_dir=history_dir,
    )


def _run_location(options: RunOptions) -> tuple[str, Path]:
    if not options.resume:
        run_id = new_run_id()
        return run_id, Path(options.out or Path("reports") / run_id).resolve()
    out_dir = Path(options.resume).resolve()
    try:
        prepared = json.loads((out_dir / PREPARE_JSON).read_text(encoding="utf-8"))
        return str(prepared["run"]["id"]), out_dir
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"{out_dir}: not a run directory (no readable prepare.json)",
            "pass a reports/<run-id> directory written by `harness run`",
        ) from None


def _history_dir(matrix: Matrix, out_dir: Path) -> Path:
    configured = matrix.settings.history_dir
    return history_location(out_dir, matrix.resolve_path(configured) if configured else None)


def _shard_plan(options: RunOptions, matrix: Matrix, shard: tuple[int, int], out_dir: Path) -> Plan:
    """--plan's plan; else, resuming a shard, the plan it saved; else one made from the
    same inputs as `harness plan`."""
    index, count = shard
    saved = out_dir / PLAN_JSON
    if options.plan:
        plan = _read_plan(Path(options.plan), matrix, options.keyword)
    elif options.resume and saved.exists():
        plan = _read_plan(saved, matrix, options.keyword)
    else:
        from harness.run.shard import make_plan

        plan = make_plan(matrix, options.keyword, count, out_dir.parent)
    if plan.count != count:
        raise ConfigurationError(
            f"--shard {index}/{count}: the plan {options.plan or saved} has {plan.count} shards",
            f"use --shard K/{plan.count}",
        )
    if index > plan.count:  # parse_shard checks K ≤ N; a plan read from a file too
        raise ConfigurationError(f"--shard {index}/{count}: no such shard", "use K ≤ N")
    return plan


def _read_plan(path: Path, matrix: Matrix, keyword: str | None) -> Plan:
    try:
        plan = plan_from_record(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError) as err:
        raise ConfigurationError(
            f"--plan {path}: cannot read the plan ({err})",
            "write it with `harness plan MATRIX --shards N --format json > plan.json`",
        ) from None
    if plan.matrix_sha256 != matrix.sha256:
        raise ConfigurationError(
            f"--plan {path}: made for another version of the matrix (sha256 "
            f"{plan.matrix_sha256[:12]}, {matrix.path} is {matrix.sha256[:12]})",
            "make the plan again from this matrix, or check out the matrix the plan was made of",
        )
    if keyword and keyword != plan.keyword:
        raise ConfigurationError(
            f"-k {keyword!r}: the plan {path} already selects its cells "
            f"(made with -k {plan.keyword!r})",
            "drop -k, or make a new plan with that -k",
        )
    return plan


def _last_failed(runs: list[tuple[Cell, int]], previous: Results | None) -> list[tuple[Cell, int]]:
    """--lf: the cells that failed in the previous run of this matrix; all when none did
    (or there is no previous run), as pytest's --lf does."""
    cells = previous.cells if previous is not None else []
    failed = {c.id for c in cells if c.status in FAILING}
    chosen = [(cell, repeat) for cell, repeat in runs if cell.id in failed]
    return chosen or runs


def _base_tasks(matrix: Matrix, names: Iterable[str], preflight: bool) -> tuple[BaseTask, ...]:
    """The bases the cells need and, for a Dockerfile built FROM another base (its
    ``base_args``), that base too, each knowing what it waits for; matrix order. With
    ``preflight``, each needed base's preflight after it."""
    wanted = set(names)
    needs: dict[str, tuple[str, ...]] = {}
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name in needs or name not in matrix.spec.bases:
            continue
        spec = matrix.spec.bases[name]
        dockerfiles = [spec.dockerfile, spec.standin.dockerfile if spec.standin else None]
        needs[name] = tuple(
            other for d in dockerfiles if d is not None for other in d.base_args.values()
        )
        todo += needs[name]
    tasks = [BaseTask(n, needs[n]) for n in matrix.spec.bases if n in needs]
    if preflight:
        with_pip = {
            c.base for c in matrix.cells if c.base in wanted and matrix.spec.depsets[c.depset].pip
        }
        preflights = [n for n in matrix.spec.bases if n in with_pip]
        tasks += [BaseTask(PREFLIGHT_TASK + n, (n,), side=True) for n in preflights]
    return tuple(tasks)


def matrix_redactor(matrix: Matrix) -> Redactor:
    """The run's one redactor: every writer and the console go through it. The depsets'
    requirements files may carry index URLs with tokens too."""
    file_urls = [
        url
        for depset in matrix.spec.depsets.values()
        for url in requirement_urls(depset, matrix.resolve_path)
    ]
    return run_redactor(matrix.settings, matrix.spec.model_dump(mode="json"), file_urls)


def run_redactor(settings: Settings, inputs: Any = (), file_urls: Iterable[str] = ()) -> Redactor:
    """Credentials in every URL of the user's inputs (the matrix, requirements files),
    secret-looking env values, the variables named in ``secrets`` and the registry_auth
    passwords (whatever their variables are called)."""
    passwords = [auth.password_env for auth in settings.registry_auth.values()]
    return Redactor.for_inputs(
        [inputs, settings.index_url, settings.extra_index_urls, list(file_urls)],
        {**os.environ, **settings.env},
        [*settings.secrets, *passwords],
    )


# -- 2. prepare: the engine, the run directory, prepare.json ----------------------------


def prepare(context: RunContext, stream: Any = None) -> RunState:
    """Connect (exit 3 before anything is written), claim the run directory (refused:
    exit 2, nothing written), then sweep dead runs and begin prepare.json."""
    client = engine.connect()
    lock = claim_run_dir(context.out_dir, context.run_id, bool(context.options.resume))
    executor = Executor(context.jobs, lambda _name: None, lambda _task: "")
    board = Board.for_stream(executor, stream if stream is not None else sys.stdout)
    started = results.now_iso()
    header = results.run_header(
        context.run_id, context.matrix, context.jobs, engine.engine_facts(client), started
    )
    state = RunState(client, lock, executor, board, header, scrub=context.redactor.text)
    try:
        _begin(context, state, started)
    except BaseException:
        lock.release()
        raise
    return state


def _begin(context: RunContext, state: RunState, started: str) -> None:
    run = state.run
    run["cells_planned"] = len(context.work)
    run["keyword"] = context.keyword or None
    run["history_dir"] = str(context.history_dir)
    run["warm"] = context.options.warm
    run["registry_mirror"] = context.matrix.settings.registry_mirror
    if context.shard is not None:
        plan, index = context.shard
        run["shard"] = {"plan_id": plan.id, "index": index, "count": plan.count}
        run["plan"] = plan.record()
        results.write_json(context.out_dir / PLAN_JSON, plan.record())
        state.log(
            f"[harness] shard {index}/{plan.count} of plan {plan.id}: {len(plan.shard(index))} "
            f"cell run(s), about {plan.expected_seconds(index):.0f} s expected"
        )
    prepared_path = context.out_dir / PREPARE_JSON
    if context.options.resume and prepared_path.exists():
        earlier = json.loads(prepared_path.read_text(encoding="utf-8"))
        state.run = cast(results.RunHeader, {**earlier["run"], "resumed_at": started})
    engine.sweep_dead_runs(state.client, log=lambda line: state.log(f"[harness] {line}"))
    from harness.engine.bases import Resolver

    state.resolver = Resolver(state.client, context.matrix, PROBES_DIR, log=_base_log(state))
    _write_prepared(context, state)


def _base_log(state: RunState) -> Callable[[str], None]:
    """The resolver's lines: on the console, and as what the base's worker is doing."""

    def log(line: str) -> None:
        line = line if line.startswith("[") else f"[bases] {line}"
        state.executor.doing(line.removeprefix("[bases] "))
        state.log(line)

    return log


def _write_prepared(context: RunContext, state: RunState) -> None:
    """prepare.json: the run header and what is resolved so far (written at the start,
    and again as each base resolves, so an interrupted run can always be resumed)."""
    with state.guard:
        resolver = state.resolver
        state.run["registry_reachable"] = resolver.registries_reachable
        state.run["registries"] = resolver.registry_record()
        installers = {} if state.uv_binaries is None else {"uv": state.uv_binaries}
        state.run["installers"] = installers
        order = list(context.matrix.spec.bases)
        prepared = {
            "run": state.run,
            "bases": [state.bases[n] for n in order if n in state.bases],
            "depsets": results.depset_records(context.matrix),
            "warm": state.warm,
            "preflight": state.preflight,
            "installers": installers,
        }
        results.write_json(context.out_dir / PREPARE_JSON, context.redactor.deep(prepared))


def prepare_base(context: RunContext, state: RunState, name: str) -> ResolvedBase:
    """One base, on a worker: resolved (found, pulled or built), its interpreter timed,
    warmed and given uv; its cells are ready after this."""
    resolved: ResolvedBase = state.resolver.resolve(name)
    resolved["interpreter_speed"] = state.resolver.interpreter_speed(name)
    _keep_build_log(context, name, resolved)
    # An engine error may quote a registry login; redaction keeps the record's shape.
    record: ResolvedBase = context.redactor.deep(resolved)
    cells = context.cells_of(name)
    available = record["status"] == "available"
    if available and context.options.warm:
        from harness.run import warm

        labels = {engine.LABEL_RUN: context.run_id, engine.LABEL_RUNNER: context.runner}
        # In harness's cache: shared by every warm run of the machine, wherever its --out is.
        filled = warm.fill_all(
            state.client, context.matrix, {name: dict(record)}, cells,
            cache_root() / "wheelhouse", labels, state.log,
        )  # fmt: skip
        with state.guard:
            state.warm.update(filled)
    if available and any(c.installer == "uv" for c in cells):
        _fetch_uv(context, state, record)
    with state.guard:
        state.bases[name] = record
    _write_prepared(context, state)
    return record


def preflight_base(context: RunContext, state: RunState, name: str) -> None:
    """The predicted install of each of the base's cells (``settings.preflight``): pip on
    the host, a side task of the executor (its own thread, outside the --jobs workers: it
    runs no container) once the base is resolved, beside the cells rather than before them."""
    from harness.run.forecast import predict_cells

    state.executor.doing("predicting installs (pip on the host)")
    started = time.monotonic()
    bases = {name: state.bases[name]}
    cells = context.cells_of(name)
    forecasts = predict_cells(context.matrix, cells, bases, timeout_s=PREFLIGHT_TIMEOUT_S)
    predicted = sum(1 for f in forecasts if f.prediction is not None)
    seconds = time.monotonic() - started
    state.log(f"[harness] preflight: {predicted} cell(s) of {name} predicted in {seconds:.1f} s")
    with state.guard:
        state.preflight.update({f.cell_id: f.to_dict() for f in forecasts})
    _write_prepared(context, state)


def prepare_task(context: RunContext, state: RunState, name: str) -> None:
    """A task of ``context.bases``: a base, or the preflight of one."""
    if name.startswith(PREFLIGHT_TASK):
        preflight_base(context, state, name.removeprefix(PREFLIGHT_TASK))
    else:
        prepare_base(context, state, name)


def _keep_build_log(context: RunContext, name: str, record: ResolvedBase) -> None:
    """A failed Dockerfile base's whole build log goes to logs/base-<name>.log; its record
    keeps the summary (prepare.json and results.json stay small)."""
    log = record.pop("build_log", None)
    if log:
        path = context.out_dir / LOGS_DIR / base_log_name(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, context.redactor.text(log))
        record["build_log_path"] = str(path.relative_to(context.out_dir))


_UV_FETCH = threading.Lock()  # one fetch at a time: two bases of one machine share it


def _fetch_uv(context: RunContext, state: RunState, base: ResolvedBase) -> None:
    """uv once per machine and run, on the host."""
    from harness.run import uv

    machine = uv.base_machine(base, platform.machine())
    with _UV_FETCH:
        if machine in (state.uv_binaries or {}):
            return
        settings = context.matrix.settings
        state.log(
            f"[harness] fetching uv{'==' + settings.uv_version if settings.uv_version else ''}"
        )
        found = uv.fetch_for_bases(
            [base],
            version=settings.uv_version,
            source_index_url=settings.uv_source_index_url,
            dest=uv.cache_root(),
            host_machine=platform.machine(),
        )
        for each, facts in found.items():
            state.log(f"[harness] uv for {each}: {facts.get('version') or facts.get('reason')}")
        with state.guard:
            if state.uv_binaries is None:
                state.uv_binaries = {}
            state.uv_binaries.update(found)  # in place: the run header holds this dict


# -- 3. execute: the executor's workers ----------------------------------------------------


def execute(context: RunContext, state: RunState) -> Execution | None:
    """Bases and cells on ``jobs`` workers (run/executor.py); ``run()``'s signal handler
    stops it (start nothing more, remove this run's containers, keep the finished cells).
    None when a full disk stopped the run."""
    executor = state.executor
    executor.resolve_base = lambda name: prepare_task(context, state, name)
    executor.run_cell = lambda task: _status(execute_cell(context, state, task.cell, task.repeat))
    executor.on_cell = lambda kind, label, status, counts: (
        state.log(f"[harness] {counts_text(counts)} | {label}: {status}") if kind == "end" else None
    )
    state.log(
        f"[harness] run {context.run_id}: {len(context.work)} cell run(s), jobs {context.jobs}, "
        f"output {context.out_dir}"
    )
    client, run_id = state.client, context.run_id
    state.monitor = LoadMonitor(lambda: _other_containers(client, run_id)).start()
    state.board.start()
    try:
        return executor.run(context.bases, context.work)
    except DiskFullError as err:
        state.fatal = str(err)
        return None
    finally:
        state.board.stop()  # what follows is the run's summary: plain lines


def _status(record: CellRecord) -> str:
    return record.status


def _interrupt(context: RunContext, state: RunState, signum: int) -> None:
    if state.interrupted is not None:  # a second signal: the user insists
        print("harness: interrupted again; stopping now", file=sys.stderr, flush=True)
        os._exit(INTERRUPTED)
    state.interrupted = signum
    state.executor.stop()
    if not context.options.keep:  # running cells end as their containers go
        _remove_containers(context, state)


def _on_signals(handler: Callable[[int], None]) -> dict[int, Any]:
    """``handler(signum)`` for SIGINT and SIGTERM, in place of Python's KeyboardInterrupt
    (no traceback, no foreign banner); returns the handlers it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        handler(signum)

    for signum in previous:
        signal.signal(signum, on_signal)
    return previous


def _stop_now(_signum: int) -> None:
    raise KeyboardInterrupt  # caught in run(): one line, exit 130, no traceback


def _restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def execute_cell(context: RunContext, state: RunState, cell: Cell, repeat: int) -> CellRecord:
    """One cell run: its record from an earlier attempt (--resume), or a container now;
    the cell file is written the moment it ends (never for a cell cut short by a stop)."""
    file_name = result_file_name(cell.id, repeat)
    if context.options.resume:
        earlier = results.read_cell_record(context.out_dir / CELLS_DIR / file_name)
        if earlier is not None and not earlier.engine_lost:
            return earlier
    base = state.bases[cell.base]
    warm = state.warm.get(cell.id, {})
    job = CellJob(
        cell=cell,
        repeat=repeat,
        run_id=context.run_id,
        runner=context.runner,
        base=BaseRecord.from_dict(base, f"base {cell.base}"),
        depset=context.matrix.spec.depsets[cell.depset],
        settings=context.matrix.settings,
        probes_dir=PROBES_DIR,
        matrix_dir=context.matrix.path.parent,
        out_dir=context.out_dir,
        keep=context.options.keep,
        warm_wheelhouse=warm.get("wheelhouse"),
        warm_image=warm.get("image"),
        uv=_uv_for(state, base) if cell.installer == "uv" else None,
        runtime=runtime_plan(context, state, cell.base),
    )
    executor = state.executor

    def step(line: str) -> None:  # the cell's log lines, "<id>: <step>": the board's column
        executor.doing(line.split(": ", 1)[-1])

    runner = CellRun(job, state.client, context.redactor, log=step)
    try:
        # The record is redacted as it is built (the reproducer's env, reasons quoting an
        # engine error, probe output may all carry a secret).
        record = runner.run()
    except (FatalError, KeyboardInterrupt):
        raise  # a full disk, a lost engine, a stop: the run's business, not the cell's
    except Exception as err:  # a fault in harness itself: this cell is data, the run goes on
        record = _harness_fault(cell, repeat, err)
        runner.full_log.append(traceback.format_exc())
    if executor.stopping:  # its container was removed under it: not a result
        return record.model_copy(update={"status": "interrupted"})
    log = context.redactor.text("\n".join(runner.full_log))
    write_cell_result(context.out_dir, file_name, record, log)
    cell_finished(context, file_name, record)
    return record


def runtime_plan(context: RunContext, state: RunState, name: str) -> RuntimePlan | None:
    """A runtime base's builder (its record, resolved now if its own cells have not
    needed it yet) and settings; None for a base without ``builder``."""
    spec = context.matrix.spec.bases[name]
    if spec.builder is None:
        return None
    builder = state.bases.get(spec.builder)
    if builder is None:
        builder = context.redactor.deep(state.resolver.resolve(spec.builder))
    read_only = context.matrix.settings.read_only if spec.read_only is None else spec.read_only
    typed = BaseRecord.from_dict(builder, f"base {spec.builder}")
    return RuntimePlan(spec.builder, typed, spec.copy_mode, read_only)


def _harness_fault(cell: Cell, repeat: int, err: Exception) -> CellRecord:
    """The record of a cell that harness itself failed to run: ``error``, with the fault
    named (the traceback goes to the cell's log), so one bug does not stop a whole run."""
    return CellRecord(
        id=cell.id,
        base=cell.base,
        depset=cell.depset,
        repeat=repeat,
        status="error",
        reason=f"harness fault: {type(err).__name__}: {err}"[:400],
        ended_at=results.now_iso(),
    )


def cell_finished(context: RunContext, file_name: str, record: CellRecord) -> None:
    """Called on the cell's worker once its file is written: per-cell outputs that should
    cost the cell, not the merge, go here: its SBOM (with what writing it took)."""
    del file_name
    # imported here: cyclonedx's validators take seconds to load, paid once, by a cell
    from harness.documents.contents import write_cell_sbom

    write_cell_sbom(context.out_dir, record)


def _uv_for(state: RunState, base: ResolvedBase) -> UvFetched | None:
    """The uv binary fetched for this base's machine, or why there is none."""
    by_machine = state.uv_binaries
    if by_machine is None:
        return None
    from harness.run.uv import base_machine

    machine = base_machine(base, platform.machine())
    fetched = by_machine.get(machine)
    return fetched.copy() if fetched else {"reason": f"no uv fetched for {machine}"}


def _other_containers(client: Any, run_id: str) -> int:
    """Running containers on the engine that are not this run's."""
    from harness.engine.api import ContainerListed, read

    running = client.api.containers(filters={"status": "running"})
    labels = (read(ContainerListed, row).labels for row in running)
    return sum(1 for found in labels if found.get(engine.LABEL_RUN) != run_id)


def _remove_containers(context: RunContext, state: RunState) -> None:
    from harness.engine.container import ENGINE_ERRORS

    try:
        engine.remove_run_containers(state.client, context.run_id)
    except (*ENGINE_ERRORS, FatalError) as err:
        state.log(f"[harness] could not remove this run's containers ({err}); `harness sweep` will")


# -- 4. merge ------------------------------------------------------------------------------


def merge(context: RunContext, state: RunState) -> Results | None:
    """Every finished cell file and prepare.json into results.json (None: no cell has
    finished, as when a run is stopped while its bases build)."""
    from harness.engine.container import wait_for_background_removals

    load = state.monitor.stop() if state.monitor is not None else None
    wait_for_background_removals()  # warm cells' containers
    if not context.options.keep:
        _remove_containers(context, state)
    if state.interrupted is not None and not results.count_cell_files(context.out_dir):
        return None
    try:
        return results.merge(context.out_dir, load=load, redact=context.redactor.deep)
    except DiskFullError as err:
        state.fatal = state.fatal or str(err)
        return None


# -- 5. publish ----------------------------------------------------------------------------


def publish(context: RunContext, state: RunState, merged: Results) -> Published | None:
    """Every document, from the merged results alone."""
    from harness.documents.publish import write_outputs

    try:
        published = write_outputs(context.out_dir, merged, scanner_spec(context.matrix))
    except DiskFullError as err:
        state.fatal = state.fatal or str(err)
        return None
    for line in published.lines:
        state.log(line)
    return published


def scanner_spec(matrix: Matrix) -> ScannerSpec | None:
    """matrix.yaml's scanner setting, its paths taken relative to matrix.yaml."""
    chosen = matrix.settings.scanner
    if chosen is None:
        return None
    binary = matrix.resolve_path(chosen.binary) if chosen.binary else None
    return ScannerSpec(chosen.name, matrix.resolve_path(chosen.db), binary)


# -- 6. gate -------------------------------------------------------------------------------


def gate(context: RunContext, merged: Results, published: Published | None) -> int:
    """0 or 1, from the results and the one diff against the previous run (--fail-on)."""
    return gating.exit_code(merged, published.diff if published else None, context.fail_on)


def interrupted_message(context: RunContext, state: RunState) -> str:
    """Where the finished cells are, and the command that finishes the run."""
    kept = results.count_cell_files(context.out_dir)
    command = ["harness", "run", "--resume", str(context.out_dir), str(context.matrix.path)]
    if context.shard is not None:
        command += ["--shard", f"{context.shard[1]}/{context.shard[0].count}"]
    elif context.options.keyword:
        command += ["-k", context.options.keyword]
    if context.options.warm:
        command.append("--warm")
    signame = signal.Signals(state.interrupted).name if state.interrupted else "a stop"
    return (
        f"harness: interrupted ({signame}); {kept} finished cell(s) kept in {context.out_dir}; "
        f"finish the run with: {shlex.join(command)}"
    )


__all__ = [
    "RunContext",
    "RunOptions",
    "RunOutcome",
    "RunState",
    "execute",
    "execute_cell",
    "gate",
    "load",
    "merge",
    "prepare",
    "prepare_base",
    "publish",
    "run",
]
