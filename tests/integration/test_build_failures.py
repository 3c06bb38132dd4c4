"""A failed source build says which distribution, at which stage, and why: on the
console, in the grid, in summary.md and in JUnit's failure message."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.conftest import ROOT, harness

BUILDS = ROOT / "tests" / "matrices" / "builds.yaml"


@pytest.fixture(scope="module")
def builds_run(
    tmp_path_factory: pytest.TempPathFactory,
    docker_client: Any,  # noqa: ARG001 (the engine must be there first)
) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("builds") / "run"
    done = harness("run", str(BUILDS), "--out", str(out))
    assert (out / "results.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return {
        "out": out,
        "code": done.returncode,
        "console": done.stdout + done.stderr,
        "results": json.loads((out / "results.json").read_text()),
    }


def _cell(run: dict[str, Any], depset: str) -> dict[str, Any]:
    return next(c for c in run["results"]["cells"] if c["depset"] == depset)


def _grid_text(run: dict[str, Any], cell_id: str) -> str:
    page = (run["out"] / "report.html").read_text(encoding="utf-8")
    anchor = "cell-" + cell_id.replace("×", "_x_").replace(".", "-")
    match = re.search(rf'id="grid-{anchor}">(.*?)</td>', page, re.S)
    assert match, cell_id
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def _junit_messages(run: dict[str, Any]) -> str:
    root = ET.parse(run["out"] / "junit.xml").getroot()
    return "\n".join(
        (e.get("message") or "") + "\n" + (e.text or "")
        for e in [*root.iter("failure"), *root.iter("error")]
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    ("depset", "kind", "distribution", "cause"),
    [
        # the compiler is named: "command 'x86_64-linux-gnu-gcc' failed" (pip 23's
        # setuptools) or "No such file or directory: 'x86_64-linux-gnu-gcc'" (pip 24's)
        ("no-compiler", "no-compiler", "netifaces 0.11.0", "'x86_64-linux-gnu-gcc'"),
        ("no-pkg-config", "missing-build-dependency", "av 14.4.0", "pkg-config is required"),
    ],
)
def test_a_failed_build_is_explained_where_the_user_looks(
    builds_run: dict[str, Any], depset: str, kind: str, distribution: str, cause: str
) -> None:
    cell = _cell(builds_run, depset)
    assert cell["status"] == "failed"
    step = next(s for s in cell["steps"] if s["name"] == "pip-install")
    assert step["failure_kind"] == kind
    assert step["failure"]["stage"] == "build"
    assert step["failure"]["distribution"] == distribution
    assert "build-essential" in step["failure"]["hint"]
    for where, text in [
        ("reason", cell["reason"]),
        ("console", builds_run["console"]),
        ("grid", _grid_text(builds_run, cell["id"])),
        ("summary.md", (builds_run["out"] / "summary.md").read_text(encoding="utf-8")),
        ("junit.xml", _junit_messages(builds_run)),
    ]:
        assert distribution in text and cause in text, f"{where} does not say why: {text[:2000]}"
    failed = [d for d in cell["distributions"] if d.get("failed") == "build"]
    assert [d["name"] for d in failed] == [distribution.split(" ")[0]]


@pytest.mark.integration
def test_no_matching_distribution_names_the_requirement(builds_run: dict[str, Any]) -> None:
    cell = _cell(builds_run, "no-such-version")
    assert "six==0.0.0.1" in cell["reason"]
    assert "six==0.0.0.1" in _grid_text(builds_run, cell["id"])
    assert builds_run["code"] == 1


@pytest.mark.integration
def test_the_console_is_harness_lines_only(builds_run: dict[str, Any]) -> None:
    """No pytest glyphs or xdist chatter in harness run's console: timestamped lines."""
    console = builds_run["console"]
    assert "bringing up nodes" not in console and "short test summary" not in console
    lines = [line for line in console.splitlines() if line.strip()]
    untimed = [line for line in lines if not re.match(r"^\d\d:\d\d:\d\d \[", line)]
    assert not untimed, untimed[:5]
    assert "\x1b" not in console
