"""How busy the host and the engine were while cells were timed.

A timing taken while the load average is above the core count, or while containers of
other runs (or a ``docker build``) share the engine, measures waiting as well as work.
A background thread samples both during the run; the run record keeps the summary and
``run.warnings`` says so in words every comparison repeats.
"""

from __future__ import annotations

import os
import statistics
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import TypeAdapter

from harness.analysis.view import busy_host

SAMPLE_SECONDS = 10.0
PROC = Path("/proc")


def docker_builds_running(proc: Path = PROC) -> int:
    """Processes running ``docker build`` / ``docker buildx`` on this host (ours included:
    a base built during the run is load too)."""
    count = 0
    for entry in proc.iterdir() if proc.is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in argv if w]
        if words and Path(words[0]).name == "docker" and {"build", "buildx"} & set(words[1:3]):
            count += 1
    return count


@dataclass(frozen=True)
class LoadSummary:
    """``run.load``: how busy the host and the engine were while the cells ran."""

    cpus: int = 1
    samples: int = 0
    interval_seconds: float = SAMPLE_SECONDS
    load1_max: float = 0.0
    load1_median: float | None = None
    # None when no query answered: a busy engine cannot be ruled out.
    other_containers_max: int | None = None
    other_containers_unknown: int = 0
    docker_builds_max: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LoadSummary:
        """The record as results.json keeps it (unknown keys ignored, missing defaulted)."""
        given = {k: v for k, v in data.items() if v is not None}  # null: not measured
        return TypeAdapter(cls).validate_python(given)


@dataclass
class LoadMonitor:
    """Samples the 1-minute load average and the engine's other containers until stopped."""

    other_containers: Callable[[], int]
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    interval: float = SAMPLE_SECONDS
    load1: list[float] = field(default_factory=list)
    others: list[int | None] = field(default_factory=list)  # None: the query failed
    builds: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> LoadMonitor:
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="harness-load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> LoadSummary:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
        self.sample()
        return self.summary()

    def sample(self) -> None:
        self.load1.append(os.getloadavg()[0])
        try:
            self.others.append(self.other_containers())
        except Exception:  # the engine did not answer: unknown, which is not 0
            self.others.append(None)
        self.builds.append(docker_builds_running())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def summary(self) -> LoadSummary:
        known = [n for n in self.others if n is not None]
        return LoadSummary(
            cpus=self.cpus,
            samples=len(self.load1),
            interval_seconds=self.interval,
            load1_max=round(max(self.load1, default=0.0), 2),
            load1_median=round(statistics.median(self.load1), 2) if self.load1 else None,
            other_containers_max=max(known, default=None),
            other_containers_unknown=len(self.others) - len(known),
            docker_builds_max=max(self.builds, default=0),
        )


def load_warnings(load: LoadSummary | Mapping[str, object]) -> list[str]:
    """The run.warnings a busy host or engine earns (none on a quiet one)."""
    if not isinstance(load, LoadSummary):
        load = LoadSummary.from_dict(load)
    warnings = []
    cpus, peak = load.cpus or 1, load.load1_max
    if busy_host(peak, cpus):  # the one rule the comparisons withhold their calls by
        warnings.append(
            f"busy host: the load average reached {peak:.1f} on {cpus} cores during the run "
            f"(median {load.load1_median}): timings include waiting for CPU"
        )
    others = load.other_containers_max or 0
    if others:
        warnings.append(
            f"busy engine: up to {others} container(s) not of this run ran on the engine "
            "during the run: timings are not those of a quiet engine"
        )
    unknown = load.other_containers_unknown
    if unknown:
        warnings.append(
            f"engine load unknown: {unknown} of {load.samples} queries for other "
            "containers failed: a busy engine cannot be ruled out"
        )
    builds = load.docker_builds_max
    if builds:
        warnings.append(
            f"busy engine: {builds} docker build(s) ran during the run: timings compete "
            "with the build for CPU and disk"
        )
    return warnings
