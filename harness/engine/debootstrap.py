"""Stand-in base images built from Debian's archive, for machines that cannot reach a registry.

A recipe (suite + Debian's pythonX.Y) becomes an image in four phases, all on the host as root:

1. ``debootstrap --variant=minbase SUITE`` into a temporary directory;
2. ``apt-get install`` of the recipe's packages inside a chroot (debootstrap's own ``--include``
   does not resolve virtual packages: bookworm's python3.11-venv depends on the virtual
   python3.11-distutils, and debootstrap leaves it unconfigured);
3. slimming, as Debian's official ``-slim`` images are made (no docs/man/locales, apt cleans its
   caches after every install, no package lists in the image), so "size added" by a dependency
   set is comparable with the official images;
4. ``tar`` of the rootfs streamed into ``POST /images/create`` (``docker import``) with labels.

Between 2 and 3, a recipe that is not runtime-only is laid out as docker-library's official
images are (see ``_official_layout``): ``python``, ``python3``, ``pythonX.Y``, ``pip``,
``pip3``, ``pipX.Y`` in ``/usr/local/bin``; ``/usr/local/lib/pythonX.Y/site-packages`` is where
root's ``pip install`` writes and what the interpreter imports; no PEP 668 marker; and the pip
the official image of that Python version ships (``OFFICIAL_PIP``), seeded into ``/usr/local``
and into the wheel folder ``python -m venv`` bootstraps from, so that neither the image's pip
nor a venv's differs from the official image's.

A ``runtime_only`` recipe (a stand-in for a distroless python image) adds a step before the
import: only Debian's python3.X, its stdlib, the shared libraries ``ldd`` finds for it and its
extension modules, the CA bundle, time zone data and a passwd/group with user ``nonroot``
(uid 65532) are copied out of the rootfs into an empty one, which is imported instead: no
shell, no apt, no pip, ``USER 65532``.

Images are tagged ``<repository>:<first 16 hex of the recipe digest>``: never an official name.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import docker
import docker.errors
import requests.exceptions

from harness.engine.api import BuildChunk, ImageInspect, read

# Bump whenever the build steps change what ends up in the image: it is part of the digest, so
# cached stand-ins built the old way are not reused.
RECIPE_FORMAT = 1
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")
# Every Debian suite since buster uses the same debootstrap script; an older debootstrap that
# does not know a new suite name (bookworm's knows no "forky") can still build it with this one.
FALLBACK_SCRIPT = "sid"
DEBOOTSTRAP_TIMEOUT_S = 1200
APT_TIMEOUT_S = 1200
LOG_TAIL_LINES = 25
MISSING_DEBOOTSTRAP_FIX = "run scripts/ensure-host-tools.sh (apt-get install debootstrap)"
# The runtime-only image, as gcr.io/distroless/python3-debian12:nonroot has it.
RUNTIME_USER = "nonroot"
RUNTIME_UID = 65532
RUNTIME_PATHS = (
    # The CA bundle before /usr/lib/ssl: its `certs` link then finds /etc/ssl/certs already
    # there and does not pull in the hundreds of per-certificate links beside the bundle.
    "/etc/ssl/certs/ca-certificates.crt",
    "/usr/lib/ssl",
    "/etc/os-release",
    "/etc/nsswitch.conf",
    "/usr/share/zoneinfo",
)
# The layout of docker-library's images that a non-runtime recipe reproduces; part of the
# digest (a change rebuilds the stand-ins once).
OFFICIAL_LAYOUT = "usr-local-1"
# The host CA bundle copied into the rootfs while pip fetches itself from PyPI (a
# TLS-intercepting proxy is trusted only through it); removed before the import.
HOST_CA_CANDIDATES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
PIP_TIMEOUT_S = 600


@dataclass(frozen=True)
class SeededPip:
    """The pip a stand-in ships, and where that version comes from."""

    version: str
    source: str


# docker-library/python installs the pip that CPython's own ensurepip bundles ("--with-ensurepip"
# in the Dockerfile template; policy since commit 9cd32437, "Switch from get-pip.py to
# ensurepip", Sep 2024: "use the same pip version as the one bundled with ensurepip").
OFFICIAL_PIP: dict[str, SeededPip] = {
    "3.11": SeededPip(
        "24.0",
        "docker-library/python versions.json before 9cd32437 (3.11.10: pip 24.0, ensurepip's);"
        " CPython 3.11 is security-only since 3.11.9 and its ensurepip stayed at 24.0",
    ),
    "3.13": SeededPip(
        "25.1.1",
        "ensurepip _PIP_VERSION of the CPython 3.13 Debian ships (trixie 3.13.5); the exact"
        " bundle of the official image's 3.13.14 was not found here",
    ),
    "3.15": SeededPip(
        "26.2.1",
        "ensurepip of CPython 3.15 (Debian sid's 3.15.2 names 26.2.2, which the index here"
        " does not serve; 26.2.1 is the newest pip bundled in CPython's ensurepip it has)",
    ),
}
# Symlinks are followed this deep when copying out of the rootfs (a loop is an error).
MAX_LINK_DEPTH = 40

_SUITE_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_PYTHON_RE = re.compile(r"^3\.[0-9]{1,2}$")
_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+$")
_CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND": "noninteractive",
    "LC_ALL": "C",
    "HOME": "/root",
}

# What Debian's -slim images drop (debuerreotype's slimify lists), as dpkg path filters so that
# packages installed later in the image drop them too.
_SLIM_EXCLUDE = (
    "/usr/share/doc/*",
    "/usr/share/groff/*",
    "/usr/share/info/*",
    "/usr/share/linda/*",
    "/usr/share/lintian/overrides/*",
    "/usr/share/locale/*",
    "/usr/share/man/*",
)
_SLIM_INCLUDE = ("/usr/share/doc/*/copyright", "/usr/share/locale/locale.alias")
# dpkg matches with fnmatch(3) without FNM_PATHNAME: "*" crosses "/", as fnmatch.translate's does.
_SLIM_EXCLUDE_RE = re.compile("|".join(fnmatch.translate(p) for p in _SLIM_EXCLUDE))
_SLIM_INCLUDE_RE = re.compile("|".join(fnmatch.translate(p) for p in _SLIM_INCLUDE))
_APT_CLEAN = (
    '"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb'
    ' /var/cache/apt/*.bin || true";'
)
_APT_CONF = {
    # sid's Release file on the mirror can be past its Valid-Until date; apt-get update must work.
    "99harness-no-valid-until": 'Acquire::Check-Valid-Until "false";\n',
    # Like the official images: no .deb cache left behind by an install, compressed lists.
    "docker-clean": (
        f"DPkg::Post-Invoke {{ {_APT_CLEAN} }};\n"
        f"APT::Update::Post-Invoke {{ {_APT_CLEAN} }};\n"
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
    ),
    "docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
    "docker-no-languages": 'Acquire::Languages "none";\n',
    "docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
}


class StandinBuildError(RuntimeError):
    """A stand-in base could not be built; the message says why and ends with a log tail."""


@dataclass(frozen=True)
class DebootstrapRecipe:
    """A Debian suite plus Debian's own pythonX.Y, built into a local stand-in base image."""

    suite: str  # bookworm | trixie | forky | sid
    python: str  # "3.11" -> python3.11 python3.11-venv
    mirror: str = DEFAULT_MIRROR
    extra_packages: tuple[str, ...] = ()
    # Ship only the interpreter and what it needs, FROM scratch (a distroless stand-in).
    runtime_only: bool = False

    def __post_init__(self) -> None:
        # These strings end up on command lines and in apt's sources: refuse anything odd early.
        if not _SUITE_RE.match(self.suite):
            raise ValueError(f"bad Debian suite {self.suite!r} (e.g. bookworm, trixie, sid)")
        if not _PYTHON_RE.match(self.python):
            raise ValueError(f"bad Python version {self.python!r} (expected X.Y, e.g. 3.11)")
        if not self.mirror.startswith(("http://", "https://")) or any(
            c.isspace() for c in self.mirror
        ):
            raise ValueError(f"bad mirror URL {self.mirror!r}")
        for name in self.extra_packages:
            if not _PACKAGE_RE.match(name):
                raise ValueError(f"bad Debian package name {name!r}")

    def packages(self) -> tuple[str, ...]:
        """Packages installed on top of minbase, in order, without duplicates.

        A runtime-only image has no venv (its builder makes the environment) but keeps the
        time zone data, as distroless images do.
        """
        venv_or_tz = "tzdata" if self.runtime_only else f"python{self.python}-venv"
        wanted = (f"python{self.python}", venv_or_tz, "ca-certificates", *self.extra_packages)
        return tuple(dict.fromkeys(wanted))

    def seeded_pip(self) -> SeededPip | None:
        """The pip seeded into /usr/local (None: a runtime-only image has no pip; a Python
        without an entry in OFFICIAL_PIP keeps the pip wheel Debian ships)."""
        return None if self.runtime_only else OFFICIAL_PIP.get(self.python)

    def canonical(self) -> str:
        """The JSON that the digest hashes: key order, package order and a trailing / ignored."""
        fields: dict[str, object] = {
            "format": RECIPE_FORMAT,
            "suite": self.suite,
            "python": self.python,
            "mirror": self.mirror.rstrip("/"),
            "extra_packages": sorted(set(self.extra_packages)),
        }
        if self.runtime_only:  # only when set: the digests of existing stand-ins stay put
            fields["runtime_only"] = True
        else:
            pip = self.seeded_pip()
            fields["layout"] = OFFICIAL_LAYOUT
            fields["pip"] = pip.version if pip else "debian"
        return json.dumps(
            fields,
            sort_keys=True,
            separators=(",", ":"),
        )

    def digest(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    def tag(self) -> str:
        return self.digest()[:16]


def image_reference(recipe: DebootstrapRecipe, repository: str) -> str:
    return f"{repository}:{recipe.tag()}"


def find_cached_image(
    client: docker.DockerClient, recipe: DebootstrapRecipe, repository: str
) -> str | None:
    """The id of the image already built for this recipe, or None."""
    try:
        image = client.images.get(image_reference(recipe, repository))
    except docker.errors.ImageNotFound:
        return None
    # The tag holds 64 bits of the digest; the label holds all of it.
    if (image.labels or {}).get("harness.recipe") != recipe.digest():
        return None
    return str(image.id)


def build_debootstrap_image(
    client: docker.DockerClient,
    recipe: DebootstrapRecipe,
    repository: str,
    labels: dict[str, str],
    log: Callable[[str], None] = print,
    ca_bundle: Path | None = None,
) -> str:
    """Build the recipe's image (always; see find_cached_image) and return its id.

    Tag = f"{repository}:{recipe.digest()[:16]}". The image carries ``labels`` plus
    harness.recipe (full digest), harness.recipe-format, harness.debian-suite,
    harness.python, harness.python-version (the exact version found in the image) and
    harness.pip-version (the pip in /usr/local, none for a runtime-only image); on a
    clash these recipe labels win, so a cache lookup can trust them.
    Raises StandinBuildError (with a log tail) when the build fails; nothing is left on disk.
    """
    check_repository(repository)
    check_host()
    reference = image_reference(recipe, repository)
    only = " only, FROM scratch (runtime)" if recipe.runtime_only else ""
    log(f"stand-in {reference}: debian {recipe.suite} + python{recipe.python}{only}")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="harness-standin-", dir=_temp_parent()))
    try:
        rootfs = workdir / "rootfs"
        with _phase(log, f"debootstrap {recipe.suite}"):
            _debootstrap(recipe, rootfs, workdir / "debootstrap.out")
        _configure_rootfs(rootfs, recipe)
        with _phase(log, f"apt-get install {' '.join(recipe.packages())}"):
            _install_packages(rootfs, recipe, workdir / "apt.out")
        version = _python_version(rootfs, recipe)
        pip_version = None
        if not recipe.runtime_only:
            with _phase(log, "official layout: /usr/local/bin, site-packages, pip"):
                pip_version = _official_layout(
                    rootfs, recipe, workdir / "pip.out", ca_bundle or _host_ca_bundle()
                )
        with _phase(log, "slim"):
            _slim_rootfs(rootfs)
        all_labels = {**labels, **_recipe_labels(recipe, version, pip_version)}
        runtime_python = None
        if recipe.runtime_only:
            with _phase(log, "runtime only: python, its libraries, CA bundle, tzdata"):
                rootfs = _runtime_rootfs(rootfs, workdir / "runtime", recipe)
            runtime_python = f"/usr/bin/python{recipe.python}"
        changes = _import_changes(all_labels, runtime_python)
        with _phase(log, "import"):
            image_id = _import_rootfs(client, rootfs, reference, changes)
    finally:
        _remove_workdir(workdir, log)
    size_mb = (read(ImageInspect, client.images.get(image_id).attrs).size or 0) / 1e6
    pip_text = f", pip {pip_version}" if pip_version else ""
    log(
        f"stand-in {reference}: {image_id[:19]}, python {version}{pip_text}, {size_mb:.0f} MB,"
        f" {time.monotonic() - started:.1f} s"
    )
    return image_id


