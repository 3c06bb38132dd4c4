"""One error contract: every exit-2 error reads `harness: error: FILE:LINE: KEY: what`
then `fix: …`, whether it comes from a matrix, a flag or argparse; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.entry import main
from harness.model.errors import ConfigurationError, FatalError


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.splitlines()


def test_the_format_has_the_parts_that_are_known() -> None:
    err = ConfigurationError("bad", "do this", file="m.yaml", line=3, key="settings.jobs")
    assert err.what == "m.yaml:3: settings.jobs: bad"
    assert err.render() == "harness: error: m.yaml:3: settings.jobs: bad\nfix: do this"
    assert ConfigurationError("bad", key="--jobs").render() == "harness: error: --jobs: bad"
    assert ConfigurationError("bad", "x", file="m.yaml").what == "m.yaml: bad"
    assert str(err) == "m.yaml:3: settings.jobs: bad\nfix: do this"


def test_several_problems_render_one_after_the_other() -> None:
    first = ConfigurationError("one", "fix one", file="m.yaml", line=1, key="a")
    second = ConfigurationError("two", "fix two", file="m.yaml", line=2, key="b")
    both = ConfigurationError.of([first, second])
    assert both.exit_code == 2 and both.problems == (first, second)
    assert both.render().splitlines() == [
        "harness: error: m.yaml:1: a: one",
        "fix: fix one",
        "harness: error: m.yaml:2: b: two",
        "fix: fix two",
    ]
    assert ConfigurationError.of([first]) is first


@pytest.mark.parametrize(
    ("argv", "head", "fix"),
    [
        (["run", "--jobs", "x"], "harness: error: --jobs: invalid int value: 'x'", "harness run"),
        (["rn"], "harness: error: command: invalid choice: 'rn'", "did you mean 'run'?"),
        (["validate", "a", "b"], "harness: error: b: unrecognized argument(s)", "--help"),
        # A misspelled option: the command's own help, and the option it resembles.
        (
            ["run", "--jbos", "2", "m.yaml"],
            "harness: error: --jbos: unrecognized argument(s)",
            "did you mean --jobs? see `harness run --help`",
        ),
        (
            ["adr", "r", "--candidate", "a", "b"],
            "harness: error: b: unrecognized",
            "see `harness adr --help`",
        ),
        (["report"], "harness: error: the following arguments are required: dir", "report"),
    ],
)
def test_usage_errors_are_exit_2_in_the_one_format(
    argv: list[str], head: str, fix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(argv, capsys)
    assert code == 2
    assert lines[0].startswith(head), lines
    assert lines[1].startswith("fix: ") and fix in lines[1] and len(lines) == 2


def test_a_keyword_typo_is_in_the_one_format(capsys: pytest.CaptureFixture[str]) -> None:
    matrix = Path(__file__).resolve().parents[3] / "matrix.yaml"
    code, lines = run(["run", str(matrix), "-k", "py311 and"], capsys)
    assert code == 2
    assert lines == [
        "harness: error: -k 'py311 and': the expression ends too early",
        "fix: write words joined by and / or / not, with parentheses, "
        "e.g. -k 'py311 and not spacy'",
    ]


def test_a_fatal_error_keeps_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Engine(FatalError):
        exit_code = 3

    def fail(_args: object) -> int:
        raise Engine("no engine", "start docker")

    monkeypatch.setattr("harness.cli.entry.cmd_validate", fail)
    code, lines = run(["validate"], capsys)
    assert (code, lines) == (3, ["harness: error: no engine", "fix: start docker"])


def test_a_missing_matrix_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(["validate", "/nonexistent/m.yaml"], capsys)
    assert code == 2 and lines[0] == "harness: error: /nonexistent/m.yaml: no such matrix file"


def test_harness_sweep_passes_its_run_and_counts_containers_and_images(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.engine import client as engine

    asked: list[dict[str, object]] = []

    def sweep(_client: object, **kwargs: object) -> engine.Swept:
        asked.append(kwargs)
        return engine.Swept(["c1"], ["i1", "i2"])

    monkeypatch.setattr(engine, "connect", lambda *_a, **_k: object())
    monkeypatch.setattr(engine, "sweep_dead_runs", sweep)
    assert main(["sweep", "--run", "r9"]) == 0
    assert main(["sweep"]) == 0
    assert asked == [
        {"include_kept": True, "run_id": "r9"},
        {"include_kept": True, "run_id": None},
    ]
    assert capsys.readouterr().out.splitlines()[0] == "removed 1 container(s) and 2 image(s)"
