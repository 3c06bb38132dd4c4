"""Diagnosing failed pip installs from real pip output (tests/fixtures/pip/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.model.results import EnvProbe
from harness.run import fileindex
from harness.run.pipfailure import BUILD, RESOLVE, BuildContext, PipFailure, clean, diagnose
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


def test_a_build_that_stopped_before_compiling_says_more_may_follow(tmp_path: Path) -> None:
    failure = _with("netifaces-no-gcc", _context(tmp_path))
    assert failure.hint == (
        "the build needs a C compiler: put system: {apt: [build-essential, pkgconf, "
        "libpython3.11-dev]} in the depset (the build stopped before compiling: a library "
        "it needs may be named next run)"
    )


def test_the_hint_names_the_packages_for_the_bases_package_manager() -> None:
    _, apt = _diagnose("netifaces-no-gcc", "apt")
    _, apk = _diagnose("netifaces-no-gcc", "apk")
    _, none = _diagnose("av-no-pkgconfig", None)
    # No base facts: nothing is looked up, the distributions' usual names stand in and
    # the fix says so.
    assert apt.hint is not None and "apt: [build-essential, pkg-config, python3-dev]" in apt.hint
    assert apk.hint is not None and "apk: [build-base, pkgconf, python3-dev]" in apk.hint
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


# -- the blocker and a fix that works in one round ---------------------------------------

INDEX_FIXTURES = FIXTURES.parent / "fileindex"


def _env(suite: str) -> dict[str, object]:
    python, glibc, pretty = {
        "bookworm": ("3.11.2", "2.36", "Debian GNU/Linux 12 (bookworm)"),
        "sid": ("3.15.2", "2.43", "Debian GNU/Linux forky/sid"),
    }[suite]
    return {
        "status": "passed",
        "os_release": {"ID": "debian", "PRETTY_NAME": pretty},
        "machine": "x86_64",
        "libc": {"family": "glibc", "version": glibc},
        "python": {"implementation": "CPython", "version": python, "prefix": "/usr"},
    }


def _context(
    tmp_path: Path, suite: str = "bookworm", system: tuple[str, ...] = (), page: object = None
) -> BuildContext:
    """Lookups answered from fixtures: an excerpt of the suite's real Contents-amd64 and a
    simple-API page; a project with no page 'did not answer'."""
    lines = (INDEX_FIXTURES / f"{suite}-Contents-amd64.excerpt").read_text().splitlines()
    release = fileindex.Release("debian", suite, "amd64")
    index = fileindex.build_index(
        fileindex.parse_contents(lines), tmp_path / f"{suite}.sqlite", release, "fixture"
    )
    opened: list[fileindex.Release] = []

    def open_index(asked: fileindex.Release) -> fileindex.Opened:
        opened.append(asked)
        return fileindex.Opened(index if asked == release else None, "no such suite")

    def wheels(_name: str) -> dict[str, object]:
        if page is None:
            raise OSError("no page in this test")
        return page  # type: ignore[return-value]

    return BuildContext("apt", system, EnvProbe.from_dict(_env(suite)), open_index, wheels)


def _with(name: str, context: BuildContext) -> PipFailure:
    console = (FIXTURES / f"{name}.console").read_text(encoding="utf-8")
    log = (FIXTURES / f"{name}.log").read_text(encoding="utf-8")
    return diagnose(console, log, classify_failure(console + "\n" + log), "apt", context)


@pytest.mark.parametrize(
    ("fixture", "distribution", "need", "package", "packages"),
    [
        # the compiler ran: the depset's own packages, Python's headers (pkg-config too
        # when a module is wanted) and the one that ships the file
        ("python-ldap-no-lber-h", "python-ldap 3.4.4", ("header", "lber.h"), "libldap-dev",
         ["build-essential", "libpython3.11-dev", "libldap-dev"]),
        ("cffi-no-ffi-h", "cffi 1.17.1", ("header", "ffi.h"), "libffi-dev",
         ["build-essential", "pkgconf", "libpython3.11-dev", "libffi-dev"]),
        ("pycairo-no-cairo-pc", "pycairo 1.27.0", ("pkgconfig", "cairo"), "libcairo2-dev",
         ["build-essential", "pkgconf", "libpython3.11-dev", "libcairo2-dev"]),
        # the build stopped before compiling: the compiler packages come with the fix
        ("psycopg2-no-pg-config", "psycopg2 2.9.10", ("program", "pg_config"), "libpq-dev",
         ["build-essential", "pkgconf", "libpython3.11-dev", "libpq-dev"]),
        ("mysqlclient-no-pkg-config-name", "mysqlclient 2.2.7",
         ("pkgconfig", "mysqlclient or mariadb or libmariadb or perconaserverclient"),
         "libmariadb-dev-compat",
         ["build-essential", "pkgconf", "libpython3.11-dev", "libmariadb-dev-compat"]),
    ],
)  # fmt: skip
def test_a_missing_file_is_mapped_to_the_package_of_the_bases_distribution(
    tmp_path: Path,
    fixture: str,
    distribution: str,
    need: tuple[str, str],
    package: str,
    packages: list[str],
) -> None:
    failure = _with(fixture, _context(tmp_path, system=("build-essential",)))
    assert failure.distribution == distribution
    assert failure.kind == "missing-build-dependency"
    assert (failure.needs[0].kind, failure.needs[0].name) == need
    assert failure.needs[0].package == package
    assert list(failure.packages) == packages
    assert failure.lookup == "debian bookworm (amd64) file index"
    assert failure.hint is not None
    assert f"put system: {{apt: [{', '.join(packages)}]}} in the depset" in failure.hint
    assert "could not be looked up" not in failure.hint


def test_a_header_and_its_pkg_config_module_both_name_their_package(tmp_path: Path) -> None:
    failure = _with("cffi-no-ffi-h", _context(tmp_path))
    assert failure.hint == (
        "the build needs the header ffi.h from libffi-dev, the pkg-config module libffi from "
        "libffi-dev: put system: {apt: [pkgconf, libpython3.11-dev, libffi-dev]} in the depset"
    )


def test_no_rust_names_the_distribution_the_toolchain_and_the_version_with_a_wheel(
    tmp_path: Path,
) -> None:
    """pip 25 on Python 3.15 (sid stand-in): pydantic-core 2.33.2 has no cp315 wheel and
    maturin finds no Rust. pip's log tail no longer shows the download, the console does."""
    page = json.loads((INDEX_FIXTURES / "pydantic-core.simple.json").read_text())
    failure = _with("pydantic-core-no-rust", _context(tmp_path, "sid", page=page))
    assert failure.distribution == "pydantic-core 2.33.2"
    assert failure.required_by == "pydantic==2.11.7"
    assert failure.toolchain == "Rust/cargo"
    assert failure.needs[0].package == "cargo"
    assert list(failure.packages) == ["build-essential", "pkgconf", "libpython3.15-dev", "cargo"]
    assert failure.cause[-1] == "Rust not found, installing into a temporary directory"
    assert failure.wheel is not None and failure.wheel.startswith(
        "pydantic-core 2.33.2 has no wheel for cp315 on manylinux_2_43_x86_64; 2.48.0 is"
    )
    assert failure.pin == "pydantic-core==2.50.5"
    assert failure.hint is not None
    assert "or pin pydantic-core==2.50.5" in failure.hint
    assert "pydantic==2.11.7 asks for pydantic-core 2.33.2" in failure.hint
    assert failure.one_line().startswith("pydantic-core 2.33.2 (build): Rust not found")
    assert failure.to_dict()["pin"] == "pydantic-core==2.50.5"


