"""`harness run` needs neither pytest nor xdist; the pytest adapter is optional."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_harness_run_imports_no_pytest_and_no_xdist() -> None:
    code = (
        "import sys; import harness.cli.entry, harness.cli.run_command, harness.pipeline; "
        "import harness.cli.nightly; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest', "
        "'xdist') or m == 'harness.plugin'); print(bad)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_adapter_turns_a_matrix_mistake_into_a_usage_error(tmp_path: Path) -> None:
    matrix = tmp_path / "m.yaml"
    matrix.write_text("version: 1\nbases: {}\ndepsets: {}\nsetings: {}\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "harness.plugin", "--matrix", str(matrix),
         "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert "setings" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_the_adapter_collects_one_item_per_cell_run_in_one_process(tmp_path: Path) -> None:
    matrix = tmp_path / "m.yaml"
    matrix.write_text(
        'version: 1\nbases: {a: {image: "python:3.11-slim"}, b: {image: "python:3.13-slim"}}\n'
        "depsets: {d: {}, e: {}}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "harness.plugin", "--matrix", str(matrix),
         "-n", "2", "-k", "a", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(line.split("::")[-1] for line in done.stdout.splitlines() if "::" in line) == [
        "a×d",
        "a×e",
    ]
    assert "-n ignored" in done.stderr and "bringing up nodes" not in done.stdout
