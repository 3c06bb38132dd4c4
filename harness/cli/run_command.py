"""``harness run``: the run as pytest drives it, with the plugin doing the pipeline.

Shared by ``harness run`` and ``harness compare`` (which runs just the compared cells),
so neither calls the other's command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.model.errors import ConfigurationError
from harness.model.matrix import Matrix, load_matrix, registry_login
from harness.model.plan import Plan
from harness.store.files import PLAN_JSON, PREPARE_JSON, RESULTS_JSON


@dataclass(frozen=True)
class RunOptions:
    matrix: str
    out: str | None = None
    jobs: int | None = None
    keyword: str | None = None
    keep: bool = False
    resume: str | None = None
    lf: bool = False
    warm: bool = False
    fail_on: str = "status"
    pytest_args: tuple[str, ...] = ()
    shard: str | None = None  # "K/N": run only shard K of the plan
    plan: str | None = None  # a plan file from `harness plan --format json`

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        return cls(
            matrix=args.matrix,
            out=args.out,
            jobs=args.jobs,
            keyword=args.keyword,
            keep=args.keep,
            resume=args.resume,
            lf=args.lf,
            warm=args.warm,
            fail_on=args.fail_on,
            pytest_args=tuple(args.pytest_args),
            shard=getattr(args, "shard", None),
            plan=getattr(args, "plan", None),
        )


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int
    out_dir: Path


def run_matrix(options: RunOptions) -> RunOutcome:
    """Run the selected cells; the exit code is the gate's (analysis/gate.py), decided once
    by the plugin from the results and the one diff against the previous run."""
    import pytest

    from harness.analysis.gate import parse_fail_on
    from harness.engine import client as engine
    from harness.model.ids import new_run_id

    parse_fail_on(options.fail_on)  # a typo fails now, not after the run
    matrix = load_matrix(options.matrix)  # exit 2 before any container starts
    matrix.select(options.keyword)  # a -k typo too, in harness's format (not pytest's)
    if options.shard:
        from harness.model.plan import parse_shard

        parse_shard(options.shard)  # a typo fails before the engine is asked
    for host in matrix.settings.registry_auth:
        registry_login(matrix, host, os.environ)  # a login variable not set: exit 2 now too
    engine.connect()  # exit 3 before pytest starts
    run_id, out_dir = _run_location(options, new_run_id)
    jobs = options.jobs or matrix.settings.jobs
    argv = [
        "-p",
        "harness.run.plugin",
        "--matrix",
        str(matrix.path),
        "--harness-out",
        str(out_dir),
        "--run-id",
        run_id,
        "--fail-on",
        options.fail_on,
        "--harness-console",  # harness's own progress lines, no pytest glyphs or chatter
        "-qq",
        "--tb=no",
        "-rN",
        "-o",
        "addopts=",
        "-p",
        "no:warnings",
        "--no-header",
    ]
    argv += ["-n", str(jobs)] if jobs > 1 else ["-p", "no:xdist"]
    if options.shard or options.plan:
        argv += _shard_arguments(options, matrix, out_dir)
    elif options.keyword:
        argv += ["-k", options.keyword]
    argv += ["--keep"] if options.keep else []
    argv += ["--resume"] if options.resume else []
    argv += ["--lf"] if options.lf else []
    argv += ["--warm"] if options.warm else []
    status = pytest.main([*argv, *options.pytest_args])
    return RunOutcome(_exit_code(int(status), out_dir), out_dir)


def _shard_arguments(options: RunOptions, matrix: Matrix, out_dir: Path) -> list[str]:
    """The plan (read from --plan, or made from the same inputs as `harness plan`), saved
    in the run directory, and the plugin options that keep only shard K's cell runs."""
    from harness.model.plan import parse_shard

    if not options.shard:
        raise ConfigurationError("--plan needs --shard K/N", "add e.g. --shard 1/2")
    index, count = parse_shard(options.shard)
    plan = _read_plan(options, matrix) if options.plan else None
    if plan is None:
        from harness.run.shard import make_plan

        plan = make_plan(matrix, options.keyword, count, out_dir.parent)
    if plan.count != count:
        raise ConfigurationError(
            f"--shard {options.shard}: the plan {options.plan} has {plan.count} shards",
            f"use --shard K/{plan.count}",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    plan_path = out_dir / PLAN_JSON
    plan_path.write_text(json.dumps(plan.record(), indent=1), encoding="utf-8")
    print(
        f"[harness] shard {index}/{count} of plan {plan.id}: {len(plan.shard(index))} cell "
        f"run(s), about {plan.expected_seconds(index):.0f} s expected",
        file=sys.stderr,
    )
    return ["--harness-plan", str(plan_path), "--harness-shard", str(index)]


def _read_plan(options: RunOptions, matrix: Matrix) -> Plan:
    from harness.model.plan import plan_from_record

    path = Path(str(options.plan))
    try:
        plan = plan_from_record(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError) as err:
        raise ConfigurationError(
            f"--plan {path}: cannot read the plan ({err})",
            "write it with `harness plan MATRIX --shards N --format json > plan.json`",
        ) from None
    if plan.matrix_sha256 != matrix.sha256:
        raise ConfigurationError(
            f"--plan {path}: made for another version of the matrix (sha256 "
            f"{plan.matrix_sha256[:12]}, {matrix.path} is {matrix.sha256[:12]})",
            "make the plan again from this matrix, or check out the matrix the plan was made of",
        )
    if options.keyword and options.keyword != plan.keyword:
        raise ConfigurationError(
            f"-k {options.keyword!r}: the plan {path} already selects its cells "
            f"(made with -k {plan.keyword!r})",
            "drop -k, or make a new plan with that -k",
        )
    return plan


def _exit_code(status: int, out_dir: Path) -> int:
    import pytest

    if status in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        return 2
    if status == pytest.ExitCode.INTERRUPTED:
        print(f"harness: interrupted; finished cells are in {out_dir}", file=sys.stderr)
        return 130
    if status == 3 or not (out_dir / RESULTS_JSON).exists():
        return status if status in (2, 3) else 1
    return status  # 0 or 1: the plugin's gate


def _run_location(options: RunOptions, new_run_id: object) -> tuple[str, Path]:
    if options.resume:
        out_dir = Path(options.resume).resolve()
        try:
            prepared = json.loads((out_dir / PREPARE_JSON).read_text())
        except (OSError, ValueError):
            raise ConfigurationError(
                f"{out_dir}: not a run directory (no readable prepare.json)",
                "pass a reports/<run-id> directory written by `harness run`",
            ) from None
        return str(prepared["run"]["id"]), out_dir
    assert callable(new_run_id)
    run_id = str(new_run_id())
    return run_id, Path(options.out or Path("reports") / run_id).resolve()
