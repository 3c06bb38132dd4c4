"""A cell's image as a team would ship it, and its peak memory (issue 26).

Called by the cell at two points: right after its install steps (``after_install``: the
image the install made, total and compressed, and the install's memory peak) and after its
probes and tests (``after_probes``: their memory peak). Each returns the CellRecord fields
it learned; a figure that cannot be had is left out, never guessed.

- ``image_size_bytes``: the base image's size + the writable layer after the install (the
  bytes ``docker commit`` at that point would add; probes' and tests' litter excluded).
- ``image_compressed_bytes``: the base's layers + the cell's layer, each gzip-compressed at
  docker push's level (engine/imagesize.py); ``image_layer_compressed_bytes`` is the
  cell's own, ``image_compressed_sampled`` the share of its tar that was compressed (1.0:
  exact; less: estimated from evenly spread chunks).
- ``image_measure_seconds``: what measuring the layer cost the cell (its wall time grows by
  it); the base's figure is computed once per image id (``BaseRecord.compressed_bytes``).
- ``memory_peak_install_bytes`` / ``memory_peak_bytes``: the cgroup's high-water mark after
  the install, and over the probes and tests (engine/memory.py says where it is read and
  what it includes); ``memory_at_reset_bytes``: the usage the second mark started from.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TypedDict

from harness.engine import imagesize, memory
from harness.engine.container import CellContainer

if TYPE_CHECKING:
    from harness.model.results import BaseRecord
    from harness.run.cell import CellJob


class Measures(TypedDict, total=False):
    """The CellRecord fields these measurements learned (each left out when not had)."""

    image_size_bytes: int
    image_compressed_bytes: int
    image_layer_compressed_bytes: int
    image_compressed_sampled: float
    image_measure_seconds: float
    image_measure_problem: str
    memory_peak_source: str
    memory_peak_install_bytes: int
    memory_at_reset_bytes: int
    memory_peak_bytes: int


def after_install(
    box: CellContainer, job: CellJob, layer_bytes: int | None, python: str, script: str
) -> Measures:
    """The installed image's sizes and the install's memory peak, as CellRecord fields."""
    if job.warm:  # the snapshot's layer is not this container's: no image to describe
        return {}
    fields: Measures = {}
    started = time.monotonic()
    # 1. The install's memory peak first, before anything else runs in the cgroup.
    mark = _quiet(lambda: memory.install_peak(box.client, box.id))
    # 2. The cell's layer, compressed (in the container, from the engine's change list).
    layer = _quiet(lambda: imagesize.measure_layer(box, python, script))
    # 3. Reset the memory mark: what the probes and tests reach is theirs.
    if isinstance(mark, memory.MemoryMark):
        mark = _quiet(lambda: memory.reset(box.client, box.id, mark)) or mark
        fields.update(memory_fields(mark))
    fields["image_measure_seconds"] = round(time.monotonic() - started, 3)
    fields.update(image_fields(job.base, layer_bytes, layer))
    return fields


def after_probes(box: CellContainer, learned: Measures) -> Measures:
    """The memory peak over the probes and tests (since the reset after the install)."""
    if "memory_peak_source" not in learned:
        return {}
    peak = _quiet(lambda: memory.final_peak(box.client, box.id))
    return {"memory_peak_bytes": peak} if isinstance(peak, int) else {}


def image_fields(
    base: BaseRecord, layer_bytes: int | None, layer: imagesize.LayerSize | str | None
) -> Measures:
    """Totals = the base's figure + the cell's layer, each only when both halves are known."""
    fields: Measures = {}
    base_size, base_compressed = base.size_bytes, base.compressed_bytes
    if isinstance(base_size, int) and isinstance(layer_bytes, int):
        fields["image_size_bytes"] = base_size + layer_bytes
    if isinstance(layer, imagesize.LayerSize):
        fields["image_layer_compressed_bytes"] = layer.gzip_bytes
        fields["image_compressed_sampled"] = layer.sampled_fraction
        if isinstance(base_compressed, int):
            fields["image_compressed_bytes"] = base_compressed + layer.gzip_bytes
    elif isinstance(layer, str):
        fields["image_measure_problem"] = layer
    return fields


def memory_fields(mark: memory.MemoryMark) -> Measures:
    if mark.source is None:
        return {}
    fields: Measures = {
        "memory_peak_source": mark.source
        + (", reset after the install" if mark.reset else ", install and probes together")
    }
    if mark.reset and mark.install_peak is not None:
        fields["memory_peak_install_bytes"] = mark.install_peak
    if mark.reset and mark.usage_at_reset is not None:
        fields["memory_at_reset_bytes"] = mark.usage_at_reset
    return fields


def _quiet(fn: Any) -> Any:
    """A measurement that fails is left out (its problem said), never the cell's failure:
    the engine's error, or anything else measuring raised."""
    try:
        return fn()
    except Exception as err:  # a failing measurement is data, not a crash
        text = str(err).splitlines()[0][:300] if str(err) else ""
        return f"measuring failed: {type(err).__name__}: {text}"
