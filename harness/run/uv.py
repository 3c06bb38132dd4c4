"""uv as the installer axis: fetch the binary, build its install command, read what it did.

Facts this module relies on, checked with uv 0.13.9 in the Python 3.11 stand-in:

- PyPI's ``uv`` wheels carry the binary at ``uv-VERSION.data/scripts/uv``. The manylinux
  binary is dynamically linked against glibc (interpreter ``/lib64/ld-linux-x86-64.so.2``)
  and fails in a ``FROM scratch`` image; the musllinux binary is ``static-pie`` and runs in
  scratch, so the musllinux binary serves glibc, musl and empty bases alike.
- uv reads none of pip's settings (``PIP_INDEX_URL``, ``PIP_CERT``, pip.conf), so indexes,
  find-links and the CA bundle must be passed to it in its own terms.
- uv trusts its bundled Mozilla roots by default; ``SSL_CERT_FILE`` points it at a PEM
  bundle (``--system-certs``, formerly ``--native-tls``, would use the platform store).
- There is no ``--report``: ``uv pip install --output-format json`` prints a preview-schema
  list of changes (name, version, action) on stdout, and the text summary stays on stderr
  (``Resolved 5 packages in 580ms``, ``Prepared``, ``Installed``, ``Bytecode compiled``,
  `` + name==version``). With ``-v`` uv logs ``Selecting: name==version [compatible]
  (FILENAME)``, which names the wheel (hence its tag) or the sdist it chose, and a source
  build prints ``Building name==version`` / ``Built name==version``.
- In the venv, a distribution uv built from source has ``uv_build.json`` in its
  ``.dist-info``; uv writes ``INSTALLER`` = ``uv`` and a ``REQUESTED`` file for *every*
  distribution, so ``REQUESTED`` does not tell what was asked for under uv.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

from harness.model.cache import cache_root as harness_cache
from harness.run.pipreport import WHEEL_NAME, DistributionRow, tag_family, wheel_tag

if TYPE_CHECKING:  # not at run time: dist_info_facts runs in a venv with only packaging
    from harness.engine.bases import ResolvedBase

UV_MOUNT = "/harness/uv/uv"
"""Where the cell mounts the binary, read-only."""

UNIVERSAL_PLATFORM: Literal["musllinux"] = "musllinux"
"""The wheel whose binary is static, so it runs on every Linux base of its machine."""

Platform = Literal["manylinux", "musllinux"]

_PLATFORM_TAGS = {"manylinux": "manylinux_2_17_{machine}", "musllinux": "musllinux_1_1_{machine}"}
_MACHINE_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
_METADATA = "uv-binary.json"

# uv's documented strategies; pip's behaviour across indexes is "unsafe-best-match".
INDEX_STRATEGIES = ("first-index", "unsafe-first-match", "unsafe-best-match")


class UvFetched(TypedDict, total=False):
    """uv for one machine, as the run records it (``results.json``'s ``installers.uv``):
    ``UvBinary``'s fields (``path`` as text), or only ``reason`` where it cannot be had."""

    path: str
    version: str
    version_line: str | None
    wheel: str
    sha256: str
    platform: str
    machine: str
    static: bool
    reason: str


@dataclass(frozen=True)
class UvBinary:
    path: Path  # the extracted ``uv`` executable on the host
    version: str  # from ``uv --version`` when it runs here, else from the wheel's name
    version_line: str | None  # ``uv 0.13.9 (x86_64-unknown-linux-musl)``; None if not run
    wheel: str  # the wheel's file name, as PyPI serves it
    sha256: str  # of that wheel file
    platform: Platform
    machine: str  # x86_64 or aarch64
    static: bool  # no ELF interpreter: runs without the base's libc

    def to_json(self) -> UvFetched:
        return {
            "path": str(self.path),
            "version": self.version,
            "version_line": self.version_line,
            "wheel": self.wheel,
            "sha256": self.sha256,
            "platform": self.platform,
            "machine": self.machine,
            "static": self.static,
        }


def platform_tag(platform: Platform, machine: str) -> str:
    """The ``pip download --platform`` tag for a base's machine (``uname -m``)."""
    arch = _MACHINE_ALIASES.get(machine.lower())
    if arch is None:
        raise ValueError(f"no uv wheel for machine {machine!r}")
    return _PLATFORM_TAGS[platform].format(machine=arch)


def fetch_uv(
    dest: Path,
    platform: Platform = UNIVERSAL_PLATFORM,
    version: str | None = None,
    pip_options: Sequence[str] = (),
    *,
    machine: str = "x86_64",
    python: str = sys.executable,
) -> UvBinary:
    """uv from PyPI, as a user gets it, extracted under ``dest`` and kept there.

    A pinned ``version`` already extracted is reused without touching the network; with
    ``version=None`` pip resolves the newest release, and a wheel already in ``dest`` is
    not downloaded again (pip says "File was already downloaded").
    """
    tag = platform_tag(platform, machine)
    if version is not None:
        cached = _cached_binary(_binary_dir(dest, version, tag))
        if cached is not None:
            return cached
    wheel_path = _download_wheel(dest / "wheels" / tag, tag, version, pip_options, python)
    wheel_version = wheel_path.name.split("-")[1]
    cached = _cached_binary(_binary_dir(dest, wheel_version, tag))
    if cached is not None:
        return cached
    return _extract(wheel_path, _binary_dir(dest, wheel_version, tag), platform, machine)


def cache_root() -> Path:
    """``~/.cache/harness/uv`` (``$XDG_CACHE_HOME`` honoured): fetched binaries, kept."""
    return harness_cache() / "uv"


def base_machine(base: ResolvedBase, host_machine: str) -> str:
    """The base's machine as its env probe saw it (``uname -m``), else the host's."""
    env = base.get("env") or {}
    return str(env.get("machine") or host_machine)


def fetch_for_bases(
    bases: Iterable[ResolvedBase],
    *,
    version: str | None,
    source_index_url: str | None,
    dest: Path,
    host_machine: str,
) -> dict[str, UvFetched]:
    """uv for every machine the bases run on, fetched once per run: machine -> the
    binary's facts (``UvBinary.to_json()``), or ``{"reason": ...}`` where it cannot be had
    (the fetch failed, or PyPI has no uv wheel for that machine)."""
    pip_options = ["--index-url", source_index_url] if source_index_url else []
    found: dict[str, UvFetched] = {}
    for base in bases:
        machine = base_machine(base, host_machine)
        if machine in found:
            continue
        try:
            binary = fetch_uv(dest, UNIVERSAL_PLATFORM, version, pip_options, machine=machine)
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as err:
            found[machine] = {"reason": fetch_failure_reason(str(err), version)}
            continue
        found[machine] = binary.to_json()
    return found


def fetch_failure_reason(message: str, version: str | None) -> str:
    """One line for the report: pip's ERROR line when there is one."""
    spec = "uv" if version is None else f"uv=={version}"
    errors = [line.strip() for line in message.splitlines() if line.startswith("ERROR:")]
    detail = errors[-1] if errors else " ".join(message.split())[:300]
    return f"could not fetch {spec} from the index on the host: {detail}"


def _binary_dir(dest: Path, version: str, tag: str) -> Path:
    return dest / f"uv-{version}-{tag}"


def _cached_binary(folder: Path) -> UvBinary | None:
    meta = folder / _METADATA
    if not (meta.is_file() and (folder / "uv").is_file()):
        return None
    data = json.loads(meta.read_text())
    data["path"] = folder / "uv"
    return UvBinary(**data)


def _download_wheel(
    folder: Path, tag: str, version: str | None, pip_options: Sequence[str], python: str
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = "uv" if version is None else f"uv=={version}"
    argv = [python, "-m", "pip", "download", spec, "--only-binary", ":all:", "--no-deps"]
    argv += ["--platform", tag, "-d", str(folder), "--progress-bar", "off", *pip_options]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip download {spec} failed:\n{done.stdout}\n{done.stderr}")
    # pip names the file it saved ("Saved DIR/uv-...whl") or already had ("File was already
    # downloaded DIR/uv-...whl"); several versions may sit in the folder.
    named = re.findall(r"(\S+/uv-[^/\s]+\.whl)", done.stdout)
    if not named:
        raise RuntimeError(f"pip download {spec} named no wheel:\n{done.stdout}")
    return Path(named[-1])


def _extract(wheel_path: Path, folder: Path, platform: Platform, machine: str) -> UvBinary:
    staging = Path(tempfile.mkdtemp(prefix=".uv-", dir=folder.parent))
    try:
        binary = staging / "uv"
        with zipfile.ZipFile(wheel_path) as wheel:
            member = _binary_member(wheel)
            with wheel.open(member) as source, binary.open("wb") as target:
                shutil.copyfileobj(source, target)
        binary.chmod(0o755)
        version_line = _version_line(binary)
        wheel_version = wheel_path.name.split("-")[1]
        found = UvBinary(
            path=folder / "uv",
            version=version_line.split()[1] if version_line else wheel_version,
            version_line=version_line,
            wheel=wheel_path.name,
            sha256=hashlib.sha256(wheel_path.read_bytes()).hexdigest(),
            platform=platform,
            machine=_MACHINE_ALIASES[machine.lower()],
            static=elf_interpreter(binary) is None,
        )
        meta = {k: v for k, v in found.to_json().items() if k != "path"}
        (staging / _METADATA).write_text(json.dumps(meta, indent=2) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)  # a concurrent fetch never sees a half-written folder
        return found
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _binary_member(wheel: zipfile.ZipFile) -> str:
    for name in wheel.namelist():
        parts = name.split("/")
        if len(parts) == 3 and parts[0].endswith(".data") and parts[1:] == ["scripts", "uv"]:
            return name
    raise RuntimeError(f"{wheel.filename}: no *.data/scripts/uv in the wheel")


def _version_line(binary: Path) -> str | None:
    """``uv --version``, or None where the binary cannot run here (another machine)."""
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    line = done.stdout.strip()
    return line if done.returncode == 0 and line.startswith("uv ") else None


def elf_interpreter(path: Path) -> str | None:
    """The ELF program interpreter (PT_INTERP) of a 64-bit little-endian binary, if any."""
    with path.open("rb") as elf:
        header = elf.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            raise ValueError(f"{path}: not a 64-bit little-endian ELF file")
        phoff = struct.unpack_from("<Q", header, 0x20)[0]
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        for index in range(phnum):
            elf.seek(phoff + index * phentsize)
            p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack(
                "<IIQQQQ", elf.read(40)
            )
            if p_type == 3:  # PT_INTERP
                elf.seek(p_offset)
                return elf.read(p_filesz).rstrip(b"\0").decode()
    return None


def uv_install_command(
    venv: str,
    requirements: Sequence[str],
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    find_links: Sequence[str] = (),
    ca_bundle_path: str | None = None,
    index_strategy: str = "unsafe-best-match",
    compile_bytecode: bool = True,
    no_index: bool = False,
    extra_args: Sequence[str] = (),
    uv_path: str = UV_MOUNT,
) -> tuple[list[str], dict[str, str]]:
    """argv and environment for a cold ``uv pip install`` into ``venv``, like the pip step.

    Index strategy: by default uv stops at the first index that has a package at all
    ("first-index", its guard against dependency confusion), while pip gathers candidates
    from every index and find-links location and takes the best version. uv's
    "unsafe-best-match" is that pip behaviour, so it is the default here, and it is always
    written out so a result records which strategy it was measured with.
    """
    if index_strategy not in INDEX_STRATEGIES:
        raise ValueError(f"unknown uv index strategy {index_strategy!r}")
    argv = [uv_path, "pip", "install", "--python", f"{venv}/bin/python"]
    # Cold like the pip step (PIP_NO_CACHE_DIR): uv uses a throwaway cache for this run.
    argv += ["--no-cache", "--index-strategy", index_strategy]
    if compile_bytecode:  # pip byte-compiles by default; uv does not unless asked
        argv.append("--compile-bytecode")
    argv += _index_args(index_url, extra_index_urls, find_links, no_index)
    # -v: "Selecting: name==version (FILENAME)" lines name each chosen file; json on stdout.
    argv += ["--output-format", "json", "-v", *extra_args, *requirements]
    return argv, _uv_environment(ca_bundle_path)


def _index_args(
    index_url: str | None,
    extra_index_urls: Sequence[str],
    find_links: Sequence[str],
    no_index: bool,
) -> list[str]:
    args: list[str] = []
    if no_index:
        args.append("--no-index")
    if index_url:  # --default-index and --index: uv's names for --index-url/--extra-index-url
        args += ["--default-index", index_url]
    for url in extra_index_urls:
        args += ["--index", url]
    for location in find_links:
        args += ["--find-links", location]
    return args


def _uv_environment(ca_bundle_path: str | None) -> dict[str, str]:
    env = {
        "UV_NO_PROGRESS": "1",  # no spinners in captured output; Built/+ lines stay
        "NO_COLOR": "1",
        "UV_NO_CONFIG": "1",  # ignore any uv.toml a base image may carry
        "UV_PYTHON_DOWNLOADS": "never",  # install into the base's Python, never fetch one
    }
    if ca_bundle_path:
        env["SSL_CERT_FILE"] = ca_bundle_path  # uv's rustls reads this PEM bundle
    return env


# ---- what uv did, from its output ------------------------------------------------------

_INSTALLED_LINE = re.compile(r"^ \+ (?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)\s*$", re.M)
_SELECTING = re.compile(
    r"Selecting: (?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+) \[[^\]]*\] \((?P<file>[^)]+)\)"
)
_BUILT = re.compile(r"^\s*Built (?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)\s*$", re.M)
_SUMMARY = re.compile(
    r"^(?P<step>Resolved|Prepared|Installed|Uninstalled|Audited) (?P<count>\d+) packages? "
    r"in (?P<amount>[\d.]+)(?P<unit>ms|s)\s*$",
    re.M,
)
_COMPILED = re.compile(
    r"^(?P<step>Bytecode compiled) \d+ files? in (?P<amount>[\d.]+)(?P<unit>ms|s)\s*$", re.M
)


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name."""
    return canonicalize_name(name)


def requirement_name(requirement: str) -> str | None:
    """The project a requirement string names (``spacy[ja]>=3`` -> ``spacy``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return normalize_name(match.group(1)) if match else None


def installed_from_output(stdout: str, stderr: str) -> list[tuple[str, str]]:
    """(name, version) of what uv installed: the JSON changes, else the `` + `` lines."""
    try:
        report = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    changes = report.get("changes") if isinstance(report, dict) else None
    if isinstance(changes, list):
        return [
            (str(c["name"]), str(c["version"]))
            for c in changes
            if isinstance(c, dict) and c.get("action") == "installed"
        ]
    return [(m["name"], m["version"]) for m in _INSTALLED_LINE.finditer(stderr)]


def built_from_source(stderr: str) -> set[str]:
    """Normalised names uv built from an sdist (its ``Built name==version`` lines)."""
    return {normalize_name(m["name"]) for m in _BUILT.finditer(stderr)}


def step_seconds(stderr: str) -> dict[str, float]:
    """uv's own timings: ``Resolved 5 packages in 580ms`` -> {"resolved": 0.58}, and
    ``Bytecode compiled 2783 files in 44.81s`` -> {"bytecode compiled": 44.81}."""
    timings: dict[str, float] = {}
    for match in [*_SUMMARY.finditer(stderr), *_COMPILED.finditer(stderr)]:
        scale = 0.001 if match["unit"] == "ms" else 1.0
        timings[match["step"].lower()] = round(float(match["amount"]) * scale, 3)
    return timings


def distributions_from_uv_output(
    stdout: str,
    stderr: str,
    *,
    requested: Iterable[str] = (),
    wheelhouse_files: Iterable[str] = (),
) -> list[DistributionRow]:
    """Records shaped like the pip report's, from a ``uv pip install -v`` run.

    ``requested`` are the requirement strings of the install (uv marks every distribution
    REQUESTED, so only the command says what was asked for); ``wheelhouse_files`` the file
    names in the find-links folders (uv's log does not say where a file came from).
    Without ``-v`` there are no Selecting lines: tag and family are then None.
    """
    chosen = {
        (normalize_name(m["name"]), m["version"]): m["file"] for m in _SELECTING.finditer(stderr)
    }
    built = built_from_source(stderr)
    asked = {n for n in (requirement_name(r) for r in requested) if n}
    local = set(wheelhouse_files)
    rows: list[DistributionRow] = []
    for name, version in installed_from_output(stdout, stderr):
        key = normalize_name(name)
        filename = chosen.get((key, version))
        tag = None if key in built or filename is None else wheel_tag(filename)
        known = key in built or filename is not None
        rows.append(
            {
                "name": name,
                "version": version,
                "wheel": tag is not None if known else None,
                "tag": tag,
                "requested": key in asked,
                "family": tag_family(tag) if known else None,
                "source": ("wheelhouse" if filename in local else "index") if known else None,
            }
        )
    return sorted(rows, key=lambda r: normalize_name(str(r["name"])))


# ---- what is in the venv ---------------------------------------------------------------


class DirectUrl(TypedDict, total=False):
    """``direct_url.json`` (PEP 610): the keys read here."""

    url: str
    dir_info: dict[str, object]


class DistInfoFacts(TypedDict):
    """What one ``*.dist-info`` says (``dist_info_facts``)."""

    name: str | None
    version: str | None
    tags: list[str]
    generator: str | None
    installer: str | None
    uv_build: bool
    direct_url: DirectUrl | None


def dist_info_facts(folder: Path) -> DistInfoFacts:
    """What one ``*.dist-info`` says, as the contents probe reports it."""
    metadata = _header_fields(folder / "METADATA")
    wheel = _header_fields(folder / "WHEEL")
    installer = folder / "INSTALLER"
    direct_url = folder / "direct_url.json"
    return {
        "name": _first(metadata["Name"]),
        "version": _first(metadata["Version"]),
        "tags": wheel["Tag"],
        "generator": _first(wheel["Generator"]),
        "installer": installer.read_text().strip() if installer.is_file() else None,
        "uv_build": (folder / "uv_build.json").is_file(),
        "direct_url": json.loads(direct_url.read_text()) if direct_url.is_file() else None,
    }


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _header_fields(path: Path) -> defaultdict[str, list[str]]:
    fields: defaultdict[str, list[str]] = defaultdict(list)
    if not path.is_file():
        return fields
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            break  # the body (a long description) starts after the first blank line
        key, sep, value = line.partition(":")
        if sep and not line[0].isspace():
            fields[key.strip()].append(value.strip())
    return fields


def compressed_tag(tags: Sequence[str]) -> str | None:
    """WHEEL ``Tag:`` lines folded back into a file name's tag (``py2.py3-none-any``)."""
    parts: list[list[str]] = [[], [], []]
    for tag in tags:
        pieces = tag.split("-")
        if len(pieces) != 3:
            continue
        for known, piece in zip(parts, pieces, strict=True):
            if piece not in known:
                known.append(piece)
    return "-".join(".".join(p) for p in parts) if all(parts) else None


def read_installed_distributions(
    dist_infos: Sequence[DistInfoFacts],
    *,
    requested: Iterable[str] = (),
    wheelhouse_files: Iterable[str] = (),
    installer: str | None = "uv",
) -> list[DistributionRow]:
    """Records shaped like the pip report's, from the venv's dist-info facts.

    Built from source under uv: ``uv_build.json`` in the dist-info (uv writes it only when
    it built the wheel itself). The WHEEL Generator does not tell (an index wheel carries
    its upstream builder's name too), nor does a ``linux_x86_64`` tag for a pure package.
    ``installer``: keep only what that tool installed (INSTALLER file), which leaves out
    what ``python -m venv`` seeded (pip, setuptools: INSTALLER ``pip``); None keeps all.
    """
    asked = {n for n in (requirement_name(r) for r in requested) if n}
    local = set(wheelhouse_files)
    rows: list[DistributionRow] = []
    for facts in dist_infos:
        name = facts["name"] or ""
        if not name or (installer is not None and facts["installer"] != installer):
            continue
        tag = None if facts["uv_build"] else compressed_tag(facts["tags"])
        rows.append(
            {
                "name": name,
                "version": facts["version"],
                "wheel": tag is not None,
                "tag": tag,
                "requested": normalize_name(name) in asked,
                "family": tag_family(tag),
                "source": _venv_source(facts, tag, local),
            }
        )
    return sorted(rows, key=lambda r: normalize_name(str(r["name"])))


def _venv_source(facts: DistInfoFacts, tag: str | None, local: set[str]) -> str:
    direct = facts["direct_url"] or DirectUrl()
    if "dir_info" in direct:
        return "local directory"
    if "url" in direct and str(direct["url"]).startswith("file:"):
        return "wheelhouse"
    if tag is None:
        return "index"
    ours = (normalize_name(str(facts["name"])), str(facts["version"]), tag_set(tag))
    return "wheelhouse" if ours in _wheel_keys(local) else "index"


def _wheel_keys(filenames: Iterable[str]) -> set[tuple[str, str, frozenset[str]]]:
    keys = set()
    for filename in filenames:
        match = WHEEL_NAME.match(filename)
        tag = wheel_tag(filename)
        if match and tag:
            keys.add((normalize_name(match["name"]), match["version"], tag_set(tag)))
    return keys


def tag_set(tag: str) -> frozenset[str]:
    """Every single tag a compressed one stands for (``py2.py3-none-any`` -> two)."""
    return frozenset(str(t) for t in parse_tag(tag))


# ---- why an install failed -------------------------------------------------------------

# Most telling first, as for pip: a TLS failure is also a "Failed to fetch", and the
# "no version" messages end in "your requirements are unsatisfiable" like conflicts do.
_UV_FAILURE_KINDS = (
    ("disk-full", re.compile(r"No space left on device|os error 28\b|ENOSPC")),
    (
        "tls-verify",
        re.compile(r"invalid peer certificate|UnknownIssuer|CERTIFICATE_VERIFY_FAILED"),
    ),
    (
        "network",
        re.compile(
            r"tcp connect error|Connection refused|operation timed out|dns error|"
            r"failed to lookup address|Connection reset|Network is unreachable|"
            r"error sending request for url|Request failed after \d+ retr"
        ),
    ),
    (  # the compiler may be called by its triplet name: x86_64-linux-gnu-g++
        "no-compiler",
        re.compile(
            r"No such file or directory: '(?:[\w.]+-)*(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+)'|"
            r"command '(?:[\w.]+-)*(?:gcc|g\+\+|cc|c\+\+)' failed|unable to execute '\S*gcc'|"
            r"C compiler cannot create|Unknown compiler\(s\)|Could not find a C compiler"
        ),
    ),
    (
        "build-failed",
        re.compile(
            r"Failed to build `|The build backend returned an error|"
            r"Build backend failed|Failed to prepare distributions"
        ),
    ),
    (
        "no-matching-distribution",
        re.compile(
            r"was not found in the package registry|there is no version of|"
            r"was not found in the provided package locations|have no usable wheels|"
            r"has no usable wheels|no wheels with a matching (?:platform|Python)|"
            r"doesn't have a source distribution or wheel|"
            r"Python version \([^)]*\) does not satisfy"
        ),
    ),
    (
        "resolution-conflict",
        re.compile(r"No solution found when resolving|requirements are unsatisfiable"),
    ),
)


def classify_uv_failure(output: str) -> str | None:
    """The kind word (as pip's classifier uses them) for a failed uv install's output."""
    for kind, pattern in _UV_FAILURE_KINDS:
        if pattern.search(output):
            return kind
    return None
