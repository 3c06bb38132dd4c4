"""A runtime cell's final image, measured like a single-stage cell (issue 27): its
compressed size (the runtime base's + the copied layer's, compressed on the host from the
tar the copy streamed) is recorded, smaller than the single-stage cell's, and within the
tolerance of tests/integration/test_image_size.py of ``docker save`` of the final image
with every layer through the standard library's gzip at level 6 (not harness's code);
its memory peaks are recorded (the builder's install, the final image's probes).

Runs tests/matrices/runtime-size.yaml with ``--keep`` (the final image is left for the
check) and sweeps the run's containers and images afterwards. Needs the cached stand-ins
and PyPI. Run with ``PYTHONPATH=$PWD`` so the ``harness`` subprocess imports this checkout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.engine.client import LABEL_CELL, LABEL_RUN
from tests.conftest import ROOT, harness
from tests.integration.test_image_size import TOLERANCE, reference_image_gzip_bytes

pytestmark = pytest.mark.integration

MATRIX = ROOT / "tests" / "matrices" / "runtime-size.yaml"
SINGLE, RUNTIME = "py311-slim×small", "distroless-py311×small"


# docker_client: requested for its side effect (an engine, or a clear failure).
@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[dict[str, Any]]:  # noqa: ARG001
    out = tmp_path_factory.mktemp("runtime-size") / "out"
    done = harness("run", str(MATRIX), "--out", str(out), "--jobs", "2", "--keep", timeout=900)
    results = out / "results.json"
    assert results.exists(), f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    data = json.loads(results.read_text())
    run_id = data["run"]["id"]
    try:
        yield {
            "id": run_id,
            "out": out,
            "cells": {c["id"]: c for c in data["cells"]},
            "bases": {b["name"]: b for b in data["bases"]},
        }
    finally:  # what --keep left: this run's containers and its final image
        harness("sweep", "--run", run_id, timeout=300)


def test_the_final_image_is_measured_like_a_single_stage_cell(run: dict[str, Any]) -> None:
    single, cell = run["cells"][SINGLE], run["cells"][RUNTIME]
    assert cell["status"] == "passed", cell["reason"]
    assert single["status"] == "passed", single["reason"]
    base = run["bases"]["distroless-py311"]
    assert base["compressed_bytes"] > 0
    layer = cell["image_layer_compressed_bytes"]
    assert cell["image_compressed_bytes"] == base["compressed_bytes"] + layer
    assert cell["image_compressed_sampled"] < 1.0  # numpy: above the sampling budget
    assert cell["image_measure_seconds"] >= 0
    assert cell["image_size_bytes"] == cell["runtime"]["final_image_bytes"]
    # The runtime-only image ships less than the single-stage one, as a registry stores it.
    assert cell["image_compressed_bytes"] < single["image_compressed_bytes"]
    assert cell["image_size_bytes"] < single["image_size_bytes"]
    # Memory: the builder's install, the final image's probes (cgroup v1 here).
    assert cell["memory_peak_install_bytes"] > 0 and cell["memory_peak_bytes"] > 0
    assert "the builder's container" in cell["memory_peak_source"]
    print(
        f"runtime {cell['image_compressed_bytes']} B compressed ({layer} B layer, sampled "
        f"{cell['image_compressed_sampled']}, {cell['image_measure_seconds']} s) of "
        f"{cell['image_size_bytes']} B; single stage {single['image_compressed_bytes']} of "
        f"{single['image_size_bytes']}; memory install {cell['memory_peak_install_bytes']},"
        f" probes {cell['memory_peak_bytes']}"
    )


def test_the_compressed_size_matches_docker_save_of_the_final_image(
    run: dict[str, Any], docker_client: Any
) -> None:
    cell = run["cells"][RUNTIME]
    labels = [f"{LABEL_RUN}={run['id']}", f"{LABEL_CELL}={RUNTIME}"]
    images = docker_client.images.list(filters={"label": labels})
    assert len(images) == 1, "--keep should leave the final image"
    final = images[0]
    reference, layers = reference_image_gzip_bytes(docker_client, str(final.id))
    measured = cell["image_compressed_bytes"]
    assert abs(measured - reference) / reference < TOLERANCE
    copied = cell["image_layer_compressed_bytes"]
    assert abs(copied - layers[-1]) / layers[-1] < TOLERANCE
    assert cell["image_size_bytes"] == int(final.attrs["Size"])
    print(
        f"measured {measured} vs docker save | gzip -6 {reference}; layer {copied} vs {layers[-1]}"
    )


def test_the_decision_shows_the_runtime_cells_figures(run: dict[str, Any]) -> None:
    from harness.analysis.decision import NOT_MEASURED, decide
    from harness.store.rundir import read_results

    decision = decide(read_results(run["out"] / "results.json"))
    candidate = next(c for c in decision.candidates if c.base == "distroless-py311")
    rows = {row.driver: row for row in candidate.rows}
    for driver in ("size", "memory", "pull_size"):
        if driver in rows:
            assert NOT_MEASURED not in rows[driver].candidate, rows[driver]
    assert "memory" in rows and "size" in rows
