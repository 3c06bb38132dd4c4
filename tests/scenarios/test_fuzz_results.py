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
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from harness.analysis import compare, diff
from harness.cli import entry as cli
from harness.documents import adr, junit, summary
from harness.documents import compare as compare_document
from harness.documents import diff as diff_document
from harness.model.errors import ConfigurationError, ResultsError
from harness.store.rundir import load_results
from tests.scenarios.fuzzing import SCALE, fuzz

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


def every_reader(
    good_dir: Path, bad_dir: Path, *, markdown: bool = False
) -> list[tuple[list[str], int, str]]:
    """Every reading command on ``bad_dir``'s results (diff against ``good_dir``): each
    exits 0 or 2 and never shows a traceback. (argv, exit code, stderr) of each."""
    commands = [
        ["report", str(bad_dir)],
        ["diff", str(good_dir), str(bad_dir)],
        *([["diff", str(bad_dir), str(good_dir), "--markdown"]] if markdown else []),
        ["adr", str(bad_dir), "--baseline", BASE_A, "--candidate", BASE_B],
        ["compare", BASE_A, BASE_B, "--run", str(bad_dir)],
    ]
    done = []
    for argv in commands:
        code, errors = run_cli(argv)
        assert code in (0, 2), (argv, code, errors[-2000:])
        assert "Traceback" not in errors, errors
        done.append((argv, code, errors))
    return done


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
    every = SCALE > 1
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


@fuzz(20, HealthCheck.function_scoped_fixture)
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
    for argv, code, errors in every_reader(good_dir, bad_dir, markdown=True):
        if code == 2 and argv[0] != "compare":  # compare may refuse a base it lacks
            assert str(bad) in errors and "$" in errors, errors


# -- issue 24: a fuzz of results.json *and* cell files, nested probe outputs included ---------
#
# Mutations: delete, retype, huge strings, NaN/Infinity, deep nesting, control and surrogate
# characters, duplicate ids, HTML/script in names and reasons. Every reader loads or refuses
# (exit 2, file and JSON path), never a traceback, and no injected markup reaches a page
# unescaped. About 400 cases, bounded: in-process readers for most, the command lines for a
# sample (report.html takes a second or two to render on a busy host).

MARKUP = '<script>alert("fuzz")</script><img src=x onerror=alert(1)>'
DEEP = "__deep__"  # replaced in the file's text by a nesting deeper than any writer's


def _rich_fixture() -> dict[str, Any]:
    """The fixture with every nested probe output a reader reads: interpreter speed,
    preflight, contents, the test suite."""
    document: dict[str, Any] = copy.deepcopy(FIXTURE)
    for base in document["bases"][:2]:
        base["interpreter_speed"] = {
            "status": "passed",
            "python": {"version": "3.11.2"},
            "build": {"pgo": True, "lto": False},
            "startup": {"bare": {"median_s": 0.02, "rel_iqr": 0.01, "repeats": 5}},
            "workloads": {"regex": {"median_s": 0.5, "rel_iqr": 0.02, "repeats": 5}},
        }
    cell = document["cells"][0]
    cell["preflight"] = {
        "status": "wheels",
        "verdict": "all wheels",
        "distributions": [{"name": "six", "version": "1.16.0", "kind": "wheel"}],
        "notes": ["from the index"],
        "seconds": 1.5,
        "pip_runs": 1,
    }
    cell["preflight_mismatches"] = [{"name": "six", "predicted": "wheel", "message": "ok"}]
    cell["probes"]["contents"] = {
        "status": "passed",
        "package_manager": "dpkg",
        "os_packages": [{"name": "libc6", "version": "2.36", "installed_size_bytes": 1024}],
        "distributions": [{"name": "six", "version": "1.16.0", "wheel_tags": ["py3-none-any"]}],
        "paths": {"/usr": {"bytes": 100, "files": 2}, "/opt/harness-venv": {"bytes": 50}},
    }
    cell["probes"]["tests"] = {
        "status": "failed",
        "seconds": 2.5,
        "exit_code": 1,
        "command": "pytest -q",
        "junit": {
            "tests": 3,
            "passed": 2,
            "failed": 1,
            "errors": 0,
            "skipped": 0,
            "failing": [{"name": "t::x", "outcome": "failed", "message": "boom"}],
        },
    }
    return document


