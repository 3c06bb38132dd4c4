"""The distribution file index: Debian Contents and Alpine APKINDEX, read from fixtures
(excerpts of bookworm's and sid's real Contents-amd64; an APKINDEX in Alpine's format,
written here because Alpine's mirror is not reachable), and the simple-API wheel check."""

from __future__ import annotations

import gzip
import http.server
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.run import fileindex, wheelcheck
from harness.run.fileindex import Release, build_index, open_index, parse_apkindex, release_of

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fileindex"
BOOKWORM = Release("debian", "bookworm", "amd64")


def bookworm_env(**python: Any) -> dict[str, Any]:
    return {
        "status": "passed",
        "os_release": {"ID": "debian", "VERSION_ID": "12",
                       "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"},
        "machine": "x86_64",
        "libc": {"family": "glibc", "version": "2.36"},
        "python": {"implementation": "CPython", "version": "3.11.2", "prefix": "/usr", **python},
        "tags": {"first": None},
    }  # fmt: skip


def sid_env() -> dict[str, Any]:
    return {
        "status": "passed",
        "os_release": {
            "ID": "debian",
            "VERSION_ID": None,
            "PRETTY_NAME": "Debian GNU/Linux forky/sid",
        },
        "machine": "x86_64",
        "libc": {"family": "glibc", "version": "2.43"},
        "python": {"implementation": "CPython", "version": "3.15.2", "prefix": "/usr"},
        "tags": {"first": None},
    }


def contents_index(
    tmp_path: Path, name: str = "bookworm", release: Release = BOOKWORM
) -> fileindex.FileIndex:
    lines = (FIXTURES / f"{name}-Contents-amd64.excerpt").read_text().splitlines(keepends=True)
    return build_index(fileindex.parse_contents(lines), tmp_path / f"{name}.sqlite", release, "x")


def test_contents_maps_headers_pc_files_and_programs_to_packages(tmp_path: Path) -> None:
    index = contents_index(tmp_path)
    assert [p.package for p in index.header("lber.h")] == ["libldap-dev"]
    assert index.header("ffi.h")[0].path == "usr/include/x86_64-linux-gnu/ffi.h"  # multiarch
    assert index.header("libpq-fe.h")[0].package == "libpq-dev"  # found under -I.../postgresql
    assert index.pkg_config("cairo")[0].package == "libcairo2-dev"
    assert index.program("pg_config")[0].package == "libpq-dev"
    assert index.program("mysql_config")[0].package == "libmariadb-dev-compat"
    assert {p.package for p in index.program("cargo")} == {"cargo", "cargo-web"}
    assert index.header("nothing-ships-this.h") == []
    assert index.program("abpoa") != []  # bin/ counts as a program folder
    assert index.find("program", "libffi.so.8") == []  # libraries are not kept


def test_release_from_os_release_or_debians_pretty_name() -> None:
    assert release_of(bookworm_env()) == (BOOKWORM, None)
    assert release_of(sid_env())[0] == Release("debian", "sid", "amd64")
    coded = bookworm_env()
    coded["os_release"] = {"ID": "debian", "VERSION_CODENAME": "trixie", "PRETTY_NAME": "x"}
    assert release_of(coded)[0] == Release("debian", "trixie", "amd64")
    alpine = {"os_release": {"ID": "alpine", "VERSION_ID": "3.20.3"}, "machine": "x86_64"}
    assert release_of(alpine)[0] == Release("alpine", "v3.20", "x86_64")
    release, problem = release_of({"os_release": {"ID": "wolfi"}, "machine": "x86_64"})
    assert release is None and problem is not None and "wolfi" in problem
    assert release_of(None)[0] is None


