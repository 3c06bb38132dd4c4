"""How long a Python version and an OS release stay supported, from the table harness ships.

The table is harness/data/support.toml: CPython's feature releases (PEP 602 and each
release's schedule PEP), Debian's and Alpine's releases, every entry with its sources and
the whole table with the date it was written (``as_of``). The status words here are
computed from the dates for the day asked about, so a table a few months old still reads
right; past a year, ``staleness`` says so, since schedules move and new releases appear.

Nothing here raises for a version the table does not hold: the answer says "not in the
support table (as of ...)" instead, because a decision section must still render.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

SUPPORT_FILE = Path(__file__).resolve().parent.parent / "data" / "support.toml"
STALE_AFTER = timedelta(days=365)

# Status words of a Python feature release (the devguide's, plus "planned").
PLANNED = "planned"
PRERELEASE = "prerelease"
BUGFIX = "bugfix"
SECURITY = "security"
END_OF_LIFE = "end-of-life"
# Status words of an OS release.
SUPPORTED = "supported"
LTS = "lts"
TESTING = "testing"
UNSTABLE = "unstable"
NOT_IN_TABLE = "not in the support table"

PYTHON_STATUSES = (PLANNED, PRERELEASE, BUGFIX, SECURITY, END_OF_LIFE)
OS_STATUSES = (TESTING, UNSTABLE, SUPPORTED, LTS, END_OF_LIFE)
# sys.version_info.releaselevel of each pre-release suffix of a version string.
RELEASE_LEVELS = {"a": "alpha", "b": "beta", "rc": "candidate", "": "final"}
RELEASE_LEVEL_WORDS = {"alpha": "an alpha", "beta": "a beta", "candidate": "a release candidate"}
OS_NAMES = {"debian": "Debian", "alpine": "Alpine"}
# Debian's unstable distribution: os-release names it by the testing codename ("forky/sid"
# in /etc/debian_version, no VERSION_ID), so any "/sid" or "unstable" means sid.
DEBIAN_UNSTABLE = "sid"

_PYTHON_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?(?:(a|b|rc)(\d+))?\+?(?:\s|$)")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class When:
    """A date as the source gives it ("2029-10" or "2026-10-01") and the day it is taken as:
    a month alone is its first day, so an end is never later than the source says."""

    text: str
    day: date

    @classmethod
    def parse(cls, value: object, where: str) -> When | None:
        if value is None:
            return None
        text = str(value)
        if _DAY.match(text):
            return cls(text, date.fromisoformat(text))
        if _MONTH.match(text):
            return cls(text, date.fromisoformat(f"{text}-01"))
        raise ValueError(f"{SUPPORT_FILE.name}: {where}: {text!r} is not YYYY-MM-DD or YYYY-MM")

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PythonLine:
    """One CPython feature release (3.x) as the table gives it."""

    minor: str
    status: str  # as the sources said on the table's as_of date
    pep: int | None
    first_prerelease: When | None
    first_release: When | None
    bugfix_end: When | None
    security_end: When | None
    sources: tuple[str, ...]

    def status_on(self, today: date) -> str:
        if self.first_release is None or today < self.first_release.day:
            started = self.first_prerelease is not None and today >= self.first_prerelease.day
            return PRERELEASE if started else PLANNED
        if self.bugfix_end is None or today < self.bugfix_end.day:
            return BUGFIX
        if self.security_end is None or today < self.security_end.day:
            return SECURITY
        return END_OF_LIFE


@dataclass(frozen=True)
class OsLine:
    """One OS release (Debian 12, Alpine 3.22, ...) as the table gives it."""

    os_id: str
    release: str
    codename: str | None
    status: str
    released: When | None
    security_end: When | None
    lts_end: When | None
    sources: tuple[str, ...]

    def status_on(self, today: date) -> str:
        if self.released is None or today < self.released.day:
            return self.status if self.status in (TESTING, UNSTABLE) else TESTING
        if self.security_end is None or today < self.security_end.day:
            return SUPPORTED
        if self.lts_end is not None and today < self.lts_end.day:
            return LTS
        return END_OF_LIFE

    @property
    def support_end(self) -> When | None:
        """The last day of any support without a paid contract (LTS where there is one)."""
        return self.lts_end or self.security_end


@dataclass(frozen=True)
class SupportTable:
    as_of: date
    python: dict[str, PythonLine]
    os: dict[tuple[str, str], OsLine]


# -- the TOML document, validated once (a misspelled key or a wrong type is named) ------------


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    status: str
    sources: list[str] = []


class _PythonEntry(_Entry):
    pep: int | None = None
    first_prerelease: str | None = None
    first_release: str | None = None
    bugfix_end: str | None = None
    security_end: str | None = None


class _OsEntry(_Entry):
    codename: str | None = None
    released: str | None = None
    security_end: str | None = None
    lts_end: str | None = None


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    as_of: str | None = None
    python: dict[str, _PythonEntry] = {}
    os: dict[str, dict[str, _OsEntry]] = {}


def _sources(entry: _Entry, where: str) -> tuple[str, ...]:
    if not entry.sources or not all(entry.sources):
        raise ValueError(f"{SUPPORT_FILE.name}: {where}: no sources")
    return tuple(entry.sources)


def parse_table(data: Mapping[str, object]) -> SupportTable:
    """The table from the TOML document; ValueError names the entry that is wrong."""
    try:
        document = _Document.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{SUPPORT_FILE.name}: {where}: {first['msg']}") from None
    as_of = When.parse(document.as_of, "as_of")
    if as_of is None:
        raise ValueError(f"{SUPPORT_FILE.name}: as_of is missing")
    python = {}
    for minor, entry in document.python.items():
        where = f"python.{minor}"
        python[minor] = PythonLine(
            minor=minor,
            status=entry.status,
            pep=entry.pep,
            first_prerelease=When.parse(entry.first_prerelease, where),
            first_release=When.parse(entry.first_release, where),
            bugfix_end=When.parse(entry.bugfix_end, where),
            security_end=When.parse(entry.security_end, where),
            sources=_sources(entry, where),
        )
    releases = {}
    for os_id, entries in document.os.items():
        for release, os_entry in entries.items():
            where = f"os.{os_id}.{release}"
            releases[os_id, release] = OsLine(
                os_id=os_id,
                release=release,
                codename=os_entry.codename,
                status=os_entry.status,
                released=When.parse(os_entry.released, where),
                security_end=When.parse(os_entry.security_end, where),
                lts_end=When.parse(os_entry.lts_end, where),
                sources=_sources(os_entry, where),
            )
    return SupportTable(as_of.day, python, releases)


@cache
def load_table(path: Path = SUPPORT_FILE) -> SupportTable:
    with path.open("rb") as handle:
        return parse_table(tomllib.load(handle))


def staleness(today: date, table: SupportTable | None = None) -> str | None:
    """The warning every reader of the table gets once it is over a year old, else None."""
    table = table or load_table()
    if today <= table.as_of + STALE_AFTER:
        return None
    return f"the support table is as of {table.as_of.isoformat()}, over a year old: it may be stale"


def _days(end: When | None, today: date) -> int | None:
    return None if end is None else (end.day - today).days


def _left(days: int | None) -> str:
    if days is None:
        return ""
    return f" ({days} day{'s' if days != 1 else ''} left)"


# ------------------------------------------------------------------------------ Python


@dataclass(frozen=True)
class PythonSupport:
    """A Python version's place in its feature release's life, on ``today``.

    ``releaselevel`` is the build's own (sys.version_info's words: alpha, beta, candidate,
    final); ``status`` is the feature release's (a 3.15.0rc2 build of a 3.15 already out is
    status bugfix, releaselevel candidate). ``days_left`` counts to the end of security
    fixes, negative once they have ended, None when unknown.
    """

    version: str
    minor: str | None
    releaselevel: str | None
    status: str
    first_release: When | None
    bugfix_end: When | None
    security_end: When | None
    days_left: int | None
    sources: tuple[str, ...]
    as_of: date

    @property
    def in_table(self) -> bool:
        return self.status != NOT_IN_TABLE

    def describe(self) -> str:
        """One line for a decision row: the status, the ends, the days left."""
        name = f"Python {self.version}"
        if not self.in_table:
            return f"{name}: {NOT_IN_TABLE} (as of {self.as_of.isoformat()})"
        if self.status in (PLANNED, PRERELEASE):
            level = RELEASE_LEVEL_WORDS.get(self.releaselevel or "", "")
            what = f"{level} of {self.minor}, not a release" if level else self.status
            final = f"{self.minor}.0 final planned {self.first_release or 'on no date yet'}"
            return f"{name}: {what} ({final}); not for production"
        prefix = ""
        if self.releaselevel in RELEASE_LEVEL_WORDS:  # a pre-release build of a released line
            prefix = (
                f"{RELEASE_LEVEL_WORDS[self.releaselevel]}, not the final {self.minor}.0 "
                f"(out since {self.first_release}); "
            )
        if self.status == END_OF_LIFE:
            return f"{name}: {prefix}end of life since {self.security_end}: no more security fixes"
        left = _left(self.days_left)
        if self.status == SECURITY:
            return f"{name}: {prefix}security fixes only, until {self.security_end}{left}"
        return (
            f"{name}: {prefix}bug fixes until {self.bugfix_end}, "
            f"security fixes until {self.security_end}{left}"
        )


def parse_python_version(version: str) -> tuple[str, str | None] | None:
    """("3.15", "candidate") of "3.15.0rc2"; ("3.13", "final") of "3.13.15"; ("3.13", None)
    of "3.13"; None when the text is no CPython version. A full ``sys.version`` is fine."""
    match = _PYTHON_VERSION.match(version)
    if match is None:
        return None
    major, minor, micro, level, _serial = match.groups()
    if micro is None and level is None:  # "3.16": a feature release, no build named
        return f"{int(major)}.{int(minor)}", None
    return f"{int(major)}.{int(minor)}", RELEASE_LEVELS[level or ""]


def python_support(version: str, today: date, table: SupportTable | None = None) -> PythonSupport:
    """Where ``version`` ("3.15.0rc2", "3.13.15", "3.12") stands on ``today``."""
    table = table or load_table()
    version = version.strip().split(" ", 1)[0] or version  # a full sys.version: its first word
    parsed = parse_python_version(version)
    minor, level = parsed if parsed else (None, None)
    line = table.python.get(minor or "")
    if line is None:
        return PythonSupport(
            version, minor, level, NOT_IN_TABLE, None, None, None, None, (), table.as_of
        )
    return PythonSupport(
        version=version,
        minor=minor,
        releaselevel=level,
        status=line.status_on(today),
        first_release=line.first_release,
        bugfix_end=line.bugfix_end,
        security_end=line.security_end,
        days_left=_days(line.security_end, today),
        sources=line.sources,
        as_of=table.as_of,
    )


# ------------------------------------------------------------------------------ OS


@dataclass(frozen=True)
class OsSupport:
    """An OS release's support on ``today``. ``days_left`` counts to the end of any free
    support (Debian LTS where there is one), negative once it has ended."""

    os_id: str
    version: str
    release: str | None
    codename: str | None
    status: str
    released: When | None
    security_end: When | None
    lts_end: When | None
    days_left: int | None
    sources: tuple[str, ...]
    as_of: date

    @property
    def in_table(self) -> bool:
        return self.status != NOT_IN_TABLE

    def describe(self) -> str:
        """One line for a decision row."""
        name = OS_NAMES.get(self.os_id, self.os_id)
        if not self.in_table:
            label = f"{name} {self.version}".strip()  # an os-release without VERSION_ID
            return f"{label}: {NOT_IN_TABLE} (as of {self.as_of.isoformat()})"
        label = f"{name} {self.release}" + (
            f" ({self.codename})" if self.codename and self.codename != self.release else ""
        )
        left = _left(self.days_left)
        if self.status == UNSTABLE:
            return f"{label}: the unstable branch, never released: no security support"
        if self.status == TESTING:
            return f"{label}: not released yet (testing): no security support"
        if self.status == END_OF_LIFE:
            return f"{label}: end of life since {self.lts_end or self.security_end}"
        if self.status == LTS:
            return (
                f"{label}: regular security support ended {self.security_end}; "
                f"Debian LTS until {self.lts_end}{left}"
            )
        then = f", then Debian LTS until {self.lts_end}" if self.lts_end else ""
        return f"{label}: security support until {self.security_end}{then}{left}"


def _os_line(table: SupportTable, os_id: str, version: str) -> OsLine | None:
    """The table's entry for an os-release ID and a VERSION_ID or codename."""
    wanted = version.strip().lower()
    if os_id == "debian" and (wanted in (DEBIAN_UNSTABLE, "unstable") or wanted.endswith("/sid")):
        wanted = DEBIAN_UNSTABLE
    parts = wanted.split(".")
    for key in (wanted, ".".join(parts[:2]), parts[0]):  # 3.22.1 -> 3.22; 12.8 -> 12
        if (os_id, key) in table.os:
            return table.os[os_id, key]
    return next(
        (line for (oid, _), line in table.os.items() if oid == os_id and line.codename == wanted),
        None,
    )


def os_support(
    os_release_id: str, version_id_or_codename: str, today: date, table: SupportTable | None = None
) -> OsSupport:
    """Where an OS release stands on ``today``: os-release's ID ("debian", "alpine") and its
    VERSION_ID ("12", "3.22.1") or VERSION_CODENAME ("bookworm", "sid")."""
    table = table or load_table()
    os_id = os_release_id.strip().lower()
    line = _os_line(table, os_id, version_id_or_codename)
    if line is None:
        return OsSupport(
            os_id, version_id_or_codename, None, None, NOT_IN_TABLE, None, None, None, None, (),
            table.as_of,
        )  # fmt: skip
    return OsSupport(
        os_id=os_id,
        version=version_id_or_codename,
        release=line.release,
        codename=line.codename,
        status=line.status_on(today),
        released=line.released,
        security_end=line.security_end,
        lts_end=line.lts_end,
        days_left=_days(line.support_end, today),
        sources=line.sources,
        as_of=table.as_of,
    )