RICH = _rich_fixture()
RICH_PATHS = [p for p in _paths(RICH) if p != ("schema_version",)]
CELL_PATHS = [p[2:] for p in RICH_PATHS if p[:2] == ("cells", 0) and len(p) > 2]
NAME_PATHS = [
    p for p in RICH_PATHS if p[-1] in ("name", "reason", "id", "base", "depset", "message")
]
KINDS = ["delete", "retype", "huge", "nan", "inf", "deep", "control", "surrogate", "markup"]


def _value(kind: str, retyped: Any) -> Any:
    return {
        "delete": DELETE,
        "retype": retyped,
        "huge": "x" * 300_000,
        "nan": float("nan"),
        "inf": float("-inf"),
        "deep": DEEP,
        "control": "a\x00b\x1b[31mc\r\n\x7f\u2028\u202ed",
        "surrogate": "s\ud800\udfff-\udc00",
        "markup": MARKUP,
    }[kind]


def _apply(document: Any, path: tuple[Any, ...], new: Any) -> None:
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if new is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new


def _text(document: Any, depth: int) -> str:
    """The file's text: NaN/Infinity as Python writes them, DEEP as ``depth`` lists."""
    return json.dumps(document).replace(f'"{DEEP}"', "[" * depth + "]" * depth)


def _no_markup(folder: Path) -> None:
    for page in folder.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img src=x" not in html, page


@st.composite
def _document_edits(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    """One to three edits of the rich fixture, or a duplicated cell/base id."""
    document = copy.deepcopy(RICH)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from([*KINDS, "duplicate"]))
        if kind == "duplicate":
            which = draw(st.sampled_from(["cells", "bases", "depsets"]))
            if document.get(which):
                document[which].append(copy.deepcopy(document[which][0]))
            continue
        paths = NAME_PATHS if kind == "markup" else RICH_PATHS
        path = draw(st.sampled_from(paths))
        with contextlib.suppress(KeyError, IndexError, TypeError):  # an earlier edit's
            _apply(document, path, _value(kind, draw(st.sampled_from(WRONG_VALUES))))
    return document, draw(st.sampled_from([60, 3000]))


def _load_or_refuse(path: Path) -> Any:
    """The typed results, or None when refused as the contract says (file and path)."""
    from harness.store.rundir import read_results

    try:
        return read_results(path)
    except ResultsError as err:
        assert str(path) in err.what, err.what
        assert "x" * 1000 not in err.what  # a huge value is never echoed
        return None


@fuzz(250, HealthCheck.function_scoped_fixture)
@given(edit=_document_edits())
def test_fuzzed_results_load_or_are_refused_and_every_reader_copes(
    tmp_path: Path, edit: tuple[dict[str, Any], int]
) -> None:
    document, depth = edit
    path = tmp_path / "results.json"
    path.write_text(_text(document, depth))
    results = _load_or_refuse(path)
    if results is None:
        return
    assert "NaN" not in results.to_json() and "Infinity" not in results.to_json()
    # exit 2 (a base or cell the command names is not in the file) is a refusal, not a crash
    with contextlib.suppress(ConfigurationError, ResultsError):
        _reads_everything(results.to_dict())
    names = {b.name for b in results.bases}
    if {BASE_A, BASE_B} <= names:
        page = compare_document.render_comparison_html(
            compare.compare_bases(results.to_dict(), BASE_A, BASE_B, None)
        )
        assert "<script>alert" not in page and "<img src=x" not in page


@fuzz(25, HealthCheck.function_scoped_fixture)
@given(edit=_document_edits())
@example(edit=(_rich_fixture(), 60))
def test_fuzzed_results_through_every_command(
    tmp_path: Path, good_dir: Path, edit: tuple[dict[str, Any], int]
) -> None:
    document, depth = edit
    bad_dir = tmp_path / "fuzzed"
    bad_dir.mkdir(exist_ok=True)
    (bad_dir / "results.json").write_text(_text(document, depth))
    every_reader(good_dir, bad_dir)
    _no_markup(bad_dir)


