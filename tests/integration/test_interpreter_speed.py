"""A run benchmarks each base's interpreter once (pybench, network cut), caches it by
image id, records it in results.json `bases[].interpreter_speed` and shows it in the
report; the run also records its preflight next to the install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

MATRIX = """version: 1
settings: {jobs: 1, pull_timeout: 20, cpus: 1, memory: 1g}
bases:
  py311:
    image: python:3.11-slim
    standin:
      debootstrap: {suite: bookworm, python: "3.11"}
depsets:
  tiny: {pip: [six], imports: [six]}
"""


def run(folder: Path, name: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    # A cache of our own: the first run must measure, the second must find it.
    env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(folder / "matrix.yaml"),
         "--out", str(folder / name)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    results_path = folder / name / "results.json"
    assert results_path.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads(results_path.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    folder = tmp_path_factory.mktemp("speed")
    (folder / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    first, first_results = run(folder, "first")
    second, second_results = run(folder, "second")
    return {
        "folder": folder,
        "first": first,
        "first_results": first_results,
        "second": second,
        "second_results": second_results,
    }


def test_pybench_output_is_recorded_per_base(runs: dict[str, Any]) -> None:
    (base,) = runs["first_results"]["bases"]
    speed = base["interpreter_speed"]
    assert speed["status"] == "passed", speed
    assert speed["python"]["version"] == "3.11.2" and speed["seconds"] < 60
    assert set(speed["workloads"]) >= {"loops_calls", "json_round_trip", "threaded_queue"}
    for name, stats in speed["workloads"].items():
        assert stats["median_s"] > 0 and 5 <= stats["repeats"] <= 30
        # On a busy machine the 45 s budget cuts repeats, and says where.
        assert (stats["repeats"] < 30) == (name in speed["budget_cut"])
    assert "rel_iqr" in speed["startup"]["bare"]  # its own repeat-to-repeat spread
    assert "timing the interpreter" in runs["first"].stdout + runs["first"].stderr


def test_second_run_reads_the_cache(runs: dict[str, Any]) -> None:
    (first,) = runs["first_results"]["bases"]
    (second,) = runs["second_results"]["bases"]
    assert second["image_id"] == first["image_id"]
    assert second["interpreter_speed"] == first["interpreter_speed"]
    assert "timing the interpreter" not in runs["second"].stdout + runs["second"].stderr


def test_report_shows_the_interpreter_speed(runs: dict[str, Any]) -> None:
    html = (runs["folder"] / "first" / "report.html").read_text(encoding="utf-8")
    section = html.split('id="interpreter-speed"', 1)[1].split("</section>")[0]
    assert "baseline base <b>py311</b>" in section and "loops_calls" in section
    assert "stand-in build" in section and "Debian" in section


def test_run_records_its_preflight(runs: dict[str, Any]) -> None:
    (cell,) = runs["first_results"]["cells"]
    assert cell["status"] == "passed"
    assert cell["preflight"]["verdict"] == "will install from wheels"
    assert cell["preflight_mismatches"] == []
    six = next(d for d in cell["preflight"]["distributions"] if d["name"] == "six")
    assert six["kind"] == "wheel"
