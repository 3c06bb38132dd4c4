"""Why a pip install failed: which distribution, at which stage, and the cause lines.

pip's console ends a failed build in "╰─> See above for output." because ``--log FILE``
sends the build subprocess's output to that file only. The cause lines (the compiler's
or pkg-config's own words) are therefore read from the log: the output of the last
``Running command …`` block before pip reported the subprocess as failed.

Classified from real pip 23 output collected on the stand-ins (tests/fixtures/pip/).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Where pip was when it failed.
RESOLVE, DOWNLOAD, BUILD, INSTALL = "resolve", "download", "build", "install"
MAX_CAUSE_LINES = 6
MAX_LINE_CHARS = 300
MAX_VERSIONS_LISTED = 4

_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3} ?")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\[[0-9;]*m")
_RICH_MARKUP = re.compile(r"\[/?[a-z ]*\]")
_RUNNING = re.compile(r"^\s*Running command (?P<what>.+?)\s*$")
_BLOCK_END = re.compile(
    r"ERROR: \[present-rich\] .* exited with|error: subprocess-exited-with-error"
)
_SDIST = re.compile(
    r"(?:Downloading|Processing|Using cached) \S*?(?P<file>[^/\s]+)\.(?:tar\.gz|zip)"
)
_SDIST_NAME = re.compile(r"^(?P<name>.+)-(?P<version>[0-9][^-]*)$")
_FOR_NAME = re.compile(r"\bfor (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
_NO_MATCH = re.compile(r"No matching distribution found for (?P<req>\S+)")
_FROM_VERSIONS = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>\S+) "
    r"\(from versions: (?P<versions>[^)]*)\)"
)
_REQUIRES_PYTHON = re.compile(
    r"Ignored the following versions that require a different python version: (?P<list>.+)$",
    re.M,
)
_CAUSE = re.compile(
    r"error:|(?-i:ERROR\b)(?!: \[present-rich\])|fatal error|is required|not found|"
    r"No such file|cannot find|Could not find|was not found|failed|RuntimeError|"
    r"not installed|must have|missing",
    re.I,
)
_NO_COMPILER = re.compile(
    r"command '(?:\S+-)?(?:gcc|cc|c\+\+|g\+\+|clang)' failed: No such file or directory|"
    r"unable to execute '(?:\S+-)?(?:gcc|cc|clang)'|C compiler cannot create|"
    r"Could not find a C compiler|Unknown compiler\(s\)|cannot link a simple C program|"
    r"No such file or directory: '(?:\S+-)?(?:gcc|cc|c\+\+)'"
)
_MISSING_HEADER = re.compile(r"fatal error: (?P<header>[\w./+-]+\.h): No such file or directory")
_MISSING_PKG_CONFIG = re.compile(
    r"pkg-config is required|pkg-config: not found|"
    r"(?:Did not find|could not find|cannot find) pkg-config|"
    r"Package (?P<pc>\S+) was not found in the pkg-config search path",
    re.I,
)

# What to add to the depset, per package manager, when a build lacks its tools.
BUILD_TOOLS: dict[str, tuple[str, ...]] = {
    "apt": ("build-essential", "python3-dev", "pkg-config"),
    "apk": ("build-base", "python3-dev", "pkgconf"),
}


@dataclass(frozen=True)
class PipFailure:
    """The account of one failed install, as the grid, details, summary and JUnit show it."""

    kind: str | None
    stage: str
    distribution: str | None = None  # "av 14.4.0", or the requirement pip could not find
    what: str | None = None  # pip's own name for the failed subprocess
    cause: tuple[str, ...] = ()
    missing: str | None = None  # "a C compiler", "pkg-config", "Python.h"
    hint: str | None = None
    available: str | None = None  # "from versions: …" / "Requires-Python …"
    notes: tuple[str, ...] = field(default=())

    def one_line(self) -> str:
        """``av 14.4.0 (build): pkg-config is required for building PyAV``."""
        subject = self.distribution or "pip"
        cause = self.cause[-1] if self.cause else self.kind or "failed"
        if self.kind == "no-matching-distribution":
            cause = "no matching distribution" + (f" ({self.available})" if self.available else "")
        return f"{subject} ({self.stage}): {cause}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "stage": self.stage,
            "distribution": self.distribution,
            "what": self.what,
            "cause": list(self.cause),
            "missing": self.missing,
            "hint": self.hint,
            "available": self.available,
        }


def clean(line: str) -> str:
    """A log line without pip's timestamp, terminal colours or rich markup, cut to size."""
    text = _RICH_MARKUP.sub("", _ANSI.sub("", _STAMP.sub("", line))).strip()
    return text if len(text) <= MAX_LINE_CHARS else text[: MAX_LINE_CHARS - 1] + "…"


def diagnose(console: str, log: str, kind: str | None, package_manager: str | None) -> PipFailure:
    """The failure pip's console and ``--log`` show; ``kind`` is the classifier's word."""
    lines = [clean(line) for line in log.splitlines()]
    block = _failed_block(lines)
    if block is not None:
        return _build_failure(lines, block, kind, package_manager)
    text = console + "\n" + log
    if kind == "no-matching-distribution" or _NO_MATCH.search(text):
        return _resolve_failure(text)
    stage = DOWNLOAD if kind in ("network", "tls-verify") else _stage_of(text)
    cause = tuple(_causes([clean(x) for x in console.splitlines()]))
    return PipFailure(kind=kind, stage=stage, cause=cause)


