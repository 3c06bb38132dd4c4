"""A failed C-extension build prints a fix that works in one round: on the bookworm
stand-in, each sdist fails for want of a -dev package, the fix names the Debian package
(from bookworm's real Contents index), and the same cells pass after adding exactly the
printed `system:` list. Needs PyPI and Debian's archive."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import harness

pytestmark = [pytest.mark.integration, pytest.mark.network]

# Each needs a library's -dev package: psycopg2 runs pg_config (libpq-dev) before it
# compiles, on a base with nothing added; cffi (its sdist, forced) with the compiler-only
# fix harness used to print, asks pkg-config for libffi and finds no ffi.h (libffi-dev);
# python-ldap stops at Python.h, then at lber.h (libldap-dev), then at sasl/sasl.h
# (libsasl2-dev): one round needs all three, two of them read from its sdist's sources;
# pycairo's meson asks pkg-config for cairo (libcairo2-dev); mysqlclient tries pkg-config
# names (mysqlclient, mariadb, ...) with no pkg-config at all (libmariadb-dev-compat).
DEPSETS: dict[str, dict[str, Any]] = {
    "psycopg2": {"pip": ["psycopg2==2.9.10"], "imports": ["psycopg2"]},
    "cffi": {
        "pip": ["cffi==1.17.1"],
        "pip_args": ["--no-binary", "cffi"],
        "system": {"apt": ["build-essential", "pkg-config"]},
        "imports": ["cffi"],
    },
    "python-ldap": {
        "pip": ["python-ldap==3.4.4"],
        "pip_args": ["--no-binary", "python-ldap"],
        "system": {"apt": ["build-essential", "pkg-config"]},
        "imports": ["ldap"],
    },
    "pycairo": {
        "pip": ["pycairo==1.27.0"],
        "pip_args": ["--no-binary", "pycairo"],
        "system": {"apt": ["build-essential", "pkg-config"]},
        "imports": ["cairo"],
    },
    "mysqlclient": {
        "pip": ["mysqlclient==2.2.7"],
        "pip_args": ["--no-binary", "mysqlclient"],
        "imports": ["MySQLdb"],
    },
}
EXPECTED = {
    "psycopg2": ("libpq-dev",),
    "cffi": ("libffi-dev",),
    "python-ldap": ("libldap-dev", "libsasl2-dev"),
    "pycairo": ("libcairo2-dev",),
    "mysqlclient": ("libmariadb-dev-compat",),
}


def _matrix(folder: Path, depsets: dict[str, dict[str, Any]]) -> Path:
    matrix = {
        "version": 1,
        "settings": {"jobs": 2, "timeout": 900, "memory": "2g", "pull_timeout": 20},
        "bases": {
            "py311": {
                "image": "python:3.11-slim",
                "standin": {"debootstrap": {"suite": "bookworm", "python": "3.11"}},
            }
        },
        "depsets": depsets,
    }
    path = folder / "matrix.yaml"
    path.write_text(yaml.safe_dump(matrix, sort_keys=False), encoding="utf-8")
    return path


def _run(folder: Path, depsets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "run"
    done = harness("run", str(_matrix(folder, depsets)), "--out", str(out), timeout=1800)
    assert (out / "results.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    return {c["depset"]: c for c in results["cells"]}


@pytest.fixture(scope="module", autouse=True)
def reachable() -> None:
    for host, port in (("pypi.org", 443), ("deb.debian.org", 80)):
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as exc:
            pytest.skip(f"{host} is not reachable: {exc}")


def test_the_printed_fix_makes_the_build_pass_in_one_round(
    tmp_path: Path,
    docker_client: Any,  # noqa: ARG001 (the engine must be there first)
) -> None:
    first = _run(tmp_path / "first", DEPSETS)
    fixed: dict[str, dict[str, Any]] = {}
    for name, packages in EXPECTED.items():
        cell = first[name]
        assert cell["status"] == "failed", cell.get("reason")
        failure = next(s for s in cell["steps"] if s["name"] == "pip-install")["failure"]
        assert failure["distribution"].startswith(name), failure
        assert failure["lookup"] == "debian bookworm (amd64) file index", failure
        assert set(packages) <= set(failure["packages"]), failure
        assert f"system: {{apt: [{', '.join(failure['packages'])}]}}" in failure["hint"]
        fixed[name] = {**DEPSETS[name], "system": {"apt": list(failure["packages"])}}
    second = _run(tmp_path / "second", fixed)
    for name in EXPECTED:
        assert second[name]["status"] == "passed", second[name].get("reason")
