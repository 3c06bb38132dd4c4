"""Shard run directories merged into one run (``harness merge``).

Each shard's results.json carries the plan it ran (``run.plan``) and which shard it was
(``run.shard``). The merge refuses (exit 2, with the reason) shards that cannot be parts
of one run: a directory that is not a shard, different matrices (sha256), harness
versions, plans, warm and cold shards, the same shard twice, a cell run present twice, a
cell run the plan gave to another shard. Cell runs of the plan that no shard reported
become ``error`` with the reason "shard K did not report", so nothing planned vanishes.

The merged results.json keeps schema_version 1: every cell record gains ``host`` (the
hostname of the machine it ran on) and ``shard``; ``run.shards`` lists each shard with
its host and engine facts; ``run.host`` is the shared host when all shards ran on one,
else the facts they share with ``hostname`` naming them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.model.errors import ConfigurationError
from harness.model.ids import CROSS
from harness.model.plan import Plan, plan_from_record
from harness.model.records import SCHEMA_VERSION
from harness.store import files
from harness.store.rundir import load_results

SHARD_DID_NOT_REPORT = "shard {index} did not report"
FIX = "merge the shard directories of one `harness plan` (the same matrix, harness and plan)"


@dataclass(frozen=True)
class ShardRun:
    """One shard's run directory and its results."""

    path: Path
    results: Mapping[str, Any]

    @property
    def run(self) -> Mapping[str, Any]:
        return self.results.get("run") or {}

    @property
    def index(self) -> int:
        return int(self.run["shard"]["index"])

    @property
    def hostname(self) -> str | None:
        return (self.run.get("host") or {}).get("hostname")


def read_shard(path: Path) -> ShardRun:
    """A shard directory (or its results.json), validated on load; exit 2 if not a shard."""
    results_path = files.results_path(path)
    results = load_results(results_path)
    shard = (results.get("run") or {}).get("shard")
    if not isinstance(shard, Mapping) or not isinstance(shard.get("index"), int):
        raise ConfigurationError(
            f"{results_path}: not a shard run (its run record has no shard)",
            "merge directories written by `harness run --shard K/N`",
        )
    return ShardRun(results_path.parent, results)


def merge_shards(shards: Sequence[ShardRun], run_id: str, merged_at: str) -> dict[str, Any]:
    """One results dict (schema_version 1) from the shards of one plan."""
    if not shards:
        raise ConfigurationError("harness merge: no shard directory given", FIX)
    _refuse_mixed(shards)
    plan = plan_from_record(shards[0].run.get("plan"), f"{shards[0].path}: run.plan")
    _refuse_duplicates(shards, plan)
    cells, missing = _cells(shards, plan)
    return {
        "schema_version": SCHEMA_VERSION,
        "run": _run_record(shards, plan, run_id, merged_at, missing),
        "bases": _bases(shards, plan),
        "depsets": list(shards[0].results.get("depsets") or []),
        "cells": cells,
    }


# -- refusals --------------------------------------------------------------------------


def _refuse_mixed(shards: Sequence[ShardRun]) -> None:
    checks: list[tuple[str, Callable[[ShardRun], Any]]] = [
        ("matrices (sha256)", lambda s: (s.run.get("matrix") or {}).get("sha256")),
        ("harness versions", lambda s: s.run.get("harness_version")),
        ("plans", lambda s: s.run["shard"].get("plan_id")),
        ("kinds of run (warm and cold)", lambda s: bool(s.run.get("warm"))),
    ]
    for what, value in checks:
        seen = {str(value(s)) for s in shards}
        if len(seen) > 1:
            listed = "; ".join(f"{s.path}: {value(s)}" for s in shards)
            raise ConfigurationError(
                f"harness merge: the shards have different {what}: {listed}", FIX
            )


def _refuse_duplicates(shards: Sequence[ShardRun], plan: Plan) -> None:
    by_index: dict[int, Path] = {}
    for shard in shards:
        if shard.index in by_index:
            raise ConfigurationError(
                f"harness merge: shard {shard.index}/{plan.count} given twice "
                f"({by_index[shard.index]} and {shard.path})",
                "give each shard's directory once",
            )
        by_index[shard.index] = shard.path
    owner, seen = plan.owner(), dict[tuple[str, int], Path]()
    for shard in shards:
        for cell in shard.results.get("cells") or []:
            key = (str(cell["id"]), int(cell.get("repeat") or 0))
            if key in seen:
                raise ConfigurationError(
                    f"harness merge: cell {key[0]} repeat {key[1]} is present twice "
                    f"({seen[key]} and {shard.path})",
                    "each cell run belongs to one shard: merge one directory per shard",
                )
            seen[key] = shard.path
            if owner.get(key) != shard.index:
                raise ConfigurationError(
                    f"harness merge: {shard.path} (shard {shard.index}) holds cell {key[0]} "
                    f"repeat {key[1]}, which plan {plan.id} gives to "
                    f"{'no shard' if key not in owner else f'shard {owner[key]}'}",
                    FIX,
                )


# -- the merged run --------------------------------------------------------------------


