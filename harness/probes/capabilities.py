"""Probe: what a base image can do, with or without a shell (run once per base image).

Shell and package manager present, Python interpreters on the usual paths, pip and
ensurepip, the user, libc (read from the ELF interpreter, via env.py's helpers), ABI flags
(free-threaded builds), the configure arguments (PGO, LTO, read as pybench.py reads them: false
means "not recorded in the build flags", since Debian applies both outside configure), the
release level, the stdlib
modules that stripped-down builds drop, time zone data and the OpenSSL version.

The harness runs it exec-form (``[python, capabilities.py]``), never through ``sh -c``: it
must work on an image that has no shell at all, so nothing here starts a shell either.
Standard library only; Python 3.9+ (zoneinfo).
"""

from __future__ import annotations

import importlib
import os
import platform
import re
import sys
import sysconfig
from typing import Any

from _common import run_probe
from env import libc, pip_version
from pybench import build_facts

SHELLS = ("/bin/sh", "/bin/bash", "/bin/ash", "/bin/busybox")
# In the order a harness cell would pick one.
PACKAGE_MANAGERS = ("apt-get", "apk", "dnf", "microdnf")
SYSTEM_BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
PYTHON_DIRS = ("/usr/local/bin", "/usr/bin")
_PYTHON_NAME = re.compile(r"^python3(\.\d+)?t?$")
# Modules distributions or minimal builds leave out; `zoneinfo` is checked for its data too.
OPTIONAL_MODULES = ("ctypes", "sqlite3", "ssl", "lzma", "bz2", "readline", "zlib", "zoneinfo")
SYSTEM_ZONEINFO = "/usr/share/zoneinfo"


def is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_program(name: str) -> str | None:
    """``name`` on PATH or in the usual system directories (PATH may be unset in an image)."""
    directories = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    for directory in directories + [d for d in SYSTEM_BIN_DIRS if d not in directories]:
        candidate = os.path.join(directory, name)
        if is_executable(candidate):
            return candidate
    return None


def pythons() -> list[dict[str, str]]:
    """python3, python3.X and python3.Xt under /usr/local/bin and /usr/bin, with targets."""
    found = []
    for directory in PYTHON_DIRS:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            if _PYTHON_NAME.match(name) and is_executable(path):
                found.append({"path": path, "target": os.path.realpath(path)})
    return found


def ensurepip_available() -> dict[str, Any]:
    """Whether ``python -m ensurepip`` could install pip: importable and its wheel present.

    Debian patches ensurepip to take its wheels from /usr/share/python-wheels (package
    python3-pip-whl), so the module alone is no proof; ``ensurepip.version()`` reads them.
    """
    try:
        import ensurepip
    except Exception as exc:
        return {"available": False, "pip_version": None, "error": f"{type(exc).__name__}: {exc}"}
    try:
        version = ensurepip.version()
    except Exception as exc:
        return {"available": False, "pip_version": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"available": bool(version), "pip_version": version or None, "error": None}


def user() -> dict[str, Any]:
    uid = os.getuid()
    name = None
    try:
        import pwd

        name = pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        pass
    return {"name": name, "uid": uid, "gid": os.getgid()}


def stdlib_modules() -> dict[str, Any]:
    """Each optional module: importable or the error, then the list of missing ones."""
    modules: dict[str, Any] = {}
    for name in OPTIONAL_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:
            modules[name] = f"{type(exc).__name__}: {exc}"
        else:
            modules[name] = True
    return {
        "modules": modules,
        "missing": [name for name, state in modules.items() if state is not True],
    }


def time_zones() -> dict[str, Any]:
    """Time zone data: the zones zoneinfo finds, and whether the system directory exists."""
    facts: dict[str, Any] = {
        "count": None,
        "system_dir": os.path.isdir(SYSTEM_ZONEINFO),
        "error": None,
    }
    try:
        import zoneinfo

        facts["count"] = len(zoneinfo.available_timezones())
    except Exception as exc:
        facts["error"] = f"{type(exc).__name__}: {exc}"
    return facts


def openssl_version() -> str | None:
    try:
        import ssl
    except Exception:
        return None
    return str(ssl.OPENSSL_VERSION)


def main(result: dict[str, Any]) -> None:
    gil_disabled = sysconfig.get_config_var("Py_GIL_DISABLED")
    build = build_facts()  # pybench's reading of PGO/LTO, so both probes agree
    shells = [path for path in SHELLS if is_executable(path)]
    managers = [name for name in PACKAGE_MANAGERS if find_program(name)]
    abiflags = getattr(sys, "abiflags", "")
    result.update(
        shell="/bin/sh" in shells,
        shells=shells,
        package_manager=managers[0] if managers else None,
        package_managers=managers,
        executable=sys.executable,
        python_version=platform.python_version(),
        pythons=pythons(),
        pip=pip_version(),
        ensurepip=ensurepip_available(),
        user=user(),
        libc=libc(),
        abiflags=abiflags,
        gil_disabled=bool(gil_disabled),
        free_threaded="t" in abiflags or bool(gil_disabled),
        config_args=build["config_args"],
        pgo=build["pgo"],
        lto=build["lto"],
        pgo_lto_basis=build["pgo_lto_basis"],
        release_level=sys.version_info.releaselevel,
        release_serial=sys.version_info.serial,
        **stdlib_modules(),
        time_zones=time_zones(),
        openssl=openssl_version(),
    )


if __name__ == "__main__":
    run_probe(main)
