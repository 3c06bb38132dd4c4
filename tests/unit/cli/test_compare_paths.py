"""``harness compare`` builds file names from base names read from results.json (issue 24):
a name that is not a matrix name is exit 2 naming the file and the JSON path, and nothing
is written outside --out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.entry import main

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1.json"


def _run_with_base_named(tmp_path: Path, name: str) -> Path:
    results = json.loads(FIXTURE.read_text(encoding="utf-8"))
    old = results["bases"][0]["name"]
    results["bases"][0]["name"] = name
    for cell in results["cells"]:
        if cell["base"] == old:
            cell["base"] = name
            cell["id"] = cell["id"].replace(old, name)
    run = tmp_path / "a" / "b" / "c" / "run"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return run


@pytest.mark.parametrize("name", ["../../../x", "x/../../../../y", "/tmp/abs", "Upper", ".hidden"])
def test_a_base_name_from_the_file_that_is_no_matrix_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    run = _run_with_base_named(tmp_path, name)
    out = tmp_path / "a" / "b" / "c" / "out"
    before = sorted(p for p in tmp_path.rglob("*"))
    code = main(["compare", name, "py313-slim", "--run", str(run), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(run / "results.json") in err
    assert "bases[0].name" in err
    assert "Traceback" not in err
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written anywhere


def test_good_names_write_inside_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_with_base_named(tmp_path, "py311-slim")
    out = tmp_path / "out"
    code = main(["compare", "py311-slim", "py313-slim", "--run", str(run), "--out", str(out)])
    capsys.readouterr()
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "compare-py311-slim-vs-py313-slim.html",
        "compare-py311-slim-vs-py313-slim.md",
    ]