def check_repository(repository: str) -> None:
    """Refuse names that could pass for an official image (python, library/python...)."""
    if not _REPOSITORY_RE.match(repository):
        raise ValueError(
            f"stand-in repository {repository!r} must be lowercase with a namespace,"
            " e.g. harness-standin/python"
        )
    if repository.split("/", 1)[0] in ("library", "docker.io", "index.docker.io"):
        raise ValueError(f"stand-in repository {repository!r} looks like an official image name")


def check_host() -> None:
    """Fail early, with the fix, when this host cannot run debootstrap."""
    if shutil.which("debootstrap") is None:
        raise StandinBuildError(
            f"debootstrap is not installed on this host: {MISSING_DEBOOTSTRAP_FIX}"
        )
    if os.geteuid() != 0:
        raise StandinBuildError("building a stand-in base needs root (debootstrap, chroot, mount)")


def _temp_parent() -> str:
    # A rootfs is ~250 MB: /var/tmp is on disk on Debian where /tmp may be a small tmpfs.
    return os.environ.get("TMPDIR") or "/var/tmp"


@contextmanager
def _phase(log: Callable[[str], None], what: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    log(f"  {what}: {time.monotonic() - started:.1f} s")


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _run_logged(
    what: str, cmd: list[str], out: Path, timeout: float, env: dict[str, str] | None = None
) -> None:
    """Run cmd with its output in ``out``; raise StandinBuildError with the tail on failure."""
    with out.open("ab") as sink:
        # Own session: on timeout the whole tree (debootstrap forks wget, dpkg...) is killed.
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise StandinBuildError(
                f"{what} timed out after {timeout:.0f} s\n{_tail(out)}"
            ) from None
        except BaseException:
            # Ctrl-C does not reach a child in its own session: stop it before the rootfs goes.
            _kill_group(proc)
            raise
    if code != 0:
        raise StandinBuildError(f"{what} failed (exit {code}):\n{_tail(out)}")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _debootstrap(recipe: DebootstrapRecipe, rootfs: Path, out: Path) -> None:
    script = DEBOOTSTRAP_SCRIPTS / recipe.suite
    if not script.exists():
        script = DEBOOTSTRAP_SCRIPTS / FALLBACK_SCRIPT
    cmd = ["debootstrap", "--variant=minbase", recipe.suite, str(rootfs), recipe.mirror]
    try:
        _run_logged("debootstrap", [*cmd, str(script)], out, DEBOOTSTRAP_TIMEOUT_S)
    except StandinBuildError as err:
        # The details of a failed package are in debootstrap's own log inside the rootfs.
        inner = _tail(rootfs / "debootstrap" / "debootstrap.log")
        if inner:
            raise StandinBuildError(f"{err}\n--- debootstrap.log ---\n{inner}") from None
        raise


def _configure_rootfs(rootfs: Path, recipe: DebootstrapRecipe) -> None:
    """apt sources and settings, dpkg path filters, no service starts: before any install."""
    apt = rootfs / "etc" / "apt"
    (apt / "sources.list").write_text(f"deb {recipe.mirror.rstrip('/')} {recipe.suite} main\n")
    conf_dir = apt / "apt.conf.d"
    conf_dir.mkdir(parents=True, exist_ok=True)
    for name, text in _APT_CONF.items():
        (conf_dir / name).write_text(text)
    dpkg_filters = [f"path-exclude {p}" for p in _SLIM_EXCLUDE]
    dpkg_filters += [f"path-include {p}" for p in _SLIM_INCLUDE]
    dpkg_dir = rootfs / "etc" / "dpkg" / "dpkg.cfg.d"
    dpkg_dir.mkdir(parents=True, exist_ok=True)
    (dpkg_dir / "docker").write_text("\n".join(dpkg_filters) + "\n")
    (dpkg_dir / "docker-apt-speedup").write_text("force-unsafe-io\n")
    # Containers have no init: package scripts must not try to start services.
    policy = rootfs / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)