def test_without_the_index_the_fix_says_what_could_not_be_looked_up(tmp_path: Path) -> None:
    context = _context(tmp_path)
    unknown = BuildContext("apt", (), EnvProbe.from_dict(_env("sid")), context.open_index, None)
    failure = _with("python-ldap-no-lber-h", unknown)
    assert failure.needs[0].package is None
    assert failure.hint is not None
    assert "the package that ships lber.h could not be looked up" in failure.hint
    assert "not looked up: no such suite" in failure.hint
    assert failure.wheel is None  # no lookup asked for


def test_an_index_that_does_not_answer_is_said_for_the_wheel_too(tmp_path: Path) -> None:
    failure = _with("psycopg2-no-pg-config", _context(tmp_path))
    assert failure.wheel == (
        "wheels of psycopg2 not checked: the index did not answer (no page in this test)"
    )
    assert failure.pin is None


def test_a_requirement_from_the_users_own_file_has_no_parent(tmp_path: Path) -> None:
    """In a lock file's export every pin is top-level: "(from -r FILE (line 40))"."""
    console = (FIXTURES / "pydantic-core-no-rust.console").read_text(encoding="utf-8")
    console = console.replace("(from pydantic==2.11.7)", "(from -r /x/uv.lock.txt (line 40))")
    log = (FIXTURES / "pydantic-core-no-rust.log").read_text(encoding="utf-8")
    failure = diagnose(console, log, "build-failed", "apt", _context(tmp_path, "sid"))
    assert failure.distribution == "pydantic-core 2.33.2"
    assert failure.required_by is None


