"""Read results.json, the contract between a run and everything that reads it.

Only the envelope is checked here (a JSON object with a known ``schema_version``):
readers such as the report tolerate missing optional keys, so a partial but
well-formed file still renders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.model.errors import ResultsError
from harness.model.records import RERUN, validate_shape


def load_results(path: Path) -> dict[str, Any]:
    """Return the parsed results of one run, or raise ResultsError saying what to do."""
    data = _parse(path, _read_text(path))
    if not isinstance(data, dict):
        raise ResultsError(
            f"{path}: expected a JSON object at the top level, found {type(data).__name__}",
            f"point at a harness results.json, or {RERUN}",
        )
    validate_shape(data, str(path))
    return data


def _read_text(path: Path) -> str:
    if not path.exists():
        raise ResultsError(
            f"{path}: results file not found",
            f"pass the directory of a finished run (it holds results.json), or {RERUN}",
        )
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: cannot read the results file ({err})", RERUN) from err


def _parse(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ResultsError(f"{path}: JSON nested too deeply to be a results file", RERUN) from None
    except json.JSONDecodeError as err:
        # An interrupted run is the usual cause: say so, since the fix differs
        # from a hand-edited file.
        raise ResultsError(
            f"{path}: not valid JSON at line {err.lineno} column {err.colno} ({err.msg}); "
            "the file is probably truncated (interrupted run or full disk)",
            RERUN,
        ) from err
    except ValueError as err:  # e.g. an integer longer than Python will parse
        raise ResultsError(f"{path}: not a results file: {err}", RERUN) from None
