"""Compare two pybench probe outputs: how much slower or faster is the candidate interpreter.

Each workload (and each start-up measurement) gives a ratio of medians, candidate over
baseline; a ratio inside the noise of the two runs is reported as "no difference". A
ratio either of whose outputs was measured on a busy host (its ``measured`` record:
load above the cores, ``runview.measured_busy``) is no finding either: its verdict reads
"not compared: measured on a busy host (load 9.6 on 2 cores)" (the same start-up
measured 116 ms and 16 ms on one image, minutes apart, on a loaded host here).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from harness.analysis.view import filled, measured_busy
from harness.model import format as fmt
from harness.model.origin import standin_text
from harness.model.results import BaseRecord, InterpreterSpeed, Measurement

NOISE_FLOOR = 0.05
NOISE_RULE = (
    "A ratio of medians counts as a difference only when it is further from 1 than both runs' "
    "relative interquartile ranges (IQR / median) and than "
    f"{fmt.percent(NOISE_FLOOR)}; outputs without an IQR use their (max - min) / median instead."
)


class SpeedRatioJSON(TypedDict):
    """``SpeedRatio.to_dict()``: one workload's ratio as JSON documents carry it."""

    workload: str
    baseline_median_s: float
    candidate_median_s: float
    ratio: float
    noise: float
    verdict: str


@dataclass(frozen=True)
class SpeedRatio:
    """One workload: candidate median / baseline median, and what it says."""

    workload: str
    baseline_median_s: float
    candidate_median_s: float
    ratio: float
    noise: float  # the relative difference below which the ratio is "no difference"
    verdict: str  # "no difference", "1.35× slower", "2.10× faster"

    def to_dict(self) -> SpeedRatioJSON:
        return {
            "workload": self.workload,
            "baseline_median_s": self.baseline_median_s,
            "candidate_median_s": self.candidate_median_s,
            "ratio": self.ratio,
            "noise": self.noise,
            "verdict": self.verdict,
        }


def _measurements(output: InterpreterSpeed) -> Iterator[tuple[str, Measurement]]:
    """(name, stats) of every workload and start-up measurement in a pybench output."""
    for name, stats in (output.startup or {}).items():
        yield f"startup.{name}", stats
    yield from (output.workloads or {}).items()


def verdict(ratio: float, noise: float) -> str:
    if abs(ratio - 1.0) <= noise:
        return "no difference"
    if ratio > 1.0:
        return f"{fmt.ratio(ratio)} slower"
    return f"{fmt.ratio(1.0 / ratio)} faster"


def _spread(stats: Measurement) -> float:
    """The relative IQR; the full relative range for outputs that lack it."""
    value = stats.rel_iqr if "rel_iqr" in stats.model_fields_set else stats.rel_spread
    return float(value) if value is not None else 0.0


def speed_ratios(baseline: InterpreterSpeed, candidate: InterpreterSpeed) -> list[SpeedRatio]:
    """Ratios for the measurements both outputs hold, in the baseline's order.

    Raises ValueError when the two ran different work (scale) or a run failed.
    """
    for label, output in (("baseline", baseline), ("candidate", candidate)):
        if output.status != "passed":
            raise ValueError(f"{label} pybench run did not pass: {output.error}")
    scales = [(output.settings or {}).get("scale") for output in (baseline, candidate)]
    if scales[0] != scales[1]:
        raise ValueError(f"pybench runs of different scales cannot be compared: {scales}")
    candidate_stats = dict(_measurements(candidate))
    # A busy host during either benchmark voids every call between them.
    busy = measured_busy(candidate.measured) or measured_busy(baseline.measured, "the baseline")
    ratios = []
    for name, base in _measurements(baseline):
        other = candidate_stats.get(name)
        if other is None or not base.median_s or not other.median_s:
            continue
        ratio = other.median_s / base.median_s
        noise = max(NOISE_FLOOR, _spread(base), _spread(other))
        ratios.append(
            SpeedRatio(
                workload=name,
                baseline_median_s=base.median_s,
                candidate_median_s=other.median_s,
                ratio=round(ratio, 4),
                noise=round(noise, 4),
                verdict=busy or verdict(ratio, noise),
            )
        )
    return ratios


# -- one run's bases: each one's pybench output against the baseline base's ------------

