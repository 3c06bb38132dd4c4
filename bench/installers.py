"""pip against uv on the default depsets: one cold run, then warm runs (bench/README.md).

    PYTHONPATH=$PWD .venv/bin/python bench/installers.py [-k "py311"] [--warm-runs 2]

1. cold: ``harness run matrices/installers.yaml -k EXPR --jobs 1``: every depset with pip
   requirements as a pip cell and a uv cell in the same run, one cell at a time (so the
   two never share the CPU), both cold and byte-compiling; per pair the installer step's
   seconds, the ratio uv/pip and the install totals, from results.json through
   harness.analysis.installers (the same pairing the report shows).
2. warm: ``harness run --warm -k "EXPR and WARM_DEPSETS"`` twice in one work dir: the first
   fills the wheelhouse (with ``pip wheel``: uv has no command that fills one) and the
   snapshots, the second finds them; per pair the installer step installing from the
   wheelhouse (``--no-index``, no byte-compiling on either side).
The 1-minute load average is sampled before and after each pass: on a shared machine it
is the first confound to read. Writes bench/results/<date>-installers.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MATRIX = ROOT / "matrices" / "installers.yaml"
sys.path.insert(0, str(ROOT))

from harness.analysis.installers import InstallerPair, installer_pairs  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="keyword", default="py311", help="cells, as harness run -k")
    parser.add_argument("--matrix", default=str(MATRIX))
    parser.add_argument("--warm-runs", type=int, default=2, help="0 skips warm mode")
    parser.add_argument("--warm-depsets", default="spacy", help="-k words for the warm passes")
    parser.add_argument("--workdir", help="where the runs go (default: a temporary folder)")
    parser.add_argument("--out", help="result file (default bench/results/<date>-installers)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-installers-"))
    record: dict[str, Any] = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "started_at": _now(),
        "host": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())},
        "commit": _git("rev-parse", "HEAD"),
        "passes": [],
    }
    record["passes"].append(_pass("cold", work / "cold", args.matrix, args.keyword, warm=False))
    warm_keyword = f"({args.keyword}) and ({args.warm_depsets})"
    for index in range(args.warm_runs):
        name = f"warm-r{index + 1}"
        record["passes"].append(_pass(name, work / name, args.matrix, warm_keyword, warm=True))
    record["ended_at"] = _now()
    out = Path(args.out or BENCH / "results" / f"{time.strftime('%Y-%m-%dT%H%M')}-installers.json")
    out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print_tables(record)
    print(f"\nwritten: {out}")
    return 0


def _pass(name: str, out: Path, matrix: str, keyword: str, *, warm: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "harness", "run", matrix, "-k", keyword, "--jobs", "1"]
    command += ["--warm"] if warm else []
    # Warm passes share one wheelhouse (it sits beside the run folder): same parent.
    argv = [*command, "--out", str(out)]
    _wait_for_engine()
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    results = _results(out)
    resumed = 0
    # Other work on this machine restarts dockerd; a cell that lost the engine is no
    # result, and --resume runs just those cells again into the same run.
    while any(c.get("engine_lost") for c in results["cells"]) and resumed < 2:
        resumed += 1
        _wait_for_engine()
        again = [*command, "--resume", str(out)]
        done = subprocess.run(again, cwd=ROOT, capture_output=True, text=True, check=False)
        results = _results(out)
    wall = time.monotonic() - started
    return {
        "name": name,
        "argv": argv,
        "resumed_after_engine_loss": resumed,
        "exit_code": done.returncode,
        "wall_seconds": round(wall, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "uv": (results.get("run") or {}).get("installers"),
        "cells": [_cell_summary(c) for c in results["cells"]],
        "pairs": [_pair_summary(p) for p in installer_pairs(results)],
        "stdout_tail": done.stdout[-2000:],
    }


def _results(out: Path) -> dict[str, Any]:
    path = out / "results.json"
    return json.loads(path.read_text()) if path.exists() else {"cells": []}


def _wait_for_engine(limit: float = 300.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        ok = subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
        if ok:
            return
        time.sleep(5)


def _cell_summary(cell: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cell["id"],
        "status": cell["status"],
        "reason": cell.get("reason"),
        "started_at": cell.get("started_at"),
        "warm": cell.get("warm"),
        "install_seconds": cell.get("install_seconds"),
        "steps": {s["name"]: s["seconds"] for s in cell.get("steps") or []},
        "uv_seconds": next(
            (s.get("uv_seconds") for s in cell.get("steps") or [] if s["name"] == "uv-install"),
            None,
        ),
    }


def _pair_summary(pair: InstallerPair) -> dict[str, Any]:
    def median(sample: Any) -> float | None:
        return None if sample is None else round(sample.median, 2)

    return {
        "base": pair.base,
        "depset": pair.depset,
        "statuses": [pair.pip.status, pair.other.status],
        "pip_step": median(pair.step.a),
        "uv_step": median(pair.step.b),
        "ratio_uv_over_pip": None if pair.ratio is None else round(pair.ratio, 3),
        "pip_install_total": median(pair.install.a),
        "uv_install_total": median(pair.install.b),
        "version_differences": [(d.name, d.a, d.b, d.kind) for d in pair.distributions],
        "verdict": pair.verdict,
    }


def print_tables(record: dict[str, Any]) -> None:
    for bench_pass in record["passes"]:
        print(
            f"\n{bench_pass['name']}: wall {bench_pass['wall_seconds']} s, exit "
            f"{bench_pass['exit_code']}, load {bench_pass['load_before']} → "
            f"{bench_pass['load_after']}"
        )
        print("| base | depset | pip step s | uv step s | uv/pip | pip total s | uv total s |")
        print("|---|---|---|---|---|---|---|")
        for p in bench_pass["pairs"]:
            cells = [p["pip_step"], p["uv_step"], p["ratio_uv_over_pip"]]
            cells += [p["pip_install_total"], p["uv_install_total"]]
            text = " | ".join("—" if v is None else str(v) for v in cells)
            print(f"| {p['base']} | {p['depset']} | {text} |")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _git(*args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
