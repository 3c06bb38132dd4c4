"""The registry's config and htpasswd files, and the small helpers around them (no Docker)."""

from __future__ import annotations

import shutil
import socket
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.testing.registry import (
    RegistryConfig,
    _repository_of,
    apt_lists_missing,
    free_port,
    htpasswd_line,
    render_config,
    write_config,
    write_htpasswd,
)

HTPASSWD = shutil.which("htpasswd")
needs_htpasswd = pytest.mark.skipif(HTPASSWD is None, reason="htpasswd (apache2-utils) missing")


def test_config_without_auth_is_loopback_filesystem_storage(tmp_path: Path) -> None:
    config = RegistryConfig(root_directory=tmp_path / "storage", port=41234)
    document = yaml.safe_load(render_config(config))
    assert document["version"] == 0.1
    assert document["storage"]["filesystem"] == {"rootdirectory": str(tmp_path / "storage")}
    assert document["storage"]["delete"] == {"enabled": True}
    assert document["http"] == {"addr": "127.0.0.1:41234"}
    assert "auth" not in document


def test_config_with_auth_names_realm_and_password_file(tmp_path: Path) -> None:
    config = RegistryConfig(tmp_path, 5001, htpasswd_path=tmp_path / "htpasswd", realm="r1")
    document = yaml.safe_load(render_config(config))
    assert document["auth"] == {"htpasswd": {"realm": "r1", "path": str(tmp_path / "htpasswd")}}


def test_write_config_round_trips(tmp_path: Path) -> None:
    config = RegistryConfig(tmp_path / "s", 5002)
    written = write_config(tmp_path / "config.yml", config)
    assert yaml.safe_load(written.read_text()) == yaml.safe_load(render_config(config))


@needs_htpasswd
def test_htpasswd_file_is_bcrypt_private_and_verifies(tmp_path: Path) -> None:
    path = write_htpasswd(tmp_path / "htpasswd", "alice", "s3cret pass")
    user, _, digest = path.read_text().strip().partition(":")
    assert user == "alice"
    assert digest.startswith(("$2y$", "$2b$")), digest  # bcrypt; distribution accepts no other
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert HTPASSWD is not None
    right = subprocess.run([HTPASSWD, "-vb", str(path), "alice", "s3cret pass"], check=False)
    wrong = subprocess.run(
        [HTPASSWD, "-vb", str(path), "alice", "other"], capture_output=True, check=False
    )
    assert right.returncode == 0 and wrong.returncode != 0


@needs_htpasswd
def test_htpasswd_salts_each_line() -> None:
    assert htpasswd_line("bob", "pw") != htpasswd_line("bob", "pw")


def test_htpasswd_failure_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "htpasswd"
    broken.write_text("#!/bin/sh\necho 'no bcrypt here' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(RuntimeError, match=r"htpasswd -Bbn failed \(3\): no bcrypt here"):
        htpasswd_line("carol", "pw", htpasswd=str(broken))


@pytest.mark.parametrize(
    ("apt_output", "missing"),
    [
        ("E: Unable to locate package docker-registry", True),
        ("E: Package 'apache2-utils' has no installation candidate", True),
        ("E: Could not get lock /var/lib/dpkg/lock-frontend", False),
        ("", False),
    ],
)
def test_apt_lists_missing(apt_output: str, missing: bool) -> None:
    assert apt_lists_missing(apt_output) is missing


def test_free_port_can_be_bound_on_loopback() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port))
    assert 1024 < port < 65536


@pytest.mark.parametrize(
    ("reference", "repository"),
    [
        ("127.0.0.1:5000/library/python:3.11-slim", "127.0.0.1:5000/library/python"),
        ("127.0.0.1:5000/library/python", "127.0.0.1:5000/library/python"),
        ("127.0.0.1:5000/x@sha256:" + "a" * 64, "127.0.0.1:5000/x"),
        ("python:3.11", "python"),
    ],
)
def test_repository_of_drops_tag_and_digest(reference: str, repository: str) -> None:
    assert _repository_of(reference) == repository
