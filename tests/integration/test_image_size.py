"""A cell's total and compressed image size, checked against ``docker save`` of the same
container committed, each layer gzip-compressed at docker push's level (6) by the standard
library's gzip (not harness's code): within 2 %.

Needs a Docker engine and a built ``harness-standin/bookworm-py3.11`` image; no network.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.engine import imagesize, memory
from harness.engine.container import CellContainer, ContainerSpec, Mount
from harness.model.results import BaseRecord
from harness.run import imagesize as cell_imagesize

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROBES = ROOT / "harness" / "probes"
STANDIN_REPOSITORY = "harness-standin/bookworm-py3.11"
TEST_LABEL = "harness.test"
TOLERANCE = 0.02
# A layer of every kind: a copied stdlib (.py, .so, .pyc), incompressible bytes, a hard
# link, a symlink, deleted files (whiteouts) and a changed file.
MAKE_LAYER = (
    "cp -a /usr/lib/python3.11 /opt/stdlib-copy"
    " && head -c 3000000 /dev/urandom > /opt/random.bin"
    " && ln /opt/random.bin /opt/random-link.bin && ln -s /opt/random.bin /opt/random-sym"
    " && rm -rf /usr/share/doc /usr/share/man && echo changed >> /etc/hostname.harness"
)


def reference_image_gzip_bytes(client: Any, image_id: str) -> tuple[int, list[int]]:
    """``docker save`` of the image, each layer tar through gzip.compress(level 6)."""
    data = b"".join(client.api.get_image(image_id, chunk_size=1 << 20))
    sizes: list[int] = []
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in manifest[0]["Layers"]:
            blob = archive.extractfile(layer)
            assert blob is not None
            sizes.append(len(gzip.compress(blob.read(), compresslevel=6)))
    return sum(sizes), sizes


@pytest.fixture(scope="module")
def cell_box(docker_client: Any) -> Iterator[CellContainer]:
    images = docker_client.images.list(STANDIN_REPOSITORY)
    if not images:
        pytest.skip(f"no {STANDIN_REPOSITORY} image built")
    spec = ContainerSpec(
        image=images[0].id,
        name=f"harness-test-imagesize-{uuid.uuid4().hex[:8]}",
        labels={TEST_LABEL: "image-size"},
        mounts=[Mount(str(PROBES), "/harness/probes")],
        network="none",
    )
    with CellContainer(docker_client, spec) as box:
        made = box.run_shell(MAKE_LAYER, timeout=300, user="0")
        assert made.exit_code == 0, made.output
        yield box


def test_compressed_and_total_size_match_docker_save(
    docker_client: Any, cell_box: CellContainer, tmp_path: Path
) -> None:
    box = cell_box
    base_id = str(box.container.attrs["Image"]) if box.container else ""
    base_compressed, cached = imagesize.image_compressed_bytes(docker_client, base_id, tmp_path)
    assert not cached
    assert imagesize.image_compressed_bytes(docker_client, base_id, tmp_path) == (
        base_compressed,
        True,
    )
    exact = imagesize.measure_layer(
        box, "python3.11", "/harness/probes/_layersize.py", budget_bytes=1 << 40
    )
    sampled = imagesize.measure_layer(box, "python3.11", "/harness/probes/_layersize.py")
    assert isinstance(exact, imagesize.LayerSize), exact
    assert isinstance(sampled, imagesize.LayerSize), sampled
    assert exact.sampled_fraction == 1.0
    assert sampled.sampled_fraction < 0.5, "the layer is too small to exercise the sampling"
    size_rw = box.size_added()
    base_image = docker_client.images.get(base_id)
    fields = cell_imagesize.image_fields(
        BaseRecord(name="b", size_bytes=base_image.attrs["Size"], compressed_bytes=base_compressed),
        size_rw,
        sampled,
    )

    committed = box.container.commit(  # type: ignore[union-attr]
        repository="harness-test-imagesize", tag=uuid.uuid4().hex[:8]
    )
    try:
        reference, layers = reference_image_gzip_bytes(docker_client, str(committed.id))
        committed.reload()
        total_reference = int(committed.attrs["Size"])
    finally:
        docker_client.images.remove(committed.id, force=True)

    cell_layer_reference = layers[-1]
    assert abs(exact.gzip_bytes - cell_layer_reference) / cell_layer_reference < TOLERANCE
    assert abs(sampled.gzip_bytes - cell_layer_reference) / cell_layer_reference < TOLERANCE
    assert abs(base_compressed - sum(layers[:-1])) / sum(layers[:-1]) < TOLERANCE
    assert abs(fields["image_compressed_bytes"] - reference) / reference < TOLERANCE
    assert abs(fields["image_size_bytes"] - total_reference) / total_reference < TOLERANCE
    print(
        f"layer reference {cell_layer_reference}, exact {exact.gzip_bytes} ({exact.seconds} s),"
        f" sampled {sampled.gzip_bytes} ({sampled.sampled_fraction:.3f}, {sampled.seconds} s);"
        f" image {fields['image_compressed_bytes']} vs {reference};"
        f" total {fields['image_size_bytes']} vs {total_reference}"
    )


def test_memory_peak_is_reset_after_the_install(
    docker_client: Any, cell_box: CellContainer
) -> None:
    box = cell_box
    mark = memory.install_peak(docker_client, box.id)
    assert mark.source is not None and mark.install_peak and mark.install_peak > 0
    mark = memory.reset(docker_client, box.id, mark)
    if not mark.reset:
        pytest.skip(f"the cgroup file is not writable here ({mark.source})")
    grow = "python3.11 -c \"x = bytearray(200 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])\""
    assert box.run_shell(grow, timeout=120).exit_code == 0
    peak = memory.final_peak(docker_client, box.id)
    assert peak is not None and mark.usage_at_reset is not None
    assert peak - mark.usage_at_reset >= 200 * 1024 * 1024
