"""results.json and cell files as types: one definition of what a run records.

Map (every type is a frozen pydantic model; ``Results`` alone reads and writes files)::

    Results                     results.json (schema_version 1)
    ├── run: RunInfo            id, times, jobs, host, engine, matrix, registries, load, ...
    │   ├── host: HostFacts     engine: EngineFacts     matrix: MatrixIdentity
    ├── bases: [BaseRecord]     one per matrix base: how it was had, its facts
    │   ├── libc: Libc
    │   ├── capabilities: Capabilities   (probes/capabilities.py: shell, pip, user, ...)
    │   └── interpreter_speed: InterpreterSpeed   (probes/pybench.py)
    │       └── startup / workloads: {name: Measurement}   build: BuildFlags
    ├── depsets: [DepsetRecord] the matrix's dependency sets, as written
    ├── cells: [CellRecord]     one per cell × repeat (also the content of cells/<id>.r<k>.json)
    │   ├── steps: [Step]       install and probe steps, in order (failure: PipFailure)
    │   ├── distributions: [Distribution]   what pip/uv installed
    │   ├── installer: Installer
    │   ├── probes: Probes      env: EnvProbe, imports: ImportsProbe (ImportTiming),
    │   │                       contents: ContentsProbe (os_packages: [OsPackage],
    │   │                       distributions: [InstalledDistribution], paths: PathTotals),
    │   │                       tests: TestsProbe (junit: JUnitSummary), smoke_*: ProbeOutput
    │   ├── preflight: Preflight (distributions: [PredictedDistribution], notes)
    │   ├── preflight_mismatches: [PreflightMismatch]
    │   ├── expected_failure: ExpectedFailure      reproducer: Reproducer
    └── sboms: Sboms            sboms: [SbomEntry] (vulnerabilities: Scan)

Decisions:

- **pydantic, frozen.** The file is JSON from disk or from another machine's shard: it
  must be validated, and pydantic gives the JSON path of a bad value for the exit-2
  message. ``strict=True`` so "1" never passes for a number and 1.0 never for a string.
- **Unknown keys are kept** (``extra="allow"``), read-only like every other field: a
  newer writer's field, a probe's extra output or a plugin's key survives a merge of
  shards and a round trip through this type; documents ignore what they do not know.
  Fields whose meaning is known are declared, so every value a reader uses is typed.
- **Non-finite numbers and lone surrogates are repaired, not refused** (``sanitize``):
  NaN/Infinity become null and the document's ``non_finite`` names the JSON path and
  the value; a lone UTF-16 surrogate becomes U+FFFD. Both carry nothing a document
  could show, harness never writes them, and refusing would throw away a whole run
  (hours of measurements) for one character of a captured log. Every other wrong value
  is refused: ResultsError (exit 2) with the file and the JSON path.
- ``to_dict()`` is the compatibility path for readers not converted yet: the JSON as
  plain dicts and lists, exactly what the file holds (unset defaults are left out).
- **Speed** (bench/results_io.py): reading uses pydantic's own JSON parser unless the
  text may need repair; writing uses pydantic's JSON writer unless the record needs
  repair. The contents probe's bulk rows (OsPackage, InstalledDistribution) are strict
  TypedDicts, not models: the same checks at half the cost, kept as plain dicts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Required, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from harness.model.errors import ResultsError
from harness.model.status import worst

SCHEMA_VERSION = 1
RERUN = "run the matrix again (`harness run`) to write a complete results.json"
REPLACEMENT = "\ufffd"
NON_FINITE_KEY = "non_finite"  # {JSON path: "nan" | "inf" | "-inf"}: the numbers nulled
TOO_DEEP_KEY = "too_deep"  # {JSON path: why}: values nested too deep, nulled on write
MAX_DEPTH = 180  # no writer nests past ~10; pydantic parses to 200 and dumps to ~250

Text = str | None
Number = float | None
Count = int | None


class Record(BaseModel):
    """Every type of the file: frozen, strict, unknown keys kept (see the module's notes)."""

    # ser_json_inf_nan="strings": pydantic's own JSON writer never writes a bare NaN, and
    # a quoted one sends ``to_json`` to the careful path, which nulls and names it.
    model_config = ConfigDict(frozen=True, extra="allow", strict=True, ser_json_inf_nan="strings")

    def to_json(self) -> str:
        """Strict JSON text (pydantic's writer, C speed), or, when the record holds what
        strict JSON cannot (NaN/Infinity, a lone surrogate, too deep a value), ``dumps``
        of ``to_dict()``, which repairs and names it."""
        try:
            text = self.model_dump_json(indent=1, exclude_unset=True, by_alias=True)
        except Exception:  # pydantic-core refuses a lone surrogate, a too deep value
            return dumps(self.to_dict())
        if '"NaN"' in text or "Infinity" in text or _too_deep(text):
            return dumps(self.to_dict())
        return text

    def to_dict(self) -> dict[str, object]:
        """The record as JSON-ready dicts and lists (unset defaults left out)."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, object], source: str = "record") -> Self:
        """Validate a record in memory, or raise ResultsError naming ``source`` and the
        path. (Text from a file goes through ``from_json``, which also repairs what
        strict JSON cannot hold; a writer calls ``sanitize`` on what it builds.)"""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise _refusal(source, err) from None

    @classmethod
    def _from_text(cls, text: str, source: str, check: Callable[[Any], None]) -> Self:
        """The fast path: pydantic's own JSON parser, when the text holds nothing to
        repair; else (or on any error, to say it well) json.loads, ``check`` (the
        top-level shape and version), ``sanitize`` and validation."""
        if not _needs_repair(text):
            try:
                found = cls.model_validate_json(text)
            except ValidationError:
                pass  # said below, after the version and shape checks
            else:
                check(found.model_dump(include={"schema_version"}) if found else None)
                return found
        data = parse_json(text, source)
        check(data)
        return cls.from_dict(sanitize(data, source), source)


# -- probe outputs ---------------------------------------------------------------------------


class Workload(Record):
    """A smoke probe's own throughput figure, repeated inside the probe (probes/_common.py
    ``workload``): e.g. MP3 encode ×realtime, a forward pass in ms, documents per second."""

    what: Text = None
    unit: Text = None
    values: list[Number] = []
    median: Number = None
    higher_is_better: bool | None = None


class ProbeOutput(Record):
    """What every probe prints (probes/_common.py): its status, error and time; a smoke
    probe's own facts are kept as extra keys."""

    status: Text = None
    error: Text = None
    seconds: Number = None
    offline: bool | None = None
    timings: dict[str, Number] | None = None  # smoke probes: {phase: seconds}
    # smoke probes: {module: probes/_common.py import_time, or its seconds alone}
    import_time: dict[str, ImportTiming | Number] | None = None
    workload: Workload | None = None  # smoke probes: their throughput, with repeats


