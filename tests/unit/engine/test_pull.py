"""References, mirrors, digests and pull failure reasons (no engine needed)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.engine.pull import (
    classify,
    parse_reference,
    pulled_reference,
    registry_host,
    repo_digest,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "host", "path", "tag", "digest"),
    [
        ("python:3.11-slim", "docker.io", "library/python", "3.11-slim", None),
        ("library/python", "docker.io", "library/python", None, None),
        ("docker.io/library/python:3.12-slim", "docker.io", "library/python", "3.12-slim", None),
        ("index.docker.io/me/app:1", "docker.io", "me/app", "1", None),
        ("127.0.0.1:5000/library/python:3.11-slim", "127.0.0.1:5000", "library/python",
         "3.11-slim", None),
        ("localhost/x", "localhost", "x", None, None),
        (f"ghcr.io/o/p:1@{DIGEST}", "ghcr.io", "o/p", "1", DIGEST),
    ],
)  # fmt: skip
def test_references_split_as_the_engine_splits_them(
    text: str, host: str, path: str, tag: str | None, digest: str | None
) -> None:
    reference = parse_reference(text)
    assert (reference.host, reference.path, reference.tag, reference.digest) == (
        host,
        path,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python:3.12-slim", "mirror.corp:5000/library/python:3.12-slim"),
        ("docker.io/library/python:3.12-slim", "mirror.corp:5000/library/python:3.12-slim"),
        ("library/python", "mirror.corp:5000/library/python:latest"),
        (f"python:3.11-slim@{DIGEST}", f"mirror.corp:5000/library/python@{DIGEST}"),
        ("ghcr.io/o/p:1", "ghcr.io/o/p:1"),  # not Docker Hub: pulled from where it is
    ],
)
def test_a_mirror_takes_docker_hub_references_only(text: str, expected: str) -> None:
    assert pulled_reference(text, "mirror.corp:5000") == expected


def test_without_a_mirror_a_reference_is_pulled_as_written_and_a_pin_drops_its_tag() -> None:
    assert pulled_reference("python:3.11-slim", None) == "python:3.11-slim"
    assert pulled_reference(f"h:1/p:t@{DIGEST}", None) == f"h:1/p@{DIGEST}"


HOST = "127.0.0.1:5000"
REF = f"{HOST}/library/python:3.11-slim"


@pytest.mark.parametrize(
    ("status", "message", "reason", "down"),
    [
        (500, f'Get "http://{HOST}/v2/": dial tcp {HOST}: connect: connection refused',
         f"{HOST} refused the connection (nothing listens there)", True),
        (500, 'Get "https://nope.invalid/v2/": dial tcp: lookup nope.invalid on 127.0.0.53:53: '
         "no such host", "cannot resolve 127.0.0.1:5000 (no such host)", True),
        (500, f'Head "http://{HOST}/v2/x/manifests/1": no basic auth credentials',
         f"credentials rejected or missing for {HOST}", False),
        (404, f"manifest for {REF} not found: manifest unknown: manifest unknown",
         f"{HOST} has no manifest for {REF}", False),
        (500, f'Get "http://{HOST}/v2/": net/http: request canceled (Client.Timeout exceeded '
         "while awaiting headers)", None, True),
        (500, f'Head "http://{HOST}/v2/x/manifests/1": EOF', None, True),
    ],
)  # fmt: skip
def test_engine_errors_become_clear_reasons(
    status: int, message: str, reason: str | None, down: bool
) -> None:
    found, registry_down = classify(REF, status, message)
    if reason is not None:
        assert found == reason
    else:
        assert found.startswith(HOST) and "(" in found
    assert registry_down is down


class _Image:
    def __init__(self, digests: list[str]) -> None:
        self.attrs: dict[str, Any] = {"RepoDigests": digests}


def test_the_digest_is_the_one_of_the_repository_pulled_from() -> None:
    other = "sha256:" + "cd" * 32
    image = _Image([f"mirror:1/library/python@{other}", f"{HOST}/library/python@{DIGEST}"])
    assert repo_digest(image, REF) == DIGEST
    assert repo_digest(image, "python:3.11-slim") is None
    assert repo_digest(_Image([f"python@{DIGEST}"]), "docker.io/library/python:3.11") == DIGEST
    assert registry_host("python") == "docker.io"
