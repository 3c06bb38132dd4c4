"""Why a pip install failed: which distribution, at which stage, and the cause lines.

pip's console ends a failed build in "╰─> See above for output." because ``--log FILE``
sends the build subprocess's output to that file only. The cause lines (the compiler's
or pkg-config's own words) are therefore read from the log: the output of the last
``Running command …`` block before pip reported the subprocess as failed.

Classified from real pip 23 and 25 output collected on the stand-ins (tests/fixtures/pip/).

What the build missed (a toolchain, a header, a pkg-config module, a ``*-config``
program) is mapped to the package of the base's own distribution that ships it, from the
distribution's file index (``run.fileindex``), and whether another version of the
distribution has a wheel for the base is read from the index's simple API
(``run.wheelcheck``). Both are looked up on the host after the install failed, bounded by
a timeout; what could not be looked up is said, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import NotRequired, TypedDict

from harness.model.results import EnvProbe
from harness.run import fileindex, sdistscan, wheelcheck

# Where pip was when it failed.
RESOLVE, DOWNLOAD, BUILD, INSTALL = "resolve", "download", "build", "install"
MAX_CAUSE_LINES = 6
MAX_LINE_CHARS = 300
MAX_VERSIONS_LISTED = 4

_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3} ?")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\[[0-9;]*m")
_RICH_MARKUP = re.compile(r"\[/?[a-z ]*\]")
_RUNNING = re.compile(r"^\s*Running command (?P<what>.+?)\s*$")
# pip 23: "ERROR: [present-rich] X exited with 1"; pip 25: "ERROR: X exited with 1".
_BLOCK_END = re.compile(
    r"^ERROR: (?:\[present-rich\] )?.* exited with -?\d+|error: subprocess-exited-with-error"
)
_SDIST = re.compile(
    r"(?:Downloading|Processing|Using cached) \S*?(?P<file>[^/\s]+)\.(?:tar\.gz|zip)"
)
_SDIST_NAME = re.compile(r"^(?P<name>.+)-(?P<version>[0-9][^-]*)$")
_FOR_NAME = re.compile(r"\bfor (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
# pip's console after a failed metadata build: "╰─> pydantic-core".
_ENCOUNTERED = re.compile(
    r"Encountered error while generating package metadata\.\s*\W*\s*(?P<name>[A-Za-z0-9][\w.-]*)"
)
_COLLECTING = re.compile(
    r"Collecting (?P<name>[A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;,()]+)"
    r"(?: \(from (?P<parent>[^)]*)\))?"
)
_REMOVED = re.compile(
    r"Removed (?P<name>[A-Za-z0-9][\w.-]*)==(?P<version>\S+) from \S+\.(?:tar\.gz|zip)"
)
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
_NO_CXX = re.compile(
    r"command '(?:\S+-)?(?:g\+\+|c\+\+|clang\+\+)' failed: No such file|"
    r"No such file or directory: '(?:\S+-)?(?:g\+\+|c\+\+)'|"
    r"No CMAKE_CXX_COMPILER could be found|Unknown compiler\(s\): \[\['c\+\+'"
)
_NO_RUST = re.compile(
    r"Rust not found|can't find Rust compiler|Cargo, the Rust package manager, is not installed|"
    r"cargo: (?:command )?not found|No such file or directory: 'cargo'|"
    r"Unable to find (?:cargo|rustc)|rustc: (?:command )?not found",
    re.I,
)
_NO_FORTRAN = re.compile(
    r"Unknown compiler\(s\): \[\['gfortran'|No Fortran compiler|gfortran: (?:command )?not found|"
    r"Could not find a Fortran compiler|need a Fortran compiler",
    re.I,
)
_NO_CMAKE = re.compile(
    r"cmake: (?:command )?not found|No such file or directory: 'cmake'|"
    r"CMake (?:must be installed|is not installed|was not found)|Could not find CMake|"
    r"'cmake' is not recognized",
    re.I,
)
_MISSING_HEADER = re.compile(
    r"fatal error: (?P<header>[\w./+-]+\.(?:h|hh|hpp|hxx)): No such file or directory"
)
_MISSING_PKG_CONFIG = re.compile(
    r"pkg-config is required|pkg-config: not found|"
    r"(?:Did not find|could not find|cannot find) pkg-config|"
    r"Package '?(?P<pc>[\w.+-]+?)'?,? (?:was not found in the pkg-config search path|"
    r"required by '[^']*', not found)|"
    r"Dependency \"(?P<meson>[\w.+-]+)\" not found|"
    r"Can not find valid pkg-config name",
    re.I,
)
# psycopg2 "pg_config executable not found", mysqlclient "mysql_config not found".
_MISSING_CONFIG = re.compile(r"\b(?P<program>[\w.+]+[-_]config)(?: executable)? not found", re.I)
# mysqlclient names the modules it tried: "Trying pkg-config --exists mysqlclient".
_TRIED_PC = re.compile(r"pkg-config --exists (?P<pc>[\w.+-]+)")
# The compiler ran (so it is there): a compiler's own error, or meson naming it.
_COMPILER_RAN = re.compile(
    r"fatal error: |C compiler for the host machine: |^(?:\S+-)?gcc -|^(?:\S+-)?(?:cc|clang) -"
)

# The C toolchain, per package manager: each distribution's own build metapackage, which
# ships no file a build names (so no file index can map it). pkg-config and Python's
# headers are looked up in the index (the latter by the base's Python version, for the
# distribution's own python only); the names after them are used when there is no index.
BUILD_TOOLS: dict[str, tuple[str, ...]] = {"apt": ("build-essential",), "apk": ("build-base",)}
PKG_CONFIG_FALLBACK = {"apt": "pkg-config", "apk": "pkgconf"}
PKG_CONFIG_NAMES = {"pkg-config", "pkgconf", "pkgconfig"}  # a depset asking for one has it
PYTHON_DEV_FALLBACK = "python3-dev"
# What each toolchain's build looks for on PATH (looked up in the file index).
TOOLCHAIN_PROGRAMS: dict[str, tuple[str, ...]] = {
    "Rust/cargo": ("cargo",),
    "a Fortran compiler": ("gfortran",),
    "CMake": ("cmake",),
}
C_COMPILER, CXX_COMPILER = "a C compiler", "a C++ compiler"


class NeedJSON(TypedDict):
    """``Need.to_dict()``: one entry of the record's ``pip_failure.needs``."""

    kind: str
    name: str
    package: str | None
    path: str | None
    via: NotRequired[str]


