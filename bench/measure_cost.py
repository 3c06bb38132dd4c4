"""What measuring "what each image is made of" costs a cell, from a finished run.

    .venv/bin/python bench/measure_cost.py reports/latest [--out FILE]

Three costs, each a direct measurement (no estimate, no subtraction of two noisy runs):

1. ``size``: the engine's size queries, one before the first step, one after each install
   step and one at the end (``cells[].size_measure_seconds``, timed by the cell around each
   query; the cell's wall time grows by exactly this, since nothing else runs in between).
2. ``contents``: the contents probe's step (``steps[name=probe:contents].seconds``), which
   reads dpkg/apk's database and every installed file's size in the container.
3. ``sbom``: building and validating the cell's CycloneDX SBOM on the host at publish time,
   timed here by building them again from the run's results.json (best of three).
4. ``image``: the compressed size of the cell's layer and the memory mark after the install
   (``cells[].image_measure_seconds``, timed by the cell around run/imagesize.py's
   ``after_install``); its share of the cell's wall time is printed on its own
   (issue 26's budget: under 5 %). The base's compressed size is computed once per image
   id and cached: its one-time cost is read from that cache file and printed per base.

Prints one row per cell and a summary (median and maximum, and the share of the cell's
wall time); writes bench/results/<date>-measure-cost.json with every number, the run it
read, that run's load averages and this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from harness.documents.contents import cell_sbom  # noqa: E402
from harness.documents.sbom import validate_sbom  # noqa: E402
from harness.model.cache import cache_root  # noqa: E402
from harness.store.rundir import load_results  # noqa: E402

CONTENTS_STEP = "probe:contents"
SBOM_ROUNDS = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished run's directory")
    parser.add_argument("--out", type=Path, help="JSON output (default bench/results/...)")
    args = parser.parse_args()
    results = load_results(args.run / "results.json")
    rows = [row for cell in results["cells"] if (row := cell_costs(results, cell))]
    if not rows:
        print(f"{args.run}: no cell measured its size per step (a run before harness 0.4?)")
        return 1
    print_table(rows)
    summary = summarise(rows)
    print_summary(summary)
    bases = base_costs(results)
    for base in bases:
        print(
            f"  base {base['base']}: compressed {base['compressed_bytes']} B, computed once in "
            f"{base['seconds']} s (cached by image id)"
        )
    out = args.out or BENCH / "results" / f"{dt.datetime.now():%Y-%m-%dT%H%M}-measure-cost.json"
    record = {
        "command": " ".join(["bench/measure_cost.py", *sys.argv[1:]]),
        "run": results["run"].get("id"),
        "run_load": results["run"].get("load"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "cells": rows,
        "summary": summary,
        "bases": bases,
    }
    out.write_text(json.dumps(record, indent=1), encoding="utf-8")
    print(f"\nwritten: {out}")
    return 0


def cell_costs(results: dict[str, Any], cell: dict[str, Any]) -> dict[str, Any] | None:
    size = cell.get("size_measure_seconds")
    if not isinstance(size, int | float):
        return None
    steps = cell.get("steps") or []
    contents = next((s["seconds"] for s in steps if s["name"] == CONTENTS_STEP), None)
    queries = 2 + sum(1 for s in steps if "bytes_added" in s)
    return {
        "cell": cell["id"],
        "repeat": cell.get("repeat", 0),
        "status": cell["status"],
        "cell_seconds": cell.get("seconds"),
        "size_added_bytes": cell.get("size_added_bytes"),
        "size_queries": queries,
        "size_seconds": size,
        "contents_seconds": contents,
        "sbom_seconds": sbom_seconds(results, cell) if contents is not None else None,
        "image_seconds": cell.get("image_measure_seconds"),
        "image_sampled": cell.get("image_compressed_sampled"),
        "image_layer_compressed_bytes": cell.get("image_layer_compressed_bytes"),
    }


def base_costs(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each base's compressed size and what computing it cost (its cache file's record)."""
    rows = []
    for base in results.get("bases") or []:
        image_id = base.get("image_id")
        if not image_id or base.get("compressed_bytes") is None:
            continue
        path = cache_root() / "compressed-size" / f"{image_id.replace(':', '-')}.json"
        try:
            seconds = json.loads(path.read_text(encoding="utf-8")).get("seconds")
        except (OSError, ValueError):
            seconds = None
        rows.append({"base": base["name"], "compressed_bytes": base["compressed_bytes"],
                     "seconds": seconds})  # fmt: skip
    return rows


def sbom_seconds(results: dict[str, Any], cell: dict[str, Any]) -> float:
    """Best of SBOM_ROUNDS: build the cell's SBOM and run the validator, as publish does."""
    best = float("inf")
    for _ in range(SBOM_ROUNDS):
        started = time.perf_counter()
        plan = cell_sbom(results, cell)
        errors = validate_sbom(plan.text)
        best = min(best, time.perf_counter() - started)
        if errors:
            raise SystemExit(f"{cell['id']}: the SBOM does not validate: {errors[:2]}")
    return best


def total(row: dict[str, Any]) -> float:
    keys = ("size_seconds", "contents_seconds", "sbom_seconds", "image_seconds")
    return sum(row[k] or 0.0 for k in keys)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def stats(values: list[float]) -> dict[str, float]:
        return {"median": statistics.median(values), "max": max(values), "n": len(values)}

    measured = [r for r in rows if r["contents_seconds"] is not None]
    shares = [total(r) / r["cell_seconds"] for r in measured if r["cell_seconds"]]
    imaged = [r for r in rows if r["image_seconds"] is not None and r["cell_seconds"]]
    return {
        "size_seconds": stats([r["size_seconds"] for r in rows]),
        "contents_seconds": stats([r["contents_seconds"] for r in measured]) if measured else None,
        "sbom_seconds": stats([r["sbom_seconds"] for r in measured]) if measured else None,
        "total_seconds": stats([total(r) for r in measured]) if measured else None,
        "share_of_cell": stats(shares) if shares else None,
        "image_seconds": stats([r["image_seconds"] for r in imaged]) if imaged else None,
        "image_share_of_cell": (
            stats([r["image_seconds"] / r["cell_seconds"] for r in imaged]) if imaged else None
        ),
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'cell':44} {'status':16} {'cell s':>8} {'size s':>7} {'n':>2} "
          f"{'contents s':>10} {'sbom s':>7} {'image s':>7} {'share':>6}")  # fmt: skip
    for r in rows:
        share = total(r) / r["cell_seconds"] if r["cell_seconds"] else 0.0
        print(
            f"{r['cell'][:44]:44} {r['status'][:16]:16} {r['cell_seconds'] or 0:8.1f} "
            f"{r['size_seconds']:7.2f} {r['size_queries']:2d} {_opt(r['contents_seconds']):>10} "
            f"{_opt(r['sbom_seconds'], 3):>7} {_opt(r['image_seconds']):>7} {share:6.1%}"
        )


def print_summary(summary: dict[str, Any]) -> None:
    print("\nper cell (cells with a contents result for contents, sbom and share):")
    for key, value in summary.items():
        if value is None:
            continue
        if key in ("share_of_cell", "image_share_of_cell"):
            low, high = f"{value['median']:.1%}", f"{value['max']:.1%}"
        else:
            low, high = f"{value['median']:.3f} s", f"{value['max']:.3f} s"
        print(f"  {key:18} median {low}, max {high} (n={value['n']})")


def _opt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    raise SystemExit(main())
