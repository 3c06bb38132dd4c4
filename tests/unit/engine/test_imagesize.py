"""The arithmetic of harness's image sizes, without Docker: the in-container layer script
against a real tar + gzip of the same paths, the save-stream reader, the cache, the
parsing of the script's line, and the memory mark's files."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import random
import tarfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.engine import imagesize, memory

SCRIPT = Path(imagesize.__file__).resolve().parents[1] / "probes" / imagesize.LAYER_SCRIPT


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("_layersize", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_tree(root: Path) -> list[tuple[str, int]]:
    """A small mixed layer: text, random bytes, a hard link, a symlink, a deleted path."""
    rng = random.Random(7)
    (root / "pkg" / "sub").mkdir(parents=True)
    for index in range(60):
        words = " ".join(rng.choice(["def", "return", "import", "self", "x", "=", "(", ")"])
                         for _ in range(3000))  # fmt: skip
        (root / "pkg" / f"mod{index}.py").write_text(words)
    (root / "pkg" / "sub" / "blob.bin").write_bytes(rng.randbytes(400_000))
    os.link(root / "pkg" / "sub" / "blob.bin", root / "pkg" / "sub" / "blob-link.bin")
    (root / "pkg" / "link").symlink_to("sub/blob.bin")
    (root / "pkg" / ("long-name-" * 12 + "é.py")).write_text("a long, non-ASCII name: PAX")
    changes: list[tuple[str, int]] = []
    for folder, dirs, files in os.walk(root):
        changes.append((folder, 1))
        links = [name for name in dirs if (Path(folder) / name).is_symlink()]
        changes.extend((str(Path(folder) / name), 1) for name in files + links)
    changes.append((str(root / "gone.txt"), 2))
    return changes


def reference_gzip(changes: list[tuple[str, int]]) -> tuple[int, int]:
    """tarfile + gzip level 6 of the same entries, in the script's order."""
    script = load_script()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, kind in sorted(changes, key=lambda c: script.sort_key(c[0])):
            if kind == 2:
                head, _, tail = path.rpartition("/")
                info = tarfile.TarInfo(f"{head}/.wh.{tail}".lstrip("/"))
                archive.addfile(info)
            else:
                info = archive.gettarinfo(path, arcname=path.lstrip("/"))
                info.mtime = int(info.mtime)
                info.uname = info.gname = ""
                with Path(path).open("rb") if info.isreg() else io.BytesIO() as handle:
                    archive.addfile(info, handle if info.isreg() else None)
    data = buffer.getvalue()
    return len(data), len(gzip.compress(data, compresslevel=6))


def test_layer_script_exact_mode_matches_tar_and_gzip(tmp_path: Path) -> None:
    changes = make_tree(tmp_path)
    tar_bytes, gzip_bytes = reference_gzip(changes)
    result = load_script().measure(changes, 1 << 40, 16 * 1024)
    assert result["sampled_fraction"] == 1.0
    assert abs(result["tar_bytes"] - tar_bytes) / tar_bytes < 0.01
    assert abs(result["gzip_bytes"] - gzip_bytes) / gzip_bytes < 0.01
    # the hard link is stored once: its second name costs a header, not the data again
    without = [c for c in changes if not c[0].endswith("blob-link.bin")]
    assert result["tar_bytes"] - load_script().measure(without, 1 << 40, 4096)["tar_bytes"] <= 1536
    assert result["unreadable"] == 0