@dataclass(frozen=True)
class Need:
    """One thing the build missed and, when looked up, the package that ships it."""

    kind: str  # "toolchain" | "header" | "pkgconfig" | "program"
    name: str  # "Rust/cargo", "lber.h", "cairo", "pg_config"
    package: str | None = None
    path: str | None = None  # the file in that package, from the index
    via: str | None = None  # "sources": read from the sdist, not from the build's output

    def to_dict(self) -> NeedJSON:
        found: NeedJSON = {
            "kind": self.kind,
            "name": self.name,
            "package": self.package,
            "path": self.path,
        }
        if self.via:
            found["via"] = self.via
        return found


@dataclass(frozen=True)
class BuildContext:
    """What the fix is written for: the base's package manager and env probe, the depset's
    system packages already asked for, and the lookups (None: do not look up)."""

    package_manager: str | None
    system: tuple[str, ...] = ()
    env: EnvProbe | None = None
    open_index: Callable[[fileindex.Release], fileindex.Opened] | None = None
    wheels: wheelcheck.Fetch | None = None
    sources: sdistscan.Scan | None = None  # the failed sdist's own #includes (one round)


def host_context(
    package_manager: str | None,
    system: Sequence[str],
    env: EnvProbe | None,
    *,
    cafile: str | None = None,
    index_url: str | None = None,
) -> BuildContext:
    """The lookups a cell makes on the host after its install failed: the base's file
    index (cached; fetched once per suite) and the index's simple API, each bounded."""
    pages = wheelcheck.fetch_simple(index_url or wheelcheck.PYPI_SIMPLE, cafile=cafile)
    return BuildContext(
        package_manager,
        tuple(system),
        env,
        fileindex.open_index,
        pages,
        sdistscan.fetch_sources(pages, cafile=cafile),
    )


class PipFailureJSON(TypedDict):
    """``PipFailure.to_dict()``: a failed install step's ``failure`` (results.PipFailure)."""

    kind: str | None
    stage: str
    distribution: str | None
    what: str | None
    cause: list[str]
    missing: str | None
    hint: str | None
    available: str | None
    toolchain: str | None
    needs: list[NeedJSON]
    packages: list[str]
    lookup: str | None
    required_by: str | None
    wheel: str | None
    pin: str | None


