"""The error contract of a matrix: every problem at once, each with its file, line, key and
fix; values the engine or Debian's archive would refuse later are refused at load."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.cli.entry import main
from harness.model.errors import ConfigurationError
from harness.model.matrix import MAX_TIMEOUT, PROBES_DIR, load_matrix, memory_bytes
from tests.unit.builders import matrix_problems as problems_of
from tests.unit.builders import write_matrix as write

HEAD = """version: 1
bases:
  a:
    image: "python:3.11-slim"
    standin:
      debootstrap: {suite: bookworm, python: "3.11"}
depsets:
  one: {pip: [six]}
"""

THREE_MISTAKES = """version: 1
settings:
  jobs: 2
  memroy: 4g
  memory: lots
bases:
  py311-slim:
    image: "python:3.11-slim"
    standin:
      debootstrap: {suite: bookwrom, python: "3.11"}
depsets:
  six: {pip: [six]}
"""


def test_three_mistakes_are_listed_at_once_with_lines_keys_and_fixes(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, THREE_MISTAKES)
    path = str(tmp_path / "m.yaml")
    assert [(p.file, p.line, p.key) for p in problems] == [
        (path, 4, "settings.memroy"),
        (path, 5, "settings.memory"),
        (path, 10, "bases.py311-slim.standin.debootstrap.suite"),
    ]
    assert problems[0].fix == "did you mean 'memory'?"
    assert "'lots' is not a memory size" in problems[1].message
    assert "did you mean 'bookworm'?" in str(problems[2].fix)
    assert "trixie" in str(problems[2].fix) and "stable" in str(problems[2].fix)


def test_validate_prints_every_problem_in_the_one_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, THREE_MISTAKES)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0::2] == [
        f"harness: error: {path}:4: settings.memroy: unknown key",
        f"harness: error: {path}:5: settings.memory: 'lots' is not a memory size",
        f"harness: error: {path}:10: bases.py311-slim.standin.debootstrap.suite: "
        "'bookwrom' is not a Debian suite",
    ]
    assert all(line.startswith("fix: ") for line in lines[1::2]) and len(lines) == 6
    assert "Traceback" not in err


def test_run_refuses_the_same_matrix_before_writing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, THREE_MISTAKES)
    main(["validate", str(path)])
    validate_err = capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert capsys.readouterr().err == validate_err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.yaml"]


@pytest.mark.parametrize("value", ["512m", "6g", "6G", "6gb", "1.5g", "7000k", "6m", "null"])
def test_memory_sizes_the_engine_takes_load(tmp_path: Path, value: str) -> None:
    load_matrix(write(tmp_path, HEAD + f"settings: {{memory: {value}}}\n"))


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("lots", "not a memory size"),
        ("6 g", "not a memory size"),
        ("-1g", "not a memory size"),
        ("6t", "not a memory size"),
        ("512k", "under 6 MiB"),
        ("'0'", "under 6 MiB"),
    ],
)
def test_memory_sizes_the_engine_refuses_are_exit_2_at_load(
    tmp_path: Path, value: str, words: str
) -> None:
    for text in (
        HEAD + f"settings: {{memory: {value}}}\n",
        HEAD + f"cells: {{overrides: [{{depset: one, memory: {value}}}]}}\n",
    ):
        (problem,) = problems_of(tmp_path, text)
        assert words in problem.message and "512m" in str(problem.fix)
        assert str(problem.key).endswith("memory") and problem.line is not None


def test_memory_bytes_reads_docker_units() -> None:
    assert memory_bytes("6g") == 6 << 30 and memory_bytes("512m") == 512 << 20
    assert memory_bytes("1.5g") == 3 << 29


@pytest.mark.parametrize("value", ["two", "0", "0.001", "-1"])
def test_cpus_the_engine_refuses_are_exit_2_at_load(tmp_path: Path, value: str) -> None:
    (problem,) = problems_of(tmp_path, HEAD + f"settings: {{cpus: {value}}}\n")
    assert problem.key == "settings.cpus" and problem.fix


@pytest.mark.parametrize("key", ["timeout", "install_timeout", "probe_timeout", "pull_timeout"])
@pytest.mark.parametrize("value", ["0", "-5", "1e9", ".inf", ".nan", "soon"])
def test_timeouts_are_positive_and_bounded(tmp_path: Path, key: str, value: str) -> None:
    (problem,) = problems_of(tmp_path, HEAD + f"settings: {{{key}: {value}}}\n")
    assert problem.key == f"settings.{key}" and problem.line == 9 and problem.fix


def test_a_day_is_the_longest_timeout(tmp_path: Path) -> None:
    text = HEAD.replace("{pip: [six]}", f"{{pip: [six], install_timeout: {MAX_TIMEOUT:.0f}}}")
    assert load_matrix(write(tmp_path, text)).cells[0].timeouts.install == MAX_TIMEOUT
    (problem,) = problems_of(tmp_path, text.replace("install_timeout: 86400", "timeout: 86401"))
    assert problem.key == "depsets.one.timeout" and "86400" in str(problem.fix)


@pytest.mark.parametrize(
    ("suite", "python"),
    [
        ("bookworm", "3.11"),
        ("trixie", "3.13"),
        ("sid", "3.15"),
        ("stable", "3.13"),
        ("testing", "3.14"),
        ("bullseye", "3.9"),
        ("forky", "3.14"),
    ],
)
def test_known_debian_suites_load(tmp_path: Path, suite: str, python: str) -> None:
    text = HEAD.replace('suite: bookworm, python: "3.11"', f'suite: {suite}, python: "{python}"')
    load_matrix(write(tmp_path, text))


def test_a_misspelled_suite_is_exit_2_listing_the_known_suites(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, HEAD.replace("suite: bookworm", "suite: bokworm"))
    assert problem.line == 6 and problem.key == "bases.a.standin.debootstrap.suite"
    assert "'bokworm' is not a Debian suite" in problem.message
    assert str(problem.fix).startswith("did you mean 'bookworm'? use one of: bullseye, bookworm")


def test_a_suite_of_the_wrong_shape_or_on_no_mirror_is_refused(tmp_path: Path) -> None:
    for suite in ("Bookworm", "'book worm'", "jammy", "experimental"):
        (problem,) = problems_of(tmp_path, HEAD.replace("suite: bookworm", f"suite: {suite}"))
        assert "is not a Debian suite" in problem.message
    archived = HEAD.replace('suite: bookworm, python: "3.11"', 'suite: buster, python: "3.7"')
    (problem,) = problems_of(tmp_path, archived)
    assert "archive.debian.org" in problem.message and "mirror:" in str(problem.fix)
    with_mirror = archived.replace("}}", ", mirror: 'http://archive.debian.org/debian'}}")
    with_mirror = archived.replace(
        'python: "3.7"}', 'python: "3.7", mirror: "http://archive.debian.org/debian"}'
    )
    load_matrix(write(tmp_path, with_mirror))


def test_a_python_the_suite_does_not_ship_is_refused(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, HEAD.replace('python: "3.11"', 'python: "3.12"'))
    assert problem.key == "bases.a.standin.debootstrap.python"
    assert "bookworm ships Python 3.11, not 3.12" in problem.message


def test_a_misspelled_nested_key_gets_did_you_mean(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, HEAD.replace("one: {pip: [six]}", "one: {pipp: [six], improts: [six]}")
    )
    assert [(p.key, p.line, p.fix) for p in problems] == [
        ("depsets.one.improts", 8, "did you mean 'imports'?"),
        ("depsets.one.pipp", 8, "did you mean 'pip'?"),
    ] or [(p.key, p.fix) for p in problems] == [
        ("depsets.one.pipp", "did you mean 'pip'?"),
        ("depsets.one.improts", "did you mean 'imports'?"),
    ]
    (far,) = problems_of(tmp_path, HEAD + "cells: {zzz: []}\n")
    assert far.fix == "the keys here are: include, exclude, expected_failures, overrides"


def test_problems_after_the_shape_are_listed_together_too(tmp_path: Path) -> None:
    text = HEAD.replace("one: {pip: [six]}", "one: {pip: [six], probes: [smoke_fmpeg, nope]}")
    text += "cells: {exclude: [{base: b}]}\n"
    problems = problems_of(tmp_path, text)
    assert [p.key for p in problems] == [
        "depsets.one.probes.0",
        "depsets.one.probes.1",
        "cells.exclude.0.base",
    ]
    assert str(problems[0].fix).startswith("did you mean 'smoke_ffmpeg'?")


def test_fix_hints_never_send_the_user_into_the_installed_package(tmp_path: Path) -> None:
    problem = problems_of(tmp_path, HEAD.replace("[six]}", "[six], probes: [mine]}"))[0]
    assert "site-packages" not in str(problem.fix) and str(PROBES_DIR) not in str(problem.fix)
    assert "extra_probes_dir" in str(problem.fix)
    (tmp_path / "own").mkdir()
    text = HEAD.replace("[six]}", "[six], probes: [mine]}") + "settings: {extra_probes_dir: own}\n"
    assert f"add {tmp_path}/own/mine.py" in str(problems_of(tmp_path, text)[0].fix)


def test_no_fix_text_in_harness_points_into_the_installed_package() -> None:
    """Every fix given to an error (its second argument or fix=/hint=) is read from the
    source: none names site-packages or harness's own probes folder."""
    root = Path(__file__).resolve().parents[3] / "harness"
    checked = 0
    for source in root.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not ast.unparse(node.func).endswith("Error"):
                continue
            fixes = node.args[1:2] + [k.value for k in node.keywords if k.arg in ("fix", "hint")]
            for fix in fixes:
                text = ast.unparse(fix)
                checked += 1
                assert "site-packages" not in text and "PROBES_DIR" not in text, (source, text)
                assert "probes_dir" not in text, (source, text)
    assert checked > 50


