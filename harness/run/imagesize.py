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

A runtime cell (run/runtime.py) has the same fields from three points: ``builder_installed``
(the install's peak, in the builder's container), ``after_copy`` (the final image: the
runtime base + the layer the copy added, that layer compressed from the tar the copy
streamed through the host, by the same whole-or-sampled rule) and
``before_runtime_probes`` / ``after_probes`` (the peak of the probes and tests in the
final image's container). The single-stage size beside it is ``image_fields`` too.
"""

from __future__ import annotations

import time
from typing import IO, TYPE_CHECKING, Any, TypedDict

from harness.engine import imagesize, memory
from harness.engine.container import CellContainer

if TYPE_CHECKING:
    import docker

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
        fields.update(memory_fields(_reset(box, mark)))
    fields["image_measure_seconds"] = round(time.monotonic() - started, 3)
    fields.update(image_fields(job.base, layer_bytes, layer))
    return fields


def after_probes(box: CellContainer, learned: Measures) -> Measures:
    """The memory peak over the probes and tests (since the reset after the install)."""
    if "memory_peak_source" not in learned:
        return {}
    peak = _quiet(lambda: memory.final_peak(box.client, box.id))
    return {"memory_peak_bytes": peak} if isinstance(peak, int) else {}


# What memory_peak_source adds for a runtime cell: its two marks are two containers'.
RUNTIME_MEMORY = "install: the builder's container; probes and tests: the final image's"


def builder_installed(box: CellContainer) -> Measures:
    """A runtime cell's builder after the install: the install's memory peak (the
    builder's container is discarded after the copy; its mark needs no reset)."""
    mark = _quiet(lambda: memory.install_peak(box.client, box.id))
    if not isinstance(mark, memory.MemoryMark) or mark.install_peak is None:
        return {}
    return {"memory_peak_install_bytes": mark.install_peak}


def copied_layer(tar: IO[bytes], entries: int) -> imagesize.LayerSize | str:
    """The layer a runtime cell's copy adds, compressed from the tar it streamed (a
    seekable file, left at its start); or why it could not be measured."""
    layer = _quiet(lambda: imagesize.measure_tar(tar, entries))
    tar.seek(0)
    return layer if isinstance(layer, imagesize.LayerSize | str) else "no layer measured"


def after_copy(
    client: docker.DockerClient,
    image: str,
    base: BaseRecord,
    layer: imagesize.LayerSize | str | None,
) -> Measures:
    """A runtime cell's final image (committed as ``image``): its total (the engine's size;
    the copied layer is that minus the runtime base's) and its compressed size."""
    started = time.monotonic()
    total = _quiet(lambda: client.images.get(image).attrs.get("Size"))
    base_size = base.size_bytes
    layer_bytes = total - base_size if isinstance(total, int) and base_size is not None else None
    fields = image_fields(base, layer_bytes, layer)
    spent = time.monotonic() - started
    if isinstance(layer, imagesize.LayerSize):
        spent += layer.seconds
    fields["image_measure_seconds"] = round(spent, 3)
    return fields


def before_runtime_probes(box: CellContainer) -> Measures:
    """Reset the final image container's memory mark before its probes, so that
    ``after_probes`` reads what they and the tests reached."""
    mark = _quiet(lambda: memory.install_peak(box.client, box.id))
    if not isinstance(mark, memory.MemoryMark) or mark.source is None:
        return {}
    mark = _reset(box, mark)
    fields: Measures = {
        "memory_peak_source": f"{mark.source}, {RUNTIME_MEMORY}"
        + (", reset before the probes" if mark.reset else "")
    }
    if mark.reset and mark.usage_at_reset is not None:
        fields["memory_at_reset_bytes"] = mark.usage_at_reset
    return fields


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


def _reset(box: CellContainer, mark: memory.MemoryMark) -> memory.MemoryMark:
    """The mark reset, or as it was when resetting failed."""
    after = _quiet(lambda: memory.reset(box.client, box.id, mark))
    return after if isinstance(after, memory.MemoryMark) else mark


def _quiet(fn: Any) -> Any:
    """A measurement that fails is left out (its problem said), never the cell's failure:
    the engine's error, or anything else measuring raised."""
    try:
        return fn()
    except Exception as err:  # a failing measurement is data, not a crash
        text = str(err).splitlines()[0][:300] if str(err) else ""
        return f"measuring failed: {type(err).__name__}: {text}"
