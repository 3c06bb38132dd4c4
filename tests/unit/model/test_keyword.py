"""-k over cell ids: the same answers as pytest's own -k, and syntax errors as exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _pytest.mark.expression import Expression  # only to check ours agrees with pytest's

from harness.model.errors import ConfigurationError
from harness.model.keyword import KeywordExpression
from harness.model.matrix import load_matrix

ROOT = Path(__file__).resolve().parents[3]
EXPRESSIONS = [
    "py311",
    "py311 and spacy",
    "not ffmpeg",
    "(py311 or py313) and not (torch or whisper)",
    "slim and not alpine or spacy",
    "SPACY",
    "matrix",
    "not not tiny",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_selection_agrees_with_pytest_k(text: str) -> None:
    matrix = load_matrix(ROOT / "matrix.yaml")
    theirs = Expression.compile(text)
    for cell in matrix.cells:
        subject = f"{cell.id} {matrix.path.name}".lower()

        def matcher(name: str, /, **_kwargs: Any) -> bool:
            return name.lower() in subject  # noqa: B023 - evaluated right away

        assert KeywordExpression.compile(text).matches_text(subject) == theirs.evaluate(matcher)


def test_matrix_select_is_the_selection() -> None:
    matrix = load_matrix(ROOT / "matrix.yaml")
    assert matrix.select(None) == matrix.cells
    assert {c.id for c in matrix.select("py311 and spacy")} == {"py311-slim×spacy"}


@pytest.mark.parametrize(
    "text", ["py311 and", "(py311", "py311)", "and", "not", "a or or b", "a, b"]
)
def test_a_syntax_error_is_exit_2_with_the_fix(text: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        KeywordExpression.compile(text)
    assert caught.value.exit_code == 2 and "-k" in str(caught.value) and caught.value.fix
