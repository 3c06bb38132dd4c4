"""What a project's test suite wrote, copied into the run directory (``tests.artifacts``).

A suite's snapshot report, coverage file or screenshots are gone with the container; the
globs of ``tests.artifacts`` name what to keep. After the suite ran (passed or not):

1. In the container, the venv's python lists the files the globs match in the suite's
   folder (``**`` for any depth; regular files only, never a symlink), in sorted order,
   and packs them into one tar until the bound is reached (``ARTIFACTS_MAX_FILES`` files,
   ``ARTIFACTS_MAX_BYTES`` bytes per cell: model/matrix.py); what does not fit is listed
   as skipped, with why.
2. On the host that tar is read through the engine (``get_archive``, read up to the
   bound; the engine cannot read a tmpfs, the only writable place of a read-only runtime
   cell, so there the same python prints it, base64) and unpacked into
   ``artifacts/<cell>.r<k>/`` of the run directory: only regular files, only at relative
   paths inside that folder, and the bound is checked again (the container is never
   trusted). The tar is removed with python too: a runtime may have no ``rm``.
3. The record (results.Artifacts) lists what was copied and skipped; it sits in the cell
   record at ``probes.tests.artifacts``. Nothing copied is a ``problem``, never a crash.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any, Required, TypedDict, cast

from harness.model.matrix import ARTIFACTS_MAX_BYTES, ARTIFACTS_MAX_FILES
from harness.store.files import artifacts_folder

INSIDE_TAR = "/tmp/harness-artifacts.tar"
EXEC_TIMEOUT_S = 120.0
# The engine's tar of one file adds a header and padding to the inner tar's size.
_OUTER_SLACK = 1 << 20

# Run in the container by the venv's python: argv = folder, limit bytes, limit files, tar
# path, globs. Prints one JSON object: {"files": [...], "skipped": [...]}.
_PACK = r"""
import glob, json, os, sys, tarfile
folder, limit, most, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
patterns = sys.argv[5:]
os.chdir(folder)
found = sorted({p for g in patterns for p in glob.glob(g, recursive=True)})
files, skipped, total = [], [], 0
with tarfile.open(target, "w") as tar:
    for path in found:
        if os.path.islink(path) or not os.path.isfile(path):
            if not os.path.isdir(path) or os.path.islink(path):
                skipped.append({"path": path, "why": "not a regular file"})
            continue
        size = os.path.getsize(path)
        if len(files) >= most:
            skipped.append({"path": path, "bytes": size, "why": f"over the bound of {most} files"})
        elif total + size > limit:
            skipped.append({"path": path, "bytes": size, "why": f"over the bound of {limit} bytes"})
        else:
            tar.add(path, arcname=path, recursive=False)
            files.append({"path": path, "bytes": size})
            total += size
print(json.dumps({"files": files, "skipped": skipped}))
"""


# Prints INSIDE_TAR base64-encoded (argv = its path): for a tar the engine cannot read.
_PRINT_TAR = "import base64, sys; sys.stdout.write(base64.b64encode(open(sys.argv[1], 'rb').read()).decode())"  # noqa: E501
_REMOVE = "import os, sys; os.remove(sys.argv[1])"


def pack_command(python: str, folder: str, patterns: list[str]) -> list[str]:
    """argv that packs what ``patterns`` match in ``folder`` into ``INSIDE_TAR``."""
    limits = [str(ARTIFACTS_MAX_BYTES), str(ARTIFACTS_MAX_FILES), INSIDE_TAR]
    return [python, "-c", _PACK, folder, *limits, *patterns]


class ArtifactRow(TypedDict, total=False):
    """One file the suite wrote: copied (``path``, ``bytes``), or skipped with ``why``."""

    path: Required[str]  # relative to the suite's folder
    bytes: int
    why: str


class ArtifactsRecord(TypedDict, total=False):
    """The tests probe's ``artifacts`` (typed for readers as model.results.Artifacts)."""

    folder: Required[str]
    patterns: Required[list[str]]
    files: Required[list[ArtifactRow]]
    skipped: Required[list[ArtifactRow]]
    total_bytes: Required[int]
    limit_bytes: Required[int]
    problem: str


