"""Compare two pybench probe outputs: how much slower or faster is the candidate interpreter.

Each workload (and each start-up measurement) gives a ratio of medians, candidate over
baseline; a ratio inside the noise of the two runs is reported as "no difference".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

NOISE_FLOOR = 0.05
NOISE_RULE = (
    "A ratio of medians counts as a difference only when it is further from 1 than both runs' "
    "relative interquartile ranges (IQR / median) and than "
    f"{NOISE_FLOOR:.0%}; outputs without an IQR use their (max - min) / median instead."
)


@dataclass(frozen=True)
class SpeedRatio:
    """One workload: candidate median / baseline median, and what it says."""

    workload: str
    baseline_median_s: float
    candidate_median_s: float
    ratio: float
    noise: float  # the relative difference below which the ratio is "no difference"
    verdict: str  # "no difference", "1.35x slower", "2.10x faster"

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "baseline_median_s": self.baseline_median_s,
            "candidate_median_s": self.candidate_median_s,
            "ratio": self.ratio,
            "noise": self.noise,
            "verdict": self.verdict,
        }


def _measurements(output: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(name, stats) of every workload and start-up measurement in a pybench output."""
    for name, stats in (output.get("startup") or {}).items():
        yield f"startup.{name}", stats
    yield from (output.get("workloads") or {}).items()


def verdict(ratio: float, noise: float) -> str:
    if abs(ratio - 1.0) <= noise:
        return "no difference"
    if ratio > 1.0:
        return f"{ratio:.2f}x slower"
    return f"{1.0 / ratio:.2f}x faster"


def _spread(stats: Mapping[str, Any]) -> float:
    """The relative IQR; the full relative range for outputs that lack it."""
    value = stats.get("rel_iqr", stats.get("rel_spread"))
    return float(value) if value is not None else 0.0


def speed_ratios(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[SpeedRatio]:
    """Ratios for the measurements both outputs hold, in the baseline's order.

    Raises ValueError when the two ran different work (scale) or a run failed.
    """
    for label, output in (("baseline", baseline), ("candidate", candidate)):
        if output.get("status") != "passed":
            raise ValueError(f"{label} pybench run did not pass: {output.get('error')}")
    scales = [(output.get("settings") or {}).get("scale") for output in (baseline, candidate)]
    if scales[0] != scales[1]:
        raise ValueError(f"pybench runs of different scales cannot be compared: {scales}")
    candidate_stats = dict(_measurements(candidate))
    ratios = []
    for name, base in _measurements(baseline):
        other = candidate_stats.get(name)
        if other is None or not base.get("median_s"):
            continue
        ratio = float(other["median_s"]) / float(base["median_s"])
        noise = max(NOISE_FLOOR, _spread(base), _spread(other))
        ratios.append(
            SpeedRatio(
                workload=name,
                baseline_median_s=float(base["median_s"]),
                candidate_median_s=float(other["median_s"]),
                ratio=round(ratio, 4),
                noise=round(noise, 4),
                verdict=verdict(ratio, noise),
            )
        )
    return ratios
