"""What the distribution file index costs: fetch + parse + write once per suite, then
opening the cached lookup and answering one question (bench/README.md).

    PYTHONPATH=$PWD .venv/bin/python bench/fileindex.py [--suite bookworm] [--lookups 200]

A fresh cache folder each run (so the fetch is measured), Debian's archive over the
network: the first number is mostly the download and the parse, and moves with the
host's load and the mirror. The 1-minute load average is sampled before and after.
Writes bench/results/<date>-fileindex.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from harness.run.fileindex import Release, open_index

QUESTIONS = [
    ("header", "lber.h"),
    ("header", "Python.h"),
    ("pkgconfig", "cairo"),
    ("program", "pg_config"),
    ("program", "cargo"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", default="bookworm")
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args()
    release = Release("debian", args.suite, "amd64")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="fileindex-bench-") as cache:
        first = open_index(release, cache=Path(cache), timeout_s=300)
        if first.index is None:
            raise SystemExit(f"no index: {first.problem}")
        size = first.index.path.stat().st_size
        kept = first.index.count()
        opened = []
        for _ in range(10):
            started = time.perf_counter()
            open_index(release, cache=Path(cache))
            opened.append(time.perf_counter() - started)
        index = first.index
        lookups = []
        for n in range(args.lookups):
            kind, name = QUESTIONS[n % len(QUESTIONS)]
            started = time.perf_counter()
            index.header(name) if kind == "header" else index.find(kind, name)  # type: ignore[arg-type]
            lookups.append(time.perf_counter() - started)
    result = {
        "command": f"bench/fileindex.py --suite {args.suite} --lookups {args.lookups}",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "suite": args.suite,
        "fetch_parse_write_s": round(first.seconds, 2),
        "index_bytes": size,
        "rows_kept": kept,
        "open_cached_ms_median": round(statistics.median(opened) * 1000, 3),
        "lookup_ms_median": round(statistics.median(lookups) * 1000, 3),
        "lookup_ms_max": round(max(lookups) * 1000, 3),
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    out = Path("bench/results") / f"{dt.date.today()}-fileindex.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
