"""The run's console: a board that reads the executor's own state."""

from __future__ import annotations

import io
import re
import threading
import time
from dataclasses import dataclass, field

from harness.run import progress
from harness.run.executor import Activity, CellTask, Counts, Executor
from harness.run.progress import Board, counts_text


@dataclass
class FakeSource:
    """What the executor shows the board, set by hand."""

    now: Counts = field(default_factory=lambda: Counts(planned=5, done=2, running=1, waiting=2))
    activities: list[Activity] = field(default_factory=list)

    def counts(self) -> Counts:
        return self.now

    def running(self) -> list[Activity]:
        return list(self.activities)


def test_plain_lines_are_timestamped_and_free_of_control_characters() -> None:
    stream = io.StringIO()
    source = FakeSource()
    board = Board(source, stream=stream, live=False)
    now = time.time()
    source.activities = [
        Activity("base", "musl", now, "musl: docker build bases/musl/Dockerfile", now),
        Activity("cell", "a×b", now, "venv", now),
    ]
    board.line("[bases] musl: docker build bases/musl/Dockerfile (classic builder)")
    board.heartbeat()
    text = stream.getvalue()
    assert re.search(r"^\d\d:\d\d:\d\d \[bases\] musl: docker build", text, re.M)
    assert "started: a×b: venv" in text and "started: musl" in text
    assert "\x1b" not in text and "\r" not in text


def test_a_long_step_gets_a_line_a_minute() -> None:
    stream = io.StringIO()
    source = FakeSource(activities=[Activity("cell", "a×b", time.time(), "pip-install")])
    board = Board(source, stream=stream, live=False)
    board.heartbeat()
    board._last_beat["a×b"] = time.time() - progress.HEARTBEAT_SECONDS - 1
    board.heartbeat()
    board.heartbeat()  # not again within the minute
    assert stream.getvalue().count("still running: a×b: pip-install") == 1


def test_a_pull_that_ended_is_never_announced_as_started() -> None:
    # The pull's base leaves the executor's running set when it resolves: the next tick
    # has nothing to say about it (it used to print "started: pulling 127.0.0.1: …").
    stream = io.StringIO()
    source = FakeSource()
    board = Board(source, stream=stream, live=False)
    source.activities = [Activity("base", "py", time.time(), "pulling 127.0.0.1:5000/py")]
    source.activities = []  # the pull ended before the board's tick
    board.heartbeat()
    assert "started" not in stream.getvalue()
    source.activities = [Activity("base", "py", time.time(), "pulling 127.0.0.1:5000/py")]
    board.heartbeat()
    assert stream.getvalue().count("started: py: pulling 127.0.0.1:5000/py") == 1


def test_the_live_table_counts_what_the_executor_counts() -> None:
    source = FakeSource(activities=[Activity("cell", "a×b", time.time(), "probe:smoke_spacy")])
    table = Board(source).table()
    assert table.title == "harness: 2/5 done, 1 running, 2 waiting"
    assert table.row_count == 1


def test_the_board_and_the_lines_read_the_same_counts_from_a_real_executor() -> None:
    release = threading.Event()
    lines: list[str] = []
    seen_titles: list[str] = []

    def run_cell(_task: CellTask) -> str:
        seen_titles.append(str(board.table().title))
        release.wait(5)
        return "passed"

    executor = Executor(
        2,
        lambda _name: None,
        run_cell,
        on_cell=lambda kind, _label, _status, counts: (
            lines.append(counts_text(counts)) if kind == "end" else None
        ),
    )
    board = Board(executor)
    tasks = [CellTask(f"c{i}", "b", 10.0 - i) for i in range(3)]
    worker = threading.Thread(target=executor.run, args=([], tasks))
    worker.start()
    deadline = time.monotonic() + 5
    while executor.counts().running < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert executor.counts() == Counts(planned=3, done=0, running=2, waiting=1)
    assert str(board.table().title) == "harness: 0/3 done, 2 running, 1 waiting"
    release.set()
    worker.join(5)
    assert lines[-1] == "3/3 done, 0 running, 0 waiting"
    assert all("running" in title for title in seen_titles)


def test_a_long_build_step_is_shown_cut_at_a_word_on_one_line() -> None:
    from harness.run.progress import DOING_CHARS, doing_text

    step = "building: Step 25/50 : RUN build_zlib() {\n" + "    make -j2 libz.a && " * 200
    shown = doing_text(step)
    assert "\n" not in shown and "  " not in shown
    assert len(shown) <= DOING_CHARS + 2 and shown.endswith(" …")
    assert shown.startswith("building: Step 25/50 : RUN build_zlib() {")
    assert doing_text("pip-install") == "pip-install"


def test_two_cells_ending_together_print_their_done_lines_in_order() -> None:
    # Both cells end at the same moment; the console is slow to write the first "done" line.
    # The run's last line must be "2/2 done" (it used to be "1/2 done": the second worker
    # printed its line while the first was still writing, so 2/2 came out before 1/2).
    together = threading.Barrier(2)
    stream = io.StringIO()

    def run_cell(_task: CellTask) -> str:
        together.wait(5)
        return "passed"

    executor = Executor(2, lambda _name: None, run_cell)
    board = Board(executor, stream=stream, live=False)

    def on_cell(kind: str, label: str, status: str, counts: Counts) -> None:
        if kind == "end":
            if counts.done == 1:
                time.sleep(0.05)  # a slow terminal, while the other cell ends
            board.line(f"[harness] {counts_text(counts)} | {label}: {status}")

    executor.on_cell = on_cell
    execution = executor.run([], [CellTask("a", "b", 2.0), CellTask("b", "b", 1.0)])
    done = re.findall(r"\[harness\] (\d)/2 done", stream.getvalue())
    assert done == ["1", "2"]
    assert "2/2 done, 0 running, 0 waiting" in stream.getvalue().splitlines()[-1]
    assert execution.counts == Counts(2, 2, 0, 0)
