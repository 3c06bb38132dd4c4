"""results.json's contract: its version, and the types of every field a reader uses.

One ``SCHEMA_VERSION`` for the writer (run/results.py) and every reader. Files are
validated once, on load (store/rundir.py), so documents can trust what they read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.model.errors import ResultsError

SCHEMA_VERSION = 1
RERUN = "run the matrix again (`harness run`) to write a complete results.json"


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
    bytes_added: Number = None  # install steps: the writable layer's growth over the step


class _Distribution(_Open):
    name: str
    version: Text = None
    tag: Text = None
    source: Text = None
    wheel: bool | None = None
    requested: bool | None = None
    build_seconds: Number = None


class _Reproducer(_Open):
    dockerfile: Text = None
    commands: list[str] | None = None


class _Cell(_Open):
    id: str
    base: str
    depset: str
    status: str  # every reader groups and colours cells by it
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
    size_start_bytes: Number = None  # the fresh container's layer, before any step
    size_probes_bytes: Number = None  # written after the last install step
    size_measure_seconds: Number = None
    steps: list[_Step] = []
    distributions: list[_Distribution] = []
    probes: dict[str, dict[str, Any]] = {}
    expected_failure: dict[str, Any] | None = None
    reproducer: _Reproducer | None = None
    preflight: dict[str, Any] | None = None
    preflight_mismatches: list[dict[str, Any]] | None = None
    installer: dict[str, Any] | None = None  # {name: pip|uv, version, ...}


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
    origin: Text = None
    pulled_reference: Text = None
    os: Text = None
    python: Text = None
    libc: dict[str, Any] | None = None
    size_bytes: Number = None
    build_seconds: Number = None
    interpreter_speed: dict[str, Any] | None = None


class _Depset(_Named):
    system: dict[str, list[str] | None] | None = None
    pip: list[str] | None = None
    pip_args: list[str] | None = None
    imports: list[str] | None = None
    probes: list[str] | None = None


class _MatrixIdentity(_Open):
    path: Text = None
    sha256: Text = None


class _Run(_Open):
    id: Text = None
    started_at: Text = None
    ended_at: Text = None
    harness_version: Text = None
    jobs: int | None = None
    repeat: int | None = None
    registry_reachable: bool | None = None
    registry_mirror: Text = None
    registries: dict[str, Any] | None = None
    warnings: list[Any] | None = None
    host: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None
    matrix: _MatrixIdentity | None = None
    installers: dict[str, Any] | None = None  # {"uv": {machine: binary facts or reason}}


class _Scan(_Open):
    """One SBOM's vulnerability scan, or (``scanned`` false) why there is none."""

    scanned: bool
    scanner: Text = None
    scanner_version: Text = None
    db_built: Text = None
    by_severity: dict[str, int] | None = None
    fixable: int | None = None
    total: int | None = None
    reason: Text = None


class _SbomEntry(_Open):
    path: str
    kind: str  # "base" or "cell"
    subject: str  # the base's name or the cell's id
    cell: Text = None
    repeat: int | None = None
    components: int | None = None
    valid: bool | None = None
    errors: list[str] | None = None
    vulnerabilities: _Scan | None = None


class _Sboms(_Open):
    """Written by publishing: every SBOM of the run, and the scanner that read them."""

    scanner: dict[str, Any] | None = None
    sboms: list[_SbomEntry] = []


class _Shape(_Open):
    """The types of the fields readers use; every other key is free (extend, don't break)."""

    run: _Run
    bases: list[_Base] = []
    depsets: list[_Depset] = []
    cells: list[_Cell] = []
    sboms: _Sboms | None = None


def validate_shape(data: dict[str, Any], source: str) -> None:
    """Check the schema version and the types of every field a reader uses, or raise
    ResultsError naming ``source`` and the JSON path of the first bad field."""
    _check_version(source, data.get("schema_version"))
    try:
        _Shape.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = json_path(first["loc"])
        raise ResultsError(
            f"{source}: {where}: {first['msg']} (not the shape of a harness results.json)",
            f"point at a results.json written by `harness run`, or {RERUN}",
        ) from None


def is_cell_record(record: Any) -> bool:
    """Is ``record`` one cell of results.json (a cell file a resume may keep)?"""
    if not isinstance(record, dict):
        return False
    try:
        _Cell.model_validate(record)
    except ValidationError:
        return False
    return True


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("cells", 3, "status")`` → ``$.cells[3].status``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def check_schema(results: Mapping[str, Any]) -> None:
    """Refuse an in-memory results dict this code does not understand, instead of
    misreading it (documents call this; files are checked on load by validate_shape)."""
    _check_version("results", results.get("schema_version"))


def _check_version(source: str, version: Any) -> None:
    if version == SCHEMA_VERSION and not isinstance(version, bool):
        return
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ResultsError(
            f"{source}: schema_version {version} was written by a newer harness "
            f"(this one reads schema_version {SCHEMA_VERSION})",
            "upgrade harness (pip install -U harness) and run the command again",
        )
    raise ResultsError(
        f"{source}: schema_version is {version!r}, expected {SCHEMA_VERSION}; "
        "this is not a results.json this harness understands",
        f"point at a harness results.json, or {RERUN}",
    )
