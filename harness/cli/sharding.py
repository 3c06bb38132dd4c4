"""Commands for a matrix sharded over a CI system's job matrix: ``harness plan`` splits the
cells into N shards and prints them as the CI's matrix; each job runs ``harness run
--shard K/N``; ``harness merge`` makes one run of their directories."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from harness.model.errors import ConfigurationError
from harness.model.plan import Plan
from harness.model.results import RunInfo
from harness.store.files import RESULTS_JSON
from harness.store.rundir import write_atomic

FORMATS = ("json", "github", "gitlab")


def add_commands(sub: Any) -> None:
    plan = sub.add_parser("plan", help="split the matrix into N shards for a CI job matrix")
    plan.add_argument("matrix", nargs="?", default="matrix.yaml")
    plan.add_argument("--shards", type=int, required=True, help="how many shards (N)")
    plan.add_argument("--format", choices=FORMATS, default="json", help="what to print")
    plan.add_argument(
        "-k",
        dest="keyword",
        help="a -k expression (pytest's grammar) over cell ids, bases, depsets, installers",
    )
    plan.add_argument(
        "--reports", default="reports", help="where the history is (default: reports)"
    )
    plan.add_argument("--out", help="also write the plan as JSON to this file (for --plan)")
    plan.set_defaults(func=cmd_plan)

    merge = sub.add_parser("merge", help="merge shard run directories into one run")
    merge.add_argument("dirs", nargs="+", metavar="DIR", help="shard run directories")
    merge.add_argument("--out", required=True, help="the merged run's directory")
    merge.add_argument("--fail-on", default="status", help="as for `harness run` (default: status)")
    merge.set_defaults(func=cmd_merge)


def cmd_plan(args: argparse.Namespace) -> int:
    from harness.model.matrix import load_matrix
    from harness.run.shard import make_plan

    matrix = load_matrix(args.matrix)
    plan = make_plan(matrix, args.keyword, args.shards, Path(args.reports))
    if args.out:
        write_atomic(Path(args.out), json.dumps(plan.record(), indent=1))
    print(render_plan(plan, args.format))
    source = f"run {plan.previous_run}'s times" if plan.previous_run else "no earlier run"
    loads = ", ".join(f"{plan.expected_seconds(k):.0f}" for k in range(1, plan.count + 1))
    print(
        f"plan {plan.id}: {len(plan.runs)} cell run(s) in {plan.count} shard(s), "
        f"expected seconds per shard {loads} (from {source})",
        file=sys.stderr,
    )
    return 0


def render_plan(plan: Plan, fmt: str) -> str:
    """The plan as the CI consumes it: ``json`` (the whole plan, for ``--plan FILE``),
    ``github`` (one line for ``fromJSON`` in ``strategy.matrix``), ``gitlab`` (a hidden
    job with ``parallel:matrix`` for a job to ``extends:``)."""
    if fmt == "json":
        return json.dumps(plan.record(), indent=1)
    entries = [
        {
            "shard": f"{k}/{plan.count}",
            "plan": plan.id,
            "cell_runs": len(plan.shard(k)),
            "expected_seconds": round(plan.expected_seconds(k)),
        }
        for k in range(1, plan.count + 1)
    ]
    if fmt == "github":
        return json.dumps({"include": entries}, separators=(",", ":"))
    hidden_job = {
        ".harness-shards": {
            "variables": {"HARNESS_PLAN_ID": plan.id},
            "parallel": {"matrix": [{"HARNESS_SHARD": [e["shard"] for e in entries]}]},
        }
    }
    header = f"# harness plan {plan.id}: {plan.count} shard(s) of {plan.matrix_path}\n"
    return header + yaml.safe_dump(hidden_job, sort_keys=False, allow_unicode=True).rstrip()


def cmd_merge(args: argparse.Namespace) -> int:
    from harness.analysis import gate
    from harness.documents.publish import write_outputs
    from harness.model.ids import new_run_id
    from harness.run.results import now_iso
    from harness.store.history import history_location
    from harness.store.shards import merge_run, read_shard

    fail_on = gate.parse_fail_on(args.fail_on)
    out = Path(args.out).resolve()
    shards = [read_shard(Path(d)) for d in args.dirs]
    run_id = _earlier_merge(out, shards) or new_run_id()
    out.mkdir(parents=True, exist_ok=True)
    # The history follows `harness run --out`'s rule: the matrix's history_dir, else
    # reports/history for a run in a folder named reports/, else inside --out.
    history_dir = history_location(out, _matrix_history_dir(shards[0].run))
    # typed, each cell validated once while merging; 10,000 cells fit in memory
    merged = merge_run(shards, out, run_id, now_iso(), {"history_dir": str(history_dir)})
    published = write_outputs(out, merged)
    print(
        f"[harness] merged {len(shards)} shard(s) of plan {(merged.run.plan or {})['id']} "
        f"into run {merged.run.id}"
    )
    for line in published.lines:
        print(line)
    return gate.exit_code(merged, published.diff, fail_on)


def _earlier_merge(out: Path, shards: list[Any]) -> str | None:
    """The run id of a merge of the same plan already in ``out`` (interrupted while
    publishing, or merged before): merging again completes it under the same id.
    Any other run there is refused."""
    from harness.store.resultsfile import read_header

    if not (out / RESULTS_JSON).exists():
        return None
    try:
        run = read_header(out / RESULTS_JSON).run
    except (ConfigurationError, KeyError, TypeError):  # not a run's results.json: refused below
        run = RunInfo()
    shard = shards[0].run.shard if shards else None
    if run.shards and (run.plan or {}).get("id") == (shard.plan_id if shard else None):
        return str(run.id)
    raise ConfigurationError(
        f"--out {out}: already holds another run (results.json)",
        "merge into a new directory, e.g. reports/<date>-merged",
    )


def _matrix_history_dir(run: RunInfo) -> Path | None:
    """The matrix's ``history_dir`` when the matrix the shards ran (run.matrix: path and
    sha256) is here, unchanged, and sets one; else None."""
    from harness.model.matrix import load_matrix

    matrix_path = run.matrix.path if run.matrix else None
    if not matrix_path or not Path(matrix_path).is_file():
        return None
    try:
        matrix = load_matrix(matrix_path)
    except ConfigurationError:
        return None
    if run.matrix is None or matrix.sha256 != run.matrix.sha256:
        return None
    configured = matrix.settings.history_dir
    return matrix.resolve_path(configured) if configured else None
