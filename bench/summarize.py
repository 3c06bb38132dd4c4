"""Ratios from the raw numbers of bench/run_bench.py, and the tables it prints.

    .venv/bin/python bench/summarize.py bench/results/2026-11-27.json   # print them again

Every figure is computed from the passes in the record, so a saved record can be
re-summarised after a change to this file.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Pass = dict[str, Any]
Row = Sequence[Any]
WORK_STEPS = ("venv", "system-packages", "pip-install")  # and every probe:<name>


# -- selecting passes --------------------------------------------------------------------


def harness_passes(
    record: dict[str, Any], jobs: int | None = None, warm: bool = False
) -> list[Pass]:
    return [
        p
        for p in record["passes"]
        if p["kind"] == "harness"
        and p.get("warm", False) == warm
        and (jobs is None or p["jobs"] == jobs)
        and p["cells"]
    ]


def cold_j1(record: dict[str, Any]) -> list[Pass]:
    # The --jobs 1 rounds are the ones paired with the shell loop.
    return [p for p in harness_passes(record, 1) if "round" in p]


def shell_passes(record: dict[str, Any]) -> list[Pass]:
    return [p for p in record["passes"] if p["kind"] == "shell" and p["cells"]]


def common_cells(passes: Iterable[Pass]) -> list[str]:
    passes = list(passes)
    if not passes:
        return []
    ids = [c for c in passes[0]["cell_order"] if all(c in p["cells"] for p in passes)]
    return ids


def seconds(passes: Iterable[Pass], cell: str) -> list[float]:
    return [float(p["cells"][cell]["seconds"]) for p in passes]


def cells_sum(record: Pass) -> float:
    return sum(float(c["seconds"]) for c in record["cells"].values())


def med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float]) -> float:
    """(max − min) / median: how far apart the repeats of one timing are."""
    return (max(values) - min(values)) / med(values) if len(values) > 1 else 0.0


# -- 1. overhead -----------------------------------------------------------------------------


def overhead(record: dict[str, Any]) -> dict[str, Any]:
    harness, shell = cold_j1(record), shell_passes(record)
    cells = common_cells([*harness, *shell])
    per_cell = {cell: cell_overhead(harness, shell, cell) for cell in cells}
    h_total = sum(v["harness_median"] for v in per_cell.values())
    s_total = sum(v["shell_median"] for v in per_cell.values())
    fixed = [p["wall_seconds"] - cells_sum(p) for p in harness]
    return {
        "cells": per_cell,
        "paired_by_round": paired_ratios(harness, shell, cells),
        "all_cells_ratio": ratio(h_total, s_total),
        "all_cells_structural_ratio": sum(v["structural_seconds"] for v in per_cell.values())
        / s_total
        if s_total
        else float("nan"),
        "all_cells_measure_seconds": sum(v["harness_measure"] for v in per_cell.values()),
        "all_cells_structural_excl_measure_ratio": sum(
            v["structural_seconds"] - v["harness_measure"] for v in per_cell.values()
        )
        / s_total
        if s_total
        else float("nan"),
        "fixed_cost_seconds": med(fixed),
        "fixed_cost_by_round": [round(v, 3) for v in fixed],
        "startup_seconds": med([p["startup_seconds"] for p in harness if p["startup_seconds"]]),
        "finish_seconds": med([p["finish_seconds"] for p in harness if p["finish_seconds"]]),
        "harness_wall_median": med([p["wall_seconds"] for p in harness]),
        "shell_wall_median": med([p["wall_seconds"] for p in shell]),
        "whole_run_ratio": ratio(
            med([p["wall_seconds"] for p in harness]), med([p["wall_seconds"] for p in shell])
        ),
        "steps": step_breakdown(harness, shell, cells),
    }


def cell_overhead(harness: list[Pass], shell: list[Pass], cell: str) -> dict[str, Any]:
    h, s = seconds(harness, cell), seconds(shell, cell)
    fixed_h = [non_work(p["cells"][cell]) for p in harness]
    fixed_s = [non_work(p["cells"][cell]) for p in shell]
    structural = med(fixed_h) - med(fixed_s)
    measure = med([float(p["cells"][cell].get("measure_seconds") or 0.0) for p in harness])
    return {
        "harness": h,
        "shell": s,
        "harness_median": med(h),
        "shell_median": med(s),
        "ratio": ratio(med(h), med(s)),
        "harness_spread": spread(h),
        "shell_spread": spread(s),
        "harness_non_work": med(fixed_h),
        "shell_non_work": med(fixed_s),
        "structural_seconds": structural,
        "structural_ratio": structural / med(s) if s else float("nan"),
        # the image and memory measurement inside the harness's non-work (0 in records
        # made before it was recorded): the structural overhead without it
        "harness_measure": measure,
        "structural_excl_measure_ratio": (structural - measure) / med(s) if s else float("nan"),
    }


def non_work(cell: dict[str, Any]) -> float:
    """A cell's time outside the steps both sides run (venv, installs, probes).

    The work steps carry all the network's noise; what is left is each side's own cost:
    container start and removal, the network cut, and for the harness its extra execs
    (timeout check, package-manager detection, reading pip's report) and bookkeeping.
    """
    work = sum(float(v) for name, v in cell["steps"] if name in WORK_STEPS or ":" in name)
    return float(cell["seconds"]) - work


def paired_ratios(harness: list[Pass], shell: list[Pass], cells: list[str]) -> list[dict[str, Any]]:
    """Harness and shell of the same round ran next to each other: their ratio per round."""
    pairs = []
    for h in harness:
        s = next((p for p in shell if p.get("round") == h.get("round")), None)
        if s is None:
            continue
        hs = sum(h["cells"][c]["seconds"] for c in cells)
        ss = sum(s["cells"][c]["seconds"] for c in cells)
        pairs.append({"round": h.get("round"), "harness": hs, "shell": ss, "ratio": ratio(hs, ss)})
    return pairs


def ratio(harness: float, shell: float) -> float:
    return (harness - shell) / shell if shell else float("nan")


def step_breakdown(harness: list[Pass], shell: list[Pass], cells: list[str]) -> dict[str, Any]:
    """Per cell and step: median seconds in the harness and in the shell loop."""
    table: dict[str, Any] = {}
    for cell in cells:
        h_steps = [steps_by_name(p["cells"][cell]["steps"]) for p in harness]
        s_steps = [steps_by_name(p["cells"][cell]["steps"]) for p in shell]
        names = list(dict.fromkeys(n for steps in [*h_steps, *s_steps] for n in steps))
        table[cell] = {
            name: {
                "harness": med([s.get(name, 0.0) for s in h_steps]),
                "shell": med([s.get(name, 0.0) for s in s_steps]),
            }
            for name in names
        }
        outside = [
            p["cells"][cell]["seconds"] - sum(h.values())
            for p, h in zip(harness, h_steps, strict=True)
        ]
        table[cell]["(harness outside steps)"] = {"harness": med(outside), "shell": 0.0}
    return table


def steps_by_name(steps: list[list[Any]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for name, value in steps:
        totals[name] = totals.get(name, 0.0) + float(value)  # a retried step counts whole
    return totals


# -- 2. scheduling ---------------------------------------------------------------------------


def scheduling(record: dict[str, Any]) -> list[dict[str, Any]]:
    j1 = cold_j1(record)
    j1_cells = {c: med(seconds(j1, c)) for c in common_cells(j1)}
    j1_wall = med([p["wall_seconds"] for p in j1])
    rows = []
    for p in harness_passes(record):
        jobs = p["jobs"]
        longest, total = max(c["seconds"] for c in p["cells"].values()), cells_sum(p)
        bound = max(longest, total / jobs)
        ideal = max(max(j1_cells.values()), sum(j1_cells.values()) / jobs) if j1_cells else None
        phase = p.get("cells_phase_seconds") or p["wall_seconds"]
        rows.append(
            {
                "pass": p["label"],
                "jobs": jobs,
                "wall": p["wall_seconds"],
                "cells_phase": phase,
                "cells_sum": total,
                "longest": longest,
                "sum_over_jobs": total / jobs,
                "bound": bound,
                "packing": bound / phase,
                "ideal_from_j1": ideal,
                "efficiency_vs_j1_work": (ideal / phase) if ideal else None,
                "speedup_vs_j1": j1_wall / p["wall_seconds"] if j1 else None,
            }
        )
    return rows


# -- 3. cold against warm ---------------------------------------------------------------------


def warm(record: dict[str, Any]) -> dict[str, Any] | None:
    cold, warms = cold_j1(record), harness_passes(record, 1, warm=True)
    if not cold or not warms:
        return None
    steady = warms[-1]  # cells install from the wheelhouse in every warm run, the first too
    cells = common_cells([*cold, steady])
    per_cell = {c: warm_cell(cold, steady, c) for c in cells}
    cold_wall = med([p["wall_seconds"] for p in cold])
    cold_startup = med([p["startup_seconds"] for p in cold if p.get("startup_seconds")])
    fills = [max(0.0, (p.get("startup_seconds") or 0.0) - cold_startup) for p in warms]
    warm_wall = steady["wall_seconds"] - fills[-1]
    return {
        "cells": per_cell,
        "passes": {p["label"]: p["wall_seconds"] for p in warms},
        "cold_wall": cold_wall,
        "warm_wall_with_fill": steady["wall_seconds"],
        "warm_wall": warm_wall,
        "fill_seconds": fills,
        "speedup_wall": cold_wall / warm_wall,
        "speedup_wall_with_fill": cold_wall / steady["wall_seconds"],
        "speedup_cells_sum": med([cells_sum(p) for p in cold]) / cells_sum(steady),
        "speedup_warm_cells_only": warm_only_speedup(per_cell),
        "pip_install_speedup": step_speedup(cold, steady, cells, "pip-install"),
    }


def warm_cell(cold: list[Pass], steady: Pass, cell: str) -> dict[str, Any]:
    cold_seconds, warm_seconds = med(seconds(cold, cell)), steady["cells"][cell]["seconds"]
    return {
        "cold": cold_seconds,
        "warm": warm_seconds,
        "warm_flag": steady["cells"][cell]["warm"],
        "speedup": cold_seconds / warm_seconds,
    }


def step_speedup(cold: list[Pass], steady: Pass, cells: list[str], step: str) -> float | None:
    """The step warm mode changes, alone: Σ over cells of its cold median / its warm time."""
    cold_total = sum(
        med([steps_by_name(p["cells"][c]["steps"]).get(step, 0.0) for p in cold]) for c in cells
    )
    warm_total = sum(steps_by_name(steady["cells"][c]["steps"]).get(step, 0.0) for c in cells)
    return cold_total / warm_total if warm_total else None


def warm_only_speedup(per_cell: dict[str, Any]) -> float | None:
    chosen = [v for v in per_cell.values() if v["warm_flag"]]
    warm_sum = sum(v["warm"] for v in chosen)
    return sum(v["cold"] for v in chosen) / warm_sum if warm_sum else None


# -- everything -----------------------------------------------------------------------------


def summarize(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "overhead": overhead(record),
        "scheduling": scheduling(record),
        "warm": warm(record),
        "load": load_summary(record),
    }


def load_summary(record: dict[str, Any]) -> dict[str, Any]:
    values = [v for _, v in record.get("load_samples", [])]
    return {
        "samples": len(values),
        "min": min(values, default=None),
        "median": med(values) if values else None,
        "max": max(values, default=None),
        "cpus": record["machine"]["cpus"],
    }


# -- printing ---------------------------------------------------------------------------------


def table(title: str, headers: Row, rows: Iterable[Row]) -> str:
    cells = [[fmt(v) for v in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            v.rjust(w) if i else v.ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    return "\n".join([f"\n== {title}", lines[0], "-" * len(lines[0]), *lines[1:]])


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "-" if value is None else str(value)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


def print_summary(record: dict[str, Any]) -> None:
    summary = summarize(record)
    print_header(record, summary["load"])
    print_overhead(summary["overhead"])
    print_scheduling(summary["scheduling"])
    if summary["warm"]:
        print_warm(summary["warm"])
    if record.get("micro"):
        print_micro(record["micro"])


def print_header(record: dict[str, Any], load: dict[str, Any]) -> None:
    m = record["machine"]
    print(f"\n[bench] {record['date']}: {record['command']}")
    print(
        f"[bench] machine: {m['cpus']} cores, {m['memory_gib']} GiB, {m['os']}, "
        f"docker {m['docker']}; harness {record.get('harness_git')}"
    )
    print(
        f"[bench] 1-min load average during the bench: min {fmt(load['min'])}, "
        f"median {fmt(load['median'])}, max {fmt(load['max'])} on {load['cpus']} cores"
    )


def print_overhead(o: dict[str, Any]) -> None:
    rows = [
        [
            cell,
            v["harness_median"],
            v["shell_median"],
            pct(v["ratio"]),
            pct(v["harness_spread"]),
            pct(v["shell_spread"]),
            v["harness_non_work"],
            v["shell_non_work"],
            pct(v["structural_ratio"]),
        ]
        for cell, v in o["cells"].items()
    ]
    rows.append(
        [
            "all cells",
            sum(v["harness_median"] for v in o["cells"].values()),
            sum(v["shell_median"] for v in o["cells"].values()),
            pct(o["all_cells_ratio"]),
            "",
            "",
            sum(v["harness_non_work"] for v in o["cells"].values()),
            sum(v["shell_non_work"] for v in o["cells"].values()),
            pct(o["all_cells_structural_ratio"]),
        ]
    )
    headers = ["cell (--jobs 1)", "harness s", "shell s", "overhead", "h spread", "s spread"]
    headers += ["h non-work", "s non-work", "structural"]
    print(table("1. harness against a plain shell loop (medians over rounds)", headers, rows))
    if o.get("all_cells_measure_seconds"):
        print(
            f"   of the harness's non-work, {o['all_cells_measure_seconds']:.2f} s measured the "
            "images (compressed layer) and memory peaks, which the shell loop does not do; "
            f"structural without it: {pct(o['all_cells_structural_excl_measure_ratio'])}"
        )
    for pair in o["paired_by_round"]:
        print(
            f"   round {pair['round']}: harness {pair['harness']:.2f} s, shell "
            f"{pair['shell']:.2f} s, overhead {pct(pair['ratio'])}"
        )
    print(
        f"   fixed cost outside cells (wall − Σ cells): {o['fixed_cost_seconds']:.2f} s "
        f"(rounds: {o['fixed_cost_by_round']}); start-up {fmt(o['startup_seconds'])} s, "
        f"finish {fmt(o['finish_seconds'])} s"
    )
    print(
        f"   whole run: harness {o['harness_wall_median']:.2f} s against shell loop "
        f"{o['shell_wall_median']:.2f} s: {pct(o['whole_run_ratio'])}"
    )
    print_steps(o["steps"])


def print_steps(steps: dict[str, Any]) -> None:
    rows = [
        [cell, name, v["harness"], v["shell"], v["harness"] - v["shell"]]
        for cell, by_name in steps.items()
        for name, v in by_name.items()
    ]
    print(
        table(
            "1b. per step (medians; the shell has no detect step, the harness no "
            "docker run/rm step)",
            ["cell", "step", "harness s", "shell s", "Δ s"],
            rows,
        )
    )


def print_scheduling(rows: list[dict[str, Any]]) -> None:
    headers = [
        "pass",
        "jobs",
        "wall s",
        "cells s",
        "Σcells",
        "longest",
        "Σ/jobs",
        "packing",
        "vs j1 work",
        "speed-up",
    ]
    body = [
        [
            r["pass"],
            r["jobs"],
            r["wall"],
            r["cells_phase"],
            r["cells_sum"],
            r["longest"],
            r["sum_over_jobs"],
            pct_plain(r["packing"]),
            pct_plain(r["efficiency_vs_j1_work"]),
            r["speedup_vs_j1"],
        ]
        for r in rows
    ]
    print(table("2. scheduling: cells phase against max(longest, Σcells/jobs)", headers, body))


def pct_plain(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def print_warm(w: dict[str, Any]) -> None:
    rows = [
        [c, v["cold"], v["warm"], v["warm_flag"], f"{v['speedup']:.2f}x"]
        for c, v in w["cells"].items()
    ]
    title = "3. cold (--jobs 1 median) against --warm (cells install from the wheelhouse)"
    print(table(title, ["cell", "cold s", "warm s", "warm?", "speed-up"], rows))
    print(
        f"   whole run: cold {w['cold_wall']:.2f} s, warm {w['warm_wall']:.2f} s without the "
        f"fill: {w['speedup_wall']:.2f}x ({w['warm_wall_with_fill']:.2f} s with it: "
        f"{w['speedup_wall_with_fill']:.2f}x)"
    )
    print(
        f"   Σcells {w['speedup_cells_sum']:.2f}x; warm-marked cells only "
        f"{fmt(w['speedup_warm_cells_only'])}x; pip-install steps {fmt(w['pip_install_speedup'])}x"
    )
    fills = ", ".join(f"{v:.2f}" for v in w["fill_seconds"])
    print(f"   wheelhouse fill in the warm runs' start-up (s): {fills}")
    cold = w["cold_wall"]
    for label, wall in w["passes"].items():  # the first fills, the later ones reuse
        print(f"   {label}: {wall:.2f} s wall, {cold / wall:.2f}x faster than cold")


def print_micro(micro: dict[str, Any]) -> None:
    if "error" in micro:
        print(f"\n== 4. per-step costs: not measured ({micro['error']})")
        return
    keys = ["harness_exec", "sdk_exec_run", "cli_docker_exec", "liveness_inspect"]
    keys += ["size_query_empty", "size_query_venv"]
    rows = [[k, micro[k]["median"] * 1000, micro[k]["max"] * 1000] for k in keys if k in micro]
    rows += [[k, micro[k] * 1000, None] for k in ("start_seconds", "remove_seconds") if k in micro]
    print(table("4. per-step costs on an idle container (ms)", ["what", "median", "max"], rows))
    print(f"   size query after a venv of {micro.get('venv_files')} files")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: summarize.py RESULTS.json", file=sys.stderr)
        return 2
    print_summary(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
