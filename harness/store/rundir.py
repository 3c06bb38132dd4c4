"""Read results.json, the contract between a run and everything that reads it.

Only the envelope is checked here (a JSON object with a known ``schema_version``):
readers such as the report tolerate missing optional keys, so a partial but
well-formed file still renders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.model.errors import ResultsError

SCHEMA_VERSION = 1

_RERUN = "run the matrix again (`harness run`) to write a complete results.json"


def load_results(path: Path) -> dict[str, Any]:
    """Return the parsed results of one run, or raise ResultsError saying what to do."""
    data = _parse(path, _read_text(path))
    if not isinstance(data, dict):
        raise ResultsError(
            f"{path}: expected a JSON object at the top level, found {type(data).__name__}",
            f"point at a harness results.json, or {_RERUN}",
        )
    _check_version(path, data.get("schema_version"))
    _check_shape(path, data)
    return data


class _Open(BaseModel):
    # strict: the readers use the raw JSON, so "1" must not pass for a number here
    model_config = ConfigDict(extra="allow", strict=True)


Text = str | None
Number = float | None


class _Step(_Open):
    name: str
    kind: Text = None
    status: Text = None
    seconds: Number = None
    exit_code: int | None = None
    command: Text = None
    network: Text = None
    log_tail: Text = None
    reason: Text = None
    error: Text = None
    failure_kind: Text = None


class _Distribution(_Open):
    name: Text = None
    version: Text = None
    tag: Text = None
    source: Text = None
    wheel: bool | None = None
    requested: bool | None = None
    build_seconds: Number = None


class _Cell(_Open):
    id: str
    base: str
    depset: str
    status: Text = None
    reason: Text = None
    repeat: int = 0
    seconds: Number = None
    started_at: Text = None
    ended_at: Text = None
    container: Text = None
    package_manager: Text = None
    standin: Text = None
    environment_limit: Text = None
    download_bytes: Number = None
    size_added_bytes: Number = None
    steps: list[_Step] = []
    distributions: list[_Distribution] = []
    probes: dict[str, dict[str, Any]] = {}
    expected_failure: dict[str, Any] | None = None
    reproducer: dict[str, Any] | None = None


class _Named(_Open):
    name: str


class _Base(_Named):
    reference: Text = None
    kind: Text = None
    standin: Text = None
    status: Text = None
    reason: Text = None
    image: Text = None
    image_id: Text = None
    digest: Text = None
    os: Text = None
    python: Text = None
    libc: dict[str, Any] | None = None
    size_bytes: Number = None
    build_seconds: Number = None


class _Depset(_Named):
    system: dict[str, list[str] | None] | None = None
    pip: list[str] | None = None
    probes: list[str] | None = None


class _Run(_Open):
    id: Text = None
    started_at: Text = None
    ended_at: Text = None
    harness_version: Text = None
    jobs: int | None = None
    repeat: int | None = None
    registry_reachable: bool | None = None
    warnings: list[Any] | None = None
    host: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None
    matrix: dict[str, Any] | None = None


class _Shape(_Open):
    """The types of the fields readers use; every other key is free (extend, don't break)."""

    run: _Run
    bases: list[_Base] = []
    depsets: list[_Depset] = []
    cells: list[_Cell] = []


def _check_shape(path: Path, data: dict[str, Any]) -> None:
    try:
        _Shape.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ResultsError(
            f"{path}: {where}: {first['msg']} (not the shape of a harness results.json)",
            f"point at a results.json written by `harness run`, or {_RERUN}",
        ) from None


def _read_text(path: Path) -> str:
    if not path.exists():
        raise ResultsError(
            f"{path}: results file not found",
            f"pass the directory of a finished run (it holds results.json), or {_RERUN}",
        )
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: cannot read the results file ({err})", _RERUN) from err


def _parse(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ResultsError(f"{path}: JSON nested too deeply to be a results file", _RERUN) from None
    except json.JSONDecodeError as err:
        # An interrupted run is the usual cause: say so, since the fix differs
        # from a hand-edited file.
        raise ResultsError(
            f"{path}: not valid JSON at line {err.lineno} column {err.colno} ({err.msg}); "
            "the file is probably truncated (interrupted run or full disk)",
            _RERUN,
        ) from err
    except ValueError as err:  # e.g. an integer longer than Python will parse
        raise ResultsError(f"{path}: not a results file: {err}", _RERUN) from None


def _check_version(path: Path, version: Any) -> None:
    if version == SCHEMA_VERSION and not isinstance(version, bool):
        return
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: schema_version {version} was written by a newer harness "
            f"(this one reads schema_version {SCHEMA_VERSION})",
            "upgrade harness (pip install -U harness) and run the command again",
        )
    raise ResultsError(
        f"{path}: schema_version is {version!r}, expected {SCHEMA_VERSION}; "
        "this is not a results.json this harness understands",
        f"point at a harness results.json, or {_RERUN}",
    )
