"""The contents probe on a fake root and venv built in tmp_path (no Docker)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROBE = ROOT / "harness" / "probes" / "contents.py"
# _common.py moves from probes/ to harness/probes/; the probe imports it from its own folder
# at run time, so the test puts whichever folder holds it on PYTHONPATH.
COMMON_DIR = next(
    folder
    for folder in (ROOT / "harness" / "probes", ROOT / "probes")
    if (folder / "_common.py").exists()
)
TIMEOUT_S = 60
SITE = "lib/python3.11/site-packages"

DPKG_STATUS = """\
Package: libfoo1
Status: install ok installed
Priority: optional
Installed-Size: 120
Architecture: amd64
Source: foo (1.2-3)
Version: 1.2-3+b1
Description: a library
 with a long description
 .
 over several lines

Package: gone-tool
Status: deinstall ok config-files
Architecture: amd64
Version: 0.9
Installed-Size: 50

Package: bash
Status: install ok installed
Installed-Size: 7000
Architecture: amd64
Version: 5.2.15-2+b7
"""

APK_INSTALLED = """\
C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library
o:musl

C:Q1def=
P:busybox-binsh
V:1.36.1-r5
A:x86_64
I:1024
o:busybox
"""


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def dist_info(
    site: Path, folder: str, metadata: str, wheel_tags: list[str], record: list[str]
) -> Path:
    info = site / f"{folder}.dist-info"
    write(info / "METADATA", f"Metadata-Version: 2.1\n{metadata}\nSummary: x\n\nBody: no\n")
    tags = "".join(f"Tag: {tag}\n" for tag in wheel_tags)
    write(info / "WHEEL", f"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.41.2)\n{tags}")
    write(info / "INSTALLER", "pip\n")
    rows = [*record, f"{folder}.dist-info/RECORD,,"]
    write(info / "RECORD", "".join(f"{row},sha256=x,1\n" for row in rows))
    return info


def fake_venv(base: Path) -> Path:
    """Three distributions: alpha and beta share a file, gamma hard-links one of beta's."""
    venv = base / "venv"
    site = venv / SITE
    write(venv / "pyvenv.cfg", "home = /usr/bin\n")
    write(site / "shared_ns" / "__init__.py", "x" * 100)
    write(site / "alpha" / "core.py", "a" * 1000)
    write(site / "beta" / "mod.py", "b" * 3000)
    write(site / "gamma" / "ext.so", b"\0" * 5000)
    write(venv / "bin" / "gamma-cli", "#!/bin/sh\n")
    os.link(site / "beta" / "mod.py", site / "gamma" / "mod_link.py")
    outside = write(base / "outside" / "big.bin", b"\1" * 100_000)
    (site / "gamma" / "big.bin").symlink_to(outside)  # a link out of the tree: never followed
    dist_info(
        site,
        "alpha_pkg-1.0",
        "Name: Alpha_Pkg\nVersion: 1.0",
        ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"],
        ["shared_ns/__init__.py", "alpha/core.py", "alpha/gone.py"],
    )
    beta = dist_info(
        site,
        "beta-2.0",
        "Name: beta\nVersion: 2.0",
        ["py3-none-any"],
        ["shared_ns/__init__.py", "beta/mod.py"],
    )
    url = {"url": "https://example.invalid/beta-2.0.tar.gz", "archive_info": {}}
    write(beta / "direct_url.json", json.dumps(url))
    write(beta / "REQUESTED", "")
    dist_info(
        site,
        "gamma-0.1",
        "Name: gamma\nVersion: 0.1",
        ["cp311-cp311-linux_x86_64"],
        [
            "gamma/ext.so",
            "gamma/mod_link.py",
            "gamma/big.bin",
            "../../../bin/gamma-cli",
            "../../../../outside/big.bin",
        ],
    )
    return venv


def fake_root(base: Path, manager: str) -> Path:
    root = base / "root"
    if manager == "dpkg":
        write(root / "var/lib/dpkg/status", DPKG_STATUS)
    elif manager == "apk":
        write(root / "lib/apk/db/installed", APK_INSTALLED)
    write(root / "usr/bin/tool", "t" * 2048)
    os.link(root / "usr/bin/tool", root / "usr/bin/tool-again")
    write(root / "etc/hostname", "box\n")
    if manager != "apk":  # apk's db lives in a real /lib; merged-/usr Debian links it
        (root / "lib").symlink_to("usr/lib")
    return root


def run_probe(*args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, str(PROBE), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "PYTHONPATH": str(COMMON_DIR)},
    )
    lines = proc.stdout.splitlines()
    assert lines, f"no stdout; stderr: {proc.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert isinstance(result, dict)
    return proc, result


def du_bytes(path: Path) -> int:
    """Apparent size by coreutils du, an oracle independent of the probe."""
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


@pytest.fixture
def dpkg_run(tmp_path: Path) -> dict[str, Any]:
    venv = fake_venv(tmp_path)
    root = fake_root(tmp_path, "dpkg")
    proc, result = run_probe("--root", str(root), "--venv", str(venv))
    assert proc.returncode == 0, result.get("error")
    assert result["status"] == "passed"
    assert isinstance(result["seconds"], float)
    result["_venv"] = str(venv)
    result["_root"] = root
    return result


def by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {dist["normalised_name"]: dist for dist in result["distributions"]}