@st.composite
def _cell_edits(draw: st.DrawFn) -> tuple[list[tuple[str, str]], int]:
    """Cell files of one run: the fixture's first two cells, one of them edited (or a
    copy under another name, or a file that is not a cell at all)."""
    from harness.store.files import result_file_name

    cells = [copy.deepcopy(RICH["cells"][0]), copy.deepcopy(RICH["cells"][1])]
    files = [(result_file_name(c["id"], c["repeat"]), c) for c in cells]
    kind = draw(st.sampled_from([*KINDS, "copy", "stray"]))
    depth = draw(st.sampled_from([60, 3000]))
    if kind == "copy":
        files.append((files[0][0].replace(".json", ".bak.json"), cells[0]))
    elif kind == "stray":
        files.append(("notes.json", draw(st.sampled_from(WRONG_VALUES[1:]))))
    else:
        paths = [p for p in CELL_PATHS if p[-1] in ("name", "reason", "message")]
        path = draw(st.sampled_from(paths if kind == "markup" else CELL_PATHS))
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _apply(cells[0], path, _value(kind, draw(st.sampled_from(WRONG_VALUES))))
    return [(name, _text(content, depth)) for name, content in files], len(files)


def _merged_run(folder: Path, files: list[tuple[str, str]]) -> Path:
    from harness.run import results as run_results

    (folder / "cells").mkdir(parents=True, exist_ok=True)
    for name, text in files:
        (folder / "cells" / name).write_text(text)
    prepared = {k: RICH[k] for k in ("run", "bases", "depsets")}
    (folder / "prepare.json").write_text(json.dumps(prepared))
    with contextlib.redirect_stderr(io.StringIO()):  # the warnings for ignored files
        run_results.merge(folder)
    return folder / "results.json"


@fuzz(120, HealthCheck.function_scoped_fixture)
@given(edit=_cell_edits())
def test_fuzzed_cell_files_merge_into_a_file_every_reader_reads(
    tmp_path: Path, edit: tuple[list[tuple[str, str]], int]
) -> None:
    files, _count = edit
    folder = tmp_path / "run"
    merged = _merged_run(folder, files)
    text = merged.read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} written to results.json"))
    results = _load_or_refuse(merged)
    assert results is not None, "merge wrote a results.json its own reader refuses"
    keys = [(c.id, c.repeat) for c in results.cells]
    assert len(keys) == len(set(keys)), keys  # a copy is never another record
    _reads_everything(results.to_dict())


@fuzz(12, HealthCheck.function_scoped_fixture)
@given(edit=_cell_edits())
def test_fuzzed_cell_files_through_report(
    tmp_path: Path, edit: tuple[list[tuple[str, str]], int]
) -> None:
    folder = tmp_path / "run"
    _merged_run(folder, edit[0])
    code, errors = run_cli(["report", str(folder)])
    assert code in (0, 2) and "Traceback" not in errors, errors
    _no_markup(folder)


def test_every_nested_probe_field_with_every_wrong_type_loads_or_is_refused_by_path(
    tmp_path: Path,
) -> None:
    """The sweep above, over the nested probe outputs the fixture lacks (interpreter
    speed, preflight, contents, the test suite): every field kind, every wrong value."""
    kinds: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for field in RICH_PATHS:
        kinds.setdefault(tuple(0 if isinstance(k, int) else k for k in field), field)
    nested = [p for k, p in kinds.items() if k not in _KINDS]
    assert len(nested) > 40
    path = tmp_path / "results.json"
    crashes = []
    for field in nested:
        for new in WRONG_VALUES:
            document = copy.deepcopy(RICH)
            _apply(document, field, new)
            path.write_text(json.dumps(document))
            results = _load_or_refuse(path)
            if results is None:
                continue
            try:
                _reads_everything(results.to_dict())
            except Exception as err:  # every crash is collected and shown
                crashes.append(f"{field} = {new!r}: {type(err).__name__}: {err}"[:300])
    assert not crashes, f"{len(crashes)} crash(es):\n" + "\n".join(crashes[:40])