def test_apkindex_providers_map_pc_and_cmd(tmp_path: Path) -> None:
    rows = parse_apkindex((FIXTURES / "APKINDEX.excerpt").read_text())
    index = build_index(rows, tmp_path / "a.sqlite", Release("alpine", "v3.20", "x86_64"), "x")
    assert index.pkg_config("cairo")[0].package == "cairo-dev"
    assert index.program("pg_config")[0].package == "postgresql16-dev"
    assert index.program("mysql_config")[0].package == "mariadb-connector-c-dev"
    assert index.program("cargo")[0].package == "cargo"
    assert index.header("lber.h") == []  # APKINDEX names no headers


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server with a gzipped Contents file and an APKINDEX.tar.gz."""
    root = tmp_path / "mirror"
    contents = root / "dists" / "bookworm" / "main" / "Contents-amd64.gz"
    contents.parent.mkdir(parents=True)
    text = (FIXTURES / "bookworm-Contents-amd64.excerpt").read_bytes()
    contents.write_bytes(gzip.compress(text))
    apk = root / "v3.20" / "main" / "x86_64" / "APKINDEX.tar.gz"
    apk.parent.mkdir(parents=True)
    with tarfile.open(apk, "w:gz") as tar:
        data = (FIXTURES / "APKINDEX.excerpt").read_bytes()
        info = tarfile.TarInfo("APKINDEX")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *_args: Any) -> None:
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        thread.join(5)


def test_open_index_fetches_once_and_then_reads_the_cache(
    tmp_path: Path, archive: tuple[str, list[str]]
) -> None:
    mirror, requests = archive
    first = open_index(BOOKWORM, cache=tmp_path / "cache", mirror=mirror, timeout_s=10)
    assert first.problem is None and first.fetched and first.index is not None
    assert first.index.header("lber.h")[0].package == "libldap-dev"
    second = open_index(BOOKWORM, cache=tmp_path / "cache", mirror=mirror, timeout_s=10)
    assert not second.fetched and second.index is not None
    assert len(requests) == 1
    alpine = Release("alpine", "v3.20", "x86_64")
    apk = open_index(alpine, cache=tmp_path / "cache", mirror=mirror, timeout_s=10)
    assert apk.index is not None and apk.index.pkg_config("cairo")[0].package == "cairo-dev"


def test_an_index_that_cannot_be_had_says_which_and_why(
    tmp_path: Path, archive: tuple[str, list[str]]
) -> None:
    mirror, _ = archive
    missing = open_index(Release("debian", "nosuch", "amd64"), cache=tmp_path, mirror=mirror)
    assert missing.index is None
    assert missing.problem is not None and "dists/nosuch/main/Contents-amd64.gz" in missing.problem
    assert not list(tmp_path.glob("**/*.sqlite"))  # nothing half-written is left


def test_the_wheel_check_finds_the_versions_with_a_wheel_for_the_base() -> None:
    page = json.loads((FIXTURES / "pydantic-core.simple.json").read_text())
    answer = wheelcheck.check("pydantic-core", "2.33.2", sid_env(), lambda _name: page)
    assert answer.sentence == (
        "pydantic-core 2.33.2 has no wheel for cp315 on manylinux_2_43_x86_64; 2.48.0 is "
        "the first newer version with one (the newest: 2.50.5)"
    )
    assert answer.pin == "pydantic-core==2.50.5"
    on_311 = wheelcheck.check("pydantic-core", "2.33.2", bookworm_env(), lambda _name: page)
    assert on_311.sentence == "pydantic-core 2.33.2 has a wheel for cp311 on manylinux_2_36_x86_64"
    assert on_311.pin is None


def test_the_index_page_is_read_leniently_and_a_malformed_one_is_named() -> None:
    page = wheelcheck.SimplePage.from_data(
        {
            "meta": {"api-version": "1.1"},
            "files": [
                {"filename": "a-1.0-py3-none-any.whl", "yanked": "broken", "size": 1},
                {"filename": "a-1.1-py3-none-any.whl", "requires-python": ">=3.9"},
                {},
            ],
        }
    )
    assert [f.filename for f in page.files] == [
        "a-1.0-py3-none-any.whl", "a-1.1-py3-none-any.whl", "",
    ]  # fmt: skip
    assert page.files[0].yanked == "broken" and page.files[1].requires_python == ">=3.9"
    assert wheelcheck.SimplePage.from_data({}).files == ()
    # A page not shaped as PEP 691 says: the check says so in its sentence, no traceback.
    answer = wheelcheck.check("a", "1.0", sid_env(), lambda _name: {"files": [{"filename": 3}]})
    assert answer.sentence.startswith("wheels of a not checked: the index did not answer (")
    assert "the index's page for a: files.0.filename" in answer.sentence
    listed = wheelcheck.check("a", "1.0", sid_env(), lambda _name: ["a"])
    assert "the index's page for a: (top)" in listed.sentence


def test_the_wheel_check_says_when_it_could_not_check() -> None:
    def offline(_name: str) -> dict[str, Any]:
        raise OSError("Name or service not known")

    answer = wheelcheck.check("pydantic-core", "2.33.2", sid_env(), offline)
    assert "not checked: the index did not answer (Name or service not known)" in answer.sentence
    assert answer.pin is None
    no_facts = wheelcheck.check("pydantic-core", "2.33.2", None, offline)
    assert "not checked: no facts for the base" in no_facts.sentence


@pytest.mark.network
def test_bookworms_real_contents_names_libldap_dev(tmp_path: Path) -> None:
    opened = open_index(BOOKWORM, cache=tmp_path, timeout_s=120)
    assert opened.index is not None, opened.problem
    assert opened.index.header("lber.h")[0].package == "libldap-dev"
    assert opened.index.count() > 100_000