class Libc(Record):
    family: Text = None
    version: Text = None
    source: Text = None


class EnvPython(Record):
    version: Text = None
    implementation: Text = None
    build: list[Text] | None = None
    compiler: Text = None
    executable: Text = None
    free_threaded: bool | None = None
    in_venv: bool | None = None
    prefix: Text = None  # sys.prefix: /usr for the distribution's own python
    base_prefix: Text = None


class WheelTags(Record):
    source: Text = None
    count: Count = None
    manylinux: Text = None
    musllinux: Text = None


class EnvProbe(ProbeOutput):
    """probes/env.py: the OS, libc, Python and wheel tags seen inside the container."""

    os_release: dict[str, Text] | None = None  # a key the file lacks is null (sid: VERSION_ID)
    libc: Libc | None = None
    python: EnvPython | None = None
    pip: dict[str, Text] | str | None = None  # older env probes: the version alone
    wheel_tags: WheelTags | None = None
    cpus: dict[str, Number] | int | None = None  # older env probes: os.cpu_count() alone
    machine: Text = None


class HeaviestImport(Record):
    """One module among the slowest to import (its own time, without its imports)."""

    module: Text = None
    self_seconds: Number = Field(None, alias="self")
    cumulative: Number = None
    seconds: Number = None


class ImportTiming(Record):
    module: Text = None
    seconds: Number = None
    runs: list[Number] | None = None
    wall_seconds: Number = None
    modules_imported: Count = None
    already_loaded: bool | None = None
    heaviest_self: list[HeaviestImport] | None = None
    error: Text = None


class ImportsProbe(ProbeOutput):
    """probes/imports.py: each import's median time over fresh interpreters."""

    runs_per_module: Count = None
    modules: dict[str, ImportTiming] | None = None
    failed_modules: list[Any] | None = None
    import_seconds: dict[str, Number] | None = None
    imports: dict[str, ImportTiming] | None = None  # older imports probes: ``modules``


# The two bulk lists of a cell (hundreds of rows each, the most of a 10,000-cell file) are
# TypedDicts: validated as strictly as the models, but kept as plain dicts, which halves
# the cost of loading and dumping them (measured: 400,000 rows, 3.3 s as models, 1.5 s).


class OsPackage(TypedDict, total=False):
    """One OS package (dpkg or apk database), as the contents probe read it."""

    __pydantic_config__ = ConfigDict(extra="allow", strict=True)  # type: ignore[misc]
    name: Required[str]
    version: Text
    architecture: Text
    installed_size_bytes: Count
    source: Text
    source_version: Text


class InstalledDistribution(TypedDict, total=False):
    """One .dist-info in the venv, as the contents probe read it."""

    __pydantic_config__ = ConfigDict(extra="allow", strict=True)  # type: ignore[misc]
    name: Text
    normalised_name: Text
    version: Text
    installer: Text
    requested: bool | None
    wheel_tags: list[str] | None
    wheel_generator: Text
    built_from_source: bool | None
    built_from_source_signal: Text
    direct_url: Text
    dist_info: Text
    size_bytes: Count  # its files' bytes on disk


class PathTotals(Record):
    """A folder's totals (walk_tree), or ``symlink_to`` for a symlinked folder."""

    bytes: Count = None
    files: Count = None
    dirs: Count = None
    symlinks: Count = None
    other: Count = None
    hardlinks_skipped: Count = None
    unreadable: Count = None
    other_device: Count = None
    truncated: bool | None = None
    symlink_to: Text = None


