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

import gc
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from harness.model.errors import ConfigurationError, ResultsError
from harness.model.ids import CROSS
from harness.model.plan import Plan, plan_from_record
from harness.model.records import SCHEMA_VERSION
from harness.model.results import (
    BaseRecord,
    CellRecord,
    DepsetRecord,
    EngineFacts,
    HostFacts,
    Results,
    RunInfo,
    ShardRecord,
)
from harness.store import files
from harness.store.files import (
    CELLS_DIR,
    PREPARE_JSON,
    RESULTS_JSON,
    cell_sbom_entry_path,
    cell_sbom_path,
    result_file_name,
)
from harness.store.resultsfile import (
    CellLine,
    cell_line,
    is_streamed,
    iter_cell_lines_at,
    read_header,
    read_line_at,
    share_rows,
    write_results,
)
from harness.store.rundir import make_dirs, read_results, write_atomic_with

SHARD_DID_NOT_REPORT = "shard {index} did not report"
FIX = "merge the shard directories of one `harness plan` (the same matrix, harness and plan)"


# Objects allocated between two runs of the cyclic garbage collector's youngest generation
# while a run's records are merged or rendered (Python's default: 700). Records are kept,
# not cycles: at the default, a 10,000-cell merge and report spent a fifth of their CPU in
# collections that freed nothing (bench/merge_scale.py).
BULK_GC_THRESHOLD = 100_000


