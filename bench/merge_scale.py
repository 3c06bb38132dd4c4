"""What `harness merge` and the report cost as a matrix grows: synthetic shard run
directories (valid cell records in the shape of docs/design.md, harness/testing/synthetic.py)
at 100, 1,000 and 10,000 cell runs, merged and published as `harness merge` does.

    .venv/bin/python bench/merge_scale.py [--sizes 100,1000,10000] [--shards 4] [--out FILE]

Each size runs in a fresh subprocess (so its peak RSS is its own), twice: once timed,
once under tracemalloc for the peak of Python allocations per phase. Phases: `merge`
(read and validate every shard's results.json, merge, write results.json), `report`
(report.html alone, from the merged results), `publish` (everything `harness merge`
writes: history entry, junit.xml, summary.md, report.html). Prints a table and writes
every number to bench/results/merge-scale-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# cell runs → (bases, depsets): one repeat each, a matrix shape a platform team might have.
SHAPES = {100: (10, 10), 1000: (20, 50), 10000: (50, 200)}


def shape_for(cells: int) -> tuple[int, int]:
    if cells in SHAPES:
        return SHAPES[cells]
    bases = max(1, int(cells**0.5) // 2)
    return bases, max(1, cells // bases)


def write_shards(work: Path, cells: int, shards: int) -> list[Path]:
    from harness.run.results import write_json
    from harness.testing.synthetic import synthetic_plan, synthetic_shard

    bases, depsets = shape_for(cells)
    plan = synthetic_plan(bases, depsets, repeat=1, shards=shards)
    dirs = []
    for index in range(1, shards + 1):
        shard_dir = work / "artifacts" / f"shard-{index}"
        shard_dir.mkdir(parents=True)
        write_json(shard_dir / "results.json", synthetic_shard(plan, index, host=f"runner-{index}"))
        dirs.append(shard_dir)
    return dirs


def phases(work: Path, dirs: list[Path], tag: str) -> dict[str, Callable[[], Any]]:
    from harness.documents.publish import write_outputs
    from harness.documents.report import write_report
    from harness.run.results import write_json
    from harness.store.rundir import load_results
    from harness.store.shards import merge_shards, read_shard

    out = work / "reports" / f"20270102-000000-{tag}"

    def merge() -> None:
        merged = merge_shards([read_shard(d) for d in dirs], out.name, "2027-01-02T00:00:00")
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "results.json", merged)

    def report() -> None:
        write_report(out, history=[])

    def publish() -> None:
        write_outputs(out, load_results(out / "results.json"))

    return {"merge": merge, "report": report, "publish": publish}


def measure_one(cells: int, shards: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="merge-scale-") as tmp:
        work = Path(tmp)
        dirs = write_shards(work, cells, shards)
        shard_bytes = sum((d / "results.json").stat().st_size for d in dirs)
        timed: dict[str, float] = {}
        for name, run in phases(work, dirs, "aaaaaa").items():
            start = time.perf_counter()
            run()
            timed[name] = round(time.perf_counter() - start, 3)
        out = work / "reports" / "20270102-000000-aaaaaa"
        sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
        pages = sorted((out / "report-cells").glob("*.html"))
        sizes["report-cells/ (pages)"] = len(pages)
        sizes["report-cells/ total"] = sum(p.stat().st_size for p in pages)
        sizes["report-cells/ largest"] = max((p.stat().st_size for p in pages), default=0)
        peaks: dict[str, int] = {}
        for name, run in phases(work, dirs, "bbbbbb").items():
            tracemalloc.start()
            run()
            peaks[name] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return {
        "cell_runs": cells,
        "shape": list(shape_for(cells)),
        "shards": shards,
        "shard_results_bytes": shard_bytes,
        "seconds": timed,
        "tracemalloc_peak_bytes": peaks,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "output_bytes": sizes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--out", help="JSON record (default bench/results/merge-scale-*.json)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the per-size subprocess
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.shards)))
        return 0
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size), "--shards", str(args.shards)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        rows.append(json.loads(done.stdout.splitlines()[-1]))
        print_row(rows[-1])
    record = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "load_average": list(__import__("os").getloadavg()),
        "rows": rows,
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M")
    out = Path(args.out or ROOT / "bench" / "results" / f"merge-scale-{stamp}.json")
    out.write_text(json.dumps(record, indent=1))
    print(f"written: {out}")
    return 0


def print_row(row: dict[str, Any]) -> None:
    s, peak, size = row["seconds"], row["tracemalloc_peak_bytes"], row["output_bytes"]
    print(
        f"{row['cell_runs']:>6} cells: merge {s['merge']:.2f} s "
        f"(peak {peak['merge'] / 1e6:.0f} MB), "
        f"report {s['report']:.2f} s (peak {peak['report'] / 1e6:.0f} MB), "
        f"publish {s['publish']:.2f} s; max RSS {row['max_rss_bytes'] / 1e6:.0f} MB; "
        f"results.json {size['results.json'] / 1e6:.1f} MB, report.html "
        f"{size['report.html'] / 1e6:.1f} MB + {size['report-cells/ (pages)']} pages "
        f"({size['report-cells/ total'] / 1e6:.1f} MB, largest "
        f"{size['report-cells/ largest'] / 1e6:.1f} MB)",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