class ContentsProbe(ProbeOutput):
    """probes/contents.py: what the image is made of (the SBOMs are built from this)."""

    root: Text = None
    venv: Text = None
    size_rule: Text = None
    package_manager: Text = None
    os_packages: list[OsPackage] | None = None
    os_packages_installed_bytes: Count = None
    distributions: list[InstalledDistribution] | None = None
    paths: dict[str, PathTotals | None] | None = None


class FailingTest(Record):
    name: Text = None
    outcome: Text = None
    message: Text = None


class JUnitSummary(Record):
    """model/junit_report.py: the counts of a JUnit file and the first failing tests."""

    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failing: list[FailingTest] = []


class ArtifactFile(Record):
    path: str  # relative to the suite's folder and to ``Artifacts.folder``
    bytes: Count = None
    why: Text = None  # a file not copied: why (over the bound, not a regular file)


class Artifacts(Record):
    """What the suite wrote that ``tests.artifacts`` matched, copied into the run directory
    (run/artifacts.py), bounded in size."""

    folder: Text = None  # relative to the run directory: artifacts/<cell>.r<k>
    patterns: list[str] = []
    files: list[ArtifactFile] = []  # copied
    skipped: list[ArtifactFile] = []  # matched but not copied, with why
    total_bytes: Count = None
    limit_bytes: Count = None
    problem: Text = None  # nothing could be copied: why


class TestsProbe(ProbeOutput):
    """The depset's own test suite (run/project.py ``tests_outcome``)."""

    __test__ = False  # not a pytest class
    exit_code: Count = None
    command: Text = None
    junit: JUnitSummary | None = None
    junit_problem: Text = None
    artifacts: Artifacts | None = None  # tests.artifacts: what the suite wrote, kept


class Probes(Record):
    """``cells[].probes``: the known probes typed; any other (smoke_*, a user's probe from
    extra_probes_dir) is a ProbeOutput."""

    env: EnvProbe | None = None
    imports: ImportsProbe | None = None
    contents: ContentsProbe | None = None
    tests: TestsProbe | None = None
    __pydantic_extra__: dict[str, ProbeOutput | None] = Field(init=False)

    def get(self, name: str) -> ProbeOutput | None:
        """The output of the probe ``name`` (known or extra), or None when it did not run."""
        found = getattr(self, name, None) if name in type(self).model_fields else None
        if found is None and self.model_extra:
            found = self.model_extra.get(name)
        return found if isinstance(found, ProbeOutput) else None

    def names(self) -> list[str]:
        known = [n for n in type(self).model_fields if getattr(self, n) is not None]
        return known + [n for n, v in (self.model_extra or {}).items() if v is not None]


# -- interpreter speed (bases) ---------------------------------------------------------------


class Measurement(Record):
    """One pybench workload or start-up measurement: medians of repeated timings."""

    median_s: Number = None
    min_s: Number = None
    max_s: Number = None
    repeats: Count = None
    rel_spread: Number = None
    rel_iqr: Number = None


class BuildFlags(Record):
    compiler: Text = None
    pgo: bool | None = None
    lto: bool | None = None
    pgo_lto_basis: Text = None
    config_args: Text = None
    py_cflags_nodist: Text = None
    py_ldflags_nodist: Text = None


class MeasuredAt(Record):
    """When and on how busy a host a cached interpreter timing was taken (engine/bases.py)."""

    at: Text = None
    host_load1_max: Number = None
    host_cpus: Count = None


class InterpreterSpeed(ProbeOutput):
    """probes/pybench.py on a base (engine/bases.py ``interpreter_speed``)."""

    python: EnvPython | None = None
    build: BuildFlags | None = None
    allocator: dict[str, Text] | None = None
    hashlib: dict[str, Text] | None = None
    machine: Text = None
    cpus: Count = None
    settings: dict[str, Number] | None = None
    startup: dict[str, Measurement] | None = None
    workloads: dict[str, Measurement] | None = None
    budget_cut: list[str] | None = None
    at: Text = None
    host_cpus: Count = None
    measured: MeasuredAt | None = None


# -- cells -----------------------------------------------------------------------------------


class PipFailure(Record):
    """run/pipfailure.py ``Diagnosis.to_dict``: why pip failed, in the user's terms."""

    kind: Text = None
    stage: Text = None
    distribution: Text = None
    what: Text = None
    cause: list[str] | None = None
    missing: Text = None
    hint: Text = None
    available: Any = None


class Step(Record):
    """One install or probe step of a cell (run/cell.py ``_record_step``)."""

    name: str
    kind: Text = None  # install | probe
    status: Text = None
    seconds: Number = None
    exit_code: Count = None
    command: Text = None
    network: Text = None
    log_tail: Text = None
    reason: Text = None
    error: Text = None
    user: Text = None
    warm: bool | None = None
    attempt: Count = None
    failure_kind: Text = None
    failure: PipFailure | None = None
    failure_summary: Text = None
    log_detail: Text = None
    uv_seconds: dict[str, Number] | None = None
    output_dropped_bytes: Count = None
    output_cap_bytes: Count = None
    bytes_added: Count = None  # install steps: the writable layer's growth over the step


