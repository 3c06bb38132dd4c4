"""Python and OS support windows from harness/data/support.toml, on a frozen "today"."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from harness.model.support import (
    BUGFIX,
    END_OF_LIFE,
    LTS,
    NOT_IN_TABLE,
    OS_STATUSES,
    PLANNED,
    PRERELEASE,
    PYTHON_STATUSES,
    SECURITY,
    SUPPORT_FILE,
    SUPPORTED,
    TESTING,
    UNSTABLE,
    load_table,
    os_support,
    parse_python_version,
    parse_table,
    python_support,
    staleness,
)

TODAY = date(2026, 12, 4)


def test_every_entry_has_a_source_and_the_table_its_date() -> None:
    raw = tomllib.loads(SUPPORT_FILE.read_text(encoding="utf-8"))
    assert date.fromisoformat(raw["as_of"])
    entries = [("python", k, v) for k, v in raw["python"].items()]
    entries += [(os_id, k, v) for os_id, rows in raw["os"].items() for k, v in rows.items()]
    assert len(entries) == 9 + 6 + 6  # 3.8-3.16, Debian 10-14 and sid, Alpine 3.19-3.24
    for family, key, entry in entries:
        assert entry["sources"], (family, key)
        assert all(s.startswith("https://") for s in entry["sources"]), (family, key)


def test_the_recorded_status_is_what_the_dates_give_on_the_as_of_day() -> None:
    table = load_table()
    for line in table.python.values():
        assert line.status in PYTHON_STATUSES
        assert line.status_on(table.as_of) == line.status, line.minor
    for release in table.os.values():
        assert release.status in OS_STATUSES
        assert release.status_on(table.as_of) == release.status, (release.os_id, release.release)


def test_the_package_data_line_ships_the_file() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["harness"]
    shipped = SUPPORT_FILE.relative_to(SUPPORT_FILE.parents[2])  # harness/data/support.toml
    assert any(shipped.match(f"harness/{pattern}") for pattern in patterns)


@pytest.mark.parametrize(
    ("version", "minor", "level"),
    [
        ("3.15.0rc2", "3.15", "candidate"),
        ("3.13.15", "3.13", "final"),
        ("3.16.0a1", "3.16", "alpha"),
        ("3.14.0b3", "3.14", "beta"),
        ("3.12", "3.12", None),
        ("3.13.1+", "3.13", "final"),
    ],
)
def test_version_strings(version: str, minor: str, level: str | None) -> None:
    assert parse_python_version(version) == (minor, level)


def test_python_versions_on_the_as_of_day() -> None:
    py311 = python_support("3.11.2", TODAY)
    assert (py311.status, py311.releaselevel, str(py311.security_end)) == (
        SECURITY, "final", "2027-10",
    )  # fmt: skip
    assert py311.days_left == (date(2027, 10, 1) - TODAY).days == 301
    assert py311.describe() == "Python 3.11.2: security fixes only, until 2027-10 (301 days left)"
    assert python_support("3.13.15", TODAY).status == SECURITY  # two years of bug fixes: over
    rc = python_support("3.15.0rc2", TODAY)
    assert (rc.status, rc.releaselevel) == (BUGFIX, "candidate")
    assert "a release candidate, not the final 3.15.0 (out since 2026-10-01)" in rc.describe()
    assert python_support("3.15.2", TODAY).describe() == (
        "Python 3.15.2: bug fixes until 2028-10, security fixes until 2031-10 (1762 days left)"
    )
    alpha = python_support("3.16.0a1", TODAY)
    assert alpha.status == PRERELEASE and "not for production" in alpha.describe()
    eol = python_support("3.10.12", TODAY)
    assert eol.status == END_OF_LIFE and eol.days_left is not None and eol.days_left < 0
    assert python_support("3.12.8 (main, Oct  1 2026) [GCC 14.2.0]", TODAY).minor == "3.12"


def test_the_status_follows_today_not_the_recorded_word() -> None:
    assert python_support("3.16", date(2026, 9, 1)).status == PLANNED
    assert python_support("3.16", date(2027, 10, 5)).status == BUGFIX
    assert python_support("3.11", date(2027, 10, 1)).status == END_OF_LIFE  # a month: its 1st
    assert python_support("3.11", date(2027, 9, 30)).days_left == 1


def test_unknown_versions_say_so_and_never_raise() -> None:
    for text in ("3.17.0", "2.7.18", "pypy", ""):
        answer = python_support(text, TODAY)
        assert answer.status == NOT_IN_TABLE and not answer.in_table
        assert answer.describe().endswith("not in the support table (as of 2026-12-04)")
    ubuntu = os_support("ubuntu", "24.04", TODAY)
    assert ubuntu.status == NOT_IN_TABLE
    assert ubuntu.describe() == "ubuntu 24.04: not in the support table (as of 2026-12-04)"
    assert os_support("alpine", "3.18.4", TODAY).status == NOT_IN_TABLE
    # The musl stand-in's os-release has an ID and no VERSION_ID: no stray space.
    assert os_support("harness-musl-standin", "", TODAY).describe() == (
        "harness-musl-standin: not in the support table (as of 2026-12-04)"
    )


def test_os_releases_by_version_id_or_codename() -> None:
    bookworm = os_support("debian", "12", TODAY)
    assert os_support("debian", "bookworm", TODAY).describe() == bookworm.describe()
    assert bookworm.status == LTS and bookworm.days_left == 574
    assert bookworm.describe() == (
        "Debian 12 (bookworm): regular security support ended 2026-06-10; "
        "Debian LTS until 2028-06-30 (574 days left)"
    )
    trixie = os_support("Debian", "trixie", TODAY)
    assert (trixie.release, trixie.status) == ("13", SUPPORTED)
    assert "until 2028-08, then Debian LTS until 2030-06-30" in trixie.describe()
    for name in ("sid", "forky/sid", "unstable"):
        sid = os_support("debian", name, TODAY)
        assert sid.status == UNSTABLE and sid.days_left is None
        assert "no security support" in sid.describe()
    assert os_support("debian", "14", TODAY).status == TESTING
    alpine = os_support("alpine", "3.22.1", TODAY)
    assert (alpine.release, alpine.status, alpine.days_left) == ("3.22", SUPPORTED, 148)
    assert os_support("alpine", "3.21.3", TODAY).describe() == (
        "Alpine 3.21: end of life since 2026-11-01"
    )
    assert os_support("debian", "11", TODAY).status == END_OF_LIFE  # LTS ended 2026-08-31


def test_a_table_over_a_year_old_says_it_may_be_stale() -> None:
    assert staleness(TODAY) is None
    assert staleness(date(2027, 12, 4)) is None  # 365 days: not yet
    assert staleness(date(2027, 12, 5)) == (
        "the support table is as of 2026-12-04, over a year old: it may be stale"
    )


def test_a_malformed_table_names_the_entry() -> None:
    bad = {"as_of": "2026-12-04", "python": {"3.20": {"status": "planned", "sources": []}}}
    with pytest.raises(ValueError, match=r"python\.3\.20: no sources"):
        parse_table(bad)
    bad = {"as_of": "2026-12-04", "python": {"3.20": {"status": "planned",
           "first_release": "Oct 2031", "sources": ["https://peps.python.org/"]}}}  # fmt: skip
    with pytest.raises(ValueError, match="not YYYY-MM-DD or YYYY-MM"):
        parse_table(bad)


def test_a_misspelled_key_or_a_wrong_type_in_the_table_is_named() -> None:
    entry = {"status": "planned", "sources": ["https://peps.python.org/"]}
    bad = {"as_of": "2026-12-04", "python": {"3.20": {**entry, "security_ned": "2031-10"}}}
    with pytest.raises(ValueError, match=r"python\.3\.20\.security_ned: Extra inputs"):
        parse_table(bad)
    bad = {"as_of": "2026-12-04", "os": {"debian": {"14": {**entry, "codename": 14}}}}
    with pytest.raises(ValueError, match=r"os\.debian\.14\.codename"):
        parse_table(bad)
    good = {"as_of": "2026-12-04", "os": {"debian": {"14": {**entry, "codename": "forky"}}}}
    assert parse_table(good).os["debian", "14"].codename == "forky"
