"""Helpers shared by the probes (standard library only, see docs/design.md "Probe contract").

Probes run as ``python /harness/probes/<name>.py`` inside a base image whose Python may be
old or stripped down, so everything here sticks to the standard library and to syntax that
CPython 3.7 accepts (checked on 3.7 to 3.13).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

MAX_ERROR_CHARS = 500
TRACEBACK_TAIL_LINES = 15
IMPORT_TIMEOUT_S = 300.0
HEAVIEST_COUNT = 8

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# CPython prints "import time: <self us> | <cumulative us> | <2*depth spaces><module>".
_IMPORTTIME_LINE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\| ( *)(\S.*?)\s*$")


class CheckFailed(Exception):
    """A smoke check did not hold (as opposed to the probe itself breaking)."""


class ImportFailed(Exception):
    """``import <module>`` failed in a fresh interpreter."""


def check(condition: object, message: str) -> None:
    """Raise CheckFailed with ``message`` unless ``condition`` is true."""
    if not condition:
        raise CheckFailed(message)


def rounded(seconds: float) -> float:
    """Seconds as a float short enough to read in a report (microsecond precision)."""
    return round(seconds, 6)


class Stopwatch:
    """Wall-clock timer started at construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return rounded(time.perf_counter() - self.start)


@contextlib.contextmanager
def stage(result: dict[str, Any], name: str) -> Iterator[None]:
    """Time a stage into ``result["timings"][name]``; on error, name it ``failed_stage``.

    Of nested stages the innermost that failed is named.

    The timing is recorded even when the stage raises, so a failed run still tells how far
    it got and how long that took.
    """
    timings = result.setdefault("timings", {})
    watch = Stopwatch()
    try:
        yield
    except BaseException:
        result.setdefault("failed_stage", name)
        raise
    finally:
        timings[name] = watch.elapsed()


WORKLOAD_REPEATS = 5


def workload(
    what: str,
    unit: str,
    values: list[float],
    higher_is_better: bool,
) -> dict[str, Any]:
    """A smoke probe's throughput figure, repeated inside the probe: the raw values, their
    median and which way is better (the ``Workload`` record of model/results.py)."""
    clean = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return {
        "what": what,
        "unit": unit,
        "values": [round(v, 6) for v in clean],
        "median": round(statistics.median(clean), 6) if clean else None,
        "higher_is_better": higher_is_better,
    }


def repeat_timed(fn: Callable[[], object], repeats: int = WORKLOAD_REPEATS) -> list[float]:
    """Seconds of ``repeats`` calls of ``fn`` (one untimed warm-up call first)."""
    fn()
    seconds = []
    for _ in range(repeats):
        watch = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - watch)
    return seconds


@contextlib.contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise TimeoutError if the block runs longer than ``seconds``.

    Uses SIGALRM, so it interrupts Python-level loops (e.g. a decoder that never stops)
    but not a single long C call; off the main thread or without SIGALRM it does nothing.
    """
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"{what} took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def is_offline(host: str = "pypi.org", port: int = 443, timeout: float = 2.0) -> bool:
    """True when a TCP connection to host:port cannot be made within ``timeout`` seconds.

    Runs in a daemon thread because name resolution has no timeout of its own; a lookup
    still hanging after the timeout counts as offline. Never raises.
    """
    outcome: list[bool] = []

    def _attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(False)
        except Exception:
            outcome.append(True)

    try:
        worker = threading.Thread(target=_attempt, daemon=True)
        worker.start()
        worker.join(timeout + 1.0)
    except Exception:
        return True
    return outcome[0] if outcome else True


def read_text(path: str) -> str | None:
    """File contents (UTF-8, undecodable bytes replaced), or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def dist_version(name: str) -> str | None:
    """Installed version of distribution ``name``, or None when it is not installed."""
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        return None
    try:
        return metadata.version(name)
    except Exception:
        return None