def test_dpkg_lists_only_installed_packages(dpkg_run: dict[str, Any]) -> None:
    assert dpkg_run["package_manager"] == "dpkg"
    packages = dpkg_run["os_packages"]
    assert [p["name"] for p in packages] == ["bash", "libfoo1"]  # sorted, deinstalled gone
    libfoo = packages[1]
    assert libfoo == {
        "name": "libfoo1",
        "version": "1.2-3+b1",
        "architecture": "amd64",
        "installed_size_bytes": 120 * 1024,
        "source": "foo",
        "source_version": "1.2-3",
    }
    assert packages[0]["source"] is None
    assert dpkg_run["os_packages_installed_bytes"] == (120 + 7000) * 1024


def test_apk_database(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "apk")
    proc, result = run_probe("--root", str(root))
    assert proc.returncode == 0, result.get("error")
    assert result["package_manager"] == "apk"
    assert result["distributions"] is None
    musl, busybox = sorted(result["os_packages"], key=lambda p: p["name"], reverse=True)
    assert musl["name"] == "musl" and musl["version"] == "1.2.4-r2"
    assert musl["architecture"] == "x86_64" and musl["installed_size_bytes"] == 622592
    assert busybox["source"] == "busybox"
    assert result["paths"]["/lib"]["files"] == 1  # a real /lib on Alpine is walked


def test_no_package_manager(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "none")
    _proc, result = run_probe("--root", str(root))
    assert result["package_manager"] is None and result["os_packages"] == []


def test_distribution_facts(dpkg_run: dict[str, Any]) -> None:
    dists = by_name(dpkg_run)
    assert list(dists) == ["alpha-pkg", "beta", "gamma"]
    alpha, beta, gamma = dists["alpha-pkg"], dists["beta"], dists["gamma"]
    assert alpha["name"] == "Alpha_Pkg" and alpha["version"] == "1.0"
    assert alpha["installer"] == "pip" and alpha["requested"] is False and beta["requested"]
    assert alpha["wheel_tags"] == [
        "cp311-cp311-manylinux_2_17_x86_64",
        "cp311-cp311-manylinux2014_x86_64",
    ]
    assert alpha["wheel_generator"] == "bdist_wheel (0.41.2)"
    assert (alpha["built_from_source"], beta["built_from_source"]) == (False, True)
    assert beta["built_from_source_signal"] == "direct_url.json archive_info (sdist)"
    assert gamma["built_from_source"] is True  # linux_x86_64: built here
    assert beta["direct_url"] == "https://example.invalid/beta-2.0.tar.gz"


def test_distribution_sizes_count_each_file_once(dpkg_run: dict[str, Any]) -> None:
    dists = by_name(dpkg_run)
    site = Path(dpkg_run["_venv"]) / SITE

    def record_size(folder: str) -> int:
        return (site / f"{folder}.dist-info" / "RECORD").stat().st_size

    alpha, beta, gamma = dists["alpha-pkg"], dists["beta"], dists["gamma"]
    # alpha is first in sorted order, so the shared __init__.py is its; core.py; RECORD.
    assert alpha["size_bytes"] == 100 + 1000 + record_size("alpha_pkg-1.0")
    assert (alpha["files"], alpha["files_missing"], alpha["files_shared"]) == (3, 1, 0)
    assert beta["size_bytes"] == 3000 + record_size("beta-2.0")
    assert (beta["files"], beta["files_shared"]) == (2, 1)
    # gamma: ext.so, the symlink itself (its target path's length), bin/gamma-cli, RECORD;
    # mod_link.py is a hard link to beta's file, and ../outside is outside the venv.
    link_size = os.lstat(site / "gamma" / "big.bin").st_size
    expected = 5000 + link_size + len("#!/bin/sh\n") + record_size("gamma-0.1")
    assert gamma["size_bytes"] == expected
    assert (gamma["files"], gamma["files_shared"], gamma["files_outside"]) == (4, 1, 1)


@pytest.mark.skipif(shutil.which("du") is None, reason="coreutils du not on PATH")
def test_paths_match_du_and_skip_links_out(dpkg_run: dict[str, Any]) -> None:
    paths = dpkg_run["paths"]
    venv = dpkg_run["_venv"]
    assert paths[venv]["bytes"] == du_bytes(Path(venv))
    assert paths[venv]["bytes"] < 100_000  # the 100 kB file behind the symlink is not counted
    assert paths[venv]["symlinks"] == 1 and paths[venv]["hardlinks_skipped"] == 1
    root = dpkg_run["_root"]
    assert paths["/usr"]["bytes"] == du_bytes(root / "usr")
    assert paths["/usr"]["hardlinks_skipped"] == 1
    assert paths["/etc"]["files"] == 1
    assert paths["/lib"] == {"symlink_to": "usr/lib"}
    assert "/opt" not in paths  # absent folders are left out


def test_unreadable_folder_is_skipped(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any folder, so an unreadable one cannot be made")
    root = fake_root(tmp_path, "dpkg")
    locked = write(root / "usr" / "locked" / "secret", "s").parent
    locked.chmod(0)
    try:
        _proc, result = run_probe("--root", str(root))
    finally:
        locked.chmod(0o755)
    assert result["status"] == "passed" and result["paths"]["/usr"]["unreadable"] == 1


def test_missing_venv_fails_with_an_error(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "dpkg")
    proc, result = run_probe("--root", str(root), "--venv", str(tmp_path / "nope"))
    assert proc.returncode == 1 and result["status"] == "failed"
    assert "venv not found" in result["error"]
    assert result["package_manager"] == "dpkg"  # facts found before the failure are kept


def test_probe_parses_as_python39() -> None:
    """The probe must parse as Python 3.9 (the oldest interpreter a base may bring)."""
    import ast

    ast.parse(PROBE.read_text(encoding="utf-8"), feature_version=(3, 9))
