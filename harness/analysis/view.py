"""A read-only view of one results.json for the documents built from it.

The diff, the comparison, the ADR, the JUnit file and the CI summary all need the
same few things: the records of one cell grouped across repeats, one status for
the group, timing samples with their spread, and text made safe for Markdown.
They live here so that every document counts and rounds the same way.

Spread convention (used everywhere): a sample of repeats is summarised as its
median ± half its range, ``(max - min) / 2``. The range, not the standard
deviation, because runs have 1 to 5 repeats: with so few values a standard
deviation says little, while the range is exactly what was observed.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from harness.model import format as fmt
from harness.model import status as statuses
from harness.model.errors import ResultsError
from harness.model.ids import DEFAULT_INSTALLER, installer_of

# Re-exported: the documents and compare take the non-smoke probes from this view.
from harness.model.probe_output import NON_SMOKE_PROBES as NON_SMOKE_PROBES
from harness.model.results import (
    AnyResults,
    BaseRecord,
    CellRecord,
    DepsetRecord,
    Distribution,
    ExpectedFailure,
    ImportsProbe,
    Libc,
    MeasuredAt,
    Record,
    Reproducer,
    Results,
    RunInfo,
    as_results,
    part_of,
    parts_of,
)
from harness.model.status import GOOD

# Names of the timings that are not steps: the sum of the install steps, and the sum
# of the imports probe's per-module times.
INSTALL = "install"
IMPORT_TIME = "import-time"


@dataclass(frozen=True)
class Sample:
    """Values of one measurement over the repeats of a cell (seconds or bytes)."""

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    @property
    def spread(self) -> float | None:
        """max - min, or None when a single value says nothing about the noise."""
        if len(self.values) < 2:
            return None
        return max(self.values) - min(self.values)

    @property
    def half_spread(self) -> float:
        return (self.spread or 0.0) / 2

    @property
    def relative_spread(self) -> float | None:
        """spread / median; None for a single value or a zero median."""
        spread, median = self.spread, self.median
        return None if spread is None or median == 0 else spread / abs(median)


@dataclass(frozen=True)
class NoiseRule:
    """When a difference of medians counts as a change rather than noise.

    A change counts when ``|median_b - median_a|`` exceeds all of: the larger of the
    two spreads, ``abs_floor`` and ``rel_floor`` × median_a. With no spread on either
    side (single runs) the noise is unknown and ``unknown_rel`` × median_a stands in
    for it, which is deliberately wide.
    """

    abs_floor: float
    rel_floor: float
    unknown_rel: float


# Seconds: container timings on a shared CI host move by a few tenths of a second for
# no reason, and by 10-20 % between runs at jobs=2; 25 % is the guess for single runs.
TIME_NOISE = NoiseRule(abs_floor=0.5, rel_floor=0.05, unknown_rel=0.25)
# Bytes: the writable layer varies by pip caches and .pyc files; 1 MiB / 1 % is below
# anything a person would act on.
SIZE_NOISE = NoiseRule(abs_floor=1024 * 1024, rel_floor=0.01, unknown_rel=0.01)

# Too noisy to compare: a timing whose repeats spread (max - min) over more than both
# NOISY_ABS_SPREAD and NOISY_REL_SPREAD of its median. 25 % because it is the threshold
# the diff already assumes when the noise is unknown (TIME_NOISE.unknown_rel): a timing
# noisier than that cannot support any faster/slower call the diff would make. The
# 0.5 s floor is the diff's too: sub-second timings jitter by tenths for no reason.
# A single value is never flagged: its spread is unknown, not wide.
NOISY_REL_SPREAD = 0.25
NOISY_ABS_SPREAD = TIME_NOISE.abs_floor


@dataclass(frozen=True)
class Delta:
    """Sample b compared with sample a under a NoiseRule."""

    before: Sample
    after: Sample
    threshold: float
    spread_known: bool

    @property
    def change(self) -> float:
        return self.after.median - self.before.median

    @property
    def uncertainty(self) -> float:
        """The ± of the change: the half-ranges add up (each median may sit anywhere in it)."""
        return self.before.half_spread + self.after.half_spread

    @property
    def significant(self) -> bool:
        return abs(self.change) > self.threshold

    @property
    def claimable(self) -> bool:
        """A difference one may cite: beyond the threshold *and* measured with a known
        spread on at least one side. From one sample each the noise is unknown (the same
        install measured 52-78 s on one afternoon here), so no faster/slower claim."""
        return self.significant and self.spread_known

    @property
    def percent(self) -> float | None:
        base = self.before.median
        return None if base == 0 else 100.0 * self.change / base


def compare_samples(before: Sample, after: Sample, rule: NoiseRule) -> Delta:
    spreads = [s for s in (before.spread, after.spread) if s is not None]
    relative = abs(before.median) * (rule.rel_floor if spreads else rule.unknown_rel)
    threshold = max([*spreads, rule.abs_floor, relative])
    return Delta(before, after, threshold, spread_known=bool(spreads))


def too_noisy(sample: Sample | None) -> bool:
    """The one definition of a timing too noisy to compare (see NOISY_REL_SPREAD)."""
    if sample is None:
        return False
    spread = sample.spread
    if spread is None:
        return False
    return spread > NOISY_ABS_SPREAD and spread > NOISY_REL_SPREAD * abs(sample.median)


def noise_text(sample: Sample) -> str:
    """``"spread 38 % of median over 3 runs"``: how wide a sample's spread is."""
    relative = sample.relative_spread
    if relative is None:
        return f"spread {fmt.seconds(sample.spread or 0.0)} over {sample.n} runs"
    return f"spread {fmt.percent(relative)} of median over {sample.n} runs"


