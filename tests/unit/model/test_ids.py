"""Cell ids with an installer: one form, valid in every name made from it."""

from __future__ import annotations

import re

import pytest

from harness.model.ids import (
    cell_anchor,
    cell_id,
    container_name,
    installer_of,
    installer_step,
    parse_cell_id,
    split_cell_id,
)
from harness.store.files import result_file_name

DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def test_pip_cells_keep_their_ids_and_uv_cells_add_plus_uv() -> None:
    assert cell_id("py311-slim", "spacy") == "py311-slim×spacy"
    assert cell_id("py311-slim", "spacy", "pip") == "py311-slim×spacy"
    assert cell_id("py311-slim", "spacy", "uv") == "py311-slim×spacy+uv"


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_an_id_splits_back(installer: str) -> None:
    value = cell_id("py3.11_slim", "torch-cpu", installer)
    assert parse_cell_id(value) == ("py3.11_slim", "torch-cpu", installer)
    assert split_cell_id(value) == ("py3.11_slim", "torch-cpu")
    assert installer_of(value) == installer


def test_malformed_ids_are_refused() -> None:
    for value in ("no-cross", "a×b+"):
        with pytest.raises(ValueError, match="not a cell id"):
            parse_cell_id(value)


def test_uv_ids_stay_valid_and_distinct_in_docker_names_files_and_anchors() -> None:
    uv = cell_id("py311-slim", "spacy", "uv")
    # A depset may be called "spacy-uv": its names must not collide with spacy's uv cell.
    lookalike = cell_id("py311-slim", "spacy-uv")
    name = container_name("20261201-101500-ab12cd", uv, 0)
    assert DOCKER_NAME.match(name) and name.endswith("py311-slim_x_spacy_with_uv-r0")
    assert container_name("r", uv, 0) != container_name("r", lookalike, 0)
    assert result_file_name(uv, 1) == "py311-slim_x_spacy_with_uv.r1.json"
    assert result_file_name(uv, 0) != result_file_name(lookalike, 0)
    assert cell_anchor(uv) == "cell-py311-slim_x_spacy_with_uv" != cell_anchor(lookalike)


def test_installer_steps() -> None:
    assert installer_step("pip") == "pip-install"
    assert installer_step("uv") == "uv-install"


def test_pytest_keyword_expressions_accept_uv_ids() -> None:
    """`-k "spacy+uv"` must parse: pytest's expression idents allow '+', not '×'."""
    from _pytest.mark.expression import Expression

    names = {"py311-slim×spacy+uv", "uv"}
    matched = Expression.compile("py311 and spacy+uv").evaluate(
        lambda word, /, **_: any(word in n for n in names)
    )
    assert matched
