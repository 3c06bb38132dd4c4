"""uv cells for real on the Python 3.11 stand-in: ``harness run`` with ``installers: [pip,
uv]``, then what a uv cell records next to its pip twin; and uv cells that cannot have uv.

Run with ``PYTHONPATH=$PWD`` so the ``harness`` subprocess imports this checkout.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import harness

pytestmark = pytest.mark.integration

# The same base recipe as matrix.yaml's py311-slim stand-in: one cached image for both.
MATRIX = """
version: 1
settings:
  jobs: 2
  timeout: 900
  memory: 3g
  cpus: 1
  pull_timeout: 20
  installers: [pip, uv]
{extra}
bases:
  py311:
    image: python:3.11-slim
    standin:
      debootstrap: {{suite: bookworm, python: "3.11"}}
depsets:
  small:
    # requests: a few wheels from PyPI; six built from its sdist by both installers.
    pip: [requests, six]
    pip_args: [--no-binary, six]
    imports: [requests, six]
{cells}
"""


def _run(tmp_path: Path, extra: str = "", cells: str = "") -> dict[str, Any]:
    matrix = tmp_path / "m.yaml"
    matrix.write_text(MATRIX.format(extra=extra, cells=cells))
    out = tmp_path / "out"
    done = harness("run", str(matrix), "--out", str(out), "--jobs", "2")
    results = out / "results.json"
    assert results.exists(), f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return {"out": out, "done": done, "results": json.loads(results.read_text())}


# docker_client: requested for its side effect (an engine, or a clear failure);
# marks on fixtures have no effect, so no usefixtures here.
@pytest.fixture(scope="module")
def uv_run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    return _run(tmp_path_factory.mktemp("uv-cells"))


def _cell(run: dict[str, Any], cell_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in run["results"]["cells"] if c["id"] == cell_id]
    assert len(found) == 1, [c["id"] for c in run["results"]["cells"]]
    return found[0]


def _versions(cell: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {
        d["name"].lower().replace("_", "-"): (d["version"], d["wheel"])
        for d in cell["distributions"]
    }


def test_uv_cell_installs_the_same_distributions_as_its_pip_twin(uv_run: dict[str, Any]) -> None:
    pip, uv = _cell(uv_run, "py311×small"), _cell(uv_run, "py311×small+uv")
    assert (pip["status"], uv["status"]) == ("passed", "passed"), uv.get("reason")
    assert _versions(uv) == _versions(pip)  # same indexes, same day: the same resolution
    by_name = {d["name"]: d for d in uv["distributions"]}
    assert by_name["six"]["wheel"] is False and by_name["six"]["family"] == "sdist"
    requests = by_name["requests"]
    assert requests["wheel"] and requests["tag"] == "py3-none-any" and requests["requested"]
    assert {d["name"] for d in uv["distributions"] if d["requested"]} == {"requests", "six"}
    assert uv["probes"]["imports"]["status"] == "passed"  # what uv installed imports


def test_uv_cell_times_its_own_step_like_the_pip_step(uv_run: dict[str, Any]) -> None:
    uv = _cell(uv_run, "py311×small+uv")
    names = [s["name"] for s in uv["steps"]]
    assert names == ["venv", "uv-install", "probe:env", "probe:imports", "probe:contents"]
    step = uv["steps"][1]
    assert step["kind"] == "install" and step["status"] == "passed" and step["seconds"] > 0
    assert step["command"].startswith("/harness/uv/uv pip install --python ")
    assert "--no-cache" in step["command"] and "--compile-bytecode" in step["command"]
    installs = [s["seconds"] for s in uv["steps"] if s["kind"] == "install"]
    assert uv["install_seconds"] == pytest.approx(sum(installs), abs=0.01)
    own = step["uv_seconds"]  # uv's own account, inside the step's wall time
    assert {"resolved", "prepared", "installed", "bytecode compiled"} <= set(own)
    assert sum(own.values()) < step["seconds"]


def test_uv_cell_records_the_binary_it_ran(uv_run: dict[str, Any]) -> None:
    uv = _cell(uv_run, "py311×small+uv")
    fetched = uv_run["results"]["run"]["installers"]["uv"]["x86_64"]
    installer = uv["installer"]
    assert installer["name"] == "uv" and installer["version"] == fetched["version"]
    assert installer["index_strategy"] == "unsafe-best-match" and installer["static"] is True
    ran = subprocess.run([fetched["path"], "--version"], capture_output=True, text=True)
    assert ran.stdout.split()[1] == installer["version"]
    pip = _cell(uv_run, "py311×small")["installer"]
    assert pip["name"] == "pip" and pip["version"]  # from pip's own --report


def test_report_and_compare_put_pip_and_uv_side_by_side(uv_run: dict[str, Any]) -> None:
    report = (uv_run["out"] / "report.html").read_text()
    assert 'id="installers"' in report and "--index-strategy unsafe-best-match" in report
    done = harness("compare", "py311", "py311", "--run", str(uv_run["out"]))
    assert done.returncode == 0, done.stderr
    assert "## Installers: pip vs uv" in done.stdout
    row = next(line for line in done.stdout.splitlines() if line.startswith("| py311 | small |"))
    assert "one sample, noise unknown" in row and "same versions" in row


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        # A release that does not exist: pip on the host finds no such uv on PyPI.
        ("  uv_version: '999.0.0'", "could not fetch uv==999.0.0 from the index on the host"),
        # uv's source is a loopback port nothing listens on: the connection is refused.
        ("  uv_source_index_url: http://127.0.0.1:9/simple", "could not fetch uv from the index"),
    ],
    ids=["no-such-version", "source-refuses"],
)
@pytest.mark.usefixtures("docker_client")
def test_uv_cells_are_unavailable_when_uv_cannot_be_had(
    tmp_path: Path, setting: str, words: str
) -> None:
    run = _run(tmp_path, extra=setting, cells="cells: {include: [{installer: uv}]}")
    cell = _cell(run, "py311×small+uv")
    assert cell["status"] == "unavailable" and cell["steps"] == []
    assert cell["reason"].startswith("uv unavailable: " + words), cell["reason"]
    assert run["done"].returncode == 0  # unavailable never fails a run
    assert "reason" in run["results"]["run"]["installers"]["uv"]["x86_64"]
