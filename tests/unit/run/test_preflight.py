"""Preflight: tags, pip arguments, report and error parsing, and offline pip runs.

The fixtures under tests/fixtures/preflight are real pip 26.3 outputs captured against
PyPI (2026-12-01); report metadata was trimmed to name, version, requires_python and
requires_dist. The offline tests run the host's pip against a local folder of wheels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness.run.pipreport import wheel_tag
from harness.run.preflight import (
    NO_DISTRIBUTION,
    NO_WHEEL,
    BaseFacts,
    CellPrediction,
    IndexOptions,
    Prediction,
    compare_with_install,
    declared_dependencies,
    metadata_failure,
    parse_failures,
    parse_report,
    pip_args,
    platform_tags,
    project_metadata,
    run_pip,
    run_preflight,
    verdict_for,
)

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "preflight"
GLIBC_236 = BaseFacts("3.11.2", "cp", "cp311", "glibc", "2.36", "x86_64")
GLIBC_217 = BaseFacts("3.11.2", "cp", "cp311", "glibc", "2.17", "x86_64")
GLIBC_ARM = BaseFacts("3.13.5", "cp", "cp313", "glibc", "2.36", "aarch64")
MUSL_13 = BaseFacts("3.13.15", "cp", "cp313", "musl", "1.2.6", "x86_64")


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture_json(name: str) -> dict[str, object]:
    return json.loads(fixture_text(name))  # type: ignore[no-any-return]


# --- platform tags --------------------------------------------------------------------


def test_glibc_236_x86_64_runs_from_linux_down_to_manylinux1() -> None:
    tags = platform_tags(GLIBC_236)
    assert tags[:3] == ["linux_x86_64", "manylinux_2_36_x86_64", "manylinux_2_35_x86_64"]
    assert tags[-2:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64"]
    assert tags.index("manylinux2014_x86_64") == tags.index("manylinux_2_17_x86_64") + 1
    assert tags.index("manylinux2010_x86_64") == tags.index("manylinux_2_12_x86_64") + 1
    assert len(tags) == 1 + (36 - 5 + 1) + 3


def test_glibc_217_starts_at_manylinux2014() -> None:
    tags = platform_tags(GLIBC_217)
    assert tags[:3] == ["linux_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    assert not any(tag.startswith("manylinux_2_18") for tag in tags)


def test_aarch64_stops_at_glibc_217_without_x86_aliases() -> None:
    tags = platform_tags(GLIBC_ARM)
    assert tags[-2:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    assert not any("manylinux2010" in tag or "manylinux1" in tag for tag in tags)
    assert all(tag.endswith("_aarch64") for tag in tags)


def test_musl_12_lists_every_musllinux_minor() -> None:
    musl_12 = BaseFacts("3.13.0", "cp", "cp313", "musl", "1.2", "x86_64")
    assert platform_tags(musl_12) == [
        "linux_x86_64",
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
    ]
    assert platform_tags(MUSL_13)[1] == "musllinux_1_2_x86_64"


def test_same_tags_as_packaging_for_this_host() -> None:
    packaging_tags = pytest.importorskip("packaging.tags")
    glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    if not glibc.startswith("glibc ") or os.uname().machine != "x86_64":
        pytest.skip("needs a glibc x86_64 host")
    host = BaseFacts("3.11.0", "cp", "cp311", "glibc", glibc.split()[1], "x86_64")
    assert platform_tags(host) == list(packaging_tags.platform_tags())


# --- facts from the env probe ---------------------------------------------------------


def test_facts_from_a_real_env_probe_run() -> None:
    probe = ROOT / "probes" / "env.py"
    if not probe.exists():
        probe = ROOT / "harness" / "probes" / "env.py"
    proc = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, timeout=120, check=True
    )
    env = json.loads(proc.stdout.splitlines()[-1])
    facts = BaseFacts.from_env_probe(env)
    assert facts.python_version == env["python"]["version"]
    assert facts.abi == "cp{}{}".format(*sys.version_info[:2])
    assert (facts.libc_family, facts.libc_version) == (
        env["libc"]["family"],
        env["libc"]["version"],
    )
    assert facts.machine == os.uname().machine


def test_facts_from_a_free_threaded_musl_probe() -> None:
    env = {
        "libc": {"family": "musl", "version": "1.2.6"},
        "python": {"version": "3.13.15", "implementation": "CPython", "free_threaded": True},
        "machine": "x86_64",
        "tags": {"first": None},
    }
    facts = BaseFacts.from_env_probe(env)
    assert facts == BaseFacts("3.13.15", "cp", "cp313t", "musl", "1.2.6", "x86_64")
    env["tags"] = {"first": ["cp313-cp313t-musllinux_1_2_x86_64"]}
    assert BaseFacts.from_env_probe(env).abi == "cp313t"


def test_facts_refuse_an_unknown_libc() -> None:
    env = {
        "libc": {"family": "unknown", "version": None},
        "python": {"version": "3.12.1", "implementation": "CPython"},
        "machine": "x86_64",
    }
    with pytest.raises(ValueError, match="libc"):
        BaseFacts.from_env_probe(env)


# --- pip arguments --------------------------------------------------------------------


def test_binary_pass_arguments() -> None:
    options = IndexOptions(
        index_url="https://mirror.example/simple",
        extra_index_urls=("https://extra.example/simple",),
        find_links=("/opt/wheels",),
    )
    args = pip_args(MUSL_13, ["spacy>=3"], options, report_path="/tmp/r.json", cert="/ca.crt")
    assert args[:2] == ["install", "--isolated"]
    assert "--dry-run" in args and "--ignore-installed" in args
    assert args[args.index("--report") + 1] == "/tmp/r.json"
    assert args[args.index("--python-version") + 1] == "3.13"
    assert args[args.index("--abi") + 1] == "cp313"
    assert args[args.index("--implementation") + 1] == "cp"
    platforms = [args[i + 1] for i, arg in enumerate(args) if arg == "--platform"]
    assert platforms == platform_tags(MUSL_13)
    assert "--only-binary=:all:" in args and "--no-deps" not in args
    assert args[args.index("--index-url") + 1] == "https://mirror.example/simple"
    assert args[args.index("--extra-index-url") + 1] == "https://extra.example/simple"
    assert args[args.index("--find-links") + 1] == "/opt/wheels"
    assert args[args.index("--cert") + 1] == "/ca.crt"
    assert args[-1] == "spacy>=3"


def test_source_pass_swaps_only_binary_for_no_deps() -> None:
    args = pip_args(GLIBC_236, ["openai-whisper"], report_path="r.json", allow_sdists=True)
    assert "--no-deps" in args and "--only-binary=:all:" not in args
    assert "--cert" not in args


def _write_wheel(folder: Path, name: str, version: str, tag: str, requires: list[str]) -> None:
    """A minimal real wheel: enough metadata for pip to resolve it."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {req}\n" for req in requires
    )
    files = {
        f"{name}/__init__.py": "",
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        f"Tag: {tag}\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{dist_info}/RECORD,,\n"
    with zipfile.ZipFile(folder / f"{name}-{version}-{tag}.whl", "w") as archive:
        for path, text in {**files, f"{dist_info}/RECORD": record}.items():
            archive.writestr(path, text)


@pytest.fixture
def wheelhouse(tmp_path: Path) -> IndexOptions:
    _write_wheel(tmp_path, "pureapp", "1.0", "py3-none-any", ["muslonly>=1"])
    _write_wheel(tmp_path, "muslonly", "2.0", "cp313-cp313-musllinux_1_1_x86_64", [])
    _write_wheel(tmp_path, "plain", "0.5", "py3-none-any", [])
    return IndexOptions(find_links=(str(tmp_path),), no_index=True)


def test_pip_accepts_the_binary_pass_arguments(wheelhouse: IndexOptions) -> None:
    run = run_pip(
        sys.executable,
        lambda report: pip_args(MUSL_13, ["pureapp"], wheelhouse, report_path=report),
        120,
    )
    assert run.returncode == 0, run.stderr
    assert run.report is not None
    found = {p.name: p for p in parse_report(run.report)}
    assert found["muslonly"].wheel_tag == "cp313-cp313-musllinux_1_1_x86_64"
    assert found["pureapp"].requested and not found["muslonly"].requested


def test_offline_prediction_on_musl_is_all_wheels(wheelhouse: IndexOptions) -> None:
    prediction = run_preflight(MUSL_13, ["pureapp", "plain"], wheelhouse, timeout_s=120)
    assert prediction.status == "wheels", prediction
    assert prediction.verdict == "will install from wheels"
    assert [p.name for p in prediction.distributions] == ["muslonly", "plain", "pureapp"]


def test_offline_prediction_on_glibc_names_the_missing_dependency(
    wheelhouse: IndexOptions,
) -> None:
    glibc_313 = BaseFacts("3.13.5", "cp", "cp313", "glibc", "2.36", "x86_64")
    prediction = run_preflight(glibc_313, ["pureapp"], wheelhouse, timeout_s=120)
    assert prediction.status == "impossible"
    assert prediction.verdict == "cannot install: no distribution of muslonly for this platform"
    missing = next(p for p in prediction.distributions if p.name == "muslonly")
    assert missing.kind == "none" and not missing.requested
    assert "muslonly is needed by pureapp" in prediction.notes


def test_a_constraints_file_is_passed_to_pip(wheelhouse: IndexOptions, tmp_path: Path) -> None:
    folder = Path(wheelhouse.find_links[0])
    _write_wheel(folder, "plain", "0.6", "py3-none-any", [])
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("plain==0.5\n")
    assert IndexOptions(constraints=(str(constraints),)).to_args() == ["-c", str(constraints)]
    bound = IndexOptions(find_links=wheelhouse.find_links, no_index=True,
                         constraints=(str(constraints),))  # fmt: skip
    prediction = run_preflight(MUSL_13, ["plain"], bound, timeout_s=120)
    assert [(p.name, p.version) for p in prediction.distributions] == [("plain", "0.5")]
    free = run_preflight(MUSL_13, ["plain"], wheelhouse, timeout_s=120)
    assert [(p.name, p.version) for p in free.distributions] == [("plain", "0.6")]


def test_marker_environment_is_the_bases_not_the_hosts() -> None:
    environment = MUSL_13.marker_environment()
    assert environment["python_version"] == "3.13"
    assert environment["python_full_version"] == MUSL_13.python_version
    assert environment["platform_machine"] == "x86_64"
    assert environment["sys_platform"] == "linux"
    assert environment["implementation_name"] == "cpython"


@pytest.mark.network
def test_a_projects_metadata_is_built_on_the_host(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.9"]\nbuild-backend = "flit_core.buildapi"\n'
        '[project]\nname = "tiny-app"\nversion = "0.1"\ndescription = "x"\n'
        'dependencies = ["six>=1.16"]\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8"]\n',
        encoding="utf-8",
    )
    (tmp_path / "tiny_app.py").write_text("")
    name, requires = project_metadata(str(tmp_path), 180)
    assert name == "tiny-app"
    assert "six>=1.16" in requires and any(r.startswith("pytest>=8") for r in requires)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = \n", encoding="utf-8")
    with pytest.raises(ValueError):
        project_metadata(str(tmp_path), 180)


def test_offline_prediction_reports_pip_failures_it_cannot_parse(tmp_path: Path) -> None:
    options = IndexOptions(find_links=(str(tmp_path),), no_index=True)
    prediction = run_preflight(MUSL_13, ["not a requirement!!"], options, timeout_s=60)
    assert prediction.status == "unknown"
    assert prediction.verdict.startswith("unknown: ")


# --- parsing pip's report and errors --------------------------------------------------


def test_wheel_tag_from_file_names() -> None:
    name = "numpy-2.2.6-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert wheel_tag(name) == "cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64"
    assert wheel_tag("pkg-1.0-1build-py3-none-any.whl") == "py3-none-any"
    assert wheel_tag("openai_whisper-20250625.tar.gz") is None


def test_spacy_on_musl_report_is_all_musllinux_or_pure_wheels() -> None:
    predictions = parse_report(fixture_json("spacy_musl_binary.report.json"))
    assert len(predictions) == 44
    assert all(p.kind == "wheel" for p in predictions)
    spacy = next(p for p in predictions if p.name == "spacy")
    assert spacy.requested and spacy.wheel_tag == "cp313-cp313-musllinux_1_2_x86_64"
    platforms = {str(p.wheel_tag).split("-")[2] for p in predictions}
    assert all("musllinux" in tag or tag == "any" for tag in platforms)


def test_whisper_source_report_is_an_sdist_with_its_dependencies() -> None:
    report = fixture_json("whisper_glibc_source.report.json")
    (whisper,) = parse_report(report)
    assert (whisper.name, whisper.kind, whisper.wheel_tag) == ("openai-whisper", "sdist", None)
    dependencies = declared_dependencies(report, "openai_whisper")
    assert any(dep.startswith("torch") for dep in dependencies)
    assert not any("extra ==" in dep for dep in dependencies)


def test_report_of_another_format_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        parse_report({"version": "2", "install": []})


def test_no_wheel_for_torch_on_musl() -> None:
    stderr = fixture_text("torch_musl_binary.stderr.txt")
    (failure,) = parse_failures(stderr, binary_only=True)
    assert (failure.name, failure.reason) == ("torch", NO_WHEEL)
    (failure,) = parse_failures(stderr, binary_only=False)
    assert failure.reason == NO_DISTRIBUTION


def test_requires_python_is_named_as_the_reason() -> None:
    (failure,) = parse_failures(fixture_text("requests_py37_binary.stderr.txt"), binary_only=True)
    assert failure.requirement == "requests>=2.32"
    assert "Requires-Python" in failure.reason and ">=3.8" in failure.reason


def test_whisper_has_no_wheel_anywhere() -> None:
    (failure,) = parse_failures(fixture_text("whisper_glibc_binary.stderr.txt"), binary_only=True)
    assert failure.name == "openai-whisper" and failure.reason == NO_WHEEL


def test_a_dependency_failure_names_its_parent() -> None:
    stderr = (  # pip 26.3, offline run of the wheelhouse fixture above
        "ERROR: Could not find a version that satisfies the requirement muslonly>=1 (from "
        "pureapp) (from versions: none)\n"
        "ERROR: No matching distribution found for muslonly>=1 (from pureapp)\n"
    )
    (failure,) = parse_failures(stderr, binary_only=True)
    assert (failure.requirement, failure.needed_by) == ("muslonly>=1", "pureapp")
    assert failure.reason == NO_WHEEL


def test_failures_name_the_newest_version_when_some_exist() -> None:
    stderr = (
        "ERROR: Could not find a version that satisfies the requirement numpy>=2.1 "
        "(from versions: 1.26.4, 2.0.2)\nERROR: No matching distribution found for numpy>=2.1\n"
    )
    (failure,) = parse_failures(stderr, binary_only=True)
    assert failure.reason.endswith("(newest usable: 2.0.2)")


# --- verdicts, serialisation, mismatches ----------------------------------------------


def _prediction(*items: Prediction) -> CellPrediction:
    status, verdict = verdict_for(items)
    return CellPrediction(status=status, verdict=verdict, distributions=items)


def test_verdict_sentences() -> None:
    wheel = Prediction("numpy", "2.2.6", "wheel", "cp313-cp313-manylinux_2_17_x86_64")
    sdist = Prediction("openai-whisper", "20250625", "sdist")
    none = Prediction("torch", None, "none", reason=NO_DISTRIBUTION)
    assert verdict_for([wheel]) == ("wheels", "will install from wheels")
    assert verdict_for([wheel, sdist]) == (
        "build",
        "needs a build from source of openai-whisper",
    )
    status, sentence = verdict_for([sdist, none])
    assert status == "impossible"
    assert sentence.startswith("cannot install: no distribution of torch for this platform")
    assert sentence.endswith("build from source of openai-whisper")


def test_prediction_round_trips_through_json() -> None:
    prediction = CellPrediction(
        status="build",
        verdict="needs a build from source of openai-whisper",
        distributions=(Prediction("openai-whisper", "20250625", "sdist", requested=True),),
        notes=("a note",),
        seconds=1.5,
        pip_runs=3,
        pip_version="26.3",
    )
    data = json.loads(json.dumps(prediction.to_dict()))
    assert CellPrediction.from_dict(data) == prediction


def test_mismatches_in_each_direction() -> None:
    prediction = _prediction(
        Prediction("numpy", "2.2.6", "wheel", "cp313-cp313-manylinux_2_17_x86_64"),
        Prediction("openai-whisper", "20250625", "sdist"),
        Prediction("torch", None, "none", reason=NO_DISTRIBUTION),
        Prediction("tqdm", "4.67.1", "wheel", "py3-none-any"),
    )
    installed = [
        {"name": "NumPy", "version": "2.2.6", "wheel": False, "tag": None},
        {"name": "openai_whisper", "version": "20250625", "wheel": True, "tag": "py3-none-any"},
        {"name": "torch", "version": "2.13.0", "wheel": True, "tag": "cp313-cp313-linux_x86_64"},
        {"name": "tqdm", "version": "4.67.1", "wheel": True, "tag": "py3-none-any"},
        {"name": "unpredicted", "version": "1.0", "wheel": False, "tag": None},
    ]
    mismatches = {m.name: m for m in compare_with_install(prediction, installed)}
    assert sorted(mismatches) == ["numpy", "openai-whisper", "torch"]
    assert (mismatches["numpy"].predicted, mismatches["numpy"].installed) == ("wheel", "sdist")
    assert mismatches["openai-whisper"].installed == "wheel"
    assert "predicted no distribution" in mismatches["torch"].message


def test_an_sdist_whose_metadata_fails_on_the_host_is_named() -> None:
    stderr = fixture_text("numpy_cp313t_source_metadata_failed.stderr.txt")
    assert metadata_failure(stderr) == "numpy"
    assert metadata_failure(fixture_text("torch_musl_binary.stderr.txt")) is None
