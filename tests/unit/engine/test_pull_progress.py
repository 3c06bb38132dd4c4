"""What a pull that did not finish says happened (issue 24): a registry killed mid-pull was
reported as "stalled". The engine's progress stream is replayed by a fake API, as the engine
(20.10) sent it for a registry killed half-way through a layer (see
tests/integration/test_registry_pull.py for the real one)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from harness.engine.pull import bounded_pull

HOST = "127.0.0.1:5998"
REF = f"{HOST}/library/python:3.11-slim"
MIB = 1024 * 1024


def _line(status: str, layer: str | None = "c785b93fc249", **detail: int) -> bytes:
    item: dict[str, Any] = {"status": status}
    if layer:
        item |= {"id": layer, "progressDetail": detail}
    return json.dumps(item).encode()


class _Stream:
    """A streamed /images/create answer: the given lines, then silence until released."""

    def __init__(self, lines: list[bytes]) -> None:
        self.status_code = 200
        self.lines = lines
        self.release = threading.Event()

    def iter_lines(self) -> Iterator[bytes]:
        yield from self.lines
        self.release.wait(5)  # the engine keeps the pull open; bounded_pull gives up first

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()


class _Api:
    base_url = "http+docker://fake"
    api_version = "1.41"

    def __init__(self, stream: _Stream) -> None:
        self.stream = stream

    def post(self, _url: str, **_kwargs: Any) -> _Stream:
        return self.stream


class _Client:
    def __init__(self, lines: list[bytes]) -> None:
        self.api = _Api(_Stream(lines))


def _pull(lines: list[bytes]) -> Any:
    client = _Client(lines)
    try:
        return bounded_pull(client, REF, 0.6, None)  # type: ignore[arg-type]
    finally:
        client.api.stream.release.set()


BEGUN = [
    _line("Pulling from library/python", layer="3.11-slim"),
    _line("Pulling fs layer"),
    _line("Downloading", current=MIB, total=4 * MIB),
    _line("Downloading", current=2 * MIB, total=4 * MIB),
]


def test_a_registry_killed_mid_download_is_a_closed_connection_not_a_stall() -> None:
    outcome = _pull([*BEGUN, _line("Retrying in 5 seconds"), _line("Retrying in 4 seconds")])
    assert outcome.image is None and outcome.registry_down
    assert "stalled" not in outcome.reason
    assert f"{HOST} closed or reset the connection during the download" in outcome.reason
    assert "Retrying in 4 seconds" in outcome.reason
    assert "pull_timeout (0.6 s)" in outcome.reason


def test_a_download_that_went_quiet_says_for_how_long() -> None:
    outcome = _pull(BEGUN)
    assert "stalled" not in outcome.reason
    assert f"{HOST} sent no bytes for 0.6 s during the download (the engine counted 2.0 MiB)" in (
        outcome.reason
    ), outcome.reason


def test_a_registry_that_never_sent_the_image_stalled() -> None:
    outcome = _pull([_line("Pulling from library/python", layer="3.11-slim")])
    assert outcome.reason == (f"{HOST} stalled: no image data within pull_timeout (0.6 s)"), (
        outcome.reason
    )


def test_the_engines_last_error_after_a_begun_download_says_so() -> None:
    refused = json.dumps(
        {"error": f'Get "http://{HOST}/v2/x/blobs/sha256:1": dial tcp {HOST}: connect: '
         "connection refused"}
    ).encode()  # fmt: skip
    outcome = _pull([*BEGUN, _line("Retrying in 1 second"), refused])
    assert outcome.reason == (
        f"{HOST} went away during the download (the engine counted 2.0 MiB), then refused the "
        "connection (nothing listens there)"
    ), outcome.reason
