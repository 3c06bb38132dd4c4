"""The run's console: progress files from workers, a board the controller shows."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from harness.run import progress
from harness.run.progress import Board, CellProgress, running_cells


def test_a_cell_says_its_step_until_it_ends(tmp_path: Path) -> None:
    cell = CellProgress.for_cell(tmp_path, "py311_x_spacy.r0.json", "py311×spacy")
    cell.step("py311×spacy: pip-install")
    [seen] = running_cells(tmp_path)
    assert seen["cell"] == "py311×spacy" and seen["step"] == "pip-install"
    cell.done()
    assert running_cells(tmp_path) == []


def test_plain_lines_are_timestamped_and_free_of_control_characters(tmp_path: Path) -> None:
    stream = io.StringIO()
    board = Board(out_dir=tmp_path, stream=stream, live=False)
    CellProgress.for_cell(tmp_path, "a.json", "a×b").step("a×b: venv")
    board.base_event("[bases] musl: docker build bases/musl/Dockerfile (classic builder)")
    board.heartbeat()
    text = stream.getvalue()
    assert re.search(r"^\d\d:\d\d:\d\d \[bases\] musl: docker build", text, re.M)
    assert "started: a×b: venv" in text and "started: musl" in text
    assert "\x1b" not in text and "\r" not in text


def test_a_long_step_gets_a_line_a_minute(tmp_path: Path) -> None:
    stream = io.StringIO()
    board = Board(out_dir=tmp_path, stream=stream, live=False)
    CellProgress.for_cell(tmp_path, "a.json", "a×b").step("a×b: pip-install")
    board.heartbeat()
    board._last_beat["a×b"] = time.time() - progress.HEARTBEAT_SECONDS - 1
    board.heartbeat()
    board.heartbeat()  # not again within the minute
    assert stream.getvalue().count("still running: a×b: pip-install") == 1


def test_the_live_table_counts_done_and_left(tmp_path: Path) -> None:
    board = Board(out_dir=tmp_path, planned=5, done=2)
    CellProgress.for_cell(tmp_path, "a.json", "a×b").step("a×b: probe:smoke_spacy")
    table = board.table()
    assert table.title == "harness: 2/5 done, 3 left"
    assert table.row_count == 1
