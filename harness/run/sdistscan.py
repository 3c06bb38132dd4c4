"""What an sdist's C sources include, read from the sdist itself: so a failed build's fix
names every library header in one round, not only the first one the compiler stopped at.

A compiler stops at the first missing header of a file, and setuptools at the first file
that fails: python-ldap fails on ``Python.h``, then ``lber.h``, then ``sasl/sasl.h``, one
round each. After a build failed, the failed distribution's sdist is fetched on the host
(its URL from the index's simple API; bounded in size and time), and every
``#include <…>`` of its C/C++ files and every ``dependency('…')`` of its meson files is
listed, with the files the sdist ships itself (its own headers are not missing). The fix
generator (run.pipfailure) maps them to packages with the base's file index.
"""

from __future__ import annotations

import io
import re
import ssl
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from harness.run.wheelcheck import Fetch, SimplePage

MAX_SDIST_BYTES = 64 * 1024 * 1024
MAX_SOURCE_BYTES = 2 * 1024 * 1024  # one source file read at most this far
DEFAULT_TIMEOUT_S = 30.0
C_SUFFIXES = (".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx", ".C", ".H")
_INCLUDE = re.compile(rb"^[ \t]*#[ \t]*include[ \t]*<(?P<header>[^>\s]+)>", re.M)
_MESON_DEPENDENCY = re.compile(rb"\bdependency\(\s*'(?P<name>[\w.+-]+)'")


@dataclass(frozen=True)
class SdistSources:
    """What an sdist's sources ask of the system."""

    sdist: str  # its file name
    headers: tuple[str, ...]  # as written in #include <…>, sorted
    pkg_config: tuple[str, ...]  # meson dependency('…') names, sorted
    shipped: frozenset[str]  # every file path in the sdist, without its top folder


# (name, version) → the sdist's sources, or None when they could not be had.
Scan = Callable[[str, str], "SdistSources | None"]


def fetch_sources(
    pages: Fetch, timeout_s: float = DEFAULT_TIMEOUT_S, cafile: str | None = None
) -> Scan:
    """A scanner that finds ``name``'s sdist of ``version`` on the index and reads it."""
    context = ssl.create_default_context(cafile=cafile) if cafile else None

    def scan(name: str, version: str) -> SdistSources | None:
        try:
            url, filename = sdist_url(pages(name), name, version) or (None, None)
            if url is None or filename is None:
                return None
            started = time.monotonic()
            with urllib.request.urlopen(url, timeout=timeout_s, context=context) as response:
                data = _read_bounded(response, started + timeout_s)
            return read_sources(filename, data)
        except (OSError, ValueError, EOFError, tarfile.TarError, zipfile.BadZipFile):
            return None

    return scan


def sdist_url(page: object, name: str, version: str) -> tuple[str, str] | None:
    """The (url, file name) of ``name``'s sdist of ``version`` on a simple-API page
    (ValueError, from SimplePage, when the page is not shaped as PEP 691 says)."""
    wanted = canonicalize_name(name)
    for item in SimplePage.from_data(page).files:
        stem = item.filename.removesuffix(".tar.gz").removesuffix(".zip")
        if stem == item.filename:
            continue
        project, _, file_version = stem.rpartition("-")
        if canonicalize_name(project) == wanted and file_version == version and item.url:
            return item.url, item.filename
    return None


def read_sources(filename: str, data: bytes) -> SdistSources:
    """The includes, meson dependencies and file list of an sdist's bytes."""
    headers: set[str] = set()
    modules: set[str] = set()
    shipped: set[str] = set()
    for path, content in _members(filename, data, _wanted):
        inner = path.split("/", 1)[1] if "/" in path else path
        shipped.add(inner)
        if content is None:
            continue
        if path.endswith(C_SUFFIXES):
            headers.update(
                m["header"].decode("utf-8", "replace") for m in _INCLUDE.finditer(content)
            )
        else:
            modules.update(m["name"].decode() for m in _MESON_DEPENDENCY.finditer(content))
    return SdistSources(
        filename, tuple(sorted(headers)), tuple(sorted(modules)), frozenset(shipped)
    )


def _wanted(path: str) -> bool:
    return path.endswith(C_SUFFIXES) or path.rsplit("/", 1)[-1] == "meson.build"


def _members(
    filename: str, data: bytes, wanted: Callable[[str], bool]
) -> Iterator[tuple[str, bytes | None]]:
    """(path, content when ``wanted``) for each file of a .tar.gz or .zip sdist."""
    if filename.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    with archive.open(info) as handle:
                        content = handle.read(MAX_SOURCE_BYTES) if wanted(info.filename) else None
                    yield info.filename, content
        return
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive:
            if member.isfile():
                source = archive.extractfile(member) if wanted(member.name) else None
                yield member.name, source.read(MAX_SOURCE_BYTES) if source else None


def _read_bounded(response: Any, deadline: float) -> bytes:
    chunks, size = [], 0
    while chunk := response.read(1 << 20):
        size += len(chunk)
        if size > MAX_SDIST_BYTES:
            raise ValueError(f"the sdist is larger than {MAX_SDIST_BYTES} bytes")
        if time.monotonic() > deadline:
            raise TimeoutError("the sdist did not download in time")
        chunks.append(chunk)
    return b"".join(chunks)
