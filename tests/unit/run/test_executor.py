"""The executor's policy, checked from the start and end times it records (no Docker:
the cell runner and the base resolver are injected, each a short sleep)."""

from __future__ import annotations

import threading
import time

import pytest

from harness.run.executor import BaseTask, CellTask, Counts, Executor, idle_while_ready

# Times are scaled down (a "minute" is a tenth of a second); the tolerance covers thread
# start-up and a busy machine, far below any cell's length.
SLACK = 0.08


def sleeper(lengths: dict[str, float]):  # type: ignore[no-untyped-def]
    def run_cell(task: CellTask) -> str:
        time.sleep(lengths[task.label])
        return "passed"

    return run_cell


def test_three_cells_of_very_different_lengths_leave_no_worker_idle() -> None:
    # The week's report: 3 cells on --jobs 2, one worker idle for minutes while the
    # console said "2 running, 0 waiting".
    lengths = {"spacy": 0.6, "torch": 0.35, "tiny": 0.05}
    lines: list[tuple[str, Counts]] = []
    executor = Executor(
        2,
        lambda _name: None,
        sleeper(lengths),
        on_cell=lambda kind, _label, _status, counts: lines.append((kind, counts)),
    )
    # Estimates in a different order than the truth: the policy still never idles.
    tasks = [
        CellTask(name, "b", expected)
        for name, expected in [("tiny", 9), ("spacy", 5), ("torch", 1)]
    ]
    started = time.monotonic()
    execution = executor.run([], tasks)
    spans = {s.label: s for s in execution.spans}
    assert {s.worker for s in execution.spans} == {0, 1}
    ready = dict.fromkeys(lengths, started)
    assert idle_while_ready(execution.spans, 2, ready) < SLACK
    # tiny (expected longest) and spacy start at once; torch starts the moment tiny ends.
    assert abs(spans["torch"].started - spans["tiny"].ended) < SLACK
    makespan = max(s.ended for s in execution.spans) - started
    assert makespan < 0.6 + SLACK
    # Every line's counts add up, and never claim more running than there are workers.
    for _kind, counts in lines:
        assert counts.done + counts.running + counts.waiting == counts.planned == 3
        assert counts.running <= 2
    assert lines[-1][1] == Counts(planned=3, done=3, running=0, waiting=0)
    assert execution.counts == Counts(3, 3, 0, 0) and not execution.stopped


def test_a_free_worker_takes_the_longest_ready_cell() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def run_cell(task: CellTask) -> str:
        with lock:
            order.append(task.label)
        time.sleep(0.01)
        return "passed"

    tasks = [CellTask(f"c{i}", "b", float(i)) for i in range(6)]
    Executor(1, lambda _name: None, run_cell).run([], tasks)
    assert order == ["c5", "c4", "c3", "c2", "c1", "c0"]


def test_cells_of_a_resolved_base_run_while_a_slower_base_builds() -> None:
    resolved_at: dict[str, float] = {}

    def resolve(name: str) -> None:
        time.sleep({"musl": 0.5, "glibc": 0.05, "other": 0.05}[name])
        resolved_at[name] = time.monotonic()

    lengths = {"musl×a": 0.1, "glibc×a": 0.15, "glibc×b": 0.15, "other×a": 0.1}
    tasks = [
        CellTask(label, label.split("×")[0], 100.0 if label.startswith("musl") else 1.0)
        for label in lengths
    ]
    bases = [BaseTask("musl"), BaseTask("glibc"), BaseTask("other")]
    execution = Executor(2, resolve, sleeper(lengths)).run(bases, tasks)
    spans = {s.label: s for s in execution.spans}
    # The musl build holds one worker; the other resolves glibc and other and runs
    # their cells meanwhile, although musl's cell is expected to take longest.
    for label in ("glibc×a", "glibc×b", "other×a"):
        assert spans[label].started < spans["musl"].ended
    assert spans["musl×a"].started >= resolved_at["musl"] - 0.001
    ready = {t.label: resolved_at[t.base] for t in tasks}
    assert idle_while_ready(execution.spans, 2, ready) < SLACK
    # A base build occupies a worker slot: never more than 2 things at once.
    for span in execution.spans:
        middle = (span.started + span.ended) / 2
        assert sum(1 for s in execution.spans if s.started <= middle < s.ended) <= 2


