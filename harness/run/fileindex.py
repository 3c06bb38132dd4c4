"""Which package of a base's own distribution ships a file: a header, a pkg-config module
or a program. Read from the distribution's published file index, never from a table.

- Debian (and derivatives that use its archive): ``dists/SUITE/main/Contents-ARCH.gz``
  maps every file path of every package in ``main`` to ``section/package[,...]`` (what
  ``apt-file`` reads). It is fetched once per suite and architecture (bookworm: 11.6 MB),
  and only the paths a build can miss are kept, in an SQLite file in harness's cache:
  headers under ``usr/include`` (the multiarch folder folded in, so ``ffi.h`` is found
  where ``#include <ffi.h>`` looks), ``.pc`` files in the pkg-config folders, and programs
  in ``bin``/``sbin`` folders. ``contrib`` and ``non-free`` are not read.
- Alpine: ``APKINDEX`` lists, per package, its providers (``p:pc:cairo=1.18.0``,
  ``cmd:pg_config=16.2-r0``); it names no headers. Alpine's mirror is not reachable where
  harness is developed, so this reader is tested on a fixture only.

The suite comes from the base's env probe (os-release ``VERSION_CODENAME``, else the
codename Debian puts in ``PRETTY_NAME``). When the index cannot be had (offline, an
unknown distribution), ``open_index`` says why, and the caller says the package could not
be looked up: a package is never guessed.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sqlite3
import tarfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from harness.model.cache import cache_root

Kind = Literal["header", "pkgconfig", "program"]
DEBIAN_MIRROR = "http://deb.debian.org/debian"
ALPINE_MIRROR = "https://dl-cdn.alpinelinux.org/alpine"
DEFAULT_TIMEOUT_S = 60.0
MAX_AGE_S = 30 * 24 * 3600  # a suite's file layout barely moves; refetch monthly
SCHEMA = 1
DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "i386", "armv7l": "armhf"}
DEBIAN_LIKE = ("debian", "ubuntu")  # both publish Contents-ARCH.gz per suite
# Debian's PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)", "Debian GNU/Linux forky/sid".
_PRETTY_CODENAME = re.compile(r"\((?P<paren>[a-z]+)\)\s*$|(?:^|\s)[a-z]+/(?P<slash>[a-z]+)\s*$")

_MULTIARCH = r"(?:[a-z0-9_]+-linux-[a-z0-9_]+/)?"
_HEADER = re.compile(rf"^usr/include/{_MULTIARCH}(?P<key>.+\.(?:h|hh|hpp|hxx|H))$")
_PKGCONFIG = re.compile(rf"^usr/(?:lib/{_MULTIARCH}|share/)pkgconfig/(?P<key>[^/]+)\.pc$")
_PROGRAM = re.compile(r"^(?:usr/)?s?bin/(?P<key>[^/]+)$")


@dataclass(frozen=True)
class Release:
    """A base's distribution: ``debian``/``bookworm``, ``alpine``/``v3.20``."""

    distribution: str
    release: str
    arch: str  # the distribution's own name: amd64, x86_64

    def __str__(self) -> str:
        return f"{self.distribution} {self.release} ({self.arch})"


@dataclass(frozen=True)
class Provider:
    """One package that ships the wanted file, and the file's path in it."""

    package: str
    path: str


class _EnvFacts(BaseModel):
    """Of the env probe's output, what names a release: os-release (a file of free keys)
    and ``uname -m``."""

    model_config = ConfigDict(extra="ignore")
    os_release: dict[str, object] | None = None
    machine: object = None