@contextmanager
def _proc_mounted(rootfs: Path) -> Iterator[None]:
    # Some maintainer scripts read /proc; debootstrap unmounts its own at the end.
    target = rootfs / "proc"
    result = subprocess.run(
        ["mount", "-t", "proc", "proc", str(target)], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise StandinBuildError(f"cannot mount /proc in the rootfs: {result.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _install_packages(rootfs: Path, recipe: DebootstrapRecipe, out: Path) -> None:
    packages = list(recipe.packages())
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    chroot = ["chroot", str(rootfs)]
    with _proc_mounted(rootfs):
        update = [*chroot, "apt-get", "update", "-q"]
        _run_logged("apt-get update (chroot)", update, out, APT_TIMEOUT_S, _CHROOT_ENV)
        _run_logged(
            "apt-get install (chroot)", [*chroot, *install], out, APT_TIMEOUT_S, _CHROOT_ENV
        )
    missing = [p for p in packages if p not in _installed_packages(rootfs)]
    if missing:
        raise StandinBuildError(f"not installed after apt-get: {' '.join(missing)}\n{_tail(out)}")


def _installed_packages(rootfs: Path) -> set[str]:
    """Names of fully installed packages, read from dpkg's status file."""
    status = (rootfs / "var" / "lib" / "dpkg" / "status").read_text(errors="replace")
    installed = set()
    for stanza in status.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " "
        )
        if fields.get("Status") == "install ok installed" and "Package" in fields:
            installed.add(fields["Package"].split(":")[0])
    return installed


def _python_version(rootfs: Path, recipe: DebootstrapRecipe) -> str:
    """Run the image's interpreter once: proves it works and gives its exact version."""
    # A runtime-only recipe has no pythonX.Y-venv (Debian's ensurepip lives there).
    venv = "" if recipe.runtime_only else ", venv, ensurepip"
    code = f"import platform, ssl, sqlite3, ctypes, zlib, bz2, lzma{venv}; " + (
        "print(platform.python_version())"
    )
    cmd = ["chroot", str(rootfs), f"python{recipe.python}", "-c", code]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=_CHROOT_ENV, timeout=120)
    except subprocess.TimeoutExpired:
        raise StandinBuildError(f"python{recipe.python} hangs in the rootfs") from None
    if result.returncode != 0:
        raise StandinBuildError(
            f"python{recipe.python} does not run in the rootfs:\n{result.stderr}"
        )
    return result.stdout.strip()


