"""sweep_dead_runs: which labelled containers a new run removes, and which it leaves."""

from __future__ import annotations

from typing import Any

from harness.engine.client import LABEL_KEEP, LABEL_RUN, LABEL_RUNNER, sweep_dead_runs

DEAD = "this-host-never-exists:1"  # a pid on another host: left alone


class Container:
    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.name, self.labels, self.removed = name, labels, False

    def remove(self, force: bool) -> None:
        assert force
        self.removed = True


class Containers:
    def __init__(self, items: list[Container]) -> None:
        self.items = items

    def list(self, **_: Any) -> list[Container]:
        return self.items


class Client:
    def __init__(self, items: list[Container]) -> None:
        self.containers = Containers(items)


def test_a_kept_container_outlives_the_next_run_but_not_harness_sweep() -> None:
    import os

    dead = f"{os.uname().nodename}:{2**22 + 12345}"  # above pid_max's default: no process
    kept = Container("kept", {LABEL_RUN: "r1", LABEL_RUNNER: dead, LABEL_KEEP: "1"})
    left = Container("left", {LABEL_RUN: "r2", LABEL_RUNNER: dead})
    live = Container(
        "live", {LABEL_RUN: "r3", LABEL_RUNNER: f"{os.uname().nodename}:{os.getpid()}"}
    )
    elsewhere = Container("elsewhere", {LABEL_RUN: "r4", LABEL_RUNNER: DEAD})
    client = Client([kept, left, live, elsewhere])
    assert sweep_dead_runs(client, log=lambda _: None) == ["left"]  # type: ignore[arg-type]
    assert not kept.removed and not live.removed and not elsewhere.removed
    assert sweep_dead_runs(client, log=lambda _: None, include_kept=True) == ["kept", "left"]  # type: ignore[arg-type]
