"""Planning shards: the selected cell runs split into N parts of about equal expected time.

Expected times are the scheduler's (run/schedule.py): each cell's median over its repeats
in the previous run of the matrix, a new cell its depset's time on the other bases, else
a rough weight of what the depset installs. Each repeat is its own run, so the repeats of
one cell may land on different shards.

The split: longest run first onto the least loaded shard (Graham's LPT rule, within 4/3 of
the best split), then exchanges between the most loaded shard and the others while one
lowers the larger of the two (each exchange lowers the sum of squared loads, so it ends).
Every tie breaks on matrix order, so the same inputs give the same plan on any machine.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from pathlib import Path

from harness.model.errors import ConfigurationError
from harness.model.matrix import Matrix
from harness.model.plan import Plan, PlannedRun, plan_id
from harness.run import schedule
from harness.store.files import HISTORY_DIR

# A plan's run id for the history lookup: after every real run id (they start with digits).
_AFTER_EVERY_RUN = "~plan"
_EPSILON = 1e-9


def make_plan(matrix: Matrix, keyword: str | None, count: int, reports_dir: Path) -> Plan:
    """The plan of ``matrix``'s cells selected by ``keyword`` over ``count`` shards, with
    the times of the latest run of the matrix recorded in ``reports_dir``'s history."""
    if count < 1:
        raise ConfigurationError(f"--shards {count}: needs at least one shard", "use --shards 2")
    cells = matrix.select(keyword)
    if not cells:
        raise ConfigurationError(
            f"{matrix.path}: -k {keyword!r} selects no cell",
            "check the expression with `harness validate MATRIX` (it lists the cell ids)",
        )
    configured = matrix.settings.history_dir  # the matrix's own history wins, as in a run
    history_dir = matrix.resolve_path(configured) if configured else reports_dir / HISTORY_DIR
    previous = schedule.previous_results(history_dir, matrix, _AFTER_EVERY_RUN, warm=False)
    known = schedule.previous_durations(previous)
    estimates = [
        (cell.id, repeat, schedule.estimate(cell, matrix.spec.depsets[cell.depset], known))
        for cell in cells
        for repeat in range(cell.repeat)
    ]
    shards = balance([seconds for _, _, seconds in estimates], count)
    return Plan(
        id=plan_id(matrix.sha256, keyword, count, estimates),
        matrix_path=str(matrix.path),
        matrix_sha256=matrix.sha256,
        keyword=keyword or None,
        count=count,
        previous_run=str(previous.run.id) if previous else None,
        runs=tuple(
            PlannedRun(cell_id, repeat, seconds, shard + 1)
            for (cell_id, repeat, seconds), shard in zip(estimates, shards, strict=True)
        ),
    )


def balance(durations: Sequence[float], count: int) -> list[int]:
    """The shard (0-based) of each item, so the largest shard total is as small as the
    LPT rule and pairwise exchanges can make it."""
    members: list[list[int]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for item in sorted(range(len(durations)), key=lambda i: (-durations[i], i)):
        target = min(range(count), key=lambda k: (loads[k], k))
        members[target].append(item)
        loads[target] += durations[item]
    for _ in range(10 * len(durations) + 10):
        if not _exchange_once(durations, members, loads):
            break
    shard_of = [0] * len(durations)
    for shard, items in enumerate(members):
        for item in items:
            shard_of[item] = shard
    return shard_of


def _exchange_once(
    durations: Sequence[float], members: list[list[int]], loads: list[float]
) -> bool:
    """One move or swap out of the most loaded shard that lowers the pair's larger load."""
    heaviest = max(range(len(loads)), key=lambda k: (loads[k], -k))
    for other in sorted(range(len(loads)), key=lambda k: (loads[k], k)):
        gap = loads[heaviest] - loads[other]
        if other == heaviest or gap <= _EPSILON:
            continue
        found = _best_exchange(durations, members[heaviest], members[other], gap)
        if found is not None:
            give, take = found
            _apply(durations, members, loads, (heaviest, give), (other, take))
            return True
    return False


def _best_exchange(
    durations: Sequence[float], heavy: list[int], light: list[int], gap: float
) -> tuple[int, int | None] | None:
    """(item of heavy, item of light or None for a plain move) whose difference d is in
    (0, gap) and closest to gap / 2, where the two loads meet; None if there is none."""
    light_sorted = sorted(light, key=lambda i: (durations[i], i))
    light_values = [durations[i] for i in light_sorted]
    best: tuple[float, int, int | None] | None = None
    for give in sorted(heavy):
        x = durations[give]
        candidates: list[tuple[float, int | None]] = [(0.0, None)]
        at = bisect.bisect_left(light_values, x - gap / 2)
        for position in (at - 1, at):
            if 0 <= position < len(light_values):
                candidates.append((light_values[position], light_sorted[position]))
        for y, take in candidates:
            d = x - y
            if _EPSILON < d < gap - _EPSILON:
                score = abs(gap / 2 - d)
                if best is None or score < best[0] - _EPSILON:
                    best = (score, give, take)
    return None if best is None else (best[1], best[2])


def _apply(
    durations: Sequence[float],
    members: list[list[int]],
    loads: list[float],
    give: tuple[int, int],
    take: tuple[int, int | None],
) -> None:
    (heavy, item_out), (light, item_in) = give, take
    members[heavy].remove(item_out)
    members[light].append(item_out)
    loads[heavy] -= durations[item_out]
    loads[light] += durations[item_out]
    if item_in is not None:
        members[light].remove(item_in)
        members[heavy].append(item_in)
        loads[light] -= durations[item_in]
        loads[heavy] += durations[item_in]