def test_a_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, HEAD + "settings: {jobs: [1, 2}\n")
    assert problem.line == 9 and problem.message.startswith("not valid YAML")
    (duplicate,) = problems_of(tmp_path, HEAD + "  one: {pip: [x]}\n")
    assert duplicate.line == 9 and "duplicate key 'one'" in duplicate.message


def test_a_missing_key_points_at_its_mapping(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, HEAD + "cells: {expected_failures: [{base: a}]}\n")
    assert problem.key == "cells.expected_failures.0.reason" and problem.line == 9


def test_a_login_variable_not_set_is_located_in_the_matrix(tmp_path: Path) -> None:
    from harness.model.matrix import registry_login

    text = HEAD + (
        "settings:\n  registry_auth:\n"
        "    reg.example:5000: {username_env: REG_USER, password_env: REG_TOKEN}\n"
    )
    matrix = load_matrix(write(tmp_path, text))
    with pytest.raises(ConfigurationError) as caught:
        registry_login(matrix, "reg.example:5000", {"REG_USER": "me"})
    err = caught.value
    assert (err.line, err.key) == (11, "settings.registry_auth.reg.example:5000.password_env")
    assert err.message == "the environment variable REG_TOKEN is not set"
    assert registry_login(matrix, "reg.example:5000", {"REG_USER": "u", "REG_TOKEN": "t"}) == (
        "u",
        "t",
    )


def test_a_sound_depsets_files_and_probes_are_listed_with_a_shape_problem(tmp_path: Path) -> None:
    text = (
        HEAD.replace(
            "one: {pip: [six]}",
            "one: {pip: [six], requirements: [missing.txt], probes: [smoke_fmpeg]}\n"
            "  two: {pip: six, requirements: [also-missing.txt]}",
        )
        + "settings: {memory: lots}\n"
    )
    problems = problems_of(tmp_path, text)
    assert [(p.key, p.line) for p in problems] == [
        ("depsets.one.probes.0", 8),
        ("depsets.one.requirements.0", 8),
        ("depsets.two.pip", 9),  # two's shape is wrong: its files wait for the next run
        ("settings.memory", 10),
    ]
