"""Everything written from a merged results.json: report, JUnit, Markdown summary,
history, and the reports/latest link. Each is rebuilt from the results alone."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.analysis import diff as diffing
from harness.analysis.vulns import (
    NOT_SCANNED_EMPTY,
    NotScanned,
    ScannerSpec,
    VulnCounts,
    not_scanned_without_scanner,
    scan,
)
from harness.documents import diff as diff_document
from harness.documents.junit import write_junit
from harness.documents.report import reference_candidates, write_report
from harness.documents.summary import markdown_summary
from harness.model.errors import ResultsError
from harness.model.results import AnyResults, Results, Sboms, as_results
from harness.store import history
from harness.store.files import (
    DIFF_MD,
    JUNIT_XML,
    LATEST_LINK,
    RESULTS_JSON,
    SBOM_DIR,
    SBOM_INDEX,
    SUMMARY_MD,
)
from harness.store.resultsfile import read_results_shared, update_header, write_results
from harness.store.rundir import write_atomic
from harness.store.shards import bulk_records, records_read


@dataclass(frozen=True)
class Published:
    """What publishing a run produced: the console lines, and the one diff of the run
    against its previous run (the gate decides the exit code from it)."""

    lines: tuple[str, ...]
    diff: diffing.RunDiff | None


def write_outputs(
    out_dir: Path, results: AnyResults, scanner: ScannerSpec | None = None
) -> Published:
    """Every document of a run, from its merged results alone (and the SBOM scans, when
    matrix.yaml names a scanner). The results are validated once, here (``as_results``),
    and every document reads that one typed object."""
    with bulk_records():
        typed = as_results(results, str(out_dir))
        records_read()
        diff, lines = _write_documents(out_dir, typed, scanner)
    return Published(tuple(lines), diff)


def write_sboms(out_dir: Path, results: AnyResults, scanner: ScannerSpec | None) -> Path:
    """``sboms_of_run`` for a caller that needs sbom/index.json alone."""
    return sboms_of_run(out_dir, as_results(results), scanner)[0]


def sboms_of_run(
    out_dir: Path, results: Results, scanner: ScannerSpec | None
) -> tuple[Path, Results]:
    """sbom/index.json: every cell's SBOM, as the cell wrote it when it ended
    (``write_cell_sbom``; written now only for a cell that has none: a run directory of
    an older harness, a shard copied without its sbom/), and sbom/<base>.cdx.json per
    base; each (when a scanner is set) scanned. results.json lists them too (``sboms``),
    which every document reads: returned are sbom/index.json and the results with them."""
    # imported here: cyclonedx's schema validators take seconds to load, and `harness
    # report` (this module's rerender_report) never needs them
    from harness.documents.contents import (
        index_entry,
        plan_base_sboms,
        read_cell_sbom_entry,
        write_cell_sbom,
    )
    from harness.documents.sbom import validate_sbom

    sbom_dir = out_dir / SBOM_DIR
    sbom_dir.mkdir(parents=True, exist_ok=True)
    header = {"run": results.run.to_dict(), "bases": [b.to_dict() for b in results.bases]}
    entries = []
    for cell in results.cells:
        key = {"id": cell.id, "repeat": cell.repeat}
        entry = read_cell_sbom_entry(out_dir, key)
        if entry is None and cell.probes.contents is not None:  # an older run: write it now
            entry = write_cell_sbom(out_dir, cell.to_dict(), header)
        if entry is None:
            continue
        counts = _scan(out_dir, entry["path"], int(entry.get("components") or 0), scanner)
        entries.append({**entry, "vulnerabilities": counts.to_scan().to_dict()})
    for plan in plan_base_sboms(reference_candidates(results)):
        write_atomic(out_dir / plan.path, plan.text)
        counts = _scan(out_dir, plan.path, plan.components, scanner)
        entries.append(index_entry(plan, validate_sbom(plan.text), counts.to_scan().to_dict()))
    index = {
        "run": results.run.id,
        "scanner": {"name": scanner.name, "db": str(scanner.db_dir)} if scanner else None,
        "sboms": entries,
    }
    sboms = {"scanner": index["scanner"], "sboms": entries}
    typed = results.model_copy(update={"sboms": Sboms.from_dict(sboms, "sbom/index.json")})
    results_path = out_dir / RESULTS_JSON
    if results_path.is_file():  # its cells are copied line by line, never parsed again
        update_header(results_path, lambda header: header.update(sboms=sboms))
    else:
        write_results(results_path, typed)
    target = out_dir / SBOM_INDEX
    return write_atomic(target, json.dumps(index, indent=1)), typed


def _scan(
    out_dir: Path, shown: str, components: int, scanner: ScannerSpec | None
) -> VulnCounts | NotScanned:
    """One SBOM's counts, or why not; ``shown`` is its path relative to the run folder, as
    the command in a reason names it."""
    if scanner is None:
        return not_scanned_without_scanner(shown)
    if components == 0:  # a scanner would answer 0 for an image it could not see into
        return NotScanned(NOT_SCANNED_EMPTY, scanner.name)
    return scan(out_dir / shown, scanner, shown)


def _write_documents(
    out_dir: Path, results: Results, scanner: ScannerSpec | None
) -> tuple[diffing.RunDiff | None, list[str]]:
    if results.run.shard is not None:
        return None, _shard_documents(out_dir, results)
    history_dir = history.recorded_history_dir(results, out_dir)
    previous_dir, run_diff = _since_previous(history_dir, results)
    history.record_run(results, history_dir, out_dir)
    sbom_index, results = sboms_of_run(out_dir, results, scanner)  # the report links them
    write_junit(results, out_dir / JUNIT_XML)
    write_atomic(out_dir / SUMMARY_MD, markdown_summary(results, run_diff))
    if run_diff is not None:
        write_atomic(out_dir / DIFF_MD, diff_document.render_diff_markdown(run_diff))
    report = write_report(
        out_dir, history=history.earlier_runs(history_dir, results), results=results
    )
    if history.in_default_reports(out_dir):  # reports/latest; never beside a user's --out
        _point_latest(out_dir.resolve().parent, out_dir)
    lines = list(_console_summary(results))
    if run_diff is not None and previous_dir is not None:
        lines.append(f"[harness] changes since {previous_dir.name}:")
        lines += diff_document.render_diff_text(run_diff).splitlines()
    lines.append(f"[harness] results: {out_dir / RESULTS_JSON}")
    lines.append(f"[harness] report:  {report}")
    lines.append(f"[harness] SBOMs:   {sbom_index} ({sbom_cost(results)})")
    return run_diff, lines


def sbom_cost(results: AnyResults) -> str:
    """What the cells' SBOMs cost, as each cell measured it when it wrote its own."""
    sboms = as_results(results).sboms
    entries = [e for e in (sboms.sboms if sboms else []) if e.kind == "cell"]
    found = [(e.model_extra or {}).get("seconds") for e in entries]
    timed = [float(s) for s in found if isinstance(s, int | float) and not isinstance(s, bool)]
    return (
        f"{len(entries)} cell SBOM(s), written as the cells ended in {sum(timed):.1f} s "
        f"in all (max {max(timed, default=0):.2f} s per cell)"
    )


