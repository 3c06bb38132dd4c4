"""Commands for the nightly job, the engineer validating a switch, and the ADR author:
``harness diff``, ``harness compare`` and ``harness adr``. All read results.json files."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from harness.model.errors import ConfigurationError, ResultsError, RunAbortedError
from harness.model.matrix import NAME_PATTERN
from harness.store.files import ADR_MD, REPORT_HTML, compare_stem, results_path
from harness.store.rundir import read_results, write_atomic


def add_commands(sub: Any) -> None:
    diff = sub.add_parser("diff", help="what changed between two runs")
    diff.add_argument("run_a", help="earlier run directory (or results.json)")
    diff.add_argument("run_b", help="later run directory (or results.json)")
    diff.add_argument("--markdown", action="store_true", help="Markdown instead of text")
    diff.set_defaults(func=cmd_diff)

    compare = sub.add_parser("compare", help="side-by-side of two bases, with deltas")
    compare.add_argument("base_a")
    compare.add_argument("base_b")
    compare.add_argument("--depsets", nargs="*", help="depsets to compare (default: all)")
    compare.add_argument("--matrix", default="matrix.yaml")
    compare.add_argument("--run", help="reuse this run directory instead of running cells")
    compare.add_argument("--jobs", "-j", type=int)
    compare.add_argument("--out", help="output folder (default: the run's directory)")
    compare.set_defaults(func=cmd_compare)

    adr = sub.add_parser("adr", help="write a Markdown ADR (MADR) from a run's measurements")
    adr.add_argument("run", help="run directory")
    adr.add_argument("--baseline", help="the base in use today")
    adr.add_argument("--candidate", action="append", help="a base considered (repeatable)")
    adr.add_argument("--out", help="output file (default RUN/adr.md)")
    adr.add_argument(
        "--report-url",
        help="where the record's readers find the run's report.html (a URL or a path relative "
        "to the record, e.g. when it is copied into docs/adr/); default: the path from --out; "
        "each cell's reproducer is linked under cells/ beside it",
    )
    adr.set_defaults(func=cmd_adr)


def _results_path(value: str) -> Path:
    path = Path(value)
    return results_path(path)


def cmd_diff(args: argparse.Namespace) -> int:
    from harness.analysis import diff as diffing
    from harness.documents import diff as diff_document

    run_diff = diffing.diff_runs(
        read_results(_results_path(args.run_a)), read_results(_results_path(args.run_b))
    )
    render = diff_document.render_diff_markdown if args.markdown else diff_document.render_diff_text
    print(render(run_diff))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.analysis import compare, installers
    from harness.analysis.decision import decide
    from harness.documents import compare as compare_document
    from harness.documents import installers as installers_document

    run_dir = Path(args.run) if args.run else _run_cells_for(args)
    results_path = _results_path(str(run_dir))
    results = read_results(results_path)  # validated once, read by everything below
    # Base names become file names below: they follow the matrix's name rule.
    for index, base in enumerate(results.bases):
        if not re.match(NAME_PATTERN, base.name):
            raise ResultsError(
                f"{results_path}: bases[{index}].name: {base.name!r} is not a base name "
                f"(a matrix name matches {NAME_PATTERN})",
                "correct the name in the file, or run the matrix again (`harness run`)",
            )
    names = {b.name for b in results.bases}
    for base in (args.base_a, args.base_b):
        if base not in names:
            raise ConfigurationError(
                f"{run_dir}: the run has no base {base!r}",
                f"use one of: {', '.join(sorted(names))}",
            )
    comparison = compare.compare_bases(results, args.base_a, args.base_b, args.depsets or None)
    verdict = decide(results, baseline=args.base_a, options=[args.base_b])
    # pip vs uv on each of the two bases, where the run has uv twins of their cells.
    pairs = installers.installer_pairs(results, [args.base_a, args.base_b], args.depsets)
    note = installers.fairness_note(results)
    out = Path(args.out) if args.out else run_dir
    stem = compare_stem(args.base_a, args.base_b)
    # Confirmed, not assumed (the rule above keeps it so): both files land directly in out.
    if (out / stem).resolve().parent != out.resolve():
        raise ConfigurationError(f"{out / stem}: outside {out}", "compare two bases of the run")
    out.mkdir(parents=True, exist_ok=True)
    html = compare_document.render_comparison_html(comparison, decision=verdict).replace(
        "</body>",
        installers_document.render_installers_html(pairs, note, report_href=REPORT_HTML)
        + "</body>",
    )
    write_atomic(out / f"{stem}.html", html)
    markdown = "\n".join(
        [
            compare_document.render_comparison_markdown(comparison, decision=verdict),
            *installers_document.render_installers_markdown(pairs, note),
        ]
    )
    write_atomic(out / f"{stem}.md", markdown)
    print(markdown)
    print(f"written: {out / (stem + '.html')} and {out / (stem + '.md')}")
    return 0


def _run_cells_for(args: argparse.Namespace) -> Path:
    """Run just the cells of the two bases (and depsets) being compared."""
    from harness.cli.run_command import RunOptions, run_matrix
    from harness.model.ids import cells_keyword
    from harness.model.matrix import load_matrix

    matrix = load_matrix(args.matrix)
    for base in (args.base_a, args.base_b):
        if base not in matrix.spec.bases:
            raise ConfigurationError(
                f"{args.matrix}: no base named {base!r}",
                f"use one of: {', '.join(matrix.spec.bases)}",
            )
    # -k matches substrings of cell ids; the cross itself is not allowed in an expression.
    keyword = cells_keyword([args.base_a, args.base_b], args.depsets or [])
    from harness.model.ids import new_run_id

    # A fresh folder each time: a run directory holds one run (a second run is refused).
    out = Path("reports") / f"{compare_stem(args.base_a, args.base_b)}-{new_run_id()}"
    outcome = run_matrix(
        RunOptions(matrix=args.matrix, out=str(out), jobs=args.jobs, keyword=keyword)
    )
    if outcome.exit_code not in (0, 1):  # 1 is a failed cell: data for the comparison
        raise RunAbortedError(outcome.exit_code, f"the run of the compared cells ({out}) stopped")
    return out


def cmd_adr(args: argparse.Namespace) -> int:
    from harness.documents import adr

    run_dir = Path(args.run)
    results = read_results(_results_path(args.run))
    out = Path(args.out) if args.out else run_dir / ADR_MD
    # Relative, so the record works when the two are copied together (never a local path).
    report = (run_dir / REPORT_HTML).resolve()
    href = args.report_url or Path(os.path.relpath(report, out.resolve().parent)).as_posix()
    text = adr.render_adr(
        results, report_href=href, baseline=args.baseline, candidates=args.candidate
    )
    write_atomic(out, text)
    print(f"written: {out}")
    return 0
