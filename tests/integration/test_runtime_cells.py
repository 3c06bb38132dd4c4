"""Runtime cells for real (issue 27), on the stand-ins of tests/matrices/multistage.yaml:
spaCy single stage on the slim stand-in, slim → slim (multi-stage) and slim builder →
distroless-like runtime (no shell, no pip, uid 65532), each passing its smoke probe in
the image it ships; the runtime-only image smaller than the single-stage one; a venv
copied to a runtime whose python lives elsewhere stops with the reason; a team's suite
in the distroless-like runtime (also read-only) recorded as in a single-stage cell: its
JUnit counts, its failing test by name, and its artifacts in the run dir.

Run with ``PYTHONPATH=$PWD`` so the ``harness`` subprocess imports this checkout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration

MATRIX = ROOT / "tests" / "matrices" / "multistage.yaml"
LABELS = {"harness.test": "runtime-cells"}


# docker_client: requested for its side effect (an engine, or a clear failure).
@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    out = tmp_path_factory.mktemp("runtime-cells") / "out"
    done = harness("run", str(MATRIX), "--out", str(out), "--jobs", "2", timeout=3000)
    results = out / "results.json"
    assert results.exists(), f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    data = json.loads(results.read_text())
    return {
        "out": out,
        "cells": {c["id"]: c for c in data["cells"]},
        "bases": {b["name"]: b for b in data["bases"]},
    }


def passed_in_the_image_it_ships(cell: dict[str, Any]) -> None:
    assert cell["status"] == "passed", cell["reason"]
    assert cell["probes"]["smoke_spacy"]["status"] == "passed"
    assert cell["probes"]["imports"]["status"] == "passed"


def test_spacy_single_stage(run: dict[str, Any]) -> None:
    cell = run["cells"]["py311-slim×spacy"]
    passed_in_the_image_it_ships(cell)
    assert cell.get("runtime") is None


def test_spacy_slim_to_slim_copies_the_venv(run: dict[str, Any]) -> None:
    cell = run["cells"]["py311-slim-runtime×spacy"]
    passed_in_the_image_it_ships(cell)
    runtime = cell["runtime"]
    assert runtime["builder"] == "py311-slim" and runtime["form"] == "venv"
    assert runtime["python"] == "/opt/harness-venv/bin/python"
    assert runtime["copied_bytes"] > 50_000_000  # spaCy, numpy, thinc, ...
    names = [s["name"] for s in cell["steps"]]
    assert names.index("pip-install") < names.index("runtime-copy") < names.index("probe:env")
    assert "FROM harness-standin/bookworm-py3.11:" in cell["reproducer"]["dockerfile"]
    assert "COPY --from=builder /opt/harness-venv" in cell["reproducer"]["dockerfile"]


def test_spacy_on_the_distroless_like_runtime(run: dict[str, Any], docker_client: Any) -> None:
    cell = run["cells"]["distroless-py311×spacy"]
    passed_in_the_image_it_ships(cell)
    runtime = cell["runtime"]
    # The venv's python is /usr/local/bin/python3.11 in the builder: site-packages is copied.
    assert runtime["form"] == "site-packages"
    assert runtime["python"] == "/usr/bin/python3.11"
    assert runtime["environment"] == {"PYTHONPATH": runtime["copied_to"]}
    assert (runtime["uid"], runtime["shell"]) == (65532, False)
    probes = [s for s in cell["steps"] if s["name"].startswith("probe:")]
    assert probes and all(s["user"] == "65532" for s in probes)
    assert cell["probes"]["env"]["python"]["executable"] == "/usr/bin/python3.11"
    # No shell in the image the probes ran in.
    image = run["bases"]["distroless-py311"]["image_id"]
    with pytest.raises((docker.errors.APIError, docker.errors.ContainerError)):
        docker_client.containers.run(
            image, ["-c", "true"], entrypoint=["/bin/sh"], network_mode="none",
            remove=True, labels=LABELS,
        )  # fmt: skip


def test_the_runtime_only_image_is_smaller(run: dict[str, Any]) -> None:
    single = run["cells"]["py311-slim×spacy"]
    slim_base = run["bases"]["py311-slim"]["size_bytes"]
    single_stage = slim_base + single["size_added_bytes"]
    distroless = run["cells"]["distroless-py311×spacy"]["runtime"]
    slim = run["cells"]["py311-slim-runtime×spacy"]["runtime"]
    assert distroless["final_image_bytes"] < slim["final_image_bytes"] <= single_stage
    assert distroless["final_image_bytes"] < distroless["single_stage_bytes"]
    assert distroless["left_behind_bytes"] > 0
    # The builder's pip stays behind (the distroless-like runtime has none).
    assert any(item["kind"] == "pip" for item in distroless["left_behind"])
    # Measured, not made up: the runtime image plus what was copied, give or take metadata.
    parts = distroless["runtime_image_bytes"] + distroless["copied_bytes"]
    assert abs(distroless["final_image_bytes"] - parts) < 0.05 * parts


def test_the_final_images_are_measured_like_the_single_stage_cell(run: dict[str, Any]) -> None:
    """Compressed size and memory peaks for runtime cells too (checked against docker save
    in tests/integration/test_runtime_image_size.py)."""
    single = run["cells"]["py311-slim×spacy"]
    for name in ("py311-slim-runtime×spacy", "distroless-py311×spacy"):
        cell = run["cells"][name]
        base = run["bases"][cell["base"]]
        layer = cell["image_layer_compressed_bytes"]
        assert cell["image_compressed_bytes"] == base["compressed_bytes"] + layer
        assert cell["image_size_bytes"] == cell["runtime"]["final_image_bytes"]
        assert cell["memory_peak_install_bytes"] > 0 and cell["memory_peak_bytes"] > 0
    distroless = run["cells"]["distroless-py311×spacy"]
    assert distroless["image_compressed_bytes"] < single["image_compressed_bytes"]


def test_a_venv_copied_to_another_python_path_stops_with_the_reason(run: dict[str, Any]) -> None:
    cell = run["cells"]["distroless-venv×spacy"]
    assert cell["status"] == "unsupported"
    assert cell["reason"].startswith(
        "builder python at /usr/local/bin/python3.11, runtime has /usr/bin/python3.11: "
        "a venv copied across does not start"
    )
    assert not [s for s in cell["steps"] if s["name"] == "pip-install"]  # known before


def test_read_only_root_reports_what_breaks(run: dict[str, Any]) -> None:
    cell = run["cells"]["distroless-read-only×spacy"]
    runtime = cell["runtime"]
    assert runtime["read_only"] is True
    assert isinstance(runtime["read_only_breaks"], list)
    failed = [f"{s['name']}: " for s in cell["steps"] if s["status"] != "passed"]
    assert all(b.split(": ")[0] + ": " in failed for b in runtime["read_only_breaks"])
    assert cell["probes"]["env"]["status"] == "passed"
    # the team's suite fails one test on purpose there: that is not the read-only root's
    suite = run["cells"]["distroless-read-only×suite"]
    assert suite["status"] == "failed"
    assert not [b for b in suite["runtime"]["read_only_breaks"] if b.startswith("probe:tests")]


@pytest.mark.parametrize("base", ["distroless-py311", "distroless-read-only"])
def test_a_teams_suite_in_a_runtime_records_counts_and_artifacts(
    run: dict[str, Any], base: str
) -> None:
    """tests/fixtures/runtime-suite: three tests, one failing on purpose, one writing
    reports/summary.txt; exec-form in a runtime with no shell, as uid 65532."""
    cell = run["cells"][f"{base}×suite"]
    failing = "tests.check_three::test_fails_on_purpose"
    assert cell["status"] == "failed" and cell["reason"] == f"tests: 1 of 3 failed: {failing}"
    tests = cell["probes"]["tests"]
    junit = tests["junit"]
    assert (junit["tests"], junit["passed"], junit["failed"]) == (3, 2, 1), tests
    assert [f["name"] for f in junit["failing"]] == [failing]
    step = next(s for s in cell["steps"] if s["name"] == "probe:tests")
    assert (step["status"], step["user"]) == ("failed", "65532")
    kept = tests["artifacts"]
    assert kept.get("problem") is None, kept["problem"]
    assert [f["path"] for f in kept["files"]] == ["reports/summary.txt"]
    written = (Path(run["out"]) / kept["folder"] / "reports" / "summary.txt").read_text()
    assert written == "ran on /usr/bin/python3.11\n"  # the runtime's own python


def test_results_and_report_render(run: dict[str, Any]) -> None:
    html = (Path(run["out"]) / "report.html").read_text()
    assert "distroless-py311" in html