def release_of(env: Mapping[str, object] | None) -> tuple[Release | None, str | None]:
    """The distribution release a base's env probe reports, or why it cannot be told."""
    if not isinstance(env, Mapping):
        return None, "the base's env probe gave no facts"
    facts = _EnvFacts.model_validate(dict(env))
    os_release = facts.os_release or {}
    ident = str(os_release.get("ID") or "").lower()
    machine = str(facts.machine or "")
    if ident in DEBIAN_LIKE:
        codename = os_release.get("VERSION_CODENAME")
        if not codename:
            found = _PRETTY_CODENAME.search(str(os_release.get("PRETTY_NAME") or ""))
            codename = (found["paren"] or found["slash"]) if found else None
        arch = DEBIAN_ARCH.get(machine)
        if not codename or not arch:
            return None, f"os-release names no {ident} suite for machine {machine or '?'}"
        return Release(ident, str(codename), arch), None
    if ident == "alpine":
        version = str(os_release.get("VERSION_ID") or "")
        branch = ".".join(version.split(".")[:2])
        if not branch or not machine:
            return None, "os-release names no Alpine version"
        return Release("alpine", f"v{branch}", machine), None
    return None, f"no file index is known for distribution {ident or '(no os-release ID)'}"


_SELECT = (
    "SELECT p.name, d.pattern, f.key FROM files f "
    "JOIN packages p ON p.id = f.package JOIN folders d ON d.id = f.folder"
)


class FileIndex:
    """The lookup kept in SQLite: (kind, key) → package and path, with a by-name column
    (a header's last path part) for headers included through a ``-I`` folder."""

    def __init__(self, path: Path, release: Release):
        self.path = path
        self.release = release

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[Provider]:
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            rows = db.execute(sql, args).fetchall()
        seen = dict.fromkeys(Provider(str(p), str(f).replace("{}", k, 1)) for p, f, k in rows)
        return sorted(seen, key=lambda p: (not p.package.endswith("-dev"), len(p.path), p.package))

    def find(self, kind: Kind, key: str) -> list[Provider]:
        """Packages shipping exactly ``key`` (``lber.h``, ``cairo``, ``pg_config``)."""
        return self._query(
            f"{_SELECT} WHERE f.kind = ? AND f.key = ?",
            (kind, key),
        )

    def header(self, name: str) -> list[Provider]:
        """Packages shipping ``name`` as written in ``#include``; else in any include
        subfolder (the build adds ``-I/usr/include/SUB``)."""
        exact = self.find("header", name)
        if exact:
            return exact
        return self._query(
            f"{_SELECT} WHERE f.kind = 'header' AND f.base = ?",
            (name.rsplit("/", 1)[-1],),
        )

    def pkg_config(self, module: str) -> list[Provider]:
        return self.find("pkgconfig", module)

    def program(self, name: str) -> list[Provider]:
        return self.find("program", name)

    def count(self) -> int:
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM files").fetchone()[0])


# -- reading the distributions' formats ---------------------------------------------------


def parse_contents(lines: Iterable[str]) -> Iterator[tuple[Kind, str, str, str]]:
    """(kind, key, path, package) for the kept lines of a Debian ``Contents`` file.

    A line is ``PATH<spaces>section/pkg[,section/pkg...]``; the path may hold spaces,
    so the split is at the last run of spaces.
    """
    for line in lines:
        path, _, owners = line.rstrip("\n").rpartition(" ")
        path = path.rstrip()
        if not path or not owners:
            continue
        for kind, pattern in (
            ("header", _HEADER),
            ("pkgconfig", _PKGCONFIG),
            ("program", _PROGRAM),
        ):
            match = pattern.match(path)
            if match:
                for owner in owners.split(","):
                    yield kind, match["key"], path, owner.rsplit("/", 1)[-1]  # type: ignore[misc]
                break


def parse_apkindex(text: str) -> Iterator[tuple[Kind, str, str, str]]:
    """(kind, key, provider, package) for an Alpine ``APKINDEX``: ``pc:`` and ``cmd:``
    providers (Alpine's index names no headers)."""
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            tag, sep, value = line.partition(":")
            if sep and len(tag) == 1:
                fields[tag] = value
        package = fields.get("P")
        if not package:
            continue
        for provided in fields.get("p", "").split():
            name = provided.split("=", 1)[0]
            if name.startswith("pc:"):
                yield "pkgconfig", name[3:], provided, package
            elif name.startswith("cmd:"):
                yield "program", name[4:], provided, package