def test_layer_script_sampled_mode_is_close_to_exact(tmp_path: Path) -> None:
    changes = make_tree(tmp_path)
    script = load_script()
    exact = script.measure(changes, 1 << 40, 4096)
    sampled = script.measure(changes, exact["tar_bytes"] // 4, 4096)
    assert 0.2 < sampled["sampled_fraction"] < 0.3
    assert abs(sampled["gzip_bytes"] - exact["gzip_bytes"]) / exact["gzip_bytes"] < 0.03


def test_layer_script_reader_returns_the_laid_out_bytes(tmp_path: Path) -> None:
    changes = make_tree(tmp_path)
    script = load_script()
    segments, total, _entries, _unreadable = script.layout(changes)
    headers = [seg[1] for seg in segments if isinstance(seg[1], script.Header)]
    assert headers and all(len(h.data()) == h.length for h in headers)
    reader = script.Reader(segments)
    whole = reader.read(0, total)
    assert len(whole) == total
    for start, end in ((0, 700), (1000, 50_000), (total - 3000, total), (12_345, 12_346)):
        assert reader.read(start, end) == whole[start:end]


def test_layer_script_counts_a_vanished_path_as_unreadable(tmp_path: Path) -> None:
    changes = [(str(tmp_path / "never-there"), 1), (str(tmp_path), 1)]
    result = load_script().measure(changes, 1 << 40, 4096)
    assert result["unreadable"] == 1
    assert result["entries"] == 1


def test_layer_script_main_removes_its_spec_and_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("hello " * 1000)
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "changes": [[str(tmp_path / "a.txt"), 1]],
                "budget_bytes": 1 << 20,
                "chunk_bytes": 4096,
            }
        )
    )
    script = load_script()
    monkeypatch.setattr("sys.argv", ["_layersize.py", str(spec)])
    script.main()
    line = capsys.readouterr().out.strip()
    assert not spec.exists()
    parsed = imagesize.parse_layer_output(0, line, "", time.monotonic())
    assert isinstance(parsed, imagesize.LayerSize)
    assert parsed.entries == 1 and parsed.tar_bytes == 512 + 6144 + 1024


def test_parse_layer_output_says_what_went_wrong() -> None:
    now = time.monotonic()
    failed = imagesize.parse_layer_output(1, "", "Traceback\nPermissionError: /root", now)
    assert failed == "the layer-size script exited 1: PermissionError: /root"
    assert "printed no result" in str(imagesize.parse_layer_output(0, "{}", "", now))
    assert "no output" in str(imagesize.parse_layer_output(None, "", "", now))


