"""uv for real in the Python 3.11 stand-in: a cold spaCy install, and each failure kind.

The failure runs are also how ``tests/fixtures/uv/*.json`` were captured: run with
``HARNESS_UV_WRITE_FIXTURES=1`` to write them again (e.g. after a uv upgrade).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.run.uv import (
    UNIVERSAL_PLATFORM,
    UvBinary,
    classify_uv_failure,
    distributions_from_uv_output,
    fetch_uv,
    normalize_name,
    read_installed_distributions,
    tag_set,
    uv_install_command,
)

pytestmark = pytest.mark.integration

HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
CA_MOUNT = "/harness/ca.crt"
VENV = "/opt/harness-venv"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "uv"
MODULE = Path(__file__).resolve().parents[2] / "harness" / "run" / "uv.py"
SEEDED = ("pip", "setuptools")  # what python3.11 -m venv puts in before the install
UV_CACHE = Path(os.environ.get("HARNESS_UV_CACHE", "/tmp/harness-uv-cache"))

# A local sdist whose setup.py fails on purpose: a build failure that is not a compiler's.
BROKEN_PROJECT = (
    "mkdir -p /tmp/broken && printf '%s\\n' "
    "'raise SystemExit(\"harness fixture: this build fails on purpose\")' > /tmp/broken/setup.py"
)
# Accepts TCP connections on the container's own loopback and never answers; stops itself.
SILENT_SERVER = (
    "(python3.11 -c 'import socket,time; s=socket.socket(); "
    's.bind(("127.0.0.1", 8099)); s.listen(); time.sleep(20)\' &) ; sleep 0.5'
)


def _standin_image() -> str | None:
    try:
        done = subprocess.run(
            ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "harness-standin/*"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # not the shell-less runtime stand-in (bookworm-py3.11-runtime): these runs need sh
    images = [i for i in done.stdout.split() if "py3.11" in i and "-runtime" not in i]
    return images[0] if done.returncode == 0 and images else None


@pytest.fixture(scope="module")
def image() -> str:
    found = _standin_image()
    if found is None:
        pytest.skip("no harness-standin/*py3.11* image (or no Docker engine): build the stand-in")
    return found


@pytest.fixture(scope="module")
def uv() -> UvBinary:
    return fetch_uv(UV_CACHE, UNIVERSAL_PLATFORM)


@dataclass(frozen=True)
class Scenario:
    name: str
    requirements: Sequence[str]
    expected_kind: str | None
    extra_args: Sequence[str] = ()
    index_url: str | None = None
    with_ca: bool = True
    prepare: str = ""
    venv: str = VENV
    docker_args: Sequence[str] = ()
    env: dict[str, str] = field(default_factory=dict)


SCENARIOS = (
    Scenario("no-such-project", ["harness-no-such-package-zzq"], "no-matching-distribution"),
    Scenario("no-such-version", ["requests==999.0"], "no-matching-distribution"),
    Scenario(
        "sdist-only-no-build",
        ["openai-whisper"],
        "no-matching-distribution",
        extra_args=["--only-binary", ":all:"],
    ),
    Scenario("version-conflict", ["requests==2.31.0", "urllib3<1.21"], "resolution-conflict"),
    Scenario("no-compiler", ["ujson"], "no-compiler", extra_args=["--no-binary", "ujson"]),
    Scenario("broken-build", ["/tmp/broken"], "build-failed", prepare=BROKEN_PROJECT),
    Scenario("tls-no-ca-bundle", ["requests"], "tls-verify", with_ca=False),
    Scenario(
        "connection-refused",
        ["requests"],
        "network",
        index_url="http://127.0.0.1:9/simple",
        env={"UV_HTTP_RETRIES": "0"},
    ),
    Scenario(
        "read-timeout",
        ["requests"],
        "network",
        index_url="http://127.0.0.1:8099/simple",
        prepare=SILENT_SERVER,
        env={"UV_HTTP_TIMEOUT": "2", "UV_HTTP_RETRIES": "0"},
    ),
    Scenario(
        "disk-full",
        ["numpy"],
        "disk-full",
        venv="/opt/small/venv",
        docker_args=["--tmpfs", "/opt/small:size=12m"],
    ),
    Scenario("installs-requests", ["requests"], None),
    Scenario("builds-six-from-sdist", ["six"], None, extra_args=["--no-binary", "six"]),
)


def _docker_run(
    image: str, uv: UvBinary, scenario: Scenario
) -> tuple[list[str], dict[str, str], subprocess.CompletedProcess[str]]:
    argv, env = uv_install_command(
        scenario.venv,
        list(scenario.requirements),
        index_url=scenario.index_url,
        ca_bundle_path=CA_MOUNT if scenario.with_ca else None,
        extra_args=list(scenario.extra_args),
    )
    env = {**env, **scenario.env}
    docker = ["docker", "run", "--rm", "-v", f"{uv.path}:{argv[0]}:ro", *scenario.docker_args]
    docker += ["-v", f"{HOST_CA}:{CA_MOUNT}:ro"]
    for key, value in env.items():
        docker += ["-e", f"{key}={value}"]
    prepare = f"python3.11 -m venv --without-pip {scenario.venv} && {scenario.prepare or 'true'}"
    script = f'{prepare} >/dev/null 2>&1 && exec "$@"'
    done = subprocess.run(
        [*docker, image, "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return argv, env, done


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_uv_output_is_classified(image: str, uv: UvBinary, scenario: Scenario) -> None:
    argv, env, done = _docker_run(image, uv, scenario)
    if os.environ.get("HARNESS_UV_WRITE_FIXTURES") == "1":
        _write_fixture(scenario, argv, env, done, uv)
    kind = classify_uv_failure(done.stdout + done.stderr)
    assert kind == scenario.expected_kind, done.stderr[-3000:]
    assert (done.returncode == 0) == (scenario.expected_kind is None), done.stderr[-3000:]


def _write_fixture(
    scenario: Scenario,
    argv: list[str],
    env: dict[str, str],
    done: subprocess.CompletedProcess[str],
    uv: UvBinary,
) -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    record = {
        "scenario": scenario.name,
        "uv": uv.version_line,
        "argv": argv,
        "env": env,
        "exit_code": done.returncode,
        "expected_kind": scenario.expected_kind,
        "requirements": list(scenario.requirements),
        "stdout": done.stdout,
        "stderr": done.stderr,
    }
    (FIXTURES / f"{scenario.name}.json").write_text(json.dumps(record, indent=1) + "\n")


@pytest.fixture(scope="module")
def spacy_run(image: str, uv: UvBinary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cold ``uv pip install spacy`` into a ``python3.11 -m venv`` venv, then its facts."""
    out = tmp_path_factory.mktemp("uv-spacy")
    argv, env = uv_install_command(VENV, ["spacy"], ca_bundle_path=CA_MOUNT)
    quoted = " ".join(f"'{a}'" for a in argv)
    facts = (
        "import json, pathlib, sys; sys.path.insert(0, '/harness/src'); "
        "from harness.run import uv; "
        f"site = next(pathlib.Path('{VENV}/lib').glob('python*/site-packages')); "
        "print(json.dumps([uv.dist_info_facts(d) for d in sorted(site.glob('*.dist-info'))]))"
    )
    script = " && ".join(
        [
            f"python3.11 -m venv {VENV}",
            f"{quoted} > /out/uv.stdout 2> /out/uv.stderr",
            f"{VENV}/bin/python -m pip list --disable-pip-version-check --format json"
            " > /out/pip-list.json",
            f'{VENV}/bin/python -c "{facts}" > /out/dist-info.json',
        ]
    )
    docker = ["docker", "run", "--rm", "-v", f"{uv.path}:{argv[0]}:ro", "-v", f"{out}:/out"]
    # harness's own package, read-only: dist_info_facts runs inside, with the venv's python
    # (harness.run.uv reads wheel tags with packaging, which spaCy's install brings).
    docker += ["-v", f"{HOST_CA}:{CA_MOUNT}:ro", "-v", f"{MODULE.parents[2]}:/harness/src:ro"]
    docker += [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    done = subprocess.run(
        [*docker, image, "sh", "-c", script], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{done.stderr}\n{_read(out / 'uv.stderr')}"
    if os.environ.get("HARNESS_UV_WRITE_FIXTURES") == "1":
        record = {
            "scenario": "installs-spacy",
            "argv": argv,
            "env": env,
            "requirements": ["spacy"],
            "stdout": _read(out / "uv.stdout"),
            "stderr": _read(out / "uv.stderr"),
            "pip_list": json.loads(_read(out / "pip-list.json")),
            "dist_info": json.loads(_read(out / "dist-info.json")),
        }
        (FIXTURES / "installs-spacy.json").write_text(json.dumps(record, indent=1) + "\n")
    return out


def _read(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def _pip_list(out: Path) -> dict[str, str]:
    rows: list[dict[str, Any]] = json.loads((out / "pip-list.json").read_text())
    return {normalize_name(str(r["name"])): r["version"] for r in rows if r["name"] not in SEEDED}


def test_spacy_output_matches_pip_list(spacy_run: Path) -> None:
    records = distributions_from_uv_output(
        _read(spacy_run / "uv.stdout"), _read(spacy_run / "uv.stderr"), requested=["spacy"]
    )
    assert {normalize_name(str(r["name"])): r["version"] for r in records} == _pip_list(spacy_run)
    assert [r["name"] for r in records if r["requested"]] == ["spacy"]
    assert all(r["wheel"] and r["tag"] and r["source"] == "index" for r in records)
    assert {r["family"] for r in records} >= {"manylinux", "pure"}


def test_spacy_venv_records_agree_with_uv_output(spacy_run: Path) -> None:
    from_output = distributions_from_uv_output(
        _read(spacy_run / "uv.stdout"), _read(spacy_run / "uv.stderr"), requested=["spacy"]
    )
    facts = json.loads((spacy_run / "dist-info.json").read_text())
    assert {f["installer"] for f in facts if f["name"] not in SEEDED} == {"uv"}
    from_venv = read_installed_distributions(facts, requested=["spacy"])
    assert [(normalize_name(str(r["name"])), r["version"]) for r in from_venv] == [
        (normalize_name(str(r["name"])), r["version"]) for r in from_output
    ]
    for venv_row, output_row in zip(from_venv, from_output, strict=True):
        assert tag_set(str(venv_row["tag"])) == tag_set(str(output_row["tag"])), venv_row["name"]
        assert venv_row["family"] == output_row["family"]
        assert venv_row["requested"] == output_row["requested"]


def test_fetch_is_cached(uv: UvBinary) -> None:
    again = fetch_uv(UV_CACHE, UNIVERSAL_PLATFORM, uv.version)
    assert again == uv
    assert uv.static, "the musllinux uv binary should be statically linked"
