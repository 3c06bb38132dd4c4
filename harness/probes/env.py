"""Probe: facts about the environment the cell runs in (OS, libc, Python, CPUs, cgroup limits).

Makes no network calls. Standard library only; pip and its vendored ``packaging`` are used
when present and reported as missing otherwise.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import sysconfig
from typing import Any

from _common import read_text, run_probe

OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")
OS_RELEASE_KEYS = ("NAME", "VERSION_ID", "VERSION_CODENAME", "PRETTY_NAME", "ID")
CGROUP_ROOT = "/sys/fs/cgroup"
PT_INTERP = 3
# cgroup v1 writes "no limit" as a page-rounded LONG_MAX; anything this large is no limit.
UNLIMITED_BYTES = 1 << 62
SUBPROCESS_TIMEOUT_S = 60
PACKAGE_MANAGERS = ("apt-get", "apk")  # the order the cell's own detection uses


def os_release() -> dict[str, str | None]:
    """NAME, VERSION_ID, VERSION_CODENAME, PRETTY_NAME and ID from os-release (None each
    when absent); the codename names the suite whose file index maps a missing file."""
    values: dict[str, str] = {}
    for path in OS_RELEASE_FILES:
        text = read_text(path)
        if text is None:
            continue
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip().strip("\"'")
        break
    return {key: values.get(key) for key in OS_RELEASE_KEYS}


def elf_interpreter(path: str) -> str | None:
    """The PT_INTERP path (dynamic loader) of an ELF file, or None (static, not ELF)."""
    with open(path, "rb") as handle:
        header = handle.read(64)
        if header[:4] != b"\x7fELF":
            return None
        is_64 = header[4] == 2
        endian = "<" if header[5] == 1 else ">"
        if is_64:
            (phoff,) = struct.unpack_from(endian + "Q", header, 32)
            phentsize, phnum = struct.unpack_from(endian + "HH", header, 54)
        else:
            (phoff,) = struct.unpack_from(endian + "I", header, 28)
            phentsize, phnum = struct.unpack_from(endian + "HH", header, 42)
        for index in range(phnum):
            handle.seek(phoff + index * phentsize)
            entry = handle.read(phentsize)
            if struct.unpack_from(endian + "I", entry, 0)[0] != PT_INTERP:
                continue
            # Elf64_Phdr: p_offset at 8, p_filesz at 32; Elf32_Phdr: at 4 and 16.
            if is_64:
                (offset,) = struct.unpack_from(endian + "Q", entry, 8)
                (size,) = struct.unpack_from(endian + "Q", entry, 32)
            else:
                (offset,) = struct.unpack_from(endian + "I", entry, 4)
                (size,) = struct.unpack_from(endian + "I", entry, 16)
            handle.seek(offset)
            return handle.read(size).rstrip(b"\0").decode("utf-8", "replace")
    return None


def musl_version(loader: str) -> tuple[str | None, str]:
    """musl's version: its loader run bare prints "Version X.Y.Z" on stderr; else the file name."""
    try:
        proc = subprocess.run(
            [loader],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
        )
        match = re.search(r"Version\s+(\d+(?:\.\d+)+)", proc.stderr + proc.stdout)
        if match:
            return match.group(1), "musl loader output"
    except (OSError, subprocess.SubprocessError):
        pass
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", os.path.basename(os.path.realpath(loader)))
    return (match.group(1), "loader file name") if match else (None, "unknown")


def glibc_version() -> str | None:
    """glibc's version from confstr ("glibc 2.36"), or None when the libc is not glibc."""
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError, AttributeError):
        return None
    if value and value.startswith("glibc "):
        return value.split()[1]
    return None


def libc() -> dict[str, Any]:
    """libc family and version. platform.libc_ver() alone says ('libc', '') on musl (3.13)."""
    try:
        interpreter = elf_interpreter(sys.executable)
    except (OSError, struct.error):
        interpreter = None
    facts: dict[str, Any] = {
        "family": "unknown",
        "version": None,
        "source": None,
        "interpreter": interpreter,
        "platform_libc_ver": list(platform.libc_ver()),
    }
    glibc = glibc_version()
    if glibc:
        facts.update(family="glibc", version=glibc, source="os.confstr")
    elif interpreter and "ld-musl" in interpreter:
        version, source = musl_version(interpreter)
        facts.update(family="musl", version=version, source=source)
    elif facts["platform_libc_ver"][0] == "glibc":
        facts.update(family="glibc", version=facts["platform_libc_ver"][1], source="platform")
    return facts


def python_facts() -> dict[str, Any]:
    """Version, implementation and build of the running interpreter."""
    config = sysconfig.get_config_var
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": list(platform.python_build()),
        "compiler": platform.python_compiler(),
        "executable": sys.executable,
        "soabi": config("SOABI"),
        "multiarch": config("MULTIARCH"),
        "ext_suffix": config("EXT_SUFFIX"),
        "free_threaded": bool(config("Py_GIL_DISABLED")),
        "in_venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", None),
    }


