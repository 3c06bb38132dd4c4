"""Read what pip did: its ``--report`` (format version 1) and its log.

From the report: every installed distribution, and whether it came as a wheel (with
its tag) or as an sdist that pip had to build. From the log: bytes downloaded (pip
prints sizes), source builds and how long each took, and why an install failed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from packaging.tags import parse_tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

if TYPE_CHECKING:
    from harness.model.pipreport import InstallItem, PipReport

# The report's types (pydantic) are imported where a report is read: harness.run.uv imports
# this module's wheel-tag helpers, and reads dist-infos inside a cell's venv with it, where
# only packaging is installed.

# name-version(-build)?-python-abi-platform.whl
WHEEL_NAME = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-(?P<build>\d[^-]*))?-"
    r"(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)
_DOWNLOADING = re.compile(r"Downloading \S+ \((?P<size>[\d.]+) (?P<unit>[kKMG]?B)\)")
_UNITS = {"B": 1, "kB": 1000, "KB": 1000, "MB": 1000**2, "GB": 1000**3}
_LOG_LINE = re.compile(r"^(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3}) (?P<text>.*)$")
_BUILD_EVENT = re.compile(
    r"Building wheel for (?P<name>\S+) \((?P<how>[^)]*)\): (?P<event>started|finished)"
)


def wheel_tag(filename: str) -> str | None:
    """``python-abi-platform`` of a wheel file name as written (compressed tag sets kept),
    None for anything that is not a valid wheel name."""
    try:
        parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    return "-".join(filename.removesuffix(".whl").rsplit("-", 3)[-3:])


def tag_family(tag: str | None) -> str:
    """What a user argues about: manylinux, musllinux, abi3, pure Python, or built."""
    if tag is None:
        return "sdist"
    tags = parse_tag(tag)
    platforms = {t.platform for t in tags}
    if platforms == {"any"}:
        return "pure"
    if any(p.startswith("musllinux") for p in platforms):
        family = "musllinux"
    elif any(p.startswith(("manylinux", "linux")) for p in platforms):
        family = "manylinux"
    else:
        family = tag.split("-", 2)[2]  # as the file name spells it
    return f"{family} abi3" if any(t.abi == "abi3" for t in tags) else family


class DistributionRow(TypedDict, total=False):
    """One installed distribution as the cell runner collects it (pip's report, uv's
    output or the venv's dist-info), before it becomes the record's ``Distribution``:
    the runner adds ``build_seconds`` and ``failed``."""

    name: str | None
    version: str | None
    wheel: bool | None  # None: uv's log did not say
    tag: str | None
    family: str | None
    requested: bool | None
    source: str | None
    build_seconds: float | None
    failed: str  # "build": resolved, but its build failed


def distributions(report: PipReport | Mapping[str, object]) -> list[DistributionRow]:
    """One row per installed distribution (the cell record's ``distributions``), by name.
    Rows are plain dicts: the cell runner adds ``build_seconds`` and ``failed`` to them."""
    from harness.model.pipreport import PipReport

    if not isinstance(report, PipReport):
        report = PipReport.from_data(dict(report))
    rows: list[DistributionRow] = []
    for item in report.install:
        tag = wheel_tag(item.download_info.filename)
        rows.append(
            {
                "name": item.metadata.name or None,
                "version": item.metadata.version,
                "wheel": tag is not None,
                "tag": tag,
                "family": tag_family(tag),
                "requested": item.requested,
                "source": _source_kind(item),
            }
        )
    return sorted(rows, key=lambda r: str(r["name"]).lower())


def _source_kind(item: InstallItem) -> str:
    if item.download_info.dir_info is not None:
        return "local directory"
    if item.download_info.url.startswith("file:"):
        return "wheelhouse"
    return "index"


def read_report(text: str, source: str = "pip's report") -> PipReport:
    """pip's report from its text; PipReportError names what is wrong with it."""
    from harness.model.pipreport import PipReport

    return PipReport.from_json(text, source)


def parse_report(text: str | None) -> PipReport | None:
    """The report, checked against the format (None when there is none, or it is not JSON
    or not shaped as pip documents it): the cell runner's entry point (the report's
    ``environment`` keeps every key pip wrote)."""
    from harness.model.pipreport import PipReport, PipReportError

    if not text:
        return None
    try:
        return PipReport.from_json(text)
    except PipReportError:
        return None


def downloaded_bytes(log: str) -> int | None:
    sizes = [float(m["size"]) * _UNITS.get(m["unit"], 1) for m in _DOWNLOADING.finditer(log)]
    return int(sum(sizes)) if sizes else None


def build_durations(pip_log: str) -> dict[str, float]:
    """Seconds pip spent building each sdist, from the timestamps of ``pip --log``."""
    started: dict[str, datetime] = {}
    durations: dict[str, float] = {}
    for line in pip_log.splitlines():
        stamped = _LOG_LINE.match(line)
        event = _BUILD_EVENT.search(line)
        if not (stamped and event):
            continue
        when = datetime.strptime(stamped["stamp"], "%Y-%m-%dT%H:%M:%S,%f")
        if event["event"] == "started":
            started[event["name"]] = when
        elif event["name"] in started:
            seconds = (when - started.pop(event["name"])).total_seconds()
            durations[event["name"]] = round(seconds, 3)
    return durations


# Most telling first: a network error explains the "no versions found" that follows it.
_FAILURE_KINDS = (
    ("disk-full", re.compile(r"No space left on device|ENOSPC")),
    ("tls-verify", re.compile(r"CERTIFICATE_VERIFY_FAILED")),  # set settings.ca_bundle
    (
        "network",
        re.compile(
            r"NewConnectionError|Max retries exceeded|ReadTimeoutError|"
            r"Temporary failure in name resolution|Connection reset|"
            r"ConnectionResetError|IncompleteRead|ProtocolError|Network is unreachable"
        ),
    ),
    (  # building an sdist needs a compiler the base does not have (musl stand-in, slim);
        # Debian's setuptools names its target-prefixed compiler (x86_64-linux-gnu-gcc)
        "no-compiler",
        re.compile(
            r"command '(\S+-)?(gcc|cc|c\+\+|g\+\+|clang)' failed: No such file or directory|"
            r"unable to execute '(\S+-)?(gcc|cc|clang)'|"
            r"No such file or directory: '(\S+-)?(gcc|cc|c\+\+)'|C compiler cannot create|"
            r"Unknown compiler\(s\)|Could not find a C compiler|cannot link a simple C program"
        ),
    ),
    (  # a compiler is there, but a header or pkg-config (and its .pc file) is not
        "missing-build-dependency",
        re.compile(
            r"fatal error: [\w./+-]+\.h: No such file or directory|pkg-config is required|"
            r"pkg-config: not found|was not found in the pkg-config search path"
        ),
    ),
    (
        "build-failed",
        re.compile(
            r"Failed to build|error: subprocess-exited-with-error|"
            r"Failed building wheel|metadata-generation-failed"
        ),
    ),
    (
        "no-matching-distribution",
        re.compile(r"No matching distribution found|Could not find a version that satisfies"),
    ),
    ("resolution-conflict", re.compile(r"ResolutionImpossible|conflicting dependencies")),
)


def classify_failure(log: str) -> str | None:
    """The first kind whose pattern the log shows (see the order above)."""
    for kind, pattern in _FAILURE_KINDS:
        if pattern.search(log):
            return kind
    return None
