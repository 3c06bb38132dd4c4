"""Issue 24, "Readers": each reproduced fault of the reading commands, as a regression test.

- a wrong type inside a nested probe output (interpreter speed, preflight) is exit 2 naming
  the file and the JSON path, never a traceback (exit 1 looked like "a cell failed");
- a lone surrogate in any string never ends in UnicodeEncodeError (repaired to U+FFFD);
- NaN/Infinity never reach results.json or a cell file (null, with the value named);
- a stray or duplicate file in cells/ is not another record of the cell.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from harness.cli import entry as cli
from harness.model.results import REPLACEMENT, CellRecord, Results
from harness.run import results as run_results
from harness.store import rundir
from harness.store.files import result_file_name

ROOT = Path(__file__).resolve().parents[2]
FIXTURE: dict[str, Any] = json.loads((ROOT / "tests" / "fixtures" / "results_v1.json").read_text())
BASE_A, BASE_B = FIXTURE["bases"][0]["name"], FIXTURE["bases"][1]["name"]


def _strict_loads(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, err.getvalue()


def _commands(run_dir: Path, good_dir: Path) -> list[list[str]]:
    return [
        ["report", str(run_dir)],
        ["diff", str(good_dir), str(run_dir)],
        ["adr", str(run_dir), "--baseline", BASE_A, "--candidate", BASE_B],
        ["compare", BASE_A, BASE_B, "--run", str(run_dir)],
    ]


@pytest.fixture
def good_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "good"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(FIXTURE))
    return folder


def _with_speed(document: dict[str, Any]) -> dict[str, Any]:
    """The fixture with a passed interpreter benchmark on both bases."""
    for base in document["bases"][:2]:
        base["interpreter_speed"] = {
            "status": "passed",
            "python": {"version": "3.11.2"},
            "build": {"pgo": True, "lto": False},
            "startup": {"bare": {"median_s": 0.02, "rel_iqr": 0.01}},
            "workloads": {"regex": {"median_s": 0.5, "rel_iqr": 0.02}},
        }
    return document


def _with_preflight(document: dict[str, Any]) -> dict[str, Any]:
    document["cells"][0]["preflight"] = {
        "status": "wheels",
        "verdict": "all wheels",
        "distributions": [{"name": "six", "version": "1.16.0", "kind": "wheel"}],
        "notes": ["from the index"],
        "seconds": 1.5,
        "pip_runs": 1,
    }
    return document


BAD_NESTED = [
    (("bases", 0, "interpreter_speed", "build"), 3.5, "$.bases[0].interpreter_speed.build"),
    (
        ("bases", 0, "interpreter_speed", "workloads", "regex", "median_s"),
        "x" * 100_000,
        "$.bases[0].interpreter_speed.workloads.regex.median_s",
    ),
    (("cells", 0, "preflight", "notes"), 7, "$.cells[0].preflight.notes"),
    (("cells", 0, "preflight", "distributions", 0), 7, "$.cells[0].preflight.distributions[0]"),
    (
        ("cells", 0, "probes", "contents"),
        {"status": "passed", "os_packages": "dpkg"},
        "$.cells[0].probes.contents.os_packages",
    ),
    (
        ("cells", 0, "probes", "tests"),
        {"status": "failed", "junit": {"tests": "8"}},
        "$.cells[0].probes.tests.junit.tests",
    ),
]


@pytest.mark.parametrize(("path", "value", "where"), BAD_NESTED)
def test_a_bad_nested_probe_value_is_exit_2_with_the_file_and_path(
    tmp_path: Path, good_dir: Path, path: tuple[Any, ...], value: Any, where: str
) -> None:
    document = _with_preflight(_with_speed(copy.deepcopy(FIXTURE)))
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    (bad_dir / "results.json").write_text(json.dumps(document))
    for argv in _commands(bad_dir, good_dir):
        code, errors = _cli(argv)
        assert code == 2, (argv, errors)
        assert str(bad_dir / "results.json") in errors and where in errors, errors
        assert "x" * 200 not in errors  # a huge bad value is never echoed
        assert "Traceback" not in errors


def test_the_fixture_with_speed_and_preflight_is_read_by_every_command(
    tmp_path: Path, good_dir: Path
) -> None:
    document = _with_preflight(_with_speed(copy.deepcopy(FIXTURE)))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text(json.dumps(document))
    for argv in _commands(run_dir, good_dir):
        assert _cli(argv)[0] == 0, argv


@pytest.mark.parametrize(
    "path",
    [
        ("bases", 0, "name"),
        ("cells", 0, "reason"),
        ("cells", 0, "steps", 0, "log_tail"),
        ("run", "warnings", 0),
        ("depsets", 0, "pip", 0),
    ],
)
def test_a_lone_surrogate_in_any_string_is_repaired_not_a_traceback(
    tmp_path: Path, good_dir: Path, path: tuple[Any, ...]
) -> None:
    document = copy.deepcopy(FIXTURE)
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = f"{parent[path[-1]]}\ud800"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # json.dumps escapes it as \ud800: valid JSON syntax, not valid Unicode
    (run_dir / "results.json").write_text(json.dumps(document))
    loaded = rundir.read_results(run_dir / "results.json")
    value: Any = loaded.to_dict()
    for key in path:
        value = value[key]
    assert value.endswith(REPLACEMENT)
    assert "\\ud800" not in loaded.to_json()
    for argv in _commands(run_dir, good_dir):
        code, errors = _cli(argv)
        assert code in (0, 2), (argv, errors)
        assert "Traceback" not in errors and "UnicodeEncodeError" not in errors


def test_a_cell_with_nan_or_infinity_is_written_as_strict_json(tmp_path: Path) -> None:
    record = copy.deepcopy(FIXTURE["cells"][0])
    record["seconds"] = math.nan
    record["probes"]["imports"]["import_seconds"]["ffmpeg"] = math.inf
    record["probes"]["imports"]["modules"]["ffmpeg"]["runs"][1] = -math.inf
    cell = CellRecord.from_dict(record, "cell")
    text = cell.to_json()
    parsed = _strict_loads(text)
    assert parsed["seconds"] is None
    imports = parsed["probes"]["imports"]
    assert imports["import_seconds"] == {"ffmpeg": None}
    assert imports["modules"]["ffmpeg"]["runs"][1] is None
    assert parsed["non_finite"] == {
        "$.seconds": "nan",
        "$.probes.imports.import_seconds.ffmpeg": "inf",
        "$.probes.imports.modules.ffmpeg.runs[1]": "-inf",
    }
    # the same through the file writers: a cell file and results.json after a merge
    out = tmp_path / "run"
    (out / "cells").mkdir(parents=True)
    rundir.write_json(
        out / "cells" / result_file_name(record["id"], record["repeat"]), dict(record)
    )
    prepared = {k: FIXTURE[k] for k in ("run", "bases", "depsets")}
    (out / "prepare.json").write_text(json.dumps(prepared))
    run_results.merge(out)
    merged = _strict_loads((out / "results.json").read_text())
    assert merged["cells"][0]["seconds"] is None
    Results.from_json((out / "results.json").read_text(), "merged")


def test_a_stray_or_duplicate_cell_file_is_not_another_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cells = tmp_path / "cells"
    cells.mkdir()
    record = FIXTURE["cells"][0]
    name = result_file_name(record["id"], record["repeat"])
    text = json.dumps(record)
    (cells / name).write_text(text)
    (cells / name.replace(".json", " (copy).json")).write_text(text)  # a cp backup
    (cells / "downloaded.json").write_text(text)  # a re-downloaded artifact
    other = dict(record, repeat=1)  # the right content under another cell's name
    (cells / result_file_name(record["id"], 2)).write_text(json.dumps(other))
    found = run_results.read_cell_files(tmp_path)
    assert [(c.id, c.repeat) for c in found] == [(record["id"], record["repeat"])]
    warned = capsys.readouterr().err
    assert warned.count("ignored") == 3, warned
    assert "(copy).json" in warned and "downloaded.json" in warned