def _host_ca_bundle() -> Path | None:
    return next((Path(p) for p in HOST_CA_CANDIDATES if Path(p).is_file()), None)


def _official_layout(
    rootfs: Path, recipe: DebootstrapRecipe, out: Path, ca_bundle: Path | None
) -> str:
    """Lay the rootfs out as docker-library's python images are; return the pip version.

    The official image compiles CPython into /usr/local, so root's ``pip install`` writes to
    /usr/local/lib/pythonX.Y/site-packages and that is a site directory. Debian's pythonX.Y
    writes to and reads /usr/local/lib/pythonX.Y/dist-packages instead. Making
    ``dist-packages`` a symlink to a real ``site-packages`` gives both behaviours with
    Debian's own site machinery (its .pth files are processed, nothing is patched): what a
    builder stage installs lands in site-packages, and a ``COPY --from=builder`` of that
    folder into a clean stage is imported there. A .pth or sitecustomize pointing at the
    folder would import it too, but pip would still install into dist-packages, so a
    Dockerfile written for the official image would copy an empty folder.
    """
    py = f"python{recipe.python}"
    local_bin = _usr_local_layout(rootfs, py)
    # pip: Debian's wheel (python3-pip-whl, pulled in by pythonX.Y-venv) runs pip to fetch the
    # pinned one from PyPI (through the host's CA bundle), then installs it as root into
    # /usr/local: pip, pip3 and pipX.Y land in /usr/local/bin.
    wheels = rootfs / "usr" / "share" / "python-wheels"
    debian_pips = sorted(wheels.glob("pip-*.whl"))
    if not debian_pips:
        raise StandinBuildError(f"no pip wheel in /usr/share/python-wheels ({py}-venv)")
    runner = f"/usr/share/python-wheels/{debian_pips[-1].name}/pip"
    seeded = recipe.seeded_pip()
    scratch = rootfs / "tmp" / "harness-pip"
    scratch.mkdir(parents=True, exist_ok=True)
    cert: list[str] = []
    if ca_bundle is not None:
        shutil.copyfile(ca_bundle, scratch / "host-ca.crt")
        cert = ["--cert", "/tmp/harness-pip/host-ca.crt"]
    chroot = ["chroot", str(rootfs), py, runner]
    quiet = ["--disable-pip-version-check", "--no-cache-dir"]
    try:
        if seeded is not None:
            download = [*chroot, "download", *quiet, *cert, "--no-deps", "--only-binary=:all:"]
            download += ["-d", "/tmp/harness-pip", f"pip=={seeded.version}"]
            _run_logged("pip download (chroot)", download, out, PIP_TIMEOUT_S, _CHROOT_ENV)
            wheel = next(scratch.glob("pip-*.whl"), None)
            if wheel is None:
                raise StandinBuildError(f"pip download left no pip wheel:\n{_tail(out)}")
            # `python -m venv` bootstraps from this folder: the venv's pip is the pinned one
            # too. Debian's wheel is diverted aside (renamed, not deleted; dpkg knows).
            for old in debian_pips:
                divert = ["chroot", str(rootfs), "dpkg-divert", "--local", "--rename"]
                divert += ["--divert", f"/usr/share/python-wheels/{old.name}.debian"]
                divert += ["--add", f"/usr/share/python-wheels/{old.name}"]
                _run_logged("dpkg-divert (chroot)", divert, out, 60, _CHROOT_ENV)
            shutil.copyfile(wheel, wheels / wheel.name)
            source = f"/usr/share/python-wheels/{wheel.name}"
        else:
            source = f"/usr/share/python-wheels/{debian_pips[-1].name}"
        install = ["chroot", str(rootfs), py, f"{source}/pip", "install", *quiet, "--no-index"]
        install += ["--no-compile", "--root-user-action=ignore", source]
        _run_logged("pip install (chroot)", install, out, PIP_TIMEOUT_S, _CHROOT_ENV)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _check_seeded_pip(rootfs, recipe, local_bin)