OFFICIAL_BUILDS = (
    "The official images build CPython themselves: with PGO and LTO on Debian slim, with "
    "neither on Alpine (docker-library/python). A stand-in times its own interpreter "
    "(Debian's python package, or the musl CPython compiled here without PGO or LTO), so "
    "ratios between stand-ins are stand-in results, not the official images'."
)


@dataclass(frozen=True)
class BaseSpeed:
    """One base's interpreter benchmark, and its ratios against the baseline base."""

    base: str
    status: str  # the probe's status, or "not measured"
    error: str | None
    # The stand-in's description (origin.standin_text: a Dockerfile built FROM a stand-in
    # too): its interpreter is a stand-in build.
    standin: str | None
    python: str | None
    build: str  # "PGO and LTO recorded", "PGO not recorded, LTO not recorded", ...
    spread: float | None  # the widest relative IQR over its measurements
    medians: Mapping[str, float]  # measurement -> median seconds
    ratios: tuple[SpeedRatio, ...]  # empty for the baseline and when no ratio can be made
    note: str | None  # why there are no ratios (failed, other scale)

    @property
    def verdicts(self) -> dict[str, str]:
        return {r.workload: r.verdict for r in self.ratios}


@dataclass(frozen=True)
class SpeedTable:
    baseline: str | None
    measurements: tuple[str, ...]
    bases: tuple[BaseSpeed, ...]
    rule: str = NOISE_RULE
    official: str = OFFICIAL_BUILDS

    @property
    def measured(self) -> bool:
        """Whether any base has numbers (runs from before pybench have none)."""
        return any(row.medians for row in self.bases)

    @property
    def standins(self) -> tuple[BaseSpeed, ...]:
        return tuple(b for b in self.bases if b.standin)


def build_text(output: InterpreterSpeed) -> str:
    """What the interpreter's recorded build flags say about PGO and LTO.

    "not recorded" is not "not used": Debian applies its optimisations outside configure.
    """
    build = output.build
    if build is None or not (build.model_fields_set or build.model_extra):
        return "build flags unknown"
    flags = {"pgo": build.pgo, "lto": build.lto}
    done = [name for name, on in flags.items() if on]
    missing = [name for name, on in flags.items() if not on]
    parts = []
    if done:
        parts.append(" and ".join(n.upper() for n in done) + " recorded")
    if missing:
        parts.append(" and ".join(n.upper() for n in missing) + " not recorded")
    return "; ".join(parts)


def _widest_spread(output: InterpreterSpeed) -> float | None:
    spreads = [_spread(stats) for _name, stats in _measurements(output)]
    return round(max(spreads), 4) if spreads else None


def _base_speed(
    base: BaseRecord, baseline: InterpreterSpeed | None, is_baseline: bool
) -> BaseSpeed:
    output = base.interpreter_speed or InterpreterSpeed()
    status = output.status or "not measured"
    ratios: list[SpeedRatio] = []
    note = None
    if status == "passed" and baseline is not None and not is_baseline:
        try:
            ratios = speed_ratios(baseline, output)
        except ValueError as exc:
            note = str(exc)
    elif status != "passed":
        note = output.error or "the interpreter benchmark did not run"
    return BaseSpeed(
        base=base.name,
        status=status,
        error=output.error,
        standin=standin_text(base),
        python=output.python.version if output.python else None,
        build=build_text(output),
        spread=_widest_spread(output) if status == "passed" else None,
        medians={
            name: stats.median_s
            for name, stats in _measurements(output)
            if stats.median_s is not None
        },
        ratios=tuple(ratios),
        note=note,
    )


def speed_table(bases: Sequence[BaseRecord], baseline: str | None = None) -> SpeedTable:
    """Every base's benchmark against ``baseline`` (default: the first base measured).

    A baseline without a passed benchmark gives medians only, no ratios.
    """
    measured = [b for b in bases if b.interpreter_speed and b.interpreter_speed.status == "passed"]
    if baseline is None and measured:
        baseline = measured[0].name
    reference = next((b for b in measured if b.name == baseline), None)
    reference_output = reference.interpreter_speed if reference else None
    rows = tuple(
        _base_speed(b, reference_output, b.name == baseline)
        for b in bases
        if b.status == "available" or filled(b.interpreter_speed)
    )
    order: dict[str, None] = {}
    for row in rows:
        order.update(dict.fromkeys(row.medians))
    return SpeedTable(baseline, tuple(order), rows)