def _shard_documents(out_dir: Path, results: Results) -> list[str]:
    """A shard is part of a run: its own documents, but no history entry, no diff (the
    other shards' cells would all read as removed) and no reports/latest; the merged
    run (`harness merge`) gets those."""
    shard = results.run.shard
    assert shard is not None
    write_junit(results, out_dir / JUNIT_XML)
    write_atomic(out_dir / SUMMARY_MD, markdown_summary(results, None))
    report = write_report(out_dir, history=[], results=results)
    return [
        *_console_summary(results),
        f"[harness] shard {shard.index}/{shard.count} of plan {shard.plan_id}: "
        "not in the history; `harness merge` the shard directories into one run",
        f"[harness] results: {out_dir / RESULTS_JSON}",
        f"[harness] report:  {report}",
    ]


def rerender_report(out_dir: Path) -> Path:
    """`harness report DIR`: report.html and summary.md again (so the two never disagree),
    with the same trend lines and diff as after the run."""
    with bulk_records():
        # validated, each cell once: a bad file is exit 2, never a traceback
        results = read_results_shared(out_dir / RESULTS_JSON)
        records_read()
        history_dir = history.recorded_history_dir(results, out_dir)
        if results.run.shard is None:
            _previous_dir, run_diff = _since_previous(history_dir, results)
            write_atomic(out_dir / SUMMARY_MD, markdown_summary(results, run_diff))
        return write_report(
            out_dir, history=history.earlier_runs(history_dir, results), results=results
        )


def _since_previous(
    history_dir: Path, results: Results
) -> tuple[Path | None, diffing.RunDiff | None]:
    """The previous run of the same matrix in the history, and what changed since."""
    previous_dir = history.previous_run_dir(history_dir, results)
    if previous_dir is None:
        return None, None
    try:
        previous = read_results_shared(previous_dir / RESULTS_JSON)
    except ResultsError:  # a damaged earlier run costs this run its diff, not its documents
        return None, None
    return previous_dir, diffing.diff_runs(previous, results)


def _point_latest(reports_dir: Path, out_dir: Path) -> None:
    latest = reports_dir / LATEST_LINK
    temporary = reports_dir / f".latest-{os.getpid()}"
    if temporary.is_symlink():
        temporary.unlink()
    temporary.symlink_to(out_dir.name)
    temporary.replace(latest)


CONSOLE_CELLS = 40  # cells not passed named on the console; the documents list them all


def _console_summary(results: Results) -> Iterator[str]:
    counts: dict[str, int] = {}
    for cell in results.cells:
        counts[cell.status] = counts.get(cell.status, 0) + 1
    yield "[harness] " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    others = [cell for cell in results.cells if cell.status != "passed"]
    for cell in others[:CONSOLE_CELLS]:
        yield f"[harness]   {cell.id}: {cell.status}: {cell.reason or ''}"
    if len(others) > CONSOLE_CELLS:
        more = len(others) - CONSOLE_CELLS
        yield f"[harness]   … and {more} more not passed: see summary.md and report.html"