class Distribution(Record):
    """One distribution pip or uv installed (run/pipreport.py, run/uv.py)."""

    name: str
    version: Text = None
    tag: Text = None
    family: Text = None
    source: Text = None
    wheel: bool | None = None
    requested: bool | None = None
    build_seconds: Number = None
    failed: Text = None  # "build": resolved, but its build failed

    @property
    def built_from_source(self) -> bool:
        """Built here from its sdist, and the build succeeded: an sdist whose build failed
        (``failed``) was never installed, so it is no "built from source" (issue 25)."""
        return self.wheel is False and self.failed is None


class Installer(Record):
    """What installed the cell's requirements: ``{name: pip|uv, version, ...}``."""

    name: Text = None
    version: Text = None
    wheel: Text = None
    sha256: Text = None
    platform: Text = None
    static: bool | None = None
    index_strategy: Text = None
    compile_bytecode: bool | None = None
    cache: Text = None
    requested: Text = None  # the matrix's pip_version, when it asked for one


class PredictedDistribution(Record):
    """run/preflight.py ``Prediction``: what pip would install, before any container."""

    name: str
    version: Text = None
    kind: Text = None  # wheel | sdist | none
    wheel_tag: Text = None
    requested: bool | None = None
    reason: Text = None


class Preflight(Record):
    """run/preflight.py ``CellPrediction``, attached to the cell by run/forecast.py."""

    status: Text = None  # wheels | build | impossible | unknown
    verdict: Text = None
    distributions: list[PredictedDistribution] = []
    notes: list[str] = []
    seconds: Number = None
    pip_runs: Count = None
    pip_version: Text = None


class PreflightMismatch(Record):
    name: Text = None
    predicted: Text = None
    installed: Text = None
    message: Text = None


class ExpectedFailure(Record):
    """The matrix's ``expected_failures`` entry that matched the cell (its selector's
    fields, ``base``/``depset``/..., are kept as extra keys)."""

    reason: Text = None
    link: Text = None


class Reproducer(Record):
    dockerfile: Text = None
    commands: list[str] | None = None


class LeftBehind(Record):
    """Something of the builder a multi-stage build does not ship (harness.run.runtime)."""

    kind: Text = None  # build-tools | pip | cache | system-packages
    path: Text = None
    bytes: Count = None


class RuntimeFacts(Record):
    """A runtime cell (a base with ``builder:``): installed in the builder, copied into the
    runtime as a multi-stage build does, probed there (harness.run.runtime)."""

    builder: Text = None  # the builder base's name
    builder_image: Text = None
    runtime_image: Text = None
    form: Text = None  # what was copied: venv | site-packages
    copied_to: Text = None
    python: Text = None  # the runtime's own interpreter the probes ran with
    environment: dict[str, str] | None = None  # what the final image needs set (PYTHONPATH)
    user: Text = None
    uid: Count = None
    shell: bool | None = None  # the runtime image has /bin/sh
    read_only: bool | None = None
    copied_bytes: Count = None
    runtime_image_bytes: Count = None
    final_image_bytes: Count = None  # the runtime image + the copied environment
    single_stage_bytes: Count = None  # the builder image + everything the install wrote
    left_behind_bytes: Count = None  # single_stage_bytes - final_image_bytes
    left_behind: list[LeftBehind] | None = None
    read_only_breaks: list[str] | None = None  # steps that failed on a read-only root


class CellRecord(Record):
    """One cell × repeat: ``cells/<id>.r<k>.json`` and one item of ``results.cells``."""

    id: str
    base: str
    depset: str
    status: str  # every reader groups and colours cells by it (model/status.py)
    reason: Text = None
    repeat: int = 0
    seconds: Number = None
    started_at: Text = None
    ended_at: Text = None
    container: Text = None
    package_manager: Text = None
    standin: Text = None
    environment_limit: Text = None
    failure_kind: Text = None
    engine_lost: bool | None = None  # not a result: --resume runs the cell again
    runner_pid: Count = None
    warm: bool | None = None
    probes_offline: bool | None = None
    download_bytes: Count = None
    size_added_bytes: Count = None
    size_start_bytes: Count = None  # the fresh container's layer, before any step
    size_probes_bytes: Count = None  # written after the last install step
    size_measure_seconds: Number = None
    # The installed image as a team would ship it (run/imagesize.py): base + the cell's
    # layer after the install, and as a registry stores it (each layer gzip level 6). A
    # runtime cell's: its final image (the runtime base + the copied layer).
    image_size_bytes: Count = None
    image_compressed_bytes: Count = None
    image_layer_compressed_bytes: Count = None  # the cell's own layer, compressed
    image_compressed_sampled: Number = None  # share of the layer compressed (1.0: exact)
    image_measure_seconds: Number = None  # what measuring it cost the cell
    image_measure_problem: Text = None
    # The cgroup's memory high-water mark (engine/memory.py): after the install, and over
    # the probes and tests (from the usage at the reset, which is recorded too). A runtime
    # cell's install peak is its builder's container's; its probes' the final image's.
    memory_peak_install_bytes: Count = None
    memory_peak_bytes: Count = None
    memory_at_reset_bytes: Count = None
    memory_peak_source: Text = None
    install_seconds: Number = None
    steps: list[Step] = []
    distributions: list[Distribution] = []
    installer: Installer | None = None
    pip_report_environment: dict[str, str] | None = None  # pip's PEP 508 marker values
    probes: Probes = Probes()
    expected_failure: ExpectedFailure | None = None
    reproducer: Reproducer | None = None
    preflight: Preflight | None = None
    preflight_mismatches: list[PreflightMismatch] | None = None
    runtime: RuntimeFacts | None = None  # a runtime cell's multi-stage facts
    build_log_path: Text = None
    host: Text = None  # the host a merged shard's cell ran on
    non_finite: dict[str, str] | None = None  # {JSON path: "nan"|"inf"}: nulled on write
    too_deep: dict[str, str] | None = None  # {JSON path: why}: nulled on write

    @property
    def built_from_source(self) -> list[str]:
        """The distributions built here from an sdist whose build succeeded (what a grid's
        "built from source" names); a failed build is in ``failed_builds``."""
        return [d.name for d in self.distributions if d.built_from_source]

    @property
    def failed_builds(self) -> list[str]:
        return [d.name for d in self.distributions if d.failed == "build"]

    # -- cell files (store/rundir.py reads and writes them with these) -----------------

    @classmethod
    def from_json(cls, text: str, source: str) -> Self:
        """A cell file's text, or ResultsError (exit 2) naming ``source`` and the path."""

        def check(data: Any) -> None:
            if not isinstance(data, dict):
                raise ResultsError(
                    f"{source}: expected a JSON object, found {type(data).__name__}",
                    "remove the file, or run the cell again (`harness run --resume`)",
                )

        return cls._from_text(text, source, check)


