"""What `harness merge` and `harness report` cost at scale, from REAL cell records.

    .venv/bin/python bench/merge_scale.py --from RUN_DIR --cells 10000 --shards 8 [--keep DIR]

RUN_DIR is a finished run (its results.json, cells/ and sbom/). The bench builds K shard
directories of one plan holding N cell runs: each is a copy of one of RUN_DIR's cell
records (round robin), its base and depset renamed (``<base>-<j>``, ``<depset>-<k>``: 10
copies of each base) so every id is distinct; the
cell's SBOM (sbom/<cell>.cdx.json and its entry, as the cell wrote them when it ended) is
copied with the same renaming, so the merged run does not pay for SBOMs a real shard
already has. Then it runs ``harness merge`` and ``harness report`` as subprocesses and
prints one JSON line:

    {"cells", "merge_s", "report_s", "peak_rss_mb", "results_mb", "report_mb",
     "merge_cpu_s", "report_cpu_s", "load1": [at start, at end]}

``peak_rss_mb`` is the largest RSS of either subprocess (getrusage RUSAGE_CHILDREN, read
after each); ``report_mb`` counts report.html and its report-cells/ pages. The CPU
seconds (user + system of each subprocess) and the host's 1-minute load average are
printed beside the wall times: on a shared machine the wall time says as much about the
other work on the host as about harness.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE_COPIES = 10
sys.path.insert(0, str(ROOT))


def build_shards(source: Path, work: Path, cells: int, shards: int) -> list[Path]:
    """K shard directories of one plan from ``source``'s real cell records."""
    from harness.model.ids import CROSS
    from harness.model.plan import PLAN_FORMAT
    from harness.store.files import result_file_name
    from harness.store.resultsfile import write_results
    from harness.store.rundir import load_results

    results = load_results(source / "results.json")
    records = [c for c in results["cells"] if int(c.get("repeat") or 0) == 0]
    if not records:
        raise SystemExit(f"{source}: no cell records to copy")
    texts = [json.dumps(c, separators=(",", ":")) for c in records]
    sboms = {}
    from harness.documents.contents import read_cell_sbom_entry, write_cell_sbom

    for record in records:
        stem = result_file_name(record["id"], 0).removesuffix(".json")
        # a run of an older harness has no per-cell SBOM entries: write them as a cell would
        origin = source if read_cell_sbom_entry(source, record) else work / "source"
        if origin != source:
            write_cell_sbom(origin, record, results)
        found = origin / "sbom" / f"{stem}.cdx.json"
        entry = origin / "sbom" / f"{stem}.entry.json"
        if found.is_file() and entry.is_file():
            sboms[record["id"]] = (found.read_text(encoding="utf-8"), entry.read_text("utf-8"))
    depsets = {d["name"]: d for d in results.get("depsets") or []}
    bases = {b["name"]: b for b in results.get("bases") or []}

    # Cell i copies record i % R (R records) in copy g = i // R, which renames its base to
    # <base>-<g % BASE_COPIES> and its depset to <depset>-<g // BASE_COPIES>: distinct ids
    # in a grid a platform team might have (10,000 cells: 30 bases x 625 depsets).
    def cell_id(i: int) -> tuple[str, str, str, str, str]:
        record, copy = records[i % len(records)], i // len(records)
        base = f"{record['base']}-{copy % BASE_COPIES}"
        depset = f"{record['depset']}-{copy // BASE_COPIES}"
        return record["id"], depset, f"{base}{CROSS}{depset}", record["depset"], base

    runs = [
        {"cell": cell_id(i)[2], "repeat": 0, "shard": i % shards + 1, "expected_seconds": 1.0}
        for i in range(cells)
    ]
    plan = {
        "plan_format": PLAN_FORMAT,
        "id": "bench-merge-scale",
        "matrix": dict(results["run"]["matrix"]),
        "keyword": None,
        "shards": shards,
        "previous_run": None,
        "expected_seconds": [float(len(runs[k::shards])) for k in range(shards)],
        "runs": runs,
    }
    dirs = []
    for index in range(1, shards + 1):
        shard_dir = work / "artifacts" / f"shard-{index}"
        (shard_dir / "cells").mkdir(parents=True)
        (shard_dir / "sbom").mkdir()
        run = {
            **results["run"],
            "id": f"bench-shard-{index}",
            "shard": {"plan_id": plan["id"], "index": index, "count": shards},
            "plan": plan,
            "history_dir": None,
        }
        run.pop("sboms", None)
        mine = [i for i in range(cells) if i % shards + 1 == index]
        names = sorted({cell_id(i)[1:4:2] for i in mine})
        base_copies = sorted({(cell_id(i)[4], records[i % len(records)]["base"]) for i in mine})
        head = {
            "schema_version": results["schema_version"],
            "run": run,
            "bases": [{**bases[old], "name": new} for new, old in base_copies],
            "depsets": [{**depsets.get(old, {}), "name": new} for new, old in names],
        }

        def shard_cells(mine: list[int] = mine, shard_dir: Path = shard_dir) -> Any:
            for i in mine:
                old_id, depset, new_id, _old, base = cell_id(i)
                text = texts[i % len(records)]
                cell = json.loads(text.replace(json.dumps(old_id), json.dumps(new_id), 1))
                cell["depset"], cell["base"] = depset, base
                name = result_file_name(new_id, 0)
                (shard_dir / "cells" / name).write_text(json.dumps(cell), encoding="utf-8")
                if old_id in sboms:
                    sbom, entry = sboms[old_id]
                    stem = name.removesuffix(".json")
                    renamed = entry.replace(result_file_name(old_id, 0).removesuffix(".json"), stem)
                    (shard_dir / "sbom" / f"{stem}.cdx.json").write_text(
                        sbom.replace(old_id, new_id), encoding="utf-8"
                    )
                    (shard_dir / "sbom" / f"{stem}.entry.json").write_text(
                        renamed.replace(json.dumps(old_id), json.dumps(new_id)), encoding="utf-8"
                    )
                yield cell

        # the layout `harness run --shard` writes (results.merge → store/resultsfile.py)
        write_results(shard_dir / "results.json", head, shard_cells())
        dirs.append(shard_dir)
    return dirs


