"""What a run is doing, while it does it: the bases being built and the cells running.

Cells run in pytest-xdist workers, separate processes, so each running cell keeps a small
file under ``<run dir>/progress/`` saying which step it is on; the controller reads them.
On a terminal a live display (rich) shows every running thing with its elapsed time and
the done/left counts; elsewhere (CI, a pipe) plain timestamped lines, one per event and
at least one a minute per running thing, with no control characters.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from harness.model.errors import FatalError
from harness.store.rundir import write_atomic

PROGRESS_DIR = "progress"
HEARTBEAT_SECONDS = 60.0
REFRESH_SECONDS = 1.0


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def elapsed_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


# -- the worker's side: one file per running cell -------------------------------------


@dataclass
class CellProgress:
    """Writes where one cell is; removed when the cell ends."""

    path: Path
    cell: str
    started: float = field(default_factory=time.time)

    @classmethod
    def for_cell(cls, out_dir: Path, file_name: str, cell: str) -> CellProgress:
        folder = out_dir / PROGRESS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / file_name, cell)

    def step(self, line: str) -> None:
        """Called with the cell's log lines (``"<id>: <step>"``): the step is the rest."""
        step = line.split(": ", 1)[1] if ": " in line else line
        record = {"cell": self.cell, "step": step, "cell_started": self.started}
        record["step_started"] = time.time()
        with contextlib.suppress(OSError, FatalError):  # a courtesy, never a failure
            write_atomic(self.path, json.dumps(record))

    def done(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


def running_cells(out_dir: Path) -> list[dict[str, Any]]:
    """The cells running now, as their progress files say."""
    found = []
    for path in sorted((out_dir / PROGRESS_DIR).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and "cell" in record:
            found.append(record)
    return found


# -- the controller's side -------------------------------------------------------------


@dataclass
class Board:
    """The controller's view of the run, rendered live or as plain lines."""

    out_dir: Path | None = None
    planned: int = 0
    done: int = 0
    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    live: bool = False
    building: dict[str, tuple[str, float]] = field(default_factory=dict)  # base: (line, since)
    _last_beat: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_stream(cls, stream: IO[str], out_dir: Path | None = None) -> Board:
        interactive = stream.isatty() and os.environ.get("TERM") != "dumb"
        return cls(out_dir=out_dir, stream=stream, live=interactive and not os.environ.get("CI"))

    # events
    def line(self, text: str) -> None:
        """An event: printed above the live display, or as a timestamped line."""
        with self._lock:
            if self.live and self._console is not None:
                self._console.print(text, markup=False, highlight=False)
            else:
                self.stream.write(f"{_clock()} {text}\n")
                self.stream.flush()

    def base_event(self, text: str) -> None:
        """A line of the base resolver: the base it names is building until it says done."""
        base = text.removeprefix("[bases] ").split(":", 1)[0]
        if "building" in text or "docker build" in text or "pulling" in text:
            self.building[base] = (text, time.time())
        elif base in self.building:
            self.building.pop(base, None)
        self.line(text)

    def bases_done(self) -> None:
        self.building.clear()

    # what is going on
    def running(self) -> list[tuple[str, str, float]]:
        """(what, doing, seconds so far) of every base build and running cell; a cell's
        time is the cell's, its step says for how long it has been on that step."""
        now = time.time()
        items = [(base, line, now - since) for base, (line, since) in self.building.items()]
        for cell in running_cells(self.out_dir) if self.out_dir else []:
            step_since = float(cell.get("step_started") or now)
            cell_since = float(cell.get("cell_started") or step_since)
            doing = f"{cell.get('step')} (for {elapsed_text(now - step_since)})"
            items.append((str(cell["cell"]), doing, now - cell_since))
        return items

    def heartbeat(self) -> None:
        """Plain mode: one line a minute per thing still running."""
        now = time.time()
        for what, doing, seconds in self.running():
            last = self._last_beat.get(what)
            if last is None:
                self._last_beat[what] = now
                self.line(f"[harness] started: {what}: {doing.split(' (for ')[0]}")
            elif now - last >= HEARTBEAT_SECONDS:
                self._last_beat[what] = now
                self.line(f"[harness] still running: {what}: {doing} ({elapsed_text(seconds)})")

    def table(self) -> Table:
        left = max(self.planned - self.done, 0)
        table = Table(title=f"harness: {self.done}/{self.planned} done, {left} left", expand=False)
        for column in ("running", "step", "elapsed"):
            table.add_column(column)
        for what, doing, seconds in self.running():
            table.add_row(what, doing, elapsed_text(seconds))
        return table

    _console: Console | None = None
    _live: Live | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _ticker: threading.Thread | None = None

    def start(self) -> Board:
        """Show the board until ``stop()``: live on a terminal, heartbeats elsewhere."""
        if self._ticker is not None:
            return self
        self._stop.clear()
        if self.live:
            self._console = Console(file=self.stream)
            self._live = Live(self.table(), console=self._console, refresh_per_second=1)
            self._live.start()
            live = self._live
            self._ticker = _ticker(self._stop, lambda: live.update(self.table()))
        else:
            self._ticker = _ticker(self._stop, self.heartbeat)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None
        if self._live is not None:
            self._live.stop()
            self._live = None
        self._console = None


def _ticker(stop: threading.Event, tick: Callable[[], None]) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(REFRESH_SECONDS):
            with contextlib.suppress(Exception):  # a display hiccup never stops a run
                tick()

    thread = threading.Thread(target=loop, name="harness-progress", daemon=True)
    thread.start()
    return thread
