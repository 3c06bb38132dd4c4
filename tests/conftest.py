"""Shared fixtures. Integration tests need a real Docker engine; the unit tests never
touch one. One integration run of tests/matrices/integration.yaml is shared by the tests
that read its results."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION_MATRIX = ROOT / "tests" / "matrices" / "integration.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-heavy", action="store_true", help="run the heavy depset tests")
    parser.addoption("--run-musl", action="store_true", help="build and test the musl base")
    parser.addoption(
        "--run-disruptive", action="store_true", help="run tests that restart the Docker engine"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker, option in (
            ("heavy", "--run-heavy"),
            ("musl", "--run-musl"),
            ("disruptive", "--run-disruptive"),
        ):
            if marker in item.keywords and not config.getoption(option):
                item.add_marker(pytest.mark.skip(reason=f"needs {option} (make test-{marker})"))


def harness(
    *args: str, cwd: Path = ROOT, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def git(repo: Path, *args: str) -> str:
    """git in ``repo`` as a test's own committer (no signing, no user config needed)."""
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid",
         "-c", "commit.gpgsign=false", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture(scope="module")
def pypi_reachable() -> None:
    """Skip a module's tests when PyPI cannot be reached from here."""
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError as exc:
        pytest.skip(f"PyPI is not reachable: {exc}")


@pytest.fixture(scope="session")
def docker_client() -> Any:
    from harness.engine import client as engine
    from harness.model.errors import EngineUnavailableError

    try:
        return engine.connect()
    except EngineUnavailableError as err:
        pytest.fail(f"integration tests need a Docker engine: {err}")


# docker_client: requested for its side effect (an engine, or a clear failure);
# marks on fixtures have no effect, so no usefixtures here.
@pytest.fixture(scope="session")
def integration_run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    """One real run of the integration matrix, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("runs") / "integration"
    done = harness("run", str(INTEGRATION_MATRIX), "--out", str(out), "--jobs", "2")
    results_path = out / "results.json"
    assert results_path.exists(), f"no results.json\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return {
        "out": out,
        "exit_code": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "results": json.loads(results_path.read_text()),
    }