@dataclass(frozen=True)
class PipFailure:
    """The account of one failed install, as the grid, details, summary and JUnit show it."""

    kind: str | None
    stage: str
    distribution: str | None = None  # "av 14.4.0", or the requirement pip could not find
    what: str | None = None  # pip's own name for the failed subprocess
    cause: tuple[str, ...] = ()
    missing: str | None = None  # "a C compiler", "pkg-config", "Python.h"
    hint: str | None = None  # the fix: what to put in the matrix
    available: str | None = None  # "from versions: …" / "Requires-Python …"
    notes: tuple[str, ...] = field(default=())
    toolchain: str | None = None  # "Rust/cargo", "a Fortran compiler", "CMake", ...
    needs: tuple[Need, ...] = ()  # every missing thing, with its package when looked up
    packages: tuple[str, ...] = ()  # the system packages the fix asks for, in full
    lookup: str | None = None  # where the packages came from, or why they could not
    required_by: str | None = None  # "pydantic==2.11.7": who asked for this distribution
    wheel: str | None = None  # whether another version has a wheel for the base
    pin: str | None = None  # "pydantic-core==2.41.5": a version with a wheel

    def one_line(self) -> str:
        """``av 14.4.0 (build): pkg-config is required for building PyAV``."""
        subject = self.distribution or "pip"
        cause = self.cause[-1] if self.cause else self.kind or "failed"
        if self.kind == "no-matching-distribution":
            cause = "no matching distribution" + (f" ({self.available})" if self.available else "")
        return f"{subject} ({self.stage}): {cause}"

    def to_dict(self) -> PipFailureJSON:
        return {
            "kind": self.kind,
            "stage": self.stage,
            "distribution": self.distribution,
            "what": self.what,
            "cause": list(self.cause),
            "missing": self.missing,
            "hint": self.hint,
            "available": self.available,
            "toolchain": self.toolchain,
            "needs": [need.to_dict() for need in self.needs],
            "packages": list(self.packages),
            "lookup": self.lookup,
            "required_by": self.required_by,
            "wheel": self.wheel,
            "pin": self.pin,
        }


def clean(line: str) -> str:
    """A log line without pip's timestamp, terminal colours or rich markup, cut to size."""
    text = _RICH_MARKUP.sub("", _ANSI.sub("", _STAMP.sub("", line))).strip()
    return text if len(text) <= MAX_LINE_CHARS else text[: MAX_LINE_CHARS - 1] + "…"


def diagnose(
    console: str,
    log: str,
    kind: str | None,
    package_manager: str | None,
    context: BuildContext | None = None,
) -> PipFailure:
    """The failure pip's console and ``--log`` show; ``kind`` is the classifier's word.

    With a ``context`` that carries lookups, a failed build's missing files are mapped
    to the base's packages and the index is asked for a version with a wheel.
    """
    context = context or BuildContext(package_manager)
    lines = [clean(line) for line in log.splitlines()]
    console_lines = [clean(line) for line in console.splitlines()]
    block = _failed_block(lines)
    if block is not None:
        return _build_failure(lines, console_lines, block, kind, context)
    text = console + "\n" + log
    if kind == "no-matching-distribution" or _NO_MATCH.search(text):
        return _resolve_failure(text)
    stage = DOWNLOAD if kind in ("network", "tls-verify") else _stage_of(text)
    cause = tuple(_causes(console_lines))
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
    lines: Sequence[str],
    console: Sequence[str],
    block: _Block,
    kind: str | None,
    context: BuildContext,
) -> PipFailure:
    output = [x for x in lines[block.start + 1 : block.end] if x]
    cause = tuple(_causes(output))
    text = "\n".join(output)
    needs = _needs(text)
    compiler_ran = any(_COMPILER_RAN.search(x) for x in output)
    missing = _missing_word(needs)
    toolchain = next((n.name for n in needs if n.kind == "toolchain"), None)
    refined = (
        "no-compiler"
        if toolchain in (C_COMPILER, CXX_COMPILER)
        else "missing-build-dependency"
        if needs
        else kind
        if kind not in (None, "no-matching-distribution")
        else "build-failed"
    )
    distribution, required_by = _distribution(lines[: block.start + 1], console, lines, block.what)
    failure = PipFailure(
        kind=refined,
        stage=BUILD,
        distribution=distribution,
        what=block.what,
        cause=cause,
        missing=missing,
        toolchain=toolchain,
        required_by=required_by,
    )
    failure = _with_fix(failure, needs, compiler_ran, context)
    return _with_wheel(failure, context)


