"""Probe: what the image is made of: OS packages, Python distributions, bytes on disk.

Usage: ``contents.py [--venv PATH] [--root PATH]``. ``--root`` (default ``/``) is where the
OS files are read from (dpkg's status file, apk's database, the top-level folders); unit tests
point it at a fake tree. ``--venv`` is the cell's virtual environment, read as given.

Byte rule, the same everywhere in this probe: a file's apparent size (``st_size`` from
``lstat``), as ``du --apparent-size --bytes`` (``du -sb``) counts it, and each inode (device,
inode number) once, so hard links count once. Not ``st_blocks * 512``: block usage depends on
the file system the storage driver sits on, while apparent sizes are what a layer tarball or a
wheel holds, so they compare across hosts. Symbolic links are never followed: a link counts
its own size (the length of its target path).

Standard library only; Python 3.9 syntax (it runs inside bases with Python 3.11 to 3.15).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import re
import stat
import sys
from typing import Any, NoReturn

from _common import read_text, run_probe

DPKG_STATUS = "var/lib/dpkg/status"
APK_INSTALLED = "lib/apk/db/installed"
DPKG_INSTALLED = "install ok installed"
# Folders measured besides the venv. /lib, /bin, ... are symlinks into /usr on merged-/usr
# Debian (then reported as links, not walked) but real folders on Alpine.
TOP_LEVEL_FOLDERS = ("usr", "var", "etc", "opt", "root", "home", "lib", "lib64", "bin", "sbin")
# A walk stops after this many entries and says so ("truncated"): the probe must stay bounded
# even on a pathological tree. A 1 GB torch venv has about 20 000 entries.
MAX_ENTRIES_PER_TREE = 2_000_000
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar")
_NAME_SEPARATORS = re.compile(r"[-_.]+")
# PEP 425 platform tags PyPI publishes for Linux binaries; "linux_x86_64" is refused there.
_PUBLISHED_LINUX_PLATFORM = re.compile(r"^(manylinux|musllinux)")
_LOCAL_LINUX_PLATFORM = re.compile(r"^linux_")
_DPKG_SOURCE = re.compile(r"^(\S+)(?:\s+\((.+)\))?$")


class _Parser(argparse.ArgumentParser):
    """Raise on bad arguments instead of exiting, so the failure reaches the JSON line."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(f"bad arguments: {message}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(prog="contents.py", description=__doc__)
    parser.add_argument("--venv", default=None, help="the cell's virtual environment")
    parser.add_argument("--root", default="/", help="file system root for the OS files")
    return parser.parse_args(argv)


def normalise_name(name: str) -> str:
    """PEP 503 normalised project name: lower case, runs of -_. as one '-'."""
    return _NAME_SEPARATORS.sub("-", name).lower()


# ---------------------------------------------------------------- OS packages


def rfc822_paragraphs(text: str) -> list[dict[str, str]]:
    """dpkg status paragraphs as dicts; continuation lines (leading space) are dropped."""
    paragraphs: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                paragraphs.append(current)
            current = {}
        elif not line[0].isspace():
            key, sep, value = line.partition(":")
            if sep:
                current[key.strip()] = value.strip()
    if current:
        paragraphs.append(current)
    return paragraphs


def kib_to_bytes(value: str | None) -> int | None:
    return int(value) * 1024 if value and value.strip().isdigit() else None


def dpkg_packages(text: str) -> list[dict[str, Any]]:
    """Installed packages of a dpkg status file; entries not "install ok installed" are left out.

    Installed-Size is in KiB (deb-control(5)); Source may carry "(version)" when it differs.
    """
    packages = []
    for fields in rfc822_paragraphs(text):
        if fields.get("Status") != DPKG_INSTALLED or "Package" not in fields:
            continue
        source_match = _DPKG_SOURCE.match(fields.get("Source", ""))
        packages.append(
            {
                "name": fields["Package"],
                "version": fields.get("Version"),
                "architecture": fields.get("Architecture"),
                "installed_size_bytes": kib_to_bytes(fields.get("Installed-Size")),
                "source": source_match.group(1) if source_match else None,
                "source_version": source_match.group(2) if source_match else None,
            }
        )
    return packages