def _usr_local_layout(rootfs: Path, py: str) -> Path:
    """site-packages real, dist-packages a link to it, the interpreter links in
    /usr/local/bin, no PEP 668 marker; returns /usr/local/bin (host path)."""
    local_lib = rootfs / "usr" / "local" / "lib" / py
    site_packages = local_lib / "site-packages"
    site_packages.mkdir(parents=True, exist_ok=True)
    dist_packages = local_lib / "dist-packages"
    if dist_packages.is_dir() and not dist_packages.is_symlink():
        for entry in dist_packages.iterdir():
            shutil.move(str(entry), str(site_packages / entry.name))
        dist_packages.rmdir()
    if not os.path.lexists(dist_packages):
        dist_packages.symlink_to("site-packages")
    # The official image lets root pip-install into the interpreter: no PEP 668 marker.
    (rootfs / "usr" / "lib" / py / "EXTERNALLY-MANAGED").unlink(missing_ok=True)
    local_bin = rootfs / "usr" / "local" / "bin"
    local_bin.mkdir(parents=True, exist_ok=True)
    for name, target in ((py, f"/usr/bin/{py}"), ("python3", py), ("python", "python3")):
        if not os.path.lexists(local_bin / name):
            (local_bin / name).symlink_to(target)
    return local_bin


