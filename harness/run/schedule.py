"""Longest cells first, so the run's tail is short.

Expected durations come from the previous run of the same matrix where there is one
(each cell's median over its repeats); a cell new to the matrix takes the median of its
depset on the other bases of that run; with no run at all, a rough weight of the depset
(what it installs and probes). The executor (run/executor.py) gives each free worker the
longest ready cell by these estimates.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from harness.model.ids import parse_cell_id
from harness.model.matrix import Cell, DepsetSpec, Matrix
from harness.model.results import MatrixIdentity, Results, RunInfo
from harness.store.files import RESULTS_JSON

T = TypeVar("T")


def previous_results(history_dir: Path, matrix: Matrix, run_id: str, warm: bool) -> Results | None:
    """The results of the latest run of this matrix before ``run_id`` in the history at
    ``history_dir`` (warm runs are timed against warm runs; a first warm run still knows
    which cells are long from a cold one), or None."""
    from harness.store import history
    from harness.store.rundir import read_results

    identity = MatrixIdentity(path=str(matrix.path), sha256=matrix.sha256)
    this_run = RunInfo(id=run_id, matrix=identity, warm=warm)
    previous_dir = history.previous_run_dir(history_dir, this_run)
    if previous_dir is None:
        this_run = RunInfo(id=run_id, matrix=identity, warm=not warm)
        previous_dir = history.previous_run_dir(history_dir, this_run)
    return read_results(previous_dir / RESULTS_JSON) if previous_dir else None


def previous_durations(previous: Results | None) -> dict[str, float]:
    if previous is None:
        return {}
    seconds: dict[str, list[float]] = {}
    for cell in previous.cells:
        if cell.seconds is not None:
            seconds.setdefault(cell.id, []).append(cell.seconds)
    return {cell_id: statistics.median(values) for cell_id, values in seconds.items()}


def estimate(cell: Cell, depset: DepsetSpec, known: dict[str, float]) -> float:
    if cell.id in known:
        return known[cell.id]
    # A new cell takes the time of its depset (and installer) on the other bases.
    same_depset = [
        seconds
        for cell_id, seconds in known.items()
        if _depset_and_installer(cell_id) == (cell.depset, cell.installer)
    ]
    if same_depset:
        return float(statistics.median(same_depset))
    installs = 30.0 * len(depset.pip) + 40.0 * bool(depset.system)
    return 5.0 + installs + 10.0 * len(depset.probes)


def _depset_and_installer(cell_id: str) -> tuple[str, str] | None:
    try:
        _base, depset, installer = parse_cell_id(cell_id)
    except ValueError:
        return None
    return depset, installer


def longest_first(items: Sequence[T], durations: Sequence[float]) -> list[T]:
    """Sorted by expected duration, longest first; ties keep the matrix order."""
    order = sorted(range(len(items)), key=lambda i: (-durations[i], i))
    return [items[i] for i in order]
