"""The cost of results.json as types: read, to_dict (the compatibility path) and write.

    python bench/results_io.py --cells 2000

builds a results.json of N copies of the fixture's first cell, each with a contents probe
of 150 OS packages and 60 distributions (a real ffmpeg cell has about 190 and 5), and
prints one JSON line: {"cells", "file_mb", "json_loads_s", "read_s", "to_dict_s",
"write_s"}. json_loads_s is the floor: the standard library parsing the same text.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.store.resultsfile import write_results  # noqa: E402
from harness.store.rundir import read_results  # noqa: E402


def build(cells: int) -> dict[str, object]:
    document = json.loads((ROOT / "tests" / "fixtures" / "results_v1.json").read_text())
    cell = copy.deepcopy(document["cells"][0])
    cell["probes"]["contents"] = {
        "status": "passed",
        "os_packages": [
            {"name": f"p{i}", "version": "1", "installed_size_bytes": 1000,
             "architecture": "amd64", "source": "x", "source_version": None}
            for i in range(150)
        ],
        "distributions": [
            {"name": f"d{i}", "version": "1", "wheel_tags": ["py3-none-any"],
             "requested": False, "installer": "pip"}
            for i in range(60)
        ],
        "paths": {"/usr": {"bytes": 1, "files": 2}},
    }  # fmt: skip
    document["cells"] = [dict(copy.deepcopy(cell), id=f"c{i}") for i in range(cells)]
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.json"
        path.write_text(json.dumps(build(args.cells)))
        started = time.perf_counter()
        json.loads(path.read_text())
        loads = time.perf_counter() - started
        started = time.perf_counter()
        results = read_results(path)
        read = time.perf_counter() - started
        started = time.perf_counter()
        results.to_dict()
        to_dict = time.perf_counter() - started
        started = time.perf_counter()
        write_results(Path(folder) / "out.json", results)
        write = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "cells": args.cells,
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "json_loads_s": round(loads, 2),
                    "read_s": round(read, 2),
                    "to_dict_s": round(to_dict, 2),
                    "write_s": round(write, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
