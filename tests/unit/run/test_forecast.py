"""run.forecast: a matrix's cells fed to the preflight, and its predictions put next to
the install (no pip, no Docker: the prediction function is replaced)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from harness.model.matrix import Matrix, load_matrix
from harness.run.forecast import attach_predictions, base_facts, index_options, predict_cells
from harness.run.preflight import BaseFacts, CellPrediction, IndexOptions, Prediction

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


def _prediction(kind: str) -> dict[str, Any]:
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