@dataclass(frozen=True)
class CellRuns:
    """All records of one cell id, one per repeat (typed twin of analysis.view.CellGroup)."""

    records: tuple[CellRecord, ...]

    @property
    def id(self) -> str:
        return self.records[0].id

    @property
    def base(self) -> str:
        return self.records[0].base

    @property
    def depset(self) -> str:
        return self.records[0].depset

    @property
    def status(self) -> str:
        """The most severe status over the repeats (model/status.py ``worst``)."""
        return worst(r.status for r in self.records)

    @property
    def representative(self) -> CellRecord:
        """The first record with the group's status: its reason and log explain it."""
        return next(r for r in self.records if r.status == self.status)

    @property
    def reason(self) -> str | None:
        return self.representative.reason or None


# -- run, bases, depsets ---------------------------------------------------------------------


class HostFacts(Record):
    hostname: Text = None
    os: Text = None
    kernel: Text = None
    machine: Text = None
    cpus: Count = None
    memory_bytes: Count = None
    python: Text = None


class EngineFacts(Record):
    version: Text = None
    api_version: Text = None
    storage_driver: Text = None
    cgroup_version: Text = None


class MatrixIdentity(Record):
    path: Text = None
    sha256: Text = None


class ShardInfo(Record):
    plan_id: Text = None
    index: Count = None
    count: Count = None


class ShardRecord(Record):
    """One shard of a merged run (``run.shards``, store/shards.py): where and when it
    ran; a shard that never reported has only ``index``, ``reported`` and ``cell_runs``."""

    index: int
    reported: bool | None = None
    run_id: Text = None
    dir: Text = None
    host: HostFacts | None = None
    engine: EngineFacts | None = None
    jobs: Count = None
    started_at: Text = None
    ended_at: Text = None
    cell_runs: Count = None
    expected_seconds: Number = None


class RunLoad(Record):
    """``results.run.load`` (run/load.py ``LoadMonitor.summary``): how busy the host and
    the engine were during the run."""

    cpus: Count = None
    samples: Count = None
    interval_seconds: Number = None
    load1_max: Number = None
    load1_median: Number = None
    other_containers_max: Count = None  # None: no query answered
    other_containers_unknown: Count = None
    docker_builds_max: Count = None


class DecisionRule(Record):
    """matrix.yaml's ``decision:`` block (model/matrix.py DecisionSpec), recorded so that
    every document reads the rule that picked its answer from results.json alone."""

    baseline: Text = None
    must: list[str] | None = None
    prefer: list[str] | None = None
    min_size_change_percent: Number = None
    min_time_change_percent: Number = None
    max_critical: Count = None
    max_high: Count = None


class InstallerBinary(Record):
    """``run.installers.uv``: the installer binary fetched for one machine (run/uv.py's
    ``UvFetched``), or only ``reason`` where it could not be had."""

    path: Text = None
    version: Text = None
    version_line: Text = None
    wheel: Text = None
    sha256: Text = None
    platform: Text = None
    machine: Text = None
    static: bool | None = None
    reason: Text = None


