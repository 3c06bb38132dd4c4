"""What a run is doing, while it does it: the bases being resolved and the cells running.

Everything runs in one process (run/executor.py), so the board asks the executor: the
done/running/waiting counts and each running thing with what it is doing come from the
executor's own state, under its lock, and never disagree with the lines it prints. On a
terminal a live display (rich) shows every running thing with its elapsed time and the
counts; elsewhere (CI, a pipe) plain timestamped lines, one per event and at least one a
minute per running thing, with no control characters.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol

from rich.console import Console
from rich.live import Live
from rich.table import Table

from harness.run.executor import Activity, Counts

HEARTBEAT_SECONDS = 60.0
REFRESH_SECONDS = 1.0


def _clock() -> str:
    return time.strftime("%H:%M:%S")


DOING_CHARS = 100  # a build step can be a 3,000-character RUN line: its start says enough


def doing_text(text: str) -> str:
    """What a running thing is doing, on one short line (whitespace folded, cut at a word
    with an ellipsis past DOING_CHARS)."""
    text = " ".join(text.split())
    if len(text) <= DOING_CHARS:
        return text
    cut = text[:DOING_CHARS].rsplit(" ", 1)[0]
    return f"{cut} …"


def elapsed_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Source(Protocol):
    """What the board reads: the executor (or a test's stand-in for it)."""

    def counts(self) -> Counts: ...

    def running(self) -> Sequence[Activity]: ...


def counts_text(counts: Counts) -> str:
    """The one spelling of the counts, for the lines and the live title alike."""
    return (
        f"{counts.done}/{counts.planned} done, {counts.running} running, {counts.waiting} waiting"
    )


# -- the board -------------------------------------------------------------------------


@dataclass
class Board:
    """The run's console, rendered live or as plain lines; it reads ``source``."""

    source: Source
    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    live: bool = False
    _last_beat: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_stream(cls, source: Source, stream: IO[str]) -> Board:
        interactive = stream.isatty() and os.environ.get("TERM") != "dumb"
        return cls(source, stream=stream, live=interactive and not os.environ.get("CI"))

    def line(self, text: str) -> None:
        """An event: printed above the live display, or as a timestamped line."""
        with self._lock:
            if self.live and self._console is not None:
                self._console.print(text, markup=False, highlight=False)
            else:
                with contextlib.suppress(ValueError, OSError):  # a closed console: no line
                    self.stream.write(f"{_clock()} {text}\n")
                    self.stream.flush()

    def running(self) -> list[tuple[str, str, float]]:
        """(what, doing, seconds so far) of every base and cell running now; a cell's time
        is the cell's, its step says for how long it has been on that step."""
        now = time.time()
        items = []
        for activity in self.source.running():
            doing = activity.doing.removeprefix(f"{activity.label}: ")  # named once
            doing = doing_text(doing) or ("resolving" if activity.kind == "base" else "starting")
            if activity.doing_since:
                doing += f" (for {elapsed_text(now - activity.doing_since)})"
            items.append((activity.label, doing, now - activity.started))
        return items

    def heartbeat(self) -> None:
        """Plain mode: one line a minute per thing still running."""
        now = time.time()
        items = self.running()
        for gone in set(self._last_beat) - {what for what, _d, _s in items}:
            del self._last_beat[gone]  # ended: a later task of that name starts afresh
        for what, doing, seconds in items:
            last = self._last_beat.get(what)
            if last is None:
                self._last_beat[what] = now
                self.line(f"[harness] started: {what}: {doing.split(' (for ')[0]}")
            elif now - last >= HEARTBEAT_SECONDS:
                self._last_beat[what] = now
                self.line(f"[harness] still running: {what}: {doing} ({elapsed_text(seconds)})")

    def table(self) -> Table:
        table = Table(title=f"harness: {counts_text(self.source.counts())}", expand=False)
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
