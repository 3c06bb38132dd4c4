"""An image's weight as a registry stores it: each layer's tar, gzip-compressed at level 6.

docker push compresses every layer with Go's ``compress/gzip`` at its default level (6);
zlib's level 6 is the same algorithm and level. Two measurements:

- a base image's layers (``image_compressed_bytes``): ``docker save`` streamed through the
  compressor, every layer exactly, once per image id (an id's layers cannot change), kept
  in harness's cache folder;
- a cell's own layer (``measure_layer``), without committing an image: the engine lists the
  container's changed paths (``GET /containers/{id}/changes``, what commit would put in the
  layer) and the probe-side script ``probes/_layersize.py`` lays out that tar inside the
  container and compresses it: all of it up to ``SAMPLE_BUDGET_BYTES``, else every k-th
  chunk with its deflate history (see the script; tested against ``docker save`` of a
  committed image in tests/integration/test_image_size.py);
- a runtime cell's copied layer (``measure_tar``): the tar the copy streamed through the
  host (run/runtime.py writes it to a temporary file on its way into the runtime), by the
  same rule, which is defined once, in the probe-side script (``compressed_size``), and
  loaded from it here.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import os
import tarfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import docker

from harness.engine.container import CellContainer

GZIP_LEVEL = 6  # compress/flate.DefaultCompression, as docker push writes layers
GZIP_FRAME_BYTES = 18  # gzip's header and trailer around one deflate stream
# A cell's layer up to this many tar bytes is compressed whole; a larger one is sampled
# so that about this many bytes are compressed (0.96 % off the whole-stream figure on a
# 179 MB mix of .py, .so and docs; the time is mostly zlib's: bench/README.md).
SAMPLE_BUDGET_BYTES = 8 * 1024 * 1024
SAMPLE_CHUNK_BYTES = 16 * 1024
LAYER_SCRIPT = "_layersize.py"
PROBES_DIR = Path(__file__).resolve().parents[1] / "probes"
SPEC_DIR = "/tmp"
SPEC_NAME = ".harness-layersize.json"
LAYER_TIMEOUT_S = 600.0
CACHE_FOLDER = "compressed-size"
TAR_MAGIC_OFFSET = 257

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class LayerSize:
    """A container's writable layer as ``docker commit`` would write it."""

    tar_bytes: int
    gzip_bytes: int
    entries: int
    sampled_fraction: float  # 1.0: compressed whole (exact)
    unreadable: int  # paths that vanished or could not be read (counted as zeros)
    seconds: float


