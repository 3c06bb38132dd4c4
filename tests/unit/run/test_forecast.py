"""run.forecast: a matrix's cells fed to the preflight, and its predictions put next to
the install (no pip, no Docker: the prediction function is replaced)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from harness.model.matrix import Matrix, load_matrix
from harness.run.forecast import (
    attach_predictions,
    base_facts,
    index_options,
    predict_cells,
    read_requirements_file,
)
from harness.run.preflight import (
    BaseFacts,
    CellPrediction,
    CellPredictionJSON,
    IndexOptions,
    Prediction,
)

ENV_311: dict[str, Any] = {
    "status": "passed",
    "python": {"implementation": "CPython", "version": "3.11.2"},
    "libc": {"family": "glibc", "version": "2.36"},
    "machine": "x86_64",
    "tags": {"first": ["cp311-cp311-manylinux_2_36_x86_64"]},
}


def write_matrix(tmp_path: Path, settings: str = "") -> Matrix:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "matrix.yaml").write_text(
        f"""version: 1
settings:
  ca_bundle: null
  wheelhouses: [wheels, missing-folder]
  extra_index_urls: [https://example.invalid/simple]
{settings}
bases:
  glibc: {{image: "local/glibc:1"}}
  gone: {{image: "local/gone:1"}}
depsets:
  spacy: {{pip: [spacy]}}
  same: {{pip: [spacy]}}
  apt-only: {{system: {{apt: [ffmpeg]}}}}
  private:
    pip: [thing]
    pip_args: [--index-url, "https://private.invalid/simple", -f, extra, --no-index]
""",
        encoding="utf-8",
    )
    return load_matrix(tmp_path / "matrix.yaml")


BASES: dict[str, dict[str, Any]] = {
    "glibc": {"name": "glibc", "status": "available", "env": ENV_311},
    "gone": {"name": "gone", "status": "unavailable", "reason": "cannot be pulled"},
}


def test_index_options_follow_the_cell_mounts_and_the_depset_args(tmp_path: Path) -> None:
    matrix = write_matrix(tmp_path)
    plain = index_options(matrix.settings, tmp_path, [])
    assert plain.find_links == (str(tmp_path / "wheels"),)  # the missing folder is skipped
    assert plain.extra_index_urls == ("https://example.invalid/simple",)
    private = index_options(matrix.settings, tmp_path, matrix.spec.depsets["private"].pip_args)
    assert private.index_url == "https://private.invalid/simple" and private.no_index
    assert private.find_links == (str(tmp_path / "wheels"), str(tmp_path / "extra"))
    inline = index_options(matrix.settings, tmp_path, ["--index-url=https://x.invalid", "-v"])
    assert inline.index_url == "https://x.invalid" and not inline.no_index


def test_base_facts_come_from_the_env_probe_or_say_why_not() -> None:
    facts, problem = base_facts(BASES["glibc"])
    assert problem is None and facts == BaseFacts(
        "3.11.2", "cp", "cp311", "glibc", "2.36", "x86_64"
    )
    assert base_facts(BASES["gone"]) == (None, "base unavailable: cannot be pulled")
    failed = {"status": "available", "env": {"status": "failed", "error": "no python"}}
    assert base_facts(failed)[1] == "the base's env probe gave no facts (no python)"
    odd = {"status": "available", "env": {**ENV_311, "libc": {"family": "bionic"}}}
    assert "no usable libc" in str(base_facts(odd)[1])


class FakePip:
    """Records each call; answers spacy with a wheel, anything else with no distribution."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], IndexOptions]] = []
        self.lock = threading.Lock()

    def __call__(
        self,
        facts: BaseFacts,
        requirements: list[str],
        options: IndexOptions,
        timeout_s: float,
        *,
        cert: str | None,
    ) -> CellPrediction:
        assert facts.abi == "cp311" and timeout_s == 30 and cert is None
        with self.lock:
            self.calls.append((requirements, options))
        if requirements == ["spacy"]:
            wheel = Prediction("spacy", "3.8.7", "wheel", "cp311-cp311-manylinux_2_17_x86_64", True)
            return CellPrediction("wheels", "will install from wheels", (wheel,))
        none = Prediction("thing", None, "none", requested=True, reason="no distribution")
        return CellPrediction("impossible", "cannot install: thing", (none,))


def test_predict_cells_shares_identical_work_and_reports_missing_bases(tmp_path: Path) -> None:
    matrix = write_matrix(tmp_path)
    fake = FakePip()
    forecasts = predict_cells(matrix, matrix.cells, BASES, jobs=3, timeout_s=30, predict=fake)
    by_id = {f.cell_id: f for f in forecasts}
    assert "glibc×apt-only" not in by_id  # no pip requirements: nothing to predict
    assert by_id["glibc×spacy"].prediction == by_id["glibc×same"].prediction
    assert sorted(r for r, _ in fake.calls) == [["spacy"], ["thing"]]  # spacy asked once
    assert by_id["glibc×private"].prediction is not None
    assert by_id["glibc×private"].prediction.status == "impossible"
    gone = by_id["gone×spacy"]
    assert gone.prediction is None and gone.unavailable == "base unavailable: cannot be pulled"
    assert gone.to_dict()["prediction"] is None and gone.to_dict()["requirements"] == ["spacy"]


def _prediction(kind: str) -> CellPredictionJSON:
    tag = "cp311-cp311-manylinux_2_17_x86_64" if kind == "wheel" else None
    item = Prediction("numpy", "2.3.1", kind, tag, True)  # type: ignore[arg-type]
    return CellPrediction("wheels", "v", (item,)).to_dict()


@pytest.mark.parametrize(
    ("predicted", "installed_wheel", "mismatched"),
    [
        ("wheel", True, False),
        ("wheel", False, True),
        ("sdist", True, True),
        ("sdist", False, False),
    ],
)
def test_attach_predictions_records_both_sides(
    predicted: str, installed_wheel: bool, mismatched: bool
) -> None:
    cell: dict[str, Any] = {
        "id": "b×d",
        "distributions": [
            {"name": "NumPy", "version": "2.3.1", "wheel": installed_wheel, "tag": "t"},
            {"name": "six", "version": "1.17", "wheel": True},  # not predicted: not judged
        ],
    }
    other: dict[str, Any] = {"id": "b×other", "distributions": []}
    attach_predictions([cell, other], {"b×d": {"prediction": _prediction(predicted)}})
    assert cell["preflight"]["distributions"][0]["kind"] == predicted
    assert "preflight" not in other
    assert bool(cell["preflight_mismatches"]) is mismatched
    if mismatched:
        (mismatch,) = cell["preflight_mismatches"]
        assert mismatch["name"] == "numpy" and mismatch["predicted"] == predicted
        assert mismatch["installed"] == ("wheel" if installed_wheel else "sdist")


# -- every depset kind -------------------------------------------------------------------

FACTS_311 = BaseFacts("3.11.2", "cp", "cp311", "glibc", "2.36", "x86_64")
FACTS_313 = BaseFacts("3.13.5", "cp", "cp313", "glibc", "2.41", "x86_64")
UV_LOCK = """version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "flask" },
    { name = "tomli", marker = "python_full_version < '3.12'" },
]

[[package]]
name = "flask"
version = "3.1.3"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x.invalid/flask-3.1.3-py3-none-any.whl", hash = "sha256:aa" }]

[[package]]
name = "tomli"
version = "2.2.1"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://x.invalid/tomli-2.2.1.tar.gz", hash = "sha256:bb" }
"""


def kinds_matrix(tmp_path: Path) -> Matrix:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "requirements.txt").write_text(
        "# the service\n-r app.txt\n-c constraints.txt\n"
        "pytest==9.2.0 \\\n    --hash=sha256:cc  # pinned\n"
        "-e ./local-package\n--prefer-binary\nthing @ https://x.invalid/thing-1.0.tar.gz\n"
        "tomli==2.2.1 ; python_version < '3.12'\n"
        "--extra-index-url https://extra.invalid/simple\n-f wheels-here\n",
        encoding="utf-8",
    )
    (tmp_path / "reqs" / "app.txt").write_text("flask==3.1.3\n")
    (tmp_path / "reqs" / "constraints.txt").write_text("werkzeug==3.1.9\n")
    (tmp_path / "reqs" / "gone.txt").write_text("flask\n")
    (tmp_path / "uv.lock").write_text(UV_LOCK, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.1.0"\n')
    (tmp_path / "matrix.yaml").write_text(
        """version: 1
settings: {ca_bundle: null}
bases:
  py311: {image: "local/a:1"}
  py313: {image: "local/b:1"}
depsets:
  files: {requirements: [reqs/requirements.txt]}
  locked: {lockfile: uv.lock, project: {path: .}}
  project: {project: {path: ., extras: [test]}}
  broken: {requirements: [reqs/gone.txt]}
""",
        encoding="utf-8",
    )
    matrix = load_matrix(tmp_path / "matrix.yaml")
    (tmp_path / "reqs" / "gone.txt").unlink()  # removed since the matrix was checked
    return matrix


def test_a_requirements_file_is_read_as_pip_reads_it(tmp_path: Path) -> None:
    kinds_matrix(tmp_path)
    read = read_requirements_file(tmp_path / "reqs" / "requirements.txt")
    assert read.problem is None
    assert read.marked == (
        "flask==3.1.3",
        "pytest==9.2.0",
        "tomli==2.2.1 ; python_version < '3.12'",
    )
    assert read.constraints == (str(tmp_path / "reqs" / "constraints.txt"),)
    assert read.options == (
        "--extra-index-url", "https://extra.invalid/simple",
        "-f", str(tmp_path / "reqs" / "wheels-here"),
    )  # fmt: skip
    assert any("-e ./local-package is local or a URL: not predicted" in n for n in read.notes)
    assert any("--prefer-binary is not used" in n for n in read.notes)
    assert any(
        "thing @ https://x.invalid/thing-1.0.tar.gz is local or a URL" in n for n in read.notes
    )
    # markers are evaluated for the base, not the host
    assert read.for_base(FACTS_311)[-1] == "tomli==2.2.1"
    assert "tomli==2.2.1" not in read.for_base(FACTS_313)


class RecordingPip:
    def __init__(self) -> None:
        self.calls: list[tuple[BaseFacts, list[str], IndexOptions]] = []
        self.lock = threading.Lock()

    def __call__(
        self, facts: BaseFacts, requirements: list[str], options: IndexOptions,
        timeout_s: float, *, cert: str | None,  # noqa: ARG002
    ) -> CellPrediction:  # fmt: skip
        with self.lock:
            self.calls.append((facts, requirements, options))
        wheel = Prediction("flask", "3.1.3", "wheel", "py3-none-any", True)
        return CellPrediction("wheels", "will install from wheels", (wheel,), notes=("pip's",))


KIND_BASES: dict[str, dict[str, Any]] = {
    "py311": {"status": "available", "env": ENV_311},
    "py313": {
        "status": "available",
        "env": {**ENV_311, "python": {"implementation": "CPython", "version": "3.13.5"},
                "tags": {"first": ["cp313-cp313-manylinux_2_41_x86_64"]}},
    },
}  # fmt: skip


def test_requirements_lockfile_and_project_cells_are_predicted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.run.forecast as forecast

    matrix = kinds_matrix(tmp_path)
    built: list[str] = []

    def metadata(directory: str, *_args: object, **_kwargs: object) -> tuple[str, list[str]]:
        built.append(directory)
        return "app", ["flask>=3", 'pytest>=8; extra == "test"', 'sphinx; extra == "docs"']

    monkeypatch.setattr(forecast, "project_metadata", metadata)
    fake = RecordingPip()
    forecasts = predict_cells(matrix, matrix.cells, KIND_BASES, timeout_s=30, predict=fake)
    by_id = {f.cell_id: f for f in forecasts}
    files = by_id["py311×files"]
    assert files.requirements == ("flask==3.1.3", "pytest==9.2.0", "tomli==2.2.1")
    assert by_id["py313×files"].requirements == ("flask==3.1.3", "pytest==9.2.0")
    options = next(o for f, r, o in fake.calls if r == list(files.requirements))
    assert options.constraints == (str(tmp_path / "reqs" / "constraints.txt"),)
    assert options.extra_index_urls == ("https://extra.invalid/simple",)
    assert files.prediction is not None
    assert files.prediction.notes[0].startswith("reqs/requirements.txt: 3 requirement(s)")
    assert files.prediction.notes[-1] == "pip's"
    # every pin of the lock, its markers evaluated for each base; the project not built
    assert by_id["py311×locked"].requirements == ("flask==3.1.3", "tomli==2.2.1")
    assert by_id["py313×locked"].requirements == ("flask==3.1.3",)
    locked_notes = by_id["py311×locked"].prediction.notes  # type: ignore[union-attr]
    assert "every pin of uv.lock (2), markers evaluated for the base" in locked_notes
    # the project alone: its dependencies with the selected extra, metadata built once
    assert by_id["py311×project"].requirements == ("flask>=3", "pytest>=8")
    assert built == [str(tmp_path)]
    # a file that is not there: the line says why
    broken = by_id["py311×broken"]
    assert broken.prediction is None
    assert broken.unavailable is not None and "gone.txt: cannot be read" in broken.unavailable


def test_a_project_whose_metadata_cannot_be_built_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.run.forecast as forecast

    matrix = kinds_matrix(tmp_path)

    def fails(*_args: object, **_kwargs: object) -> tuple[str, list[str]]:
        raise ValueError("setuptools: invalid pyproject.toml")

    monkeypatch.setattr(forecast, "project_metadata", fails)
    cells = [c for c in matrix.cells if c.depset == "project"]
    forecasts = predict_cells(matrix, cells, KIND_BASES, timeout_s=30, predict=RecordingPip())
    assert {f.unavailable for f in forecasts} == {
        "the project's metadata could not be built on the host: setuptools: invalid pyproject.toml"
    }


def test_base_facts_say_why_a_base_record_gives_none() -> None:
    from harness.run.forecast import base_facts

    assert base_facts({"status": "failed", "reason": "no such image"}) == (
        None,
        "base unavailable: no such image",
    )
    facts, why = base_facts({"status": "available", "env": {"status": "error", "error": "x"}})
    assert facts is None and why == "the base's env probe gave no facts (x)"
    facts, why = base_facts({"status": "available", "env": "not a probe output"})
    assert facts is None and why is not None and why.startswith("the base's record is not")
    env = {
        "status": "passed",
        "libc": {"family": "glibc", "version": "2.36"},
        "python": {"version": "3.11.2", "implementation": "CPython"},
        "machine": "x86_64",
        "a_newer_key": {},
    }
    facts, why = base_facts({"status": "available", "env": env, "name": "py311"})
    assert why is None and facts is not None and facts.abi == "cp311"
