"""Warm mode fills a wheelhouse once, installs from it with no index, and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration
SLOW = ROOT / "tests" / "matrices" / "slow.yaml"


def test_warm_cells_install_from_the_wheelhouse_and_are_marked(
    tmp_path: Path, docker_client: Any
) -> None:
    for attempt in ("fill", "reuse"):
        out = tmp_path / attempt
        done = harness("run", str(SLOW), "-k", "tiny", "--warm", "--out", str(out))
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        cell = json.loads((out / "results.json").read_text())["cells"][0]
        assert cell["warm"] is True
        pip = next(s for s in cell["steps"] if s["name"] == "pip-install")
        assert "--no-index" in pip["command"]
        assert cell["distributions"][0]["source"] == "wheelhouse"
        assert "not a measurement to cite" in (out / "report.html").read_text()
        # The venv was made in the snapshot image the cell started from.
        venv = next(s for s in cell["steps"] if s["name"] == "venv")
        assert venv["warm"] is True and venv["seconds"] == 0
        assert "--no-compile" in pip["command"]
        assert cell["probes"]["imports"]["runs_per_module"] == 1
        # Removed in the background, and waited for before the run ends.
        run_id = json.loads((out / "results.json").read_text())["run"]["id"]
        label = f"harness.run={run_id}"
        assert not docker_client.containers.list(all=True, filters={"label": label})
    houses = set()
    for attempt in ("fill", "reuse"):
        warm = json.loads((tmp_path / attempt / "prepare.json").read_text())["warm"]
        houses |= {e["wheelhouse"] for e in warm.values() if e.get("wheelhouse")}
    assert len(houses) == 1  # filled once, reused by the second run
    [house] = houses
    assert len(list(Path(house).rglob("six-*.whl"))) == 1
