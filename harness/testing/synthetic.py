"""Synthetic shard runs: valid results.json contents of any size, shaped as docs/design.md
describes a cell (steps, distributions, probes, reproducer), for the merge's unit tests and
bench/merge_scale.py. Numbers come from a seeded generator: the same arguments give the
same files. Nothing here is a measurement."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from harness import __version__
from harness.model.ids import cell_id, container_name
from harness.model.plan import Plan, PlannedRun, plan_id
from harness.model.records import SCHEMA_VERSION
from harness.run.shard import balance

MATRIX_SHA = hashlib.sha256(b"synthetic matrix").hexdigest()
_PACKAGES = ("numpy", "six", "requests", "idna", "urllib3", "certifi", "charset-normalizer")


def synthetic_plan(
    bases: int, depsets: int, repeat: int, shards: int, sha: str = MATRIX_SHA
) -> Plan:
    """A plan of ``bases`` × ``depsets`` cells with ``repeat`` repeats over ``shards``."""
    rng = random.Random(f"{bases}-{depsets}-{repeat}")
    estimates = [
        (cell_id(f"base{b}", f"set{d}"), r, round(rng.uniform(5, 300), 1))
        for b in range(bases)
        for d in range(depsets)
        for r in range(repeat)
    ]
    owners = balance([s for _, _, s in estimates], shards)
    return Plan(
        id=plan_id(sha, None, shards, estimates),
        matrix_path="/synthetic/matrix.yaml",
        matrix_sha256=sha,
        keyword=None,
        count=shards,
        previous_run=None,
        runs=tuple(
            PlannedRun(c, r, s, owner + 1)
            for (c, r, s), owner in zip(estimates, owners, strict=True)
        ),
    )


def synthetic_shard(
    plan: Plan,
    index: int,
    *,
    host: str = "runner-1",
    harness_version: str = __version__,
    warm: bool = False,
    skip: int = 0,
) -> dict[str, Any]:
    """Shard ``index``'s results as `harness run --shard` writes them; ``skip`` leaves out
    its last cell runs (a shard stopped early)."""
    owned = plan.shard(index)
    owned = owned[: len(owned) - skip] if skip else owned
    run_id = f"20270101-00000{index % 10}-{index:06x}"
    cells = [synthetic_cell(r.cell_id, r.repeat, run_id) for r in owned]
    bases = sorted({c["base"] for c in cells})
    depsets = sorted({r.cell_id.partition("×")[2] for r in plan.runs})
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": run_id,
            "started_at": "2027-01-01T00:00:00+00:00",
            "ended_at": "2027-01-01T01:00:00+00:00",
            "harness_version": harness_version,
            "jobs": 2,
            "repeat": max((r.repeat for r in plan.runs), default=0) + 1,
            "host": {"hostname": host, "os": "Debian GNU/Linux 12", "kernel": "6.1", "cpus": 2},
            "engine": {"version": "20.10.24", "api_version": "1.41", "storage_driver": "overlay2"},
            "matrix": {"path": plan.matrix_path, "sha256": plan.matrix_sha256},
            "registry_reachable": False,
            "warnings": [],
            "cells_planned": len(owned),
            "keyword": plan.keyword,
            "warm": warm,
            "shard": {"plan_id": plan.id, "index": index, "count": plan.count},
            "plan": plan.record(),
        },
        "bases": [_base(name) for name in bases],
        "depsets": [{"name": d, "system": {}, "pip": ["six"], "probes": []} for d in depsets],
        "cells": cells,
    }


def _base(name: str) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {
        "name": name,
        "reference": f"python:{name}",
        "kind": "image",
        "standin": None,
        "status": "available",
        "reason": None,
        "image": f"python:{name}",
        "image_id": f"sha256:{digest}",
        "digest": None,
        "size_bytes": 125_000_000,
        "python_command": "python3",
        "os": "Debian GNU/Linux 12 (bookworm)",
        "libc": {"family": "glibc", "version": "2.36"},
        "python": "3.11.2",
    }


def synthetic_cell(cell: str, repeat: int, run_id: str) -> dict[str, Any]:
    """One cell record with the fields every document reads."""
    rng = random.Random(f"{cell}-{repeat}")
    base, _, depset = cell.partition("×")
    failed = rng.random() < 0.1
    pip_seconds = round(rng.uniform(2, 60), 2)
    steps = [
        _step("system-packages", "install", "passed", rng.uniform(0.1, 30), "apt-get install -y x"),
        _step("venv", "install", "passed", rng.uniform(1, 3), "python3 -m venv /opt/venv"),
        _step(
            "pip-install", "install", "failed" if failed else "passed", pip_seconds, "pip install"
        ),
    ]
    if not failed:
        steps.append(_step("probe:imports", "probe", "passed", rng.uniform(0.5, 4), "imports.py"))
    dists = [
        {
            "name": name,
            "version": f"{rng.randint(1, 3)}.{rng.randint(0, 20)}.0",
            "wheel": True,
            "tag": "py3-none-any",
            "requested": name == "six",
            "family": "pure",
            "source": "index",
        }
        for name in _PACKAGES[: rng.randint(1, len(_PACKAGES))]
    ]
    return {
        "id": cell,
        "base": base,
        "depset": depset,
        "repeat": repeat,
        "status": "failed" if failed else "passed",
        "reason": "pip install failed: no matching distribution" if failed else None,
        "started_at": "2027-01-01T00:00:00+00:00",
        "ended_at": "2027-01-01T00:01:00+00:00",
        "seconds": round(sum(s["seconds"] for s in steps) + 1.5, 2),
        "container": container_name(run_id, cell, repeat),
        "package_manager": "apt",
        "steps": steps,
        "install_seconds": round(sum(s["seconds"] for s in steps if s["kind"] == "install"), 2),
        "distributions": [] if failed else dists,
        "download_bytes": None,
        "size_added_bytes": rng.randint(1, 400) * 1_000_000,
        "probes": {} if failed else {"imports": {"status": "passed", "seconds": 0.4}},
        "reproducer": {"dockerfile": f"FROM python:{base}", "commands": ["docker run ..."]},
    }


def _step(name: str, kind: str, status: str, seconds: float, command: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "status": status,
        "seconds": round(seconds, 2),
        "exit_code": 0 if status == "passed" else 1,
        "command": command,
        "network": "bridge" if kind == "install" else "none",
        "log_tail": f"{name} {status}\n" * 3,
    }
