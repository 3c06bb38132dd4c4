"""matrix.yaml's decision block: defaults that mirror how the choice is argued, and every
mistake in it reported in the one format (file, line, key, fix)."""

from __future__ import annotations

from pathlib import Path

from harness.model.matrix import MUST_DRIVERS, PREFERRED_DRIVERS, load_matrix
from tests.unit.builders import matrix_problems as problems_of
from tests.unit.builders import write_matrix as write

MINIMAL = """\
version: 1
bases:
  a: {image: "python:3.11-slim"}
  b: {image: "python:3.13-slim"}
depsets:
  one: {pip: [six]}
"""


def test_defaults_everything_must_pass_then_vulnerabilities_size_speed(tmp_path: Path) -> None:
    decision = load_matrix(write(tmp_path, MINIMAL)).spec.decision
    assert decision.baseline is None  # the documents take the first base
    assert decision.must == list(MUST_DRIVERS) == ["compatibility", "tests"]
    assert decision.prefer == list(PREFERRED_DRIVERS) == ["vulnerabilities", "size", "speed"]
    assert decision.max_critical == 0 and decision.max_high is None


def test_a_block_is_read_as_written(tmp_path: Path) -> None:
    text = (
        MINIMAL + "decision:\n  baseline: b\n  must: [compatibility, support]\n  prefer: [speed]\n"
    )
    decision = load_matrix(write(tmp_path, text)).spec.decision
    assert (decision.baseline, decision.must, decision.prefer) == (
        "b",
        ["compatibility", "support"],
        ["speed"],
    )


def test_mistakes_name_the_line_the_key_and_the_fix(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + "decision:\n  baseline: c\n  must: [compatibility, speedy]\n  prefer: [size, size]\n"
    )
    problems = problems_of(tmp_path, text)
    found = {(p.line, p.key): str(p.fix) for p in problems}
    assert "did you mean 'speed'?" in found[(9, "decision.must.1")]
    assert found[(10, "decision.prefer")] == "name each driver once"


def test_an_unknown_baseline_is_named_with_the_bases_to_choose_from(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, MINIMAL + "decision:\n  baseline: c\n")
    assert (problem.line, problem.key) == (8, "decision.baseline")
    assert "name a base of this matrix (a, b)" in str(problem.fix)
