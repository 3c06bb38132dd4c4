"""The harness benchmark: what `make bench` runs (see bench/README.md).

    .venv/bin/python bench/run_bench.py [--rounds 2] [--jobs 1,2,4] [--warm-runs 2]

One invocation measures, on bench/matrix.yaml:
  1. overhead: `harness run --jobs 1` against a plain sequential shell loop that replays
     each cell's `reproducer.commands` (docker run, one docker exec per step, network
     disconnect, probes, docker rm) with `bash -c`; the two alternate in ABBA order so a
     drift in network speed or machine load falls on both alike;
  2. scheduling: the matrix's wall time at each --jobs against its critical path;
  3. cold against warm: `harness run --warm` twice in a fresh work dir: the first fills
     the wheelhouse and the warm snapshots in its start-up, the second finds them (the
     iteration loop warm mode is for); both install from the wheelhouse.
It prints the ratios (bench/summarize.py) and writes the raw numbers and the command to
bench/results/<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from summarize import print_summary, summarize

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MATRIX = BENCH / "matrix.yaml"
PREPARED = re.compile(r"\[harness\] run \S+: \d+ cell run")
CELL_DONE = re.compile(r"\[harness\] (\d+)/(\d+) done")
LOAD_SAMPLE_SECONDS = 5.0
ENGINE_WAIT_SECONDS = 300.0

Pass = dict[str, Any]


# -- entry point -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="harness-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    record = new_record(args, work)
    with load_sampler() as samples:
        record["bases_build_seconds"] = build_bases(args.matrix)
        record["passes"] = list(run_passes(args, work))
        record["micro"] = micro_costs(record["passes"])
    record["load_samples"] = samples
    record["ended_at"] = now_iso()
    record["summary"] = summarize(record)
    out = write_record(record, args.out)
    print_summary(record)
    print(f"\n[bench] raw numbers: {out}")
    failed = [p["label"] for p in record["passes"] if not p["ok"]]
    finish_workdir(work, keep=args.keep_runs or bool(failed), given=bool(args.workdir))
    if failed:
        print(f"[bench] passes with a failed cell or command: {', '.join(failed)}")
    return 1 if failed else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matrix", type=Path, default=MATRIX)
    parser.add_argument(
        "--rounds", type=int, default=2, help="harness/shell pairs at --jobs 1 (default 2)"
    )
    parser.add_argument("--jobs", default="1,2,4", help="--jobs values for the scheduling pass")
    parser.add_argument(
        "--warm-runs",
        type=int,
        default=2,
        help="--warm runs after the cold ones: the first fills, the next reuse (0: none)",
    )
    parser.add_argument(
        "-k", dest="keyword", help="only the cells matching, as `harness run -k` (e.g. py311-slim)"
    )
    parser.add_argument("--workdir", help="where the harness runs write (default: a temp dir)")
    parser.add_argument("--keep-runs", action="store_true", help="keep the run directories")
    parser.add_argument("--out", type=Path, help="default bench/results/<date>.json")
    args = parser.parse_args(argv)
    args.jobs_list = [int(j) for j in args.jobs.split(",") if j.strip()]
    return args


def run_passes(args: argparse.Namespace, work: Path) -> Iterator[Pass]:
    """ABBA at --jobs 1 (H S, S H, ...), then the other --jobs values, then warm."""
    latest: Pass | None = None
    for index in range(args.rounds):
        order = ("harness", "shell") if index % 2 == 0 else ("shell", "harness")
        for kind in order:
            if kind == "harness":
                latest = with_retry(f"harness-j1-r{index + 1}", harness_run(args, work, 1))
                yield {**latest, "round": index + 1}
            elif latest is not None:
                shell = with_retry(f"shell-r{index + 1}", shell_run(latest))
                yield {**shell, "round": index + 1}
    for jobs in (j for j in args.jobs_list if j != 1):
        yield with_retry(f"harness-j{jobs}", harness_run(args, work, jobs))
    for index in range(args.warm_runs):
        yield with_retry(f"warm-r{index + 1}", harness_run(args, work, 1, warm=True))


def harness_run(
    args: argparse.Namespace, work: Path, jobs: int, warm: bool = False
) -> Callable[[str], Pass]:
    return lambda label: harness_pass(args.matrix, work, label, jobs, warm, args.keyword)


def shell_run(source: Pass) -> Callable[[str], Pass]:
    return lambda label: shell_pass(source, label)


def with_retry(label: str, run: Callable[[str], Pass]) -> Pass:
    """Run a pass, and once more if it failed: other work here restarts dockerd now and then.

    The retry writes to its own directory (a harness run merges every cell file it finds
    in --out), and the failed attempt is kept in the record, not hidden.
    """
    waited = wait_for_engine()
    record = run(label)
    if record["ok"]:
        return {**record, "engine_wait_seconds": waited}
    print(f"[bench] {label} failed: waiting for the engine, then running it again", flush=True)
    waited = wait_for_engine()
    retry = run(f"{label}-retry")
    failed = {k: record.get(k) for k in ("label", "started_at", "wall_seconds", "exit_code")}
    failed["cells"] = {cid: c["status"] for cid, c in record["cells"].items()}
    return {**retry, "label": label, "engine_wait_seconds": waited, "failed_attempt": failed}


def wait_for_engine() -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < ENGINE_WAIT_SECONDS:
        if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0:
            break
        time.sleep(2)
    return round(time.perf_counter() - started, 3)


# -- harness passes ----------------------------------------------------------------------


def harness_command(
    matrix: Path, out: Path, jobs: int, warm: bool, keyword: str | None = None
) -> list[str]:
    command = [*harness_executable(), "run", str(matrix), "--jobs", str(jobs), "--out", str(out)]
    command += ["-k", keyword] if keyword else []
    return [*command, "--warm"] if warm else command


def harness_executable() -> list[str]:
    # The console script, as a user runs it; `python -m harness` where it is missing.
    script = Path(sys.executable).with_name("harness")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness"]


def harness_pass(
    matrix: Path, work: Path, label: str, jobs: int, warm: bool = False, keyword: str | None = None
) -> Pass:
    out = work / label
    command = harness_command(matrix, out, jobs, warm, keyword)
    announce(label, command)
    with pass_context(label, "harness", jobs) as record:
        code, wall, lines = run_streaming(command, work / f"{label}.log")
        record.update(command=shlex.join(command), exit_code=code, wall_seconds=round(wall, 3))
        record.update(phases(lines, wall))
        record.update(read_run(out))
        record["warm"] = warm
        record["ok"] = code == 0 and bool(record["cells"])
    return record


def run_streaming(command: list[str], log_path: Path) -> tuple[int, float, list[tuple[float, str]]]:
    """Run and timestamp every output line: the phases of a run come from its own log."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines arrive when they are written
    lines: list[tuple[float, str]] = []
    started = time.perf_counter()
    with (
        log_path.open("w", encoding="utf-8") as log,
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.perf_counter() - started, line.rstrip("\n")))
            log.write(f"{lines[-1][0]:9.3f} {line}")
        code = process.wait()
    return code, time.perf_counter() - started, lines


