"""The shapes report.py hands to report.html.j2: one TypedDict per view.

Jinja reads dict keys, so these keep the template unchanged while mypy checks that every
key the builders write (and the template reads) is spelled and typed as declared. Keys
added to a grid entry step by step (noise, preflight, suite, note, twins, details) are
NotRequired: an entry gains them on its way to the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NotRequired, TypedDict

from markupsafe import Markup

from harness.analysis.speed import SpeedTable
from harness.analysis.suites import SuiteResult

# --- run-wide tables ------------------------------------------------------------------


class CellRow(TypedDict):
    """One cell record (a repeat is its own row) with its headline numbers."""

    id: str
    base: str
    depset: str
    installer: str
    repeat: int
    status: str
    reason: str | None
    seconds: float | None
    install_seconds: float | None
    system_seconds: float | None
    venv_seconds: float | None
    pip_seconds: float | None
    install_complete: bool
    download_bytes: int | None
    size_added_bytes: int | None
    import_seconds: float | None
    smoke_seconds: float | None
    built_from_source: bool
    warm: bool
    ran: bool
    sdists: str
    expected_reason: str | None
    environment_limit: str | None
    anchor: str


class BaseRow(TypedDict):
    """One row of the bases table."""

    name: str
    reference: str | None
    kind: str | None
    standin: str | None
    status: str | None
    reason: str | None
    image: str | None
    image_id: str | None
    digest: str | None
    os: str | None
    python: str | None
    description: str | None
    origin: str
    origin_kind: str | None
    origin_tag: str | None
    image_id_short: str | None
    libc: str | None
    size_bytes: int | None
    build_seconds: float | None
    anchor: str
    capabilities: str


class DistributionRow(TypedDict):
    """One installed (or failed) distribution of one cell record."""

    id: str
    repeat: int
    name: str
    version: str | None
    wheel: bool | None
    tag: str | None
    kind: str
    requested: bool
    source: str | None
    build_seconds: float | None
    failed: str | None


class FactRow(TypedDict):
    """One smoke fact of one cell's first record."""

    id: str
    base: str
    depset: str
    probe: str
    fact: str
    value: str


# --- the grid ---------------------------------------------------------------------------


class NoisyRow(TypedDict):
    timing: str
    median: float
    low: float
    high: float
    text: str


class PreflightView(TypedDict):
    verdict: str | None
    seconds: float | None
    notes: list[str]


class MismatchRow(TypedDict):
    name: str
    predicted: str
    installed: str
    message: str | None


class SuiteSlot(TypedDict):
    """The team's suite as a grid slot shows it."""

    status: str
    summary: str
    passed: int | None
    tests: int | None
    failing: int
    skipped: int  # said beside the counts: a passed 39/80 is not 41 failures


class GridEntry(TypedDict):
    """One cell id: its repeats folded (medians, worst status), then what the page adds."""

    id: str
    base: str | None
    depset: str | None
    installer: str | None
    anchor: str | None
    reason: str | None
    expected_reason: str | None
    environment_limit: str | None
    status: str
    statuses: str
    runs: int
    install_median: float | None
    install_min: float | None
    install_max: float | None
    install_complete: bool
    built_from_source: bool
    warm: bool
    ran: bool
    sdists: str
    system_seconds: float | None
    venv_seconds: float | None
    pip_seconds: float | None
    download_bytes: float | None
    size_added_bytes: float | None
    import_seconds: float | None
    smoke_seconds: float | None
    # _noise_view
    noisy: NotRequired[dict[str, str]]
    noisy_rows: NotRequired[list[NoisyRow]]
    # _preflight_view
    preflight: NotRequired[PreflightView | None]
    mismatches: NotRequired[list[MismatchRow]]
    # _with_suites
    tests: NotRequired[SuiteSlot | None]
    # _with_notes
    note: NotRequired[int | None]
    reason_kind: NotRequired[str | None]
    # _pip_first: the other installers' entries of the same slot
    twins: NotRequired[list[GridEntry]]
    # _cell_views: the details
    standin: NotRequired[str | None]
    origin: NotRequired[str]
    repeats: NotRequired[list[RepeatView]]


class NoiseView(TypedDict):
    noisy: dict[str, str]
    noisy_rows: list[NoisyRow]


class PreflightPart(TypedDict):
    preflight: PreflightView | None
    mismatches: list[MismatchRow]


class GridRow(TypedDict):
    """One base's row of the grid: its bases-table row and one slot per depset."""

    base: BaseRow
    cells: list[GridEntry | None]


class NoteView(TypedDict):
    number: int
    text: str
    slots: int


# --- depsets ----------------------------------------------------------------------------


class DepsetSpec(TypedDict):
    system: list[str]
    pip: list[str]
    probes: list[str]
    requirements: list[str]  # a team's project depset: what it installs from
    lockfile: str | None
    tests: dict[str, object]  # its suite as the matrix wrote it (command, junit, …)


class FactTableRow(TypedDict):
    probe: str
    fact: str
    values: list[str | None]


class DepsetView(TypedDict):
    name: str
    spec: DepsetSpec
    rows: list[GridEntry]
    fact_bases: list[str]
    facts: list[FactTableRow]