def apk_packages(text: str) -> list[dict[str, Any]]:
    """Packages of apk's installed database: one "K:value" block per package.

    P name, V version, A architecture, I installed size in bytes, o origin (source) package.
    """
    packages = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if len(line) > 2 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if "P" not in fields:
            continue
        size = fields.get("I", "")
        packages.append(
            {
                "name": fields["P"],
                "version": fields.get("V"),
                "architecture": fields.get("A"),
                "installed_size_bytes": int(size) if size.isdigit() else None,
                "source": fields.get("o"),
                "source_version": None,
            }
        )
    return packages


def os_packages(root: str) -> tuple[str | None, list[dict[str, Any]]]:
    """(package manager, installed packages sorted by name); dpkg is tried before apk."""
    dpkg_text = read_text(os.path.join(root, DPKG_STATUS))
    if dpkg_text is not None:
        return "dpkg", sorted(dpkg_packages(dpkg_text), key=package_sort_key)
    apk_text = read_text(os.path.join(root, APK_INSTALLED))
    if apk_text is not None:
        return "apk", sorted(apk_packages(apk_text), key=package_sort_key)
    return None, []


def package_sort_key(package: dict[str, Any]) -> tuple[str, str]:
    return package["name"], package.get("architecture") or ""


# ------------------------------------------------------ Python distributions


def site_packages_dirs(venv: str) -> list[str]:
    """The venv's site-packages folders (lib and lib64 are often the same folder: kept once)."""
    found: dict[str, str] = {}
    for pattern in ("lib/python*/site-packages", "lib64/python*/site-packages"):
        for path in sorted(glob.glob(os.path.join(glob.escape(venv), pattern))):
            found.setdefault(os.path.realpath(path), path)
    return list(found.values())


