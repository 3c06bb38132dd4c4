"""tests.artifacts for real: the example service's suite runs on the 3.11 stand-in, fails
its one 3.13-only test, and what it wrote (pytest's lastfailed) is in the run dir, linked
from the cell record (issue 25)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.model.results import Results
from harness.store.files import artifacts_folder
from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration


def test_what_the_suite_wrote_is_in_the_run_dir(tmp_path: Path, docker_client: Any) -> None:  # noqa: ARG001
    out = tmp_path / "run"
    matrix = ROOT / "examples" / "service" / "matrix.yaml"
    keyword = "py311-slim and service-requirements"
    done = harness("run", str(matrix), "-k", keyword, "--out", str(out))
    assert (out / "results.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    results = Results.from_json((out / "results.json").read_text(encoding="utf-8"), "results")
    [cell] = results.cells
    tests = cell.probes.tests
    assert tests is not None and tests.artifacts is not None, cell.reason
    kept = tests.artifacts
    assert kept.folder == artifacts_folder(cell.id, 0)
    assert kept.problem is None, kept.problem
    names = {f.path for f in kept.files}
    assert ".pytest_cache/v/cache/lastfailed" in names, names
    lastfailed = json.loads((out / kept.folder / ".pytest_cache/v/cache/lastfailed").read_text())
    assert any("test_records_copy_with_changes" in test for test in lastfailed)
    assert kept.total_bytes == sum(f.bytes or 0 for f in kept.files)