def phases(lines: list[tuple[float, str]], wall: float) -> dict[str, float | None]:
    """Start-up (engine, sweep, bases, warm fill) | cells | finish (merge, report, history)."""
    prepared = next((t for t, text in lines if PREPARED.search(text)), None)
    done = [t for t, text in lines if CELL_DONE.search(text)]
    last = done[-1] if done else None
    return {
        "startup_seconds": rnd(prepared),
        "cells_phase_seconds": rnd(last - prepared) if prepared and last else None,
        "finish_seconds": rnd(wall - last) if last else None,
    }


def read_run(out: Path) -> dict[str, Any]:
    try:
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"cells": {}, "cell_order": [], "reproducers": {}}
    cells = sorted(results["cells"], key=lambda c: (c.get("started_at") or "", c["id"]))
    base = results["bases"][0] if results.get("bases") else {}
    return {
        "run_id": results["run"]["id"],
        "base_image": base.get("image_id"),
        "python_command": base.get("python_command"),
        "cells": {c["id"]: cell_numbers(c) for c in cells},
        "cell_order": [c["id"] for c in cells],
        "reproducers": {c["id"]: c.get("reproducer", {}).get("commands", []) for c in cells},
    }


def cell_numbers(cell: dict[str, Any]) -> dict[str, Any]:
    return {
        "seconds": cell.get("seconds"),
        "status": cell.get("status"),
        "warm": bool(cell.get("warm")),
        "started_at": cell.get("started_at"),
        "steps": [[s["name"], s["seconds"]] for s in cell.get("steps", [])],
        # measuring the image (compressed layer) and the memory peaks: work the shell
        # loop does not do, shown beside the structural overhead, not hidden in it
        "measure_seconds": float(cell.get("image_measure_seconds") or 0.0),
    }