def noisy_rule_text() -> str:
    """The rule in words, for legends: built from the constants so it cannot drift."""
    return (
        f"the repeats of a timing spread (max − min) over more than {NOISY_ABS_SPREAD:g} s "
        f"and more than {fmt.percent(NOISY_REL_SPREAD)} of its median: too wide to compare, "
        "so no faster/slower call is made on it (a single run is never flagged)"
    )


@dataclass(frozen=True)
class CellGroup:
    """All records of one cell id (one per repeat), in repeat order."""

    id: str
    base: str
    depset: str
    records: tuple[CellRecord, ...]

    @property
    def installer(self) -> str:
        """pip, or the installer its id names (``base×depset+uv``)."""
        return installer_of(self.id)

    @property
    def installer_version(self) -> str | None:
        return next(
            (r.installer.version for r in self.records if r.installer and r.installer.version), None
        )

    @property
    def status(self) -> str:
        return statuses.worst(r.status for r in self.records)

    @property
    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record.status] = counts.get(record.status, 0) + 1
        return counts

    @property
    def mixed(self) -> bool:
        return len(self.status_counts) > 1

    @property
    def representative(self) -> CellRecord:
        """The first record with the group's status: its reason and log explain it."""
        status = self.status
        return next(r for r in self.records if r.status == status)

    @property
    def reason(self) -> str | None:
        return self.representative.reason or None

    @property
    def expected_failure(self) -> ExpectedFailure | None:
        return next((r.expected_failure for r in self.records if filled(r.expected_failure)), None)

    @property
    def reproducer(self) -> Reproducer | None:
        return next((r.reproducer for r in self.records if filled(r.reproducer)), None)

    @property
    def distributions(self) -> dict[str, Distribution]:
        """Distributions by normalised name, from the first repeat that installed any."""
        for record in self.records:
            if record.distributions:
                return {canonicalize_name(d.name): d for d in record.distributions}
        return {}

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts its records say they ran on (a merged run of shards stamps each)."""
        return tuple(sorted({r.host for r in self.records if r.host}))

    def step_sample(self, step: str) -> Sample | None:
        """Seconds of one step over the repeats where it passed (a failed step's time
        measures how fast it failed, which is not comparable)."""
        values = [
            s.seconds
            for r in self.records
            for s in r.steps
            if s.name == step and s.status in GOOD and s.seconds is not None
        ]
        return Sample(tuple(values)) if values else None

    def probe_sample(self, probe: str) -> Sample | None:
        """The probe's own wall time over the repeats where it passed."""
        values = []
        for record in self.records:
            facts = record.probes.get(probe)
            if facts is not None and facts.status == "passed" and facts.seconds is not None:
                values.append(facts.seconds)
        return Sample(tuple(values)) if values else None

    def import_sample(self) -> Sample | None:
        """Import time per repeat: the sum of the imports probe's per-module times
        (median cumulative import time, interpreter start-up excluded), not the probe's
        wall time, which covers several fresh interpreters per module."""
        values = []
        for record in self.records:
            facts = record.probes.imports
            if facts is not None and facts.status == "passed":
                total = import_seconds(facts)
                if total is not None:
                    values.append(total)
        return Sample(tuple(values)) if values else None

    def install_sample(self) -> Sample | None:
        """Sum of the install steps per repeat, over repeats whose installs all passed."""
        values = []
        for record in self.records:
            steps = [s for s in record.steps if s.kind == "install"]
            if steps and all(s.status in GOOD for s in steps):
                values.append(sum(s.seconds or 0.0 for s in steps))
        return Sample(tuple(values)) if values else None

    def size_sample(self) -> Sample | None:
        """Bytes added per repeat whose installs all passed (as install time): a suite or a
        smoke test that failed afterwards leaves the install's size as measured."""
        values = []
        for record in self.records:
            steps = [s for s in record.steps if s.kind == "install"]
            installed = steps and all(s.status in GOOD for s in steps)
            if (record.status in GOOD or installed) and record.size_added_bytes is not None:
                values.append(float(record.size_added_bytes))
        return Sample(tuple(values)) if values else None

    def step_names(self) -> list[str]:
        """Every step name over the repeats, once each, in the order first seen."""
        return list(dict.fromkeys(s.name for r in self.records for s in r.steps))

    def probe_names(self) -> list[str]:
        return list(dict.fromkeys(n for r in self.records for n in r.probes.names()))

    def timing_sample(self, step: str) -> Sample | None:
        """A step's timing: for a probe its own wall time (no docker-exec overhead)
        when it reported one, else the step's seconds."""
        if step.startswith("probe:"):
            own = self.probe_sample(step.removeprefix("probe:"))
            if own is not None:
                return own
        return self.step_sample(step)


