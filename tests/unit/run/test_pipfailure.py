"""Diagnosing failed pip installs from real pip output (tests/fixtures/pip/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run.pipfailure import BUILD, RESOLVE, PipFailure, clean, diagnose
from harness.run.pipreport import classify_failure

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pip"


def _diagnose(name: str, package_manager: str | None = "apt") -> tuple[str | None, PipFailure]:
    console = (FIXTURES / f"{name}.console").read_text(encoding="utf-8")
    log_path = FIXTURES / f"{name}.log"
    log = log_path.read_text(encoding="utf-8") if log_path.exists() else ""
    kind = classify_failure(console + "\n" + log)
    return kind, diagnose(console, log, kind, package_manager)


@pytest.mark.parametrize(
    ("fixture", "kind", "distribution", "headline", "missing"),
    [
        ("av-no-pkgconfig", "missing-build-dependency", "av 14.4.0",
         "pkg-config is required for building PyAV", "pkg-config"),
        ("netifaces-no-gcc", "no-compiler", "netifaces 0.11.0",
         "error: command 'x86_64-linux-gnu-gcc' failed: No such file or directory",
         "a C compiler"),
        ("netifaces-no-python-h", "missing-build-dependency", "netifaces 0.11.0",
         "netifaces.c:1:10: fatal error: Python.h: No such file or directory", "Python.h"),
        ("numpy-broken-toolchain", "no-compiler", "numpy 1.21.0",
         "RuntimeError: Broken toolchain: cannot link a simple C program", "a C compiler"),
    ],
)  # fmt: skip
def test_a_failed_build_names_its_distribution_stage_and_cause(
    fixture: str, kind: str, distribution: str, headline: str, missing: str
) -> None:
    classified, failure = _diagnose(fixture)
    assert classified == kind  # the classifier agrees with the build's own words
    assert failure.kind == kind
    assert failure.stage == BUILD
    assert failure.distribution == distribution
    assert failure.cause[-1] == headline
    assert failure.missing == missing
    assert "See above" not in failure.one_line()
    assert failure.one_line() == f"{distribution} (build): {headline}"


def test_the_hint_names_the_packages_for_the_bases_package_manager() -> None:
    _, apt = _diagnose("netifaces-no-gcc", "apt")
    _, apk = _diagnose("netifaces-no-gcc", "apk")
    _, none = _diagnose("av-no-pkgconfig", None)
    assert apt.hint is not None and "apt: [build-essential, python3-dev, pkg-config]" in apt.hint
    assert apk.hint is not None and "apk: [build-base, python3-dev, pkgconf]" in apk.hint
    assert none.hint is not None and "no package manager" in none.hint


def test_no_matching_distribution_names_the_requirement_and_what_exists() -> None:
    kind, failure = _diagnose("ctranslate2-no-version")
    assert kind == "no-matching-distribution"
    assert failure.stage == RESOLVE
    assert failure.distribution == "ctranslate2==4.4.0"
    assert failure.available == "available: 4.6.0, 4.6.1, 4.6.2"
    assert "ctranslate2==4.4.0" in failure.one_line()


def test_requires_python_is_said_when_pip_says_it() -> None:
    console = (
        "ERROR: Ignored the following versions that require a different python version: "
        "4.4.0 Requires-Python <3.13,>=3.8\n"
        "ERROR: Could not find a version that satisfies the requirement ctranslate2==4.4.0 "
        "(from versions: none)\n"
        "ERROR: No matching distribution found for ctranslate2==4.4.0\n"
    )
    failure = diagnose(console, "", "no-matching-distribution", "apt")
    assert failure.available is not None and "Requires-Python <3.13" in failure.available


def test_clean_strips_stamps_colours_and_rich_markup() -> None:
    line = "2026-12-01T09:21:49,454   You \x1b[1;37mMUST\x1b[0m have [bold magenta]Cython[/]"
    assert clean(line) == "You MUST have Cython"
    assert len(clean("x" * 5000)) <= 300