def timed(command: list[str]) -> tuple[float, float, float]:
    """Seconds, the peak RSS (MB) of all children so far, and the CPU seconds of
    ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode not in (0, 1):  # 1: a cell of the copied run failed (fail-on status)
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"{' '.join(command[:4])}… exited {done.returncode}")
    return seconds, after.ru_maxrss / 1024, cpu


def size_mb(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths if p.is_file()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", required=True, help="a finished run directory")
    parser.add_argument("--cells", type=int, default=1000, help="cell runs in all (N)")
    parser.add_argument("--shards", type=int, default=8, help="shard directories (K)")
    parser.add_argument("--keep", help="build in this directory and keep it (default: a temp)")
    args = parser.parse_args(argv)
    source = Path(args.source).resolve()
    with tempfile.TemporaryDirectory(prefix="merge-scale-") as tmp:
        work = Path(args.keep).resolve() if args.keep else Path(tmp)
        if args.keep:
            shutil.rmtree(work, ignore_errors=True)
        dirs = build_shards(source, work, args.cells, args.shards)
        out = work / "merged"
        python = sys.executable
        load_start = os.getloadavg()[0]
        merge_s, rss_merge, merge_cpu = timed(
            [python, "-m", "harness", "merge", *map(str, dirs), "--out", str(out)]
        )
        report_s, rss_report, report_cpu = timed([python, "-m", "harness", "report", str(out)])
        pages = [out / "report.html", *(out / "report-cells").glob("*.html")]
        line: dict[str, Any] = {
            "cells": args.cells,
            "merge_s": round(merge_s, 2),
            "report_s": round(report_s, 2),
            "peak_rss_mb": round(max(rss_merge, rss_report)),
            "results_mb": round(size_mb([out / "results.json"]), 1),
            "report_mb": round(size_mb(pages), 1),
            "merge_cpu_s": round(merge_cpu, 2),
            "report_cpu_s": round(report_cpu, 2),
            "load1": [round(load_start, 1), round(os.getloadavg()[0], 1)],
        }
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