def _check_seeded_pip(rootfs: Path, recipe: DebootstrapRecipe, local_bin: Path) -> str:
    """The pip /usr/local/bin/python imports (the pinned one when a version is seeded)."""
    seeded = recipe.seeded_pip()
    code = "import pip, sys; print(pip.__version__)"
    done = subprocess.run(
        ["chroot", str(rootfs), "/usr/local/bin/python", "-c", code],
        capture_output=True,
        text=True,
        env=_CHROOT_ENV,
        timeout=120,
    )
    version = done.stdout.strip()
    if done.returncode != 0 or (seeded is not None and version != seeded.version):
        raise StandinBuildError(
            f"pip in /usr/local is not the seeded one: {version or done.stderr}"
        )
    for script in ("pip", "pip3", f"pip{recipe.python}"):
        if not os.path.lexists(local_bin / script):
            raise StandinBuildError(f"pip install left no /usr/local/bin/{script}")
    return version


def _slim_rootfs(rootfs: Path) -> None:
    """Drop what -slim images drop, plus apt caches, lists, build logs and host leftovers."""
    for pattern in _SLIM_EXCLUDE:
        _prune_tree(rootfs, pattern.removesuffix("/*"))
    for pattern in (
        "var/lib/apt/lists/*",
        "var/cache/apt/archives/*.deb",
        "var/cache/apt/archives/partial/*",
        "var/cache/apt/*.bin",
        "var/log/apt/*",
        "var/log/*.log",
        "etc/resolv.conf",  # the host's resolver; Docker provides its own
        "etc/hostname",  # the host's name; Docker provides its own
    ):
        for path in rootfs.glob(pattern):
            if path.is_file() or path.is_symlink():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)


def _prune_tree(rootfs: Path, top: str) -> None:
    """Delete files under ``top`` that dpkg's slim filters exclude; then empty directories."""
    root = str(rootfs)
    base = rootfs / top.lstrip("/")
    if base.is_symlink() or not base.is_dir():
        return
    # Bottom-up and without following symlinks: a link to an absolute path must never lead out
    # of the rootfs into the host.
    for dirpath, dirnames, filenames in os.walk(base, topdown=False):
        directory = Path(dirpath)
        links = [d for d in dirnames if (directory / d).is_symlink()]
        for name in [*filenames, *links]:
            path = directory / name
            if _slim_excluded(str(path)[len(root) :]):
                path.unlink()
        if directory != base:
            with suppress(OSError):  # not empty: something in it is kept
                directory.rmdir()


def _slim_excluded(path: str) -> bool:
    """Whether dpkg's slim filters drop ``path`` (absolute, inside the image)."""
    return _SLIM_EXCLUDE_RE.match(path) is not None and _SLIM_INCLUDE_RE.match(path) is None


def _runtime_rootfs(rootfs: Path, target: Path, recipe: DebootstrapRecipe) -> Path:
    """Copy what a runtime-only image keeps out of ``rootfs`` into ``target``; return it.

    Python, its stdlib (lib-dynload included), every file of the recipe's extra packages,
    the shared libraries ``ldd`` (run in the rootfs) finds for all their ELF files, the CA
    bundle and OpenSSL's configuration, tzdata, os-release; then a passwd and group of
    root, nobody and nonroot (65532), its home, /tmp. Symlinks are copied as symlinks, with
    their targets. The result is checked by running its Python in a chroot.
    """
    python = f"/usr/bin/python{recipe.python}"
    stdlib = f"/usr/lib/python{recipe.python}"
    if not (rootfs / python.lstrip("/")).is_file():
        raise StandinBuildError(f"{python} is not in the rootfs")
    target.mkdir()
    wanted = [python, stdlib]
    for package in recipe.extra_packages:
        wanted += _package_files(rootfs, package)
    wanted += [p for p in RUNTIME_PATHS if os.path.lexists(rootfs / p.lstrip("/"))]
    for path in wanted:
        _copy_out(rootfs, target, path)
    elf_files = [
        "/" + str(path.relative_to(target))
        for path in sorted(target.rglob("*"))
        if path.is_file() and not path.is_symlink() and _is_elf(path)
    ]
    for library in _shared_libraries(rootfs, elf_files):
        _copy_out(rootfs, target, library)
    _copy_link_targets(rootfs, target)
    _write_accounts(target)
    _check_runtime(target, recipe)
    return target


def _package_files(rootfs: Path, package: str) -> list[str]:
    """The files (not directories) dpkg installed for ``package``."""
    listing = rootfs / "var" / "lib" / "dpkg" / "info"
    for name in (f"{package}.list", f"{package}:amd64.list"):
        if (listing / name).is_file():
            paths = (listing / name).read_text(errors="replace").splitlines()
            return [
                p
                for p in paths
                if p.startswith("/")
                and not (rootfs / p.lstrip("/")).is_dir()
                and os.path.lexists(rootfs / p.lstrip("/"))
            ]
    raise StandinBuildError(f"dpkg has no file list for {package}")


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def parse_ldd(output: str) -> tuple[set[str], set[str]]:
    """Library paths and missing sonames from ``ldd`` output (several files' sections)."""
    found: set[str] = set()
    missing: set[str] = set()
    for line in output.splitlines():
        if not line[:1].isspace():
            continue  # "FILE:" headers, "not a dynamic executable"
        text = line.strip()
        if "=>" in text:
            name, _, rest = text.partition("=>")
            rest = rest.strip()
            if rest.startswith("not found"):
                missing.add(name.strip())
            elif rest.startswith("/"):
                found.add(rest.split(" (", 1)[0])
        elif text.startswith("/"):
            found.add(text.split(" (", 1)[0])  # the dynamic loader itself
    return found, missing


