"""The capabilities probe on the host interpreter (no Docker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from harness.model.results import Capabilities
from tests.unit.probes.test_probes import PROBES, assert_contract, run_script


def test_capabilities_probe_reports_every_fact() -> None:
    proc, result = run_script(PROBES / "capabilities.py")
    assert_contract(proc, result, "passed")
    assert result["shell"] is Path("/bin/sh").exists()
    assert result["executable"] == sys.executable
    assert result["user"]["uid"] == os.getuid()
    assert result["libc"]["family"] in ("glibc", "musl", "unknown")
    assert result["abiflags"] == sys.abiflags
    assert result["free_threaded"] is bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert result["config_args"] == sysconfig.get_config_var("CONFIG_ARGS")
    assert isinstance(result["pgo"], bool) and isinstance(result["lto"], bool)
    assert result["release_level"] == sys.version_info.releaselevel
    assert set(result["modules"]) == {
        "ctypes", "sqlite3", "ssl", "lzma", "bz2", "readline", "zlib", "zoneinfo"
    }  # fmt: skip
    assert result["missing"] == [m for m, ok in result["modules"].items() if ok is not True]
    assert result["openssl"].startswith("OpenSSL")
    assert set(result["ensurepip"]) == {"available", "pip_version", "error"}
    assert proc.stdout.count("\n") == 1
    # The probe's real output is what results.json types it as (a new fact is declared).
    typed = Capabilities.from_dict(result)
    assert set(result) <= set(Capabilities.model_fields), set(result) - set(typed.model_fields)
    assert typed.user is not None and typed.user.uid == os.getuid()


def test_capabilities_probe_needs_no_shell_and_no_path(tmp_path: Path) -> None:
    """Exec-form in an image without a shell: nothing may go through /bin/sh or PATH."""
    proc = subprocess.run(
        [sys.executable, str(PROBES / "capabilities.py")],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": str(tmp_path)},  # an empty directory: nothing to find on PATH
    )  # fmt: skip
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["status"] == "passed", result
    # Found in the system directories although PATH holds none of them.
    assert result["package_manager"] == ("apt-get" if Path("/usr/bin/apt-get").exists() else None)


def test_missing_modules_are_named(tmp_path: Path) -> None:
    """A build without sqlite3 and readline (shadowed here by failing modules) says so."""
    for name in ("sqlite3", "readline"):
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('{name} left out of this build')")
    proc = subprocess.run(
        [sys.executable, str(PROBES / "capabilities.py")],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["missing"] == ["sqlite3", "readline"]
    assert result["modules"]["sqlite3"] == "ImportError: sqlite3 left out of this build"