def pip_version() -> dict[str, Any]:
    """pip's version from ``python -m pip --version``; an error string when pip is absent."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return {"version": None, "error": f"{type(exc).__name__}: {exc}"}
    match = re.match(r"pip (\S+)", proc.stdout)
    if proc.returncode == 0 and match:
        return {"version": match.group(1), "error": None}
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return {"version": None, "error": lines[-1] if lines else f"exit {proc.returncode}"}


def wheel_tags(libc_facts: dict[str, Any]) -> dict[str, Any]:
    """First sys_tags and the newest manylinux/musllinux platform this interpreter accepts.

    Uses pip's vendored packaging (what pip itself decides with), then a standalone
    packaging; without either, the hint is derived from the libc version alone.
    """
    tags_module = None
    for name in ("pip._vendor.packaging.tags", "packaging.tags"):
        try:
            tags_module = __import__(name, fromlist=["sys_tags"])
            break
        except Exception:
            continue
    if tags_module is None:
        return {"source": "libc version", "first": None, "count": None, **libc_hint(libc_facts)}
    tags = [str(tag) for tag in tags_module.sys_tags()]
    platforms = [tag.rsplit("-", 1)[-1] for tag in tags]
    return {
        "source": tags_module.__name__,
        "first": tags[:5],
        "count": len(tags),
        "manylinux": next((p for p in platforms if p.startswith("manylinux")), None),
        "musllinux": next((p for p in platforms if p.startswith("musllinux")), None),
    }


def libc_hint(libc_facts: dict[str, Any]) -> dict[str, str | None]:
    """manylinux_X_Y / musllinux_X_Y platform implied by the libc version (no arch mapping)."""
    version = libc_facts.get("version") or ""
    parts = version.split(".")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        return {"manylinux": None, "musllinux": None}
    arch = sysconfig.get_platform().split("-", 1)[-1].replace("-", "_")
    platform_tag = f"{parts[0]}_{parts[1]}_{arch}"
    return {
        "manylinux": "manylinux_" + platform_tag if libc_facts["family"] == "glibc" else None,
        "musllinux": "musllinux_" + platform_tag if libc_facts["family"] == "musl" else None,
    }


def own_cgroup_dirs(controller: str) -> list[str]:
    """Candidate directories of this process's cgroup for a v1 controller ("" for v2).

    /proc/self/cgroup gives the path from the hierarchy's root; inside a container the
    mount usually *is* the container's cgroup, so the mount root is tried as well.
    """
    text = read_text("/proc/self/cgroup") or ""
    base = os.path.join(CGROUP_ROOT, controller) if controller else CGROUP_ROOT
    candidates = []
    for line in text.splitlines():
        if line.count(":") < 2:
            continue
        _id, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (not controller and controllers == ""):
            candidates.append(os.path.join(base, path.lstrip("/")))
    candidates.append(base)
    return [path for path in candidates if os.path.isdir(path)]


def first_readable(directories: list[str], filename: str) -> str | None:
    """Stripped contents of the first ``directory/filename`` that can be read."""
    for directory in directories:
        text = read_text(os.path.join(directory, filename))
        if text is not None:
            return text.strip()
    return None


def cgroup_v2_limits() -> dict[str, Any]:
    """CPU quota (cpu.max "quota period") and memory.max of a cgroup v2 hierarchy."""
    dirs = own_cgroup_dirs("")
    cpu_max = first_readable(dirs, "cpu.max")
    memory_max = first_readable(dirs, "memory.max")
    quota = None
    if cpu_max and not cpu_max.startswith("max"):
        limit, period = cpu_max.split()[:2]
        quota = int(limit) / int(period)
    memory = int(memory_max) if memory_max and memory_max.isdigit() else None
    return {"cpu_quota_cores": quota, "cpu_raw": cpu_max, "memory_limit_bytes": memory}


def cgroup_v1_limits() -> dict[str, Any]:
    """CPU quota (cfs_quota_us / cfs_period_us) and memory limit of cgroup v1 controllers."""
    cpu_dirs = own_cgroup_dirs("cpu")
    quota_us = first_readable(cpu_dirs, "cpu.cfs_quota_us")
    period_us = first_readable(cpu_dirs, "cpu.cfs_period_us")
    quota = None
    if quota_us and period_us and int(quota_us) > 0:
        quota = int(quota_us) / int(period_us)
    memory_raw = first_readable(own_cgroup_dirs("memory"), "memory.limit_in_bytes")
    memory = int(memory_raw) if memory_raw and memory_raw.isdigit() else None
    if memory is not None and memory >= UNLIMITED_BYTES:
        memory = None
    return {
        "cpu_quota_cores": quota,
        "cpu_raw": f"{quota_us} {period_us}" if quota_us else None,
        "memory_limit_bytes": memory,
    }


def cgroup() -> dict[str, Any]:
    """cgroup version and limits; None for a limit that is not set."""
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
        return {"version": 2, **cgroup_v2_limits()}
    if os.path.isdir(os.path.join(CGROUP_ROOT, "memory")) or os.path.isdir(
        os.path.join(CGROUP_ROOT, "cpu")
    ):
        return {"version": 1, **cgroup_v1_limits()}
    return {"version": None, "cpu_quota_cores": None, "cpu_raw": None, "memory_limit_bytes": None}


def memory_total_bytes() -> int | None:
    """MemTotal from /proc/meminfo (the machine's memory, not the cgroup's)."""
    match = re.search(r"^MemTotal:\s+(\d+) kB", read_text("/proc/meminfo") or "", re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def cpus() -> dict[str, Any]:
    """CPU counts: online CPUs, the ones this process may run on."""
    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    return {"count": os.cpu_count(), "affinity": affinity}


def tools() -> dict[str, Any]:
    """What the harness needs from the image, found once per base instead of once per cell."""
    manager = next((pm for pm in PACKAGE_MANAGERS if shutil.which(pm)), None)
    return {"package_manager": manager, "timeout": shutil.which("timeout") is not None}


def main(result: dict[str, Any]) -> None:
    libc_facts = libc()
    machine = platform.machine()
    result.update(
        os_release=os_release(),
        libc=libc_facts,
        python=python_facts(),
        pip=pip_version(),
        tags=wheel_tags(libc_facts),
        machine=machine,
        cpus=cpus(),
        memory_total_bytes=memory_total_bytes(),
        cgroup=cgroup(),
        kernel={"release": platform.release(), "version": platform.version()},
        tools=tools(),
    )


if __name__ == "__main__":
    run_probe(main)