def _shared_libraries(rootfs: Path, elf_files: list[str]) -> set[str]:
    """Every library the ELF files load (ldd gives the transitive closure), found in rootfs."""
    found: set[str] = set()
    for start in range(0, len(elf_files), 200):
        batch = elf_files[start : start + 200]
        cmd = ["chroot", str(rootfs), "ldd", *batch]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=_CHROOT_ENV, timeout=300)
        except subprocess.TimeoutExpired:
            raise StandinBuildError("ldd in the rootfs timed out") from None
        libraries, missing = parse_ldd(done.stdout)
        if missing:
            raise StandinBuildError(f"ldd finds no {', '.join(sorted(missing))} in the rootfs")
        if not libraries:
            raise StandinBuildError(f"ldd in the rootfs found nothing:\n{done.stderr[-2000:]}")
        found |= libraries
    return found


def _inside(root: Path, path: PurePosixPath) -> Path:
    """``path`` (absolute, inside the image) as a host path under ``root``."""
    return root / str(path).lstrip("/")


def _link_target(inside: PurePosixPath, host: Path) -> str:
    """Where the symlink at ``inside`` (host path ``host``) points, inside the image."""
    return posixpath.normpath(posixpath.join(str(inside.parent), str(host.readlink())))


def _copy_out(source_root: Path, target_root: Path, path: str, depth: int = 0) -> None:
    """Copy ``path`` from one rootfs to the other, resolving symlinks inside the rootfs.

    Every symlink met on the way (a directory such as /lib -> usr/lib, or the file itself)
    is recreated as it is and followed inside the source rootfs, never on the host.
    """
    if depth > MAX_LINK_DEPTH:
        raise StandinBuildError(f"too many levels of symlinks copying {path}")
    parts = PurePosixPath(posixpath.normpath(path)).parts[1:]
    current = PurePosixPath("/")
    for index, part in enumerate(parts):
        current = current / part
        source, target = _inside(source_root, current), _inside(target_root, current)
        if source.is_symlink():
            if not os.path.lexists(target):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(source.readlink())
            resolved = _link_target(current, source)
            rest = parts[index + 1 :]
            _copy_out(source_root, target_root, posixpath.join(resolved, *rest), depth + 1)
            return
        if not source.exists():
            raise StandinBuildError(f"{current} is not in the rootfs")
        if index < len(parts) - 1:
            if not target.exists():
                target.mkdir()
                shutil.copystat(source, target)
        elif source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        elif not os.path.lexists(target):
            shutil.copy2(source, target)


def _copy_link_targets(source_root: Path, target_root: Path) -> None:
    """Copy the targets of symlinks that dangle in the new rootfs (e.g. Debian's stdlib
    links sitecustomize.py to /etc/python3.X), until none is left."""
    for _ in range(MAX_LINK_DEPTH):
        dangling = []
        for path in target_root.rglob("*"):
            if not path.is_symlink():
                continue
            inside = PurePosixPath("/") / path.relative_to(target_root)
            resolved = _link_target(inside, path)
            if not _exists_inside(target_root, resolved):
                dangling.append(resolved)
        copied = [p for p in dangling if _exists_inside(source_root, p)]
        if not copied:
            return
        for resolved in copied:
            _copy_out(source_root, target_root, resolved)
    raise StandinBuildError("symlinks in the runtime rootfs keep pointing at missing files")


def _exists_inside(root: Path, path: str, depth: int = 0) -> bool:
    """Whether ``path`` exists in ``root`` when symlinks are resolved inside ``root``."""
    if depth > MAX_LINK_DEPTH:
        return False
    current = PurePosixPath("/")
    parts = PurePosixPath(path).parts[1:]
    for index, part in enumerate(parts):
        current = current / part
        host = _inside(root, current)
        if host.is_symlink():
            resolved = _link_target(current, host)
            return _exists_inside(root, posixpath.join(resolved, *parts[index + 1 :]), depth + 1)
        if not host.exists():
            return False
    return True


def _write_accounts(target: Path) -> None:
    """passwd/group as distroless has them, the user's home, and a sticky /tmp."""
    etc = target / "etc"
    etc.mkdir(exist_ok=True)
    home = f"/home/{RUNTIME_USER}"
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
        f"{RUNTIME_USER}:x:{RUNTIME_UID}:{RUNTIME_UID}:{RUNTIME_USER}:{home}:/sbin/nologin\n"
    )
    (etc / "group").write_text(f"root:x:0:\nnogroup:x:65534:\n{RUNTIME_USER}:x:{RUNTIME_UID}:\n")
    for folder, mode, owner in (("root", 0o700, 0), (home.lstrip("/"), 0o700, RUNTIME_UID)):
        path = target / folder
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        os.chown(path, owner, owner)
    (target / "tmp").mkdir(exist_ok=True)
    (target / "tmp").chmod(0o1777)


