"""sweep_dead_runs: which labelled containers and images a new run removes, and which it
leaves."""

from __future__ import annotations

import os
from typing import Any

import docker.errors
import pytest

from harness.engine.client import (
    LABEL_CELL,
    LABEL_KEEP,
    LABEL_RUN,
    LABEL_RUNNER,
    remove_run_containers,
    sweep_dead_runs,
)

ELSEWHERE = "this-host-never-exists:1"  # a pid on another host: left alone
DEAD = f"{os.uname().nodename}:{2**22 + 12345}"  # above pid_max's default: no process
LIVE = f"{os.uname().nodename}:{os.getpid()}"


def quiet(_line: str) -> None:
    pass


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


class Image:
    def __init__(
        self, name: str, labels: dict[str, str] | None, tags: list[str] | None = None
    ) -> None:
        self.id, self.short_id = f"sha256:{name}", name
        self.labels, self.tags = labels, tags or []


class Images:
    """Lists as the engine does for a label filter: only images carrying the label."""

    def __init__(self, items: list[Image], in_use: set[str]) -> None:
        self.items, self.in_use = items, in_use
        self.removed: list[str] = []

    def list(self, filters: dict[str, str]) -> list[Image]:
        key, _, value = filters["label"].partition("=")
        found = [i for i in self.items if key in (i.labels or {})]
        return [i for i in found if value in ("", (i.labels or {})[key])]

    def remove(self, image: str, force: bool) -> None:
        assert not force  # an image some container still uses must stay
        if image in self.in_use:
            raise docker.errors.APIError("conflict: image is being used by a container")
        self.removed.append(image)


class Client:
    def __init__(
        self,
        containers: list[Container],
        images: list[Image] | None = None,
        in_use: set[str] | None = None,
    ) -> None:
        self.containers = Containers(containers)
        self.images = Images(images or [], in_use or set())


def test_a_kept_container_outlives_the_next_run_but_not_harness_sweep() -> None:
    kept = Container("kept", {LABEL_RUN: "r1", LABEL_RUNNER: DEAD, LABEL_KEEP: "1"})
    left = Container("left", {LABEL_RUN: "r2", LABEL_RUNNER: DEAD})
    live = Container("live", {LABEL_RUN: "r3", LABEL_RUNNER: LIVE})
    elsewhere = Container("elsewhere", {LABEL_RUN: "r4", LABEL_RUNNER: ELSEWHERE})
    client = Client([kept, left, live, elsewhere])
    assert sweep_dead_runs(client, log=quiet).containers == ["left"]  # type: ignore[arg-type]
    assert not kept.removed and not live.removed and not elsewhere.removed
    swept = sweep_dead_runs(client, log=quiet, include_kept=True)  # type: ignore[arg-type]
    assert swept.containers == ["kept", "left"]


def test_a_dead_runs_committed_image_goes_and_nothing_else() -> None:
    final = {LABEL_RUN: "r1", LABEL_RUNNER: DEAD, LABEL_CELL: "py311×tiny"}
    images = [
        Image("final", final),  # a runtime cell's final image, its runner SIGKILLed
        Image("kept", {**final, LABEL_KEEP: "1"}),  # `harness run --keep`
        Image("live", {**final, LABEL_RUNNER: LIVE}),  # a run still going
        Image("elsewhere", {**final, LABEL_RUNNER: ELSEWHERE}),  # another host's runner
        Image("norunner", {LABEL_RUN: "r1"}),  # no runner to ask: not ours to judge
        Image("empty", {LABEL_RUN: "", LABEL_RUNNER: DEAD}),
        # a warm snapshot: committed with the run's labels, tagged, reused by later runs
        Image("warm", {**final, LABEL_CELL: "warm:py311×tiny"}, ["harness-warm/py311:ab"]),
        # a stand-in and a user's image: no run label at all
        Image("standin", {"harness.standin-for": "python:3.11-slim"}, ["harness-standin/x:1"]),
        Image("theirs", None),
    ]
    client = Client([], images)
    assert sweep_dead_runs(client, log=quiet).images == ["final"]  # type: ignore[arg-type]
    assert client.images.removed == ["sha256:final"]
    swept = sweep_dead_runs(client, log=quiet, include_kept=True)  # type: ignore[arg-type]
    assert swept.images == ["final", "kept"]


def test_an_image_still_in_use_is_left_and_said() -> None:
    labels = {LABEL_RUN: "r1", LABEL_RUNNER: DEAD}
    lines: list[str] = []
    client = Client([], [Image("busy", labels), Image("free", labels)], in_use={"sha256:busy"})
    swept = sweep_dead_runs(client, log=lines.append)  # type: ignore[arg-type]
    assert swept.images == ["free"]
    assert any("left image busy of dead run r1" in line for line in lines)
    assert any("swept 1 image(s) left by dead runs: free" in line for line in lines)


def test_a_sweep_for_one_run_asks_the_engine_for_that_runs_only() -> None:
    labels = {LABEL_RUN: "mine", LABEL_RUNNER: DEAD}
    asked: list[str] = []

    class Listing(Containers):
        def list(self, **kwargs: Any) -> list[Container]:
            asked.append(kwargs["filters"]["label"])
            return []

    client = Client([], [Image("mine", labels), Image("other", {**labels, LABEL_RUN: "other"})])
    client.containers = Listing([])
    swept = sweep_dead_runs(client, log=quiet, run_id="mine")  # type: ignore[arg-type]
    assert swept.images == ["mine"] and asked == [f"{LABEL_RUN}=mine"]


class _Response:
    """What docker-py's APIError reads its status code from."""

    def __init__(self, status_code: int) -> None:
        self.status_code, self.reason, self.url = status_code, "Conflict", "http://engine"


def test_a_stop_removes_every_container_even_one_the_engine_is_removing_already() -> None:
    """SIGTERM mid-run: the interrupt's clean-up raced a cell's own removal (409 "removal
    ... is already in progress"); that container is going, and the next must still go,
    with no "could not remove this run's containers" warning."""

    class Racing(Container):
        def remove(self, force: bool) -> None:  # noqa: ARG002
            message = "removal of container abc is already in progress"
            raise docker.errors.APIError("409", _Response(409), message)  # type: ignore[arg-type]

    class Refusing(Container):
        def remove(self, force: bool) -> None:  # noqa: ARG002
            raise docker.errors.APIError("500", _Response(500), "driver failed")  # type: ignore[arg-type]

    after = Container("after", {LABEL_RUN: "r1"})
    client = Client([Racing("racing", {LABEL_RUN: "r1"}), after])
    assert remove_run_containers(client, "r1") == ["after"]  # type: ignore[arg-type]
    assert after.removed
    other = Client([Refusing("refusing", {LABEL_RUN: "r1"})])
    with pytest.raises(docker.errors.APIError):  # any other engine error is still said
        remove_run_containers(other, "r1")  # type: ignore[arg-type]
