"""Credentials the user configured (settings.registry_auth) that the registry rejects fail the
run with exit 2 naming the host and the variables (issue 24); before, every cell was
"unavailable" and the run exited 0. No engine: a fake API answers the pull."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.engine.bases import ResolvedBase, Resolver
from harness.model.errors import ConfigurationError
from harness.model.matrix import PROBES_DIR, load_matrix

HOST = "127.0.0.1:5999"
# What the engine (20.10) answers for a registry that refuses the login.
UNAUTHORIZED = f'Get "http://{HOST}/v2/library/python/manifests/3.11-slim": unauthorized: ' + (
    "authentication required"
)


class _Response:
    def __init__(self, status: int, message: str) -> None:
        self.status_code = status
        self.text = json.dumps({"message": message})

    def json(self) -> Any:
        return json.loads(self.text)

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _Api:
    base_url = "http+docker://fake"
    api_version = "1.41"
    _auth_configs = None  # the SDK loads DOCKER_CONFIG into it when no login is given
    credstore_env = None

    def __init__(self, status: int, message: str) -> None:
        self.answer = (status, message)
        self.headers: list[dict[str, Any]] = []

    def post(self, _url: str, **kwargs: Any) -> _Response:
        self.headers.append(kwargs.get("headers") or {})
        return _Response(*self.answer)


class _Client:
    def __init__(self, status: int, message: str) -> None:
        self.api = _Api(status, message)


def _matrix(tmp_path: Path, auth: bool) -> Path:
    login = (
        f"  registry_auth:\n    '{HOST}': {{username_env: CI_REG_USER, password_env: CI_REG_PW}}\n"
        if auth
        else ""
    )
    path = tmp_path / "matrix.yaml"
    path.write_text(
        "version: 1\nsettings:\n  pull: always\n  pull_timeout: 5\n" + login
        + f"bases:\n  py311: {{image: '{HOST}/library/python:3.11-slim'}}\n"
        + "depsets:\n  bare: {description: nothing}\n",
        encoding="utf-8",
    )  # fmt: skip
    return path


@pytest.mark.parametrize("status", [500, 401])
def test_rejected_configured_credentials_are_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    monkeypatch.setenv("CI_REG_USER", "ci")
    monkeypatch.setenv("CI_REG_PW", "wrong-password-123")
    matrix = load_matrix(str(_matrix(tmp_path, auth=True)))
    client = _Client(status, UNAUTHORIZED)
    resolver = Resolver(client, matrix, PROBES_DIR, log=lambda _line: None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError) as raised:
        resolver.resolve("py311")
    assert raised.value.exit_code == 2
    text = str(raised.value)
    assert f"settings.registry_auth.{HOST}" in text
    assert "CI_REG_USER" in text and "CI_REG_PW" in text
    assert "rejected" in text
    assert "wrong-password-123" not in text
    assert client.api.headers[0].get("X-Registry-Auth")  # the login was sent


def test_without_configured_credentials_a_refusal_stays_an_unavailable_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no logins of the host's user
    matrix = load_matrix(str(_matrix(tmp_path, auth=False)))
    resolver = Resolver(_Client(500, UNAUTHORIZED), matrix, PROBES_DIR, log=lambda _line: None)  # type: ignore[arg-type]
    record = resolver.resolve("py311")
    assert record["status"] == "unavailable"
    assert f"credentials rejected or missing for {HOST}" in str(record["reason"])


def test_bases_resolving_at_once_on_one_dead_registry_pull_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor resolves bases on several workers at once: a registry's pulls take
    turns, so the second base sees the first one's answer ("stalled") instead of waiting
    out the dead registry again."""
    import threading
    import time

    from harness.engine import bases
    from harness.engine.pull import PullOutcome

    pulls: list[str] = []

    def stalled_pull(_client: Any, reference: str, *_args: Any) -> PullOutcome:
        pulls.append(reference)
        time.sleep(0.3)  # both workers are in resolve() by now
        return PullOutcome(reason=f"{HOST} stalled", registry_down=True, timed_out=True)

    monkeypatch.setattr(bases, "bounded_pull", stalled_pull)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    path = tmp_path / "matrix.yaml"
    path.write_text(
        "version: 1\nsettings:\n  pull: always\n  pull_timeout: 5\nbases:\n"
        f"  one: {{image: '{HOST}/library/python:3.11-slim'}}\n"
        f"  two: {{image: '{HOST}/library/python:3.13-slim'}}\n"
        "depsets:\n  bare: {description: nothing}\n",
        encoding="utf-8",
    )
    client = _Client(500, UNAUTHORIZED)
    resolver = Resolver(client, load_matrix(str(path)), PROBES_DIR, log=lambda _line: None)  # type: ignore[arg-type]
    records: dict[str, ResolvedBase] = {}
    threads = [
        threading.Thread(target=lambda n=name: records.__setitem__(n, resolver.resolve(n)))
        for name in ("one", "two")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(pulls) == 1  # one pull reached the registry
    assert {r["status"] for r in records.values()} == {"unavailable"}
    assert all(f"{HOST} stalled" in str(r["reason"]) for r in records.values())
    assert sum("pull_seconds" in r for r in records.values()) == 1