def refine_kind(failure: PipFailure, kind: str | None) -> str | None:
    """The build's own words beat the classifier's guess from pip's wrapper text."""
    return failure.kind if failure.stage == BUILD else kind


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    what: str


def _failed_block(lines: Sequence[str]) -> _Block | None:
    """The last ``Running command`` block that pip then reported as failed."""
    end = next((i for i in range(len(lines) - 1, -1, -1) if _BLOCK_END.search(lines[i])), None)
    if end is None:
        return None
    for start in range(end - 1, -1, -1):
        match = _RUNNING.match(lines[start])
        if match and "install build dependencies" not in match["what"]:
            return _Block(start, end, match["what"])
    return None


def _build_failure(
    lines: Sequence[str], block: _Block, kind: str | None, package_manager: str | None
) -> PipFailure:
    output = [x for x in lines[block.start + 1 : block.end] if x]
    cause = tuple(_causes(output))
    text = "\n".join(output)
    missing = _missing(text)
    refined = (
        "no-compiler"
        if missing == "a C compiler"
        else "missing-build-dependency"
        if missing
        else kind
        if kind not in (None, "no-matching-distribution")
        else "build-failed"
    )
    return PipFailure(
        kind=refined,
        stage=BUILD,
        distribution=_distribution(lines[: block.start + 1], block.what),
        what=block.what,
        cause=cause,
        missing=missing,
        hint=build_hint(missing, package_manager) if missing else None,
    )


def _missing(text: str) -> str | None:
    if _NO_COMPILER.search(text):
        return "a C compiler"
    header = _MISSING_HEADER.search(text)
    if header:
        return header["header"]
    pkg = _MISSING_PKG_CONFIG.search(text)
    if pkg:
        return f"{pkg['pc']} (pkg-config)" if pkg["pc"] else "pkg-config"
    return None


def build_hint(missing: str, package_manager: str | None) -> str:
    """What to add to the depset so the build finds what it missed."""
    family = "apk" if package_manager == "apk" else "apt"
    tools = ", ".join(BUILD_TOOLS[family])
    extra = ""
    if missing.endswith(".h") and missing != "Python.h":
        extra = f" plus the -dev package that ships {missing}"
    elif missing.endswith("(pkg-config)"):
        extra = f" plus the -dev package that ships {missing.split(' ')[0]}.pc"
    if package_manager is None:
        return (
            f"the build needs {missing}; this base has no package manager, so use a base "
            f"with one and add system: {{{family}: [{tools}]}}{extra}"
        )
    return f"the build needs {missing}: add system: {{{family}: [{tools}]}}{extra} to the depset"


def _distribution(before: Sequence[str], what: str) -> str | None:
    for line in reversed(before):
        match = _SDIST.search(line)
        if match:
            named = _SDIST_NAME.match(match["file"])
            return f"{named['name']} {named['version']}" if named else match["file"]
    named = _FOR_NAME.search(what)
    return named["name"] if named else None


def _resolve_failure(text: str) -> PipFailure:
    found = _FROM_VERSIONS.search(text) or _NO_MATCH.search(text)
    requirement = found["req"] if found else None
    available = None
    if isinstance(found, re.Match) and "versions" in found.groupdict():
        available = _versions_text(found["versions"])
    ignored = _REQUIRES_PYTHON.search(text)
    if ignored:
        available = f"Requires-Python excludes this Python: {ignored['list'].strip()}"
    return PipFailure(
        kind="no-matching-distribution",
        stage=RESOLVE,
        distribution=requirement,
        available=available,
    )


def _versions_text(listed: str) -> str:
    """pip's "from versions: …" in a line: all of a few, else how many and the newest."""
    versions = [v.strip() for v in listed.split(",") if v.strip() and v.strip() != "none"]
    if not versions:
        return "none at all"
    if len(versions) <= MAX_VERSIONS_LISTED:
        return "available: " + ", ".join(versions)
    newest = ", ".join(reversed(versions[-MAX_VERSIONS_LISTED:]))
    return f"{len(versions)} versions available, the newest {newest}"


def _stage_of(text: str) -> str:
    if "Installing collected packages" in text:
        return INSTALL
    if "Downloading" in text:
        return DOWNLOAD
    return RESOLVE


# pip's own wrapper lines and configure-style probing say nothing about the cause.
_NOISE = re.compile(
    r"^(?:File |raise |checking for |ERROR: \[present-rich\]|Running command )|"
    r"finished with status|^\^+$"
)
_HEADLINE = (_NO_COMPILER, _MISSING_HEADER, _MISSING_PKG_CONFIG)


def _causes(output: Iterable[str]) -> list[str]:
    """The lines that say what went wrong, the most telling last (the headline the grid
    shows): a line naming what is missing beats the last error line."""
    kept = [x for x in output if x and not _NOISE.search(x)]
    causes = [x for x in kept if _CAUSE.search(x)] or kept[-MAX_CAUSE_LINES:]
    headline = next((x for p in _HEADLINE for x in reversed(causes) if p.search(x)), None)
    if headline is not None:
        causes = [x for x in causes if x != headline] + [headline]
    return list(dict.fromkeys(causes))[-MAX_CAUSE_LINES:]
