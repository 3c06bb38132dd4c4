"""What a container's writable layer weighs as a registry stores it: gzip of its tar.

Run inside the cell's container (standard library only, as root so that every file reads):

    python /harness/probes/_layersize.py CHANGES.json

CHANGES.json: ``{"changes": [[path, kind], ...], "budget_bytes": N, "chunk_bytes": C}``,
the engine's own list of changed paths (``GET /containers/{id}/changes``: kind 0 changed,
1 added, 2 deleted). The script lays out the tar that ``docker commit`` would write for
those paths (one header per entry, file data padded to 512 bytes, a ``.wh.`` whiteout per
deleted path, hard links once) without writing it, and prints one JSON line:
``{"tar_bytes", "gzip_bytes", "entries", "sampled_fraction", "unreadable"}``.

``gzip_bytes`` is exact (one gzip stream at level 6, Go's and docker push's default) when
the tar is at most ``budget_bytes``. A larger tar is estimated from every k-th chunk of
``chunk_bytes`` (systematic sampling, so every part of the layer is represented), each
compressed with the 32 KiB before it as deflate's preset dictionary, which is exactly the
history the continuous stream would have had; the sampled chunks' ratio times the tar's
length is the estimate. Only the sampled bytes are read.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import stat
import sys
import tarfile
import time
import zlib

LEVEL = 6  # compress/flate's DefaultCompression, which docker push uses
WINDOW = 32 * 1024  # deflate's history
BLOCK = 512
GZIP_FRAME = 18  # gzip's 10-byte header and 8-byte trailer


def sort_key(path):
    return path.split("/")


class Header:
    """One entry's tar header, laid out by its length and made only when a sampled chunk
    reads it (making every header costs more than the sampling it serves)."""

    __slots__ = ("_bytes", "kind", "length", "link", "name", "st")

    def __init__(self, name, st, kind):
        self.name, self.st, self.kind = name, st, kind
        self.link = os.readlink(name) if kind == tarfile.SYMTYPE else ""
        self._bytes = None
        arcname = name.lstrip("/") + ("/" if kind == tarfile.DIRTYPE else "")
        plain = (
            arcname.isascii()
            and len(arcname) <= 100
            and self.link.isascii()
            and len(self.link) <= 100
            and (st is None or (st.st_size < 8**11 and max(st.st_uid, st.st_gid) < 8**7))
        )
        self.length = BLOCK if plain else len(self.data())

    def __len__(self):
        return self.length

    def data(self):
        """The header docker would write for this entry (PAX for long names)."""
        if self._bytes is None:
            st = self.st
            info = tarfile.TarInfo(self.name.lstrip("/"))
            info.mode = stat.S_IMODE(st.st_mode) if st else 0
            info.uid, info.gid = (st.st_uid, st.st_gid) if st else (0, 0)
            info.mtime = int(st.st_mtime) if st else 0
            info.type = self.kind
            info.linkname = self.link
            if self.kind == tarfile.REGTYPE and st:
                info.size = st.st_size
            self._bytes = info.tobuf(format=tarfile.PAX_FORMAT)
        return self._bytes


def header(name, st, kind):
    return Header(name, st, kind)


def layout(changes):
    """The tar as segments: (offset, Header or bytes) for headers and the end blocks,
    (offset, path, size) for a file's data."""
    segments, offset, seen, unreadable = [], 0, set(), 0
    entries = 0
    for path, kind in sorted(changes, key=lambda change: sort_key(change[0])):
        if kind == 2:  # deleted: an empty whiteout file beside it
            head, _, tail = path.rpartition("/")
            data = header(head + "/.wh." + tail, None, tarfile.REGTYPE)
        else:
            try:
                st = os.lstat(path)
            except OSError:
                unreadable += 1
                continue
            if stat.S_ISDIR(st.st_mode):
                data = header(path, st, tarfile.DIRTYPE)
            elif stat.S_ISLNK(st.st_mode):
                data = header(path, st, tarfile.SYMTYPE)
            elif stat.S_ISREG(st.st_mode):
                inode = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and inode in seen:
                    data = header(path, st, tarfile.LNKTYPE)
                else:
                    seen.add(inode)
                    data = header(path, st, tarfile.REGTYPE)
                    segments.append((offset, data))
                    offset += len(data)
                    entries += 1
                    padded = -(-st.st_size // BLOCK) * BLOCK
                    segments.append((offset, path, st.st_size))
                    offset += padded
                    continue
            else:  # devices, fifos, sockets: a header only
                data = header(path, st, tarfile.FIFOTYPE)
        segments.append((offset, data))
        offset += len(data)
        entries += 1
    segments.append((offset, bytes(2 * BLOCK)))  # the end-of-archive blocks
    return segments, offset + 2 * BLOCK, entries, unreadable


class Reader:
    """Read any byte range of the laid-out tar, opening only the files it touches."""

    def __init__(self, segments):
        self.segments = segments
        self.starts = [segment[0] for segment in segments]
        self.failed = set()

    def read(self, start, end):
        out = bytearray()
        index = max(0, bisect.bisect_right(self.starts, start) - 1)
        while start < end and index < len(self.segments):
            segment = self.segments[index]
            seg_start = segment[0]
            if len(segment) == 2:
                data = segment[1]
                data = data.data() if isinstance(data, Header) else data
                seg_end = seg_start + len(data)
                piece = data[start - seg_start : min(end, seg_end) - seg_start]
            else:
                _, path, size = segment
                padded = -(-size // BLOCK) * BLOCK
                seg_end = seg_start + padded
                stop = min(end, seg_end)
                piece = self.file_bytes(path, start - seg_start, stop - seg_start, size)
            out += piece
            start = min(end, seg_end)
            index += 1
        return bytes(out)

    def file_bytes(self, path, low, high, size):
        data = b""
        if low < size and path not in self.failed:
            try:
                with open(path, "rb") as handle:
                    handle.seek(low)
                    data = handle.read(min(high, size) - low)
            except OSError:
                self.failed.add(path)
        return data + bytes((high - low) - len(data))  # padding, or a file that shrank


def compressed_size(read, total, budget, chunk):
    """(gzip_bytes, sampled_fraction) of a ``total``-byte stream that ``read(start, end)``
    returns any range of: one gzip stream at level 6 when ``total <= budget``, else the
    estimate from every k-th ``chunk`` with its deflate history (the module's docstring).
    The one definition of the rule: harness also applies it, on the host, to the tar a
    runtime cell copies (engine/imagesize.py)."""
    if total <= budget:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        size = 0
        for start in range(0, total, chunk):
            size += len(compressor.compress(read(start, min(total, start + chunk))))
        size += len(compressor.flush())
        return size + GZIP_FRAME, 1.0
    chunks = -(-total // chunk)
    stride = -(-total // budget)
    raw = packed = 0
    for index in range(stride // 2, chunks, stride):
        start = index * chunk
        low = max(0, start - WINDOW)  # the chunk and its history: one read
        block = read(low, min(total, start + chunk))
        history, data = block[: start - low], block[start - low :]
        if history:
            compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, zdict=history)
        else:
            compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        packed += len(compressor.compress(data)) + len(compressor.flush(zlib.Z_SYNC_FLUSH))
        raw += len(data)
    return round(packed / raw * total) + GZIP_FRAME, raw / total


def measure(changes, budget, chunk):
    started = time.perf_counter()
    segments, total, entries, unreadable = layout(changes)
    laid_out = time.perf_counter()
    reader = Reader(segments)
    gzip_bytes, fraction = compressed_size(reader.read, total, budget, chunk)
    return {
        "tar_bytes": total,
        "gzip_bytes": gzip_bytes,
        "entries": entries,
        "sampled_fraction": round(fraction, 4),
        "unreadable": unreadable + len(reader.failed),
        "layout_seconds": round(laid_out - started, 3),
        "compress_seconds": round(time.perf_counter() - laid_out, 3),
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    with contextlib.suppress(OSError):  # written after the changes were listed: not in them
        os.remove(sys.argv[1])
    changes = [(path, kind) for path, kind in spec["changes"]]
    result = measure(changes, int(spec["budget_bytes"]), int(spec["chunk_bytes"]))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
