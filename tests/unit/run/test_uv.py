"""uv command building, output parsing and failure classification (no Docker).

The fixtures are real uv 0.13.9 output captured in the Python 3.11 stand-in by
tests/integration/test_uv_in_container.py (HARNESS_UV_WRITE_FIXTURES=1).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from harness.run.pipreport import tag_family
from harness.run.uv import (
    UV_MOUNT,
    classify_uv_failure,
    compressed_tag,
    dist_info_facts,
    distributions_from_uv_output,
    elf_interpreter,
    fetch_uv,
    installed_from_output,
    normalize_name,
    platform_tag,
    read_installed_distributions,
    requirement_name,
    step_seconds,
    tag_set,
    uv_install_command,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "uv"
FAILURES = sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem != "installs-spacy")


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


# ---- command ---------------------------------------------------------------------------


def test_typical_command() -> None:
    argv, env = uv_install_command(
        "/opt/harness-venv",
        ["spacy", "numpy<3"],
        index_url="https://mirror.example/simple",
        extra_index_urls=["https://extra.example/simple"],
        find_links=["/harness/wheelhouse/0"],
        ca_bundle_path="/harness/ca.crt",
        index_strategy="unsafe-best-match",
    )
    assert argv == [
        UV_MOUNT,
        "pip",
        "install",
        "--python",
        "/opt/harness-venv/bin/python",
        "--no-cache",
        "--index-strategy",
        "unsafe-best-match",
        "--compile-bytecode",
        "--default-index",
        "https://mirror.example/simple",
        "--index",
        "https://extra.example/simple",
        "--find-links",
        "/harness/wheelhouse/0",
        "--output-format",
        "json",
        "-v",
        "spacy",
        "numpy<3",
    ]
    assert env["SSL_CERT_FILE"] == "/harness/ca.crt"
    assert env["UV_NO_PROGRESS"] == "1" and env["UV_PYTHON_DOWNLOADS"] == "never"


def test_command_without_bytecode_ca_or_indexes() -> None:
    argv, env = uv_install_command("/v", ["x"], compile_bytecode=False, no_index=True)
    assert "--compile-bytecode" not in argv and "--no-index" in argv
    assert "--default-index" not in argv and "SSL_CERT_FILE" not in env


def test_unknown_index_strategy_is_refused() -> None:
    with pytest.raises(ValueError):
        uv_install_command("/v", ["x"], index_strategy="best")


def test_platform_tags_follow_the_machine() -> None:
    assert platform_tag("manylinux", "x86_64") == "manylinux_2_17_x86_64"
    assert platform_tag("musllinux", "arm64") == "musllinux_1_1_aarch64"
    with pytest.raises(ValueError):
        platform_tag("musllinux", "riscv64")


# ---- failure classification -------------------------------------------------------------


@pytest.mark.parametrize("name", FAILURES)
def test_captured_output_is_classified(name: str) -> None:
    record = _fixture(name)
    assert classify_uv_failure(record["stdout"] + record["stderr"]) == record["expected_kind"]
    assert (record["exit_code"] == 0) == (record["expected_kind"] is None)


def test_every_kind_has_a_fixture() -> None:
    kinds = {_fixture(n)["expected_kind"] for n in FAILURES}
    assert kinds >= {
        "no-matching-distribution",
        "resolution-conflict",
        "no-compiler",
        "build-failed",
        "network",
        "tls-verify",
        "disk-full",
        None,
    }


def test_compiler_by_triplet_name_beats_the_build_failure_around_it() -> None:
    text = "error: Failed to build `x==1`\n  error: [Errno 2] No such file or directory: 'cc'"
    assert classify_uv_failure(text) == "no-compiler"
    assert classify_uv_failure("No such file or directory: 'aarch64-linux-gnu-gcc'") == (
        "no-compiler"
    )


def test_unknown_failure_is_none() -> None:
    assert classify_uv_failure("error: something new") is None


# ---- output parsing ---------------------------------------------------------------------


def test_requests_from_json_and_selecting_lines() -> None:
    record = _fixture("installs-requests")
    rows = distributions_from_uv_output(
        record["stdout"], record["stderr"], requested=record["requirements"]
    )
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"certifi", "charset-normalizer", "idna", "requests", "urllib3"}
    assert by_name["requests"]["requested"] and not by_name["idna"]["requested"]
    assert by_name["requests"]["family"] == "pure" and by_name["requests"]["wheel"]
    assert by_name["charset-normalizer"]["family"] == "manylinux"
    assert all(r["source"] == "index" for r in rows)


def test_text_lines_give_the_same_names_as_json() -> None:
    record = _fixture("installs-spacy")
    assert installed_from_output("", record["stderr"]) == installed_from_output(
        record["stdout"], record["stderr"]
    )


def test_sdist_build_is_recorded_as_sdist() -> None:
    record = _fixture("builds-six-from-sdist")
    rows = distributions_from_uv_output(record["stdout"], record["stderr"], requested=["six"])
    assert rows == [
        {
            "name": "six",
            "version": rows[0]["version"],
            "wheel": False,
            "tag": None,
            "requested": True,
            "family": "sdist",
            "source": "index",
        }
    ]


def test_without_verbose_lines_tag_and_family_are_unknown() -> None:
    stderr = "Resolved 1 package in 3ms\n + idna==3.10\n"
    (row,) = distributions_from_uv_output("", stderr, requested=["idna==3.10"])
    assert row["wheel"] is None and row["family"] is None and row["requested"]


def test_wheelhouse_file_is_the_source() -> None:
    stderr = (
        "DEBUG Selecting: idna==3.10 [compatible] (idna-3.10-py3-none-any.whl)\n + idna==3.10\n"
    )
    (row,) = distributions_from_uv_output(
        "", stderr, wheelhouse_files=["idna-3.10-py3-none-any.whl"]
    )
    assert row["source"] == "wheelhouse" and row["tag"] == "py3-none-any"


def test_spacy_output_matches_its_pip_list() -> None:
    record = _fixture("installs-spacy")
    rows = distributions_from_uv_output(record["stdout"], record["stderr"], requested=["spacy"])
    pip_list = {
        normalize_name(str(r["name"])): r["version"]
        for r in record["pip_list"]
        if r["name"] not in ("pip", "setuptools")
    }
    assert {normalize_name(str(r["name"])): r["version"] for r in rows} == pip_list


def test_spacy_venv_records_match_output_records() -> None:
    record = _fixture("installs-spacy")
    from_output = distributions_from_uv_output(record["stdout"], record["stderr"])
    from_venv = read_installed_distributions(record["dist_info"])
    assert [normalize_name(str(r["name"])) for r in from_venv] == [r["name"] for r in from_output]
    for venv_row, output_row in zip(from_venv, from_output, strict=True):
        assert tag_set(str(venv_row["tag"])) == tag_set(str(output_row["tag"]))


def test_step_seconds() -> None:
    stderr = "Resolved 5 packages in 580ms\nPrepared 5 packages in 2.5s\nInstalled 1 package in 6ms"
    assert step_seconds(stderr) == {"resolved": 0.58, "prepared": 2.5, "installed": 0.006}


# ---- venv facts -------------------------------------------------------------------------


def _dist_info(root: Path, name: str, tags: list[str], built: bool) -> Path:
    folder = root / f"{name}-1.0.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\nName: x"
    )
    wheel = "Wheel-Version: 1.0\nGenerator: setuptools (80.0)\n"
    (folder / "WHEEL").write_text(wheel + "".join(f"Tag: {t}\n" for t in tags))
    (folder / "INSTALLER").write_text("uv\n")
    if built:
        (folder / "uv_build.json").write_text("{}")
    return folder


def test_dist_info_facts_and_records(tmp_path: Path) -> None:
    built = dist_info_facts(_dist_info(tmp_path, "Six", ["py2-none-any", "py3-none-any"], True))
    wheel = dist_info_facts(
        _dist_info(tmp_path, "ujson", ["cp311-cp311-musllinux_1_2_x86_64"], False)
    )
    assert built["name"] == "Six" and built["uv_build"] and built["installer"] == "uv"
    rows = read_installed_distributions(
        [wheel, built],
        requested=["six"],
        wheelhouse_files=["ujson-1.0-cp311-cp311-musllinux_1_2_x86_64.whl"],
    )
    assert [(r["name"], r["family"], r["wheel"], r["requested"], r["source"]) for r in rows] == [
        ("Six", "sdist", False, True, "index"),
        ("ujson", "musllinux", True, False, "wheelhouse"),
    ]


def test_seeded_pip_is_left_out(tmp_path: Path) -> None:
    facts = dist_info_facts(_dist_info(tmp_path, "pip", ["py3-none-any"], False))
    assert read_installed_distributions([{**facts, "installer": "pip"}]) == []
    assert len(read_installed_distributions([{**facts, "installer": "pip"}], installer=None)) == 1


def test_tags() -> None:
    lines = ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"]
    assert compressed_tag(lines) == "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
    assert compressed_tag([]) is None
    assert tag_set("py2.py3-none-any") == {"py2-none-any", "py3-none-any"}
    assert tag_family("cp39-abi3-manylinux_2_28_x86_64") == "manylinux abi3"
    assert requirement_name("Spacy[ja]>=3; python_version>'3'") == "spacy"


# ---- fetching ---------------------------------------------------------------------------


def _elf(path: Path, interpreter: bytes | None) -> Path:
    """A minimal 64-bit ELF header with one program header (PT_INTERP or PT_LOAD)."""
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x20, 64)  # e_phoff
    struct.pack_into("<HH", header, 0x36, 56, 1)  # e_phentsize, e_phnum
    payload = (interpreter or b"") + b"\0"
    p_type = 3 if interpreter else 1
    phdr = struct.pack("<IIQQQQQQ", p_type, 0, 120, 0, 0, len(payload), len(payload), 1)
    path.write_bytes(bytes(header) + phdr + payload)
    return path


def test_elf_interpreter(tmp_path: Path) -> None:
    assert elf_interpreter(_elf(tmp_path / "d", b"/lib64/ld-linux-x86-64.so.2")) == (
        "/lib64/ld-linux-x86-64.so.2"
    )
    assert elf_interpreter(_elf(tmp_path / "s", None)) is None
    (tmp_path / "t").write_text("#!/bin/sh\n")
    with pytest.raises(ValueError):
        elf_interpreter(tmp_path / "t")


def test_fetch_uses_pip_once_then_the_cache(tmp_path: Path) -> None:
    """A fake ``python`` stands in for pip: it writes a wheel and counts its calls."""
    calls = tmp_path / "calls"
    fake_python = tmp_path / "python"
    wheel_dir = tmp_path / "cache" / "wheels" / "musllinux_1_1_x86_64"
    wheel = wheel_dir / "uv-9.9.9-py3-none-musllinux_1_1_x86_64.whl"
    source = tmp_path / "src.whl"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("uv-9.9.9.data/scripts/uv", _elf(tmp_path / "bin", None).read_bytes())
    fake_python.write_text(
        f"#!/bin/sh\necho x >> {calls}\nmkdir -p {wheel_dir}\ncp {source} {wheel}\n"
        f"echo Saved {wheel}\n"
    )
    fake_python.chmod(0o755)
    first = fetch_uv(tmp_path / "cache", "musllinux", "9.9.9", python=str(fake_python))
    again = fetch_uv(tmp_path / "cache", "musllinux", "9.9.9", python=str(fake_python))
    assert first == again and first.static and first.version == "9.9.9"
    assert first.wheel == wheel.name and len(first.sha256) == 64
    assert calls.read_text().count("x") == 1


def test_step_seconds_include_byte_compiling() -> None:
    stderr = "Installed 43 packages in 293ms\nBytecode compiled 2783 files in 5.65s\n"
    assert step_seconds(stderr) == {"installed": 0.293, "bytecode compiled": 5.65}


# ---- once per run, for the bases' machines ---------------------------------------------


def test_fetch_for_bases_fetches_once_per_machine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from harness.engine.bases import ResolvedBase
    from harness.run import uv as uv_module

    calls: list[tuple[str | None, tuple[str, ...], str]] = []

    def fake_fetch(
        dest: Path, platform: str, version: str | None, pip_options: Any, *, machine: str
    ) -> uv_module.UvBinary:
        assert platform == "musllinux"  # the static binary, for every base
        calls.append((version, tuple(pip_options), machine))
        if machine == "aarch64":
            raise RuntimeError("pip download uv failed:\n\nERROR: No matching distribution found")
        return uv_module.UvBinary(dest / "uv", "0.13.9", None, "uv.whl", "0" * 64, "musllinux",
                                  machine, True)  # fmt: skip

    monkeypatch.setattr(uv_module, "fetch_uv", fake_fetch)
    bases: list[ResolvedBase] = [
        {"env": {"machine": "x86_64"}},
        {"env": {}},
        {"env": {"machine": "aarch64"}},
    ]
    found = uv_module.fetch_for_bases(
        bases, version="0.13.9", source_index_url="http://127.0.0.1:9/simple", dest=tmp_path,
        host_machine="x86_64",
    )  # fmt: skip
    assert [c[2] for c in calls] == ["x86_64", "aarch64"]  # the base without facts: the host's
    assert calls[0][1] == ("--index-url", "http://127.0.0.1:9/simple")
    assert found["x86_64"]["version"] == "0.13.9" and found["x86_64"]["path"] == str(
        tmp_path / "uv"
    )
    assert found["aarch64"] == {
        "reason": "could not fetch uv==0.13.9 from the index on the host: "
        "ERROR: No matching distribution found"
    }


def test_cache_root_honours_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from harness.run.uv import cache_root

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "harness" / "uv"


def test_the_module_imports_in_a_venv_that_has_only_packaging() -> None:
    # dist_info_facts runs inside a cell's venv (tests/integration/test_uv_in_container.py),
    # where pydantic, docker and yaml are not installed: importing them at the top of
    # harness.run.uv (or of run.pipreport, whose wheel-tag helpers it uses) breaks that.
    script = (
        "import sys\n"
        "for name in ('pydantic', 'pydantic_core', 'docker', 'yaml', 'jinja2', 'rich'):\n"
        "    sys.modules[name] = None\n"
        "from harness.run import uv\n"
        "print(uv.tag_family('py3-none-any'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pure"
