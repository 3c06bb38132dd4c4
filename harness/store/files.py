"""The names of the files and folders in a run directory: one definition each.

Every module that reads or writes a run directory imports these; no other module spells
a run-dir file name. Paths returned here are relative to the run directory.
"""

from __future__ import annotations

from pathlib import Path

from harness.model.ids import docker_safe

# -- the run's own files -----------------------------------------------------------------
RESULTS_JSON = "results.json"  # the versioned results file: every document is rendered from it
PLAN_JSON = "plan.json"  # the shard plan (`harness run --shard`)
PREPARE_JSON = "prepare.json"  # bases and preflight, written before the first cell
LOCK_FILE = ".harness.lock"  # one run directory, one writer

# -- documents -------------------------------------------------------------------------
REPORT_HTML = "report.html"
REPORT_CELLS_DIR = "report-cells"  # per-base cell pages of a report too large for one page
DEPSETS_HTML = "depsets.html"  # the charts and depset tables of a split report
SUMMARY_MD = "summary.md"
CHECK_MD = "check.md"  # `harness check`: the verdict comment, kept with its run
CHECK_JSON = "check.json"  # `harness check`: the verdict for bots
JUNIT_XML = "junit.xml"
DIFF_MD = "diff.md"
ADR_MD = "adr.md"

# -- folders ---------------------------------------------------------------------------
CELLS_DIR = "cells"  # one JSON record per cell and repeat
LOGS_DIR = "logs"  # one log per cell and repeat, and per base build
SBOM_DIR = "sbom"  # CycloneDX SBOMs: per base and per cell
SBOM_INDEX = f"{SBOM_DIR}/index.json"
INPUTS_DIR = "inputs"  # a depset's own files as the cells saw them (requirements...)
ARTIFACTS_DIR = "artifacts"  # what a suite wrote (tests.artifacts), one folder per cell

# -- the reports folder (a run directory's parent) ---------------------------------------
HISTORY_DIR = "history"  # the run history, next to the run directories
LATEST_LINK = "latest"  # reports/latest: the newest published run
PREFLIGHT_JSON = "preflight.json"  # `harness preflight`'s forecast


def results_path(path: Path) -> Path:
    """A run directory or its results.json → the results.json."""
    return path if path.suffix == ".json" else path / RESULTS_JSON


def result_file_name(cell: str, repeat: int) -> str:
    """A cell record's file name under ``cells/`` (its log takes the same stem + ``.log``)."""
    return f"{docker_safe(cell)}.r{repeat}.json"


def log_file_name(cell: str, repeat: int) -> str:
    return result_file_name(cell, repeat).removesuffix(".json") + ".log"


def artifacts_folder(cell: str, repeat: int) -> str:
    """A cell's copy of what its suite wrote: ``artifacts/<cell>.r<k>``."""
    return f"{ARTIFACTS_DIR}/{result_file_name(cell, repeat).removesuffix('.json')}"


def base_log_name(base: str) -> str:
    """A base build's log under ``logs/``."""
    return f"base-{base}.log"


def compare_stem(base_a: str, base_b: str) -> str:
    """``compare-A-vs-B``: the .html and .md of `harness compare`."""
    return f"compare-{base_a}-vs-{base_b}"


def cell_sbom_path(cell: str, repeat: int) -> str:
    """A cell's SBOM, relative to the run folder: the result file's stem + ``.cdx.json``."""
    return f"{SBOM_DIR}/{result_file_name(cell, repeat).removesuffix('.json')}.cdx.json"


def cell_sbom_entry_path(cell: str, repeat: int) -> str:
    """What the cell's SBOM holds and what writing it cost (its sbom/index.json entry),
    written beside it when the cell ends: the result file's stem + ``.entry.json``."""
    return f"{SBOM_DIR}/{result_file_name(cell, repeat).removesuffix('.json')}.entry.json"


def base_sbom_path(base: str) -> str:
    """A base's SBOM (its OS packages), relative to the run folder."""
    return f"{SBOM_DIR}/{docker_safe(base)}.cdx.json"
