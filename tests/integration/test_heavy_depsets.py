"""The heavy dependency sets of the default matrix, for real, on the Python 3.11 stand-in:
torch (CPU), transformers and openai-whisper. Marked `heavy` (make test-heavy; CI runs
them too while the suite stays inside its budget)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, harness

pytestmark = [pytest.mark.integration, pytest.mark.heavy]


# docker_client: requested for its side effect (an engine, or a clear failure);
# marks on fixtures have no effect, so no usefixtures here.
@pytest.fixture(scope="module")
def heavy_run(
    tmp_path_factory: pytest.TempPathFactory, docker_client: Any
) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("heavy") / "run"
    keyword = "py311-slim and (torch-cpu or transformers or whisper)"
    # --keep: the torch container stays, so its folder can be measured with du afterwards
    done = harness(
        "run", str(ROOT / "matrix.yaml"), "-k", keyword, "--out", str(out), "-j", "2", "--keep"
    )
    assert (out / "results.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    yield {c["depset"]: c for c in results["cells"]}
    label = f"harness.run={results['run']['id']}"
    for container in docker_client.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)


def smoke(cell: dict[str, Any], probe: str) -> dict[str, Any]:
    assert cell["status"] == "passed", (cell["reason"], cell["steps"][-1].get("log_tail"))
    output = dict(cell["probes"][probe])
    assert output["status"] == "passed" and output["offline"] is True
    return output


def test_torch_cpu_forward_and_backward(heavy_run: dict[str, Any]) -> None:
    facts = smoke(heavy_run["torch-cpu"], "smoke_torch")
    assert facts["cuda_build"] is False
    assert facts["torch_version"].endswith("+cpu")
    assert facts["blas"]  # the BLAS backend torch was built with
    torch = next(d for d in heavy_run["torch-cpu"]["distributions"] if d["name"] == "torch")
    assert torch["source"] == "wheelhouse" and torch["wheel"]


def test_torch_distribution_size_is_its_folder_on_disk(
    heavy_run: dict[str, Any], docker_client: Any
) -> None:
    """The contents probe's size of torch (its RECORD's files, counted once) against `du -sb`
    of the torch folder in the cell's own container: within 10 %, since the distribution
    also holds torchgen, functorch, its scripts and its .dist-info."""
    cell = heavy_run["torch-cpu"]
    dists = cell["probes"]["contents"]["distributions"]
    torch = next(d for d in dists if d["normalised_name"] == "torch")
    container = docker_client.containers.get(cell["container"])
    du = container.exec_run(
        ["sh", "-c", "du -sb /opt/harness-venv/lib/python3*/site-packages/torch"]
    )
    assert du.exit_code == 0, du.output
    on_disk = int(du.output.split()[0])
    assert on_disk > 100_000_000  # a real torch, not an empty folder
    assert abs(torch["size_bytes"] - on_disk) <= 0.10 * on_disk, (torch["size_bytes"], on_disk)
    steps = {s["name"]: s.get("bytes_added") for s in cell["steps"]}
    assert steps["pip-install"] >= torch["size_bytes"]  # the layer holds at least torch


def test_transformers_tiny_models_round_trip(heavy_run: dict[str, Any]) -> None:
    facts = smoke(heavy_run["transformers"], "smoke_transformers")
    assert facts["generated_ids"] and facts["weights"]


def test_whisper_transcribes_and_its_costs_are_visible(heavy_run: dict[str, Any]) -> None:
    cell = heavy_run["whisper"]
    facts = smoke(cell, "smoke_whisper")
    assert {"model_build", "load_audio", "transcribe"} <= set(facts["timings"])
    assert facts["triton"]["installed"] and facts["triton"]["bytes"] > 100_000_000
    whisper = next(d for d in cell["distributions"] if d["name"] == "openai-whisper")
    assert whisper["wheel"] is False  # an sdist, built here


@pytest.mark.usefixtures("docker_client")
def test_no_cpu_wheel_is_an_environment_limit_not_a_failure(tmp_path: Path) -> None:
    """torch on a Python for which no CPU wheel can be reached: `unavailable`, with why."""
    matrix = tmp_path / "m.yaml"
    text = (ROOT / "matrix.yaml").read_text()
    text = text.replace("wheelhouses: [/opt/wheels]", "wheelhouses: []")
    text = text.replace("path: bases/", f"path: {ROOT}/bases/")  # the copy lives elsewhere
    matrix.write_text(text)
    out = tmp_path / "run"
    done = harness("run", str(matrix), "-k", "py311-slim and torch-cpu", "--out", str(out))
    assert (out / "results.json").exists(), done.stdout[-2000:] + done.stderr[-2000:]
    cell = json.loads((out / "results.json").read_text())["cells"][0]
    assert cell["status"] == "unavailable", cell["steps"][-1]["log_tail"]
    assert "no CPU build of torch" in cell["reason"]
    assert done.returncode == 0  # a limit of the environment does not fail the run
