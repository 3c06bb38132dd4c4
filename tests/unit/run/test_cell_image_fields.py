"""The cell's image and memory fields from their halves (run/imagesize.py), no Docker."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from harness.engine import imagesize as imagesize_engine
from harness.engine import memory as memory_engine
from harness.engine.imagesize import LayerSize
from harness.engine.memory import SOURCE_FILE, SOURCE_STATS, MemoryMark
from harness.model.results import BaseRecord, CellRecord
from harness.run.imagesize import after_install, after_probes, image_fields, memory_fields


def _base(**fields: int | None) -> BaseRecord:
    return BaseRecord.from_dict({"name": "b", **fields})


LAYER = LayerSize(
    tar_bytes=500, gzip_bytes=200, entries=3, sampled_fraction=0.25, unreadable=0, seconds=0.4
)


def test_totals_add_the_base_and_the_cell_layer() -> None:
    fields = image_fields(_base(size_bytes=1000, compressed_bytes=400), 600, LAYER)
    assert fields == {
        "image_size_bytes": 1600,
        "image_compressed_bytes": 600,
        "image_layer_compressed_bytes": 200,
        "image_compressed_sampled": 0.25,
    }
    record = CellRecord.from_dict(
        {"id": "a×b", "base": "a", "depset": "b", "status": "passed", **fields}
    )
    assert record.image_size_bytes == 1600 and record.image_compressed_bytes == 600


def test_a_missing_half_leaves_the_total_out() -> None:
    assert image_fields(_base(size_bytes=None), 600, None) == {}
    fields = image_fields(_base(size_bytes=1000), None, LAYER)
    assert "image_size_bytes" not in fields and "image_compressed_bytes" not in fields
    assert fields["image_layer_compressed_bytes"] == 200
    problem = image_fields(_base(size_bytes=1000), 5, "the layer-size script exited 1: boom")
    assert problem == {
        "image_size_bytes": 1005,
        "image_measure_problem": "the layer-size script exited 1: boom",
    }


def test_memory_fields_say_whether_the_install_is_separated() -> None:
    reset = memory_fields(MemoryMark(900, True, 300, SOURCE_FILE))
    assert reset == {
        "memory_peak_source": SOURCE_FILE + ", reset after the install",
        "memory_peak_install_bytes": 900,
        "memory_at_reset_bytes": 300,
    }
    together = memory_fields(MemoryMark(900, False, None, SOURCE_STATS))
    assert together == {"memory_peak_source": SOURCE_STATS + ", install and probes together"}
    assert memory_fields(MemoryMark(None, False, None, None)) == {}


def test_base_record_takes_its_compressed_size() -> None:
    assert BaseRecord.from_dict({"name": "b", "compressed_bytes": 12}).compressed_bytes == 12


def test_after_install_reads_the_peak_then_measures_then_resets(monkeypatch: Any) -> None:
    order: list[str] = []
    mark = MemoryMark(900, False, None, SOURCE_FILE)

    def install_peak(_client: Any, _cid: str) -> MemoryMark:
        order.append("peak")
        return mark

    def reset(_client: Any, _cid: str, given: MemoryMark) -> MemoryMark:
        order.append("reset")
        return MemoryMark(given.install_peak, True, 300, SOURCE_FILE)

    def measure_layer(_box: Any, python: str, script: str) -> LayerSize:
        order.append(f"layer {python} {script}")
        return LAYER

    monkeypatch.setattr(imagesize_engine, "measure_layer", measure_layer)
    monkeypatch.setattr(memory_engine, "install_peak", install_peak)
    monkeypatch.setattr(memory_engine, "reset", reset)
    box: Any = SimpleNamespace(client=None, id="c0ffee")
    job: Any = SimpleNamespace(warm=False, base=_base(size_bytes=1000, compressed_bytes=400))
    fields = after_install(box, job, 600, "/venv/bin/python", "/p/_layersize.py")
    assert order == ["peak", "layer /venv/bin/python /p/_layersize.py", "reset"]
    assert fields["image_compressed_bytes"] == 600 and fields["memory_peak_install_bytes"] == 900
    assert fields["memory_at_reset_bytes"] == 300 and fields["image_measure_seconds"] >= 0
    warm: Any = SimpleNamespace(warm=True, base=_base())
    assert after_install(box, warm, 600, "py", "s") == {}


def test_a_measurement_that_raises_is_recorded_not_raised(monkeypatch: Any) -> None:
    def broken(*_args: Any) -> Any:
        raise KeyError("Kind")

    monkeypatch.setattr(imagesize_engine, "measure_layer", broken)
    monkeypatch.setattr(memory_engine, "install_peak", broken)
    box: Any = SimpleNamespace(client=None, id="c0ffee")
    job: Any = SimpleNamespace(warm=False, base=_base(size_bytes=10))
    fields = after_install(box, job, 5, "py", "s")
    assert fields["image_size_bytes"] == 15
    assert fields["image_measure_problem"] == "measuring failed: KeyError: 'Kind'"
    assert "memory_peak_source" not in fields
    assert after_probes(box, fields) == {}


def test_a_runtime_cells_final_image_is_the_runtime_base_plus_the_copy() -> None:
    from harness.run.imagesize import after_copy

    client: Any = SimpleNamespace(
        images=SimpleNamespace(get=lambda _i: SimpleNamespace(attrs={"Size": 1500}))
    )
    fields = after_copy(client, "sha256:f", _base(size_bytes=1000, compressed_bytes=400), LAYER)
    assert fields["image_size_bytes"] == 1500
    assert fields["image_compressed_bytes"] == 600
    assert fields["image_layer_compressed_bytes"] == 200
    assert fields["image_compressed_sampled"] == 0.25
    assert fields["image_measure_seconds"] >= 0.4  # the layer's own measuring counts
    no_base = after_copy(client, "sha256:f", _base(size_bytes=1000), LAYER)
    assert "image_compressed_bytes" not in no_base
    assert no_base["image_layer_compressed_bytes"] == 200


def test_a_copied_layer_that_cannot_be_measured_says_why(monkeypatch: Any) -> None:
    import io

    from harness.run.imagesize import copied_layer

    def broken(*_args: Any) -> Any:
        raise OSError("disk gone")

    monkeypatch.setattr(imagesize_engine, "measure_tar", broken)
    handle = io.BytesIO(b"x" * 10)
    handle.seek(10)
    assert copied_layer(handle, 1) == "measuring failed: OSError: disk gone"
    assert handle.tell() == 0


def test_runtime_memory_is_the_builders_install_and_the_final_images_probes(
    monkeypatch: Any,
) -> None:
    from harness.run.imagesize import before_runtime_probes, builder_installed

    monkeypatch.setattr(
        memory_engine, "install_peak", lambda *_a: MemoryMark(900, False, None, SOURCE_FILE)
    )
    monkeypatch.setattr(
        memory_engine, "reset", lambda _c, _i, m: MemoryMark(m.install_peak, True, 50, SOURCE_FILE)
    )
    monkeypatch.setattr(memory_engine, "final_peak", lambda *_a: 700)
    builder: Any = SimpleNamespace(client=None, id="b1")
    final: Any = SimpleNamespace(client=None, id="f1")
    fields = builder_installed(builder)
    assert fields == {"memory_peak_install_bytes": 900}
    fields.update(before_runtime_probes(final))
    fields.update(after_probes(final, fields))
    assert fields["memory_peak_bytes"] == 700 and fields["memory_at_reset_bytes"] == 50
    assert "the builder's container" in fields["memory_peak_source"]
    assert fields["memory_peak_source"].startswith(SOURCE_FILE)
    # No cgroup file, no stats: nothing is recorded, nothing is guessed.
    monkeypatch.setattr(
        memory_engine, "install_peak", lambda *_a: MemoryMark(None, False, None, None)
    )
    assert builder_installed(builder) == {} and before_runtime_probes(final) == {}
    assert after_probes(final, {}) == {}


def test_a_reset_that_raises_keeps_the_mark(monkeypatch: Any) -> None:
    def broken(*_args: Any) -> Any:
        raise PermissionError("read-only cgroup")

    monkeypatch.setattr(
        memory_engine, "install_peak", lambda *_a: MemoryMark(900, False, None, SOURCE_STATS)
    )
    monkeypatch.setattr(memory_engine, "reset", broken)
    monkeypatch.setattr(imagesize_engine, "measure_layer", lambda *_a: LAYER)
    box: Any = SimpleNamespace(client=None, id="c0ffee")
    job: Any = SimpleNamespace(warm=False, base=_base(size_bytes=10))
    fields = after_install(box, job, 5, "py", "s")
    assert fields["memory_peak_source"].endswith("install and probes together")