def _needs(text: str) -> list[Need]:
    """Everything the build's output says is missing, toolchains first."""
    needs: list[Need] = []
    for pattern, name in ((_NO_RUST, "Rust/cargo"), (_NO_FORTRAN, "a Fortran compiler"),
                          (_NO_CMAKE, "CMake")):  # fmt: skip
        if pattern.search(text):
            needs.append(Need("toolchain", name))
    if _NO_COMPILER.search(text):
        needs.append(Need("toolchain", C_COMPILER))
    elif _NO_CXX.search(text):
        needs.append(Need("toolchain", CXX_COMPILER))
    for header in dict.fromkeys(m["header"] for m in _MISSING_HEADER.finditer(text)):
        needs.append(Need("header", header))
    needs += [_pkg_config_need(match, text) for match in _MISSING_PKG_CONFIG.finditer(text)]
    needs += [
        Need("program", m["program"])
        for m in _MISSING_CONFIG.finditer(text)
        if m["program"] != "pkg-config"
    ]
    return list(dict.fromkeys(needs))


def _pkg_config_need(match: re.Match[str], text: str) -> Need:
    """A pkg-config module the build asked for, or pkg-config itself."""
    module = match["pc"] or match["meson"]
    if module:
        return Need("pkgconfig", module)
    if "valid pkg-config name" in match[0]:  # mysqlclient: any one of those it tried
        tried = list(dict.fromkeys(m["pc"] for m in _TRIED_PC.finditer(text)))
        return Need("pkgconfig", " or ".join(tried) or "(a module the build did not name)")
    return Need("program", "pkg-config")


def _missing_word(needs: Sequence[Need]) -> str | None:
    """The ``missing`` field as before: the first thing missed, in words."""
    if not needs:
        return None
    first = needs[0]
    if first.kind == "pkgconfig":
        return f"{first.name} (pkg-config)"
    return first.name


def _with_fix(
    failure: PipFailure, needs: list[Need], compiler_ran: bool, context: BuildContext
) -> PipFailure:
    """The failure with its needs mapped to packages and the fix line written."""
    if not needs:
        return failure
    family = "apk" if context.package_manager == "apk" else "apt"
    release, problem = fileindex.release_of(context.env.to_dict() if context.env else None)
    opened = None
    if release is not None and context.open_index is not None:
        opened = context.open_index(release)
        problem = opened.problem
    elif release is not None:
        problem = "file lookups are off"
    index = opened.index if opened else None
    lookup = f"{release} file index" if index else f"not looked up: {problem}"
    mapped = [_look_up(need, index, context.env) for need in needs]
    # What one round needs: the depset's own packages; the compiler and pkg-config unless
    # the compiler ran (pkg-config also when a module is wanted: a build that finds no
    # pkg-config often skips its libraries silently); Python's headers (every C
    # extension includes Python.h); then what the index named.
    packages = list(context.system)
    compiler_missing = any(n.name in (C_COMPILER, CXX_COMPILER) for n in needs)
    if compiler_missing or not compiler_ran:
        packages += BUILD_TOOLS[family]
    wants_pkg_config = (
        compiler_missing or not compiler_ran or any(n.kind == "pkgconfig" for n in needs)
    )
    if wants_pkg_config and not set(packages) & PKG_CONFIG_NAMES:
        pkg_config = index.program("pkg-config") if index else []
        packages.append(pkg_config[0].package if pkg_config else PKG_CONFIG_FALLBACK[family])
    packages += _python_dev(context.env, index)
    packages += [n.package for n in mapped if n.package]
    # What the compiler has not reached yet: the sdist's other includes (python-ldap stops
    # at Python.h, then lber.h, then sasl/sasl.h: one round names all three).
    ahead = _from_sources(failure.distribution, index, context, packages)
    packages += [n.package for n in ahead if n.package]
    unmapped = [
        n for n in mapped if n.kind != "toolchain" or n.name not in (C_COMPILER, CXX_COMPILER)
    ]
    unmapped = [n for n in unmapped if not n.package]
    packages = list(dict.fromkeys(packages))
    described = ", ".join(_need_text(n) for n in mapped)
    system = f"system: {{{family}: [{', '.join(packages)}]}}"
    if context.package_manager is None:
        fix = (
            f"the build needs {described}; this base has no package manager, so use a base "
            f"with one and add {system}"
        )
    else:
        fix = f"the build needs {described}: put {system} in the depset"
    fix += _sources_text(ahead)
    if unmapped:
        names = ", ".join(n.name for n in unmapped)
        fix += f"; the package that ships {names} could not be looked up ({lookup})"
    if compiler_missing:
        fix += " (the build stopped before compiling: a library it needs may be named next run)"
    elif any(n.kind == "program" and n.name == "pkg-config" for n in needs):
        fix += (
            " (the build stopped before asking pkg-config for its libraries: one may be "
            "named next run)"
        )
    needs_all = tuple(mapped + ahead)
    return replace(failure, needs=needs_all, packages=tuple(packages), lookup=lookup, hint=fix)


