"""A shard plan: which cell runs (cell id, repeat) each of N shards owns.

The plan is data with one shape: ``harness plan --format json`` prints it, ``harness run
--plan FILE`` reads it back, each shard's results.json carries it under ``run.plan``, and
``harness merge`` reads it from there. Its id is a hash of its inputs (the matrix's
sha256, the ``-k`` expression, the shard count and every expected duration), so two
machines that compute a plan from the same inputs name it the same.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.model.errors import ConfigurationError

PLAN_FORMAT = 1
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class PlannedRun:
    """One cell run of the plan and the shard (1-based) that owns it."""

    cell_id: str
    repeat: int
    expected_seconds: float
    shard: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.cell_id, self.repeat)


class PlanMatrixJSON(TypedDict):
    path: str
    sha256: str


class PlannedRunJSON(TypedDict):
    cell: str
    repeat: int
    shard: int
    expected_seconds: float


class PlanJSON(TypedDict):
    """``Plan.record()``: the plan as JSON (read back by ``plan_from_record``)."""

    plan_format: int
    id: str
    matrix: PlanMatrixJSON
    keyword: str | None
    shards: int
    previous_run: str | None
    expected_seconds: list[float]
    runs: list[PlannedRunJSON]


@dataclass(frozen=True)
class Plan:
    id: str
    matrix_path: str
    matrix_sha256: str
    keyword: str | None
    count: int
    previous_run: str | None  # the run whose times the estimates came from
    runs: tuple[PlannedRun, ...]  # in matrix order, repeats in order

    def shard(self, index: int) -> tuple[PlannedRun, ...]:
        return tuple(r for r in self.runs if r.shard == index)

    def expected_seconds(self, index: int) -> float:
        return sum(r.expected_seconds for r in self.shard(index))

    def owner(self) -> dict[tuple[str, int], int]:
        return {r.key: r.shard for r in self.runs}

    def record(self) -> PlanJSON:
        """The plan as JSON (``harness plan --format json``, ``run.plan`` of a shard)."""
        return {
            "plan_format": PLAN_FORMAT,
            "id": self.id,
            "matrix": {"path": self.matrix_path, "sha256": self.matrix_sha256},
            "keyword": self.keyword,
            "shards": self.count,
            "previous_run": self.previous_run,
            "expected_seconds": [
                round(self.expected_seconds(k), 3) for k in range(1, self.count + 1)
            ],
            "runs": [
                {
                    "cell": r.cell_id,
                    "repeat": r.repeat,
                    "shard": r.shard,
                    "expected_seconds": r.expected_seconds,
                }
                for r in self.runs
            ],
        }


def plan_id(
    matrix_sha256: str, keyword: str | None, count: int, estimates: list[tuple[str, int, float]]
) -> str:
    """A hash of the plan's inputs: the same inputs always give the same id."""
    inputs = {
        "matrix": matrix_sha256,
        "keyword": keyword or None,
        "shards": count,
        "estimates": [[c, r, round(s, 3)] for c, r, s in estimates],
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_shard(text: str, where: str = "--shard") -> tuple[int, int]:
    """``"2/4"`` → (2, 4); exit 2 with the fix for anything else."""
    found = _SHARD.match(text or "")
    if found is None:
        raise ConfigurationError(
            f"{where} {text!r}: not a shard", "write K/N, e.g. --shard 2/4 (shard 2 of 4)"
        )
    index, count = int(found.group(1)), int(found.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ConfigurationError(
            f"{where} {text!r}: shard {index} of {count} does not exist",
            f"K runs from 1 to N, e.g. --shard 1/{max(count, 1)}",
        )
    return index, count


class _Stored(BaseModel):
    # ``Plan.record()``'s shape, read back: unknown keys ignored (a later harness may add
    # some), values converted as json.loads gives them (an id written as a number is text).
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class _StoredMatrix(_Stored):
    path: str
    sha256: str


class _StoredRun(_Stored):
    cell: str
    repeat: int
    expected_seconds: float
    shard: int


class _StoredPlan(_Stored):
    plan_format: int | None = None
    id: str
    matrix: _StoredMatrix
    keyword: str | None = None
    shards: int
    previous_run: str | None = None
    runs: tuple[_StoredRun, ...]


def plan_from_record(data: Any, source: str) -> Plan:
    """Read a plan written by ``harness plan --format json`` (or a shard's ``run.plan``)."""
    found = data.get("plan_format") if isinstance(data, Mapping) else None  # first: is it one?
    if found != PLAN_FORMAT:
        raise ConfigurationError(
            f"{source}: not a harness plan (no plan_format {PLAN_FORMAT})",
            "write the plan with `harness plan MATRIX --shards N --format json > plan.json`",
        )
    try:
        stored = _StoredPlan.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError(
            f"{source}: the plan is incomplete or damaged ({where}: {first['msg']})",
            "write it again with `harness plan MATRIX --shards N --format json`",
        ) from None
    return Plan(
        id=stored.id,
        matrix_path=stored.matrix.path,
        matrix_sha256=stored.matrix.sha256,
        keyword=stored.keyword or None,
        count=stored.shards,
        previous_run=stored.previous_run,
        runs=tuple(PlannedRun(r.cell, r.repeat, r.expected_seconds, r.shard) for r in stored.runs),
    )