# -- the shell loop ----------------------------------------------------------------------


def shell_pass(source: Pass, label: str) -> Pass:
    """Replay the reproducer commands of `source`'s cells, in the order they ran there."""
    announce(label, ["bash", "-c", "<reproducer.commands>", f"(from {source['label']})"])
    with pass_context(label, "shell", 1) as record:
        started = time.perf_counter()
        cells = {cid: replay_cell(source, cid) for cid in source["cell_order"]}
        record.update(source=source["label"], cells=cells, cell_order=source["cell_order"])
        record["wall_seconds"] = round(time.perf_counter() - started, 3)
        record["ok"] = bool(cells) and all(c["status"] == "passed" for c in cells.values())
    if not record["ok"]:
        remove_leftovers(source)
    return record


def remove_leftovers(source: Pass) -> None:
    """A failed replay (say the engine went away) may leave containers: remove them."""
    wait_for_engine()
    for commands in source["reproducers"].values():
        subprocess.run(["bash", "-c", commands[-1]], capture_output=True, check=False)


def replay_cell(source: Pass, cell_id: str) -> dict[str, Any]:
    commands = source["reproducers"][cell_id]
    names = command_names(source["cells"][cell_id]["steps"], len(commands))
    steps: list[list[Any]] = []
    status = "passed"
    started = time.perf_counter()
    try:
        for name, command in zip(names[:-1], commands[:-1], strict=True):
            seconds, code = timed_bash(command)
            steps.append([name, round(seconds, 3)])
            if code != 0:
                status = f"failed: {name} exited {code}"
                break
    finally:  # the last command is `docker rm -f`: always run it
        seconds, _code = timed_bash(commands[-1])
        steps.append([names[-1], round(seconds, 3)])
    return {"seconds": round(time.perf_counter() - started, 3), "status": status, "steps": steps}


def command_names(harness_steps: list[list[Any]], count: int) -> list[str]:
    """Name the reproducer's commands after the harness steps they redo."""
    installs = [n for n, _ in harness_steps if not n.startswith("probe:")]
    installs = [n for n in installs if n != "detect-package-manager"]
    probes = [n for n, _ in harness_steps if n.startswith("probe:")]
    names = ["docker run", *installs, "docker network disconnect", *probes, "docker rm"]
    return names if len(names) == count else [f"command-{i}" for i in range(count)]


