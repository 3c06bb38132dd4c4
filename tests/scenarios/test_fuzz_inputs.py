"""Fuzzing what users hand to harness (issue 5, "Bad input"): matrix files and results.json.

The property everywhere: an input either works, or ends in a clean exit-2 error that names
the file (``ConfigurationError`` / ``ResultsError``); never another exception, never a
traceback on stderr. Each fuzzed area is its own test (a "sub-property"), so a known bug
in one area is marked there (``xfail(strict=True)``, with the failing example pinned by
``@example``) while the others stay strict.

Findings fixed and kept as regression tests: PyYAML constructor errors (bad timestamps,
``!!int abc``, huge numbers, deep nesting), complex YAML keys, odd Dockerfile paths (NUL,
unknown ``~user``), results.json with huge integers, deep nesting, or fields of the wrong
type.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from harness.cli import entry as cli
from harness.model import matrix as matrix_module
from harness.model.errors import ConfigurationError, ResultsError
from harness.model.matrix import load_matrix
from harness.store.rundir import load_results
from tests.scenarios import fuzzing

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_BYTES = (ROOT / "tests" / "fixtures" / "results_v1.json").read_bytes()
FIXTURE = json.loads(FIXTURE_BYTES)


def fuzz(examples: int) -> settings:
    """Small budgets keep this file near 20 s (tests/scenarios/fuzzing.py)."""
    return fuzzing.fuzz(examples, HealthCheck.filter_too_much)


class HarnessCrash(AssertionError):
    """An exception escaped harness: a user would have seen a traceback."""


def _crash(where: str, err: BaseException) -> HarnessCrash:
    frames = "".join(traceback.format_exception(err, limit=-4))
    return HarnessCrash(f"{where} raised {type(err).__name__}: {err}\n{frames}")


def run_cli(argv: Sequence[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except Exception as error:
            raise _crash(f"harness {' '.join(argv)}", error) from error
    return code, out.getvalue(), err.getvalue()


# --- the matrix loader -------------------------------------------------------------------


def _schema_keys() -> list[str]:
    """Every field name of the matrix schema, so generated shapes hit the real keys."""
    names: set[str] = set()
    for value in vars(matrix_module).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            names.update(value.model_fields)
    return sorted(names)


SCHEMA_KEYS = _schema_keys()
TOP_KEYS = ["version", "settings", "bases", "depsets", "cells"]
NAMES = ["py311", "a", "b-2", "x.y_z", "Upper", "", "a b", "-lead", "×", "one"]
SAFE_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # no surrogates

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    SAFE_TEXT,
    st.sampled_from(["1", "auto", "never", "python:3.11-slim", "3.11", "bookworm", "6g", "*"]),
)
keys = st.one_of(st.sampled_from(SCHEMA_KEYS + NAMES), SAFE_TEXT, st.integers(-3, 3), st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)
named_specs = st.dictionaries(st.sampled_from(NAMES) | SAFE_TEXT, values, max_size=3)

VALID: dict[str, Any] = {
    "version": 1,
    "settings": {
        "jobs": 2,
        "timeout": 600,
        "memory": "1g",
        "cpus": 1.5,
        "repeat": 1,
        "pull": "auto",
        "pull_timeout": 20,
        "ca_bundle": None,
        "wheelhouses": ["wheels"],
        "extra_index_urls": ["https://user:pass@example.invalid/simple"],
        "index_url": None,
        "install_network": "bridge",
        "model_dir": None,
        "extra_probes_dir": "probes",
        "standin_repository": "harness-standin",
        "env": {"A": "b"},
    },
    "bases": {
        "py311": {
            "image": "python:3.11-slim",
            "standin": {"debootstrap": {"suite": "bookworm", "python": "3.11"}},
        },
        "custom": {"dockerfile": {"path": "Dockerfile", "base_args": {"BASE": "py311"}}},
        "deb": {"debootstrap": {"suite": "trixie", "python": "3.13", "extra_packages": ["gcc"]}},
    },
    "depsets": {
        "tiny": {"pip": ["six"], "pip_args": ["--retries", "0"], "imports": ["six"]},
        "media": {"system": {"apt": ["ffmpeg"], "apk": ["ffmpeg"]}, "probes": ["custom_probe"]},
        "limited": {
            "pip": ["torch"],
            "timeout": 60,
            "environment_limits": [{"pattern": "No matching", "reason": "no CPU wheel"}],
        },
    },
    "cells": {
        "include": [{"base": "*", "depset": "*"}],
        "exclude": [{"base": "deb", "depset": "media"}],
        "expected_failures": [{"base": "custom", "depset": "t*", "reason": "known", "link": "x"}],
        "overrides": [{"depset": "media", "memory": "2g", "tmpfs": {"/tmp": "size=4m"}}],
    },
}
VALID_TEXT = yaml.safe_dump(VALID, sort_keys=False)

TOKENS = [
    ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "\n", "  ", "    ", "\t", "'", '"', "&a ",
    "*a", "*b", "? ", "|", ">", "#", "%YAML 1.1\n", "%TAG ! x\n", "---\n", "...\n", "@", "`",
    "<<: ", "\\", "\x00", "\ufeff", "\x85", "\u2028", "😀", "\x7f", "%", "!", "null", "true",
    "1", "-1", "1e9", "0x1F", ".nan", "version", "bases", "depsets", "settings", "cells",
    "image", "pip", "py311", "tiny", "jobs", "timeout",
]  # fmt: skip
token_soup = st.lists(st.sampled_from(TOKENS) | SAFE_TEXT, max_size=120).map("".join)


@st.composite
def edited_valid_text(draw: st.DrawFn) -> str:
    """The valid matrix's text with a few character-level edits (typos, bad pastes)."""
    text = VALID_TEXT
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["cut", "delete", "insert", "duplicate-line", "indent"]))
        if edit == "cut":
            text = text[:at]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif edit == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS) | SAFE_TEXT) + text[at:]
        else:
            lines = text.splitlines(keepends=True) or [""]
            index = draw(st.integers(0, len(lines) - 1))
            if edit == "duplicate-line":
                lines.insert(index, lines[index])
            else:
                lines[index] = " " * draw(st.integers(1, 3)) + lines[index]
            text = "".join(lines)
    return text


