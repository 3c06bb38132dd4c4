"""Probe scripts on the host interpreter (no Docker): the JSON contract of docs/design.md."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PROBES = Path(__file__).resolve().parents[3] / "probes"
TIMEOUT_S = 60


def load_probe_module(name: str) -> ModuleType:
    """probes/<name>.py as module probes_<name>, without putting probes/ on sys.path."""
    spec = importlib.util.spec_from_file_location(f"probes_{name}", PROBES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


common = load_probe_module("_common")


def run_script(script: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """Run a probe like the harness does; return the process and its parsed last stdout line."""
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "PYTHONPATH": str(PROBES)},
    )
    lines = proc.stdout.splitlines()
    assert lines, f"no stdout; stderr: {proc.stderr[-2000:]}"
    return proc, json.loads(lines[-1])


def assert_contract(proc: subprocess.CompletedProcess[str], result: Any, status: str) -> None:
    assert isinstance(result, dict)
    assert result["status"] == status
    assert isinstance(result["seconds"], float) and result["seconds"] >= 0
    assert proc.returncode == (0 if status == "passed" else 1)
    if status == "failed":
        assert isinstance(result["error"], str) and result["error"]


def test_env_probe_reports_facts() -> None:
    proc, result = run_script(PROBES / "env.py")
    assert_contract(proc, result, "passed")
    for key in ("os_release", "libc", "python", "pip", "tags", "machine", "cpus", "cgroup"):
        assert key in result
    assert result["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert result["libc"]["family"] in ("glibc", "musl", "unknown")
    assert result["cpus"]["count"] >= 1
    assert proc.stdout.count("\n") == 1  # library noise goes to stderr, not before the line


def test_imports_probe_times_modules() -> None:
    proc, result = run_script(PROBES / "imports.py", "--runs", "2", "json", "email")
    assert_contract(proc, result, "passed")
    assert set(result["modules"]) == {"json", "email"}
    timing = result["modules"]["json"]
    assert len(timing["runs"]) == 2 and timing["seconds"] > 0
    assert any(row["module"] == "json.decoder" for row in timing["heaviest_self"])


def test_imports_probe_keeps_going_after_a_failure() -> None:
    proc, result = run_script(PROBES / "imports.py", "--runs", "1", "no_such_mod_xyz", "json")
    assert_contract(proc, result, "failed")
    assert result["failed_modules"] == ["no_such_mod_xyz"]
    assert "no_such_mod_xyz" in result["error"]
    assert result["modules"]["json"]["seconds"] > 0


def test_run_probe_turns_an_exception_into_failed_json(tmp_path: Path) -> None:
    script = tmp_path / "raising.py"
    script.write_text(
        textwrap.dedent(
            """
            import os
            from _common import run_probe

            def main(result):
                result["fact"] = 42
                print("noise on stdout")
                os.write(1, b"native output without a newline")
                raise ValueError("boom")

            run_probe(main)
            """
        )
    )
    proc, result = run_script(script)
    assert_contract(proc, result, "failed")
    assert result["error"] == "ValueError: boom"
    assert "raise ValueError" in result["traceback_tail"]
    assert result["fact"] == 42
    assert "noise on stdout" in proc.stderr


def test_run_probe_fails_without_error_message(tmp_path: Path) -> None:
    script = tmp_path / "quiet.py"
    script.write_text(
        "from _common import run_probe\nrun_probe(lambda r: r.update(status='failed', x=1.0))\n"
    )
    proc, result = run_script(script)
    assert_contract(proc, result, "failed")


SAMPLE_IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       300 |        700 | _frozen_importlib_external
import time:      1400 |      36000 | site
import time:       500 |        500 |     _json
import time:       400 |        900 |   json.decoder
import time:       250 |        250 |   json.encoder
import time:       350 |       1500 | json
Traceback is not importtime output
"""


def test_parse_importtime_sample() -> None:
    rows = common.parse_importtime(SAMPLE_IMPORTTIME)
    assert rows[2] == ("_json", 2, 0.0005, 0.0005)
    assert len(rows) == 6
    cumulative, subtree = common.module_import_cost(rows, "json")
    assert cumulative == 0.0015
    assert [name for name, *_ in subtree] == ["_json", "json.decoder", "json.encoder", "json"]
    assert common.module_import_cost(rows, "os") == (0.0, [])


def test_summarise_import_runs_uses_median_run() -> None:
    slower = SAMPLE_IMPORTTIME.replace("1500 | json", "3000 | json")
    faster = SAMPLE_IMPORTTIME.replace("1500 | json", "1000 | json")
    summary = common.summarise_import_runs(
        "json", [(0.05, slower), (0.04, SAMPLE_IMPORTTIME), (0.03, faster)]
    )
    assert summary["seconds"] == 0.0015
    assert summary["runs"] == [0.003, 0.0015, 0.001]
    assert summary["wall_seconds"] == 0.04
    assert summary["heaviest_self"][0] == {"module": "_json", "self": 0.0005, "cumulative": 0.0005}


def test_import_time_rejects_code_as_module_name() -> None:
    with pytest.raises(ValueError):
        common.import_time("os; print(1)")


def test_json_safe_drops_non_finite_floats() -> None:
    assert common._json_safe({"a": float("nan"), "b": (1, Path("/x"))}) == {
        "a": None,
        "b": [1, "/x"],
    }


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH")
def test_smoke_ffmpeg_round_trips_a_tone() -> None:
    proc, result = run_script(PROBES / "smoke_ffmpeg.py")
    assert_contract(proc, result, "passed")
    assert set(result["transcodes"]) >= {"wav_to_mp3", "wav_to_opus", "mp3_to_wav", "opus_to_wav"}
    assert "libmp3lame" in result["codecs"]["encoders"]["present"]


def test_env_reads_the_elf_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PROBES))  # env.py imports _common
    env = load_probe_module("env")
    interpreter = env.elf_interpreter(os.path.realpath(sys.executable))
    assert interpreter is None or "ld-" in interpreter  # None only for a static Python
    assert env.elf_interpreter(str(PROBES / "env.py")) is None  # not an ELF file
