"""Run-dir file names: one definition, and no module outside store/ spells one."""

from __future__ import annotations

import re
from pathlib import Path

from harness.store import files

HARNESS = Path(files.__file__).resolve().parents[1]


def test_a_run_directory_or_its_results_file_names_the_results_file(tmp_path: Path) -> None:
    assert files.results_path(tmp_path) == tmp_path / "results.json"
    other = tmp_path / "elsewhere.json"
    assert files.results_path(other) == other


def test_a_cell_s_record_log_and_sbom_share_one_stem() -> None:
    record = files.result_file_name("py311-slim×spacy+uv", 1)
    assert record == "py311-slim_x_spacy_with_uv.r1.json"
    assert files.log_file_name("py311-slim×spacy+uv", 1) == "py311-slim_x_spacy_with_uv.r1.log"
    sbom = files.cell_sbom_path("py311-slim×spacy+uv", 1)
    assert sbom == "sbom/py311-slim_x_spacy_with_uv.r1.cdx.json"
    assert files.base_sbom_path("py311-slim") == "sbom/py311-slim.cdx.json"


def test_no_module_outside_store_spells_a_run_dir_file_name() -> None:
    names = [files.RESULTS_JSON, files.PREPARE_JSON, files.PLAN_JSON, files.REPORT_HTML]
    names += [files.SUMMARY_MD, files.JUNIT_XML, files.DIFF_MD, files.ADR_MD, files.PREFLIGHT_JSON]
    # a quoted name, as a path would spell it (prose in a sentence is fine)
    pattern = re.compile(rf"([\"'])({'|'.join(map(re.escape, names))})\1")
    found = [
        f"{path.relative_to(HARNESS)}:{n}"
        for path in sorted(HARNESS.rglob("*.py"))
        if path.parent.name != "store"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