def _cells(shards: Sequence[ShardRun], plan: Plan) -> tuple[list[dict[str, Any]], list[int]]:
    """Every planned cell run in plan (matrix) order, stamped with its host and shard;
    the ones no shard reported as errors. Also the shards that reported nothing."""
    reported: dict[tuple[str, int], dict[str, Any]] = {}
    for shard in shards:
        for cell in shard.results.get("cells") or []:
            key = (str(cell["id"]), int(cell.get("repeat") or 0))
            reported[key] = {**cell, "host": shard.hostname, "shard": shard.index}
    cells = [reported.get(r.key) or _not_reported(r.cell_id, r.repeat, r.shard) for r in plan.runs]
    present = {s.index for s in shards}
    return cells, [k for k in range(1, plan.count + 1) if k not in present]


def _not_reported(cell_id: str, repeat: int, shard: int) -> dict[str, Any]:
    base, _, depset = cell_id.partition(CROSS)
    return {
        "id": cell_id,
        "base": base,
        "depset": depset,
        "repeat": repeat,
        "status": "error",
        "reason": SHARD_DID_NOT_REPORT.format(index=shard),
        "seconds": None,
        "steps": [],
        "distributions": [],
        "probes": {},
        "host": None,
        "shard": shard,
    }


def _run_record(
    shards: Sequence[ShardRun], plan: Plan, run_id: str, merged_at: str, missing: list[int]
) -> dict[str, Any]:
    runs = [s.run for s in shards]
    first = runs[0]
    jobs = {r.get("jobs") for r in runs}
    warnings = list(
        dict.fromkeys(f"shard {s.index}: {w}" for s in shards for w in s.run.get("warnings") or [])
    )
    warnings += [
        f"{SHARD_DID_NOT_REPORT.format(index=k)}: its {len(plan.shard(k))} cell run(s) are "
        "marked error"
        for k in missing
    ]
    if len(jobs) > 1:
        warnings.append(
            f"the shards ran different numbers of cells at a time: {sorted(map(str, jobs))}"
        )
    reachable = [
        r.get("registry_reachable") for r in runs if r.get("registry_reachable") is not None
    ]
    return {
        "id": run_id,
        "started_at": min(str(r.get("started_at")) for r in runs),
        "ended_at": max(str(r.get("ended_at")) for r in runs),
        "merged_at": merged_at,
        "harness_version": first.get("harness_version"),
        "jobs": max((j for j in jobs if isinstance(j, int)), default=None),
        "repeat": first.get("repeat"),
        "host": _shared_facts([r.get("host") or {} for r in runs], "hostname"),
        "engine": _shared_facts([r.get("engine") or {} for r in runs], "version"),
        "matrix": first.get("matrix"),
        "registry_reachable": any(reachable) if reachable else None,
        "warnings": warnings,
        "cells_planned": len(plan.runs),
        "keyword": plan.keyword,
        "warm": bool(first.get("warm")),
        "plan": {k: v for k, v in plan.record().items() if k != "runs"},
        "shards": _shard_records(shards, plan, missing),
    }


def _shared_facts(facts: list[Mapping[str, Any]], name_key: str) -> dict[str, Any]:
    """The facts all shards share; ``name_key`` names every distinct value when they differ."""
    keys = list(dict.fromkeys(k for f in facts for k in f))
    shared: dict[str, Any] = {}
    for key in keys:
        values = [f.get(key) for f in facts]
        if all(v == values[0] for v in values):
            shared[key] = values[0]
        elif key == name_key:
            shared[key] = ", ".join(sorted({str(v) for v in values}))
        else:
            shared[key] = None
    return shared


def _shard_records(
    shards: Iterable[ShardRun], plan: Plan, missing: list[int]
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = [
        {
            "index": s.index,
            "reported": True,
            "run_id": s.run.get("id"),
            "dir": str(s.path),
            "host": s.run.get("host"),
            "engine": s.run.get("engine"),
            "jobs": s.run.get("jobs"),
            "started_at": s.run.get("started_at"),
            "ended_at": s.run.get("ended_at"),
            "cell_runs": len(s.results.get("cells") or []),
            "expected_seconds": round(plan.expected_seconds(s.index), 3),
        }
        for s in shards
    ]
    records += [{"index": k, "reported": False, "cell_runs": 0} for k in missing]
    return sorted(records, key=lambda r: int(r["index"]))


def _bases(shards: Sequence[ShardRun], plan: Plan) -> list[dict[str, Any]]:
    """Each base once, in matrix order; where the shards resolved it to different images
    (each host builds its own stand-in), ``image_ids`` lists them by shard."""
    order = list(dict.fromkeys(r.cell_id.partition(CROSS)[0] for r in plan.runs))
    found: dict[str, dict[str, Any]] = {}
    image_ids: dict[str, dict[str, Any]] = {}
    for shard in shards:
        for base in shard.results.get("bases") or []:
            found.setdefault(base["name"], dict(base))
            image_ids.setdefault(base["name"], {})[str(shard.index)] = base.get("image_id")
    for name, ids in image_ids.items():
        if len(set(ids.values())) > 1:
            found[name]["image_ids"] = ids
    return sorted(
        found.values(), key=lambda b: order.index(b["name"]) if b["name"] in order else len(order)
    )
