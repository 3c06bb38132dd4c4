"""The cell's image and memory fields from their halves (run/imagesize.py), no Docker."""

from __future__ import annotations

from harness.engine.imagesize import LayerSize
from harness.engine.memory import SOURCE_FILE, SOURCE_STATS, MemoryMark
from harness.model.results import BaseRecord, CellRecord
from harness.run.imagesize import image_fields, memory_fields

LAYER = LayerSize(
    tar_bytes=500, gzip_bytes=200, entries=3, sampled_fraction=0.25, unreadable=0, seconds=0.4
)


def test_totals_add_the_base_and_the_cell_layer() -> None:
    fields = image_fields({"size_bytes": 1000, "compressed_bytes": 400}, 600, LAYER)
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
    assert image_fields({"size_bytes": None}, 600, None) == {}
    fields = image_fields({"size_bytes": 1000}, None, LAYER)
    assert "image_size_bytes" not in fields and "image_compressed_bytes" not in fields
    assert fields["image_layer_compressed_bytes"] == 200
    problem = image_fields({"size_bytes": 1000}, 5, "the layer-size script exited 1: boom")
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