def parse_importtime(stderr: str) -> list[tuple[str, int, float, float]]:
    """Parse ``-X importtime`` output into (module, depth, self_s, cumulative_s) rows.

    Rows keep CPython's order: a module is printed after everything it imported, so its
    subtree is the run of deeper rows just before it.
    """
    rows = []
    for line in stderr.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match:
            self_us, cumulative_us, indent, name = match.groups()
            rows.append((name, len(indent) // 2, int(self_us) / 1e6, int(cumulative_us) / 1e6))
    return rows


def module_import_cost(
    rows: list[tuple[str, int, float, float]], module: str
) -> tuple[float, list[tuple[str, int, float, float]]]:
    """Cumulative seconds of the top-level import of ``module`` and the rows of its subtree.

    ``import a.b`` prints a single depth-0 row for ``a.b`` that contains its parents. A
    module absent from the output was already loaded at start-up (or is built in): 0 s.
    """
    for index, (name, depth, _self_s, cumulative_s) in enumerate(rows):
        if depth == 0 and name == module:
            start = index
            while start > 0 and rows[start - 1][1] > 0:
                start -= 1
            return cumulative_s, rows[start : index + 1]
    return 0.0, []


def _last_error_line(stderr: str) -> str:
    """The last stderr line that is not import-time output: the exception of a failed import."""
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("import time:")]
    return lines[-1][:MAX_ERROR_CHARS] if lines else "no error output"


def _timed_import(module: str, cwd: str) -> tuple[float, str]:
    """Run ``import <module>`` under -X importtime in a fresh interpreter: (wall s, stderr).

    ``-c`` puts the working directory first on sys.path, so ``cwd`` should be an empty
    directory: nothing there can shadow the module.
    """
    command = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    watch = Stopwatch()
    proc = subprocess.run(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=IMPORT_TIMEOUT_S,
    )
    wall = watch.elapsed()
    if proc.returncode != 0:
        raise ImportFailed(f"import {module} failed: {_last_error_line(proc.stderr)}")
    return wall, proc.stderr


def summarise_import_runs(module: str, runs: list[tuple[float, str]]) -> dict[str, Any]:
    """Reduce (wall s, stderr) pairs of several fresh imports to the reported figures."""
    parsed = [module_import_cost(parse_importtime(stderr), module) for _wall, stderr in runs]
    cumulative = [rounded(cost) for cost, _rows in parsed]
    median_index = sorted(range(len(parsed)), key=lambda i: cumulative[i])[len(parsed) // 2]
    subtree = parsed[median_index][1]
    heaviest = sorted(subtree, key=lambda row: row[2], reverse=True)[:HEAVIEST_COUNT]
    return {
        "module": module,
        "seconds": rounded(statistics.median(cumulative)),
        "runs": cumulative,
        "wall_seconds": rounded(statistics.median(wall for wall, _stderr in runs)),
        "modules_imported": len(subtree),
        "already_loaded": not subtree,
        "heaviest_self": [
            {"module": name, "self": rounded(self_s), "cumulative": rounded(cum_s)}
            for name, _depth, self_s, cum_s in heaviest
        ],
    }


def import_time(module: str, runs: int = 5) -> dict[str, Any]:
    """Median import time of ``module`` over ``runs`` fresh interpreters.

    ``seconds`` is the median cumulative time CPython reports for the module's top-level
    import (interpreter start-up excluded), ``wall_seconds`` the median wall time of the
    whole interpreter, ``heaviest_self`` the modules with the largest self time in the
    median run. Raises ImportFailed when the import fails.
    """
    if not _MODULE_NAME.match(module):
        raise ValueError(f"not a module name: {module!r}")
    if runs < 1:
        raise ValueError("runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="importtime-") as cwd:
        results = [_timed_import(module, cwd) for _ in range(runs)]
    return summarise_import_runs(module, results)


def _json_safe(value: Any) -> Any:
    """Replace values JSON cannot carry (NaN, infinities, odd types) so dumping never fails."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(item) for item in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "item"):  # numpy / torch scalars
        with contextlib.suppress(Exception):
            return _json_safe(value.item())
    return str(value)


def _flush_all() -> None:
    """Flush Python's and C's stdio buffers so native output cannot land after our line."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


def emit(result: dict[str, Any]) -> None:
    """Print ``result`` as the one JSON line that ends stdout and exit 0 (passed) or 1.

    Exits with os._exit after flushing: atexit hooks and library threads (torch, tokenizers)
    can neither print after the JSON line nor hang the shutdown.
    """
    result = dict(result)
    if result.get("status") not in ("passed", "failed"):
        result["status"] = "failed"
        result.setdefault("error", f"probe set an invalid status: {result.get('status')!r}")
    if result["status"] == "failed" and not result.get("error"):
        result["error"] = "probe reported a failure without an error message"
    _flush_all()
    line = json.dumps(_json_safe(result), sort_keys=False, allow_nan=False)
    sys.stdout.write(line + "\n")
    _flush_all()
    os._exit(0 if result["status"] == "passed" else 1)


def describe_exception(exc: BaseException) -> dict[str, str]:
    """The ``error`` and ``traceback_tail`` fields for an exception."""
    message = str(exc).strip().replace("\n", " ")
    error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).splitlines()
    return {
        "error": error[:MAX_ERROR_CHARS],
        "traceback_tail": "\n".join(lines[-TRACEBACK_TAIL_LINES:]),
    }


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send everything written to fd 1 to stderr, so the JSON line is stdout's only line.

    Works at the descriptor level to catch native libraries and child processes too.
    """
    _flush_all()
    try:
        saved: int | None = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no usable descriptors: leave stdout alone
        saved = None
    try:
        yield
    finally:
        if saved is not None:
            _flush_all()
            os.dup2(saved, 1)
            os.close(saved)


def run_probe(main: Callable[[dict[str, Any]], object]) -> None:
    """Run ``main(result)``, which fills ``result`` with facts, then emit ``result``.

    Any exception (even SystemExit or KeyboardInterrupt) becomes status "failed" with
    ``error`` and ``traceback_tail``; facts gathered before it are kept. ``main`` may also
    set ``status``/``error`` itself to fail without raising.
    """
    watch = Stopwatch()
    result: dict[str, Any] = {"status": "passed"}
    try:
        with _stdout_to_stderr():
            main(result)
    except BaseException as exc:
        result["status"] = "failed"
        result.update(describe_exception(exc))
    result["seconds"] = watch.elapsed()
    emit(result)
