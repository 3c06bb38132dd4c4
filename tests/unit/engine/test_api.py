"""The engine's answers read into types (harness/engine/api.py): lenient, never raising."""

from __future__ import annotations

from harness.engine.api import (
    BuildChunk,
    ContainerInspect,
    ContainerListed,
    EngineInfo,
    ExecInspect,
    ImageInspect,
    PullProgress,
    read,
)


def test_the_fields_harness_reads_by_the_engines_names() -> None:
    inspect = read(ContainerInspect, {"Id": "abc", "State": {"Running": True, "OOMKilled": True}})
    assert inspect.state.running and inspect.state.oom_killed
    image = read(
        ImageInspect,
        {"Size": 123, "Created": "2026-12-01", "Config": {"User": "app", "Env": []},
         "RepoDigests": ["r/py@sha256:ab"]},
    )  # fmt: skip
    assert (image.size, image.created, image.config.user) == (123, "2026-12-01", "app")
    assert image.repo_digests == ("r/py@sha256:ab",)
    info = read(EngineInfo, {"NCPU": 2, "MemTotal": 1 << 30, "Driver": "overlay2", "x": {}})
    assert (info.cpus, info.memory_bytes, info.driver) == (2, 1 << 30, "overlay2")
    progress = read(
        PullProgress, {"status": "Downloading", "id": "l1", "progressDetail": {"current": 5}}
    )
    assert (progress.status, progress.id, progress.progress_detail.current) == (
        "Downloading", "l1", 5,
    )  # fmt: skip


def test_missing_fields_take_defaults() -> None:
    # The engine leaves omitempty fields out: SizeRw of an empty layer, State of a stub.
    assert read(ContainerListed, {"Id": "abc"}).size_rw == 0
    assert not read(ContainerInspect, {}).state.running
    assert read(ExecInspect, {"Running": True}).exit_code is None
    assert read(ImageInspect, {}).config.user is None


def test_a_wrong_value_is_read_as_missing_and_never_raises() -> None:
    # A field of another type than documented drops to its default; the rest is kept.
    odd = read(ImageInspect, {"Size": "big", "Created": "2026-12-01", "Config": None})
    assert (odd.size, odd.created, odd.config.user) == (None, "2026-12-01", None)
    assert read(ExecInspect, {"ExitCode": "none"}).exit_code is None
    assert read(ContainerInspect, ["not", "an", "object"]) == ContainerInspect()
    assert read(PullProgress, None) == PullProgress()


def test_any_error_value_is_a_failure() -> None:
    # A build or import error is a failure whatever its shape; its text is kept.
    assert read(BuildChunk, {"error": "no space left"}).error == "no space left"
    assert read(BuildChunk, {"error": {"code": 1}}).error == {"code": 1}
    chunk = read(BuildChunk, {"aux": {"ID": "sha256:ff"}, "stream": "Step 1/2\n"})
    assert chunk.aux is not None and chunk.aux.id == "sha256:ff" and chunk.error is None


def test_a_listed_container_without_labels_has_none() -> None:
    assert read(ContainerListed, {"Id": "x", "Labels": None}).labels == {}
    assert read(ContainerListed, {"Labels": {"harness.run": "r1"}}).labels == {"harness.run": "r1"}