class RunInfo(Record):
    """``results.run``: the run's identity, its host and engine, and what it was asked."""

    id: Text = None
    started_at: Text = None
    ended_at: Text = None
    harness_version: Text = None
    jobs: Count = None
    repeat: Count = None
    cells_planned: Count = None
    keyword: Text = None
    history_dir: Text = None
    registry_reachable: bool | None = None
    registry_mirror: Text = None
    # {host: {"reachable": bool | None, "reason": str | None}}: each registry's answer
    registries: dict[str, dict[str, bool | str | None]] | None = None
    warnings: list[Any] | None = None
    host: HostFacts | None = None
    engine: EngineFacts | None = None
    matrix: MatrixIdentity | None = None
    shard: ShardInfo | None = None
    shards: list[ShardRecord] | None = None  # a merged run: its shards
    # model/plan.py's PlanJSON (a merged run's: without its runs), kept as written: read by
    # model.plan.plan_from_record, which validates it and says what a damaged one lacks
    plan: dict[str, object] | None = None
    warm: Any = None
    installers: dict[str, dict[str, InstallerBinary]] | None = None  # {"uv": {machine: ...}}
    load: RunLoad | None = None  # run/load.py: how busy the host and engine were
    decision: DecisionRule | None = None  # matrix.yaml's decision block, as the run used it


class PythonPath(Record):
    path: Text = None
    target: Text = None  # the path with its symlinks resolved


class PipFacts(Record):
    """probes/env.py ``pip_version``: pip's version, or why it cannot say."""

    version: Text = None
    error: Text = None


class Ensurepip(Record):
    available: bool | None = None  # importable and its pip wheel present
    pip_version: Text = None
    error: Text = None


class UserFacts(Record):
    name: Text = None
    uid: Count = None
    gid: Count = None


class TimeZones(Record):
    count: Count = None  # the zones zoneinfo finds (0: no tz data)
    system_dir: bool | None = None  # /usr/share/zoneinfo exists
    error: Text = None


class Capabilities(ProbeOutput):
    """probes/capabilities.py on a base: what the image can do, with or without a shell
    (analysis/capabilities.py words it). ``pgo``/``lto`` false means "not recorded in the
    build flags" (Debian applies both outside configure)."""

    shell: bool | None = None  # /bin/sh is there
    shells: list[str] | None = None
    package_manager: Text = None  # the first of apt-get, apk, dnf, microdnf found
    package_managers: list[str] | None = None
    executable: Text = None
    python_version: Text = None
    pythons: list[PythonPath] | None = None
    pip: PipFacts | None = None
    ensurepip: Ensurepip | None = None
    user: UserFacts | None = None
    libc: Libc | None = None
    abiflags: Text = None
    gil_disabled: bool | None = None
    free_threaded: bool | None = None
    config_args: Text = None
    pgo: bool | None = None
    lto: bool | None = None
    pgo_lto_basis: Text = None
    release_level: Text = None
    release_serial: Count = None
    modules: dict[str, bool | str] | None = None  # optional stdlib module: True or the error
    missing: list[str] | None = None  # the optional stdlib modules that do not import
    time_zones: TimeZones | None = None
    openssl: Text = None  # ssl.OPENSSL_VERSION


class BaseArg(Record):
    """A Dockerfile base's build argument that names another base (``base_args``): the
    base it was built FROM and how that base was had (its origin, and what a stand-in
    stands for), so the Dockerfile's provenance names its stand-in."""

    base: str
    image: Text = None  # the reference given to FROM (harness's own tag or the id)
    image_id: Text = None
    origin: Text = None
    standin: Text = None
    reference: Text = None
    digest: Text = None
    base_args: dict[str, BaseArg] | None = None  # that base's own, when it is a Dockerfile


class BaseTools(Record):
    """What the env probe found of the tools harness itself uses in the base's image."""

    package_manager: Text = None  # apt-get | apk; null: none
    timeout: bool | None = None  # coreutils' timeout is there


class BaseRecord(Record):
    """One base of the matrix (engine/bases.py): how it was had and what it is."""

    name: str
    reference: Text = None
    kind: Text = None
    description: Text = None
    standin: Text = None
    standin_reason: Text = None
    status: Text = None  # available | unavailable | failed
    reason: Text = None
    failure_kind: Text = None
    image: Text = None
    image_id: Text = None
    digest: Text = None
    origin: Text = None
    pulled_reference: Text = None
    pull_seconds: Number = None
    python_command: Text = None
    pip_version: Text = None  # the pip the matrix asked for on this base (what it ships: env.pip)
    user: Text = None
    created: Text = None
    os: Text = None
    python: Text = None
    libc: Libc | None = None
    size_bytes: Count = None
    compressed_bytes: Count = None  # its layers gzip level 6, as a registry stores them
    build_seconds: Number = None
    build_log_path: Text = None
    tools: BaseTools | None = None
    env: EnvProbe | None = None
    capabilities: Capabilities | None = None
    interpreter_speed: InterpreterSpeed | None = None
    base_args: dict[str, BaseArg] | None = None  # a Dockerfile base: ARG → the base FROM


class DepsetRecord(Record):
    """One dependency set, as the matrix wrote it (model/matrix.py DepsetSpec)."""

    name: str
    system: dict[str, list[str] | None] | None = None
    pip: list[str] | None = None
    pip_args: list[str] | None = None
    imports: list[str] | None = None
    probes: list[str] | None = None
    requirements: list[str] | None = None  # a team's requirements files
    lockfile: Text = None
    tests: DepsetSuite | None = None