# Headers every C build finds without a -dev package of its own: the C library's, the
# kernel's, Python's. Their packages are read from the index by these files.
_TOOLCHAIN_HEADERS = ("stdio.h", "sys/types.h", "linux/types.h", "crypt.h")


def _from_sources(
    distribution: str | None,
    index: fileindex.FileIndex | None,
    context: BuildContext,
    asked: Sequence[str],
) -> list[Need]:
    """The -dev packages the failed sdist's own ``#include <…>`` and meson
    ``dependency('…')`` lines name, beyond what the fix asks already: each mapped with the
    file index at the path the compiler reads by default, kept only when one package
    ships it (never a guess between several), and never a header of the C library, the
    kernel or Python, nor one the sdist ships."""
    if index is None or context.sources is None or not distribution or " " not in distribution:
        return []
    name, version = distribution.split(" ", 1)
    sources = context.sources(name, version)
    if sources is None:
        return []
    toolchain = {p.package for h in _TOOLCHAIN_HEADERS for p in index.find("header", h)}
    shipped = {path.rsplit("/", 1)[-1] for path in sources.shipped}
    found: list[Need] = []
    for header in sources.headers:
        if header.rsplit("/", 1)[-1] in shipped:
            continue
        # Only at the path the compiler looks in by default: a name found anywhere else is
        # another platform's header (winsock2.h in Wine's tree), never this build's.
        providers = index.find("header", header)
        packages = {p.package for p in providers}
        python = any(p.path.startswith("usr/include/python") for p in providers)
        if len(packages) == 1 and not packages & toolchain and not python:
            found.append(Need("header", header, providers[0].package, providers[0].path, "sources"))
    for module in sources.pkg_config:
        providers = index.pkg_config(module)
        if len({p.package for p in providers}) == 1:
            found.append(
                Need("pkgconfig", module, providers[0].package, providers[0].path, "sources")
            )
    kept: dict[str, Need] = {}
    for need in found:  # the first file of each package
        if need.package and need.package not in asked:
            kept.setdefault(need.package, need)
    return list(kept.values())


def _sources_text(ahead: Sequence[Need]) -> str:
    if not ahead:
        return ""
    return f" (its sources also include {', '.join(_need_text(n) for n in ahead)})"


def _look_up(need: Need, index: fileindex.FileIndex | None, env: EnvProbe | None) -> Need:
    if index is None or need.name in (C_COMPILER, CXX_COMPILER):
        return need
    if need.kind == "header" and need.name == "Python.h":
        found = [fileindex.Provider(p, "") for p in _python_dev(env, index)]
    elif need.kind == "toolchain":
        found = [p for program in TOOLCHAIN_PROGRAMS[need.name] for p in index.program(program)]
    elif need.kind == "header":
        found = index.header(need.name)
    elif need.kind == "pkgconfig":
        found = [p for name in need.name.split(" or ") for p in index.pkg_config(name)]
    else:
        found = index.program(need.name)
    if not found:
        return need
    # The package named like the program (cargo) before others shipping the same path.
    best = next((p for p in found if p.package == need.name), found[0])
    return Need(need.kind, need.name, best.package, best.path or None)


