"""The musl stand-in for python:3.15-alpine, for real. It takes about ten minutes to
build the first time, more than CI's budget allows beside the rest: `make test-musl`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ROOT, harness

pytestmark = [pytest.mark.integration, pytest.mark.musl]


# docker_client: requested for its side effect (an engine, or a clear failure);
# marks on fixtures have no effect, so no usefixtures here.
@pytest.fixture(scope="module")
def musl_run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    out = tmp_path_factory.mktemp("musl") / "run"
    keyword = "py315-alpine and (spacy or torch-cpu or ffmpeg)"
    done = harness("run", str(ROOT / "matrix.yaml"), "-k", keyword, "--out", str(out), timeout=3600)
    assert (out / "results.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def cells(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["depset"]: c for c in results["cells"]}


def test_the_base_is_a_labelled_musl_userland(musl_run: dict[str, Any]) -> None:
    base = next(b for b in musl_run["bases"] if b["name"] == "py315-alpine")
    assert base["status"] == "available", base.get("reason")
    assert base["standin"].startswith("stand-in for python:3.15-alpine: musl 1.2.6")
    assert base["libc"]["family"] == "musl" and base["libc"]["version"].startswith("1.2")
    assert "ld-musl" in base["libc"]["interpreter"]
    assert base["size_bytes"] < 80_000_000


def test_spacy_installs_musllinux_wheels_and_runs(musl_run: dict[str, Any]) -> None:
    spacy = cells(musl_run)["spacy"]
    assert spacy["status"] == "passed", spacy["reason"]
    families = {d["family"] for d in spacy["distributions"]}
    assert "musllinux" in families and "manylinux" not in families
    assert spacy["probes"]["smoke_spacy"]["status"] == "passed"


def test_torch_is_the_declared_expected_failure(musl_run: dict[str, Any]) -> None:
    """On musl the missing torch wheel is a fact (no index has one), declared once for
    every musl base; it comes before the depset's environment limit (run/classify.py)."""
    torch = cells(musl_run)["torch-cpu"]
    assert torch["status"] == "expected-failure", torch["reason"]
    assert "71381" in torch["expected_failure"]["link"]
    assert torch["steps"][-1]["failure_kind"] == "no-matching-distribution"


def test_system_packages_on_a_stand_in_without_apk_are_a_limit_of_here(
    musl_run: dict[str, Any],
) -> None:
    """The stand-in has no apk; python:3.15-alpine has one: not a property of the base."""
    ffmpeg = cells(musl_run)["ffmpeg"]
    assert ffmpeg["status"] == "unavailable", ffmpeg["reason"]
    assert ffmpeg["environment_limit"].startswith(
        "this stand-in for python:3.15-alpine has no package manager"
    )


def test_every_available_base_reports_its_libc(musl_run: dict[str, Any]) -> None:
    assert all(b.get("libc") for b in musl_run["bases"] if b["status"] == "available")
