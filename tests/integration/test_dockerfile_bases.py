"""A user's Dockerfile base: its failed build fails the run with a clean reason and a
full log in logs/; a build whose RUN pip install needs the proxy's CA gets it; a
multi-stage Dockerfile built FROM a stand-in imports what it copied and is labelled with
that stand-in (issue 25); a Dockerfile's build stage (``target:``) is the builder of a
runtime cell whose runtime is the same Dockerfile's final stage (issue 27)."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest

from tests.conftest import ROOT, harness

DOCKERFILES = ROOT / "tests" / "fixtures" / "dockerfiles"
MATRIX = """\
version: 1
settings: {jobs: 1, install_timeout: 600, probe_timeout: 120, memory: 2g, cpus: 1, pull_timeout: 10}
bases:
  py311:
    image: python:3.11-slim
    standin:
      debootstrap: {suite: bookworm, python: "3.11"}
  team-fails:
    description: the team's base layer (its RUN fails)
    dockerfile: {path: fails/Dockerfile, base_args: {BASE: py311}}
    python: python3.11
  team-ca:
    description: the team's base layer, which pip-installs from PyPI while building
    dockerfile: {path: needs-ca/Dockerfile, base_args: {BASE: py311}}
    python: python3.11
  team-multi:
    description: the team's multi-stage image, written for python:3.11-slim
    dockerfile: {path: multi-stage/Dockerfile, base_args: {BASE: py311}}
    python: python
  team-build:
    description: the build stage of the team's multi-stage Dockerfile
    dockerfile: {path: multi-stage/Dockerfile, base_args: {BASE: py311}, target: builder}
    python: python
  team-shipped:
    description: the final stage of the same Dockerfile, with the depset copied from its build stage
    dockerfile: {path: multi-stage/Dockerfile, base_args: {BASE: py311}}
    python: python
    builder: team-build
depsets:
  tiny: {pip: [six], imports: [six]}
cells:
  exclude: [{base: py311}]
"""


@pytest.fixture(scope="module")
def team_run(
    tmp_path_factory: pytest.TempPathFactory,
    docker_client: Any,  # noqa: ARG001 (the engine must be there first)
) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("dockerfiles")
    for name in ("fails", "needs-ca", "multi-stage"):
        shutil.copytree(DOCKERFILES / name, work / name)
    (work / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    done = harness("run", str(work / "matrix.yaml"), "--out", str(work / "run"))
    results = json.loads((work / "run" / "results.json").read_text())
    return {"out": work / "run", "done": done, "results": results}


def six_path(docker_client: Any, image_id: str) -> str:
    """Where six imports from in the image, network cut."""
    output = docker_client.containers.run(
        image_id,
        ["python", "-c", "import six; print(six.__file__)"],
        entrypoint=[],
        network_mode="none",
        remove=True,
        labels={"harness.test": "dockerfile-bases"},
    )
    return bytes(output).decode().strip()


def _base(run: dict[str, Any], name: str) -> dict[str, Any]:
    return next(b for b in run["results"]["bases"] if b["name"] == name)


@pytest.mark.integration
def test_a_failed_dockerfile_base_fails_the_run_and_says_why(team_run: dict[str, Any]) -> None:
    base = _base(team_run, "team-fails")
    assert base["status"] == "failed" and base["failure_kind"] == "base-build-failed"
    reason = base["reason"]
    assert "libteam.so: cannot open shared object file" in reason
    assert reason.endswith("the RUN step returned a non-zero code: 3")
    assert "\x1b" not in reason and len(reason) < 500
    log = team_run["out"] / "logs" / "base-team-fails.log"
    assert "compiling the team base layer" in log.read_text(encoding="utf-8")
    [cell] = [c for c in team_run["results"]["cells"] if c["base"] == "team-fails"]
    assert cell["status"] == "failed" and cell["failure_kind"] == "base-build-failed"
    assert team_run["done"].returncode == 1
    console = team_run["done"].stdout + team_run["done"].stderr
    assert "team-fails: FAILED to build" in console
    # the steps were shown as they ran
    assert re.search(r"team-fails: building: Step 3/\d+ : RUN printf", console), console[-3000:]
    html = (team_run["out"] / "report.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="base-team-fails">(.*?)</tr>', html, re.S)
    assert row and "official image" not in row.group(1) and "your Dockerfile" in row.group(1)


@pytest.mark.integration
def test_a_dockerfile_base_gets_the_ca_bundle_for_its_own_pip(team_run: dict[str, Any]) -> None:
    base = _base(team_run, "team-ca")
    assert base["status"] == "available", base.get("reason")
    assert base["origin"] == "dockerfile"
    [cell] = [c for c in team_run["results"]["cells"] if c["base"] == "team-ca"]
    assert cell["status"] == "passed", cell.get("reason")


@pytest.mark.integration
def test_a_multi_stage_dockerfile_on_a_standin_imports_what_it_copied_and_names_it(
    team_run: dict[str, Any], docker_client: Any
) -> None:
    base = _base(team_run, "team-multi")
    assert base["status"] == "available", base.get("reason")
    # what it copied from its builder stage imports in the final image
    assert six_path(docker_client, base["image_id"]).startswith("/usr/local/lib/python3.11/")
    # recorded: what it was built FROM, and that this was a stand-in
    py311 = _base(team_run, "py311")
    arg = base["base_args"]["BASE"]
    assert arg["base"] == "py311" and arg["origin"] == "stand-in"
    assert arg["image_id"] == py311["image_id"] and arg["standin"] == py311["standin"]
    assert base["image"].startswith("harness-build/team-multi:")
    # labelled with its stand-in wherever the origin shows
    html = (team_run["out"] / "report.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="base-team-multi">(.*?)</tr>', html, re.S)
    assert row and "FROM py311" in row.group(1) and "stand-in" in row.group(1), row
    summary = (team_run["out"] / "summary.md").read_text(encoding="utf-8")
    assert "your Dockerfile, FROM py311 (stand-in)" in summary
    [cell] = [c for c in team_run["results"]["cells"] if c["base"] == "team-multi"]
    assert cell["status"] == "passed", cell.get("reason")


@pytest.mark.integration
def test_a_dockerfile_build_stage_is_the_builder_of_its_final_stage(
    team_run: dict[str, Any], docker_client: Any
) -> None:
    build = _base(team_run, "team-build")
    assert build["status"] == "available", build.get("reason")
    assert build["reference"] == "multi-stage/Dockerfile, stage builder"
    # the build stage is its own image: pip and the builder's six are in it
    assert six_path(docker_client, build["image_id"]).startswith("/usr/local/lib/python3.11/")
    assert build["image_id"] != _base(team_run, "team-shipped")["image_id"]
    [cell] = [c for c in team_run["results"]["cells"] if c["base"] == "team-shipped"]
    assert cell["status"] == "passed", cell.get("reason")
    assert cell["runtime"]["builder"] == "team-build"
    assert cell["runtime"]["final_image_bytes"] > 0
