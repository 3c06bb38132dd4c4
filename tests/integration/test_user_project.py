"""The user's own project on two stand-in bases, for real: examples/service installed from
its requirements file and from its uv.lock, its pytest suite run inside each cell, and the
one test that needs Python 3.13 (copy.replace) failing on 3.11 and passing on 3.13, named in
results.json, report.html, summary.md, junit.xml and `harness compare`. Plus the mistakes:
a missing requirements file and an unsupported lock file (exit 2 before the run) and a test
command that does not exist (the cell's own reason)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration

EXAMPLE = ROOT / "examples" / "service"
VERSION_TEST = "tests.test_stock::test_records_copy_with_changes"
DEPSETS = ("service-requirements", "service-locked")


def _project_copy(tmp_path: Path) -> Path:
    """The example, plus a depset whose test command does not exist (on py311 only)."""
    folder = tmp_path / "service"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    spec = yaml.safe_load((folder / "matrix.yaml").read_text())
    spec["depsets"]["no-such-runner"] = {
        "source": ".",
        "tests": {"command": "nosuchrunner --all", "junit": True},
    }
    spec["cells"] = {"exclude": [{"base": "py313-slim", "depset": "no-such-runner"}]}
    (folder / "matrix.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


@pytest.fixture(scope="module")
def service_run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    folder = _project_copy(tmp_path_factory.mktemp("project"))
    out = folder / "reports" / "run"
    done = harness("run", str(folder / "matrix.yaml"), "--out", str(out), "--jobs", "2")
    assert (out / "results.json").exists(), done.stdout[-4000:] + done.stderr[-4000:]
    compared = harness("compare", "py311-slim", "py313-slim", "--run", str(out))
    return {
        "out": out,
        "done": done,
        "compare": compared,
        "results": json.loads((out / "results.json").read_text()),
    }


def _cells(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in run["results"]["cells"]}


@pytest.mark.parametrize("depset", DEPSETS)
def test_the_suite_runs_in_each_cell_and_the_python_313_test_splits_the_bases(
    service_run: dict[str, Any], depset: str
) -> None:
    cells = _cells(service_run)
    old, new = cells[f"py311-slim×{depset}"], cells[f"py313-slim×{depset}"]
    for cell in (old, new):
        names = [s["name"] for s in cell["steps"]]
        why = f"{cell['id']}: {cell['status']}: {cell['reason']}\n{cell['steps'][-1]['log_tail']}"
        assert names[-1] == "probe:tests" and "pip-install" in names, why
        assert {d["name"].lower() for d in cell["distributions"]} >= {"flask", "pytest", "werkzeug"}
        assert cell["probes"]["tests"]["junit"]["tests"] == 8
    assert new["status"] == "passed" and new["probes"]["tests"]["junit"]["failed"] == 0
    assert old["status"] == "failed"
    assert old["reason"] == f"tests: 1 of 8 failed: {VERSION_TEST}"
    junit = old["probes"]["tests"]["junit"]
    assert (junit["passed"], junit["failed"], junit["errors"], junit["skipped"]) == (7, 1, 0, 0)
    assert junit["failing"][0]["name"] == VERSION_TEST
    assert "copy" in junit["failing"][0]["message"]  # the AttributeError, from the XML


def test_the_lockfile_cell_installed_the_locked_pins_with_hashes(
    service_run: dict[str, Any],
) -> None:
    cell = _cells(service_run)["py313-slim×service-locked"]
    pip = next(s for s in cell["steps"] if s["name"] == "pip-install")
    assert "-r /harness/user/lock/uv.lock.requirements.txt" in pip["command"]
    exported = service_run["out"] / "inputs" / "service-locked" / "uv.lock.requirements.txt"
    assert "--hash=sha256:" in exported.read_text()
    versions = {d["name"].lower(): d["version"] for d in cell["distributions"]}
    assert versions["flask"] == "3.1.3" and versions["pytest"] == "9.2.0"
    assert any(s["name"] == "project-install" and s["status"] == "passed" for s in cell["steps"])
    dockerfile = cell["reproducer"]["dockerfile"]
    assert "COPY . /harness/user/0" in dockerfile and "python -m pytest -q tests" in dockerfile


def test_a_test_command_that_does_not_exist_is_the_cells_reason(
    service_run: dict[str, Any],
) -> None:
    cell = _cells(service_run)["py311-slim×no-such-runner"]
    assert cell["status"] == "failed"
    assert cell["reason"] == "tests: command not found: nosuchrunner"


def test_every_document_names_the_failing_test(service_run: dict[str, Any]) -> None:
    out = service_run["out"]
    assert service_run["done"].returncode == 1  # failing suites fail the run
    report = (out / "report.html").read_text()
    assert "test suite" in report and VERSION_TEST in report
    summary = (out / "summary.md").read_text()
    assert "### Test suites" in summary and f"`{VERSION_TEST}`" in summary
    assert "7 passed, 1 failed of 8" in summary
    root = ET.parse(out / "junit.xml").getroot()
    case = next(
        c
        for c in root.iter("testcase")
        if c.get("classname") == "py311-slim×service-locked" and c.get("name") == "probe:tests"
    )
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["harness.tests.failed"] == "1" and props["harness.tests.passed"] == "7"
    assert props["harness.tests.failing"] == VERSION_TEST
    failure = case.find("failure")
    assert failure is not None and VERSION_TEST in (failure.text or "")


def test_compare_names_the_test_failing_on_311_only(service_run: dict[str, Any]) -> None:
    assert service_run["compare"].returncode == 0, service_run["compare"].stderr
    text = (service_run["out"] / "compare-py311-slim-vs-py313-slim.md").read_text()
    line = f"- failing on py311-slim, passing on py313-slim: `{VERSION_TEST}`"
    assert text.count(line) == 2  # once per depset
    assert "works only on py313-slim" in text


@pytest.mark.parametrize(
    "depset, words",
    [
        ({"requirements": ["requirements-missing.txt"]}, "depsets.svc.requirements.0"),
        ({"lockfile": "Pipfile.lock"}, "not a supported lock file"),
    ],
)
def test_mistakes_in_the_users_files_are_exit_2_before_any_container(
    tmp_path: Path, depset: dict[str, Any], words: str
) -> None:
    folder = _project_copy(tmp_path)
    (folder / "Pipfile.lock").write_text("{}")
    spec = {"version": 1, "bases": {"a": {"image": "python:3.11-slim"}}, "depsets": {"svc": depset}}
    (folder / "bad.yaml").write_text(yaml.safe_dump(spec))
    done = harness("run", str(folder / "bad.yaml"), "--out", str(tmp_path / "never"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr
    assert not (tmp_path / "never" / "results.json").exists()