@pytest.fixture(scope="module")
def matrix_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with what VALID refers to: a Dockerfile and a probes/ folder."""
    folder = tmp_path_factory.mktemp("fuzz-matrix").resolve()
    (folder / "Dockerfile").write_text("ARG BASE\nFROM $BASE\n")
    (folder / "probes").mkdir()
    (folder / "probes" / "custom_probe.py").write_text("print('{}')\n")
    (folder / "wheels").mkdir()
    return folder


def write_matrix(folder: Path, text: str) -> Path:
    path = folder / "matrix.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def check_matrix_file(path: Path) -> None:
    """Loads, or ConfigurationError (exit 2) naming the file; `validate` agrees, cleanly."""
    try:
        load_matrix(path)
        loaded = True
    except ConfigurationError as err:
        loaded = False
        assert err.exit_code == 2
        assert str(path) in err.what, err.what
        assert err.fix, f"no fix given for: {err.what}"
    except Exception as err:
        raise _crash("load_matrix", err) from err
    code, out, errors = run_cli(["validate", str(path)])
    assert "Traceback" not in errors, errors
    assert code == (0 if loaded else 2), (code, out, errors)
    if loaded:
        assert f"{path}: valid" in out
    else:
        assert errors.startswith("harness: error: ") and str(path) in errors, errors


def test_the_valid_matrix_loads(matrix_dir: Path) -> None:
    matrix = load_matrix(write_matrix(matrix_dir, VALID_TEXT))
    assert len(matrix.cells) == 8  # 3 bases × 3 depsets, one excluded
    check_matrix_file(matrix_dir / "matrix.yaml")


@fuzz(200)
@given(text=token_soup | edited_valid_text())
@example(text="")
@example(text="a: b: c")
@example(text="version: 1\nversion: 1\n")
@example(text="- 1\n- 2\n")
@example(text=VALID_TEXT.replace("version: 1", "version: 2"))
@example(text="&a [*a]")
@example(text="x: &x {image: y}\nbases:\n  a:\n    <<: *x\n")
def test_loader_malformed_yaml(matrix_dir: Path, text: str) -> None:
    check_matrix_file(write_matrix(matrix_dir, text))


@fuzz(120)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "version": st.just(1) | scalars,
            "settings": st.dictionaries(st.sampled_from(SCHEMA_KEYS), values, max_size=4) | values,
            "bases": named_specs | values,
            "depsets": named_specs | values,
            "cells": st.dictionaries(st.sampled_from(SCHEMA_KEYS), values, max_size=3) | values,
        },
    ),
    noise=st.dictionaries(keys, values, max_size=2),
    with_noise=st.booleans(),
)
def test_loader_wrong_shapes(
    matrix_dir: Path, data: dict[str, Any], noise: dict[Any, Any], with_noise: bool
) -> None:
    document = {**data, **noise} if with_noise else data
    check_matrix_file(write_matrix(matrix_dir, yaml.safe_dump(document, sort_keys=False)))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into nested dicts and lists, e.g. ('bases', 'py311', 'image')."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        items = []
    for key, child in items:
        found += _paths(child, (*prefix, key))
    return found


@st.composite
def mutated_valid(draw: st.DrawFn) -> dict[str, Any]:
    """VALID with values deleted, replaced, renamed or re-shaped at random key paths."""
    document = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = document
        for key in path[:-1]:
            parent = parent[key]
        _mutate(draw, parent, path[-1])
    return document


def _mutate(draw: st.DrawFn, parent: Any, last: Any) -> None:
    """Delete, replace, rename, wrap or unwrap ``parent[last]`` in place."""
    operation = draw(st.sampled_from(["delete", "replace", "rename", "wrap", "unwrap"]))
    if operation == "delete":
        del parent[last]
    elif operation == "replace":
        parent[last] = draw(values)
    elif operation == "rename" and isinstance(parent, dict):
        new_key = draw(keys)
        if new_key not in parent:
            parent[new_key] = parent.pop(last)
    elif operation == "wrap":
        parent[last] = [parent[last]]
    elif isinstance(parent[last], dict) and parent[last]:
        parent[last] = next(iter(parent[last].values()))
    elif isinstance(parent[last], list) and parent[last]:
        parent[last] = parent[last][0]


@fuzz(150)
@given(document=mutated_valid())
def test_loader_mutated_valid_matrix(matrix_dir: Path, document: dict[str, Any]) -> None:
    check_matrix_file(write_matrix(matrix_dir, yaml.safe_dump(document, sort_keys=False)))


# Each of these currently escapes the loader as a traceback (see the module docstring).
YAML_CONSTRUCTOR_CRASHES = [
    "version: 2024-13-45",  # an implicit timestamp that is no date: ValueError
    "version: !!int abc",  # ValueError
    "version: !!float abc",  # ValueError
    "version: !!bool maybe",  # KeyError
    "version: !!timestamp abc",  # AttributeError
    'version: !!int ""',  # IndexError
    "version: 1" + "0" * 5000,  # ValueError: more digits than int() converts
    "version: " + "[" * 600 + "]" * 600,  # RecursionError in PyYAML's composer
]
yaml_oddities = st.sampled_from(
    ["!!int", "!!float", "!!bool", "!!timestamp", "!!binary", "!!set", "!!omap", "!!pairs",
     "!!str", "!!null", "!!seq", "!!map", "!!python/tuple", "!foo", ""]
).flatmap(lambda tag: SAFE_TEXT.map(lambda text: f"{tag} {json.dumps(text)}")) | st.from_regex(
    r"\A[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}( [0-9]{1,2}:[0-9]{2}:[0-9]{2})?\Z"
)  # fmt: skip


@fuzz(100)
@given(snippet=yaml_oddities, place=st.sampled_from(["version", "jobs", "new-key"]))
@example(snippet="2024-13-45", place="version")
def test_loader_yaml_constructor_errors(matrix_dir: Path, snippet: str, place: str) -> None:
    """Explicit tags and typed scalars (timestamps, !!int...) in any place of a matrix."""
    if place == "new-key":
        text = f"{VALID_TEXT}oddity: {snippet}\n"
    else:
        text = VALID_TEXT.replace(f"{place}: ", f"{place}: {snippet} #", 1)
    check_matrix_file(write_matrix(matrix_dir, text))


@pytest.mark.parametrize("text", YAML_CONSTRUCTOR_CRASHES, ids=lambda t: t[:24])
def test_loader_yaml_constructor_errors_each(matrix_dir: Path, text: str) -> None:
    check_matrix_file(write_matrix(matrix_dir, text + "\n"))


@pytest.mark.parametrize(
    "text", ["? [a, b]\n: 1", "{{a: 1}: 2}", "bases: {[a]: {image: x}}", "? {a: 1}\n: 1"]
)
def test_loader_complex_keys(matrix_dir: Path, text: str) -> None:
    """A list or mapping as a key (unhashable): exit 2 (fixed in 90fb97a)."""
    with pytest.raises(ConfigurationError):
        load_matrix(write_matrix(matrix_dir, text + "\n"))
    check_matrix_file(matrix_dir / "matrix.yaml")


path_text = st.text(max_size=20) | st.sampled_from(["~", "~/x", "~root/x", "/", ".", ".."])


@fuzz(100)
@given(
    value=path_text,
    where=st.sampled_from(["dockerfile.path", "dockerfile.context", "standin", "extra_probes"]),
)
@example(value="a\x00b", where="dockerfile.path")
@example(value="~harness-no-such-user-3f1/Dockerfile", where="dockerfile.path")
@example(value="x" * 5000, where="dockerfile.path")
def test_loader_path_values(matrix_dir: Path, value: str, where: str) -> None:
    """Odd path values (NUL, an unknown ~user, very long): exit 2 (fixed in 90fb97a)."""
    document = copy.deepcopy(VALID)
    if where == "dockerfile.path":
        document["bases"]["custom"]["dockerfile"]["path"] = value
    elif where == "dockerfile.context":
        document["bases"]["custom"]["dockerfile"]["context"] = value
    elif where == "standin":
        document["bases"]["py311"]["standin"] = {"dockerfile": {"path": value}}
    else:
        document["settings"]["extra_probes_dir"] = value
    check_matrix_file(write_matrix(matrix_dir, yaml.safe_dump(document, sort_keys=False)))


# --- results.json and `harness report` ---------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-results").resolve()


def check_results_file(folder: Path, content: bytes, *, must_render: bool = False) -> bool:
    """load_results and `harness report` either work or exit 2 naming the file.

    The report may still reject (exit 2) what load_results let through, unless
    ``must_render``. Returns True when report.html was written.
    """
    path = folder / "results.json"
    path.write_bytes(content)
    (folder / "report.html").unlink(missing_ok=True)
    try:
        load_results(path)
        loaded = True
    except ResultsError as err:
        loaded = False
        assert err.exit_code == 2
        assert str(path) in err.what and err.fix, err.what
    except Exception as err:
        raise _crash("load_results", err) from err
    code, out, errors = run_cli(["report", str(folder)])
    assert "Traceback" not in errors, errors
    if code == 2:
        assert not (loaded and must_render), errors
        assert str(path) in errors and not (folder / "report.html").exists(), errors
        return False
    assert loaded and code == 0, (code, out, errors)
    assert (folder / "report.html").stat().st_size > 0
    return True


@fuzz(150)
@given(offset=st.integers(0, len(FIXTURE_BYTES) - 1))
@example(offset=0)
@example(offset=1)
@example(offset=len(FIXTURE_BYTES) // 2)
@example(offset=FIXTURE_BYTES.index("×".encode()) + 1)  # inside a multi-byte character
def test_report_truncated_results(run_dir: Path, offset: int) -> None:
    rendered = check_results_file(run_dir, FIXTURE_BYTES[:offset], must_render=True)
    assert not rendered or FIXTURE_BYTES[offset:].strip() == b""


def test_report_full_fixture_renders(run_dir: Path) -> None:
    assert check_results_file(run_dir, FIXTURE_BYTES, must_render=True)


envelopes = st.one_of(
    st.builds(
        lambda version: {**FIXTURE, "schema_version": version},
        st.one_of(
            st.integers(2, 10**6),
            st.integers(-5, 0),
            st.just(True),
            st.none(),
            st.text(max_size=3),
            st.floats(allow_nan=True),
            st.lists(st.integers(), max_size=2),
        ),
    ),
    st.builds(lambda: {k: v for k, v in FIXTURE.items() if k != "schema_version"}),
    values,  # a top-level that is no results document at all
)


@fuzz(60)
@given(document=envelopes)
@example(document={**FIXTURE, "schema_version": 2})
@example(document={"schema_version": 2})
@example(document=[FIXTURE])
def test_report_wrong_envelope_or_newer_schema(run_dir: Path, document: Any) -> None:
    content = json.dumps(document).encode()
    rendered = check_results_file(run_dir, content, must_render=True)
    version = document.get("schema_version") if isinstance(document, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > 1:
        _, _, errors = run_cli(["report", str(run_dir)])
        assert "newer harness" in errors, errors
    assert rendered == (isinstance(document, dict) and version == 1 and version is not True)


def _set(document: Any, path: tuple[Any, ...], new: Any, delete: bool = False) -> None:
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new


FIXTURE_PATHS = [p for p in _paths(FIXTURE) if p != ("schema_version",)]


@fuzz(25)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(FIXTURE_PATHS), st.sampled_from(["delete", "null"])),
        min_size=1,
        max_size=6,
    )
)
@example(edits=[(("cells",), "delete")])
@example(edits=[(("run",), "null"), (("bases",), "null")])
@example(edits=[(("bases", 2, "name"), "delete")])
@example(edits=[(("bases", 2, "name"), "null")])
def test_report_missing_or_null_fields(run_dir: Path, edits: list[Any]) -> None:
    """A schema_version-1 file with parts missing (or null): a report, or a clean exit 2."""
    document = copy.deepcopy(FIXTURE)
    for path, operation in edits:
        with contextlib.suppress(KeyError, IndexError, TypeError):  # gone with an earlier edit
            # null only for fields: a null list item is a wrong type (the tests below)
            _set(document, path, None, delete=operation == "delete" or isinstance(path[-1], int))
    check_results_file(run_dir, json.dumps(document).encode())


@fuzz(40)
@given(edits=st.lists(st.tuples(st.sampled_from(FIXTURE_PATHS), values), min_size=1, max_size=4))
@example(edits=[(("bases", 1, "image_id"), True)])
def test_report_wrong_types_in_a_v1_file(run_dir: Path, edits: list[Any]) -> None:
    """A schema_version-1 file whose fields have the wrong JSON types: exit 2 or a report."""
    document = copy.deepcopy(FIXTURE)
    for path, new in edits:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(document, path, new)
    check_results_file(run_dir, json.dumps(document).encode())


Edit = Callable[[dict[str, Any]], None]
# Structurally odd schema_version-1 files that crashed `harness report` before 90fb97a.
WRONG_CONTAINERS: list[tuple[str, Edit]] = [
    ("cells is an object", lambda d: d.update(cells={"a": 1})),
    ("cells is a number", lambda d: d.update(cells=5)),
    ("a cell is a number", lambda d: d["cells"].__setitem__(0, 1)),
    ("run is a list", lambda d: d.update(run=[1])),
    ("bases is a string", lambda d: d.update(bases="abc")),
    ("a depset is a number", lambda d: d["depsets"].__setitem__(0, 1)),
    ("steps is a string", lambda d: d["cells"][0].update(steps="abc")),
    ("a step is a number", lambda d: d["cells"][0].update(steps=[1])),
    ("probes is a list", lambda d: d["cells"][0].update(probes=[1])),
    ("repeat is text", lambda d: d["cells"][0].update(repeat="x")),
    ("a distribution is a number", lambda d: d["cells"][0].update(distributions=[1])),
    ("id is a list", lambda d: d["cells"][0].update(id=["a"])),
]
# ...and ones that still crash it: fields inside `run` and scalar fields are not checked.
FORMERLY_CRASHING: list[tuple[str, Edit]] = [
    ("run.warnings is a number", lambda d: d["run"].update(warnings=5)),
    ("a base's image_id is true", lambda d: d["bases"][1].update(image_id=True)),
    ("the run id is true", lambda d: d["run"].update(id=True)),
    ("a base's status is a list", lambda d: d["bases"][0].update(status=["available"])),
]


def _odd(edit: Edit) -> bytes:
    document = copy.deepcopy(FIXTURE)
    edit(document)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "edit", [e for _, e in WRONG_CONTAINERS], ids=[n for n, _ in WRONG_CONTAINERS]
)
def test_report_wrong_containers(run_dir: Path, edit: Edit) -> None:
    assert not check_results_file(run_dir, _odd(edit))  # exit 2, naming the key


@pytest.mark.parametrize(
    "edit", [e for _, e in FORMERLY_CRASHING], ids=[n for n, _ in FORMERLY_CRASHING]
)
def test_report_wrong_types_formerly_crashing(run_dir: Path, edit: Edit) -> None:
    check_results_file(run_dir, _odd(edit))


@pytest.mark.parametrize(
    "content",
    [
        b'{"schema_version": 1' + b"0" * 5000 + b"}",
        b'{"schema_version": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["huge-integer", "deep-nesting"],
)
def test_report_json_extremes(run_dir: Path, content: bytes) -> None:
    """json.loads' ValueError and RecursionError: exit 2 (fixed in 90fb97a)."""
    assert not check_results_file(run_dir, content)