def build_index(
    rows: Iterable[tuple[Kind, str, str, str]], target: Path, release: Release, source: str
) -> FileIndex:
    """Write the lookup to ``target`` (atomically: a half-written index is never read)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Cells fail at the same time in several processes: each writes its own file.
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(partial) as db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
            "CREATE TABLE packages (id INTEGER PRIMARY KEY, name TEXT UNIQUE);"
            "CREATE TABLE folders (id INTEGER PRIMARY KEY, pattern TEXT);"
            "CREATE TABLE files (kind TEXT, key TEXT, base TEXT, folder INTEGER, package INTEGER);"
        )
        # Paths are stored as a folder pattern ("usr/include/{}") and the key, and a
        # header's last part only where it differs from the key: bookworm's 300,000 kept
        # paths take ~45 MB instead of ~60 MB.
        ids: dict[str, int] = {}
        folders: dict[str, int] = {}
        batch = []
        for kind, key, path, package in rows:
            package_id = ids.setdefault(package, len(ids) + 1)
            pattern = path.replace(key, "{}", 1) if key in path else path
            folder_id = folders.setdefault(pattern, len(folders) + 1)
            base = key.rsplit("/", 1)[-1]
            batch.append((kind, key, base if base != key else None, folder_id, package_id))
        db.executemany("INSERT INTO packages VALUES (?, ?)", [(i, n) for n, i in ids.items()])
        db.executemany("INSERT INTO folders VALUES (?, ?)", [(i, f) for f, i in folders.items()])
        db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)", batch)
        db.executescript(
            "CREATE INDEX by_key ON files (kind, key);"
            "CREATE INDEX by_base ON files (kind, base) WHERE base IS NOT NULL;"
        )
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("schema", str(SCHEMA)), ("source", source), ("release", str(release))],
        )
    partial.replace(target)
    return FileIndex(target, release)


def index_url(release: Release, mirror: str | None = None) -> str:
    if release.distribution == "alpine":
        return f"{mirror or ALPINE_MIRROR}/{release.release}/main/{release.arch}/APKINDEX.tar.gz"
    return f"{mirror or DEBIAN_MIRROR}/dists/{release.release}/main/Contents-{release.arch}.gz"


def index_path(release: Release, cache: Path | None = None) -> Path:
    folder = (cache or cache_root()) / "file-index"
    return folder / f"{release.distribution}-{release.release}-{release.arch}.sqlite"


@dataclass(frozen=True)
class Opened:
    """An index ready for lookups, or why there is none; and what opening it cost."""

    index: FileIndex | None
    problem: str | None = None
    fetched: bool = False
    seconds: float = 0.0


def open_index(
    release: Release,
    *,
    cache: Path | None = None,
    mirror: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Opened:
    """The cached lookup for ``release``, fetched and parsed when missing or old."""
    started = time.monotonic()
    target = index_path(release, cache)
    if target.is_file() and time.time() - target.stat().st_mtime < MAX_AGE_S:
        return Opened(FileIndex(target, release), seconds=time.monotonic() - started)
    url = index_url(release, mirror)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            data = _read_bounded(response, started + timeout_s)
        rows = _rows(release, data)
        index = build_index(rows, target, release, url)
    except (OSError, EOFError, ValueError, tarfile.TarError, sqlite3.Error) as err:
        if target.is_file():  # an old index beats none
            return Opened(FileIndex(target, release), seconds=time.monotonic() - started)
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        return Opened(None, f"{url} could not be read ({reason})", True, time.monotonic() - started)
    return Opened(index, fetched=True, seconds=time.monotonic() - started)


def _read_bounded(response: Any, deadline: float) -> bytes:
    chunks = []
    while chunk := response.read(1 << 20):
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError("the download did not finish in time")
    return b"".join(chunks)


def _rows(release: Release, data: bytes) -> Iterator[tuple[Kind, str, str, str]]:
    if release.distribution == "alpine":
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            member = archive.extractfile("APKINDEX")
            if member is None:
                raise ValueError("APKINDEX.tar.gz holds no APKINDEX")
            return parse_apkindex(member.read().decode("utf-8", "replace"))
    text = io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(data)), "utf-8", "replace")
    return parse_contents(text)
