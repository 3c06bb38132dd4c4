"""The pybench probe, run on the host's Python at a tiny scale, follows the probe contract."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
PYBENCH = ROOT / "harness" / "probes" / "pybench.py"
WORKLOADS = {
    "loops_calls",
    "allocation",
    "json_round_trip",
    "regex",
    "sha256",
    "float_mandelbrot",
    "threaded_queue",
}
STATS = {"median_s", "min_s", "max_s", "repeats", "rel_spread", "rel_iqr"}


def common_module() -> Path:
    """_common.py wherever this checkout keeps the probes (probes/ or harness/probes/)."""
    for folder in (ROOT / "harness" / "probes", ROOT / "probes"):
        if (folder / "_common.py").exists():
            return folder / "_common.py"
    raise FileNotFoundError("no _common.py next to the probes")


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("probes")
    shutil.copy(PYBENCH, folder / "pybench.py")
    shutil.copy(common_module(), folder / "_common.py")
    return folder


def run_pybench(probe_dir: Path, *args: str) -> tuple[int, list[str]]:
    proc = subprocess.run(
        [sys.executable, str(probe_dir / "pybench.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout.splitlines()


@pytest.fixture(scope="module")
def tiny_run(probe_dir: Path) -> dict[str, Any]:
    code, lines = run_pybench(probe_dir, "--repeats", "2", "--scale", "0.02", "--startup-runs", "2")
    assert code == 0, lines
    assert len(lines) == 1, "the JSON object must be stdout's only line"
    return json.loads(lines[0])  # type: ignore[no-any-return]


def test_contract_fields(tiny_run: dict[str, Any]) -> None:
    assert tiny_run["status"] == "passed"
    assert isinstance(tiny_run["seconds"], float) and tiny_run["seconds"] > 0


def test_every_workload_and_startup_has_its_statistics(tiny_run: dict[str, Any]) -> None:
    assert set(tiny_run["workloads"]) == WORKLOADS
    assert set(tiny_run["startup"]) == {"bare", "import_json"}
    for name, stats in [*tiny_run["workloads"].items(), *tiny_run["startup"].items()]:
        assert set(stats) == STATS, name
        assert 0 < stats["min_s"] <= stats["median_s"] <= stats["max_s"], name
        # The probe rounds its seconds to microseconds (and the ratio to 4 decimals): the
        # spread recomputed from rounded values is off by up to ~1.5 µs over the median,
        # which is several percent for a workload of tens of microseconds on a busy host.
        rounding = 1.5e-6 / stats["median_s"] + 1e-4
        assert stats["rel_spread"] == pytest.approx(
            (stats["max_s"] - stats["min_s"]) / stats["median_s"], rel=0.05, abs=rounding
        )
        assert 0 <= stats["rel_iqr"] <= stats["rel_spread"] + 1e-9, name
    assert {s["repeats"] for s in tiny_run["workloads"].values()} == {2}
    assert {s["repeats"] for s in tiny_run["startup"].values()} == {2}


def test_interpreter_and_build_facts(tiny_run: dict[str, Any]) -> None:
    python = tiny_run["python"]
    assert python["version"] == "{}.{}.{}".format(*sys.version_info[:3])
    assert python["implementation"] == sys.implementation.name.replace("cpython", "CPython")
    build = tiny_run["build"]
    assert isinstance(build["pgo"], bool) and isinstance(build["lto"], bool)
    assert set(build) >= {"compiler", "config_args", "py_cflags_nodist"}
    if build["config_args"] and "--enable-optimizations" in build["config_args"]:
        assert build["pgo"]
    assert tiny_run["allocator"]["name"] in {"pymalloc", "malloc", "mimalloc", "unknown"}
    assert tiny_run["hashlib"]["sha256"] in {"openssl", "builtin"}
    assert tiny_run["settings"] == {
        "repeats": 2,
        "scale": 0.02,
        "startup_runs": 2,
        "seed": tiny_run["settings"]["seed"],
        "budget_s": None,
    }


def test_pythonmalloc_is_reported(probe_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONMALLOC", "malloc")
    code, lines = run_pybench(probe_dir, "--repeats", "1", "--scale", "0.01", "--startup-runs", "1")
    assert code == 0
    assert json.loads(lines[-1])["allocator"] == {"name": "malloc", "source": "PYTHONMALLOC"}


def test_bad_arguments_fail_as_a_probe(probe_dir: Path) -> None:
    code, lines = run_pybench(probe_dir, "--repeats", "0")
    result = json.loads(lines[-1])
    assert code == 1 and result["status"] == "failed" and result["error"]


def test_source_parses_as_python_39() -> None:
    ast.parse(PYBENCH.read_text(), feature_version=(3, 9))


def test_a_budget_cuts_repeats_but_not_below_the_minimum(probe_dir: Path) -> None:
    code, lines = run_pybench(
        probe_dir, "--repeats", "400", "--scale", "0.02", "--startup-runs", "40",
        "--budget-s", "0.5",
    )  # fmt: skip
    assert code == 0, lines
    result = json.loads(lines[-1])
    counts = {name: stats["repeats"] for name, stats in result["workloads"].items()}
    assert all(5 <= n < 400 for n in counts.values()), counts
    assert set(result["budget_cut"]) == WORKLOADS | {"startup.bare", "startup.import_json"}
    assert result["settings"]["budget_s"] == 0.5


def test_no_budget_cuts_nothing(tiny_run: dict[str, Any]) -> None:
    assert tiny_run["budget_cut"] == [] and tiny_run["settings"]["budget_s"] is None
    assert all(stats["repeats"] == 2 for stats in tiny_run["workloads"].values())