# --- every mistake at once (issue 23, "One error contract") ------------------------------

# A mistake a user makes: the key path it is put at, the value, and the key path the error
# must name (a misspelled key is named as written).
MISTAKES: dict[str, tuple[tuple[Any, ...], Any, str]] = {
    "misspelled setting": (("settings", "memroy"), "1g", "settings.memroy"),
    "memory: lots": (("settings", "memory"), "lots", "settings.memory"),
    "suite typo": (
        ("bases", "py311", "standin", "debootstrap", "suite"),
        "bookwrom",
        "bases.py311.standin.debootstrap.suite",
    ),
    "python the suite lacks": (
        ("bases", "deb", "debootstrap", "python"),
        "3.12",
        "bases.deb.debootstrap.python",
    ),
    "huge timeout": (("settings", "pull_timeout"), 10**9, "settings.pull_timeout"),
    "cpus in words": (("settings", "cpus"), "many", "settings.cpus"),
    "misspelled depset key": (("depsets", "tiny", "pipp"), ["six"], "depsets.tiny.pipp"),
    "override memory": (("cells", "overrides", 0, "memory"), "2 gigs", "cells.overrides.0.memory"),
}


@fuzz(40)
@given(chosen=st.lists(st.sampled_from(sorted(MISTAKES)), min_size=1, unique=True))
def test_every_mistake_is_listed_at_once_with_its_line(matrix_dir: Path, chosen: list[str]) -> None:
    document = copy.deepcopy(VALID)
    for name in chosen:
        at, value, _ = MISTAKES[name]
        parent: Any = document
        for key in at[:-1]:
            parent = parent[key]
        parent[at[-1]] = value
    text = yaml.safe_dump(document, sort_keys=False)
    path = write_matrix(matrix_dir, text)
    with pytest.raises(ConfigurationError) as caught:
        load_matrix(path)
    problems = caught.value.problems
    assert sorted(str(p.key) for p in problems) == sorted(MISTAKES[n][2] for n in chosen)
    lines = text.splitlines()
    for problem in problems:
        assert problem.file == str(path) and problem.line is not None and problem.fix
        last = str(problem.key).rsplit(".", 1)[-1]
        assert last in lines[problem.line - 1] or last.isdigit(), (problem.what, text)
    code, _, errors = run_cli(["validate", str(path)])
    assert code == 2 and errors.count("harness: error: ") == len(chosen)
    assert errors.count("\nfix: ") == len(chosen) and "Traceback" not in errors