class DepsetSuite(Record):
    """A depset's own test suite as the matrix wrote it (model/matrix.py SuiteSpec)."""

    command: Text = None
    junit: bool | None = None
    network: bool | None = None
    artifacts: list[str] | None = None


# -- SBOMs -----------------------------------------------------------------------------------


class Scan(Record):
    """One SBOM's vulnerability scan, or (``scanned`` false) why there is none."""

    scanned: bool
    scanner: Text = None
    scanner_version: Text = None
    scanner_sha256: Text = None  # the binary that ran (or would have run)
    scanner_path: Text = None
    db_built: Text = None
    by_severity: dict[str, int] | None = None
    fixable: Count = None
    total: Count = None
    reason: Text = None  # not scanned: why
    command: Text = None  # not scanned: the command that gives the counts


class SbomEntry(Record):
    path: str
    kind: str  # "base" or "cell"
    subject: str  # the base's name or the cell's id
    cell: Text = None
    repeat: Count = None
    components: Count = None
    valid: bool | None = None
    errors: list[str] | None = None
    vulnerabilities: Scan | None = None


class ScannerInfo(Record):
    """The vulnerability scanner publishing ran over the SBOMs (documents/publish.py)."""

    name: Text = None  # "trivy" or "grype"
    db: Text = None  # its database folder


class Sboms(Record):
    """Written by publishing: every SBOM of the run, and the scanner that read them."""

    scanner: ScannerInfo | None = None
    sboms: list[SbomEntry] = []


# -- the file ---------------------------------------------------------------------------------


class Results(Record):
    """results.json: the one type every document is rendered from."""

    schema_version: int  # required: a file without it is not understood (check_version)
    run: RunInfo
    bases: list[BaseRecord] = []
    depsets: list[DepsetRecord] = []
    cells: list[CellRecord] = []
    sboms: Sboms | None = None
    non_finite: dict[str, str] | None = None  # {JSON path: "nan"|"inf"}: nulled on write
    too_deep: dict[str, str] | None = None  # {JSON path: why}: nulled on write

    def base(self, name: str) -> BaseRecord | None:
        return next((b for b in self.bases if b.name == name), None)

    def cell_runs(self) -> dict[str, CellRuns]:
        """Cell id → all its records (one per repeat, in repeat order), in the order
        cells first appear in the file."""
        found: dict[str, list[CellRecord]] = {}
        for record in self.cells:
            found.setdefault(record.id, []).append(record)
        return {
            cell_id: CellRuns(tuple(sorted(records, key=lambda r: r.repeat)))
            for cell_id, records in found.items()
        }

    @classmethod
    def from_json_data(cls, data: Any, source: str) -> Self:
        """Validate parsed JSON: the version, then every field's type (nested probe
        outputs included); ResultsError names ``source`` and the JSON path."""
        _check_top(data, source)
        return cls.from_dict(data, source)

    @classmethod
    def from_json(cls, text: str, source: str) -> Self:
        """results.json's text, validated once, or ResultsError saying what to do."""
        return cls._from_text(text, source, lambda data: _check_top(data, source))


def _check_top(data: Any, source: str) -> None:
    if not isinstance(data, dict):
        raise ResultsError(
            f"{source}: expected a JSON object at the top level, found {type(data).__name__}",
            f"point at a harness results.json, or {RERUN}",
        )
    check_version(source, data.get("schema_version"))


# What a reader accepts: the typed object, or the run's JSON as tests and scripts edit
# it (``load_results``), validated before any field is read (``as_results``, or
# ``part_of``/``parts_of`` for one part of it).
AnyResults = Results | Mapping[str, object]


def as_results(results: AnyResults, source: str = "results") -> Results:
    """A reader's argument as the typed object (readers converted to types accept both
    while callers move over)."""
    if isinstance(results, Results):
        return results
    return Results.from_json_data(dict(results), source)


_R = TypeVar("_R", bound=Record)


def part_of(results: Mapping[str, object], key: str, kind: type[_R]) -> _R | None:
    """``results[key]`` of a run's JSON, validated as ``kind`` (None when absent or null);
    ResultsError names ``results.KEY``."""
    found = results.get(key)
    if found is None:
        return None
    return kind.from_dict(_json_object(found, f"results.{key}"), f"results.{key}")


def parts_of(results: Mapping[str, object], key: str, kind: type[_R]) -> list[_R]:
    """The list ``results[key]`` of a run's JSON, each item validated as ``kind``;
    ResultsError names ``results.KEY[i]``."""
    found = results.get(key) or []
    if not isinstance(found, list):
        raise ResultsError(
            f"results.{key}: expected a list, found {type(found).__name__}",
            f"point at a results.json written by `harness run`, or {RERUN}",
        )
    return [
        kind.from_dict(_json_object(item, f"results.{key}[{i}]"), f"results.{key}[{i}]")
        for i, item in enumerate(found)
    ]


