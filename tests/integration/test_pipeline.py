"""The whole pipeline on the real engine: matrix → containers → results.json → report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def cells(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in run["results"]["cells"]}


def test_every_cell_has_its_status(integration_run: dict[str, Any]) -> None:
    statuses = {cid: c["status"] for cid, c in cells(integration_run).items()}
    assert statuses == {
        "py311×tiny": "passed",
        "py311×broken": "failed",
        "py311×known-broken": "expected-failure",
        "py311×ffmpeg": "passed",
        "py311×spacy": "passed",
        "nopm×tiny": "unexpected-pass",
        "nopm×ffmpeg": "unsupported",
        "ghost×tiny": "unavailable",
    }, integration_run["stdout"][-3000:]


def test_a_failed_cell_sets_exit_code_1_and_the_run_goes_on(
    integration_run: dict[str, Any],
) -> None:
    assert integration_run["exit_code"] == 1
    broken = cells(integration_run)["py311×broken"]
    pip_step = broken["steps"][-1]
    assert pip_step["name"] == "pip-install" and pip_step["status"] == "failed"
    assert pip_step["failure_kind"] == "no-matching-distribution"
    assert "harness-no-such-distribution-4f1e" in pip_step["log_tail"]


def test_passed_cell_records_steps_distributions_probes_and_size(
    integration_run: dict[str, Any],
) -> None:
    tiny = cells(integration_run)["py311×tiny"]
    names = [s["name"] for s in tiny["steps"]]
    # The package manager and `timeout` come from the base's env probe: no exec per cell.
    assert names == ["venv", "pip-install", "probe:env", "probe:imports"]
    assert tiny["package_manager"] == "apt"
    assert all(s["seconds"] > 0 for s in tiny["steps"])
    six = next(d for d in tiny["distributions"] if d["name"] == "six")
    assert six["wheel"] and six["tag"].endswith("none-any")
    assert tiny["probes"]["env"]["libc"]["family"] == "glibc"
    assert tiny["probes"]["env"]["python"]["version"].startswith("3.11")
    assert tiny["probes"]["imports"]["status"] == "passed"
    assert tiny["probes_offline"] is True
    assert tiny["size_added_bytes"] > 1_000_000  # a venv at least
    assert tiny["standin"].startswith("stand-in for python:3.11-slim: Debian 12")


def test_smoke_tests_ran_offline(integration_run: dict[str, Any]) -> None:
    for cell_id, probe in (("py311×ffmpeg", "smoke_ffmpeg"), ("py311×spacy", "smoke_spacy")):
        output = cells(integration_run)[cell_id]["probes"][probe]
        assert output["status"] == "passed", output
        assert output.get("offline") is True


def test_unavailable_and_unsupported_say_why(integration_run: dict[str, Any]) -> None:
    ghost = cells(integration_run)["ghost×tiny"]
    assert "harness-test/no-such-image:never" in ghost["reason"]
    nopm = cells(integration_run)["nopm×ffmpeg"]
    assert "no package manager" in nopm["reason"]


def test_bases_are_described(integration_run: dict[str, Any]) -> None:
    bases = {b["name"]: b for b in integration_run["results"]["bases"]}
    assert bases["py311"]["status"] == "available" and bases["py311"]["size_bytes"] > 50_000_000
    assert bases["py311"]["libc"]["family"] == "glibc"
    assert bases["py311"]["standin"] is not None
    assert bases["ghost"]["status"] == "unavailable"


def test_outputs_are_written(integration_run: dict[str, Any]) -> None:
    out: Path = integration_run["out"]
    for name in ("results.json", "report.html", "junit.xml", "summary.md"):
        assert (out / name).is_file(), name
    assert len(list((out / "cells").glob("*.json"))) == 8
    html = (out / "report.html").read_text()
    assert "py311×spacy" in html and "stand-in for python:3.11-slim" in html


def test_no_labelled_container_is_left(integration_run: dict[str, Any], docker_client: Any) -> None:
    run_id = integration_run["results"]["run"]["id"]
    left = docker_client.containers.list(all=True, filters={"label": f"harness.run={run_id}"})
    assert left == []