def _check_runtime(target: Path, recipe: DebootstrapRecipe) -> None:
    """Python starts in the new rootfs with what teams rely on; no shell is left in it."""
    for shell in ("bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash"):
        if os.path.lexists(target / shell):
            raise StandinBuildError(f"the runtime rootfs still has /{shell}")
    code = (
        "import ssl, sqlite3, ctypes, zlib, bz2, lzma, json, zoneinfo; "
        "ssl.create_default_context(); zoneinfo.ZoneInfo('Europe/Paris'); print(1)"
    )
    cmd = ["chroot", str(target), f"/usr/bin/python{recipe.python}", "-c", code]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=_CHROOT_ENV, timeout=120)
    except subprocess.TimeoutExpired:
        raise StandinBuildError("python hangs in the runtime rootfs") from None
    if done.returncode != 0 or done.stdout.strip() != "1":
        raise StandinBuildError(f"python does not run in the runtime rootfs:\n{done.stderr}")


def _recipe_labels(
    recipe: DebootstrapRecipe, python_version: str, pip_version: str | None = None
) -> dict[str, str]:
    labels = {
        "harness.recipe": recipe.digest(),
        "harness.recipe-format": str(RECIPE_FORMAT),
        "harness.debian-suite": recipe.suite,
        "harness.python": recipe.python,
        "harness.python-version": python_version,
    }
    if pip_version is not None:
        labels["harness.pip-version"] = pip_version
    return labels


def _import_changes(labels: dict[str, str], runtime_python: str | None = None) -> list[str]:
    """Dockerfile instructions applied by the import: labels, then what slim images set (or,
    for a runtime-only image, what distroless sets: its user and the interpreter)."""
    changes = []
    for key, value in sorted(labels.items()):
        if "\n" in key + value:
            raise ValueError(f"label {key!r} must be a single line")
        # Double-quoted Dockerfile strings take JSON-style escapes of " and \.
        changes.append(
            f"LABEL {json.dumps(key, ensure_ascii=False)}={json.dumps(value, ensure_ascii=False)}"
        )
    if runtime_python is not None:
        # CMD, not ENTRYPOINT: `docker run IMAGE /usr/bin/python3.X -c ...` works as written.
        return [
            *changes,
            "ENV LANG=C.UTF-8",
            f"USER {RUNTIME_UID}",
            "WORKDIR /home/nonroot",
            f"CMD {json.dumps([runtime_python])}",
        ]
    # The official images put /usr/local/bin first on PATH (its python and pip win).
    path = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return [*changes, path, "ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]']


def _import_rootfs(
    client: docker.DockerClient, rootfs: Path, reference: str, changes: list[str]
) -> str:
    """Stream ``tar`` of the rootfs into the engine (nothing held in memory); return the id."""
    repository, tag = reference.rsplit(":", 1)
    cmd = ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", "-", "."]
    with tempfile.TemporaryFile() as tar_err:
        tar = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=tar_err)
        try:
            response = client.api.import_image(
                src=tar.stdout, repository=repository, tag=tag, changes=changes, stream_src=True
            )
        except (docker.errors.DockerException, requests.exceptions.RequestException) as err:
            tar.kill()
            raise StandinBuildError(f"docker import of {reference} failed: {err}") from err
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            code = tar.wait()
        if code != 0:
            # The engine may have imported a truncated archive: do not leave that tagged.
            _remove_image(client, reference)
            raise StandinBuildError(f"tar of the rootfs failed (exit {code}): {_read(tar_err)}")
    _check_import_response(response, reference)
    return str(client.images.get(reference).id)


def _read(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")[-2000:]


def _check_import_response(response: object, reference: str) -> None:
    """The engine answers 200 with JSON lines; an error shows up as an ``error`` field."""
    for line in str(response).splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        error = read(BuildChunk, message).error
        if error:
            raise StandinBuildError(f"docker import of {reference} failed: {error}")


def _remove_image(client: docker.DockerClient, reference: str) -> None:
    with suppress(docker.errors.DockerException):
        client.images.remove(reference, force=True)


def _mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` (from /proc/self/mountinfo, octal escapes decoded)."""
    prefix = str(path.resolve())
    found = []
    with Path("/proc/self/mountinfo").open() as mountinfo:
        for line in mountinfo:
            raw = line.split()[4]
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), raw)
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


def _remove_workdir(workdir: Path, log: Callable[[str], None]) -> None:
    """Unmount whatever a failed step left mounted in the rootfs, then delete it all."""
    # Deepest first; lazy, so a busy mount is detached at once and cannot block the cleanup.
    for point in sorted(_mounts_under(workdir), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
    if _mounts_under(workdir):
        # Deleting through a bind mount of /dev would delete the host's device nodes.
        log(f"warning: {workdir} still has mounts; left in place, remove it by hand")
        return
    shutil.rmtree(workdir, ignore_errors=True)