def _python_dev(env: EnvProbe | None, index: fileindex.FileIndex | None) -> list[str]:
    """The package with the base's Python.h: none for a Python built into /usr/local (its
    headers come with it), the index's answer for the distribution's own python."""
    python = env.python if env else None
    prefix, version = (python.prefix, python.version or "") if python else (None, "")
    if prefix and prefix != "/usr":
        return []
    xy = ".".join(version.split(".")[:2])
    if index is not None and xy:
        found = index.header(f"python{xy}/Python.h")
        if found:
            return [found[0].package]
    return [PYTHON_DEV_FALLBACK]


def _need_text(need: Need) -> str:
    what = {"header": "the header", "pkgconfig": "the pkg-config module",
            "program": "the program", "toolchain": ""}[need.kind]  # fmt: skip
    text = f"{what} {need.name}".strip()
    return f"{text} from {need.package}" if need.package else text


def _with_wheel(failure: PipFailure, context: BuildContext) -> PipFailure:
    """Whether another version of the failed distribution has a wheel for the base."""
    if context.wheels is None or not failure.distribution or " " not in failure.distribution:
        return failure
    name, version = failure.distribution.split(" ", 1)
    env = context.env.to_dict() if context.env else None
    answer = wheelcheck.check(name, version, env, context.wheels)
    if answer.pin is None:
        return replace(failure, wheel=answer.sentence)
    pin_text = f"or pin {answer.pin} (it has a wheel for this base)"
    if failure.required_by:
        pin_text += (
            f"; {failure.required_by} asks for {name} {version}, so it may need a newer version too"
        )
    hint = f"{failure.hint}; {pin_text}" if failure.hint else pin_text[3:]
    return replace(failure, wheel=answer.sentence, pin=answer.pin, hint=hint)


def _distribution(
    before: Sequence[str], console: Sequence[str], log: Sequence[str], what: str
) -> tuple[str | None, str | None]:
    """``name version`` of the failed build, and who required it (``pydantic==2.11.7``).

    From the sdist pip fetched last before the failed block, else the one the console
    shows (pip's log is read from its end, so a long build-dependency install can push
    the download line out of it), else pip's closing "╰─> NAME" and its pinned version.
    """
    found = None
    for line in [*reversed(before), *reversed(console)]:
        match = _SDIST.search(line)
        if match:
            named = _SDIST_NAME.match(match["file"])
            found = (canonical(named["name"]), named["version"]) if named else (match["file"], "")
            break
    if found is None:
        named_by_pip = next((m["name"] for x in console if (m := _ENCOUNTERED.search(x))), None)
        removed = next((m for x in reversed(log) if (m := _REMOVED.search(x))), None)
        if removed:
            found = (canonical(removed["name"]), removed["version"])
        elif named_by_pip:
            found = (canonical(named_by_pip), "")
    if found is None:
        named = _FOR_NAME.search(what)
        return (named["name"] if named else None), None
    name, version = found
    if not version:
        collecting = next(
            (
                m
                for x in [*console, *log]
                if (m := _COLLECTING.search(x)) and canonical(m["name"]) == name
            ),
            None,
        )
        version = collecting["version"] if collecting else ""
    # "(from pydantic==2.11.7)" names a parent; "(from -r FILE (line 4))" is the user's own.
    parent = next(
        (m["parent"] for x in [*console, *log]
         if (m := _COLLECTING.search(x)) and canonical(m["name"]) == name and m["parent"]
         and not m["parent"].startswith("-")),
        None,
    )  # fmt: skip
    return (f"{name} {version}".strip()), parent


def canonical(name: str) -> str:
    """PEP 503 normalised project name (sdist files say pydantic_core)."""
    return re.sub(r"[-_.]+", "-", name).lower()


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
_HEADLINE = (_NO_COMPILER, _NO_CXX, _NO_RUST, _NO_FORTRAN, _NO_CMAKE, _MISSING_HEADER,
             _MISSING_PKG_CONFIG, _MISSING_CONFIG)  # fmt: skip


def _causes(output: Iterable[str]) -> list[str]:
    """The lines that say what went wrong, the most telling last (the headline the grid
    shows): a line naming what is missing beats the last error line."""
    kept = [x for x in output if x and not _NOISE.search(x)]
    causes = [x for x in kept if _CAUSE.search(x)] or kept[-MAX_CAUSE_LINES:]
    headline = next((x for p in _HEADLINE for x in reversed(causes) if p.search(x)), None)
    if headline is not None:
        causes = [x for x in causes if x != headline] + [headline]
    return list(dict.fromkeys(causes))[-MAX_CAUSE_LINES:]
