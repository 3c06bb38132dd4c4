"""Two real runs of one matrix where something changed: the nightly diff names it, the
exit code follows the rules, and compare / adr / JUnit work from the real results."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration

MATRIX = """
version: 1
settings: {{jobs: 2, timeout: 300, memory: 1g, cpus: 1, history_dir: reports/history}}
bases:
  py311:
    image: python:3.11-slim
    standin:
      debootstrap: {{suite: bookworm, python: "3.11"}}
  nopm:
    dockerfile: {{path: {nopm}, base_args: {{BASE: py311}}}}
    python: python3.11
depsets:
  pinned: {{pip: ["six=={six}"], imports: [six]}}
  flaky: {{pip: ["{flaky}"]}}
"""


def write_matrix(path: Path, six: str, flaky: str) -> None:
    nopm = ROOT / "tests" / "matrices" / "nopm" / "Dockerfile"
    path.write_text(MATRIX.format(nopm=nopm, six=six, flaky=flaky))


# docker_client: requested for its side effect (an engine, or a clear failure);
# marks on fixtures have no effect, so no usefixtures here.
@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    work = tmp_path_factory.mktemp("nightly")
    matrix, reports = work / "matrix.yaml", work / "reports"
    write_matrix(matrix, six="1.16.0", flaky="idna")
    first = harness("run", str(matrix), "--out", str(reports / "a-run"))
    # Run ids sort by time; the out dir names only need to sort the same way.
    write_matrix(matrix, six="1.17.0", flaky="harness-no-such-distribution-4f1e")
    second = harness("run", str(matrix), "--out", str(reports / "b-run"))
    return {"work": work, "reports": reports, "first": first, "second": second}


def test_exit_codes_follow_the_rules(two_runs: dict[str, Any]) -> None:
    assert two_runs["first"].returncode == 0, two_runs["first"].stdout[-2000:]
    assert two_runs["second"].returncode == 1  # flaky now fails


def test_the_diff_names_what_changed(two_runs: dict[str, Any]) -> None:
    reports = two_runs["reports"]
    diff_md = (reports / "b-run" / "diff.md").read_text()
    assert "1.16.0" in diff_md and "1.17.0" in diff_md  # the pin bump, named
    assert "py311×flaky" in diff_md and "failed" in diff_md  # the status change
    done = harness("diff", str(reports / "a-run"), str(reports / "b-run"))
    assert done.returncode == 0 and "six" in done.stdout
    assert "changes since" in two_runs["second"].stdout


def test_junit_has_one_testcase_per_cell_and_step(two_runs: dict[str, Any]) -> None:
    results = json.loads((two_runs["reports"] / "b-run" / "results.json").read_text())
    steps = sum(max(1, len(c["steps"])) for c in results["cells"])
    cases = ET.parse(two_runs["reports"] / "b-run" / "junit.xml").getroot().iter("testcase")
    assert len(list(cases)) == steps


def test_history_keeps_both_runs(two_runs: dict[str, Any]) -> None:
    from harness.store.history import load_history

    history = load_history(two_runs["reports"] / "history")
    assert len({r.run_id for r in history}) == 2


def test_compare_and_adr_from_the_real_run(two_runs: dict[str, Any]) -> None:
    run = two_runs["reports"] / "b-run"
    done = harness("compare", "py311", "nopm", "--run", str(run))
    assert done.returncode == 0, done.stderr[-2000:]
    html = (run / "compare-py311-vs-nopm.html").read_text()
    assert "pinned" in html and "<script>" not in html.lower().replace("<script>//", "")
    adr = harness("adr", str(run), "--baseline", "py311", "--candidate", "nopm")
    assert adr.returncode == 0, adr.stderr[-2000:]
    text = (run / "adr.md").read_text()
    assert "## Considered Options" in text or "Considered Options" in text
    assert "stand-in for python:3.11-slim" in text
    results = json.loads((run / "results.json").read_text())
    assert results["run"]["id"] in text