def timed_bash(command: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(["bash", "-c", command], capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).decode("utf-8", "replace")[-800:]
        print(f"[bench]   exit {done.returncode}: {command[:120]}\n{tail}", file=sys.stderr)
    return seconds, done.returncode


# -- per-step costs on an idle container ------------------------------------------------------


def micro_costs(passes: list[Pass]) -> dict[str, Any] | None:
    """Exec, inspect and size-query costs, timed apart from any install (bench/micro.py)."""
    source = next((p for p in passes if p.get("base_image")), None)
    if source is None:
        return None
    import micro  # imports the docker SDK and harness: only now, once they are needed

    name = f"harness-bench-micro-{os.getpid()}"
    announce("micro", ["(python)", "micro.measure", source["base_image"]])
    try:
        return micro.measure(source["base_image"], source["python_command"] or "python3", name)
    except Exception as err:  # a side measurement: report it, keep the main numbers
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        return {"error": f"{type(err).__name__}: {err}"}


# -- context of every pass: load, other containers -----------------------------------------


@contextmanager
def pass_context(label: str, kind: str, jobs: int) -> Iterator[Pass]:
    record: Pass = {"label": label, "kind": kind, "jobs": jobs, "started_at": now_iso()}
    record["loadavg_before"] = loadavg()
    record["other_containers_running"] = running_containers()
    try:
        yield record
    finally:
        record["loadavg_after"] = loadavg()
        record["ended_at"] = now_iso()
        print(f"[bench] {label}: {record.get('wall_seconds', '?')} s, load {loadavg()}")


@contextmanager
def load_sampler() -> Iterator[list[list[Any]]]:
    """1-minute load average every few seconds: other work on the machine shows up here."""
    samples: list[list[Any]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(LOAD_SAMPLE_SECONDS):
            samples.append([now_iso(), loadavg()[0]])

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def running_containers() -> int | None:
    done = subprocess.run(["docker", "ps", "-q"], capture_output=True, text=True, check=False)
    return len(done.stdout.split()) if done.returncode == 0 else None


# -- the record -----------------------------------------------------------------------------


def new_record(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else ""
    argv = [python or sys.executable, os.path.relpath(__file__, ROOT), *sys.argv[1:]]
    return {
        "bench_format": 1,
        "date": dt.date.today().isoformat(),
        "started_at": now_iso(),
        "command": shlex.join(argv),
        "cwd": str(ROOT),
        "matrix": str(args.matrix),
        "rounds": args.rounds,
        "jobs": args.jobs_list,
        "workdir": str(work),
        "machine": machine_facts(),
        "harness_git": git_head(),
    }


def machine_facts() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": os_name(),
        "kernel": os.uname().release,
        "docker": docker_version(),
        "loadavg_at_start": loadavg(),
    }


def os_name() -> str | None:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return None


def docker_version() -> str | None:
    command = ["docker", "version", "--format", "{{.Server.Version}}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def git_head() -> str | None:
    # The tree may carry others' uncommitted work: say so next to the commit.
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "harness"], cwd=ROOT, capture_output=True
    )
    text = head.stdout.decode().strip()
    return f"{text}{' (harness/ modified)' if dirty.stdout.strip() else ''}" or None


def build_bases(matrix: Path) -> float:
    """Build or find the stand-in before timing anything, so no pass pays for it."""
    command = [*harness_executable(), "bases", "build", "--matrix", str(matrix)]
    announce("bases", command)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    return round(time.perf_counter() - started, 3)


def write_record(record: dict[str, Any], out: Path | None) -> Path:
    # Date and start time: two benches on one day keep both records.
    stamp = record["started_at"][:16].replace(":", "")
    target = out or BENCH / "results" / f"{stamp}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    slim = {**record, "passes": [strip_pass(p) for p in record["passes"]]}
    target.write_text(json.dumps(slim, indent=1) + "\n", encoding="utf-8")
    return target


def strip_pass(record: Pass) -> Pass:
    # Reproducer commands are long and are in the run's own results.json.
    return {k: v for k, v in record.items() if k != "reproducers"}


def finish_workdir(work: Path, keep: bool, given: bool) -> None:
    if keep or given:
        print(f"[bench] run directories kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


# -- small helpers ------------------------------------------------------------------------


def announce(label: str, command: list[str]) -> None:
    print(f"[bench] {label}: {shlex.join(command)}", flush=True)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def rnd(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


if __name__ == "__main__":
    sys.exit(main())
