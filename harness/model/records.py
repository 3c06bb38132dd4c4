"""Compatibility names for results.json's contract, which lives in model/results.py.

Kept while readers move to the typed ``Results``: ``validate_shape`` and ``check_schema``
are the old entry points, now answered by the types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from harness.model.results import (
    RERUN,
    SCHEMA_VERSION,
    CellRecord,
    Results,
    check_version,
    json_path,
)

__all__ = [
    "RERUN",
    "SCHEMA_VERSION",
    "check_schema",
    "is_cell_record",
    "json_path",
    "validate_shape",
]


def validate_shape(data: Mapping[str, object], source: str) -> None:
    """Check the schema version and the types of every field (nested probe outputs
    included), or raise ResultsError naming ``source`` and the JSON path of the first
    bad field."""
    Results.from_json_data(data, source)


def is_cell_record(record: Any) -> bool:
    """Is ``record`` one cell of results.json (a cell file a resume may keep)?"""
    if not isinstance(record, dict):
        return False
    try:
        CellRecord.model_validate(record)
    except ValidationError:
        return False
    return True


def check_schema(results: Mapping[str, object] | Results) -> None:
    """Refuse an in-memory results dict this code does not understand, instead of
    misreading it (documents call this; files are checked on load)."""
    if isinstance(results, Results):
        check_version("results", results.schema_version)
        return
    check_version("results", results.get("schema_version"))