@contextmanager
def bulk_records() -> Iterator[None]:
    """Run the cyclic garbage collector rarely inside (reference counting still frees
    every object that is not in a cycle at once), and never over the records that
    ``records_read`` set aside; the collector as before afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], BULK_GC_THRESHOLD), *before[1:])
    _BULK.append(True)
    try:
        yield
    finally:
        _BULK.pop()
        if not _BULK:
            gc.unfreeze()
        gc.set_threshold(*before)


def records_read() -> None:
    """Inside ``bulk_records``, once a run's records are in memory: the collector leaves
    every object that exists now alone until the block ends (the records live until then
    anyway; walking 10,000 cells' objects in each collection cost a report seconds).
    Outside it, nothing."""
    if _BULK:
        gc.freeze()


_BULK: list[bool] = []  # the bulk_records blocks open


@dataclass(frozen=True)
class ShardRun:
    """One shard's run directory and its results, typed once on load: the header alone
    (``cells`` empty) when ``results_file`` is set, whose cells are then read one at a
    time."""

    path: Path
    results: Results
    results_file: Path | None = None

    @property
    def run(self) -> RunInfo:
        return self.results.run

    @property
    def index(self) -> int:
        shard = self.run.shard
        assert shard is not None and shard.index is not None  # read_shard checked it
        return shard.index

    @property
    def hostname(self) -> str | None:
        return self.run.host.hostname if self.run.host else None

    def cells_at(self) -> Iterator[tuple[int | None, CellRecord]]:
        """(where to read it back, the cell validated) for each cell, each validated once:
        a byte offset into results_file, or None for a cell held in memory."""
        if self.results_file is None:
            for cell in self.results.cells:
                yield None, cell
            return
        try:
            for offset, typed, _line in iter_cell_lines_at(self.results_file):
                yield offset, typed
        except ResultsError as err:
            raise _unreadable_shard(self.results_file, err) from None

    def cell_at(self, offset: int) -> CellLine:
        """The cell at ``offset`` stamped with this shard's host and index, as one line of
        results.json: the shard's own line with two keys added, not parsed again."""
        assert self.results_file is not None
        line = read_line_at(self.results_file, offset)
        stamp = {"host": self.hostname, "shard": self.index}
        if '"host"' in line or '"shard"' in line or _may_need_repair(line):
            cell = json.loads(line)  # keys to replace, or text to repair: the careful path
            return CellLine(cell_line({**cell, **stamp}))
        return CellLine(f"{line[:-1]},{json.dumps(stamp, separators=(',', ':'))[1:]}")


def _may_need_repair(line: str) -> bool:
    """What strict JSON cannot hold, as a shard's line might (written by hand)."""
    return "NaN" in line or "Infinity" in line or "\\ud" in line.lower()


def read_shard(path: Path) -> ShardRun:
    """A shard directory (or its results.json), its header validated on load (its cells
    are read later, one at a time); exit 2 if not a shard."""
    results_path = files.results_path(path)
    try:
        header = read_header(results_path)
    except ResultsError as err:
        raise _unreadable_shard(results_path, err) from None
    if header.run.shard is None or header.run.shard.index is None:
        raise ConfigurationError(
            f"{results_path}: not a shard run (its run record has no shard)",
            "merge directories written by `harness run --shard K/N`",
        )
    if not is_streamed(results_path):  # an older harness: its cells are read whole, once
        try:
            return ShardRun(results_path.parent, read_results(results_path))
        except ResultsError as err:
            raise _unreadable_shard(results_path, err) from None
    return ShardRun(results_path.parent, header, results_path)


def _unreadable_shard(results_path: Path, err: ResultsError) -> ResultsError:
    """A shard's results.json that cannot be read (cut short by a killed job, a full
    disk): its finished cells are still in cells/, and resuming the shard rebuilds it."""
    shard, matrix = "K/N", "MATRIX"
    try:  # prepare.json is written before any cell runs and names the shard
        run = json.loads((results_path.parent / PREPARE_JSON).read_text("utf-8"))["run"]
        shard = f"{int(run['shard']['index'])}/{int(run['shard']['count'])}"
        matrix = str(run["matrix"]["path"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return ResultsError(
        err.what,
        f"rebuild it from its finished cells with `harness run {matrix} --shard {shard} "
        f"--resume {results_path.parent}` (seconds: only missing cells run), then merge again",
    )


def merge_shards(shards: Sequence[ShardRun], run_id: str, merged_at: str) -> dict[str, object]:
    """One results dict (schema_version 1) from the shards of one plan, in memory (for
    small merges and tests; ``write_merged`` streams it to results.json)."""
    header, cells, _kept = _merged(shards, run_id, merged_at)
    return {
        **header.to_dict(),
        "cells": [json.loads(cell_line(c)) for c, _shard, _key in cells],
    }


def write_merged(
    shards: Sequence[ShardRun],
    out_dir: Path,
    run_id: str,
    merged_at: str,
    run_fields: Mapping[str, str] | None = None,
) -> Results:
    """Merge the shards into out_dir/results.json one cell at a time (never every cell
    record at once; the file is renamed into place at the end, so an interrupted merge
    leaves none), carrying each cell's SBOM and its entry from its shard's sbom/ (written
    when the cell ended) so publishing does not build them again. ``run_fields`` are added
    to the run record (``history_dir``). Returns the header."""
    return _write_merged(shards, out_dir, run_id, merged_at, run_fields)[0]


def merge_run(
    shards: Sequence[ShardRun],
    out_dir: Path,
    run_id: str,
    merged_at: str,
    run_fields: Mapping[str, str] | None = None,
) -> Results:
    """``write_merged``, returning the merged run as the typed Results every document
    reads: the cells as validated while merging (each once; equal package rows stored
    once), so the merged file is not read back."""
    with bulk_records():
        header, cells = _write_merged(shards, out_dir, run_id, merged_at, run_fields, keep=True)
    return header.model_copy(update={"cells": cells})


def _write_merged(
    shards: Sequence[ShardRun],
    out_dir: Path,
    run_id: str,
    merged_at: str,
    run_fields: Mapping[str, str] | None = None,
    keep: bool = False,
) -> tuple[Results, list[CellRecord]]:
    header, cells, kept = _merged(shards, run_id, merged_at, keep, run_fields)
    records_read()  # every cell is read and validated (kept when asked)
    by_index = {s.index: s for s in shards}
    typed: list[CellRecord] = []

    def stamped() -> Iterator[CellLine | CellRecord]:
        for cell, index, key in cells:
            if index in by_index:
                _carry_sbom(by_index[index].path, out_dir, key)
            _carry_cell_file(by_index.get(index), out_dir, key, cell)
            if keep:
                typed.append(_stamped(kept.get(key), cell, by_index.get(index)))
            yield cell

    write_results(out_dir / RESULTS_JSON, header, stamped())
    return header, typed


def _stamped(
    record: CellRecord | None, cell: CellLine | CellRecord, shard: ShardRun | None
) -> CellRecord:
    """The typed twin of a merged cell: its validated record with host and shard."""
    if record is None or shard is None:  # a cell no shard reported
        return cell if isinstance(cell, CellRecord) else CellRecord.from_json(cell, "cell")
    return record.model_copy(update={"host": shard.hostname, "shard": shard.index})


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (same filesystem: no copy at all), else a
    copy; what ``target`` held is replaced (a merge completing an interrupted one). One
    system call in the common case: 20,000 of these are in a 10,000-cell merge."""
    try:
        os.link(source, target)
        return
    except FileExistsError:
        target.unlink()
    except FileNotFoundError:  # its folder is not there yet (source was checked)
        make_dirs(target.parent)
    except OSError:  # another filesystem, or links refused: copied below
        pass
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _carry_sbom(shard_dir: Path, out_dir: Path, key: tuple[str, int]) -> None:
    for name in (cell_sbom_path(*key), cell_sbom_entry_path(*key)):
        source, target = shard_dir / name, out_dir / name
        if not source.is_file():
            return
        _link_or_copy(source, target)


def _carry_cell_file(
    shard: ShardRun | None, out_dir: Path, key: tuple[str, int], cell: CellLine | CellRecord
) -> None:
    """The cell's own record as cells/<id>.r<k>.json of the merged run (the report links
    it instead of printing it): its shard's file, else the merged line."""
    name = f"{CELLS_DIR}/{result_file_name(*key)}"
    source, target = (shard.path / name if shard else None), out_dir / name
    if source is not None and source.is_file():
        _link_or_copy(source, target)
        return
    text = cell_line(cell)

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    write_atomic_with(target, write)


MergedCell = tuple["CellLine | CellRecord", int, tuple[str, int]]  # (cell, shard, key)


def _merged(
    shards: Sequence[ShardRun],
    run_id: str,
    merged_at: str,
    keep: bool = False,
    run_fields: Mapping[str, str] | None = None,
) -> tuple[Results, Iterator[MergedCell], dict[tuple[str, int], CellRecord]]:
    if not shards:
        raise ConfigurationError("harness merge: no shard directory given", FIX)
    _refuse_mixed(shards)
    plan = plan_from_record(shards[0].run.plan, f"{shards[0].path}: run.plan")
    kept: dict[tuple[str, int], CellRecord] = {}
    found, counts = _refuse_duplicates(shards, plan, kept if keep else None)
    present = {s.index for s in shards}
    missing = [k for k in range(1, plan.count + 1) if k not in present]
    run = _run_record(shards, plan, run_id, merged_at, missing, counts)
    if run_fields:
        run = run.model_copy(update=dict(run_fields))
    header = Results(
        schema_version=SCHEMA_VERSION,
        run=run,
        bases=_bases(shards, plan),
        depsets=_depsets(shards),
    )
    return header, _cells(shards, plan, found), kept


# -- refusals --------------------------------------------------------------------------


def _refuse_mixed(shards: Sequence[ShardRun]) -> None:
    checks: list[tuple[str, Callable[[ShardRun], object]]] = [
        ("matrices (sha256)", lambda s: s.run.matrix.sha256 if s.run.matrix else None),
        ("harness versions", lambda s: s.run.harness_version),
        ("plans", lambda s: s.run.shard.plan_id if s.run.shard else None),
        ("kinds of run (warm and cold)", lambda s: bool(s.run.warm)),
    ]
    for what, value in checks:
        seen = {str(value(s)) for s in shards}
        if len(seen) > 1:
            listed = "; ".join(f"{s.path}: {value(s)}" for s in shards)
            raise ConfigurationError(
                f"harness merge: the shards have different {what}: {listed}", FIX
            )


Located = tuple[int, "int | None"]  # (shard index, offset or None: a cell held in memory)


def _refuse_duplicates(
    shards: Sequence[ShardRun],
    plan: Plan,
    kept: dict[tuple[str, int], CellRecord] | None = None,
) -> tuple[dict[tuple[str, int], Located], dict[int, int]]:
    """Refuse a shard given twice, a cell run present twice or in the wrong shard; return
    where each cell run is (its shard, and its offset in that shard's results.json) and
    how many cell runs each shard holds. Reads and validates every cell once; keeps the
    typed records in ``kept`` when given (equal package rows stored once), else none."""
    rows: dict[Any, Any] = {}
    by_index: dict[int, Path] = {}
    for shard in shards:
        if shard.index in by_index:
            raise ConfigurationError(
                f"harness merge: shard {shard.index}/{plan.count} given twice "
                f"({by_index[shard.index]} and {shard.path})",
                "give each shard's directory once",
            )
        by_index[shard.index] = shard.path
    owner = plan.owner()
    found: dict[tuple[str, int], Located] = {}
    counts: dict[int, int] = {}
    for shard in shards:
        counts[shard.index] = 0
        for offset, record in shard.cells_at():
            key = (record.id, record.repeat)
            if kept is not None:
                kept[key] = share_rows(record, rows)
            if key in found:
                raise ConfigurationError(
                    f"harness merge: cell {key[0]} repeat {key[1]} is present twice "
                    f"({by_index[found[key][0]]} and {shard.path})",
                    "each cell run belongs to one shard: merge one directory per shard",
                )
            if owner.get(key) != shard.index:
                raise ConfigurationError(
                    f"harness merge: {shard.path} (shard {shard.index}) holds cell {key[0]} "
                    f"repeat {key[1]}, which plan {plan.id} gives to "
                    f"{'no shard' if key not in owner else f'shard {owner[key]}'}",
                    FIX,
                )
            found[key] = (shard.index, offset)
            counts[shard.index] += 1
    return found, counts


# -- the merged run --------------------------------------------------------------------


def _cells(
    shards: Sequence[ShardRun], plan: Plan, found: Mapping[tuple[str, int], Located]
) -> Iterator[MergedCell]:
    """Every planned cell run in plan (matrix) order, stamped with its host and shard, read
    back one at a time; the ones no shard reported as errors. Yields (cell, shard, key)."""
    by_index = {s.index: s for s in shards}
    held = {(c.id, c.repeat): c for s in shards if s.results_file is None for c in s.results.cells}
    for run in plan.runs:
        where = found.get(run.key)
        if where is None:
            yield _not_reported(run.cell_id, run.repeat, run.shard), run.shard, run.key
            continue
        shard, offset = by_index[where[0]], where[1]
        if offset is None:
            stamp = {"host": shard.hostname, "shard": shard.index}
            yield held[run.key].model_copy(update=stamp), shard.index, run.key
        else:
            yield shard.cell_at(offset), shard.index, run.key


def _not_reported(cell_id: str, repeat: int, shard: int) -> CellRecord:
    base, _, depset = cell_id.partition(CROSS)
    return CellRecord.from_dict(
        {
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
    )


def _run_record(
    shards: Sequence[ShardRun],
    plan: Plan,
    run_id: str,
    merged_at: str,
    missing: list[int],
    counts: Mapping[int, int],
) -> RunInfo:
    runs = [s.run for s in shards]
    first = runs[0]
    jobs = {r.jobs for r in runs}
    warnings = list(
        dict.fromkeys(f"shard {s.index}: {w}" for s in shards for w in s.run.warnings or [])
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
    reachable = [r.registry_reachable for r in runs if r.registry_reachable is not None]
    return RunInfo.from_dict(
        {
            "id": run_id,
            "started_at": min(str(r.started_at) for r in runs),
            "ended_at": max(str(r.ended_at) for r in runs),
            "merged_at": merged_at,
            "harness_version": first.harness_version,
            "jobs": max((j for j in jobs if isinstance(j, int)), default=None),
            "repeat": first.repeat,
            "host": _shared_facts([r.host or HostFacts() for r in runs], "hostname"),
            "engine": _shared_facts([r.engine or EngineFacts() for r in runs], "version"),
            "matrix": first.matrix,
            "registry_reachable": any(reachable) if reachable else None,
            "warnings": warnings,
            "cells_planned": len(plan.runs),
            "keyword": plan.keyword,
            "warm": bool(first.warm),
            "plan": {k: v for k, v in plan.record().items() if k != "runs"},
            "shards": _shard_records(shards, plan, missing, counts),
        },
        "merged run",
    )


Facts = TypeVar("Facts", HostFacts, EngineFacts)


def _shared_facts(facts: list[Facts], name_key: str) -> Facts:
    """The facts all shards share; ``name_key`` names every distinct value when they differ."""
    dicts = [f.to_dict() for f in facts]
    keys = list(dict.fromkeys(k for f in dicts for k in f))
    shared = {}
    for key in keys:
        values = [f.get(key) for f in dicts]
        if all(v == values[0] for v in values):
            shared[key] = values[0]
        elif key == name_key:
            shared[key] = ", ".join(sorted({str(v) for v in values}))
        else:
            shared[key] = None
    return type(facts[0]).from_dict(shared, "merged facts")


def _shard_records(
    shards: Iterable[ShardRun], plan: Plan, missing: list[int], counts: Mapping[int, int]
) -> list[ShardRecord]:
    records = [
        ShardRecord(
            index=s.index,
            reported=True,
            run_id=s.run.id,
            dir=str(s.path),
            host=s.run.host,
            engine=s.run.engine,
            jobs=s.run.jobs,
            started_at=s.run.started_at,
            ended_at=s.run.ended_at,
            cell_runs=counts.get(s.index, 0),
            expected_seconds=round(plan.expected_seconds(s.index), 3),
        )
        for s in shards
    ]
    records += [ShardRecord(index=k, reported=False, cell_runs=0) for k in missing]
    return sorted(records, key=lambda r: r.index)


def _depsets(shards: Sequence[ShardRun]) -> list[DepsetRecord]:
    """Each depset once, in the order the shards list them (a shard lists the depsets of
    the matrix; one built by another tool may list only its own)."""
    found: dict[str, DepsetRecord] = {}
    for shard in shards:
        for depset in shard.results.depsets:
            found.setdefault(depset.name, depset)
    return list(found.values())


def _bases(shards: Sequence[ShardRun], plan: Plan) -> list[BaseRecord]:
    """Each base once, in matrix order; where the shards resolved it to different images
    (each host builds its own stand-in), ``image_ids`` lists them by shard."""
    order = list(dict.fromkeys(r.cell_id.partition(CROSS)[0] for r in plan.runs))
    found: dict[str, BaseRecord] = {}
    image_ids: dict[str, dict[str, str | None]] = {}
    for shard in shards:
        for base in shard.results.bases:
            found.setdefault(base.name, base)
            image_ids.setdefault(base.name, {})[str(shard.index)] = base.image_id
    for name, ids in image_ids.items():
        if len(set(ids.values())) > 1:
            found[name] = found[name].model_copy(update={"image_ids": ids})
    return sorted(
        found.values(), key=lambda b: order.index(b.name) if b.name in order else len(order)
    )