def test_a_depset_that_asks_for_pkg_config_is_not_given_a_second_one(tmp_path: Path) -> None:
    failure = _with("cffi-no-ffi-h", _context(tmp_path, system=("build-essential", "pkg-config")))
    assert list(failure.packages) == [
        "build-essential",
        "pkg-config",
        "libpython3.11-dev",
        "libffi-dev",
    ]


def test_a_build_without_pkg_config_says_its_libraries_may_follow(tmp_path: Path) -> None:
    failure = _with("av-no-pkgconfig", _context(tmp_path))
    assert failure.hint is not None
    assert failure.hint.startswith(
        "the build needs the program pkg-config from pkgconf: put system: {apt: "
        "[build-essential, pkgconf, libpython3.11-dev]} in the depset (the build stopped "
        "before asking pkg-config for its libraries"
    )


def _sdist() -> bytes:
    """A python-ldap-like sdist: its C sources include what the compiler has not reached."""
    import io
    import tarfile

    files = {
        "python-ldap-3.4.4/Modules/common.h": (
            b"#include <Python.h>\n#include <lber.h>\n#include <ldap.h>\n#include <stdio.h>\n"
            b"#  include <stdarg.h>\n#include <own/config.h>\n#include <curl/curl.h>\n"
            b"#ifdef _WIN32\n#include <winsock2.h>\n#endif\n"
        ),
        "python-ldap-3.4.4/Modules/LDAPObject.c": b'#include "common.h"\n#include <sasl/sasl.h>\n',
        "python-ldap-3.4.4/Modules/own/config.h": b"/* shipped in the sdist */\n",
        "python-ldap-3.4.4/setup.py": b"#include <not/a/c/file.h>\n",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_the_fix_names_what_the_sdists_sources_include_beyond_the_first_error(
    tmp_path: Path,
) -> None:
    """python-ldap stops at Python.h, then lber.h, then sasl/sasl.h: one round names all,
    from the sdist's own #includes mapped with the file index (issue 25)."""
    from dataclasses import replace

    from harness.run import sdistscan

    sources = sdistscan.read_sources("python-ldap-3.4.4.tar.gz", _sdist())
    assert "sasl/sasl.h" in sources.headers and "not/a/c/file.h" not in sources.headers
    asked: list[tuple[str, str]] = []

    def scan(name: str, version: str) -> sdistscan.SdistSources:
        asked.append((name, version))
        return sources

    context = replace(_context(tmp_path, system=("build-essential",)), sources=scan)
    failure = _with("python-ldap-no-lber-h", context)
    assert asked == [("python-ldap", "3.4.4")]
    assert failure.packages == (
        "build-essential", "libpython3.11-dev", "libldap-dev", "libsasl2-dev",
    )  # fmt: skip
    # never the C library's (stdio.h, stdarg.h), Python's, the sdist's own, nor a guess
    # between the three packages that ship curl/curl.h
    assert not {"libc6-dev", "musl-dev", "libcurl4-openssl-dev"} & set(failure.packages)
    assert "libwine-dev" not in failure.packages  # winsock2.h: only deep in Wine's tree
    ahead = [n for n in failure.needs if n.via == "sources"]
    assert [(n.name, n.package) for n in ahead] == [("sasl/sasl.h", "libsasl2-dev")]
    assert failure.hint is not None
    assert "its sources also include the header sasl/sasl.h from libsasl2-dev" in failure.hint
    assert "system: {apt: [build-essential, libpython3.11-dev, libldap-dev, libsasl2-dev]}" in (
        failure.hint
    )


def test_sdist_url_is_the_versions_sdist_on_the_simple_page() -> None:
    from harness.run.sdistscan import sdist_url

    page = {
        "files": [
            {"filename": "python_ldap-3.4.4-cp311-cp311-win_amd64.whl", "url": "https://x/w"},
            {"filename": "python-ldap-3.4.3.tar.gz", "url": "https://x/old"},
            {"filename": "python-ldap-3.4.4.tar.gz", "url": "https://x/new"},
        ]
    }
    assert sdist_url(page, "python_ldap", "3.4.4") == ("https://x/new", "python-ldap-3.4.4.tar.gz")
    assert sdist_url(page, "python-ldap", "9.9") is None
