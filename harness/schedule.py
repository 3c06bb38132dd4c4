"""Longest cells first, so the run's tail is short.

Expected durations come from the previous run of the same matrix where there is one
(each cell's median over its repeats), else from a rough weight of the depset (what it
installs and probes). xdist hands each worker a first chunk of consecutive items, so the
longest cells are dealt across workers before the rest follow in order.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any, TypeVar

from harness.matrix import Cell, DepsetSpec

T = TypeVar("T")
XDIST_FIRST_CHUNK = 2  # xdist's LoadScheduling sends at least two items per worker first


def previous_durations(previous: dict[str, Any] | None) -> dict[str, float]:
    if not previous:
        return {}
    seconds: dict[str, list[float]] = {}
    for cell in previous.get("cells", []):
        if isinstance(cell.get("seconds"), int | float):
            seconds.setdefault(cell["id"], []).append(float(cell["seconds"]))
    return {cell_id: statistics.median(values) for cell_id, values in seconds.items()}


def estimate(cell: Cell, depset: DepsetSpec, known: dict[str, float]) -> float:
    if cell.id in known:
        return known[cell.id]
    installs = 30.0 * len(depset.pip) + 40.0 * bool(depset.system)
    return 5.0 + installs + 10.0 * len(depset.probes)


def longest_first(items: Sequence[T], durations: Sequence[float], workers: int) -> list[T]:
    ranked = [
        item
        for _, _, item in sorted(
            ((-d, i, item) for i, (item, d) in enumerate(zip(items, durations, strict=True))),
            key=lambda row: (row[0], row[1]),
        )
    ]
    if workers <= 1:
        return ranked
    head = ranked[: workers * XDIST_FIRST_CHUNK]
    # Snake order: worker 0 gets the 1st and the 4th longest, worker 1 the 2nd and 3rd.
    rounds = [head[k * workers : (k + 1) * workers] for k in range(XDIST_FIRST_CHUNK)]
    rounds = [r if k % 2 == 0 else r[::-1] for k, r in enumerate(rounds)]
    dealt = [r[w] for w in range(workers) for r in rounds if w < len(r)]
    return dealt + ranked[len(head) :]
