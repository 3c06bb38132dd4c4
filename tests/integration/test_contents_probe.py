"""The contents probe in the Python 3.11 stand-in with spaCy installed, checked against du.

Needs a Docker engine, a built ``harness-standin/bookworm-py3.11`` image and PyPI (through
the host CA bundle, as the cells get it).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "harness" / "probes" / "contents.py"
COMMON = next(
    path
    for path in (ROOT / "harness" / "probes" / "_common.py", ROOT / "probes" / "_common.py")
    if path.exists()
)
STANDIN_REPOSITORY = "harness-standin/bookworm-py3.11"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
CA_IN_CONTAINER = "/harness/ca.crt"
SITE = "/venv/lib/python3.11/site-packages"
PROBE_BUDGET_S = 5.0


def docker(*args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"docker {args[:2]}: {done.stderr[-2000:]}"
    return done.stdout


def standin_image() -> str:
    tags = docker("images", STANDIN_REPOSITORY, "--format", "{{.Repository}}:{{.Tag}}").split()
    if not tags:
        pytest.skip(f"no {STANDIN_REPOSITORY} image built")
    return tags[0]


@pytest.fixture(scope="module")
def spacy_container() -> Iterator[str]:
    name = f"harness-test-contents-{uuid.uuid4().hex[:8]}"
    ca_env = [f"{key}={CA_IN_CONTAINER}" for key in ("PIP_CERT", "SSL_CERT_FILE")]
    docker(
        "run", "-d", "--name", name, "-v", f"{HOST_CA}:{CA_IN_CONTAINER}:ro",
        *(item for env in ca_env for item in ("-e", env)),
        standin_image(), "sleep", "1800",
    )  # fmt: skip
    try:
        docker(
            "exec", name, "sh", "-c", "python3.11 -m venv /venv && /venv/bin/pip install -q spacy"
        )
        docker("exec", name, "mkdir", "-p", "/harness/probes")
        for source in (PROBE, COMMON):
            docker("cp", str(source), f"{name}:/harness/probes/{source.name}")
        yield name
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def du_bytes(container: str, *paths: str) -> int:
    out = docker("exec", "-w", SITE, container, "du", "-sbc", *paths)
    return int(out.splitlines()[-1].split()[0])


def directory_bytes(container: str, *paths: str) -> int:
    command = f"find {' '.join(paths)} -type d -printf '%s\\n'"
    out = docker("exec", "-w", SITE, container, "sh", "-c", command)
    return sum(int(line) for line in out.split())


@pytest.fixture(scope="module")
def probe_result(spacy_container: str) -> dict[str, Any]:
    out = docker("exec", spacy_container, "/venv/bin/python", "/harness/probes/contents.py",
                 "--venv", "/venv")  # fmt: skip
    result = json.loads(out.splitlines()[-1])
    assert result["status"] == "passed", result.get("error")
    return dict(result)


def test_venv_total_is_du(probe_result: dict[str, Any], spacy_container: str) -> None:
    assert probe_result["paths"]["/venv"]["bytes"] == du_bytes(spacy_container, "/venv")
    assert probe_result["seconds"] < PROBE_BUDGET_S


def test_spacy_size_is_its_files(probe_result: dict[str, Any], spacy_container: str) -> None:
    spacy = next(d for d in probe_result["distributions"] if d["normalised_name"] == "spacy")
    folders = ("spacy", f"spacy-{spacy['version']}.dist-info")
    files_only = du_bytes(spacy_container, *folders) - directory_bytes(spacy_container, *folders)
    script = int(docker("exec", spacy_container, "stat", "-c", "%s", "/venv/bin/spacy"))
    # RECORD lists every file of both folders plus the console script ../../../bin/spacy.
    assert spacy["size_bytes"] == files_only + script
    assert spacy["files_missing"] == 0 and spacy["built_from_source"] is False
    assert probe_result["package_manager"] == "dpkg" and probe_result["os_packages"]