def _json_object(value: object, source: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ResultsError(
            f"{source}: expected a JSON object, found {type(value).__name__}",
            f"point at a results.json written by `harness run`, or {RERUN}",
        )
    return value


# -- reading and writing JSON ----------------------------------------------------------------


def dumps(data: Any) -> str:
    """Strict JSON text of ``data``: non-finite numbers nulled (and named), surrogates
    repaired, too deep values nulled. The C encoder first (``allow_nan=False`` refuses
    NaN/Infinity); only data that needs repair is walked by ``sanitize``."""
    try:
        text = json.dumps(data, indent=1, default=str, allow_nan=False)
    except (ValueError, RecursionError):
        text = None
    if text is None or ("\\ud" in text and _LONE_SURROGATE.search(text)) or _too_deep(text):
        text = json.dumps(sanitize(data), indent=1, default=str, allow_nan=False)
    return text


def _too_deep(text: str) -> bool:
    """json.dumps(indent=1) puts a value at depth d on a line indented by d spaces."""
    return "\n" + " " * (MAX_DEPTH + 2) in text


# A lone UTF-16 surrogate as JSON writes it (\ud800 with no partner): UTF-8 cannot hold it.
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _needs_repair(text: str) -> bool:
    """May ``text`` hold what reading must repair: a non-finite number or a lone
    surrogate? (Substring tests: C speed on a file of hundreds of MB.)"""
    if "NaN" in text or "Infinity" in text:
        return True
    return ("\\ud" in text or "\\uD" in text) and _LONE_SURROGATE.search(text) is not None


def sanitize(data: Any, source: str | None = None) -> Any:
    """A copy of JSON-like ``data`` that strict JSON can hold: NaN/Infinity → null, named
    in the top object's ``non_finite`` (``{"$.probes.x.seconds": "nan"}``, the JSON path
    of where the number was); a lone surrogate → U+FFFD, in keys and values.

    Iterative, so any depth the JSON parser accepted is walked. A value nested deeper
    than ``MAX_DEPTH`` (no writer nests so deep) is refused naming ``source`` and its JSON
    path when reading a file (``source`` given), and nulled and named in ``too_deep``
    when writing."""
    root: list[Any] = [None]
    notes: dict[str, dict[str, str]] = {}
    stack: list[_Item] = [(data, root, 0, ())]
    while stack:
        value, target, key, path = stack.pop()
        if isinstance(value, str):
            target[key] = _repair(value)
        elif isinstance(value, float) and not math.isfinite(value):
            target[key] = None
            found = "nan" if math.isnan(value) else str(value)
            notes.setdefault(NON_FINITE_KEY, {})[json_path(path)] = found
        elif isinstance(value, Mapping | list | tuple) and len(path) > MAX_DEPTH:
            if source is not None:
                raise ResultsError(
                    f"{source}: {json_path(path)}: nested deeper than {MAX_DEPTH} levels "
                    "(not the shape of a harness results.json)",
                    f"point at a results.json written by `harness run`, or {RERUN}",
                )
            target[key] = None
            notes.setdefault(TOO_DEEP_KEY, {})[json_path(path)] = f"deeper than {MAX_DEPTH}"
        elif isinstance(value, Mapping | list | tuple):
            target[key] = _open_container(value, path, stack)
        else:
            target[key] = value
    top = root[0]
    if isinstance(top, dict):
        for field, named in notes.items():
            earlier = top.get(field)
            top[field] = {**(earlier if isinstance(earlier, dict) else {}), **named}
    return top


# (value, the container it goes into, its key there, its JSON path)
_Item = tuple[Any, Any, Any, tuple[Any, ...]]


def _open_container(value: Any, path: tuple[Any, ...], stack: list[_Item]) -> Any:
    """An empty copy of a dict or list, its items queued to be sanitised into it."""
    if isinstance(value, Mapping):
        copy: dict[str, object] = {}
        for k, v in value.items():
            name = _repair(str(k))
            copy[name] = None
            stack.append((v, copy, name, (*path, name)))
        return copy
    items: list[Any] = [None] * len(value)
    for i, v in enumerate(value):
        stack.append((v, items, i, (*path, i)))
    return items


def _repair(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: UTF-8 cannot hold it
        return "".join(REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def parse_json(text: str, source: str) -> Any:
    """Parsed JSON, or ResultsError naming ``source`` (truncated, too deep, not JSON)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ResultsError(
            f"{source}: JSON nested too deeply to be a results file", RERUN
        ) from None
    except json.JSONDecodeError as err:
        # An interrupted run is the usual cause: say so, since the fix differs
        # from a hand-edited file.
        raise ResultsError(
            f"{source}: not valid JSON at line {err.lineno} column {err.colno} ({err.msg}); "
            "the file is probably truncated (interrupted run or full disk)",
            RERUN,
        ) from err
    except ValueError as err:  # e.g. an integer longer than Python will parse
        raise ResultsError(f"{source}: not a results file: {err}", RERUN) from None


def _refusal(source: str, err: ValidationError) -> ResultsError:
    first = err.errors()[0]
    where = json_path(first["loc"])
    got = first.get("input")
    shown = f" (found {type(got).__name__})" if first["type"] != "missing" else ""
    return ResultsError(
        f"{source}: {where}: {first['msg']}{shown} (not the shape of a harness results.json)",
        f"point at a results.json written by `harness run`, or {RERUN}",
    )


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("cells", 3, "status")`` → ``$.cells[3].status``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def check_version(source: str, version: Any) -> None:
    """Refuse a schema_version this code does not understand, instead of misreading it."""
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
