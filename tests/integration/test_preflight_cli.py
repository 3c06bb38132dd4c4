"""`harness preflight` on the Python 3.11 stand-in: predictions from the base's own facts,
against the real PyPI; a base that is not here is reported as such; exit 0 / 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, harness

pytestmark = [
    pytest.mark.integration,
    pytest.mark.network,
    pytest.mark.usefixtures("pypi_reachable"),
]

MISSING = "harness-no-such-distribution-4f1e"
MATRIX = f"""version: 1
settings: {{pull_timeout: 20, wheelhouses: [/opt/wheels]}}
bases:
  py311:
    image: python:3.11-slim
    standin:
      debootstrap: {{suite: bookworm, python: "3.11"}}
  ghost:
    image: harness-test/no-such-image:never
depsets:
  spacy: {{pip: [spacy]}}
  missing: {{pip: ["{MISSING}==0.0.1"]}}
  torch: {{pip: ["torch==2.13.0+cpu"]}}
  apt-only: {{system: {{apt: [ffmpeg]}}}}
"""


@pytest.fixture(scope="module")
def preflight(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    folder = tmp_path_factory.mktemp("preflight")
    (folder / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    out = folder / "out" / "preflight.json"
    done = harness("preflight", str(folder / "matrix.yaml"), "--out", str(out), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {
        "stdout": done.stdout,
        "json": json.loads(out.read_text()),
        "cells": {c["id"]: c for c in json.loads(out.read_text())["cells"]},
    }


def test_spacy_installs_from_manylinux_wheels(preflight: dict[str, Any]) -> None:
    spacy = preflight["cells"]["py311×spacy"]["prediction"]
    assert spacy["status"] == "wheels" and spacy["verdict"] == "will install from wheels"
    kinds = {d["name"]: d for d in spacy["distributions"]}
    assert kinds["spacy"]["requested"] and kinds["spacy"]["kind"] == "wheel"
    assert kinds["spacy"]["wheel_tag"].startswith("cp311-cp311-manylinux")
    assert "py311×spacy: will install from wheels" in preflight["stdout"]
    assert "  * spacy " in preflight["stdout"]  # one line per distribution, requested marked


def test_a_nonexistent_distribution_cannot_install(preflight: dict[str, Any]) -> None:
    missing = preflight["cells"]["py311×missing"]["prediction"]
    assert missing["status"] == "impossible"
    assert missing["verdict"].startswith(f"cannot install: no distribution of {MISSING}")
    assert [d["kind"] for d in missing["distributions"]] == ["none"]


def test_the_wheelhouse_is_seen(preflight: dict[str, Any]) -> None:
    torch = preflight["cells"]["py311×torch"]["prediction"]
    assert torch["status"] == "wheels", torch
    wheel = next(d for d in torch["distributions"] if d["name"] == "torch")
    assert wheel["version"] == "2.13.0+cpu"  # only /opt/wheels has it


def test_unavailable_base_and_cells_without_pip(preflight: dict[str, Any]) -> None:
    ghost = preflight["cells"]["ghost×spacy"]
    assert ghost["prediction"] is None and ghost["unavailable"].startswith("base unavailable")
    assert "ghost×spacy: not predicted: base unavailable" in preflight["stdout"]
    assert "py311×apt-only" not in preflight["cells"]
    bases = {b["name"]: b for b in preflight["json"]["bases"]}
    assert bases["py311"]["status"] == "available" and bases["py311"]["python"] == "3.11.2"


def test_keyword_selection_and_bad_matrix(tmp_path: Path) -> None:
    (tmp_path / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    out = tmp_path / "p.json"
    done = harness("preflight", str(tmp_path / "matrix.yaml"), "-k", "py311 and missing",
                   "--out", str(out), timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [c["id"] for c in json.loads(out.read_text())["cells"]] == ["py311×missing"]
    (tmp_path / "bad.yaml").write_text(MATRIX.replace("depsets:", "depsetz:"), encoding="utf-8")
    bad = harness("preflight", str(tmp_path / "bad.yaml"))
    assert bad.returncode == 2 and "bad.yaml" in bad.stderr
    none = harness("preflight", str(tmp_path / "matrix.yaml"), "-k", "nothing-like-this")
    assert none.returncode == 2 and "no cell matches" in none.stderr


def test_the_example_services_lockfile_and_requirements_are_predicted(tmp_path: Path) -> None:
    out = tmp_path / "service.json"
    matrix = ROOT / "examples" / "service" / "matrix.yaml"
    done = harness("preflight", str(matrix), "--out", str(out), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    cells = {c["depset"] + "@" + c["base"]: c for c in json.loads(out.read_text())["cells"]}
    for base in ("py311-slim", "py313-slim"):
        for depset in ("service-requirements", "service-locked"):
            cell = cells[f"{depset}@{base}"]
            prediction = cell["prediction"]
            assert prediction is not None, cell["unavailable"]
            assert prediction["status"] == "wheels", prediction["verdict"]
            names = {d["name"] for d in prediction["distributions"]}
            assert {"flask", "python-dateutil", "pytest"} <= names
        locked = cells[f"service-locked@{base}"]["prediction"]
        assert any(n.startswith("every pin of uv.lock") for n in locked["notes"])
    assert "4 cell(s) predicted" in done.stdout
