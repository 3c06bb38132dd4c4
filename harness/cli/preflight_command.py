"""``harness preflight``: what each base will get, before any cell's container starts.

The bases are found (never built: a base that is not on this machine is reported as
such), their facts come from the env probe cache or one probe in the image, and pip on
the host predicts each cell's requirements for the base's platform (``run.forecast``).
A prediction is data, so the exit code is 0 whatever it says; 2 for a bad matrix.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.model.errors import ConfigurationError
from harness.model.matrix import PROBES_DIR, load_matrix
from harness.model.results import BaseRecord, Preflight
from harness.store.files import PREFLIGHT_JSON
from harness.store.rundir import write_atomic

if TYPE_CHECKING:
    from harness.run.forecast import CellForecast

DEFAULT_OUT = f"reports/{PREFLIGHT_JSON}"


def add_command(sub: Any) -> None:
    preflight = sub.add_parser(
        "preflight",
        help="predict, per cell, wheel / build from source / no distribution, in seconds",
    )
    preflight.add_argument("matrix", nargs="?", default="matrix.yaml")
    preflight.add_argument(
        "-k",
        dest="keyword",
        help="a -k expression (pytest's grammar) over cell ids, bases, depsets, installers",
    )
    preflight.add_argument(
        "--jobs", "-j", type=int, default=4, help="predictions at once (default 4)"
    )
    preflight.add_argument("--out", default=DEFAULT_OUT, help=f"JSON file (default {DEFAULT_OUT})")
    preflight.set_defaults(func=cmd_preflight)


def cmd_preflight(args: argparse.Namespace) -> int:
    from harness.engine import client as engine
    from harness.engine.bases import Resolver
    from harness.run.forecast import predict_cells

    started = time.monotonic()
    matrix = load_matrix(args.matrix)
    if args.jobs < 1:
        raise ConfigurationError(f"--jobs {args.jobs}: must be at least 1", "pass --jobs 1 or more")
    cells = list(matrix.select(args.keyword or ""))
    if not cells:
        raise ConfigurationError(
            f"{args.matrix}: no cell matches -k {args.keyword!r}",
            "`harness validate` lists the cell ids",
        )
    resolver = Resolver(engine.connect(), matrix, PROBES_DIR, log=_stderr, build=False)
    needed = list(dict.fromkeys(c.base for c in cells))
    bases = resolver.resolve_all(needed)
    forecasts = predict_cells(matrix, cells, bases, jobs=args.jobs)
    for forecast in forecasts:
        print(render_forecast(forecast))
    seconds = round(time.monotonic() - started, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "matrix": str(matrix.path),
        "seconds": seconds,
        "bases": [_base_summary(BaseRecord.from_dict(bases[name], "base")) for name in needed],
        "cells": [f.to_dict() for f in forecasts],
    }
    write_atomic(out, json.dumps(document, indent=1))
    print(summary_line(len(cells), forecasts, seconds) + f"; written: {out}")
    return 0


def summary_line(selected: int, forecasts: Sequence[CellForecast], seconds: float) -> str:
    predicted = sum(1 for f in forecasts if f.prediction)
    parts = [f"{predicted} cell(s) predicted in {seconds} s"]
    if len(forecasts) > predicted:
        parts.append(f"{len(forecasts) - predicted} not predicted (each line says why)")
    if selected > len(forecasts):
        parts.append(f"{selected - len(forecasts)} without Python requirements")
    return ", ".join(parts)


def render_forecast(forecast: CellForecast) -> str:
    """The verdict line of one cell, then one line per distribution (read as results.json
    records it: ``cells[].preflight``)."""
    if not forecast.prediction:
        return f"{forecast.cell_id}: not predicted: {forecast.unavailable}"
    prediction = Preflight.from_dict(forecast.prediction.to_dict(), "preflight")
    lines = [
        f"{forecast.cell_id}: {prediction.verdict} "
        f"({prediction.seconds or 0.0:.1f} s, {prediction.pip_runs} pip run(s))"
    ]
    for item in prediction.distributions:
        version = item.version or "(version unknown)"
        if item.kind == "wheel":
            what = f"wheel {item.wheel_tag}"
        elif item.kind == "sdist":
            what = "sdist (built from source)"
        else:
            what = f"none: {item.reason}"
        marker = "*" if item.requested else " "
        lines.append(f"  {marker} {item.name} {version}: {what}")
    lines += [f"    note: {note}" for note in prediction.notes]
    return "\n".join(lines)


def _base_summary(base: BaseRecord) -> dict[str, object]:
    """What preflight.json says of a base (the fields of results.json's bases)."""
    keys = ("name", "status", "reason", "standin", "image", "image_id", "python", "libc")
    return dict.fromkeys(keys) | {k: v for k, v in base.to_dict().items() if k in keys}


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