def gzip_size(chunks: Iterable[bytes], level: int = GZIP_LEVEL) -> int:
    """Bytes of one gzip stream of ``chunks`` at ``level``, without keeping the output."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    size = sum(len(compressor.compress(chunk)) for chunk in chunks)
    return size + len(compressor.flush()) + GZIP_FRAME_BYTES


def layer_sizes_of_save(stream: Iterable[bytes]) -> list[int]:
    """The gzip size of every layer in a ``docker save`` stream (legacy ``<id>/layer.tar``
    members or OCI blobs: a member is a layer when it is itself a tar archive)."""
    sizes: list[int] = []
    with tarfile.open(fileobj=_StreamReader(stream), mode="r|") as archive:
        for member in archive:
            if not member.isfile() or member.size < 512:
                continue
            handle = archive.extractfile(member)
            if handle is None:
                continue
            first = handle.read(512)
            if first[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] != b"ustar":
                continue
            sizes.append(gzip_size(_chained(first, _blocks(handle))))
    return sizes


def image_compressed_bytes(
    client: docker.DockerClient, image_id: str, cache_dir: Path
) -> tuple[int, bool]:
    """(The image's layers gzip-compressed, summed; whether it came from the cache).

    One computation per image id and process at a time (two cells of a base wait for the
    first); the figure is kept in ``cache_dir`` keyed by the id."""
    path = cache_dir / CACHE_FOLDER / f"{image_id.replace(':', '-')}.json"
    with _lock(image_id):
        cached = _read_cached(path)
        if cached is not None:
            return cached, True
        started = time.monotonic()
        stream = client.api.get_image(image_id, chunk_size=1024 * 1024)
        sizes = layer_sizes_of_save(stream)
        record = {
            "image_id": image_id,
            "compressed_bytes": sum(sizes),
            "layers": sizes,
            "gzip_level": GZIP_LEVEL,
            "seconds": round(time.monotonic() - started, 3),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(record), encoding="utf-8")
            temporary.replace(path)
        except OSError:
            pass  # a read-only cache only costs the next run the computation again
        return sum(sizes), False


def measure_layer(
    box: CellContainer,
    python: str,
    script: str,
    budget_bytes: int = SAMPLE_BUDGET_BYTES,
    chunk_bytes: int = SAMPLE_CHUNK_BYTES,
) -> LayerSize | str:
    """The container's writable layer, gzip-compressed; or why it could not be measured.

    ``python``: an interpreter in the container; ``script``: ``_layersize.py`` as mounted
    there. Runs as root (every file must read). The spec file it is given is written after
    the changes are listed, and the script removes it, so it is not measured."""
    started = time.monotonic()
    changes = box.client.api.diff(box.id) or []
    spec = {
        "changes": [[change["Path"], int(change["Kind"])] for change in changes],
        "budget_bytes": budget_bytes,
        "chunk_bytes": chunk_bytes,
    }
    spec_path = f"{SPEC_DIR}/{SPEC_NAME}"
    assert box.container is not None
    if not box.container.put_archive(SPEC_DIR, _one_file_tar(SPEC_NAME, json.dumps(spec))):
        return "the engine refused to copy the list of changed paths into the container"
    outcome = box.exec([python, script, spec_path], LAYER_TIMEOUT_S, user="0")
    return parse_layer_output(outcome.exit_code, outcome.stdout, outcome.stderr, started)


def measure_tar(
    handle: IO[bytes],
    entries: int,
    budget_bytes: int = SAMPLE_BUDGET_BYTES,
    chunk_bytes: int = SAMPLE_CHUNK_BYTES,
) -> LayerSize:
    """A layer's tar held in a seekable file (from its start to its end), gzip-compressed by
    the rule ``measure_layer`` applies in the container: whole up to ``budget_bytes``, else
    sampled. Only the sampled bytes are read. ``entries``: the tar's members, as counted
    by whoever wrote it."""
    started = time.monotonic()
    total = handle.seek(0, os.SEEK_END)

    def read(start: int, end: int) -> bytes:
        handle.seek(start)
        return handle.read(end - start)

    gzip_bytes, fraction = _compressed_size()(read, total, budget_bytes, chunk_bytes)
    handle.seek(0)
    return LayerSize(
        tar_bytes=total,
        gzip_bytes=gzip_bytes,
        entries=entries,
        sampled_fraction=round(fraction, 4),
        unreadable=0,
        seconds=round(time.monotonic() - started, 3),
    )


def parse_layer_output(
    exit_code: int | None, stdout: str, stderr: str, started: float
) -> LayerSize | str:
    """The script's JSON line as a LayerSize, or the problem in one line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if exit_code != 0 or not lines:
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        return f"the layer-size script exited {exit_code}: {tail[:300]}"
    try:
        data = json.loads(lines[-1])
        return LayerSize(
            tar_bytes=int(data["tar_bytes"]),
            gzip_bytes=int(data["gzip_bytes"]),
            entries=int(data["entries"]),
            sampled_fraction=float(data["sampled_fraction"]),
            unreadable=int(data["unreadable"]),
            seconds=round(time.monotonic() - started, 3),
        )
    except (ValueError, KeyError, TypeError) as err:
        return f"the layer-size script printed no result ({type(err).__name__}: {err})"


# -- helpers ----------------------------------------------------------------------------------


CompressedSize = Callable[[Callable[[int, int], bytes], int, int, int], tuple[int, float]]


@functools.cache
def _compressed_size() -> CompressedSize:
    """``compressed_size`` of the probe-side script (standard library only): the one
    definition of the whole-or-sampled rule, loaded from its file."""
    spec = importlib.util.spec_from_file_location("harness_layersize", PROBES_DIR / LAYER_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rule: CompressedSize = module.compressed_size
    return rule


def _lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def _read_cached(path: Path) -> int | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("compressed_bytes")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and value > 0 else None


def _one_file_tar(name: str, text: str) -> bytes:
    data = text.encode("utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _blocks(handle: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    while block := handle.read(size):
        yield block


def _chained(first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


class _StreamReader(io.RawIOBase):
    """A file-like view of an iterator of byte chunks (the engine's streamed answer)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