def collect(
    box: Any, python: str, folder: str, patterns: list[str], out_dir: Path, cell: str, repeat: int,
    user: str = "",
) -> ArtifactsRecord:  # fmt: skip
    """Copy what the suite wrote (``box``: run.cell's CellContainer) into the run dir; the
    results.Artifacts record as a dict, for the tests probe."""
    relative = artifacts_folder(cell, repeat)
    record: ArtifactsRecord = {
        "folder": relative,
        "patterns": list(patterns),
        "files": [],
        "skipped": [],
        "total_bytes": 0,
        "limit_bytes": ARTIFACTS_MAX_BYTES,
    }
    # 1. list and pack in the container
    outcome = box.exec(pack_command(python, folder, patterns), EXEC_TIMEOUT_S, user=user)
    listed = _listing(outcome.stdout)
    if outcome.exit_code != 0 or listed is None:
        detail = (outcome.stderr or outcome.stdout).strip().splitlines()[-1:] or ["no output"]
        return {**record, "files": [], "problem": f"could not list the artifacts: {detail[0]}"}
    listed_files, record["skipped"] = listed
    if not listed_files:
        return {**record, "problem": "the suite wrote nothing these globs match"}
    # 2. read the tar through the engine and unpack it, checked again
    data: bytes | None
    try:
        stream, _stat = box.container.get_archive(INSIDE_TAR)
        data = _read_bounded(stream, ARTIFACTS_MAX_BYTES + _OUTER_SLACK * 2)
    except Exception as err:  # the engine's errors: a failed copy, never a crashed cell
        data = _read_through_python(box, python, user)  # a tar on a tmpfs: no archive API
        if data is None:
            box.exec([python, "-c", _REMOVE, INSIDE_TAR], 30, user=user)
            problem = f"could not read the artifacts from the container: {err}"
            return {**record, "problem": problem}
    copied, skipped = unpack(data, out_dir / relative)
    record["files"] = copied
    record["skipped"] = record["skipped"] + skipped
    record["total_bytes"] = sum(f["bytes"] for f in copied)
    if not copied:
        record["problem"] = "nothing could be copied from the container"
    box.exec([python, "-c", _REMOVE, INSIDE_TAR], 30, user=user)
    return record


def _read_through_python(box: Any, python: str, user: str) -> bytes | None:
    """The packed tar as the engine's archive would hold it (one file in a tar), printed
    by the container's python; None when it cannot be read or is over the bound."""
    outcome = box.exec([python, "-c", _PRINT_TAR, INSIDE_TAR], EXEC_TIMEOUT_S, user=user)
    if outcome.exit_code != 0:
        return None
    try:
        inner = base64.b64decode(outcome.stdout.strip(), validate=True)
    except ValueError:  # binascii.Error is a ValueError
        return None
    if len(inner) > ARTIFACTS_MAX_BYTES + _OUTER_SLACK:
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as outer:
        info = tarfile.TarInfo(PurePosixPath(INSIDE_TAR).name)
        info.size = len(inner)
        outer.addfile(info, io.BytesIO(inner))
    return buffer.getvalue()


def _listing(stdout: str) -> tuple[list[ArtifactRow], list[ArtifactRow]] | None:
    """(files, skipped) as the pack script listed them in the container."""
    lines = stdout.strip().splitlines()
    try:
        parsed = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    files, skipped = (
        [cast(ArtifactRow, x) for x in parsed.get(key) or [] if isinstance(x, dict)]
        for key in ("files", "skipped")
    )
    return files, skipped


def _read_bounded(stream: Any, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise ValueError(f"the artifacts' archive is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def unpack(data: bytes, target: Path) -> tuple[list[ArtifactRow], list[ArtifactRow]]:
    """Unpack the engine's tar (which holds the inner tar) into ``target``: regular files
    at safe relative paths, within the bound. Returns (copied, skipped)."""
    copied: list[ArtifactRow] = []
    skipped: list[ArtifactRow] = []
    with tarfile.open(fileobj=io.BytesIO(data)) as outer:
        member = next((m for m in outer.getmembers() if m.isfile()), None)
        inner_file = outer.extractfile(member) if member else None
        if inner_file is None:
            return copied, [{"path": INSIDE_TAR, "why": "the engine returned no archive"}]
        inner_bytes = inner_file.read()
    total = 0
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        for item in inner.getmembers():
            name = PurePosixPath(item.name)
            if not item.isfile():
                skipped.append({"path": item.name, "why": "not a regular file"})
                continue
            if name.is_absolute() or ".." in name.parts or not name.parts:
                skipped.append({"path": item.name, "why": "a path outside the suite's folder"})
                continue
            if total + item.size > ARTIFACTS_MAX_BYTES or len(copied) >= ARTIFACTS_MAX_FILES:
                skipped.append({"path": item.name, "bytes": item.size, "why": "over the bound"})
                continue
            source = inner.extractfile(item)
            if source is None:
                continue
            destination = target.joinpath(*name.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(source.read())
            copied.append({"path": item.name, "bytes": item.size})
            total += item.size
    return copied, skipped
