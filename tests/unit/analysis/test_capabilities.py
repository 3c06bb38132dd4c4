"""Display values of a base's capabilities and the differences between two bases."""

from __future__ import annotations

from typing import Any

from harness.analysis.capabilities import (
    SPEED_FACTS,
    capability_differences,
    capability_summary,
    capability_values,
    name_differences,
)
from harness.model.results import BaseRecord, Capabilities


def caps(**changes: Any) -> Capabilities:
    """The capabilities probe's output for Debian's python3.11 in a slim image."""
    base: dict[str, Any] = {
        "status": "passed",
        "shell": True,
        "package_manager": "apt-get",
        "executable": "/usr/local/bin/python3.11",
        "python_version": "3.11.2",
        "pip": {"version": "24.0", "error": None},
        "ensurepip": {"available": True, "pip_version": "24.0", "error": None},
        "user": {"name": "root", "uid": 0, "gid": 0},
        "libc": {"family": "glibc", "version": "2.36"},
        "abiflags": "",
        "free_threaded": False,
        "pgo": True,
        "lto": True,
        "release_level": "final",
        "release_serial": 0,
        "missing": [],
        "time_zones": {"count": 599, "system_dir": True},
        "openssl": "OpenSSL 3.0.20 7 Apr 2026",
    }
    base.update(changes)
    return Capabilities.from_dict(base)


DISTROLESS = caps(
    shell=False,
    package_manager=None,
    executable="/usr/bin/python3.11",
    pip={"version": None, "error": "No module named pip"},
    ensurepip={"available": False},
    user={"name": "nonroot", "uid": 65532, "gid": 65532},
    pgo=False,
    lto=False,
)
ALPINE = caps(
    package_manager="apk",
    python_version="3.13.15",
    libc={"family": "musl", "version": "1.2.6"},
    pgo=False,
    lto=False,
    missing=["readline"],
    time_zones={"count": 0, "system_dir": False},
)


def test_summary_of_a_slim_base() -> None:
    assert (
        capability_summary(caps())
        == "shell · apt-get · pip 24.0 · uid 0 · glibc 2.36 · PGO+LTO · final"
    )


def test_summary_of_a_shell_less_runtime() -> None:
    assert capability_summary(DISTROLESS) == (
        "no shell · no package manager · no pip · uid 65532 (nonroot) · glibc 2.36"
        " · no PGO/LTO recorded · final"
    )


def test_summary_names_what_is_missing_and_unusual() -> None:
    summary = capability_summary(ALPINE)
    assert summary.endswith("musl 1.2.6 · no PGO/LTO recorded · final · missing: readline, tz data")
    threaded = capability_summary(caps(free_threaded=True, release_level="beta", release_serial=2))
    assert "free-threaded" in threaded and "beta 2" in threaded
    assert "ensurepip, no pip" in capability_summary(caps(pip={"version": None}))


def test_a_failed_or_absent_probe_is_unknown_not_a_fact() -> None:
    assert capability_summary(None) == "capabilities unknown: not probed"
    failed = Capabilities(status="failed", error="exec: python3: not found")
    assert capability_summary(failed) == "capabilities unknown: exec: python3: not found"
    assert capability_differences(failed, caps()) == ()


def test_differences_name_each_side() -> None:
    assert name_differences("py315-alpine", ALPINE, "py311-slim", caps()) == [
        "py315-alpine: /usr/local/bin/python3.11 3.13.15"
        " (py311-slim: /usr/local/bin/python3.11 3.11.2)",
        "py315-alpine: musl 1.2.6 (py311-slim: glibc 2.36)",
        "py315-alpine: no PGO/LTO recorded (py311-slim: PGO+LTO)",
    ]
    assert name_differences("a", caps(), "b", caps()) == []


def test_every_fact_can_be_compared() -> None:
    facts = [d.fact for d in capability_differences(DISTROLESS, caps())]
    assert facts == ["python", "shell", "package manager", "pip", "user", "build"]
    assert set(SPEED_FACTS) <= set(capability_values(caps()))


def test_a_base_record_reads_the_probe_s_output_typed() -> None:
    record = BaseRecord.from_dict({"name": "py311-slim", "capabilities": caps().to_dict()})
    assert isinstance(record.capabilities, Capabilities)
    assert record.capabilities.user and record.capabilities.user.uid == 0
    assert capability_summary(record.capabilities) == capability_summary(caps())
    assert capability_summary(BaseRecord(name="x").capabilities) == (
        "capabilities unknown: not probed"
    )
    # No PGO/LTO fact recorded at all is unknown, not "not recorded".
    assert capability_values(caps(pgo=None, lto=None))["build"] == "unknown"