def fake_save(layers: list[bytes]) -> bytes:
    """A docker save archive (legacy layout) holding ``layers`` and its JSON files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for index, layer in enumerate(layers):
            info = tarfile.TarInfo(f"{index:064x}/layer.tar")
            info.size = len(layer)
            archive.addfile(info, io.BytesIO(layer))
        manifest = json.dumps([{"Layers": [f"{i:064x}/layer.tar" for i in range(len(layers))]}])
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        archive.addfile(info, io.BytesIO(manifest.encode()))
    return buffer.getvalue()


def layer_tar(content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("usr/lib/thing")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_layer_sizes_of_save_compresses_each_layer_and_skips_json() -> None:
    layers = [layer_tar(b"a" * 100_000), layer_tar(random.Random(1).randbytes(50_000))]
    save = fake_save(layers)
    chunks = [save[i : i + 7777] for i in range(0, len(save), 7777)]
    sizes = imagesize.layer_sizes_of_save(chunks)
    assert sizes == [len(gzip.compress(layer, compresslevel=6)) for layer in layers] or all(
        abs(a - len(gzip.compress(b, compresslevel=6))) <= 2
        for a, b in zip(sizes, layers, strict=True)
    )
    assert sizes[1] > 50_000 > sizes[0]


def test_image_compressed_bytes_is_computed_once_per_image_id(tmp_path: Path) -> None:
    save = fake_save([layer_tar(b"b" * 10_000)])
    calls: list[str] = []

    def get_image(image_id: str, chunk_size: int) -> list[bytes]:  # noqa: ARG001
        calls.append(image_id)
        return [save]

    client: Any = SimpleNamespace(api=SimpleNamespace(get_image=get_image))
    first = imagesize.image_compressed_bytes(client, "sha256:abc", tmp_path)
    second = imagesize.image_compressed_bytes(client, "sha256:abc", tmp_path)
    assert first[1] is False and second == (first[0], True)
    assert calls == ["sha256:abc"]
    record = json.loads((tmp_path / "compressed-size" / "sha256-abc.json").read_text())
    assert record["compressed_bytes"] == first[0] and record["gzip_level"] == 6


def test_memory_cgroup_files_are_found_read_and_reset(tmp_path: Path) -> None:
    folder = tmp_path / "docker" / "c0ffee"
    folder.mkdir(parents=True)
    (folder / memory.PEAK_FILE).write_text("734003200\n")
    (folder / memory.USAGE_FILE).write_text("524288000\n")
    client: Any = SimpleNamespace(info=lambda: {"CgroupDriver": "cgroupfs"})
    assert memory.cgroup_dir(client, "c0ffee", tmp_path) == folder
    assert memory.cgroup_dir(client, "other", tmp_path) is None
    assert memory.read_bytes(folder / memory.PEAK_FILE) == 734003200
    assert memory.read_bytes(folder / "missing") is None
    systemd: Any = SimpleNamespace(info=lambda: {"CgroupDriver": "systemd"})
    scope = tmp_path / "system.slice" / "docker-c0ffee.scope"
    scope.mkdir(parents=True)
    (scope / memory.PEAK_FILE).write_text("1\n")
    assert memory.cgroup_dir(systemd, "c0ffee", tmp_path) == scope


def test_memory_stats_peak_reads_max_usage() -> None:
    client: Any = SimpleNamespace(
        api=SimpleNamespace(
            stats=lambda _cid, stream=False: stream or {"memory_stats": {"max_usage": 123456}}
        )
    )
    assert memory.stats_peak(client, "x") == 123456
    v2: Any = SimpleNamespace(
        api=SimpleNamespace(stats=lambda _cid, stream=False: stream or {"memory_stats": {}})
    )
    assert memory.stats_peak(v2, "x") is None


def synthetic_copy_tar(root: Path) -> tuple[bytes, int]:
    """A copied site-packages as run/runtime.py writes it: the tree of ``make_tree``
    under one folder, PAX format; (its bytes, its entries)."""
    make_tree(root / "site-packages")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.add(str(root / "site-packages"), arcname="opt/env/site-packages")
        entries = len(archive.getmembers())
    return buffer.getvalue(), entries


def test_measure_tar_whole_is_gzip_level_6_of_the_tar(tmp_path: Path) -> None:
    data, entries = synthetic_copy_tar(tmp_path)
    handle = io.BytesIO(data)
    handle.seek(1234)  # wherever the writer left it: the whole file is measured
    layer = imagesize.measure_tar(handle, entries, budget_bytes=1 << 40)
    assert layer.sampled_fraction == 1.0 and layer.tar_bytes == len(data)
    assert layer.gzip_bytes == len(gzip.compress(data, compresslevel=6, mtime=0))
    assert layer.entries == entries > 60
    assert handle.tell() == 0  # left at its start, for put_archive


def test_measure_tar_samples_by_the_layer_scripts_rule(tmp_path: Path) -> None:
    data, entries = synthetic_copy_tar(tmp_path)
    exact = len(gzip.compress(data, compresslevel=6))
    layer = imagesize.measure_tar(io.BytesIO(data), entries, budget_bytes=len(data) // 4)
    assert 0.2 < layer.sampled_fraction < 0.3
    assert abs(layer.gzip_bytes - exact) / exact < 0.03
    # One rule: the script's own function on the same bytes gives the same figure.
    rule = load_script().compressed_size
    figure, fraction = rule(
        lambda a, b: data[a:b], len(data), len(data) // 4, imagesize.SAMPLE_CHUNK_BYTES
    )
    assert (layer.gzip_bytes, layer.sampled_fraction) == (figure, round(fraction, 4))
