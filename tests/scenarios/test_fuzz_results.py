"""Readers that trust nothing (issue 13, item 5): one field of a real results.json changed
(deleted, nulled, or given another JSON type), and every command that reads a results file
(`report`, `diff` both ways, `adr`, `compare --run`) exits 0 or 2, never a traceback. A
file refused is refused on load, naming the file and the JSON path of the bad field.

The sweep test tries every field of tests/fixtures/results_v1.json with every kind of
wrong value through `load_results` and the documents; the hypothesis test drives the
command lines on a sample of the same edits.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.analysis import compare, diff
from harness.cli import entry as cli
from harness.documents import adr, junit, summary
from harness.documents import compare as compare_document
from harness.documents import diff as diff_document
from harness.model.errors import ConfigurationError, ResultsError
from harness.store.rundir import load_results

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "results_v1.json").read_text())
BASE_A, BASE_B = FIXTURE["bases"][0]["name"], FIXTURE["bases"][1]["name"]
DELETE = object()
WRONG_VALUES: list[Any] = [DELETE, None, 7, -1.5, True, "text", [], {}, ["x"], {"x": 1}]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict | list):
        items: Any = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            yield from _paths(child, (*prefix, key))


PATHS = [p for p in _paths(FIXTURE) if p != ("schema_version",)]
# The sweep: one path per field *kind* (list items shown by their first element whose
# parent has it), so every field is tried with every wrong type in a few seconds.
_KINDS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
for _path in PATHS:
    _KINDS.setdefault(tuple(0 if isinstance(k, int) else k for k in _path), _path)
SWEEP = list(_KINDS.values())


def mutated(path: tuple[Any, ...], new: Any) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(FIXTURE)
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    if new is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return document


def run_cli(argv: Sequence[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except Exception as error:
            frames = "".join(traceback.format_exception(error, limit=-5))
            raise AssertionError(f"harness {' '.join(argv)} crashed:\n{frames}") from error
    return code, err.getvalue()


def _reads_everything(results: dict[str, Any]) -> None:
    """What the reading commands do with a loaded file, in process (fast: report.html takes
    half a second to render, so the command-line test below covers it)."""
    good = copy.deepcopy(FIXTURE)
    summary.markdown_summary(results, None)
    junit.build_junit(results)
    for earlier, later in ((good, results), (results, good)):
        run_diff = diff.diff_runs(earlier, later)
        diff_document.render_diff_text(run_diff)
        diff_document.render_diff_markdown(run_diff)
    with contextlib.suppress(ConfigurationError):  # a base gone from the file: exit 2
        adr.render_adr(results, report_href="report.html", baseline=BASE_A, candidates=[BASE_B])
    names = {b["name"] for b in results.get("bases") or []}
    if {BASE_A, BASE_B} <= names:
        comparison = compare.compare_bases(results, BASE_A, BASE_B, None)
        compare_document.render_comparison_html(comparison)
        compare_document.render_comparison_markdown(comparison)


def _sweep() -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every field kind with one wrong value each, in rotation (about 10 s); with
    HARNESS_FUZZ_SCALE > 1 (nightly), every field with every wrong value."""
    every = int(os.environ.get("HARNESS_FUZZ_SCALE", "1")) > 1
    for index, field in enumerate(SWEEP):
        kinds = WRONG_VALUES if every else [WRONG_VALUES[index % len(WRONG_VALUES)]]
        for new in kinds:
            yield field, new


def test_every_field_with_a_wrong_type_loads_or_is_refused_by_path(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    crashes = []
    for field, new in _sweep():
        path.write_text(json.dumps(mutated(field, new)))
        try:
            results = load_results(path)
        except ResultsError as err:
            assert str(path) in err.what and "$" in err.what, err.what
            continue
        try:
            _reads_everything(results)
        except Exception as err:  # every crash is collected and shown
            crashes.append(f"{field} = {new!r}: {type(err).__name__}: {err}"[:300])
    assert not crashes, f"{len(crashes)} crash(es):\n" + "\n".join(crashes[:40])


@pytest.fixture(scope="module")
def good_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    (folder / "results.json").write_text(json.dumps(FIXTURE))
    return folder


@settings(
    max_examples=20 * int(os.environ.get("HARNESS_FUZZ_SCALE", "1")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=st.sampled_from(PATHS), new=st.sampled_from(WRONG_VALUES))
@example(field=("cells", 0, "reproducer", "commands"), new="docker run x")
@example(field=("cells", 0, "status"), new=DELETE)
@example(field=("cells", 0, "distributions", 0, "name"), new=DELETE)
@example(field=("depsets", 0, "imports"), new="six")
def test_reading_commands_exit_0_or_2(
    tmp_path: Path, good_dir: Path, field: tuple[Any, ...], new: Any
) -> None:
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir(exist_ok=True)
    bad = bad_dir / "results.json"
    bad.write_text(json.dumps(mutated(field, new)))
    commands = [
        ["report", str(bad_dir)],
        ["diff", str(good_dir), str(bad_dir)],
        ["diff", str(bad_dir), str(good_dir), "--markdown"],
        ["adr", str(bad_dir), "--baseline", BASE_A, "--candidate", BASE_B],
        ["compare", BASE_A, BASE_B, "--run", str(bad_dir)],
    ]
    for argv in commands:
        code, errors = run_cli(argv)
        assert code in (0, 2), (argv, code, errors[-2000:])
        assert "Traceback" not in errors, errors
        if code == 2 and argv[0] != "compare":  # compare may refuse a base it lacks
            assert str(bad) in errors and "$" in errors, errors
