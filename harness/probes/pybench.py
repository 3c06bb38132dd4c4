"""Probe: how fast is the interpreter itself (start-up and a few pure-Python workloads).

Standard library only, Python >= 3.9. Every workload is deterministic (fixed seeds, fixed
sizes), so two bases run the same work and their medians can be compared. Each workload
runs once to warm up, then ``--repeats`` times; ``--scale`` shrinks or grows every size
(reported, so only runs of the same scale are compared).

Usage: python pybench.py [--repeats N] [--scale F] [--startup-runs N] [--budget-s S]

``--budget-s`` bounds the whole probe on a busy machine: each measurement gets an equal
share of it and stops repeating once its share is spent (never below ``MIN_REPEATS``);
the repeats actually made are reported with every measurement, and ``budget_cut`` names
the measurements that were cut short.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import queue
import random
import re
import statistics
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from typing import Any

from _common import run_probe

DEFAULT_REPEATS = 30
DEFAULT_STARTUP_RUNS = 10
MIN_REPEATS = 5
STARTUP_TIMEOUT_S = 60
SEED = 20261201

# Sizes at scale 1.0: each workload takes a few tens of ms per repeat on CPython 3.11 here.
LOOP_ITERATIONS = 200_000
ALLOC_OBJECTS = 30_000
JSON_RECORDS = 3_000
JSON_ROUND_TRIPS = 3
REGEX_WORDS = 60_000
SHA_BYTES = 48 * 1024 * 1024
MANDEL_SIZE = 140
MANDEL_ITERATIONS = 60
THREAD_COUNT = 4
THREAD_ITEMS = 12_000

Workload = Callable[[], object]


def scaled(size: int, scale: float) -> int:
    return max(1, int(size * scale))


def measure(run: Workload, repeats: int, deadline: float = float("inf")) -> dict[str, Any]:
    """Warm up once, then time ``repeats`` runs (fewer, down to ``MIN_REPEATS``, once
    ``deadline`` on the perf_counter clock has passed): median, min, max and spread."""
    run()
    times: list[float] = []
    for _ in range(repeats):
        if len(times) >= MIN_REPEATS and time.perf_counter() > deadline:
            break
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return summarise(times)


def summarise(times: list[float]) -> dict[str, Any]:
    """Median, extremes and two spreads: full range and interquartile range, over the median.

    The range shows the worst outlier (another process took the CPU); the interquartile
    range is what a comparison of medians should be judged against.
    """
    median = statistics.median(times)
    if len(times) >= 2:
        lower, _middle, upper = statistics.quantiles(times, n=4, method="inclusive")
    else:
        lower = upper = times[0]
    return {
        "median_s": round(median, 6),
        "min_s": round(min(times), 6),
        "max_s": round(max(times), 6),
        "repeats": len(times),
        "rel_spread": round((max(times) - min(times)) / median, 4) if median > 0 else None,
        "rel_iqr": round((upper - lower) / median, 4) if median > 0 else None,
    }


def _step(value: int) -> int:
    return (value * 7 + 3) % 1_000_003


def loops_calls(iterations: int) -> Workload:
    """A plain loop calling a small function: bytecode dispatch and call overhead."""

    def run() -> int:
        total = 0
        for index in range(iterations):
            total += _step(index) & 0xFF
        return total

    return run


class _Node:
    def __init__(self, key: int, payload: dict[str, int]) -> None:
        self.key = key
        self.payload = payload
        self.children: list[_Node] = []


def allocation(objects: int) -> Workload:
    """Many small objects, dicts, lists and tuples built and dropped: the allocator and GC."""

    def run() -> int:
        nodes = [_Node(i, {"a": i, "b": i * 2}) for i in range(objects)]
        for index in range(1, objects):
            nodes[index // 2].children.append(nodes[index])
        pairs = [(node.key, len(node.children)) for node in nodes]
        return len(pairs)

    return run


def json_document(records: int) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    return [
        {
            "id": index,
            "name": f"item-{rng.randrange(10**6)}",
            "price": round(rng.uniform(0, 1000), 2),
            "tags": [rng.choice(("red", "green", "blue", "ünïcode")) for _ in range(4)],
            "nested": {"ok": rng.random() < 0.5, "score": rng.random(), "none": None},
        }
        for index in range(records)
    ]


def json_round_trips(records: int, trips: int) -> Workload:
    """json.dumps then json.loads of a fixed document (the C accelerator when present)."""
    document = json_document(records)

    def run() -> int:
        size = 0
        for _ in range(trips):
            size += len(json.loads(json.dumps(document))[-1])
        return size

    return run


def regex_text(words: int) -> str:
    rng = random.Random(SEED)
    vocabulary = ["alpha", "beta", "gamma", "user@example.org", "2026-12-01", "x42", "Zeta"]
    return " ".join(rng.choice(vocabulary) + str(rng.randrange(100)) for _ in range(words))


def regular_expressions(words: int) -> Workload:
    """findall and sub with a few typical patterns over a fixed text."""
    text = regex_text(words)
    patterns = [
        re.compile(r"[\w.]+@[\w.]+\.\w+"),
        re.compile(r"\b\d{4}-\d\d-\d\d"),
        re.compile(r"\b[A-Z][a-z]+\d*\b"),
    ]

    def run() -> int:
        found = sum(len(pattern.findall(text)) for pattern in patterns)
        return found + len(patterns[2].sub("W", text))

    return run


def sha256(size: int) -> Workload:
    """hashlib.sha256 over a fixed buffer: OpenSSL's (or the built-in) C code, not Python."""
    buffer = bytes(random.Random(SEED).getrandbits(8) for _ in range(4096)) * (size // 4096 + 1)
    view = memoryview(buffer)[:size]

    def run() -> str:
        return hashlib.sha256(view).hexdigest()

    return run


def mandelbrot(size: int, iterations: int) -> Workload:
    """Escape-time Mandelbrot on a fixed grid in float arithmetic."""

    def run() -> int:
        inside = 0
        for row in range(size):
            imag = -1.2 + 2.4 * row / size
            for column in range(size):
                real = -2.0 + 3.0 * column / size
                x = y = 0.0
                for _ in range(iterations):
                    x, y = x * x - y * y + real, 2.0 * x * y + imag
                    if x * x + y * y > 4.0:
                        break
                else:
                    inside += 1
        return inside

    return run


def threaded_queue(threads: int, items: int) -> Workload:
    """Items passed through queue.Queue to worker threads and back: GIL hand-offs, locks."""

    def worker(jobs: queue.Queue[Any], results: queue.Queue[int]) -> None:
        while True:
            item = jobs.get()
            if item is None:
                return
            results.put(item * item % 97)

    def run() -> int:
        jobs: queue.Queue[Any] = queue.Queue(maxsize=256)
        results: queue.Queue[int] = queue.Queue()
        pool = [threading.Thread(target=worker, args=(jobs, results)) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for item in range(items):
            jobs.put(item)
        for _ in pool:
            jobs.put(None)
        for thread in pool:
            thread.join()
        return sum(results.get_nowait() for _ in range(items))

    return run


def workloads(scale: float) -> dict[str, Workload]:
    return {
        "loops_calls": loops_calls(scaled(LOOP_ITERATIONS, scale)),
        "allocation": allocation(scaled(ALLOC_OBJECTS, scale)),
        "json_round_trip": json_round_trips(scaled(JSON_RECORDS, scale), JSON_ROUND_TRIPS),
        "regex": regular_expressions(scaled(REGEX_WORDS, scale)),
        "sha256": sha256(scaled(SHA_BYTES, scale)),
        "float_mandelbrot": mandelbrot(scaled(MANDEL_SIZE, scale**0.5), MANDEL_ITERATIONS),
        "threaded_queue": threaded_queue(THREAD_COUNT, scaled(THREAD_ITEMS, scale)),
    }


def startup(code: str, runs: int, deadline: float = float("inf")) -> dict[str, Any]:
    """Wall time of ``python -I -c CODE`` in fresh processes (spawn included)."""
    command = [sys.executable, "-I", "-c", code]
    times: list[float] = []
    for _ in range(runs):
        if len(times) >= MIN_REPEATS and time.perf_counter() > deadline:
            break
        start = time.perf_counter()
        subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=STARTUP_TIMEOUT_S,
            check=True,
        )
        times.append(time.perf_counter() - start)
    return summarise(times)


def build_facts() -> dict[str, Any]:
    """Compiler and the build options that matter for speed (PGO, LTO).

    ``pgo``/``lto`` are true when the recorded build flags show them. A distribution that
    applies them outside configure (Debian's own packages) leaves no trace there, so false
    means "not recorded", not "not used".
    """
    config = sysconfig.get_config_var
    config_args = config("CONFIG_ARGS")
    cflags = config("PY_CFLAGS_NODIST")
    ldflags = config("PY_LDFLAGS_NODIST")
    recorded = " ".join(str(value or "") for value in (config_args, cflags, ldflags))
    return {
        "compiler": platform.python_compiler(),
        "pgo": "--enable-optimizations" in recorded or "-fprofile-use" in recorded,
        "lto": "--with-lto" in recorded or "-flto" in recorded,
        "pgo_lto_basis": "CONFIG_ARGS, PY_CFLAGS_NODIST, PY_LDFLAGS_NODIST",
        "config_args": config_args,
        "py_cflags_nodist": cflags,
        "py_ldflags_nodist": ldflags,
    }


def allocator() -> dict[str, Any]:
    """The memory allocator, as far as it can be told without a debug build."""
    chosen = os.environ.get("PYTHONMALLOC") or sys._xoptions.get("malloc")
    if chosen:
        return {"name": chosen, "source": "PYTHONMALLOC"}
    config = sysconfig.get_config_var
    if config("Py_GIL_DISABLED") and config("WITH_MIMALLOC"):
        return {"name": "mimalloc", "source": "free-threaded build default"}
    if config("WITH_PYMALLOC") is not None:
        name = "pymalloc" if config("WITH_PYMALLOC") else "malloc"
        return {"name": name, "source": "WITH_PYMALLOC build flag"}
    return {"name": "unknown", "source": None}


def hash_backend() -> dict[str, Any]:
    """Whether sha256 comes from OpenSSL (_hashlib) or CPython's built-in module."""
    try:
        import ssl

        openssl: Any = ssl.OPENSSL_VERSION
    except ImportError:
        openssl = None
    module = type(hashlib.sha256()).__module__ or ""
    backend = "openssl" if "_hashlib" in module or "openssl" in repr(hashlib.sha256) else "builtin"
    return {"sha256": backend, "openssl_version": openssl}


def interpreter_facts() -> dict[str, Any]:
    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil() if gil else True,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--startup-runs", type=int, default=DEFAULT_STARTUP_RUNS)
    parser.add_argument("--budget-s", type=float, default=None)
    options = parser.parse_args(argv)
    if options.repeats < 1 or options.startup_runs < 1 or options.scale <= 0:
        parser.error("--repeats and --startup-runs must be >= 1, --scale > 0")
    if options.budget_s is not None and options.budget_s <= 0:
        parser.error("--budget-s must be > 0")
    return options


def main(result: dict[str, Any]) -> None:
    options = parse_args(sys.argv[1:])
    result.update(
        python=interpreter_facts(),
        build=build_facts(),
        allocator=allocator(),
        hashlib=hash_backend(),
        machine=platform.machine(),
        cpus=os.cpu_count(),
        settings={
            "repeats": options.repeats,
            "scale": options.scale,
            "startup_runs": options.startup_runs,
            "seed": SEED,
            "budget_s": options.budget_s,
        },
    )
    chosen = workloads(options.scale)
    share = (options.budget_s or float("inf")) / (len(chosen) + 2)
    result["startup"] = {
        name: startup(code, options.startup_runs, time.perf_counter() + share)
        for name, code in (("bare", "pass"), ("import_json", "import json"))
    }
    result["workloads"] = {
        name: measure(run, options.repeats, time.perf_counter() + share)
        for name, run in chosen.items()
    }
    cut = [
        f"startup.{n}" for n, s in result["startup"].items() if s["repeats"] < options.startup_runs
    ]
    cut += [n for n, s in result["workloads"].items() if s["repeats"] < options.repeats]
    result["budget_cut"] = cut


if __name__ == "__main__":
    run_probe(main)
