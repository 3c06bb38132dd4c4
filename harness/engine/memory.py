"""A container's peak memory: the cgroup's own high-water mark.

cgroup v1 (this machine: Docker 20.10, ``cgroupfs`` driver) keeps it in
``memory.max_usage_in_bytes``; the engine's stats API reports the same figure as
``memory_stats.max_usage``. Writing 0 to the file resets the mark to the current usage,
which separates the install from the probes; that needs the cgroup file itself (a local
engine, harness as root). Without it only the stats figure is had, for the whole cell.

cgroup v1 charges the page cache a container causes to it, so both figures include the
files it wrote or read that are still cached; the usage at the reset (mostly the install's
cache) is recorded beside the probes' peak so a reader can see what the probes added.
cgroup v2 has ``memory.peak`` (Linux 5.19+), which the stats API of Docker 20.10 does not
report; a v2 host records no peak here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import docker

from harness.engine.container import ENGINE_ERRORS

CGROUP_V1_MEMORY = Path("/sys/fs/cgroup/memory")
PEAK_FILE = "memory.max_usage_in_bytes"
USAGE_FILE = "memory.usage_in_bytes"
SOURCE_FILE = "cgroup v1 memory.max_usage_in_bytes (includes page cache)"
SOURCE_STATS = "engine stats API memory_stats.max_usage (cgroup v1; includes page cache)"


@dataclass(frozen=True)
class MemoryMark:
    """What the cell knows of its cgroup after the install."""

    install_peak: int | None
    reset: bool  # the mark was reset: the final peak is the probes' alone
    usage_at_reset: int | None
    source: str | None


def cgroup_dir(
    client: docker.DockerClient, container_id: str, root: Path = CGROUP_V1_MEMORY
) -> Path | None:
    """The container's v1 memory cgroup on this host, when the engine is local and we may
    read it; None otherwise."""
    try:
        driver = client.info().get("CgroupDriver")
    except ENGINE_ERRORS:
        return None
    candidates = [root / "docker" / container_id]
    if driver == "systemd":
        candidates.insert(0, root / "system.slice" / f"docker-{container_id}.scope")
    return next((path for path in candidates if (path / PEAK_FILE).is_file()), None)


def read_bytes(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def stats_peak(client: docker.DockerClient, container_id: str) -> int | None:
    """``memory_stats.max_usage`` of the engine's one-shot stats (None on cgroup v2)."""
    try:
        stats = client.api.stats(container_id, stream=False)
    except ENGINE_ERRORS:
        return None
    value = (stats.get("memory_stats") or {}).get("max_usage")
    return value if isinstance(value, int) and value > 0 else None


def install_peak(client: docker.DockerClient, container_id: str) -> MemoryMark:
    """The mark after the install, and where it was read (the cgroup file when this host
    has it, else the stats API); not reset yet (see ``reset``)."""
    folder = cgroup_dir(client, container_id)
    if folder is None:
        peak = stats_peak(client, container_id)
        return MemoryMark(peak, False, None, SOURCE_STATS if peak is not None else None)
    return MemoryMark(read_bytes(folder / PEAK_FILE), False, None, SOURCE_FILE)


def reset(client: docker.DockerClient, container_id: str, mark: MemoryMark) -> MemoryMark:
    """Reset the cgroup's mark to its current usage, so that the peak read at the end is
    what came after (the probes' and the tests'); ``mark`` unchanged when it cannot be."""
    folder = cgroup_dir(client, container_id)
    if folder is None:
        return mark
    try:
        (folder / PEAK_FILE).write_text("0", encoding="ascii")
    except OSError:
        return mark
    return MemoryMark(mark.install_peak, True, read_bytes(folder / USAGE_FILE), SOURCE_FILE)


def final_peak(client: docker.DockerClient, container_id: str) -> int | None:
    """The mark now (since the reset, or since the container started)."""
    folder = cgroup_dir(client, container_id)
    if folder is not None:
        return read_bytes(folder / PEAK_FILE)
    return stats_peak(client, container_id)