def test_a_base_built_from_another_waits_for_it() -> None:
    order: list[str] = []

    def resolve(name: str) -> None:
        time.sleep(0.05 if name == "core" else 0.0)
        order.append(name)

    bases = [BaseTask("app", needs=("core",)), BaseTask("core")]
    tasks = [CellTask("app×x", "app", 1.0)]
    execution = Executor(2, resolve, lambda _task: "passed").run(bases, tasks)
    assert order == ["core", "app"]
    assert execution.counts.done == 1


def test_stop_starts_nothing_more_and_keeps_what_finished() -> None:
    executor: Executor
    started: list[str] = []

    def run_cell(task: CellTask) -> str:
        started.append(task.label)
        if task.label == "second":
            executor.stop()  # as the SIGTERM handler does, mid-cell
            time.sleep(0.05)
        return "passed"

    tasks = [CellTask(name, "b", 10.0 - i) for i, name in enumerate(["first", "second", "third"])]
    executor = Executor(1, lambda _name: None, run_cell)
    execution = executor.run([], tasks)
    assert execution.stopped
    assert "third" not in started
    assert next(s.label for s in execution.spans if s.kind == "cell") == "first"
    assert execution.counts.done >= 1 and execution.counts.waiting == 1


def test_a_cell_that_raises_stops_the_run_and_the_error_comes_up() -> None:
    def run_cell(task: CellTask) -> str:
        if task.label == "bad":
            raise OSError(28, "No space left on device")
        time.sleep(0.02)
        return "passed"

    tasks = [CellTask("bad", "b", 5.0), CellTask("good", "b", 1.0), CellTask("later", "b", 0.5)]
    executor = Executor(1, lambda _name: None, run_cell)
    try:
        executor.run([], tasks)
    except OSError as err:
        assert err.errno == 28
    else:
        raise AssertionError("the cell's error was swallowed")


def test_what_a_worker_is_doing_is_on_its_running_entry() -> None:
    seen: list[str] = []
    executor: Executor

    def run_cell(_task: CellTask) -> str:
        executor.doing("pip-install")
        seen.extend(f"{a.label}:{a.doing}" for a in executor.running())
        return "passed"

    executor = Executor(1, lambda _name: None, run_cell)
    executor.run([], [CellTask("a×b", "b", 1.0)])
    assert seen == ["a×b:pip-install"]
    assert executor.running() == []


def test_a_side_task_never_holds_a_worker_a_ready_cell_could_use() -> None:
    """A base's preflight (pip on the host, no container) runs on its own thread once the
    base resolves: with one worker, the cell starts at once and the preflight runs beside
    it; the run ends only when the preflight has."""
    side_done: list[float] = []

    def resolve(name: str) -> None:
        if name.startswith("preflight:"):
            time.sleep(0.3)
            side_done.append(time.monotonic())

    bases = [BaseTask("b"), BaseTask("preflight:b", ("b",), side=True)]
    tasks = [CellTask("b×x", "b", 1.0)]
    execution = Executor(1, resolve, sleeper({"b×x": 0.1})).run(bases, tasks)
    spans = {s.label: s for s in execution.spans}
    assert spans["preflight:b"].kind == "side"
    assert spans["b×x"].started < spans["preflight:b"].ended
    assert spans["b×x"].started - spans["b"].ended < SLACK
    assert side_done, "the run returned before its side task ended"
    assert execution.counts.done == 1


def test_a_failing_side_task_stops_the_run_with_its_error() -> None:
    def resolve(name: str) -> None:
        if name.startswith("preflight:"):
            raise RuntimeError("preflight broke")

    bases = [BaseTask("b"), BaseTask("preflight:b", ("b",), side=True)]
    with pytest.raises(RuntimeError, match="preflight broke"):
        Executor(1, resolve, sleeper({"b×x": 0.2})).run(bases, [CellTask("b×x", "b", 1.0)])
