"""Cell ids, pip's report and log, and secret redaction."""

from __future__ import annotations

import re

from harness.model.ids import cell_id, container_name, docker_safe, split_cell_id
from harness.run import pipreport
from harness.run.redact import Redactor
from harness.store.files import result_file_name

DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def test_cell_ids_round_trip_and_names_follow_docker_rules() -> None:
    value = cell_id("py311-slim", "torch-cpu")
    assert value == "py311-slim×torch-cpu"
    assert split_cell_id(value) == ("py311-slim", "torch-cpu")
    name = container_name("20261127-101500-abcdef", value, 0)
    assert DOCKER_NAME.match(name) and "_x_" in name
    assert DOCKER_NAME.match(docker_safe("-weird name×x"))
    assert result_file_name(value, 2) == "py311-slim_x_torch-cpu.r2.json"


def test_wheel_tags_and_families() -> None:
    assert pipreport.wheel_tag("numpy-2.3.1-cp311-cp311-manylinux_2_17_x86_64.whl") == (
        "cp311-cp311-manylinux_2_17_x86_64"
    )
    assert pipreport.wheel_tag("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
    assert pipreport.wheel_tag("openai-whisper-20250625.tar.gz") is None
    assert pipreport.tag_family("cp313-cp313-musllinux_1_2_x86_64") == "musllinux"
    assert pipreport.tag_family("cp39-abi3-manylinux_2_17_x86_64") == "manylinux abi3"
    assert pipreport.tag_family("py3-none-any") == "pure"
    assert pipreport.tag_family(None) == "sdist"


def test_distributions_from_a_pip_report() -> None:
    report = {
        "version": "1",
        "install": [
            {
                "metadata": {"name": "six", "version": "1.17.0"},
                "requested": True,
                "download_info": {"url": "https://files.example/six-1.17.0-py2.py3-none-any.whl"},
            },
            {
                "metadata": {"name": "openai-whisper", "version": "20250625"},
                "requested": True,
                "download_info": {"url": "https://files.example/openai_whisper-20250625.tar.gz"},
            },
            {
                "metadata": {"name": "torch", "version": "2.13.0+cpu"},
                "download_info": {
                    "url": "file:///harness/wheelhouse/0/torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl"
                },
            },
        ],
    }
    rows = {r["name"]: r for r in pipreport.distributions(report)}
    assert rows["six"]["wheel"] and rows["six"]["family"] == "pure"
    assert not rows["openai-whisper"]["wheel"] and rows["openai-whisper"]["tag"] is None
    assert rows["torch"]["source"] == "wheelhouse"
    assert rows["torch"]["tag"] == "cp311-cp311-manylinux_2_28_x86_64"


def test_download_bytes_build_times_and_failure_kinds() -> None:
    log = "Downloading spacy-3.8.7-cp311.whl (32.1 MB)\nDownloading six-1.17.0-any.whl (11 kB)"
    assert pipreport.downloaded_bytes(log) == 32_100_000 + 11_000
    assert pipreport.downloaded_bytes("nothing") is None
    pip_log = (
        "2026-11-27T10:00:00,000 Building wheel for openai-whisper (pyproject.toml): started\n"
        "2026-11-27T10:00:12,500 Building wheel for openai-whisper (pyproject.toml): "
        "finished with status 'done'\n"
    )
    assert pipreport.build_durations(pip_log) == {"openai-whisper": 12.5}
    assert pipreport.classify_failure("ERROR: No matching distribution found for torch") == (
        "no-matching-distribution"
    )
    assert pipreport.classify_failure("Failed to build numpy") == "build-failed"
    no_cc = "error: command 'gcc' failed: No such file or directory\nFailed to build srsly"
    assert pipreport.classify_failure(no_cc) == "no-compiler"
    assert (
        pipreport.classify_failure("NewConnectionError: [Errno -3] Temporary failure") == "network"
    )
    assert pipreport.classify_failure("OSError: [Errno 28] No space left on device") == "disk-full"
    assert pipreport.classify_failure("all good") is None


def test_redaction_masks_url_tokens_and_secret_env() -> None:
    redactor = Redactor.for_settings(
        ["https://user:s3cr3t-token@pypi.example/simple"],
        {"HARNESS_TOKEN": "tok-98765", "HOME": "/root"},
    )
    text = "fetch https://user:s3cr3t-token@pypi.example/simple and tok-98765 in /root"
    clean = redactor.text(text)
    assert "s3cr3t-token" not in clean and "tok-98765" not in clean
    assert "/root" in clean
    assert redactor.deep({"a": ["x tok-98765"]}) == {"a": ["x ***"]}


def test_wheel_tags_are_read_by_packaging_and_kept_as_the_file_name_spells_them() -> None:
    from harness.run.pipreport import tag_family, wheel_tag

    assert wheel_tag("six-1.16.0-py2.py3-none-any.whl") == "py2.py3-none-any"
    assert wheel_tag("torch-2.3.1+cpu-1build-cp311-cp311-linux_x86_64.whl") == (
        "cp311-cp311-linux_x86_64"
    )
    assert wheel_tag("not-a-wheel.tar.gz") is None
    assert wheel_tag("bad name-1.0-py3-none-any.whl") is None  # packaging refuses it
    assert tag_family("py2.py3-none-any") == "pure"
    assert tag_family("cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64") == "manylinux abi3"
    assert tag_family("cp311-cp311-musllinux_1_2_x86_64") == "musllinux"
    assert tag_family("cp311-cp311-macosx_11_0_arm64") == "macosx_11_0_arm64"
    assert tag_family(None) == "sdist"
