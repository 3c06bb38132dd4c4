"""The whole pipeline on the real engine: matrix → containers → results.json → report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.documents.sbom import validate_sbom

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
    assert names == ["venv", "pip-install", "probe:env", "probe:imports", "probe:contents"]
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


def _sbom(out: Path, relative: str) -> dict[str, Any]:
    text = (out / relative).read_text(encoding="utf-8")
    assert validate_sbom(text) == [], relative
    document: dict[str, Any] = json.loads(text)
    return document


def _purls(document: dict[str, Any]) -> list[str]:
    return [str(c.get("purl")) for c in document.get("components") or [] if c.get("purl")]


def test_contents_probe_and_sboms(integration_run: dict[str, Any]) -> None:
    out: Path = integration_run["out"]
    spacy_cell = cells(integration_run)["py311×spacy"]
    contents = spacy_cell["probes"]["contents"]
    assert contents["status"] == "passed", contents
    spacy = next(d for d in contents["distributions"] if d["normalised_name"] == "spacy")
    assert spacy["version"] and spacy["wheel_tags"], spacy
    assert spacy["size_bytes"] > 1_000_000
    index = json.loads((out / "sbom" / "index.json").read_text(encoding="utf-8"))
    entries = {e["path"]: e for e in index["sboms"]}
    assert all(e["valid"] for e in entries.values()), [e["errors"] for e in entries.values()]
    spacy_sbom = _sbom(out, "sbom/py311_x_spacy.r0.cdx.json")
    assert f"pkg:pypi/spacy@{spacy['version']}" in _purls(spacy_sbom)
    component = next(c for c in spacy_sbom["components"] if c.get("name") == "spacy")
    properties = [(p["name"], p["value"]) for p in component.get("properties") or []]
    assert component["version"] == spacy["version"]
    # one property per tag of the wheel's (compressed) tag set, e.g. cp311-cp311-manylinux_…
    tags = {value for name, value in properties if name == "harness:wheel-tag"}
    assert tags == set(spacy["wheel_tags"]) and any("manylinux" in t for t in tags), tags
    assert ("harness:built-from-source", "false") in properties
    ffmpeg_purls = _purls(_sbom(out, "sbom/py311_x_ffmpeg.r0.cdx.json"))
    assert any(p.startswith("pkg:deb/debian/ffmpeg@") for p in ffmpeg_purls), ffmpeg_purls
    base_purls = _purls(_sbom(out, "sbom/py311.cdx.json"))
    assert not any(p.startswith("pkg:deb/debian/ffmpeg@") for p in base_purls)
    assert any(p.startswith("pkg:deb/debian/libc6@") for p in base_purls)
    assert entries["sbom/py311.cdx.json"]["vulnerabilities"]["scanned"] is False
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "What it is made of" in html and 'href="sbom/py311_x_spacy.r0.cdx.json"' in html
    assert "not scanned: no vulnerability database; see README" in html
    listed = integration_run["out"] / "results.json"
    assert json.loads(listed.read_text())["sboms"]["sboms"] == index["sboms"]


def test_bytes_added_per_install_step_add_up_to_the_size_added(
    integration_run: dict[str, Any],
) -> None:
    for cell_id in ("py311×tiny", "py311×ffmpeg", "py311×spacy"):
        cell = cells(integration_run)[cell_id]
        steps = {s["name"]: s.get("bytes_added") for s in cell["steps"] if s["kind"] == "install"}
        assert steps["venv"] > 1_000_000 and steps.get("pip-install", 1) > 0, (cell_id, steps)
        accounted = cell["size_start_bytes"] + sum(steps.values()) + cell["size_probes_bytes"]
        assert accounted == cell["size_added_bytes"], cell_id
        assert 0 <= cell["size_probes_bytes"] < 0.01 * cell["size_added_bytes"], cell_id
        assert cell["size_measure_seconds"] > 0
    ffmpeg = cells(integration_run)["py311×ffmpeg"]
    system = next(s for s in ffmpeg["steps"] if s["name"] == "system-packages")
    assert system["bytes_added"] > 50_000_000  # ffmpeg and its libraries, lists removed


def test_no_labelled_container_is_left(integration_run: dict[str, Any], docker_client: Any) -> None:
    run_id = integration_run["results"]["run"]["id"]
    left = docker_client.containers.list(all=True, filters={"label": f"harness.run={run_id}"})
    assert left == []