def filled(record: Record | None) -> bool:
    """A record present and not empty (``{}`` in the file says nothing)."""
    return record is not None and bool(record.model_fields_set or record.model_extra)


@dataclass(frozen=True)
class NoisyTiming:
    """One timing of a cell whose repeats spread too wide to compare."""

    cell_id: str
    timing: str  # INSTALL, a step name (a probe step: the probe's own time), IMPORT_TIME
    sample: Sample

    def describe(self) -> str:
        return f"{noise_text(self.sample)}: too wide to compare"


def timing_samples(group: CellGroup) -> dict[str, Sample]:
    """Every timing the documents show for a cell, by name: the install total
    (INSTALL), each step (install steps and probes, as the diff names them) and the
    import time (IMPORT_TIME); a timing no repeat measured is left out."""
    samples = {INSTALL: group.install_sample()}
    samples |= {step: group.timing_sample(step) for step in group.step_names()}
    samples[IMPORT_TIME] = group.import_sample()
    return {name: sample for name, sample in samples.items() if sample is not None}


def noisy_timings(group: CellGroup) -> dict[str, NoisyTiming]:
    """The timings of one cell (all its repeats) that are too noisy to compare."""
    return {
        name: NoisyTiming(group.id, name, sample)
        for name, sample in timing_samples(group).items()
        if too_noisy(sample)
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def import_seconds(facts: ImportsProbe) -> float | None:
    """Sum of per-module import seconds from the imports probe: its ``import_seconds``
    map, else the ``modules`` (older probes: ``imports``) timings. None when no module was
    timed (a depset with nothing to import)."""
    if facts.import_seconds is not None:
        values = [v for v in facts.import_seconds.values() if v is not None]
    else:
        timings = facts.modules or facts.imports or {}
        values = [m.seconds for m in timings.values() if m.seconds is not None]
    return float(sum(values)) if values else None


def cell_records(results: AnyResults) -> Sequence[CellRecord]:
    """The run's cell records; of a dict of results (callers not converted yet), only its
    ``cells`` are read, each validated once (a ResultsError names the cell's index)."""
    if isinstance(results, Results):
        return results.cells
    return parts_of(results, "cells", CellRecord)


def group_cells(results: AnyResults) -> dict[str, CellGroup]:
    """Cell id → its records, in the order cells first appear in results.json."""
    found: dict[str, list[CellRecord]] = {}
    for record in cell_records(results):
        found.setdefault(record.id, []).append(record)
    return {
        cell_id: CellGroup(
            cell_id, records[0].base, records[0].depset, tuple(sorted(records, key=_repeat))
        )
        for cell_id, records in found.items()
    }


def _repeat(record: CellRecord) -> int:
    return record.repeat


def cell_hosts(group: CellGroup, results: AnyResults | RunInfo) -> tuple[str, ...]:
    """Where a cell's timings were taken: its records' hosts, else the run's host."""
    if group.hosts:
        return group.hosts
    host = run_info(results).host
    return (host.hostname,) if host and host.hostname else ()


def different_hosts(hosts_a: Sequence[str], hosts_b: Sequence[str], labels: Sequence[str]) -> str:
    """The comparability rule across machines: two timings compare only when both were
    taken on one and the same host. ``""`` when they were (or a side's host is unknown);
    else ``"different hosts (A on x; B on y)"``, naming the hosts of each side."""
    if not hosts_a or not hosts_b or (len(hosts_a) == 1 and tuple(hosts_a) == tuple(hosts_b)):
        return ""
    sides = "; ".join(
        f"{label} on {', '.join(h)}" for label, h in zip(labels, (hosts_a, hosts_b), strict=True)
    )
    return f"different hosts ({sides})"


def hosts_note(hosts_a: Sequence[str], hosts_b: Sequence[str], labels: Sequence[str]) -> str:
    """``different_hosts`` as a note beside a number: ``""`` or the sentence that marks the
    comparison, ``"different hosts (...): timings not directly comparable"``."""
    hosts = different_hosts(hosts_a, hosts_b, labels)
    return f"{hosts}: timings not directly comparable" if hosts else ""


# -- when a faster/slower call is made at all ------------------------------------------------
#
# A timing measures waiting as well as work when the host's load average exceeds its cores
# or other containers (or a docker build) share the engine; and two runs' timings differ by
# concurrency and machine as much as by the change under test (the same install measured
# 27 s and 48 s three minutes apart on a busy host here). So a faster/slower call is
# withheld, and the reason said instead, when either side was busy, when the two runs ran a
# different number of cells at a time, or when they ran on different hosts. Sizes and
# statuses do not depend on load: they are always compared. run/load.py records the load and
# words the run's warnings with these same predicates.

NOT_COMPARED = "not compared"


def busy_host(load1_max: object, cpus: object) -> bool:
    """The busy-host rule: the 1-minute load average went above the number of cores."""
    peak, cores = _number(load1_max), _number(cpus)
    return peak is not None and peak > (cores or 1)


def busy_engine(other_containers_max: object, docker_builds_max: object) -> bool:
    """The busy-engine rule: containers of other runs, or a docker build, ran meanwhile."""
    return bool(_number(other_containers_max)) or bool(_number(docker_builds_max))


def busy_phrases(run: RunInfo, during: str) -> list[str]:
    """Why a run's timings are not those of a quiet machine, one phrase per run: ``["the
    host was busy during run B (load 9.6 on 2 cores)"]``, ``["the host and the engine were
    busy during run B (load 6.7 on 2 cores; up to 2 other container(s))"]``; ``[]`` for a
    quiet run. From ``run.load``; a run with no load record falls back on its ``busy …``
    warnings (written by the same rule)."""
    load = run.load
    what: list[str] = []
    details: list[str] = []
    if load is not None:
        peak, cpus = load.load1_max, load.cpus or 1
        if peak is not None and busy_host(peak, cpus):
            what.append("the host")
            details.append(f"load {peak:.1f} on {cpus} cores")
        others, builds = load.other_containers_max, load.docker_builds_max
        if busy_engine(others, builds):
            what.append("the engine")
            details += [f"up to {others} other container(s)"] if others else []
            details += [f"{builds} docker build(s)"] if builds else []
    else:
        warnings = [str(w) for w in run.warnings or []]
        what = [
            f"the {w}"
            for w in ("host", "engine")
            if any(x.startswith(f"busy {w}") for x in warnings)
        ]
        details = ["the run's warnings say so"] if what else []
    if not what:
        return []
    verb = "were" if len(what) > 1 else "was"
    return [f"{' and '.join(what)} {verb} busy {during} ({'; '.join(details)})"]


def runs_not_compared(
    run_a: RunInfo,
    run_b: RunInfo,
    labels: Sequence[str],
    hosts: str = "",
) -> str:
    """Why no timing of run a is called faster or slower than run b's: ``"not compared:
    the host was busy during run B (load 9.6 on 2 cores)"``, ``"not compared: jobs 1 → 2"``;
    ``""`` when the call can be made. ``hosts``: ``different_hosts`` of the two sides."""
    reasons = busy_phrases(run_a, f"during {labels[0]}")
    reasons += busy_phrases(run_b, f"during {labels[1]}")
    if run_a.jobs is not None and run_b.jobs is not None and run_a.jobs != run_b.jobs:
        reasons.append(f"jobs {run_a.jobs} → {run_b.jobs}")
    reasons += [hosts] if hosts else []
    return f"{NOT_COMPARED}: {'; '.join(reasons)}" if reasons else ""


def run_not_compared(run: RunInfo, hosts: str = "") -> str:
    """``runs_not_compared`` for two cells of one run: its load, and the cells' hosts."""
    reasons = busy_phrases(run, "during the run") + ([hosts] if hosts else [])
    return f"{NOT_COMPARED}: {'; '.join(reasons)}" if reasons else ""


def measured_busy(measured: MeasuredAt | None, who: str = "") -> str:
    """A cached interpreter timing's own record ``{"at", "host_load1_max", "host_cpus"}``:
    ``"not compared: measured on a busy host (load 9.6 on 2 cores)"`` (``who``: whose
    timing, "the baseline" → "not compared: the baseline measured on …"), or ``""``."""
    if measured is None:
        return ""
    peak, cpus = measured.host_load1_max, measured.host_cpus or 1
    if peak is None or not busy_host(peak, cpus):
        return ""
    subject = f"{who} " if who else ""
    return f"{NOT_COMPARED}: {subject}measured on a busy host (load {peak:.1f} on {cpus} cores)"


def run_info(results: AnyResults | RunInfo) -> RunInfo:
    """The run's record; of a dict of results, only its ``run`` is read (callers not
    converted yet call this once per cell)."""
    if isinstance(results, RunInfo):
        return results
    if isinstance(results, Results):
        return results.run
    return part_of(results, "run", RunInfo) or RunInfo()


def bases_by_name(results: AnyResults) -> dict[str, BaseRecord]:
    """The matrix's bases by name; of a dict of results, only its ``bases`` are read
    (callers not converted yet call this once per base)."""
    if isinstance(results, Results):
        bases = results.bases
    else:
        bases = parts_of(results, "bases", BaseRecord)
    return {b.name: b for b in bases}


def depsets_by_name(results: AnyResults) -> dict[str, DepsetRecord]:
    """The matrix's depsets by name (of a dict of results, only its ``depsets`` are read)."""
    if isinstance(results, Results):
        depsets = results.depsets
    else:
        depsets = parts_of(results, "depsets", DepsetRecord)
    return {d.name: d for d in depsets}


def base_names(results: AnyResults) -> list[str]:
    """Bases in matrix order, plus any that only cells name (a partial results file)."""
    results = as_results(results)
    names = list(bases_by_name(results))
    for group in group_cells(results).values():
        if group.base not in names:
            names.append(group.base)
    return names


def depset_names(results: AnyResults) -> list[str]:
    results = as_results(results)
    names = list(depsets_by_name(results))
    for group in group_cells(results).values():
        if group.depset not in names:
            names.append(group.depset)
    return names


def measured_depset_names(results: AnyResults) -> list[str]:
    """The depsets that have at least one cell in the run (a ``-k`` run leaves the others
    in the matrix's list): what was measured, in the matrix's order."""
    results = as_results(results)
    present = {g.depset for g in group_cells(results).values()}
    return [name for name in depset_names(results) if name in present]


def libc_text(libc: Libc | None) -> str | None:
    """``{"family": "glibc", "version": "2.36", ...}`` → ``"glibc 2.36"``."""
    if libc is None:
        return None
    return " ".join(w for w in (libc.family, libc.version) if w) or None


def cell_for(
    results: AnyResults, base: str, depset: str, installer: str = DEFAULT_INSTALLER
) -> CellGroup | None:
    return next(
        (
            g
            for g in group_cells(results).values()
            if g.base == base and g.depset == depset and g.installer == installer
        ),
        None,
    )


def installer_cells(
    results: AnyResults, installer: str = DEFAULT_INSTALLER
) -> dict[tuple[str, str], CellGroup]:
    """(base, depset) -> the cell of one installer: the grid of bases × depsets that the
    documents comparing bases use (pip's cells unless told otherwise)."""
    return {
        (g.base, g.depset): g for g in group_cells(results).values() if g.installer == installer
    }


def installers_in(results: AnyResults) -> list[str]:
    """The installers the run's cells used, pip first."""
    found = {g.installer for g in group_cells(results).values()}
    return sorted(found, key=lambda name: (name != DEFAULT_INSTALLER, name))


_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(requirement: str) -> str | None:
    """``"spacy[lookups]==3.8.2"`` → ``"spacy"``; None for a URL or option line."""
    match = _REQUIREMENT_NAME.match(requirement)
    return canonicalize_name(match.group(1)) if match else None


# The words for a measurement taken once: its spread is unknown, never "± 0".
ONE_SAMPLE = "one sample, noise unknown"


@dataclass(frozen=True)
class FailureAccount:
    """A failed install step's diagnosis, as every document words it (run/pipfailure.py)."""

    step: str
    cause: tuple[str, ...]
    hint: str | None


def failure_account(record: CellRecord | Mapping[str, object]) -> FailureAccount | None:
    """The first step of a cell record that carries a diagnosis, if any (a dict record,
    from callers not converted yet, is read through CellRecord; one that is not a cell
    record has no diagnosis to give)."""
    if not isinstance(record, CellRecord):
        try:
            record = CellRecord.from_dict(record, "cell")
        except ResultsError:
            return None
    for step in record.steps:
        if step.failure is not None:
            hint = step.failure.hint
            return FailureAccount(step.name, tuple(step.failure.cause or ()), hint or None)
    return None
