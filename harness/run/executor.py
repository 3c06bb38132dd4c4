"""The run's executor: worker threads in one process, the longest ready cell first.

A cell is a few Docker calls, so a worker spends its life waiting on the engine: threads
are enough, and one process keeps every count in one place. The policy, in full:

- ``jobs`` workers; a base being resolved (built, pulled, probed) occupies one of them.
- A free worker takes, in this order: a base whose own bases are resolved (bases unlock
  cells, so they go first, in the matrix's order), else the ready cell expected to take
  longest (run/schedule.py's estimate). Nothing is assigned ahead of time: a worker only
  decides when it is free.
- A cell is ready the moment its base is resolved, so cells run while slower bases build.
- ``stop()`` (SIGINT/SIGTERM) starts nothing more; the caller removes the containers.

The live board and the timestamped lines read ``counts()`` and ``running()`` from here,
under the same lock that moves cells between waiting, running and done. A cell's start and
end events are queued under that lock and delivered one at a time in that order, outside it:
two cells ending at once print "4/5 done" then "5/5 done", never the other way round.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BaseTask:
    """One base to resolve; ``needs``: the bases it is built from (resolved first).
    ``side``: host-only work (a base's preflight: pip on the host, no container) that
    runs on a thread of its own once its needs resolve, outside the ``--jobs`` workers,
    so it never holds a worker a ready cell could use."""

    name: str
    needs: tuple[str, ...] = ()
    side: bool = False


@dataclass(frozen=True)
class CellTask:
    """One run of one cell; ``cell`` is whatever the run function needs (a Cell)."""

    label: str
    base: str
    expected_seconds: float
    cell: Any = None
    repeat: int = 0


@dataclass(frozen=True)
class Counts:
    planned: int
    done: int
    running: int
    waiting: int


@dataclass(frozen=True)
class Span:
    """When one task ran, on which worker: the evidence of the packing."""

    kind: str  # "base" or "cell"
    label: str
    worker: int
    started: float
    ended: float
    outcome: str


@dataclass
class Activity:
    kind: str
    label: str
    started: float  # wall clock (time.time()), for the board
    doing: str = ""
    doing_since: float = 0.0


@dataclass
class Execution:
    spans: list[Span]
    stopped: bool
    counts: Counts


CellRunner = Callable[[CellTask], str]  # returns the cell's status word
BaseResolver = Callable[[str], None]
Event = Callable[[str, str, str, Counts], None]  # (kind "start"/"end", label, outcome, counts)


@dataclass
class Executor:
    jobs: int
    resolve_base: BaseResolver
    run_cell: CellRunner
    on_cell: Event | None = None
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _bases: list[BaseTask] = field(default_factory=list)  # not started yet
    _side: list[BaseTask] = field(default_factory=list)  # side tasks not started yet
    _side_running: int = 0
    _resolved: set[str] = field(default_factory=set)
    _blocked: dict[str, list[CellTask]] = field(default_factory=dict)  # base -> cells
    _ready: list[CellTask] = field(default_factory=list)  # longest first
    _running: dict[str, Activity] = field(default_factory=dict)
    _planned: int = 0
    _done: int = 0
    _busy: int = 0
    _spans: list[Span] = field(default_factory=list)
    _error: BaseException | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _local: threading.local = field(default_factory=threading.local)
    _events: deque[tuple[str, str, str, Counts]] = field(default_factory=deque)
    _delivering: threading.Lock = field(default_factory=threading.Lock)

    # -- what the console reads ----------------------------------------------------

    def counts(self) -> Counts:
        with self._lock:
            return self._counts()

    def _counts(self) -> Counts:
        running = sum(1 for a in self._running.values() if a.kind == "cell")
        waiting = len(self._ready) + sum(len(c) for c in self._blocked.values())
        return Counts(self._planned, self._done, running, waiting)

    def running(self) -> list[Activity]:
        with self._lock:
            return [Activity(**vars(a)) for a in self._running.values()]

    def doing(self, text: str) -> None:
        """What the calling worker's task is doing now (a step, a build line)."""
        label = getattr(self._local, "label", None)
        with self._lock:
            activity = self._running.get(label) if label else None
            if activity is not None:
                activity.doing, activity.doing_since = text, time.time()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Start nothing more (running tasks are the caller's to end)."""
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()

    # -- running -------------------------------------------------------------------

    def run(self, bases: Sequence[BaseTask], cells: Sequence[CellTask]) -> Execution:
        """Run every base and cell; returns when all are done, or soon after ``stop()``
        (then the workers still busy are left to the process's end: they are daemons)."""
        known = {b.name for b in bases}
        with self._lock:
            # A base built FROM one not in this run resolves that one itself.
            needs = {b.name: tuple(n for n in b.needs if n in known) for b in bases}
            self._bases = [BaseTask(b.name, needs[b.name]) for b in bases if not b.side]
            self._side = [BaseTask(b.name, needs[b.name], side=True) for b in bases if b.side]
            self._start_side()
            self._planned = len(cells)
            for cell in sorted(cells, key=lambda c: -c.expected_seconds):  # stable
                self._blocked.setdefault(cell.base, []).append(cell)
            for name in list(self._blocked):
                if name not in known:  # nothing to resolve: ready now
                    self._release(name)
        workers = [
            threading.Thread(target=self._work, args=(i,), name=f"harness-worker-{i}", daemon=True)
            for i in range(max(1, self.jobs))
        ]
        for worker in workers:
            worker.start()
        with self._lock:
            # A timed wait: the main thread must come back to run signal handlers.
            while not self._finished() and self._error is None and not self.stopping:
                self._lock.wait(0.2)
            if self._error is not None:
                self._stopping.set()
                self._lock.notify_all()
        if not self.stopping:
            for worker in workers:
                worker.join()
        if self._error is not None:
            raise self._error
        with self._lock:
            return Execution(list(self._spans), self.stopping, self._counts())

    def _finished(self) -> bool:
        work = self._bases or self._ready or self._blocked or self._busy
        return not (work or self._side or self._side_running)

    def _release(self, base: str) -> None:
        """A resolved base: its cells join the ready list, longest first; side tasks that
        waited for it start."""
        self._resolved.add(base)
        self._ready.extend(self._blocked.pop(base, []))
        self._ready.sort(key=lambda c: -c.expected_seconds)
        self._start_side()

    def _start_side(self) -> None:
        """Under the lock: a thread for each side task whose needs are resolved."""
        for task in [t for t in self._side if set(t.needs) <= self._resolved]:
            if self.stopping or self._error is not None:
                return
            self._side.remove(task)
            self._side_running += 1
            threading.Thread(
                target=self._side_work, args=(task,), name="harness-side", daemon=True
            ).start()

    def _side_work(self, task: BaseTask) -> None:
        started, outcome = self.clock(), "error"
        try:
            self.resolve_base(task.name)
            outcome = "done"
        except BaseException as err:
            with self._lock:
                self._error = self._error or err
        finally:
            with self._lock:
                self._spans.append(Span("side", task.name, -1, started, self.clock(), outcome))
                self._side_running -= 1
                self._lock.notify_all()

    def _next(self) -> BaseTask | CellTask | None:
        """Called under the lock by a free worker: what to do now (None: leave)."""
        while True:
            if self.stopping or self._error is not None:
                return None
            base = next((b for b in self._bases if set(b.needs) <= self._resolved), None)
            if base is not None:
                self._bases.remove(base)
                return base
            if self._ready:
                return self._ready.pop(0)
            if self._finished():
                return None
            self._lock.wait()

    def _work(self, worker: int) -> None:
        while True:
            with self._lock:
                task = self._next()
                if task is None:
                    self._lock.notify_all()
                    return
                kind = "base" if isinstance(task, BaseTask) else "cell"
                label = task.name if isinstance(task, BaseTask) else task.label
                self._busy += 1
                self._running[label] = Activity(kind, label, time.time())
                if isinstance(task, CellTask):
                    self._events.append(("start", label, "", self._counts()))
            self._local.label = label
            started, outcome = self.clock(), "error"
            try:
                self._deliver()
                if isinstance(task, BaseTask):
                    self.resolve_base(task.name)
                    outcome = "resolved"
                else:
                    outcome = self.run_cell(task)
            except BaseException as err:
                with self._lock:
                    self._error = self._error or err
            finally:
                self._local.label = None
                self._end(task, kind, label, worker, started, outcome)

    def _end(
        self,
        task: BaseTask | CellTask,
        kind: str,
        label: str,
        worker: int,
        started: float,
        outcome: str,
    ) -> None:
        with self._lock:
            self._spans.append(Span(kind, label, worker, started, self.clock(), outcome))
            self._running.pop(label, None)
            self._busy -= 1
            if isinstance(task, BaseTask):
                if self._error is None:
                    self._release(task.name)
            elif outcome != "error":
                self._done += 1
                if not self.stopping:
                    self._events.append(("end", label, outcome, self._counts()))
            self._lock.notify_all()
        self._deliver()

    def _deliver(self) -> None:
        """Hand the queued events to ``on_cell`` in the order they were queued, one at a
        time. Whichever worker gets here first delivers every event queued so far, its
        own and others'; the rest find the queue empty. (Each worker used to call
        ``on_cell`` with its own counts after leaving the lock, so two cells ending at once
        could print "5/5 done" before "4/5 done", and the run's last line said 4/5.)"""
        with self._delivering:
            while True:
                with self._lock:
                    if not self._events:
                        return
                    event = self._events.popleft()
                if self.on_cell is not None:
                    self.on_cell(*event)


def idle_while_ready(spans: Sequence[Span], jobs: int, ready_at: dict[str, float]) -> float:
    """Seconds some worker had nothing to do while a cell was ready and not started
    (``ready_at``: when each cell became ready). Zero for a perfect packer: the tests check the
    policy with it from recorded times; the run itself never calls it."""
    events = sorted({s.started for s in spans} | {s.ended for s in spans} | set(ready_at.values()))
    idle = 0.0
    started_at = {s.label: s.started for s in spans if s.kind == "cell"}
    for begin, end in itertools.pairwise(events):
        middle = (begin + end) / 2
        busy = sum(1 for s in spans if s.started <= middle < s.ended)
        waiting = sum(
            1 for label, at in ready_at.items() if at <= middle < started_at.get(label, 1e300)
        )
        if busy < jobs and waiting:
            idle += end - begin
    return idle