def header_fields(text: str) -> dict[str, list[str]]:
    """RFC 822 style header (METADATA, WHEEL): every value of each key, up to the body."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0].isspace():
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), []).append(value.strip())
    return fields


def first(fields: dict[str, list[str]], key: str) -> str | None:
    values = fields.get(key)
    return values[0] if values else None


def read_direct_url(dist_info: str) -> dict[str, Any] | None:
    """PEP 610 direct_url.json, or None when absent or not a JSON object."""
    text = read_text(os.path.join(dist_info, "direct_url.json"))
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def built_from_source(
    direct_url: dict[str, Any] | None, tags: list[str]
) -> tuple[bool | None, str]:
    """Whether the distribution was built here from source, and the signal that tells.

    Signals, strongest first:
    - direct_url.json (PEP 610) exists only for direct-URL installs: vcs_info or dir_info
      means built here; archive_info means built here unless its URL names a .whl.
    - the WHEEL Tag: a plain ``linux_<arch>`` platform tag is what a local build produces
      (PyPI refuses such wheels, and auditwheel renames repaired ones manylinux/musllinux),
      so it means built here; a manylinux/musllinux tag means a published binary wheel.
    Limits: a pure-Python sdist built here gets ``py3-none-any`` like a downloaded pure wheel,
    and an index install leaves no direct_url.json, so those are None (cannot tell). The
    WHEEL Generator is reported as a fact but not used: PyPI wheels come from the same tools.
    """
    if direct_url is not None:
        if "vcs_info" in direct_url:
            return True, "direct_url.json vcs_info"
        if "dir_info" in direct_url:
            return True, "direct_url.json dir_info"
        if "archive_info" in direct_url:
            url = str(direct_url.get("url", "")).split("?")[0].split("#")[0].lower()
            if url.endswith(".whl"):
                return False, "direct_url.json archive_info (wheel)"
            if url.endswith(SDIST_SUFFIXES):
                return True, "direct_url.json archive_info (sdist)"
    platforms = {tag.rsplit("-", 1)[-1] for tag in tags}
    if any(_LOCAL_LINUX_PLATFORM.match(p) for p in platforms):
        return True, "wheel tag linux_*"
    if platforms and all(_PUBLISHED_LINUX_PLATFORM.match(p) for p in platforms):
        return False, "wheel tag manylinux/musllinux"
    return None, "no signal"


def record_paths(dist_info: str) -> list[str] | None:
    """Paths listed in RECORD (first CSV column), or None when RECORD cannot be read."""
    text = read_text(os.path.join(dist_info, "RECORD"))
    if text is None:
        return None
    return [row[0] for row in csv.reader(text.splitlines()) if row and row[0]]


def read_dist_info(dist_info: str) -> dict[str, Any]:
    """Facts of one ``*.dist-info`` folder, without sizes."""
    metadata = header_fields(read_text(os.path.join(dist_info, "METADATA")) or "")
    wheel = header_fields(read_text(os.path.join(dist_info, "WHEEL")) or "")
    folder_name = os.path.basename(dist_info)[: -len(".dist-info")]
    name = first(metadata, "Name") or folder_name.split("-")[0]
    tags = wheel.get("Tag", [])
    direct_url = read_direct_url(dist_info)
    from_source, signal = built_from_source(direct_url, tags)
    installer = (read_text(os.path.join(dist_info, "INSTALLER")) or "").strip()
    return {
        "name": name,
        "normalised_name": normalise_name(name),
        "version": first(metadata, "Version"),
        "installer": installer or None,
        "requested": os.path.exists(os.path.join(dist_info, "REQUESTED")),
        "wheel_tags": tags,
        "wheel_generator": first(wheel, "Generator"),
        "built_from_source": from_source,
        "built_from_source_signal": signal,
        "direct_url": direct_url.get("url") if direct_url else None,
        "dist_info": dist_info,
    }


class InodeLedger:
    """Which inodes were already counted, so a file (or hard link) counts once."""

    def __init__(self) -> None:
        self.seen: set[tuple[int, int]] = set()

    def claim(self, info: os.stat_result) -> bool:
        """True the first time this inode is seen."""
        key = (info.st_dev, info.st_ino)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class Confinement:
    """Tells whether a path stays inside a folder once its parent's symlinks are resolved."""

    def __init__(self, folder: str) -> None:
        self.folder = os.path.realpath(folder)
        self.parents: dict[str, bool] = {}

    def contains(self, path: str) -> bool:
        parent = os.path.dirname(path)
        inside = self.parents.get(parent)
        if inside is None:
            real = os.path.realpath(parent)
            inside = real == self.folder or real.startswith(self.folder + os.sep)
            self.parents[parent] = inside
        return inside


def measure_record(
    site_packages: str, paths: list[str], ledger: InodeLedger, confinement: Confinement
) -> dict[str, int]:
    """Bytes and file counts of the RECORD paths, resolved relative to site-packages.

    A path already counted by an earlier distribution (or a hard link to one) is "shared"
    and adds nothing; a path leaving the venv is "outside" and is not looked at.
    """
    counts = dict.fromkeys(
        ("size_bytes", "files", "files_missing", "files_shared", "files_outside"), 0
    )
    counts["files_unreadable"] = 0
    for listed in paths:
        path = os.path.normpath(os.path.join(site_packages, listed))
        if not confinement.contains(path):
            counts["files_outside"] += 1
            continue
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            counts["files_missing"] += 1
            continue
        except OSError:
            counts["files_unreadable"] += 1
            continue
        if stat.S_ISDIR(info.st_mode):
            continue  # a folder listed in RECORD holds no bytes of its own in this rule
        if not ledger.claim(info):
            counts["files_shared"] += 1
            continue
        counts["size_bytes"] += info.st_size
        counts["files"] += 1
    return counts