# --- one cell's details -----------------------------------------------------------------


class FailureView(TypedDict):
    kind: str | None
    stage: str | None
    distribution: str | None
    what: str | None
    cause: list[str]
    hint: str | None
    available: str | None


class StepView(TypedDict):
    name: str
    kind: str | None
    status: str | None
    seconds: float | None
    exit_code: int | None
    command: str | None
    network: str | None
    log_tail: str | None
    added: str
    note: str | None
    failing: bool
    failure: FailureView | None


class ImportRow(TypedDict):
    module: str
    seconds: float | None
    wall_seconds: float | None
    modules_imported: int | None
    error: str | None


class HeavyRow(TypedDict):
    module: str | None
    seconds: float | None


class ProbeView(TypedDict):
    name: str
    status: str | None
    seconds: float | None
    error: str | None


class ExpectedView(TypedDict):
    reason: str | None
    link: str | None


class ReproducerView(TypedDict):
    dockerfile: str
    commands: str


class SizedName(TypedDict):
    name: str
    version: str | None
    size: str


class StepSizeRow(TypedDict):
    name: str
    size: str


class StepSizesView(TypedDict):
    rows: list[StepSizeRow]
    total: str
    adds_up: bool
    accounted: str
    seconds: float | None


class MadeOfView(TypedDict):
    """The "What it is made of" block."""

    bar: Markup
    python: str
    system: list[SizedName]
    steps: StepSizesView | None
    top: list[SizedName]
    sbom: str | None


class ArtifactFileView(TypedDict):
    path: str
    href: str
    bytes: int | None


class ArtifactSkipView(TypedDict):
    path: str
    why: str | None


class ArtifactsView(TypedDict):
    """What the team's suite wrote that ``tests.artifacts`` kept, linked from the cell."""

    folder: str
    files: list[ArtifactFileView]
    skipped: list[ArtifactSkipView]
    problem: str | None


class RepeatView(TypedDict):
    """One record of a cell (a repeat) in the cell's details."""

    status: str
    reason: str | None
    seconds: float | None
    started_at: str | None
    ended_at: str | None
    container: str | None
    package_manager: str | None
    download_bytes: int | None
    repeat: int
    record: str
    size_added_bytes: int | None
    install_seconds: float | None
    steps: list[StepView]
    distributions: list[DistributionRow]
    failed_distributions: list[DistributionRow]
    imports: list[ImportRow]
    heaviest: list[HeavyRow]
    expected_failure: ExpectedView | None
    environment_limit: str | None
    probes: list[ProbeView]
    tests: SuiteResult | None
    artifacts: ArtifactsView | None
    reproducer: ReproducerView | None
    made_of: NotRequired[MadeOfView | None]


# --- bases, history, the run -------------------------------------------------------------


class BaseVulns(TypedDict):
    """A base's SBOM and its scan's counts by severity, or why there are none."""

    sbom: str | None
    counts: list[tuple[str, int]] | None
    text: str
    components: NotRequired[int | None]


class ChangeView(TypedDict):
    new: bool
    previous_status: str | None
    status_changed: bool
    delta: float | None
    spark: Markup
    runs: int


class HostView(TypedDict):
    hostname: str | None
    os: str | None
    kernel: str | None
    cpus: int | None
    memory_bytes: int | None


class EngineView(TypedDict):
    version: str | None
    api_version: str | None
    storage_driver: str | None
    cgroup_version: str | None


class MatrixView(TypedDict):
    path: str | None
    sha256: str | None


class RunView(TypedDict):
    id: str | None
    started_at: str | None
    ended_at: str | None
    harness_version: str | None
    jobs: int | None
    repeat: int | None
    registry_reachable: bool | None
    registries: Mapping[str, Mapping[str, object]] | None  # {host: {reachable, reason}}
    registry_mirror: str | None
    host: HostView
    engine: EngineView
    matrix: MatrixView
    warnings: list[str]
    duration: str


# --- the page ---------------------------------------------------------------------------


class DetailPage(TypedDict):
    base: str
    href: str
    cells: int


class ReportContext(TypedDict):
    """What every page of the report reads; ``cells``: the grid entries of this page."""

    decision_html: Markup
    schema_version: int
    generator: str
    run: RunView
    status_help: dict[str, str]
    noisy_rule: str
    counts: list[tuple[str, int]]
    notes: list[NoteView]
    depsets: list[str]
    grid_rows: list[GridRow]
    bases: list[BaseRow]
    speed: SpeedTable
    base_vulns: dict[str, BaseVulns]
    depset_views: list[DepsetView]
    charts: list[Markup]
    cells: list[GridEntry]
    history: dict[str, ChangeView] | None
    installers: Markup


class PageLinks(TypedDict):
    """Where a page sits among the pages of a split report."""

    main_href: str
    depsets_href: str
    page_base: str | None
    detail_hrefs: dict[str, str]
    detail_pages: list[DetailPage]
    sections: frozenset[str] | set[str]
    root_href: str


class ReportPage(ReportContext, PageLinks):
    """One page's whole template context."""


class ScanPart(TypedDict):
    counts: list[tuple[str, int]] | None
    text: str