def distributions(venv: str) -> list[dict[str, Any]]:
    """Every ``*.dist-info`` of the venv with its sizes, sorted by normalised name and version.

    A file listed by two distributions (a shared namespace folder, a file one overwrote) is
    attributed to the first of them in that sorted order and counted as "shared" by the rest.
    """
    ledger = InodeLedger()
    confinement = Confinement(venv)
    found = []
    for site_packages in site_packages_dirs(venv):
        pattern = os.path.join(glob.escape(site_packages), "*.dist-info")
        for dist_info in glob.glob(pattern):
            if os.path.isdir(dist_info):
                found.append((site_packages, read_dist_info(dist_info)))
    found.sort(key=lambda item: (item[1]["normalised_name"], item[1]["version"] or "", item[0]))
    for site_packages, facts in found:
        listed = record_paths(facts["dist_info"])
        facts["record"] = listed is not None
        facts.update(measure_record(site_packages, listed or [], ledger, confinement))
    return [facts for _site, facts in found]


# ------------------------------------------------------------- bytes on disk


def empty_tally() -> dict[str, Any]:
    return {
        "bytes": 0,
        "files": 0,
        "dirs": 0,
        "symlinks": 0,
        "other": 0,
        "hardlinks_skipped": 0,
        "unreadable": 0,
        "other_device": 0,
        "truncated": False,
    }


def tally_entry(tally: dict[str, Any], info: os.stat_result, ledger: InodeLedger) -> None:
    mode = info.st_mode
    kind = (
        "dirs"
        if stat.S_ISDIR(mode)
        else "files"
        if stat.S_ISREG(mode)
        else "symlinks"
        if stat.S_ISLNK(mode)
        else "other"
    )
    if not ledger.claim(info):
        tally["hardlinks_skipped"] += 1
        return
    tally[kind] += 1
    tally["bytes"] += info.st_size


def walk_tree(top: str) -> dict[str, Any]:
    """du-like total of ``top``: the folder itself and everything below it.

    Never follows symlinks and stays on ``top``'s device (like ``du -x``), so neither a link
    nor a mount (a read-only host mount, /proc) takes the walk out of the tree. Unreadable
    folders are skipped and counted.
    """
    tally = empty_tally()
    ledger = InodeLedger()
    top_info = os.lstat(top)
    tally_entry(tally, top_info, ledger)
    pending = [top]
    entries = 1
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                children = list(listing)
        except OSError:
            tally["unreadable"] += 1
            continue
        for child in children:
            entries += 1
            if entries > MAX_ENTRIES_PER_TREE:
                tally["truncated"] = True
                return tally
            try:
                info = child.stat(follow_symlinks=False)
            except OSError:
                tally["unreadable"] += 1
                continue
            if info.st_dev != top_info.st_dev:
                tally["other_device"] += 1
                continue
            tally_entry(tally, info, ledger)
            if stat.S_ISDIR(info.st_mode):
                pending.append(child.path)
    return tally


def measure_folder(path: str) -> dict[str, Any] | None:
    """walk_tree of a real folder; a symlinked one gives only its target; None when absent."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return {"symlink_to": os.readlink(path)}
    if not stat.S_ISDIR(info.st_mode):
        return None
    return walk_tree(path)


def disk_paths(root: str, venv: str | None) -> dict[str, Any]:
    """Totals of the venv and the top-level folders, keyed by path as seen from ``root``.

    Each folder is totalled on its own, so totals overlap when one holds another (a venv
    under /opt is counted in both).
    """
    totals: dict[str, Any] = {}
    if venv is not None:
        totals[venv] = measure_folder(venv)
    for name in TOP_LEVEL_FOLDERS:
        measured = measure_folder(os.path.join(root, name))
        if measured is not None:
            totals["/" + name] = measured
    return totals


def main(result: dict[str, Any]) -> None:
    args = parse_args(sys.argv[1:])
    venv = os.path.abspath(args.venv) if args.venv else None
    manager, packages = os_packages(args.root)
    result.update(
        root=args.root,
        venv=venv,
        size_rule="apparent size (st_size), each inode once, symlinks not followed",
        package_manager=manager,
        os_packages=packages,
        os_packages_installed_bytes=sum(p["installed_size_bytes"] or 0 for p in packages),
    )
    if venv is not None and not os.path.isdir(venv):
        raise FileNotFoundError(f"venv not found: {venv}")
    result["distributions"] = distributions(venv) if venv is not None else None
    result["paths"] = disk_paths(args.root, venv)


if __name__ == "__main__":
    run_probe(main)
